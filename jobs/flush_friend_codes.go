package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app/friendcodes"
)

// TypeFlushFriendCodes puts a shop's waiting friend codes in its store by
// batches (app/friendcodes).
const TypeFlushFriendCodes = "friendcodes:flush"

// FriendCodesWindow is how long new codes gather before a flush: long
// enough to fill a batch in a burst, short next to the seconds the store
// takes to add them.
const FriendCodesWindow = time.Second

// FlushFriendCodesPayload names the shop.
type FlushFriendCodesPayload struct {
	ShopID int64 `json:"shop_id"`
}

// NewFlushFriendCodesTask returns the shop's flush, due after the window.
// Its id is the shop and the window it was asked in: every code of one
// window shares one job, and a code that arrives while a flush runs (its
// window long past) gets a new one, so none waits for the sweep. Two
// flushes of a shop may overlap; the batches' leases keep them apart.
func NewFlushFriendCodesTask(shopID int64, now time.Time) *asynq.Task {
	b, _ := json.Marshal(FlushFriendCodesPayload{ShopID: shopID})
	id := "friendcodes:" + strconv.FormatInt(shopID, 10) + ":" + strconv.FormatInt(flushWindow(now), 10)
	return asynq.NewTask(TypeFlushFriendCodes, b, asynq.TaskID(id), asynq.Queue(QueueDefault), asynq.MaxRetry(25),
		asynq.Timeout(time.Minute), asynq.ProcessIn(FriendCodesWindow))
}

// FriendCodeQueue queues flushes; it implements referrals.FriendCodeQueue.
type FriendCodeQueue struct {
	Queue Enqueuer
	Now   func() time.Time
	// Queued, when set, remembers the windows this process has queued a
	// flush for, so a burst asks Redis once a window per shop instead of
	// once a code. The answer is the same: the window's job runs a full
	// window after it was queued, so after every code of its window.
	Queued *FlushWindows
}

// FlushWindows is the last flush window queued for each shop.
type FlushWindows struct {
	mu   sync.Mutex
	last map[int64]int64
}

// queued reports whether this process queued the shop's flush for window w.
func (f *FlushWindows) queued(shopID, w int64) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	last, ok := f.last[shopID]
	return ok && last == w
}

// mark records the shop's flush for window w as queued.
func (f *FlushWindows) mark(shopID, w int64) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		f.last = map[int64]int64{}
	}
	f.last[shopID] = w
}

// FlushFriendCodes queues the shop's flush; one already queued for this
// window is enough.
func (q FriendCodeQueue) FlushFriendCodes(ctx context.Context, shopID int64) error {
	now := q.Now()
	w := flushWindow(now)
	if q.Queued.queued(shopID, w) {
		return nil
	}
	_, err := q.Queue.EnqueueContext(ctx, NewFlushFriendCodesTask(shopID, now))
	if err == nil || errors.Is(err, asynq.ErrTaskIDConflict) {
		q.Queued.mark(shopID, w)
		return nil
	}
	return err
}

// flushWindow numbers the window a flush is asked in.
func flushWindow(now time.Time) int64 { return now.UnixMilli() / FriendCodesWindow.Milliseconds() }

// FlushFriendCodes handles TypeFlushFriendCodes. Safe to retry and to run
// twice at once: see app/friendcodes.
type FlushFriendCodes struct {
	Flusher *friendcodes.Flusher
	Queue   FriendCodeQueue
}

// ProcessTask implements asynq.Handler.
func (h *FlushFriendCodes) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p FlushFriendCodesPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ShopID <= 0 {
		return fmt.Errorf("flush friend codes: bad payload: %v: %w", err, asynq.SkipRetry)
	}
	err := h.Flusher.Flush(ctx, p.ShopID)
	if errors.Is(err, friendcodes.ErrMore) {
		// The run's time is up with codes still waiting: the rest in a
		// new job, behind other shops' work.
		return h.Queue.FlushFriendCodes(ctx, p.ShopID)
	}
	return err
}

// WaitingFriendCodes lists shops whose friend codes wait without a job.
type WaitingFriendCodes interface {
	ShopsWithWaitingCodes(ctx context.Context, before time.Time, limit int) ([]int64, error)
}
