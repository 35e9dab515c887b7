package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/app/testenv"
	"github.com/parrain/parrain/integrations/woocommerce"
	"github.com/parrain/parrain/integrations/woocommerce/wcsim"
)

// guestWorld is the engine over the real repository, its store the
// WooCommerce adapter against wcsim over HTTP (guest checkout is
// WooCommerce's default).
type guestWorld struct {
	t      *testing.T
	db     *postgres.DB
	shop   *app.Shop
	engine *referrals.Engine
	store  *wcsim.Sim
	n      int
}

type wcClient struct{ c *woocommerce.Client }

func (w wcClient) Client(context.Context, *app.Shop) (*woocommerce.Client, error) { return w.c, nil }

func newGuestWorld(t *testing.T) *guestWorld {
	db, _ := testenv.OpenDB(t)
	sim := wcsim.New("ck_g", "cs_g")
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	sh := installShop(t, db, "guests.myshopify.com")
	sh.Currency = "EUR"
	// wcsim listens on loopback: the SSRF guard must let it through here.
	store := &woocommerce.Store{Clients: wcClient{&woocommerce.Client{Store: srv.URL, ConsumerKey: "ck_g", ConsumerSecret: "cs_g", HTTP: woocommerce.NewHTTPClient(true)}}}
	return &guestWorld{t: t, db: db, shop: sh, store: sim,
		engine: &referrals.Engine{Repo: db.Referrals(), Store: store, Now: time.Now, CodeKey: []byte("k")}}
}

// order is a paid order by the buyer; each buyer index gets its own IP and
// address, so only what the test means to share is shared.
func (w *guestWorld) order(customerID, email string, buyer int, codes ...string) (string, error) {
	w.n++
	id := fmt.Sprintf("%d", 1000+w.n)
	ev := referrals.OrderEvent{Known: true, Paid: true, FirstName: "Marie", Order: attribution.Order{
		PlatformID: id, Name: "#" + id, CustomerID: customerID, Email: email, DiscountCodes: codes,
		BrowserIP:       fmt.Sprintf("203.0.113.%d", buyer),
		ShippingAddress: attribution.Address{Line1: fmt.Sprintf("%d rue de la Paix", buyer), Zip: "75002", Country: "FR"},
		Total:           app.Money{Minor: 8000, Currency: "EUR"}, CreatedAt: time.Now(),
	}}
	return id, w.engine.HandleOrderEvent(context.Background(), w.shop, ev)
}

func (w *guestWorld) mustOrder(customerID, email string, buyer int, codes ...string) string {
	w.t.Helper()
	id, err := w.order(customerID, email, buyer, codes...)
	if err != nil {
		w.t.Fatalf("order of %q %q: %v", customerID, email, err)
	}
	return id
}

type advRow struct {
	ID                                             int64
	CustomerID, Email, EmailNorm, Code, FriendCode string
	FriendCodeState                                string
}

func (w *guestWorld) advocates() []advRow {
	w.t.Helper()
	rows, err := w.db.SQL().Query(`SELECT id, customer_id, email, email_norm, code, friend_code, friend_code_state
		FROM advocates WHERE shop_id = $1 ORDER BY id`, w.shop.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []advRow
	for rows.Next() {
		var a advRow
		if err := rows.Scan(&a.ID, &a.CustomerID, &a.Email, &a.EmailNorm, &a.Code, &a.FriendCode, &a.FriendCodeState); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func (w *guestWorld) referral(orderID string) (advocateID int64, state, decision string) {
	w.db.SQL().QueryRow(`SELECT f.advocate_id, f.state, f.decision::text FROM referrals f JOIN orders o ON o.id = f.order_id
		WHERE o.shop_id = $1 AND o.platform_order_id = $2`, w.shop.ID, orderID).Scan(&advocateID, &state, &decision)
	return
}

// A guest's paid order makes them an advocate by email, with a friend code
// in the store; their next order finds the same advocate; when they come
// back with an account (a customer id, the email written differently) the
// customer id is attached to the same advocate: same code, no second
// friend code. A friend's order with the guest's code is attributed to them.
func TestGuestBuyerBecomesAdvocateAndKeepsItWhenRegistering(t *testing.T) {
	w := newGuestWorld(t)
	w.mustOrder("", "Marie.Curie@gmail.com", 1)
	advs := w.advocates()
	if len(advs) != 1 {
		t.Fatalf("%d advocates after a guest order, want 1", len(advs))
	}
	g := advs[0]
	if g.CustomerID != "" || g.EmailNorm != "mariecurie@gmail.com" || g.FriendCodeState != "created" || !strings.HasPrefix(g.Code, "MARIE-") {
		t.Fatalf("guest advocate: %+v", g)
	}
	if n := len(w.store.Coupons()); n != 1 {
		t.Fatalf("%d coupons in the store, want the friend code", n)
	}

	w.mustOrder("", "marie.curie@gmail.com", 1)
	w.mustOrder("42", "MarieCurie+shop@GMAIL.com", 1) // registered since
	advs = w.advocates()
	if len(advs) != 1 {
		t.Fatalf("%d advocates after the guest's second order and registration, want 1: %+v", len(advs), advs)
	}
	if a := advs[0]; a.ID != g.ID || a.Code != g.Code || a.FriendCode != g.FriendCode || a.CustomerID != "42" {
		t.Fatalf("after registration: %+v, want %+v with customer 42", a, g)
	}
	if n := len(w.store.Coupons()); n != 1 {
		t.Fatalf("%d coupons in the store: a second friend code", n)
	}
	// The registered customer's next order, by customer id alone.
	w.mustOrder("42", "", 1)
	if n := len(w.advocates()); n != 1 {
		t.Fatalf("%d advocates", n)
	}

	// A friend (a guest too) buys with the code: attributed to Marie.
	friend := w.mustOrder("", "bob@example.com", 2, strings.ToLower(g.FriendCode))
	if adv, state, d := w.referral(friend); adv != g.ID || state != app.ReferralPending {
		t.Fatalf("friend's referral: advocate %d state %q (%s), want %d pending", adv, state, d, g.ID)
	}
	if n := len(w.advocates()); n != 2 {
		t.Fatalf("%d advocates, want Marie and Bob", n)
	}
}

// A guest advocate who orders again with their own friend code, from
// another address and browser, is caught by the email: self-referral.
func TestGuestSelfReferralIsRejected(t *testing.T) {
	w := newGuestWorld(t)
	w.mustOrder("", "bea@example.com", 1)
	advs := w.advocates()
	if len(advs) != 1 {
		t.Fatalf("%d advocates, want the guest", len(advs))
	}
	again := w.mustOrder("", "Bea@Example.com", 9, advs[0].FriendCode)
	adv, state, decision := w.referral(again)
	if adv != advs[0].ID || state != app.ReferralRejected || !strings.Contains(decision, "same email as the advocate") {
		t.Fatalf("guest's own code: advocate %d state %q decision %s", adv, state, decision)
	}
	if n := len(w.advocates()); n != 1 {
		t.Fatalf("%d advocates: the same guest made two", n)
	}
}

// Concurrent orders of one guest (no customer id to conflict on, the
// email written differently), and the same person's first order with an
// account (odd rounds), make one advocate and one friend code. Several
// rounds, each a new person, all orders of a round released at once.
func TestConcurrentGuestOrdersMakeOneAdvocate(t *testing.T) {
	w := newGuestWorld(t)
	const rounds, perRound = 6, 10
	next := 5000
	for round := range rounds {
		local := fmt.Sprintf("ann%d", round)
		emails := []string{local + "@example.com", strings.ToUpper(local) + "@Example.com", " " + local + "@EXAMPLE.com"}
		start := make(chan struct{})
		errs := make(chan error, perRound)
		var wg sync.WaitGroup
		for i := range perRound {
			customer := ""
			if round%2 == 1 && i == perRound-1 {
				customer = fmt.Sprintf("7%d", round) // odd rounds: one order with an account
			}
			next++
			ev := referrals.OrderEvent{Known: true, Paid: true, FirstName: "Ann", Order: attribution.Order{
				PlatformID: fmt.Sprint(next), CustomerID: customer, Email: emails[i%len(emails)],
				Total: app.Money{Minor: 5000, Currency: "EUR"}, CreatedAt: time.Now()}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- w.engine.HandleOrderEvent(context.Background(), w.shop, ev)
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("round %d: order: %v", round, err)
			}
		}
		advs := w.advocates()
		if len(advs) != round+1 {
			t.Fatalf("round %d: %d advocates, want %d: %+v", round, len(advs), round+1, advs)
		}
		want := ""
		if round%2 == 1 {
			want = fmt.Sprintf("7%d", round)
		}
		if a := advs[round]; a.FriendCodeState != "created" || a.CustomerID != want || a.EmailNorm != local+"@example.com" {
			t.Fatalf("round %d: advocate %+v, want customer %q, email %s@example.com", round, a, want, local)
		}
	}
	if n := len(w.store.Coupons()); n != rounds {
		t.Fatalf("%d coupons in the store, want %d", n, rounds)
	}
}

// An order with neither a customer nor an email makes no advocate: no
// error (the job would retry forever), a log line saying why, and the
// order can still be a friend's.
func TestOrderWithoutCustomerOrEmailMakesNoAdvocate(t *testing.T) {
	w := newGuestWorld(t)
	w.mustOrder("", "cleo@example.com", 1)
	advs := w.advocates()
	if len(advs) != 1 {
		t.Fatalf("%d advocates after Cleo's guest order, want 1", len(advs))
	}
	cleo := advs[0]
	var logs bytes.Buffer
	ctx := logging.With(context.Background(), slog.New(slog.NewJSONHandler(&logs, nil)))
	err := w.engine.HandleOrderEvent(ctx, w.shop, referrals.OrderEvent{Known: true, Paid: true, Order: attribution.Order{
		PlatformID: "9001", DiscountCodes: []string{cleo.FriendCode}, BrowserIP: "198.51.100.9",
		Total: app.Money{Minor: 5000, Currency: "EUR"}, CreatedAt: time.Now()}})
	if err != nil {
		t.Fatalf("order without customer or email: %v", err)
	}
	if n := len(w.advocates()); n != 1 {
		t.Fatalf("%d advocates, want only Cleo", n)
	}
	if !strings.Contains(logs.String(), "neither a store customer nor an email") || !strings.Contains(logs.String(), `"order":"9001"`) {
		t.Fatalf("no reason logged: %s", logs.String())
	}
	if adv, state, d := w.referral("9001"); adv != cleo.ID || state != app.ReferralPending {
		t.Fatalf("anonymous friend's referral: %d %q %s", adv, state, d)
	}
	// The repository refuses such an advocate outright.
	_, err = w.db.Referrals().EnsureAdvocate(context.Background(), &app.Advocate{ShopID: w.shop.ID, Code: "X-1", FriendCode: "FRIEND-X-1"})
	if app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("advocate without identity: %v, want invalid", err)
	}
}

// Two store customers whose emails normalise alike (a.b@gmail.com and
// ab@gmail.com): the first keeps the email key, the second is its own
// advocate; a guest order with that email goes to the first.
func TestSecondCustomerWithTheSameEmailIsItsOwnAdvocate(t *testing.T) {
	w := newGuestWorld(t)
	w.mustOrder("1", "a.b@gmail.com", 1)
	w.mustOrder("2", "ab@gmail.com", 2)
	w.mustOrder("", "AB@gmail.com", 3)
	advs := w.advocates()
	if len(advs) != 2 || advs[0].CustomerID != "1" || advs[0].EmailNorm != "ab@gmail.com" || advs[1].CustomerID != "2" || advs[1].EmailNorm != "" {
		t.Fatalf("advocates: %+v", advs)
	}
	// A guest advocate is never a store customer's advocate by accident.
	w.mustOrder("", "guest@example.com", 4)
	if a, err := w.db.Referrals().AdvocateByCustomer(context.Background(), w.shop.ID, ""); err == nil {
		t.Fatalf("advocate of customer \"\": %+v", a)
	}
}

// Support and the compliance requests find a guest advocate by email, as
// written or normalised; redaction strips the guest's email and name and
// keeps the codes and books.
func TestGuestAdvocateFoundByConsoleAndCompliance(t *testing.T) {
	w := newGuestWorld(t)
	w.mustOrder("", "Dora.Guest@gmail.com", 1)
	w.mustOrder("5", "other@example.com", 2)
	advs := w.advocates()
	if len(advs) != 2 {
		t.Fatalf("%d advocates", len(advs))
	}
	dora := advs[0]
	ctx := context.Background()
	for _, q := range []string{"Dora.Guest@gmail.com", "doraguest@gmail.com", "DORA.GUEST+x@googlemail.com", dora.Code} {
		c, err := w.db.Console().CustomerByEmailOrCode(ctx, w.shop.ID, q)
		if err != nil || c.ID != dora.ID {
			t.Fatalf("lookup %q: %+v %v, want advocate %d", q, c, err, dora.ID)
		}
	}
	comp := w.db.Compliance()
	if _, err := comp.ExportCustomer(ctx, w.shop.ID, 1, app.CustomerRef{Email: "dora.guest@gmail.com"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var export string
	w.db.SQL().QueryRow("SELECT export::text FROM data_exports WHERE shop_id = $1", w.shop.ID).Scan(&export)
	if !strings.Contains(export, dora.Code) || strings.Contains(export, advs[1].Code) {
		t.Fatalf("export: %s", export)
	}
	if _, err := comp.RedactCustomer(ctx, w.shop.ID, app.CustomerRef{ID: 191167, Email: "DoraGuest@gmail.com"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	advs = w.advocates()
	if a := advs[0]; a.Email != "" || a.EmailNorm != "" || a.Code != dora.Code {
		t.Fatalf("after redaction: %+v", a)
	}
	if a := advs[1]; a.Email != "other@example.com" {
		t.Fatalf("redaction reached another advocate: %+v", a)
	}
	var left int
	w.db.SQL().QueryRow("SELECT count(*) FROM orders WHERE shop_id = $1 AND (email_norm = 'doraguest@gmail.com' OR facts::text ILIKE '%dora%')", w.shop.ID).Scan(&left)
	if left != 0 {
		t.Fatalf("%d orders keep Dora's data", left)
	}
}
