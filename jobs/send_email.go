package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app/email"
)

// TypeSendEmail sends one outbox row (app/email.Service.Send).
const TypeSendEmail = "email:send"

// emailMaxRetry with emailRetryCap keeps a message that the server keeps
// refusing for a while (4xx, timeouts) trying for about a day.
const (
	emailMaxRetry = 16
	emailRetryCap = 2 * time.Hour
)

// SendEmailPayload names the outbox row.
type SendEmailPayload struct {
	OutboxID int64 `json:"outbox_id"`
}

// NewSendEmailTask returns the job; its id comes from the outbox row, so
// offering a row twice queues it once.
func NewSendEmailTask(outboxID int64) *asynq.Task {
	b, _ := json.Marshal(SendEmailPayload{OutboxID: outboxID})
	return asynq.NewTask(TypeSendEmail, b, asynq.TaskID(emailTaskID(outboxID)), asynq.Queue(QueueDefault),
		asynq.MaxRetry(emailMaxRetry), asynq.Timeout(time.Minute))
}

func emailTaskID(id int64) string { return "email:" + strconv.FormatInt(id, 10) }

// EmailSender sends one outbox row; email.Service implements it.
type EmailSender interface {
	Send(ctx context.Context, id int64, final bool) error
}

// SendEmail handles TypeSendEmail.
type SendEmail struct {
	Emails EmailSender
	// RetryBase is the first retry's delay after a temporary failure;
	// each next one doubles, up to two hours.
	RetryBase time.Duration
}

// ProcessTask implements asynq.Handler.
func (h *SendEmail) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p SendEmailPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.OutboxID <= 0 {
		return fmt.Errorf("send email: bad payload: %v: %w", err, asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	final := ok && retried >= maxRetry
	err := h.Emails.Send(ctx, p.OutboxID, final)
	var de *email.DeliveryError
	if errors.As(err, &de) && !de.Permanent {
		return &backoffError{err: err, base: h.RetryBase}
	}
	return err
}

// backoffError asks for an exponential delay from its own base: the SMTP
// server said "later" (4xx) or did not answer.
type backoffError struct {
	err  error
	base time.Duration
}

func (e *backoffError) Error() string { return e.err.Error() }
func (e *backoffError) Unwrap() error { return e.err }

// BackoffDelay is the delay before retry n (0-based).
func (e *backoffError) BackoffDelay(n int) time.Duration {
	base := e.base
	if base <= 0 {
		base = 30 * time.Second
	}
	d := base << min(n, 20)
	if d <= 0 || d > emailRetryCap {
		return emailRetryCap
	}
	return d
}

// EmailQueue queues send jobs.
type EmailQueue struct{ Queue Enqueuer }

// EnqueueEmail queues the row's job; one already there (queued, retrying
// or done) is left as it is.
func (q EmailQueue) EnqueueEmail(ctx context.Context, id int64) error {
	_, err := q.Queue.EnqueueContext(ctx, NewSendEmailTask(id))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// QueuedEmails hands out queued outbox rows not offered recently.
type QueuedEmails interface {
	OfferQueued(ctx context.Context, revisit time.Duration, limit int) ([]int64, error)
}

// EmailRelay hands every queued outbox row to the send job: rows are
// written by the transactions that decide them (in the engine, the
// scheduled jobs, the console) and this is the one place that queues
// them. A row whose job Redis lost is offered again after Revisit.
type EmailRelay struct {
	Store    QueuedEmails
	Queue    EmailQueue
	Interval time.Duration
	Revisit  time.Duration
	Log      *slog.Logger
}

// Run offers queued rows every Interval until ctx is done.
func (r *EmailRelay) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		if _, err := r.Once(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("email relay", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once offers one batch and returns how many rows it queued.
func (r *EmailRelay) Once(ctx context.Context) (int, error) {
	n := 0
	for {
		ids, err := r.Store.OfferQueued(ctx, r.Revisit, 500)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if err := r.Queue.EnqueueEmail(ctx, id); err != nil {
				return n, err // offered again after Revisit
			}
			n++
		}
		if len(ids) < 500 {
			return n, nil
		}
	}
}

// TypeScheduleEmails decides the share reminders and reward-expiring
// messages due now.
const TypeScheduleEmails = "email:schedule"

// ScheduleEmailsCron is its schedule.
const ScheduleEmailsCron = "@every 10m"

// NewScheduleEmailsTask returns the periodic job.
func NewScheduleEmailsTask() *asynq.Task {
	return asynq.NewTask(TypeScheduleEmails, nil, asynq.Queue(QueueMaintenance), asynq.MaxRetry(0), asynq.Unique(5*time.Minute))
}

// EmailScheduler writes the due scheduled messages to the outbox.
type EmailScheduler interface {
	ScheduleReminders(ctx context.Context, now time.Time) (int64, error)
	ScheduleExpiring(ctx context.Context, now time.Time) (int64, error)
}

// ScheduleEmails handles TypeScheduleEmails. Idempotent: each message is
// keyed by its subject (one reminder per advocate, one expiring notice
// per reward).
type ScheduleEmails struct {
	Store EmailScheduler
	Now   func() time.Time
}

// ProcessTask implements asynq.Handler.
func (h *ScheduleEmails) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	now := h.Now()
	if _, err := h.Store.ScheduleReminders(ctx, now); err != nil {
		return err
	}
	_, err := h.Store.ScheduleExpiring(ctx, now)
	return err
}
