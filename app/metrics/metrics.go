// Package metrics declares Parrain's Prometheus metrics. They are registered
// once, on the default registry, and served at /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	// HTTPRequests counts requests by route template (never the raw path,
	// which would carry ids and explode cardinality), method and status.
	HTTPRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "parrain_http_requests_total", Help: "HTTP requests by route template, method and status.",
	}, []string{"route", "method", "status"})

	// HTTPDuration observes request latency by route template.
	HTTPDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parrain_http_request_duration_seconds",
		Help:    "HTTP request latency by route template.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method"})

	// WebhooksReceived counts webhook deliveries stored as new events.
	WebhooksReceived = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "parrain_webhooks_received_total", Help: "Webhook deliveries stored as new events.",
	}, []string{"platform", "topic"})

	// WebhooksDuplicate counts deliveries of events already stored.
	WebhooksDuplicate = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "parrain_webhooks_duplicate_total", Help: "Webhook deliveries of events already stored (no-ops).",
	}, []string{"platform", "topic"})

	// WebhooksRejected counts deliveries refused, by reason.
	WebhooksRejected = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "parrain_webhooks_rejected_total", Help: "Webhook deliveries refused, by reason.",
	}, []string{"platform", "reason"})

	// WebhooksIgnored counts authentic deliveries answered 200 and not
	// stored: WooCommerce counts any other answer as a failure and
	// disables the webhook after a few (woocommerce.md §9).
	WebhooksIgnored = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "parrain_webhooks_ignored_total", Help: "Authentic webhook deliveries that carry nothing to store (answered 200), by reason.",
	}, []string{"platform", "reason"})

	// WebhooksRelayed counts stored events enqueued by the relay rather
	// than right after intake.
	WebhooksRelayed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "parrain_webhooks_relayed_total", Help: "Stored webhook events enqueued by the relay.",
	})

	// WebhookInsertBatch observes how many deliveries shared one insert
	// (one commit) in the group-commit stage.
	WebhookInsertBatch = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "parrain_webhook_insert_batch_size",
		Help:    "Webhook events written per INSERT (and per commit).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
	})

	// JobsRun counts job executions by task type and outcome.
	JobsRun = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "parrain_jobs_run_total", Help: "Job executions by task type.",
	}, []string{"type"})

	// JobsFailed counts failed job executions by task type.
	JobsFailed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "parrain_jobs_failed_total", Help: "Failed job executions by task type.",
	}, []string{"type"})
)
