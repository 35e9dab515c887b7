package shopifysim

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// orderJSON is the part of the REST Order a test looks at.
type orderJSON struct {
	ID              int64   `json:"id"`
	Name            string  `json:"name"`
	OrderNumber     int     `json:"order_number"`
	Email           string  `json:"email"`
	Currency        string  `json:"currency"`
	TotalPrice      string  `json:"total_price"`
	SubtotalPrice   string  `json:"subtotal_price"`
	LineItemsPrice  string  `json:"total_line_items_price"`
	TotalDiscounts  string  `json:"total_discounts"`
	FinancialStatus string  `json:"financial_status"`
	CancelledAt     *string `json:"cancelled_at"`
	CreatedAt       string  `json:"created_at"`
	Test            bool    `json:"test"`
	BrowserIP       string  `json:"browser_ip"`
	LandingSite     *string `json:"landing_site"`
	LandingSiteRef  *string `json:"landing_site_ref"`
	Refunds         []any   `json:"refunds"`
	DiscountCodes   []struct {
		Code, Amount, Type string
	} `json:"discount_codes"`
	DiscountApplications []struct {
		Code, Value string
		ValueType   string `json:"value_type"`
		TargetType  string `json:"target_type"`
	} `json:"discount_applications"`
	NoteAttributes []struct{ Name, Value string } `json:"note_attributes"`
	LineItems      []struct {
		Price               string `json:"price"`
		Quantity            int    `json:"quantity"`
		DiscountAllocations []struct {
			Amount string `json:"amount"`
		} `json:"discount_allocations"`
	} `json:"line_items"`
	Customer struct {
		ID        int64   `json:"id"`
		Email     string  `json:"email"`
		FirstName string  `json:"first_name"`
		LastName  string  `json:"last_name"`
		Phone     *string `json:"phone"`
	} `json:"customer"`
}

func TestCreateOrderPayload(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)
	f.gql(t, tok, createDiscount, map[string]any{"d": discountInput("FRIEND-10")}) // 10 %
	fixed := discountInput("FIVE")
	fixed["customerGets"] = map[string]any{"value": map[string]any{"discountAmount": map[string]any{"amount": "5.00", "appliesOnEachItem": false}}, "items": map[string]any{"all": true}}
	f.gql(t, tok, createDiscount, map[string]any{"d": fixed})

	for _, tc := range []struct {
		name                              string
		in                                OrderInput
		subtotal, discount, amount, typ   string
		wantRef                           any
		wantCodes                         int
		wantApplicationValue, wantTypeApp string
	}{
		{"percentage code", OrderInput{Email: "bob@example.com", FirstName: "Bob", LastName: "Martin", Phone: "+33600000000", Total: "90.00",
			DiscountCodes: []string{"friend-10"}, Ref: "MARIE", NoteAttributes: map[string]string{"z": "last", "parrain_ref": "MARIE"}, Test: true},
			"100.00", "10.00", "10.00", "percentage", "MARIE", 1, "10.0", "percentage"},
		{"fixed amount code", OrderInput{Email: "carol@example.com", Total: "20.00", DiscountCodes: []string{"FIVE"}, LandingSite: "/products/x?source=news"},
			"25.00", "5.00", "5.00", "fixed_amount", "news", 1, "5.0", "fixed_amount"},
		{"unknown code", OrderInput{Email: "dan@example.com", Total: "12.34", DiscountCodes: []string{"NOPE"}},
			"12.34", "0.00", "0.00", "fixed_amount", nil, 1, "0.0", "fixed_amount"},
		{"no code", OrderInput{Email: "eve@example.com"}, "120.00", "0.00", "", "", nil, 0, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := f.sim.CreateOrder(demo, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(body), "USD") || strings.Contains(string(body), "TENOFF") || strings.Contains(string(body), "bob.norman") {
				t.Fatalf("fixture values leak into the order: %s", body)
			}
			var o orderJSON
			if err := json.Unmarshal(body, &o); err != nil {
				t.Fatal(err)
			}
			total := tc.in.Total
			if total == "" {
				total = "120.00"
			}
			if o.TotalPrice != total || o.SubtotalPrice != total || o.LineItemsPrice != tc.subtotal || o.TotalDiscounts != tc.discount ||
				len(o.LineItems) != 1 || o.LineItems[0].Price != tc.subtotal || o.LineItems[0].Quantity != 1 || o.Currency != "EUR" {
				t.Fatalf("amounts: total %s subtotal %s lines %s discounts %s line %+v", o.TotalPrice, o.SubtotalPrice, o.LineItemsPrice, o.TotalDiscounts, o.LineItems)
			}
			if len(o.DiscountCodes) != tc.wantCodes || len(o.DiscountApplications) != tc.wantCodes {
				t.Fatalf("codes: %+v %+v", o.DiscountCodes, o.DiscountApplications)
			}
			if tc.wantCodes == 1 {
				if o.DiscountCodes[0].Amount != tc.amount || o.DiscountCodes[0].Type != tc.typ || o.DiscountApplications[0].Value != tc.wantApplicationValue ||
					o.DiscountApplications[0].ValueType != tc.wantTypeApp || len(o.LineItems[0].DiscountAllocations) != 1 ||
					o.LineItems[0].DiscountAllocations[0].Amount != tc.amount {
					t.Fatalf("code: %+v %+v %+v", o.DiscountCodes, o.DiscountApplications, o.LineItems[0].DiscountAllocations)
				}
			}
			if o.FinancialStatus != "paid" || o.CancelledAt != nil || o.Refunds == nil || len(o.Refunds) != 0 || o.Test != tc.in.Test {
				t.Fatalf("status: %s %v %v %v", o.FinancialStatus, o.CancelledAt, o.Refunds, o.Test)
			}
			if (tc.wantRef == nil) != (o.LandingSiteRef == nil) || (o.LandingSiteRef != nil && *o.LandingSiteRef != tc.wantRef) {
				t.Fatalf("landing_site_ref %v, want %v", o.LandingSiteRef, tc.wantRef)
			}
			if o.Customer.ID != customerID(tc.in.Email) || o.Customer.Email != tc.in.Email || o.Email != tc.in.Email || o.BrowserIP == "" {
				t.Fatalf("customer: %+v", o.Customer)
			}
			// Shop time zone (Europe/Paris is UTC+1 in November).
			if ts, err := time.Parse(time.RFC3339, o.CreatedAt); err != nil || !ts.Equal(f.clk.now()) || !strings.HasSuffix(o.CreatedAt, "+01:00") {
				t.Fatalf("created_at %q", o.CreatedAt)
			}
			if tc.name == "percentage code" {
				if *o.LandingSite != "/?ref=MARIE" || o.Customer.FirstName != "Bob" || o.Customer.LastName != "Martin" || o.Customer.Phone == nil ||
					len(o.NoteAttributes) != 2 || o.NoteAttributes[0].Name != "parrain_ref" || o.NoteAttributes[1].Value != "last" {
					t.Fatalf("evidence: %+v %+v", o.Customer, o.NoteAttributes)
				}
			}
		})
	}
	// Names and numbers follow each other; ids are fresh.
	names := map[string]bool{}
	ids := map[int64]bool{}
	for _, b := range f.sim.Orders(demo) {
		var o orderJSON
		_ = json.Unmarshal(b, &o)
		names[o.Name], ids[o.ID] = true, true
	}
	if !names["#1001"] || !names["#1004"] || len(ids) != 4 {
		t.Fatalf("names %v ids %v", names, ids)
	}
	if d := f.sim.Discounts(demo); d[0].UsageCount != 1 || d[1].UsageCount != 1 {
		t.Fatalf("usage counts: %+v", d)
	}
}

func TestCreateOrderSendsCreateThenPaid(t *testing.T) {
	f := newSim(t, nil)
	body, err := f.sim.CreateOrder(demo, OrderInput{Email: "marie@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	f.waitIdle(t)
	created, paid := f.app.byTopic("orders/create"), f.app.byTopic("orders/paid")
	if len(created) != 1 || len(paid) != 1 || string(created[0].body) != string(body) || string(paid[0].body) != string(body) ||
		created[0].header.Get("X-Shopify-Event-Id") == paid[0].header.Get("X-Shopify-Event-Id") {
		t.Fatalf("order events: %d create, %d paid", len(created), len(paid))
	}
	verifies(t, created[0])
}

func TestCreateOrderRefusals(t *testing.T) {
	f := newSim(t, nil)
	if _, err := f.sim.CreateOrder("nowhere.myshopify.com", OrderInput{}); !errors.Is(err, ErrUnknownShop) {
		t.Fatalf("unknown shop: %v", err)
	}
	for _, total := range []string{"abc", "-1", "NaN", "1e30"} {
		if _, err := f.sim.CreateOrder(demo, OrderInput{Total: total}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("total %q: %v", total, err)
		}
	}
	if len(f.sim.Orders(demo)) != 0 {
		t.Fatal("refused orders were stored")
	}
}
