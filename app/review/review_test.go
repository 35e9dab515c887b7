package review

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/referrals"
)

type fakeStore struct {
	applied  []Change
	changed  bool
	notes    int
	attribed []Manual
}

func (f *fakeStore) Queue(context.Context, int64, Filter) ([]Item, error) { return nil, nil }
func (f *fakeStore) Detail(_ context.Context, _, id int64) (*Detail, error) {
	return &Detail{Item: Item{ID: id, AdvocateID: 9}}, nil
}
func (f *fakeStore) Apply(_ context.Context, c Change) (bool, *app.Reward, error) {
	f.applied = append(f.applied, c)
	return f.changed, &app.Reward{ID: 77}, nil
}
func (f *fakeStore) AddNote(context.Context, int64, int64, string, string) error {
	f.notes++
	return nil
}
func (f *fakeStore) Attribute(_ context.Context, m Manual) (int64, error) {
	f.attribed = append(f.attribed, m)
	return 5, nil
}
func (f *fakeStore) ReferralClick(context.Context, int64, int64) (*Click, error) {
	return nil, nil
}
func (f *fakeStore) FindOrders(_ context.Context, _ int64, q string, _ int) ([]*referrals.OrderRecord, error) {
	if strings.TrimPrefix(q, "#") != "1001" {
		return nil, nil
	}
	return []*referrals.OrderRecord{{ID: 40, Known: true, Paid: true, Facts: attribution.Order{PlatformID: "1001", Name: "#1001", CustomerID: "7"}}}, nil
}
func (f *fakeStore) Advocate(_ context.Context, _ int64, code string) (*app.Advocate, error) {
	if code != "ANN-7K2QX" {
		return nil, app.Errorf(app.ENOTFOUND, "no advocate")
	}
	return &app.Advocate{ID: 9, Code: code, CustomerID: "7"}, nil
}

// fakeEngine's manual evaluation is the real rules on the fake order.
type fakeEngine struct{}

func (fakeEngine) EvaluateManual(_ context.Context, _ *app.Shop, o *referrals.OrderRecord, adv *app.Advocate) (attribution.Decision, error) {
	return attribution.Evaluate(o.Facts, attribution.Evidence{Kind: attribution.EvidenceManual, Code: adv.Code},
		attribution.Advocate{ID: adv.ID, CustomerID: adv.CustomerID}, attribution.Rules{}, attribution.History{}), nil
}
func (fakeEngine) Explain(context.Context, *app.Shop, *referrals.OrderRecord) (*referrals.Explanation, error) {
	return &referrals.Explanation{}, nil
}

func (fakeEngine) NewReward(_ context.Context, shop *app.Shop, _ *app.OfferTerms, referralID, advocateID int64) (*app.Reward, error) {
	return &app.Reward{ShopID: shop.ID, ReferralID: referralID, AdvocateID: advocateID, Code: "THANKS-X"}, nil
}
func (fakeEngine) Hold(context.Context, *app.Shop) (time.Duration, error) {
	return 14 * 24 * time.Hour, nil
}

type fakeRewards struct{ queued []int64 }

func (f *fakeRewards) EnqueueReward(_ context.Context, id int64) error {
	f.queued = append(f.queued, id)
	return nil
}

func TestActions(t *testing.T) {
	shop := &app.Shop{ID: 1}
	support, viewer := Actor{ID: "staff:s@x", CanAct: true}, Actor{ID: "staff:v@x"}
	for _, tc := range []struct {
		name    string
		run     func(s *Service) error
		changed bool
		code    string
		applied int
		queued  int
	}{
		{"approve queues the reward", func(s *Service) error { return s.Approve(context.Background(), shop, support, 3) }, true, "", 1, 1},
		{"approve again queues nothing", func(s *Service) error { return s.Approve(context.Background(), shop, support, 3) }, false, "", 1, 0},
		{"viewer cannot approve", func(s *Service) error { return s.Approve(context.Background(), shop, viewer, 3) }, true, app.EFORBIDDEN, 0, 0},
		{"reject needs a reason", func(s *Service) error { return s.Reject(context.Background(), shop, support, 3, "  ") }, true, app.EINVALID, 0, 0},
		{"reject", func(s *Service) error { return s.Reject(context.Background(), shop, support, 3, "duplicate") }, true, "", 1, 0},
		{"revoke queues the deactivation", func(s *Service) error { return s.Revoke(context.Background(), shop, support, 3, "returned") }, true, "", 1, 1},
		{"reissue queues the reward", func(s *Service) error { return s.Reissue(context.Background(), shop, support, 3) }, true, "", 1, 1},
		{"viewer cannot note", func(s *Service) error { return s.AddNote(context.Background(), shop, viewer, 3, "hi") }, true, app.EFORBIDDEN, 0, 0},
		{"attribute needs both ids", func(s *Service) error {
			_, err := s.Attribute(context.Background(), shop, support, "", "ANN-1", "why", false)
			return err
		}, true, app.EINVALID, 0, 0},
		{"attribute the advocate's own order: refused without override", func(s *Service) error {
			_, err := s.Attribute(context.Background(), shop, support, "1001", "ann-7k2qx", "told us", false)
			return err
		}, true, app.EINVALID, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, rw := &fakeStore{changed: tc.changed}, &fakeRewards{}
			s := &Service{Store: st, Engine: fakeEngine{}, Rewards: rw, Now: time.Now}
			err := tc.run(s)
			if app.ErrorCode(err) != tc.code && !(err == nil && tc.code == "") {
				t.Fatalf("err = %v, want code %q", err, tc.code)
			}
			if len(st.applied) != tc.applied || len(rw.queued) != tc.queued {
				t.Fatalf("applied %d, queued %d; want %d, %d", len(st.applied), len(rw.queued), tc.applied, tc.queued)
			}
			if tc.applied > 0 && st.applied[0].Actor != support.ID {
				t.Errorf("actor %q", st.applied[0].Actor)
			}
		})
	}
}

func TestWhereIsMyReward(t *testing.T) {
	hold := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		f    CustomerReferral
		want string
	}{
		{CustomerReferral{State: app.ReferralRewarded, RewardState: app.RewardIssued, RewardCode: "THANKS-A"}, "Created in the store: code THANKS-A (the email's state is below)."},
		{CustomerReferral{State: app.ReferralPending, HoldUntil: hold}, "Waiting for the holding period to end on 6 Dec 2026."},
		{CustomerReferral{State: app.ReferralApproved, RewardState: app.RewardFailed}, "The store refused the code: reissue it from the referral."},
		{CustomerReferral{State: app.ReferralReversed}, "No reward: the referral was reversed."},
	} {
		if got := WhereIsMyReward(tc.f); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestAttributeByHandRunsTheRules(t *testing.T) {
	shop := &app.Shop{ID: 1}
	support := Actor{ID: "staff:s@x", CanAct: true}
	st := &fakeStore{}
	s := &Service{Store: st, Engine: fakeEngine{}, Rewards: &fakeRewards{}, Now: time.Now}
	// Order 1001 is the advocate's own (same customer): self-referral.
	_, err := s.Attribute(context.Background(), shop, support, "#1001", "ANN-7K2QX", "told us at the till", false)
	var rf RulesFailed
	if app.ErrorCode(err) != app.EINVALID || !errors.As(err, &rf) || rf.Check.Decision.Reason != "same customer as the advocate" || len(st.attribed) != 0 {
		t.Fatalf("without override: %v, %d recorded", err, len(st.attribed))
	}
	if _, err := s.Attribute(context.Background(), shop, support, "1001", "ANN-7K2QX", "the manager says so", true); err != nil {
		t.Fatal(err)
	}
	if len(st.attribed) != 1 || !st.attribed[0].Override || st.attribed[0].Reason != "the manager says so" {
		t.Fatalf("with override: %+v", st.attribed)
	}
	if _, err := s.Attribute(context.Background(), shop, support, "1002", "ANN-7K2QX", "x", true); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("unknown order: %v", err)
	}
}

func TestTimeline(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	created, issued := t0.Add(15*24*time.Hour), t0.Add(15*24*time.Hour+time.Minute)
	d := &Detail{Item: Item{State: app.ReferralRewarded, OrderName: "#1001", OrderedAt: t0, CreatedAt: t0.Add(time.Minute),
		EvidenceKind: "landing_site", HoldUntil: t0.Add(14 * 24 * time.Hour)},
		Reward: &app.Reward{Code: "THANKS-X", State: app.RewardRevoked}, RewardCreatedAt: &created, RewardIssuedAt: &issued,
		Audit: []AuditEntry{
			{Actor: "engine", Action: "approve_due", At: created},
			{Actor: "staff:s@x", Action: "revoke_reward", Reason: "returned", At: issued.Add(time.Hour)},
		}}
	var kinds []string
	for _, e := range Timeline(d, Event{At: issued.Add(time.Second), Kind: "email_sent"}) {
		kinds = append(kinds, e.Kind)
	}
	want := "order_placed attributed approved_by_run reward_created reward_in_store email_sent reward_revoked"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("timeline:\n got %s\nwant %s", got, want)
	}
}
