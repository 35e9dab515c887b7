package shopifysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// graphql answers the Admin GraphQL operations the app uses. There is no
// GraphQL parser: an operation is recognised by its root field, and answered
// in the real response shape, with the cost extension on every response.
func (s *Simulator) graphql(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.Query == "" {
		writeJSONError(w, 400, `{"errors":{"query":"Required parameter missing or invalid"}}`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, _ := s.shopOf(r)
	if sh == nil {
		writeJSONError(w, 404, `{"errors":"Not Found"}`)
		return
	}
	exp, ok := sh.access[r.Header.Get("X-Shopify-Access-Token")]
	if !ok || (!exp.IsZero() && s.cfg.Now().After(exp)) {
		writeJSONError(w, 401, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	if sh.failNext > 0 {
		sh.failNext--
		writeJSONError(w, 503, `{"errors":"Service Unavailable"}`)
		return
	}
	op, cost := operation(req.Query)
	// Leaky bucket (shopify.md §5): restore since the last call, then
	// charge the requested cost or refuse with THROTTLED.
	now := s.cfg.Now()
	sh.bucket = min(s.cfg.GraphQLBucket, sh.bucket+now.Sub(sh.bucketAt).Seconds()*s.cfg.GraphQLRestore)
	sh.bucketAt = now
	ext := func(actual float64) map[string]any {
		return map[string]any{"cost": map[string]any{
			"requestedQueryCost": cost, "actualQueryCost": actual,
			"throttleStatus": map[string]any{"maximumAvailable": s.cfg.GraphQLBucket, "currentlyAvailable": sh.bucket, "restoreRate": s.cfg.GraphQLRestore},
		}}
	}
	w.Header().Set("Content-Type", "application/json")
	if sh.throttle > 0 {
		sh.throttle--
		sh.bucket = 0
	}
	if cost > sh.bucket {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"errors":     []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
			"extensions": ext(0),
		})
		return
	}
	sh.bucket -= cost
	var data any
	var err error
	switch op {
	case "shop":
		data = map[string]any{"shop": map[string]any{
			"id": fmt.Sprintf("gid://shopify/Shop/%d", sh.info.ID), "name": sh.info.Name, "email": sh.info.Email,
			"currencyCode": sh.info.CurrencyCode, "ianaTimezone": sh.info.IanaTimezone, "myshopifyDomain": sh.domain,
			"plan": map[string]any{"displayName": sh.info.PlanDisplayName, "partnerDevelopment": false, "shopifyPlus": false},
		}}
	case "webhookSubscriptions":
		nodes := []any{}
		for _, sub := range sh.subs {
			nodes = append(nodes, subNode(sub))
		}
		data = map[string]any{"webhookSubscriptions": map[string]any{"nodes": nodes}}
	case "webhookSubscriptionCreate":
		data = s.createSubscription(sh, req.Variables)
	case "discountCodeBasicCreate":
		data = s.createDiscount(sh, req.Variables, op)
	case "discountCodeFreeShippingCreate":
		data = s.createDiscount(sh, req.Variables, op)
	case "codeDiscountNodeByCode":
		code, _ := req.Variables["code"].(string)
		var node any
		for _, d := range sh.discounts {
			if strings.EqualFold(d.Code, code) {
				node = discountNode(d)
			}
		}
		data = map[string]any{"codeDiscountNodeByCode": node}
	case "discountCodeDeactivate":
		id, _ := req.Variables["id"].(string)
		var node any
		ues := []any{}
		for _, d := range sh.discounts {
			if d.ID == id {
				d.Status = "EXPIRED"
				node = discountNode(d)
			}
		}
		if node == nil {
			ues = append(ues, userError([]string{"id"}, "INVALID", "Discount does not exist"))
		}
		data = map[string]any{"discountCodeDeactivate": map[string]any{"codeDiscountNode": node, "userErrors": ues}}
	case "customer":
		id, _ := req.Variables["id"].(string)
		n := 0
		for _, o := range sh.orders {
			if c, ok := o["customer"].(map[string]any); ok && fmt.Sprintf("gid://shopify/Customer/%v", c["id"]) == id {
				n++
			}
		}
		data = map[string]any{"customer": map[string]any{"id": id, "numberOfOrders": strconv.Itoa(n)}}
	default:
		err = fmt.Errorf("Field '%s' doesn't exist on type 'QueryRoot'", firstField(req.Query))
	}
	if err != nil {
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": err.Error()}}, "extensions": ext(cost)})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "extensions": ext(cost)})
}

// operation names the root field of the query and its cost (mutations 10,
// connections 2 + first/10, objects 1: Shopify's calculated-cost rules in
// miniature).
func operation(q string) (string, float64) {
	for _, op := range []string{"webhookSubscriptionCreate", "discountCodeBasicCreate", "discountCodeFreeShippingCreate", "discountCodeDeactivate", "codeDiscountNodeByCode", "webhookSubscriptions"} {
		if strings.Contains(q, op) {
			switch op {
			case "codeDiscountNodeByCode":
				return op, 2
			case "webhookSubscriptions":
				return op, 12
			}
			return op, 10
		}
	}
	if strings.Contains(q, "customer(") {
		return "customer", 1
	}
	if strings.Contains(q, "shop {") || strings.Contains(q, "shop{") {
		return "shop", 1
	}
	return "", 1
}

func firstField(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '{'); i >= 0 {
		q = strings.TrimSpace(q[i+1:])
	}
	f := strings.FieldsFunc(q, func(r rune) bool { return r == ' ' || r == '(' || r == '{' || r == '\n' })
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func userError(field []string, code, msg string) map[string]any {
	return map[string]any{"field": field, "code": code, "message": msg}
}

func subNode(sub subscription) map[string]any {
	return map[string]any{"id": sub.id, "topic": sub.topic, "uri": sub.url,
		"endpoint": map[string]any{"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.url}}
}

// topicName maps the GraphQL enum ORDERS_CREATE to the delivery topic
// orders/create (the first underscore separates resource and event).
func topicName(enum string) string {
	l := strings.ToLower(enum)
	if i := strings.IndexByte(l, '_'); i >= 0 {
		return l[:i] + "/" + l[i+1:]
	}
	return l
}

func (s *Simulator) createSubscription(sh *shop, vars map[string]any) any {
	topic, _ := vars["topic"].(string)
	sub, _ := vars["webhookSubscription"].(map[string]any)
	if sub == nil {
		sub, _ = vars["sub"].(map[string]any)
	}
	addr, _ := sub["callbackUrl"].(string)
	if addr == "" {
		addr, _ = sub["uri"].(string)
	}
	out := func(node any, ues ...any) any {
		if ues == nil {
			ues = []any{}
		}
		return map[string]any{"webhookSubscriptionCreate": map[string]any{"webhookSubscription": node, "userErrors": ues}}
	}
	if topic == "" || addr == "" {
		return out(nil, userError([]string{"webhookSubscription", "callbackUrl"}, "", "Address can't be blank"))
	}
	for _, existing := range sh.subs {
		if existing.topic == topic && existing.url == addr {
			return out(nil, userError([]string{"webhookSubscription", "callbackUrl"}, "", "Address for this topic has already been taken"))
		}
	}
	s.gids++
	ns := subscription{id: fmt.Sprintf("gid://shopify/WebhookSubscription/%d", s.gids), topic: topic, url: addr}
	sh.subs = append(sh.subs, ns)
	return out(subNode(ns))
}

func discountNode(d *Discount) map[string]any {
	return map[string]any{"id": d.ID, "codeDiscount": map[string]any{
		"__typename": "DiscountCodeBasic", "title": d.Title, "status": d.Status, "asyncUsageCount": 0,
		"codes": map[string]any{"nodes": []any{map[string]any{"code": d.Code}}},
	}}
}

// createDiscount is discountCodeBasicCreate: code, title and context (or the
// deprecated customerSelection) are required; codes are unique per shop,
// case-insensitively; failures come back as userErrors with HTTP 200.
func (s *Simulator) createDiscount(sh *shop, vars map[string]any, op string) any {
	in, _ := vars["basicCodeDiscount"].(map[string]any)
	if in == nil {
		in, _ = vars["freeShippingCodeDiscount"].(map[string]any)
	}
	if in == nil {
		in, _ = vars["d"].(map[string]any)
	}
	out := func(node any, ues ...any) any {
		if ues == nil {
			ues = []any{}
		}
		return map[string]any{op: map[string]any{"codeDiscountNode": node, "userErrors": ues}}
	}
	code, _ := in["code"].(string)
	title, _ := in["title"].(string)
	var ues []any
	if code == "" {
		ues = append(ues, userError([]string{"basicCodeDiscount", "code"}, "BLANK", "Code can't be blank"))
	}
	if title == "" {
		ues = append(ues, userError([]string{"basicCodeDiscount", "title"}, "BLANK", "Title can't be blank"))
	}
	if in["context"] == nil && in["customerSelection"] == nil {
		ues = append(ues, userError([]string{"basicCodeDiscount", "context"}, "BLANK", "Context can't be blank"))
	}
	for _, d := range sh.discounts {
		if code != "" && strings.EqualFold(d.Code, code) {
			ues = append(ues, userError([]string{"basicCodeDiscount", "code"}, "TAKEN", "Code must be unique. Please try a different code."))
		}
	}
	if len(ues) > 0 {
		return out(nil, ues...)
	}
	s.gids++
	d := &Discount{ID: fmt.Sprintf("gid://shopify/DiscountCodeNode/%d", s.gids), Code: code, Title: title, Status: "ACTIVE", Input: in}
	sh.discounts = append(sh.discounts, d)
	return out(discountNode(d))
}
