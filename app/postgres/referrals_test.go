package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/app/testenv"
)

// A referral reversed between the due listing and its approval gets no
// reward; approving twice gives one reward.
func TestApproveReferralRespectsReversal(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	sh := installShop(t, db, "approve.myshopify.com")
	sh.Currency = "EUR"
	repo := db.Referrals()
	adv, err := repo.EnsureAdvocate(ctx, &app.Advocate{ShopID: sh.ID, CustomerID: "1", Code: "ANN-AAAAA", FriendCode: "FRIEND-ANN-AAAAA"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(orderID string) *app.Referral {
		o, err := repo.MergeOrder(ctx, sh.ID, referrals.OrderEvent{Known: true, Paid: true, Order: attribution.Order{PlatformID: orderID, CustomerID: "2" + orderID, Total: app.Money{Minor: 100, Currency: "EUR"}, CreatedAt: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.CreateReferral(ctx, &app.Referral{ShopID: sh.ID, AdvocateID: adv.ID, OrderID: o.ID, EvidenceKind: "discount_code", EvidenceCode: "X", Decision: []byte(`{}`), State: app.ReferralPending, HoldUntil: time.Now()}); err != nil {
			t.Fatal(err)
		}
		r, _ := repo.ReferralByOrder(ctx, o.ID)
		return r
	}
	reward := func(r *app.Referral) *app.Reward {
		return &app.Reward{ShopID: sh.ID, ReferralID: r.ID, AdvocateID: adv.ID, Code: "THANKS-" + r.EvidenceCode + time.Now().Format("150405.000000"), Kind: app.OfferFixed, AmountMinor: 1000, Currency: "EUR"}
	}
	kept := mk("100")
	a, err := repo.ApproveReferral(ctx, kept.ID, reward(kept))
	if err != nil || a == nil {
		t.Fatal(a, err)
	}
	b, err := repo.ApproveReferral(ctx, kept.ID, reward(kept))
	if err != nil || b == nil || b.ID != a.ID || b.Code != a.Code {
		t.Fatalf("second approval: %+v %v, want the first reward", b, err)
	}
	gone := mk("200")
	if _, err := repo.ReverseReferral(ctx, gone.ID, "order cancelled"); err != nil {
		t.Fatal(err)
	}
	if rw, err := repo.ApproveReferral(ctx, gone.ID, reward(gone)); err != nil || rw != nil {
		t.Fatalf("reversed referral approved: %+v %v", rw, err)
	}
	var n int
	db.SQL().QueryRow("SELECT count(*) FROM rewards WHERE referral_id = $1", gone.ID).Scan(&n)
	if n != 0 {
		t.Fatal("a reward row exists for a reversed referral")
	}
}
