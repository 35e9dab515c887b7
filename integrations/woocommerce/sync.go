package woocommerce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Webhook is a wc/v3 webhook.
type Webhook struct {
	ID          int64  `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Status      string `json:"status,omitempty"`
	Topic       string `json:"topic"`
	DeliveryURL string `json:"delivery_url"`
	Secret      string `json:"secret,omitempty"`
}

// SubscribedTopics are the order topics Parrain needs.
var SubscribedTopics = []string{TopicOrderCreated, TopicOrderUpdated, TopicOrderDeleted}

// EnsureWebhooks makes the store deliver every subscribed topic to
// deliveryURL with our secret: missing webhooks are created, and webhooks
// WooCommerce disabled after failed deliveries (it never retries, and gives
// up after a few failures) are set active again. It returns the topics it
// created and re-enabled.
func (c *Client) EnsureWebhooks(ctx context.Context, deliveryURL, secret string) (created, reenabled []string, err error) {
	var existing []Webhook
	if _, err := c.do(ctx, http.MethodGet, "/webhooks", url.Values{"per_page": {"100"}}, nil, &existing); err != nil {
		return nil, nil, fmt.Errorf("list webhooks: %w", err)
	}
	for _, topic := range SubscribedTopics {
		var found *Webhook
		for i := range existing {
			if existing[i].Topic == topic && existing[i].DeliveryURL == deliveryURL {
				found = &existing[i]
				break
			}
		}
		switch {
		case found == nil:
			in := Webhook{Name: "Parrain " + topic, Topic: topic, DeliveryURL: deliveryURL, Secret: secret}
			if _, err := c.do(ctx, http.MethodPost, "/webhooks", nil, in, &Webhook{}); err != nil {
				return created, reenabled, fmt.Errorf("create webhook %s: %w", topic, err)
			}
			created = append(created, topic)
		case found.Status != "active":
			if _, err := c.do(ctx, http.MethodPut, "/webhooks/"+strconv.FormatInt(found.ID, 10), nil, map[string]string{"status": "active"}, nil); err != nil {
				return created, reenabled, fmt.Errorf("re-enable webhook %s: %w", topic, err)
			}
			reenabled = append(reenabled, topic)
		}
	}
	return created, reenabled, nil
}

// OrdersModifiedAfter lists the orders changed since a time (the
// reconciliation poll), page by page; each is a raw order body.
func (c *Client) OrdersModifiedAfter(ctx context.Context, since time.Time) ([]json.RawMessage, error) {
	var all []json.RawMessage
	for page := 1; page <= 50; page++ {
		var batch []json.RawMessage
		h, err := c.do(ctx, http.MethodGet, "/orders", url.Values{
			"modified_after": {since.UTC().Format("2006-01-02T15:04:05")}, "dates_are_gmt": {"true"},
			"per_page": {"100"}, "page": {strconv.Itoa(page)}, "orderby": {"modified"}, "order": {"asc"},
		}, nil, &batch)
		if err != nil {
			return all, fmt.Errorf("poll orders: %w", err)
		}
		all = append(all, batch...)
		pages, _ := strconv.Atoi(h.Get("X-WP-TotalPages"))
		if page >= pages || len(batch) == 0 {
			break
		}
	}
	return all, nil
}
