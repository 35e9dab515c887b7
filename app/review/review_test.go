package review

import (
	"context"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

type fakeStore struct {
	applied []Change
	changed bool
	notes   int
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
func (f *fakeStore) Attribute(context.Context, int64, string, string, string, string, time.Time) (int64, error) {
	return 5, nil
}

type fakeEngine struct{}

func (fakeEngine) NewReward(_ context.Context, shop *app.Shop, referralID, advocateID int64) (*app.Reward, error) {
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
			_, err := s.Attribute(context.Background(), shop, support, "", "ANN-1", "why")
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
