package shopify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

// A shop that installed Parrain before store credit has not granted its
// scope: Shopify refuses the credit (ACCESS_DENIED), and the reward fails
// saying what the merchant must do, instead of retrying forever.
func TestStoreCreditWithoutTheScope(t *testing.T) {
	st, sim, shop := storeAgainstSimulatorWith(t, func(c *shopifysim.Config) { c.EnforceScopes = true })
	if _, err := sim.CreateOrder(shop.Domain, shopifysim.OrderInput{CustomerID: 77, Email: "c@example.com", Quiet: true}); err != nil {
		t.Fatal(err)
	}
	_, err := st.CreditStoreCredit(context.Background(), shop, app.StoreCredit{Key: "THANKS-NOSCOPE", CustomerID: "77",
		Amount: app.Money{Minor: 1000, Currency: "EUR"}, ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Second)})
	if app.ErrorCode(err) != app.EINVALID || !strings.Contains(app.ErrorMessage(err), "write_store_credit_account_transactions") {
		t.Fatalf("credit without the scope: %v", err)
	}
	if n := len(sim.StoreCredits(shop.Domain)); n != 0 {
		t.Fatalf("%d credits", n)
	}
}
