package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/popup"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

// fuzzShops knows two installed shops; any other method is not called by
// the widget API (the embedded nil interface would panic, failing the fuzz).
type fuzzShops struct{ app.ShopService }

func (fuzzShops) ShopByDomain(_ context.Context, p app.Platform, domain string) (*app.Shop, error) {
	switch {
	case p == app.PlatformShopify && domain == "fuzz.myshopify.com",
		p == app.PlatformWooCommerce && domain == "shop.example":
		return &app.Shop{ID: 1, Platform: p, Domain: domain, Status: app.ShopInstalled}, nil
	}
	return nil, app.Errorf(app.ENOTFOUND, "unknown shop")
}

// fuzzPopupData has one paid order (id 1001, Marie's, order key
// wc_order_k3y) whose buyer is an advocate; order 1002 is not processed.
type fuzzPopupData struct{}

func (fuzzPopupData) Program(context.Context, *app.Shop) (app.Program, error) {
	return app.DefaultProgram(1, "EUR"), nil
}

func (fuzzPopupData) PopupOrder(_ context.Context, _ int64, id string) (*popup.Order, error) {
	if id == "1001" {
		return &popup.Order{Known: true, Paid: true, CustomerID: "5", EmailNorm: "marie@example.com", Key: "wc_order_k3y"}, nil
	}
	return &popup.Order{}, nil
}

func (fuzzPopupData) AdvocateByCustomer(context.Context, int64, string) (*app.Advocate, error) {
	return &app.Advocate{ID: 1, ShopID: 1, CustomerID: "5", FirstName: "Marie", Code: "MARIE-7K2Q", FriendCode: "FRIEND-MARIE-7K2Q", FriendCodeState: "created"}, nil
}

func (d fuzzPopupData) BuyerAdvocate(ctx context.Context, shopID int64, customerID, _ string) (*app.Advocate, error) {
	return d.AdvocateByCustomer(ctx, shopID, customerID)
}

// The widget API's request decoding, whatever the body, token and
// Accept-Language: never a panic or a 500, always a JSON answer with a
// status the widget understands; the advocate's code only in a 200.
func FuzzWidgetSession(f *testing.F) {
	now := time.Unix(1_900_000_000, 0)
	sim := shopifysim.New(shopifysim.Config{APIKey: "fuzz-key", APISecret: "fuzz-secret", Now: func() time.Time { return now }})
	s := &Server{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now },
		Shops: fuzzShops{}, Popups: &popup.Service{Data: fuzzPopupData{}, LinkBase: "https://app.example"},
		ShopifyKey: "fuzz-key", ShopifySecret: "fuzz-secret", AppURL: "https://app.example"}
	h := s.Handler()

	guest := "Bearer " + sim.CheckoutSessionToken("fuzz.myshopify.com", 0, time.Hour)
	buyer := "Bearer " + sim.CheckoutSessionToken("fuzz.myshopify.com", 5, time.Hour)
	other := "Bearer " + sim.CheckoutSessionToken("other.myshopify.com", 5, time.Hour)
	for _, seed := range [][3]string{
		{`{"shop":"fuzz.myshopify.com","order_id":"1001","email":"Marie@Example.com"}`, "", "fr-FR,fr;q=0.9"},
		{`{"shop":"fuzz.myshopify.com","order_id":"gid://shopify/OrderIdentity/1001"}`, buyer, ""},
		{`{"order_id":"1001"}`, guest, "en"},
		{`{"shop":"fuzz.myshopify.com","order_id":"1001"}`, other, ""},
		{`{"platform":"woocommerce","shop":"shop.example","order_id":"1001","order_key":"wc_order_k3y","lang":"fr","langs":["de","en"]}`, "", "*;q=0.1"},
		{`{"platform":"woocommerce","shop":"shop.example","order_id":"1002","order_key":"x"}`, "", ""},
		{`{"shop":"fuzz.myshopify.com","order_id":"99999999999999999999"}`, "", "en;q=abc,,;"},
		{`{"shop":["x"],"order_id":1}`, "Bearer x.y.z", ""},
		{`{"shop":"fuzz.myshopify.com","order_id":"1001","email":"marie@example.com"}{"x":1}`, "", ""},
		{strings.Repeat(`{"a":`, 300), "", ""},
		{"", "Bearer", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, body, auth, acceptLang string) {
		req := httptest.NewRequest(http.MethodPost, "/api/widget/session", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header["Authorization"] = []string{auth}
		}
		if acceptLang != "" {
			req.Header["Accept-Language"] = []string{acceptLang}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if testing.Verbose() {
			t.Logf("%d %.80s", rec.Code, rec.Body)
		}
		switch rec.Code {
		case 200, 202, 400, 403, 404, 413, 429:
		default:
			t.Fatalf("status %d for body %q auth %q: %s", rec.Code, body, auth, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d, not JSON: %q", rec.Code, rec.Body)
		}
		if rec.Code != 200 && strings.Contains(rec.Body.String(), "MARIE-7K2Q") {
			t.Fatalf("status %d shows the code: %s", rec.Code, rec.Body)
		}
	})
}
