package shopifysim

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrInvalidInput wraps refusals of malformed simulator input (an amount
// that is not a decimal, an unknown compliance kind, …).
var ErrInvalidInput = errors.New("shopifysim: invalid input")

// OrderInput describes an order to place with CreateOrder. Every field is
// optional.
type OrderInput struct {
	// Email is the buyer's email (default: a fresh address).
	Email string `json:"email"`
	// FirstName is the buyer's first name (default Marie).
	FirstName string `json:"first_name"`
	// LastName is the buyer's last name (default Curie).
	LastName string `json:"last_name"`
	// Phone is the buyer's phone, empty for none.
	Phone string `json:"phone"`
	// CustomerID is the Shopify customer id. Default: derived from the
	// email, so that the same shopper is the same customer across orders.
	CustomerID int64 `json:"customer_id"`
	// Total is what the buyer paid, after discounts, as a decimal string
	// (default "120.00"). The line price is worked back from it and the
	// discount codes, so the order's totals add up.
	Total string `json:"total"`
	// Currency defaults to the shop's currency.
	Currency string `json:"currency"`
	// DiscountCodes are the codes entered at checkout. A code the app
	// created is applied by its value and counted in its usage; an unknown
	// code is recorded with amount 0.00 (real checkout would refuse it).
	DiscountCodes []string `json:"discount_codes"`
	// NoteAttributes are cart attributes (note_attributes), e.g. a
	// referral code the storefront stored in the cart.
	NoteAttributes map[string]string `json:"note_attributes"`
	// LandingSite is the first page of the visit, path and query, e.g.
	// "/?ref=MARIE".
	LandingSite string `json:"landing_site"`
	// Ref is a shortcut: with no LandingSite, the landing site becomes
	// "/?ref={Ref}".
	Ref string `json:"ref"`
	// ReferringSite is the page that linked to the store, if any.
	ReferringSite string `json:"referring_site"`
	// SourceName is the sales channel (default "web").
	SourceName string `json:"source_name"`
	// BrowserIP defaults to an address derived from the customer id:
	// different shoppers get different IPs, as in life (the fixture's
	// single address would make every friend look like a self-referral).
	BrowserIP string `json:"browser_ip"`
	// Address1 is the shipping and billing street, likewise derived from
	// the customer id by default.
	Address1 string `json:"address1"`
	// Zip is the shipping and billing postcode, derived likewise.
	Zip string `json:"zip"`
	// Test marks a test order (Shopify's bogus gateway).
	Test bool `json:"test"`
	// Locale is the order's customer_locale, the language the buyer
	// checked out in ("fr", "en-CA"); default none (null, as in the
	// fixture).
	Locale string `json:"locale"`
	// AcceptsMarketing is the buyer's email marketing consent: the
	// customer's email_marketing_consent.state "subscribed" (and the
	// order's buyer_accepts_marketing) instead of the fixture's
	// "not_subscribed".
	AcceptsMarketing bool `json:"accepts_marketing"`
	// PresentmentCurrency is the currency the buyer paid in when it is
	// not the shop's (Shopify Markets): presentment_currency, and every
	// *_set's presentment_money at PresentmentRate of the shop_money. The
	// order's currency, total_price and shop_money stay the shop's, as in
	// Shopify's Order resource ("in the shop currency").
	PresentmentCurrency string `json:"presentment_currency"`
	// PresentmentRate is how many units of the presentment currency one
	// unit of the shop's is worth, as a decimal ("1.08"); required with
	// PresentmentCurrency.
	PresentmentRate string `json:"presentment_rate"`
	// Guest places the order without a customer: "customer" is null and
	// the buyer is known only by email and contact_email. Shopify's Order
	// resource says an order might not have a customer and apps should
	// not depend on one (POS sales, orders created through the API, a
	// checkout whose buyer Shopify did not attach to a customer).
	Guest bool `json:"guest"`
	// Quiet stores the order without sending its webhooks, for tests that
	// deliver events in an order of their choosing.
	Quiet bool `json:"-"`
}

// cents parses a decimal amount into minor units.
func cents(s string) (int64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 1e12 {
		return 0, fmt.Errorf("%w: amount %q is not a non-negative decimal", ErrInvalidInput, s)
	}
	return int64(math.Round(f * 100)), nil
}

func money(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// moneySet is Shopify's *_set shape: the amount in shop and presentment
// currency (the same here: no multi-currency).
func moneySet(c int64, currency string) map[string]any {
	m := func() map[string]any { return map[string]any{"amount": money(c), "currency_code": currency} }
	return map[string]any{"shop_money": m(), "presentment_money": m()}
}

// setMoney sets a money field and its *_set twin.
func setMoney(o map[string]any, field string, c int64, currency string) {
	o[field] = money(c)
	o[field+"_set"] = moneySet(c, currency)
}

// recurrency rewrites every currency_code under v, so the fixture's USD
// does not leak into, say, a EUR shop's order.
func recurrency(v any, currency string) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "currency_code" || k == "currency" {
				if _, ok := e.(string); ok {
					t[k] = currency
				}
				continue
			}
			recurrency(e, currency)
		}
	case []any:
		for _, e := range t {
			recurrency(e, currency)
		}
	}
}

// applied is a discount code as the order records it.
type applied struct {
	code, kind, valueType, value, target string
	pct                                  float64
	fixed, amount                        int64
	known                                *discount
}

// applyCodes works out what each code took off an order that cost paid
// after discounts, and the line subtotal before them. Callers hold s.mu.
func (sh *shop) applyCodes(codes []string, paid int64) ([]applied, int64) {
	var out []applied
	sumPct, sumFixed := 0.0, int64(0)
	for _, c := range codes {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		a := applied{code: c, kind: "fixed_amount", valueType: "fixed_amount", value: "0.0", target: "line_item"}
		if d := sh.discountByCode(c); d != nil {
			a.code, a.known = d.storedCode(c), d
			if d.Kind == "DiscountCodeFreeShipping" {
				a.kind, a.valueType, a.value, a.target = "shipping", "percentage", "100.0", "shipping_line"
			} else {
				cg, _ := d.Input["customerGets"].(map[string]any)
				val, _ := cg["value"].(map[string]any)
				if p, ok := decimal(val["percentage"]); ok {
					a.kind, a.valueType, a.pct = "percentage", "percentage", p
					a.value = strconv.FormatFloat(p*100, 'f', 1, 64)
					sumPct += p
				} else {
					da, _ := val["discountAmount"].(map[string]any)
					f, _ := decimal(da["amount"])
					a.fixed = int64(math.Round(f * 100))
					a.value = strconv.FormatFloat(f, 'f', 1, 64)
					sumFixed += a.fixed
				}
			}
		}
		out = append(out, a)
	}
	subtotal := paid + sumFixed
	if sumPct > 0 && sumPct < 1 {
		subtotal = int64(math.Round(float64(paid+sumFixed) / (1 - sumPct)))
	}
	total := int64(0)
	for i := range out {
		switch {
		case out[i].pct > 0 && sumPct < 1:
			out[i].amount = int64(math.Round(float64(subtotal) * out[i].pct))
		case out[i].fixed > 0:
			out[i].amount = out[i].fixed
		}
		total += out[i].amount
	}
	// Rounding: the subtotal is what makes the sums exact.
	return out, paid + total
}

// CreateOrder places a paid order in the shop: Shopify's sample order
// (fixtures/order.json, API 2026-07) with fresh ids, the next name (#1001,
// #1002, …), the buyer, amounts, codes and attribution evidence of in,
// financial_status paid, no cancellation, fulfilment or refund. It stores the
// order (customer(id){numberOfOrders} counts it), counts the codes' usage,
// and sends orders/create then orders/paid (see SendWebhook for delivery
// order), unless in.Quiet. It returns the order JSON, the webhook body.
func (s *Simulator) CreateOrder(domain string, in OrderInput) ([]byte, error) {
	if in.Total == "" {
		in.Total = "120.00"
	}
	paid, err := cents(in.Total)
	if err != nil {
		return nil, err
	}
	o, err := fixtureMap("order.json")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sh := s.shops[domain]
	if sh == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrUnknownShop, domain)
	}
	id := 5_000_000_000 + s.nextID()
	number := sh.nextOrder
	sh.nextOrder++
	currency := in.Currency
	if currency == "" {
		currency = sh.info.CurrencyCode
	}
	if in.Email == "" {
		in.Email = fmt.Sprintf("customer%d@example.com", id)
	}
	if in.FirstName == "" {
		in.FirstName = "Marie"
	}
	if in.LastName == "" {
		in.LastName = "Curie"
	}
	if in.CustomerID == 0 {
		in.CustomerID = customerID(in.Email)
	}
	if in.BrowserIP == "" {
		in.BrowserIP = fmt.Sprintf("198.51.100.%d", in.CustomerID%250+1)
	}
	if in.Address1 == "" {
		in.Address1 = fmt.Sprintf("%d Referral Street", in.CustomerID%997+1)
	}
	if in.Zip == "" {
		in.Zip = fmt.Sprintf("%05d", in.CustomerID%99999)
	}
	if in.LandingSite == "" && in.Ref != "" {
		in.LandingSite = "/?ref=" + url.QueryEscape(in.Ref)
	}
	if in.SourceName == "" {
		in.SourceName = "web"
	}
	codes, subtotal := sh.applyCodes(in.DiscountCodes, paid)
	now := s.cfg.Now().In(shopLocation(sh.info.IanaTimezone)).Format(time.RFC3339)
	tok := randHex(16)

	o["id"] = id
	o["admin_graphql_api_id"] = gid("Order", id)
	o["name"] = "#" + strconv.Itoa(number)
	o["order_number"] = number
	o["number"] = number - 1000
	o["email"], o["contact_email"] = in.Email, in.Email
	o["phone"] = nilIfEmpty(in.Phone)
	o["created_at"], o["updated_at"], o["processed_at"] = now, now, now
	o["cancelled_at"], o["cancel_reason"], o["closed_at"] = nil, nil, nil
	o["financial_status"], o["fulfillment_status"], o["confirmed"] = "paid", nil, true
	o["confirmation_number"] = strings.ToUpper(randHex(5))[:9]
	o["currency"], o["presentment_currency"] = currency, currency
	o["test"] = in.Test
	o["browser_ip"] = in.BrowserIP
	o["landing_site"] = nilIfEmpty(in.LandingSite)
	o["landing_site_ref"] = landingRef(in.LandingSite)
	o["referring_site"] = nilIfEmpty(in.ReferringSite)
	o["source_name"] = in.SourceName
	o["token"], o["cart_token"], o["checkout_token"] = tok, randHex(16), randHex(16)
	o["checkout_id"] = id + 1
	o["order_status_url"] = fmt.Sprintf("https://%s/%d/orders/%s/authenticate?key=%s", domain, sh.info.ID, tok, randHex(16))
	o["po_number"], o["reference"], o["source_identifier"], o["note"] = nil, nil, nil, nil
	o["refunds"], o["fulfillments"] = []any{}, []any{}
	o["tax_lines"], o["taxes_included"] = []any{}, false

	// Amounts: one line at the pre-discount subtotal, no tax, free
	// shipping; the codes bring it down to what was paid.
	discounts := subtotal - paid
	for _, f := range []struct {
		name string
		c    int64
	}{
		{"total_line_items_price", subtotal}, {"subtotal_price", paid}, {"current_subtotal_price", paid},
		{"total_discounts", discounts}, {"current_total_discounts", discounts},
		{"total_price", paid}, {"current_total_price", paid}, {"total_tax", 0}, {"current_total_tax", 0},
	} {
		setMoney(o, f.name, f.c, currency)
	}
	o["total_outstanding"], o["total_tip_received"] = "0.00", "0.00"
	o["total_shipping_price_set"] = moneySet(0, currency)

	dcs, apps, allocs := []any{}, []any{}, []any{}
	for i, a := range codes {
		dcs = append(dcs, map[string]any{"code": a.code, "amount": money(a.amount), "type": a.kind})
		apps = append(apps, map[string]any{"type": "discount_code", "code": a.code, "value": a.value, "value_type": a.valueType,
			"allocation_method": "across", "target_selection": "all", "target_type": a.target})
		if a.target == "line_item" {
			allocs = append(allocs, map[string]any{"amount": money(a.amount), "amount_set": moneySet(a.amount, currency), "discount_application_index": i})
		}
		if a.known != nil {
			a.known.UsageCount++
		}
	}
	o["discount_codes"], o["discount_applications"] = dcs, apps

	if items, _ := o["line_items"].([]any); len(items) > 0 {
		li, _ := items[0].(map[string]any)
		lineID := id + 2
		li["id"], li["admin_graphql_api_id"] = lineID, gid("LineItem", lineID)
		li["quantity"], li["current_quantity"], li["fulfillable_quantity"], li["fulfillment_status"] = 1, 1, 1, nil
		setMoney(li, "price", subtotal, currency)
		setMoney(li, "total_discount", 0, currency)
		li["discount_allocations"], li["tax_lines"], li["properties"] = allocs, []any{}, []any{}
		o["line_items"] = []any{li}
	}
	if lines, _ := o["shipping_lines"].([]any); len(lines) > 0 {
		if sl, ok := lines[0].(map[string]any); ok {
			sl["id"] = id + 3
		}
	}

	notes := []any{}
	keys := make([]string, 0, len(in.NoteAttributes))
	for k := range in.NoteAttributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		notes = append(notes, map[string]any{"name": k, "value": in.NoteAttributes[k]})
	}
	o["note_attributes"] = notes

	for _, k := range []string{"shipping_address", "billing_address"} {
		if a, ok := o[k].(map[string]any); ok {
			a["address1"], a["zip"], a["first_name"], a["last_name"] = in.Address1, in.Zip, in.FirstName, in.LastName
			a["name"], a["phone"] = in.FirstName+" "+in.LastName, nilIfEmpty(in.Phone)
		}
	}
	if cd, ok := o["client_details"].(map[string]any); ok {
		cd["browser_ip"] = in.BrowserIP
	}
	cust, _ := o["customer"].(map[string]any)
	if cust == nil {
		cust = map[string]any{}
	}
	cust["id"] = in.CustomerID
	cust["admin_graphql_api_id"] = gid("Customer", in.CustomerID)
	cust["email"], cust["phone"] = in.Email, nilIfEmpty(in.Phone)
	cust["first_name"], cust["last_name"] = in.FirstName, in.LastName
	cust["created_at"], cust["updated_at"] = now, now
	cust["currency"] = currency
	if a, ok := cust["default_address"].(map[string]any); ok {
		a["id"], a["customer_id"] = in.CustomerID+1, in.CustomerID
		a["first_name"], a["last_name"], a["name"] = in.FirstName, in.LastName, in.FirstName+" "+in.LastName
		a["address1"], a["zip"], a["phone"] = in.Address1, in.Zip, nilIfEmpty(in.Phone)
	}
	consent := map[string]any{"state": "not_subscribed", "opt_in_level": nil, "consent_updated_at": nil}
	if in.AcceptsMarketing {
		consent = map[string]any{"state": "subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": now}
	}
	cust["email_marketing_consent"] = consent
	o["buyer_accepts_marketing"] = in.AcceptsMarketing
	o["customer_locale"] = nilIfEmpty(in.Locale)
	o["customer"] = cust
	if in.Guest {
		o["customer"] = nil
	}
	recurrency(o, currency)
	if in.PresentmentCurrency != "" && in.PresentmentCurrency != currency {
		rate, ok := new(big.Rat).SetString(in.PresentmentRate)
		if !ok || rate.Sign() <= 0 {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: presentment_rate %q must be a positive decimal", ErrInvalidInput, in.PresentmentRate)
		}
		o["presentment_currency"] = in.PresentmentCurrency
		represent(o, in.PresentmentCurrency, rate)
	}
	body, err := json.Marshal(o)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	sh.orders = append(sh.orders, o)
	s.mu.Unlock()
	s.log.Info("order placed", "shop", domain, "order", number, "codes", len(codes))
	if in.Quiet {
		return body, nil
	}
	for _, topic := range []string{"orders/create", "orders/paid"} {
		if _, err := s.SendWebhook(context.Background(), domain, topic, body); err != nil {
			return body, err
		}
	}
	return body, nil
}

// landingRef is landing_site_ref: the ref (or source) parameter of the
// landing page, as in Shopify's sample (…?source=abc → "abc").
func landingRef(landing string) any {
	if landing == "" {
		return nil
	}
	u, err := url.Parse(landing)
	if err != nil {
		return nil
	}
	for _, k := range []string{"ref", "source", "r"} {
		if v := u.Query().Get(k); v != "" {
			return v
		}
	}
	return nil
}

func shopLocation(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

// order finds a stored order by id. Callers hold s.mu.
func (sh *shop) order(id int64) map[string]any {
	for _, o := range sh.orders {
		if n, ok := o["id"].(int64); ok && n == id {
			return o
		}
	}
	return nil
}

// CancelOrder cancels an order the simulator placed, with a full refund, as
// a merchant does from the admin: the order gets cancelled_at, cancel_reason
// "customer", financial_status "refunded" and the refund, and Shopify's two
// events follow, orders/cancelled and refunds/create. It returns the
// updated order JSON.
func (s *Simulator) CancelOrder(domain string, orderID int64) ([]byte, error) {
	s.mu.Lock()
	sh := s.shops[domain]
	if sh == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrUnknownShop, domain)
	}
	o := sh.order(orderID)
	if o == nil || o["cancelled_at"] != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: no open order %d", ErrInvalidInput, orderID)
	}
	total, _ := o["total_price"].(string)
	s.mu.Unlock()
	refund, err := s.RefundBody(domain, orderID, total)
	if err != nil {
		return nil, err
	}
	var rm map[string]any
	_ = json.Unmarshal(refund, &rm)
	s.mu.Lock()
	now := s.cfg.Now().In(shopLocation(sh.info.IanaTimezone)).Format(time.RFC3339)
	o["cancelled_at"], o["cancel_reason"], o["updated_at"] = now, "customer", now
	o["financial_status"] = "refunded"
	o["refunds"] = append(o["refunds"].([]any), rm)
	body, err := json.Marshal(o)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if _, err := s.SendWebhook(context.Background(), domain, "orders/cancelled", body); err != nil {
		return body, err
	}
	_, err = s.SendWebhook(context.Background(), domain, "refunds/create", refund)
	return body, err
}

// Refund refunds amount (a decimal string in the order currency) of an
// order the simulator placed: it records the refund on the order
// (financial_status partially_refunded or refunded) and sends
// refunds/create with the body of RefundBody. It returns the event id.
func (s *Simulator) Refund(domain string, orderID int64, amount string) (string, error) {
	body, err := s.RefundBody(domain, orderID, amount)
	if err != nil {
		return "", err
	}
	var rm map[string]any
	_ = json.Unmarshal(body, &rm)
	s.mu.Lock()
	if o := s.shops[domain].order(orderID); o != nil {
		refunds, _ := o["refunds"].([]any)
		o["refunds"] = append(refunds, rm)
		total, _ := cents(fmt.Sprint(o["total_price"]))
		var done int64
		for _, r := range o["refunds"].([]any) {
			rm, _ := r.(map[string]any)
			ts, _ := rm["transactions"].([]any)
			for _, t := range ts {
				if tm, ok := t.(map[string]any); ok {
					c, _ := cents(fmt.Sprint(tm["amount"]))
					done += c
				}
			}
		}
		o["financial_status"] = "partially_refunded"
		if done >= total {
			o["financial_status"] = "refunded"
		}
	}
	s.mu.Unlock()
	return s.SendWebhook(context.Background(), domain, "refunds/create", body)
}

// RefundBody builds, without recording or sending anything, a
// refunds/create body for an order: Shopify's sample refund
// (fixtures/refund.json) with fresh ids, the order id, and one successful
// refund transaction of amount in the order's currency (the shop's when the
// simulator does not know the order). It refunds an amount, not line items.
func (s *Simulator) RefundBody(domain string, orderID int64, amount string) ([]byte, error) {
	c, err := cents(amount)
	if err != nil {
		return nil, err
	}
	m, err := fixtureMap("refund.json")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sh := s.shops[domain]
	if sh == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrUnknownShop, domain)
	}
	currency := sh.info.CurrencyCode
	// A buyer who paid in another currency is paid back in it: the
	// transaction is in presentment money, and the refund's line says
	// what it is worth in both (amount is in the shop's money).
	pres, presC := "", int64(0)
	if o := sh.order(orderID); o != nil {
		currency, _ = o["currency"].(string)
		if pc, _ := o["presentment_currency"].(string); pc != "" && pc != currency {
			set, _ := o["total_price_set"].(map[string]any)
			sm, _ := set["shop_money"].(map[string]any)
			pm, _ := set["presentment_money"].(map[string]any)
			shopTotal, err1 := cents(fmt.Sprint(sm["amount"]))
			presTotal, err2 := cents(fmt.Sprint(pm["amount"]))
			if err1 == nil && err2 == nil && shopTotal > 0 {
				pres, presC = pc, (c*presTotal+shopTotal/2)/shopTotal
			}
		}
	}
	id := 9_000_000_000 + s.nextID()
	now := s.cfg.Now().In(shopLocation(sh.info.IanaTimezone)).Format(time.RFC3339)
	s.mu.Unlock()
	m["id"], m["order_id"] = id, orderID
	m["admin_graphql_api_id"] = gid("Refund", id)
	m["created_at"], m["processed_at"], m["note"] = now, now, nil
	m["transactions"] = []any{map[string]any{
		"id": id + 1, "admin_graphql_api_id": gid("OrderTransaction", id+1), "order_id": orderID, "kind": "refund",
		"status": "success", "amount": money(c), "currency": currency, "gateway": "bogus", "created_at": now, "processed_at": now,
		"source_name": "web", "message": nil, "error_code": nil, "parent_id": nil, "test": false,
	}}
	m["refund_line_items"], m["order_adjustments"], m["refund_shipping_lines"] = []any{}, []any{}, []any{}
	recurrency(m, currency)
	if pres != "" {
		tx := m["transactions"].([]any)[0].(map[string]any)
		tx["amount"], tx["currency"] = money(presC), pres
		m["refund_line_items"] = []any{map[string]any{"id": id + 2, "quantity": 1, "restock_type": "no_restock",
			"subtotal": money(c), "subtotal_set": map[string]any{
				"shop_money":        map[string]any{"amount": money(c), "currency_code": currency},
				"presentment_money": map[string]any{"amount": money(presC), "currency_code": pres}}}}
	}
	return json.Marshal(m)
}

// fixtureMap decodes one of Shopify's sample payloads for editing.
func fixtureMap(name string) (map[string]any, error) {
	// Decoded once, copied for each caller (who fills it in): decoding the
	// 31 KB order for every simulated order was a tenth of bench-store's
	// CPU, spent on the store's side of the benchmark.
	if m, ok := fixtureCache.Load(name); ok {
		return cloneJSON(m.(map[string]any)).(map[string]any), nil
	}
	raw, err := fixtures.ReadFile("fixtures/" + name)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", name, err)
	}
	fixtureCache.Store(name, m)
	return cloneJSON(m).(map[string]any), nil
}

var fixtureCache sync.Map // fixture name -> decoded map[string]any, never modified

// cloneJSON deep-copies a value decoded by encoding/json.
func cloneJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, e := range t {
			c[k] = cloneJSON(e)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = cloneJSON(e)
		}
		return c
	}
	return v // strings, numbers, booleans, nil: immutable
}

// customerID derives a stable customer id from the email, so the same
// shopper is the same customer across orders, as in a real store.
func customerID(email string) int64 {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	var n int64
	for _, b := range h[:6] {
		n = n<<8 | int64(b)
	}
	return 7_000_000_000_000 + n%1_000_000_000_000
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Uninstall plays the merchant uninstalling the app: every token of the shop
// is revoked, app/uninstalled is sent with the shop's Shop resource (from
// fixtures/app-uninstalled.json), and the shop's API-created webhook
// subscriptions are deleted, as Shopify deletes an app's subscriptions on
// uninstall. The event goes to the subscriptions that existed when it was
// triggered. shop/redact is not sent: Shopify sends it 48 hours later; use
// SendCompliance. It returns the event id.
func (s *Simulator) Uninstall(domain string) (string, error) {
	s.mu.Lock()
	sh := s.shops[domain]
	if sh == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("%w: %s", ErrUnknownShop, domain)
	}
	info := sh.info
	s.mu.Unlock()
	s.RevokeTokens(domain)
	m, err := fixtureMap("app-uninstalled.json")
	if err != nil {
		return "", err
	}
	m["id"], m["name"], m["email"], m["customer_email"] = info.ID, info.Name, info.Email, info.Email
	m["domain"], m["myshopify_domain"] = domain, domain
	m["currency"], m["iana_timezone"], m["plan_display_name"] = info.CurrencyCode, info.IanaTimezone, info.PlanDisplayName
	m["enabled_presentment_currencies"] = []any{info.CurrencyCode}
	body, _ := json.Marshal(m)
	id, err := s.SendWebhook(context.Background(), domain, "app/uninstalled", body)
	s.mu.Lock()
	sh.subs = nil
	s.mu.Unlock()
	s.log.Info("app uninstalled", "shop", domain)
	return id, err
}

// ComplianceRequest are the optional details of a compliance webhook; empty
// fields keep the fixture's values, except as documented.
type ComplianceRequest struct {
	// CustomerID is the customer concerned (default: derived from Email,
	// as CreateOrder derives it, when Email is set).
	CustomerID int64 `json:"customer_id"`
	// Email is the customer's email.
	Email string `json:"email"`
	// Phone is the customer's phone.
	Phone string `json:"phone"`
	// Orders are the order ids requested or to redact (default: the
	// simulator's orders of that customer, when it has any).
	Orders []int64 `json:"orders"`
}

// complianceTopics maps the control endpoint's kinds to topics.
var complianceTopics = map[string]string{
	"customers-data_request": "customers/data_request",
	"customers-redact":       "customers/redact",
	"shop-redact":            "shop/redact",
}

// SendCompliance sends one of the mandatory compliance webhooks
// (shopify.md §2), built from the fixtures with this shop's shop_id and
// shop_domain: kind is customers-data_request, customers-redact or
// shop-redact. They go to the default address, as the compliance_topics of
// shopify.app.toml do. It returns the event id.
func (s *Simulator) SendCompliance(domain, kind string, req ComplianceRequest) (string, error) {
	topic, ok := complianceTopics[kind]
	if !ok {
		return "", fmt.Errorf("%w: compliance kind %q (want customers-data_request, customers-redact or shop-redact)", ErrInvalidInput, kind)
	}
	m, err := fixtureMap("compliance-" + kind + ".json")
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	sh := s.shops[domain]
	if sh == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("%w: %s", ErrUnknownShop, domain)
	}
	m["shop_id"], m["shop_domain"] = sh.info.ID, domain
	if c, ok := m["customer"].(map[string]any); ok {
		if req.CustomerID == 0 && req.Email != "" {
			req.CustomerID = customerID(req.Email)
		}
		if req.CustomerID != 0 {
			c["id"] = req.CustomerID
		}
		if req.Email != "" {
			c["email"] = req.Email
		}
		if req.Phone != "" {
			c["phone"] = req.Phone
		}
		if req.Orders == nil && req.CustomerID != 0 {
			for _, o := range sh.orders {
				if oc, ok := o["customer"].(map[string]any); ok && oc["id"] == req.CustomerID {
					req.Orders = append(req.Orders, o["id"].(int64))
				}
			}
		}
	}
	if kind == "customers-data_request" {
		m["data_request"] = map[string]any{"id": s.nextID()}
	}
	s.mu.Unlock()
	if req.Orders != nil {
		for _, k := range []string{"orders_requested", "orders_to_redact"} {
			if _, ok := m[k]; ok {
				m[k] = req.Orders
			}
		}
	}
	body, _ := json.Marshal(m)
	return s.SendWebhook(context.Background(), domain, topic, body)
}

// represent rewrites every presentment_money under v as its sibling
// shop_money at rate, in currency (rounded half up to the cent).
func represent(v any, currency string, rate *big.Rat) {
	switch t := v.(type) {
	case map[string]any:
		if sm, ok := t["shop_money"].(map[string]any); ok {
			if amt, ok := new(big.Rat).SetString(fmt.Sprint(sm["amount"])); ok {
				cents := new(big.Rat).Mul(amt, rate)
				cents.Mul(cents, big.NewRat(100, 1)).Add(cents, big.NewRat(1, 2))
				c := new(big.Int).Quo(cents.Num(), cents.Denom())
				t["presentment_money"] = map[string]any{"amount": money(c.Int64()), "currency_code": currency}
			}
		}
		for k, e := range t {
			if k != "presentment_money" {
				represent(e, currency, rate)
			}
		}
	case []any:
		for _, e := range t {
			represent(e, currency, rate)
		}
	}
}
