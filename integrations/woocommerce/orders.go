package woocommerce

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/referrals"
)

// order is the part of a WooCommerce order (REST v3 / webhook body) the
// engine needs. Money is a decimal string; meta values are raw JSON.
type order struct {
	ID              int64  `json:"id"`
	Status          string `json:"status"`
	Currency        string `json:"currency"`
	Total           string `json:"total"`
	CustomerID      int64  `json:"customer_id"`
	CustomerIP      string `json:"customer_ip_address"`
	CreatedVia      string `json:"created_via"`
	Number          string `json:"number"`
	OrderKey        string `json:"order_key"`
	DateCreatedGMT  string `json:"date_created_gmt"`
	DateModifiedGMT string `json:"date_modified_gmt"`
	Billing         struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Email     string `json:"email"`
		Phone     string `json:"phone"`
	} `json:"billing"`
	Shipping struct {
		Address1 string `json:"address_1"`
		Address2 string `json:"address_2"`
		City     string `json:"city"`
		Postcode string `json:"postcode"`
		Country  string `json:"country"`
	} `json:"shipping"`
	MetaData []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	} `json:"meta_data"`
	CouponLines []struct {
		Code string `json:"code"`
	} `json:"coupon_lines"`
	Refunds []struct {
		ID    int64  `json:"id"`
		Total string `json:"total"`
	} `json:"refunds"`
}

// Statuses (woocommerce.md §8): paid once processing or completed (cash on
// delivery leaves date_paid empty, so the status decides); cancelled,
// failed and refunded reverse; checkout-draft is a cart, not an order.
var (
	paidStatuses      = map[string]bool{"processing": true, "completed": true}
	cancelledStatuses = map[string]bool{"cancelled": true, "failed": true, "refunded": true}
)

// Change is what one delivery says about an order: its facts, and one event
// per refund (each counted once by the engine, whatever the number of
// deliveries that repeat it).
type Change struct {
	Order   referrals.OrderEvent
	Refunds []referrals.OrderEvent
	// Key is the order key the thank-you page proves itself with.
	Key string
}

// ParseOrder turns an order body (webhook delivery or REST answer) into the
// engine's events. A checkout draft returns nil: nothing to record yet.
func ParseOrder(payload []byte) (*Change, error) {
	var o order
	if err := json.Unmarshal(payload, &o); err != nil {
		return nil, app.Wrap(app.EINVALID, err, "malformed order payload")
	}
	if o.ID == 0 {
		return nil, app.Errorf(app.EINVALID, "order payload without id")
	}
	if o.Status == "checkout-draft" {
		return nil, nil
	}
	total, err := app.ParseMoney(o.Total, o.Currency)
	if err != nil {
		return nil, fmt.Errorf("order %d total: %w", o.ID, err)
	}
	id := strconv.FormatInt(o.ID, 10)
	facts := attribution.Order{
		PlatformID: id, Name: "#" + firstNonEmpty(o.Number, id), Email: o.Billing.Email, Phone: o.Billing.Phone,
		ShippingAddress: attribution.Address{Line1: o.Shipping.Address1, Line2: o.Shipping.Address2, City: o.Shipping.City,
			Zip: o.Shipping.Postcode, Country: o.Shipping.Country},
		BrowserIP: o.CustomerIP, Total: total, SourceName: o.CreatedVia, CartAttributes: map[string]string{}, Key: o.OrderKey,
	}
	if o.CustomerID != 0 {
		facts.CustomerID = strconv.FormatInt(o.CustomerID, 10)
	}
	if t, err := time.Parse("2006-01-02T15:04:05", o.DateCreatedGMT); err == nil {
		facts.CreatedAt = t.UTC()
	}
	for _, c := range o.CouponLines {
		// WooCommerce stores coupon codes lower-cased; ours are upper.
		facts.DiscountCodes = append(facts.DiscountCodes, app.NormalizeCode(c.Code))
	}
	// WooCommerce core records no marketing consent and no language on
	// an order: both come from the companion plugin's order meta when it
	// wrote them, and otherwise stay unknown (no consent).
	var consent *bool
	locale := ""
	for _, m := range o.MetaData {
		var v string
		if json.Unmarshal(m.Value, &v) != nil {
			continue
		}
		switch m.Key {
		case "_parrain_ref": // written by the companion plugin at checkout
			facts.CartAttributes["parrain_ref"] = v
		case "_parrain_marketing_consent": // the companion plugin's opt-in box (see docs/email.md)
			yes := v == "yes"
			consent = &yes
		case "_parrain_locale": // the companion plugin: the site's locale at checkout (get_locale())
			locale = strings.ReplaceAll(v, "_", "-")
		case "_wc_order_attribution_session_entry": // WooCommerce's own landing URL
			if u, err := url.Parse(v); err == nil {
				facts.LandingSite = u.RequestURI()
			}
		}
	}
	c := &Change{Key: o.OrderKey, Order: referrals.OrderEvent{
		Order: facts, FirstName: o.Billing.FirstName, LastInitial: referrals.Initial(o.Billing.LastName), Known: true,
		Paid: paidStatuses[o.Status], Cancelled: cancelledStatuses[o.Status], Locale: locale, MarketingConsent: consent,
	}}
	for _, r := range o.Refunds {
		m, err := app.ParseMoney(strings.TrimPrefix(r.Total, "-"), o.Currency)
		if err != nil {
			return nil, fmt.Errorf("order %d refund %d: %w", o.ID, r.ID, err)
		}
		// WooCommerce lists refunds as negative totals; "--5" is not one
		// (found by FuzzParseOrder): a negative refund would un-refund.
		if m.Minor < 0 {
			return nil, app.Errorf(app.EINVALID, "order %d refund %d: total %q", o.ID, r.ID, r.Total)
		}
		c.Refunds = append(c.Refunds, referrals.OrderEvent{
			Order:    attribution.Order{PlatformID: id},
			RefundID: "wc-refund-" + strconv.FormatInt(r.ID, 10), RefundMinor: m.Minor,
		})
	}
	return c, nil
}

// DeliveryKey identifies what a delivery says, for deduplication: delivery
// ids repeat across orders and one save can send identical created and
// updated bodies, so the key is the order, its modification time, status
// and refunds (woocommerce.md §8).
func DeliveryKey(payload []byte) (string, error) {
	var o order
	if err := json.Unmarshal(payload, &o); err != nil || o.ID == 0 {
		return "", app.Errorf(app.EINVALID, "not an order payload")
	}
	refunds := make([]string, len(o.Refunds))
	for i, r := range o.Refunds {
		refunds[i] = strconv.FormatInt(r.ID, 10)
	}
	return fmt.Sprintf("order:%d:%s:%s:%s", o.ID, o.DateModifiedGMT, o.Status, strings.Join(refunds, ",")), nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
