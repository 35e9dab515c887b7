package shopify

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/referrals"
)

// order is the part of the REST Order resource (webhook payload) the engine
// reads (shopify.md §3). Money fields are strings; ids are numbers.
type order struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	Email        string  `json:"email"`
	ContactEmail string  `json:"contact_email"`
	Phone        *string `json:"phone"`
	Currency     string  `json:"currency"`
	TotalPrice   string  `json:"total_price"`
	// TotalPriceSet is the total in the shop's money and in the buyer's
	// (presentment) money. Parrain judges orders in shop money: the
	// program's amounts are in the shop's currency, whatever the buyer
	// paid in (shopify.md §3; Order.total_price_set).
	TotalPriceSet   *moneySet `json:"total_price_set"`
	FinancialStatus string    `json:"financial_status"`
	CancelledAt     *string   `json:"cancelled_at"`
	CreatedAt       string    `json:"created_at"`
	// ConfirmationNumber is what the thank-you page shows the buyer
	// (e.g. "XPAV284CT"); the widget API's proof for guest buyers.
	ConfirmationNumber *string `json:"confirmation_number"`
	Test               bool    `json:"test"`
	SourceName         string  `json:"source_name"`
	BrowserIP          *string `json:"browser_ip"`
	LandingSite        *string `json:"landing_site"`
	DiscountCodes      []struct {
		Code string `json:"code"`
	} `json:"discount_codes"`
	NoteAttributes []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"note_attributes"`
	// CustomerLocale is the language the buyer checked out in.
	CustomerLocale *string `json:"customer_locale"`
	// BuyerAcceptsMarketing is the checkout's consent box; the customer's
	// email_marketing_consent is the consent Shopify keeps (and what a
	// guest order lacks).
	BuyerAcceptsMarketing *bool `json:"buyer_accepts_marketing"`
	Customer              *struct {
		ID                    int64   `json:"id"`
		FirstName             *string `json:"first_name"`
		LastName              *string `json:"last_name"`
		Phone                 *string `json:"phone"`
		EmailMarketingConsent *struct {
			State string `json:"state"`
		} `json:"email_marketing_consent"`
	} `json:"customer"`
	BillingAddress *struct {
		FirstName *string `json:"first_name"`
		LastName  *string `json:"last_name"`
	} `json:"billing_address"`
	ShippingAddress *struct {
		FirstName *string `json:"first_name"`
		LastName  *string `json:"last_name"`
		Address1  *string `json:"address1"`
		Address2  *string `json:"address2"`
		City      *string `json:"city"`
		Zip       *string `json:"zip"`
		Country   *string `json:"country_code"`
	} `json:"shipping_address"`
}

// moneySet is Shopify's *_set: an amount in shop and presentment money.
type moneySet struct {
	Shop        setMoney `json:"shop_money"`
	Presentment setMoney `json:"presentment_money"`
}

type setMoney struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency_code"`
}

// shopTotal is the order's total in the shop's money:
// total_price_set.shop_money, else (a payload without the set) total_price
// in currency, which Shopify documents as the shop's too. Never the
// presentment money: a buyer paying 21.00 USD in a EUR shop paid 19.44 EUR,
// and a 20.00 EUR minimum is judged on that.
func shopTotal(o order) (app.Money, error) {
	if ts := o.TotalPriceSet; ts != nil && ts.Shop.Amount != "" && ts.Shop.Currency != "" {
		return app.ParseMoney(ts.Shop.Amount, ts.Shop.Currency)
	}
	return app.ParseMoney(o.TotalPrice, o.Currency)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ParseOrderEvent turns an orders/* webhook body into the engine's event.
// paidTopic is true for orders/paid, whose body may still say "pending" in
// edge cases; the topic itself is the proof of payment.
func ParseOrderEvent(payload []byte, paidTopic bool) (referrals.OrderEvent, error) {
	var o order
	if err := jsonAPI.Unmarshal(payload, &o); err != nil {
		return referrals.OrderEvent{}, app.Wrap(app.EINVALID, err, "malformed order payload")
	}
	if o.ID == 0 {
		return referrals.OrderEvent{}, app.Errorf(app.EINVALID, "order payload without id")
	}
	total, err := shopTotal(o)
	if err != nil {
		return referrals.OrderEvent{}, fmt.Errorf("order %d total: %w", o.ID, err)
	}
	created, _ := time.Parse(time.RFC3339, o.CreatedAt)
	email := o.Email
	if email == "" {
		email = o.ContactEmail
	}
	f := attribution.Order{
		PlatformID: strconv.FormatInt(o.ID, 10), Name: o.Name, Email: email, Phone: str(o.Phone), BrowserIP: str(o.BrowserIP),
		Total: total, Test: o.Test, SourceName: o.SourceName, LandingSite: str(o.LandingSite), CreatedAt: created.UTC(),
		CartAttributes: map[string]string{}, ConfirmationNumber: str(o.ConfirmationNumber),
	}
	first, last := "", ""
	if o.Customer != nil && o.Customer.ID != 0 {
		f.CustomerID = strconv.FormatInt(o.Customer.ID, 10)
		first, last = str(o.Customer.FirstName), str(o.Customer.LastName)
		if f.Phone == "" {
			f.Phone = str(o.Customer.Phone)
		}
	}
	// A guest ("customer": null) is named by the order's addresses: the
	// advocate code starts with the first name.
	if first == "" && o.BillingAddress != nil {
		first, last = str(o.BillingAddress.FirstName), str(o.BillingAddress.LastName)
	}
	if first == "" && o.ShippingAddress != nil {
		first, last = str(o.ShippingAddress.FirstName), str(o.ShippingAddress.LastName)
	}
	if a := o.ShippingAddress; a != nil {
		f.ShippingAddress = attribution.Address{Line1: str(a.Address1), Line2: str(a.Address2), City: str(a.City), Zip: str(a.Zip), Country: str(a.Country)}
	}
	for _, d := range o.DiscountCodes {
		f.DiscountCodes = append(f.DiscountCodes, d.Code)
	}
	for _, n := range o.NoteAttributes {
		if s, ok := n.Value.(string); ok {
			f.CartAttributes[n.Name] = s
		}
	}
	paid := paidTopic
	switch o.FinancialStatus {
	case "paid", "partially_refunded", "refunded", "partially_paid":
		paid = true
	}
	return referrals.OrderEvent{Order: f, FirstName: first, LastInitial: referrals.Initial(last), Known: true, Paid: paid, Cancelled: o.CancelledAt != nil,
		Locale: str(o.CustomerLocale), MarketingConsent: marketingConsent(o), Presentment: presentmentTotal(o, total)}, nil
}

// presentmentTotal is the order's total in the money the buyer paid in
// (total_price_set.presentment_money) when it is another currency than the
// shop's; the zero Money when it is the same, or the payload does not say.
// Beside the shop-money total it gives the currency the buyer shops in and
// the rate this order was charged at (store credit in their currency).
func presentmentTotal(o order, shop app.Money) app.Money {
	ts := o.TotalPriceSet
	if ts == nil || ts.Presentment.Currency == "" || ts.Shop.Currency == "" {
		return app.Money{}
	}
	m, err := app.ParseMoney(ts.Presentment.Amount, ts.Presentment.Currency)
	if err != nil || m.Currency == shop.Currency || m.Minor <= 0 {
		return app.Money{}
	}
	return m
}

// marketingConsent is the buyer's email marketing consent: the customer's
// email_marketing_consent.state ("subscribed" only; "not_subscribed",
// "pending" (double opt-in not confirmed), "unsubscribed", "redacted" and
// "invalid" are no), else, for a guest, the checkout's
// buyer_accepts_marketing; nil when the order says neither.
func marketingConsent(o order) *bool {
	if o.Customer != nil && o.Customer.EmailMarketingConsent != nil && o.Customer.EmailMarketingConsent.State != "" {
		yes := o.Customer.EmailMarketingConsent.State == "subscribed"
		return &yes
	}
	return o.BuyerAcceptsMarketing
}

// maxRefundMinor bounds a refund's sum of transactions (10^15 minor units,
// ParseMoney's own bound for one amount).
const maxRefundMinor = 1_000_000_000_000_000

// ParseRefundEvent turns a refunds/create body (Refund resource) into the
// engine's event: the refunded amount is the sum of successful refund
// transactions, in the shop currency.
func ParseRefundEvent(payload []byte) (referrals.OrderEvent, error) {
	type money struct {
		Amount   string `json:"amount"`
		Currency string `json:"currency_code"`
	}
	type moneySet struct {
		Shop        money `json:"shop_money"`
		Presentment money `json:"presentment_money"`
	}
	var r struct {
		ID           int64 `json:"id"`
		OrderID      int64 `json:"order_id"`
		Transactions []struct {
			Kind     string `json:"kind"`
			Status   string `json:"status"`
			Amount   string `json:"amount"`
			Currency string `json:"currency"`
		} `json:"transactions"`
		LineItems []struct {
			Subtotal moneySet `json:"subtotal_set"`
		} `json:"refund_line_items"`
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		return referrals.OrderEvent{}, app.Wrap(app.EINVALID, err, "malformed refund payload")
	}
	if r.ID == 0 || r.OrderID == 0 {
		return referrals.OrderEvent{}, app.Errorf(app.EINVALID, "refund payload without id or order_id")
	}
	// What was paid back is in the transactions (shipping and
	// adjustments included), in the currency the buyer paid in.
	var sum int64
	var txCurrency string
	for _, t := range r.Transactions {
		if t.Kind != "refund" || (t.Status != "success" && t.Status != "") {
			continue
		}
		m, err := app.ParseMoney(t.Amount, t.Currency)
		if err != nil {
			return referrals.OrderEvent{}, fmt.Errorf("refund %d amount: %w", r.ID, err)
		}
		// A refund pays back; a negative one would un-refund the order
		// (found by FuzzParseRefundEvent's seeds). Sums stay far from
		// overflow.
		if m.Minor < 0 || sum > maxRefundMinor-m.Minor {
			return referrals.OrderEvent{}, app.Errorf(app.EINVALID, "refund %d amount %q out of range", r.ID, t.Amount)
		}
		sum += m.Minor
		txCurrency = m.Currency
	}
	// Orders are judged in the shop's currency. When the buyer paid in
	// another one, convert at the rate of this refund's own lines (their
	// subtotal in shop and presentment money).
	var shopMinor, presMinor int64
	var shopCurrency string
	for _, li := range r.LineItems {
		sm, err1 := app.ParseMoney(li.Subtotal.Shop.Amount, li.Subtotal.Shop.Currency)
		pm, err2 := app.ParseMoney(li.Subtotal.Presentment.Amount, li.Subtotal.Presentment.Currency)
		if err1 != nil || err2 != nil {
			continue
		}
		shopMinor, presMinor, shopCurrency = shopMinor+sm.Minor, presMinor+pm.Minor, sm.Currency
	}
	if txCurrency != "" && shopCurrency != "" && txCurrency != shopCurrency && presMinor > 0 {
		// In big integers: sum*shopMinor overflows int64 for large
		// amounts.
		v := new(big.Int).Mul(big.NewInt(sum), big.NewInt(shopMinor))
		v.Add(v, big.NewInt(presMinor/2)).Quo(v, big.NewInt(presMinor))
		if v.Sign() < 0 || !v.IsInt64() || v.Int64() > maxRefundMinor {
			return referrals.OrderEvent{}, app.Errorf(app.EINVALID, "refund %d: converted amount out of range", r.ID)
		}
		sum = v.Int64()
	}
	return referrals.OrderEvent{
		Order:    attribution.Order{PlatformID: strconv.FormatInt(r.OrderID, 10)},
		RefundID: strconv.FormatInt(r.ID, 10), RefundMinor: sum,
	}, nil
}
