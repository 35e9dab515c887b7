package experiment

import (
	"context"
	"fmt"
	"time"

	"github.com/parrain/parrain/app"
)

// Arms is the storage the offer policy needs.
type Arms interface {
	// TestsAt are, in one look-up, the shop's test whose window holds at
	// and the one whose window holds joined (an advocate's creation); nil
	// when none (the same test when it holds both).
	TestsAt(ctx context.Context, shopID int64, at, joined time.Time) (inForce, whenJoined *Test, err error)
	// Arm is the advocate's stored arm in the test; "" when none.
	Arm(ctx context.Context, testID, advocateID int64) (Arm, error)
	// SetArm stores the advocate's arm unless one is stored already, and
	// returns the stored one.
	SetArm(ctx context.Context, t *Test, advocateID int64, arm Arm) (Arm, error)
}

// Policy is the engine's A/B offer policy (referrals.OfferPolicy): it gives
// an advocate created while a test runs their arm's offer, for good.
//
// Who takes part: advocates created within the test's window. An advocate
// from before the test keeps the standing offer (their friend code already
// carries it, and they were promised it). An advocate's arm is a hash of
// the test and the advocate (Assign), stored the first time it is needed,
// so restarts, retries and concurrent workers agree, and changing the
// split later could not move anyone.
//
// When: the test in force at the instant asked about (the friend's order
// time for a referral, now for a friend code or the popup). A friend
// ordering after the test ended earns the standing reward (the kept one);
// a B advocate keeps B's friend discount after the end (afterTest). See
// docs/program.md.
type Policy struct {
	Store Arms
}

// Shape implements referrals.OfferPolicy.
func (pol *Policy) Shape(ctx context.Context, shop *app.Shop, p app.Program, adv *app.Advocate, at time.Time) (app.Program, app.OfferSource, error) {
	if adv == nil || adv.ID == 0 {
		return p, app.OfferSource{}, nil
	}
	t, joined, err := pol.Store.TestsAt(ctx, shop.ID, at, adv.CreatedAt)
	if err != nil {
		return p, app.OfferSource{}, fmt.Errorf("A/B test in force: %w", err)
	}
	if t == nil || joined == nil || t.ID != joined.ID {
		return pol.afterTest(ctx, p, adv, joined)
	}
	arm, err := pol.Store.Arm(ctx, t.ID, adv.ID)
	if err != nil {
		return p, app.OfferSource{}, fmt.Errorf("arm of advocate %d: %w", adv.ID, err)
	}
	if arm == "" {
		if arm, err = pol.Store.SetArm(ctx, t, adv.ID, Assign(t.Key(), adv.ID, t.Share())); err != nil {
			return p, app.OfferSource{}, fmt.Errorf("assign advocate %d to an arm: %w", adv.ID, err)
		}
	}
	return t.Apply(p, arm), app.OfferSource{Arm: string(arm)}, nil
}

// afterTest is the program for an advocate outside the test in force (if
// any), t being the test they joined during: an advocate of an earlier,
// ended test who was in B keeps B's friend
// discount (their friend code carries it in the store, and their friends
// hold the link), so the popup keeps telling the truth about it; their
// reward is the program's, like everyone's after the end.
func (pol *Policy) afterTest(ctx context.Context, p app.Program, adv *app.Advocate, t *Test) (app.Program, app.OfferSource, error) {
	if t == nil || t.Running() || t.FriendB == nil {
		return p, app.OfferSource{}, nil
	}
	arm, err := pol.Store.Arm(ctx, t.ID, adv.ID)
	if err != nil {
		return p, app.OfferSource{}, fmt.Errorf("arm of advocate %d: %w", adv.ID, err)
	}
	if arm == ArmB {
		p.FriendKind, p.FriendPercent, p.FriendAmountMinor = t.FriendB.Kind, t.FriendB.Percent, t.FriendB.AmountMinor
	}
	return p, app.OfferSource{}, nil
}

// Store is the storage the A/B test use cases need.
type Store interface {
	Arms
	// Start records a running test (sets its ID and StartedAt); ECONFLICT
	// when the shop already runs one.
	Start(ctx context.Context, t *Test) error
	// Test is one of the shop's tests; ENOTFOUND for another shop's.
	Test(ctx context.Context, shopID, id int64) (*Test, error)
	// Tests are the shop's tests, newest first.
	Tests(ctx context.Context, shopID int64, limit int) ([]Test, error)
	// Counts are each arm's figures over the test's window.
	Counts(ctx context.Context, t *Test) (a, b Counts, err error)
	// End ends a running test with the arm kept (ECONFLICT when it has
	// ended already) and, when program is not nil, writes its offer into
	// the shop's program in the same transaction.
	End(ctx context.Context, t *Test, kept, winner Arm, final Result, program *app.Program) error
}

// Programs reads a shop's program.
type Programs interface {
	Program(ctx context.Context, shop *app.Shop) (app.Program, error)
}

// Service runs the merchant's A/B tests.
type Service struct {
	Store    Store
	Programs Programs
}

// Results are a test and what its arms say so far.
type Results struct {
	Test   Test
	Result Result
}

// Start starts a test of arm B against the standing offer. One test runs at
// a time per shop.
func (s *Service) Start(ctx context.Context, shop *app.Shop, t Test) (*Test, error) {
	p, err := s.Programs.Program(ctx, shop)
	if err != nil {
		return nil, err
	}
	if err := t.Validate(p); err != nil {
		return nil, err
	}
	t.ID, t.ShopID, t.EndedAt, t.Winner, t.Kept = 0, shop.ID, nil, "", ""
	t.OfferA = OfferPair{Friend: p.FriendOffer(), Reward: p.RewardOffer()}
	if err := s.Store.Start(ctx, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Running is the shop's running test, or nil.
func (s *Service) Running(ctx context.Context, shop *app.Shop) (*Test, error) {
	list, err := s.Store.Tests(ctx, shop.ID, 1)
	if err != nil || len(list) == 0 || !list[0].Running() {
		return nil, err
	}
	return &list[0], nil
}

// List is the shop's tests, the running one first, then newest first.
func (s *Service) List(ctx context.Context, shop *app.Shop, limit int) ([]Test, error) {
	return s.Store.Tests(ctx, shop.ID, limit)
}

// Results judges the test's arms on its goal.
func (s *Service) Results(ctx context.Context, shop *app.Shop, id int64) (*Results, error) {
	t, err := s.Store.Test(ctx, shop.ID, id)
	if err != nil {
		return nil, err
	}
	return s.judge(ctx, t)
}

func (s *Service) judge(ctx context.Context, t *Test) (*Results, error) {
	a, b, err := s.Store.Counts(ctx, t)
	if err != nil {
		return nil, err
	}
	r, err := Judge(t.Goal, a, b)
	if err != nil {
		return nil, fmt.Errorf("judge test %d: %w", t.ID, err)
	}
	return &Results{Test: *t, Result: r}, nil
}

// End ends the running test and keeps an arm. Keeping B writes B's offer
// into the program: from then on every new advocate and every friend's
// order gets it. Keeping A leaves the program as it is. Either way a B
// advocate's friend code keeps the discount it was made with (it is in the
// store and in the links the advocate shared), and referrals already made
// keep the reward stored with them.
func (s *Service) End(ctx context.Context, shop *app.Shop, id int64, keep Arm) (*Results, error) {
	if keep != ArmA && keep != ArmB {
		return nil, app.Errorf(app.EINVALID, `keep must be "A" (the standing offer) or "B"`)
	}
	t, err := s.Store.Test(ctx, shop.ID, id)
	if err != nil {
		return nil, err
	}
	if !t.Running() {
		return nil, app.Errorf(app.ECONFLICT, "this A/B test has already ended")
	}
	res, err := s.judge(ctx, t)
	if err != nil {
		return nil, err
	}
	var program *app.Program
	if keep == ArmB {
		p, err := s.Programs.Program(ctx, shop)
		if err != nil {
			return nil, err
		}
		p = t.Apply(p, ArmB)
		if err := p.Validate(); err != nil {
			return nil, err
		}
		program = &p
	}
	if err := s.Store.End(ctx, t, keep, res.Result.Winner, res.Result, program); err != nil {
		return nil, err
	}
	ended, err := s.Store.Test(ctx, shop.ID, id)
	if err != nil {
		return nil, err
	}
	res.Test = *ended
	return res, nil
}
