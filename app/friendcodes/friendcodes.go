// Package friendcodes is the batching stage of friend codes (issue 12): a
// new advocate's friend code is written as a pending row at once (the
// popup and the /r/ link work from that moment), and a flush job puts the
// waiting codes of one offer in the store by batches (Shopify: the redeem
// codes of one discount per offer, discountRedeemCodeBulkAdd; WooCommerce:
// coupons/batch), through app.StorePlatform.
//
// Nothing lost, nothing doubled. Every code is a row whose state says
// where it is: pending (waiting), creating (in a batch), created, failed.
// A batch is a row too, leased to one worker at a time; it is marked sent
// before it goes to the store, and the store's bulk operation is recorded
// as soon as the store names it. A worker that dies leaves a batch whose
// lease runs out; the next worker learns what the previous one did before
// doing anything: it follows the recorded operation, or, when the batch
// was sent but no operation was recorded (died between the store's answer
// and the commit), it sends the same codes again, which the store answers
// code by code with "already there" (the adapter then reports each with
// the discount that holds it): no code is added twice. A throttled or
// budget-deferred call leaves the batch as it was and the job comes back
// when the store's points are there. Codes the store neither created nor
// refused go back to pending for the next batch.
package friendcodes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
)

// Batch is a set of one offer's codes on their way to the store.
type Batch struct {
	ID        int64
	ShopID    int64
	OfferID   int64
	Offer     app.FriendOffer
	Operation string
	// Sent is true once the batch may have reached the store.
	Sent  bool
	Codes []string
}

// Repo is the storage the stage needs (app/postgres).
type Repo interface {
	// NextBatch leases the shop's oldest unfinished batch whose lease has
	// run out, else makes a new one of at most limit pending codes of one
	// offer; nil when nothing waits.
	NextBatch(ctx context.Context, shopID int64, limit int, lease time.Duration) (*Batch, error)
	// MarkSent records that the batch may reach the store.
	MarkSent(ctx context.Context, batchID int64) error
	// SetOfferRef records the store's discount of an offer.
	SetOfferRef(ctx context.Context, offerID int64, ref string) error
	// SetOperation records the store's bulk operation of a batch.
	SetOperation(ctx context.Context, batchID int64, op string) error
	// RecordOutcomes marks the batch's codes created (with their store
	// reference) or failed (with the store's message).
	RecordOutcomes(ctx context.Context, batchID int64, outcomes []app.CodeOutcome) error
	// FinishBatch closes the batch; its codes still creating go back to
	// pending.
	FinishBatch(ctx context.Context, batchID int64) error
	// ReleaseBatch ends this worker's lease early (it stops for now).
	ReleaseBatch(ctx context.Context, batchID int64) error
}

// Flusher puts a shop's waiting friend codes in its store.
type Flusher struct {
	Repo  Repo
	Store app.StorePlatform
	Shops interface {
		ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	}
	// Poll is the wait between two looks at a running bulk operation
	// (default 250 ms); Follow is how long one run follows it before the
	// job comes back later (default 1 s). A worker waiting on the store
	// is a worker other shops' webhooks do not get: with a 10 s follow, a
	// burst of batches held most workers and another shop's orders waited
	// for minutes; the batch keeps its operation, so the next run resumes.
	Poll, Follow time.Duration
	// Lease is how long a batch is this worker's (default 30 s): a dead
	// worker's batch is taken over after it.
	Lease time.Duration
	// Budget bounds one run (default 5 s): the job is queued again for
	// what is left, so other shops' jobs get their turn.
	Budget time.Duration
	// AfterSend, when set, runs right after a batch went to the store and
	// before its operation is recorded: crash tests kill the worker there.
	AfterSend func()
}

// ErrMore means the run stopped with codes still waiting: queue it again.
var ErrMore = errors.New("friend codes still waiting")

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Flush sends the shop's waiting codes by batches until none waits (nil)
// or the run's budget is spent (ErrMore). A store error (throttled, budget
// deferred, unreachable) returns with the batch released as it was.
func (f *Flusher) Flush(ctx context.Context, shopID int64) error {
	shop, err := f.Shops.ShopByID(ctx, shopID)
	if err != nil {
		return err
	}
	if shop.Status != app.ShopInstalled {
		return nil // no token to call the store with; the codes wait for a reinstall
	}
	limit := f.Store.FriendBatchLimit(shop)
	end := time.Now().Add(or(f.Budget, 5*time.Second))
	for {
		if time.Now().After(end) {
			return ErrMore
		}
		b, err := f.Repo.NextBatch(ctx, shopID, limit, or(f.Lease, 30*time.Second))
		if err != nil || b == nil {
			return err
		}
		if err := f.run(ctx, shop, b); err != nil {
			if rerr := f.Repo.ReleaseBatch(context.WithoutCancel(ctx), b.ID); rerr != nil {
				logging.From(ctx).Warn("release friend code batch", "batch", b.ID, "error", rerr.Error())
			}
			return fmt.Errorf("friend code batch %d of shop %d: %w", b.ID, shopID, err)
		}
	}
}

// run takes one leased batch to its end.
func (f *Flusher) run(ctx context.Context, shop *app.Shop, b *Batch) error {
	if len(b.Codes) == 0 {
		return f.Repo.FinishBatch(ctx, b.ID)
	}
	var res app.BulkAdd
	var err error
	if b.Operation != "" {
		// Sent before and followed: ask the store where it is.
		res, err = f.Store.FriendCodesAdded(ctx, shop, b.Offer, b.Operation, b.Codes)
	} else {
		// Never sent, or sent without a recorded answer: (again) with the
		// same codes; the store reports those it already holds.
		if !b.Sent {
			if err := f.Repo.MarkSent(ctx, b.ID); err != nil {
				return err
			}
		}
		res, err = f.Store.AddFriendCodes(ctx, shop, b.Offer, b.Codes)
		if res.OfferRef != "" && res.OfferRef != b.Offer.Ref {
			// Kept even when the rest of the call failed: the discount
			// exists, and the retry must add to it, not make another.
			if serr := f.Repo.SetOfferRef(ctx, b.OfferID, res.OfferRef); serr != nil && err == nil {
				err = serr
			}
			b.Offer.Ref = res.OfferRef
		}
		if err == nil && f.AfterSend != nil {
			f.AfterSend()
		}
		if err == nil && res.Operation != "" {
			err = f.Repo.SetOperation(ctx, b.ID, res.Operation)
			b.Operation = res.Operation
		}
	}
	if len(res.Codes) > 0 {
		if rerr := f.Repo.RecordOutcomes(ctx, b.ID, res.Codes); rerr != nil && err == nil {
			err = rerr
		}
	}
	if app.ErrorCode(err) == app.EINVALID && b.Operation == "" {
		// The store refused the batch itself (not a code of it): every
		// code of it fails with the store's message, for support to see.
		out := make([]app.CodeOutcome, len(b.Codes))
		for i, c := range b.Codes {
			out[i] = app.CodeOutcome{Code: c, Err: app.ErrorMessage(err)}
		}
		if rerr := f.Repo.RecordOutcomes(ctx, b.ID, out); rerr != nil {
			return rerr
		}
		return f.Repo.FinishBatch(ctx, b.ID)
	}
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(or(f.Follow, time.Second)); !res.Done; {
		if time.Now().After(deadline) {
			return &retryLater{Delay: time.Second, Err: fmt.Errorf("bulk operation %s still running", b.Operation)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(or(f.Poll, 250*time.Millisecond)):
		}
		if res, err = f.Store.FriendCodesAdded(ctx, shop, b.Offer, b.Operation, b.Codes); err != nil {
			return err
		}
	}
	if err := f.Repo.RecordOutcomes(ctx, b.ID, res.Codes); err != nil {
		return err
	}
	return f.Repo.FinishBatch(ctx, b.ID)
}

// retryLater asks the job queue to come back after Delay without counting
// a failure.
type retryLater struct {
	Delay time.Duration
	Err   error
}

func (e *retryLater) Error() string             { return fmt.Sprintf("retry after %s: %v", e.Delay, e.Err) }
func (e *retryLater) Unwrap() error             { return e.Err }
func (e *retryLater) RetryDelay() time.Duration { return e.Delay }
