// Package jobs holds Parrain's background work, run by asynq: one task per
// file (type, payload, constructor, handler), the queues and their
// priorities, and the relay that guarantees every stored webhook gets a job.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/metrics"
	"github.com/parrain/parrain/integrations/shopify"
)

// Queues and their priorities: webhooks first (a merchant's customers are
// waiting for codes), then install bookkeeping, then periodic maintenance.
const (
	// QueueWebhooks held every webhook job before lanes; still served, so
	// jobs queued by an older release run.
	QueueWebhooks    = "webhooks"
	QueueDefault     = "default"
	QueueMaintenance = "maintenance"
)

// WebhookLanes is how many queues webhook jobs are spread over, by shop.
// asynq picks, for each task it takes, among the non-empty queues at random
// by weight, so equal lanes interleave shops: a shop with 5,000 events
// queued gets its lane's share, not every worker, and another shop's order
// waits for one task of each busy lane, not for the whole backlog. Two
// shops share a lane only when their ids are congruent modulo the count.
const WebhookLanes = 16

// WebhookQueue is the lane of a shop's webhook jobs.
func WebhookQueue(shopID int64) string {
	if shopID <= 0 {
		return QueueWebhooks
	}
	return QueueWebhooks + ":" + strconv.FormatInt(shopID%WebhookLanes, 10)
}

// QueuePriorities is the weighted priority of each queue: every webhook
// lane weighs what the single webhooks queue weighed, so against install
// and maintenance work a busy lane competes as before.
var QueuePriorities = func() map[string]int {
	q := map[string]int{QueueWebhooks: 6, QueueDefault: 3, QueueMaintenance: 1}
	for i := range WebhookLanes {
		q[WebhookQueue(int64(WebhookLanes+i))] = 6
	}
	return q
}()

// NewServer returns an asynq server with Parrain's queues, retry policy and
// logging. ShutdownTimeout bounds how long in-flight jobs may run after a stop
// signal; jobs still running then are handed back to the queue, which is safe
// because every handler is idempotent.
func NewServer(redis asynq.RedisConnOpt, concurrency int, shutdown time.Duration, logger *slog.Logger) *asynq.Server {
	return asynq.NewServer(redis, asynq.Config{
		Concurrency: concurrency,
		Queues:      QueuePriorities,
		// asynq looks for new tasks once a second when its queues are
		// empty, which was most of the time from a webhook to its referral
		// (p50 0.9 s, p99 1.5 s at rest). Every 50 ms costs an idle worker
		// about 20 cheap Redis calls a second and makes detection sub-second.
		TaskCheckInterval: 50 * time.Millisecond,
		// Retries and scheduled tasks (a throttled call's wait) are moved
		// to their queue every second instead of every five.
		DelayedTaskCheckInterval: time.Second,
		ShutdownTimeout:          shutdown,
		RetryDelayFunc:           retryDelay,
		IsFailure:                isFailure,
		Logger:                   asynqLogger{logger},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			logger.Warn("job failed", "type", t.Type(), "error", err.Error())
		}),
	})
}

// delayedRetry is an error that says when to try again: Shopify's
// throttling and budget (shopify.RetryError), a store's 429 Retry-After
// (woocommerce.APIError), a store's concurrency cap (storebudget.Deferred).
type delayedRetry interface{ RetryDelay() time.Duration }

func askedDelay(err error) time.Duration {
	var dr delayedRetry
	if errors.As(err, &dr) {
		return dr.RetryDelay()
	}
	return 0
}

// retryDelay honours the delay a platform asked for (throttling); other
// errors back off exponentially.
func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	if d := askedDelay(err); d > 0 {
		return d
	}
	var bo interface{ BackoffDelay(n int) time.Duration }
	if errors.As(err, &bo) {
		// A failure with its own backoff (an SMTP server's 4xx).
		return bo.BackoffDelay(n)
	}
	if errors.Is(err, asynq.ErrLeaseExpired) {
		// The worker running it died: resume at once; handlers are
		// idempotent, which is what makes this safe.
		return time.Second
	}
	if app.ErrorCode(err) == app.EUNAVAILABLE {
		// A dependency is down or a precondition is not met yet (shop not
		// synced): come back soon, a few seconds more each time.
		return time.Duration(5*min(n+1, 12)) * time.Second
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// isFailure keeps throttling out of the failure count: being asked to slow
// down is not the job failing.
func isFailure(err error) bool {
	var re *shopify.RetryError
	return !errors.As(err, &re) && askedDelay(err) <= 0
}

// Instrument counts job runs and failures and gives each job a logger with
// its type and task id.
func Instrument(logger *slog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			id, _ := asynq.GetTaskID(ctx)
			ctx = logging.With(ctx, logger.With("job", t.Type(), "task_id", id))
			metrics.JobsRun.WithLabelValues(t.Type()).Inc()
			err := next.ProcessTask(ctx, t)
			if err != nil {
				metrics.JobsFailed.WithLabelValues(t.Type()).Inc()
			}
			return err
		})
	}
}

type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug("asynq", "msg", args) }
func (a asynqLogger) Info(args ...any)  { a.l.Info("asynq", "msg", args) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn("asynq", "msg", args) }
func (a asynqLogger) Error(args ...any) { a.l.Error("asynq", "msg", args) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error("asynq fatal", "msg", args) }
