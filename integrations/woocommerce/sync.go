package woocommerce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/parrain/parrain/app"
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
// deliveryURL signed with secret. Missing webhooks are created. A webhook
// the store disabled after failed deliveries is deleted and created again:
// setting it active keeps its failure count (woocommerce.md §9), so one more
// failure would disable it again, while a new webhook starts at 0 (and is
// pinged); deliveries the store still had queued for the old one are caught
// by the poll. A webhook the merchant paused is left paused. With
// syncSecret, the existing webhooks are given secret (WooCommerce takes
// secret on update), for webhooks created by an earlier install whose
// secret Parrain no longer knows. It returns the topics it created and
// recreated.
func (c *Client) EnsureWebhooks(ctx context.Context, deliveryURL, secret string, syncSecret bool) (created, recreated []string, err error) {
	var existing []Webhook
	if _, err := c.do(ctx, http.MethodGet, "/webhooks", url.Values{"per_page": {"100"}}, nil, &existing); err != nil {
		return nil, nil, fmt.Errorf("list webhooks: %w", err)
	}
	create := func(topic string) error {
		in := Webhook{Name: "Parrain " + topic, Topic: topic, DeliveryURL: deliveryURL, Secret: secret}
		if _, err := c.do(ctx, http.MethodPost, "/webhooks", nil, in, &Webhook{}); err != nil {
			return fmt.Errorf("create webhook %s: %w", topic, err)
		}
		return nil
	}
	for _, topic := range SubscribedTopics {
		var found *Webhook
		for i := range existing {
			if existing[i].Topic == topic && existing[i].DeliveryURL == deliveryURL {
				found = &existing[i]
				break
			}
		}
		path := ""
		if found != nil {
			path = "/webhooks/" + strconv.FormatInt(found.ID, 10)
		}
		switch {
		case found == nil:
			if err := create(topic); err != nil {
				return created, recreated, err
			}
			created = append(created, topic)
		case found.Status == "disabled":
			if _, err := c.do(ctx, http.MethodDelete, path, url.Values{"force": {"true"}}, nil, nil); err != nil && app.ErrorCode(err) != app.ENOTFOUND {
				return created, recreated, fmt.Errorf("delete disabled webhook %s: %w", topic, err)
			}
			if err := create(topic); err != nil {
				return created, recreated, err
			}
			recreated = append(recreated, topic)
		case syncSecret:
			if _, err := c.do(ctx, http.MethodPut, path, nil, map[string]string{"secret": secret}, nil); err != nil {
				return created, recreated, fmt.Errorf("give webhook %s its secret: %w", topic, err)
			}
		}
	}
	return created, recreated, nil
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
