package shopifysim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxQueryCost is Shopify's single-query cost limit, separate from the
// bucket (shopify.md §5).
const maxQueryCost = 1000

// mutationCost is the requested cost of a mutation field: Shopify charges
// mutations 10 points.
const mutationCost = 10

// apiVersionPattern accepts Shopify's version handles: YYYY-MM or unstable.
var apiVersionPattern = regexp.MustCompile(`^(\d{4}-\d{2}|unstable)$`)

// invalidToken is the Admin API's answer for a missing, unknown, expired or
// revoked access token.
const invalidToken = `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}` + "\n"

// graphql is POST /admin/api/{version}/graphql.json. The order of checks is
// Shopify's: shop (404), access token (401), then the request itself;
// GraphQL-level problems (parse, validation, throttling, access) are HTTP
// 200 with "errors", and every executed or throttled query carries
// extensions.cost.
func (s *Simulator) graphql(w http.ResponseWriter, r *http.Request) {
	version := r.PathValue("version")
	if version != "" && !apiVersionPattern.MatchString(version) {
		notFound(w)
		return
	}
	if version == "" {
		version = APIVersion
	}
	w.Header().Set("X-Shopify-API-Version", version)
	s.mu.Lock()
	sh, _ := s.lookupShop(r)
	if sh == nil {
		s.mu.Unlock()
		notFound(w)
		return
	}
	tok := s.validAccess(sh, r.Header.Get("X-Shopify-Access-Token"))
	if tok == nil {
		s.mu.Unlock()
		writeRaw(w, http.StatusUnauthorized, invalidToken)
		return
	}
	if sh.failNext > 0 {
		sh.failNext--
		s.mu.Unlock()
		writeRaw(w, http.StatusServiceUnavailable, `{"errors":"Service Unavailable"}`+"\n")
		return
	}
	s.mu.Unlock()

	var req struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err == nil {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/graphql") {
			req.Query = string(raw)
		} else {
			err = json.Unmarshal(raw, &req)
		}
	}
	if err != nil || strings.TrimSpace(req.Query) == "" {
		writeRaw(w, http.StatusBadRequest, `{"errors":{"query":"Required parameter missing or invalid"}}`+"\n")
		return
	}
	doc, perr := parseGraphQL(req.Query)
	if perr != nil {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []*gqlError{perr}})
		return
	}
	op, gerr := doc.operation(req.OperationName)
	if gerr == nil && op.typ == "subscription" {
		gerr = &gqlError{Message: "Subscriptions are not supported by the Admin API", Locations: loc(doc.src, op.pos)}
	}
	var vars map[string]any
	if gerr == nil {
		vars, gerr = op.variables(doc.src, req.Variables)
	}
	if gerr != nil {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []*gqlError{gerr}})
		return
	}
	rootType := "QueryRoot"
	if op.typ == "mutation" {
		rootType = "Mutation"
	}
	declared := map[string]bool{}
	for _, v := range op.vars {
		declared[v.name] = true
	}
	if errs := doc.validate(rootType, op.sel, nil, declared, map[string]bool{}); len(errs) > 0 {
		writeJSON(w, http.StatusOK, map[string]any{"errors": errs})
		return
	}
	fields := doc.fieldsFor(rootType, op.sel, vars)
	requested := 0
	for _, f := range fields {
		requested += doc.rootCost(rootType, f, vars, nil, false)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	// Leaky bucket per shop (shopify.md §5): restore since the last call,
	// then refuse a query that costs more than what is available.
	now := s.cfg.Now()
	s.runBulks(sh, now)
	if elapsed := now.Sub(sh.bucketAt).Seconds(); elapsed > 0 {
		sh.bucket = min(s.cfg.GraphQLBucket, sh.bucket+elapsed*s.cfg.GraphQLRestore)
	}
	sh.bucketAt = now
	sh.stats.Requests++
	if sh.throttle > 0 {
		sh.throttle--
		sh.bucket = 0
	}
	cost := func(actual any) map[string]any {
		return map[string]any{"cost": map[string]any{
			"requestedQueryCost": requested, "actualQueryCost": actual,
			"throttleStatus": map[string]any{
				"maximumAvailable": s.cfg.GraphQLBucket, "currentlyAvailable": math.Floor(sh.bucket), "restoreRate": s.cfg.GraphQLRestore,
			},
		}}
	}
	if requested > maxQueryCost {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []*gqlError{{
			Message:    fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).", requested, maxQueryCost),
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": maxQueryCost},
		}}, "extensions": cost(nil)})
		return
	}
	if float64(requested) > sh.bucket {
		sh.stats.Throttled++
		// Exactly what go-shopify's graphql.go keys on: an error whose
		// extensions.code is THROTTLED, HTTP 200, and the throttle status
		// from which it computes the wait.
		writeJSON(w, http.StatusOK, map[string]any{"errors": []*gqlError{{
			Message:    "Throttled",
			Extensions: map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
		}}, "extensions": cost(nil)})
		return
	}
	sh.bucket -= float64(requested)
	data := newObject()
	var errs []*gqlError
	actual := 0
	for _, f := range fields {
		if f.name == "__typename" {
			data.set(f.key(), rootType)
			continue
		}
		args := resolveArgs(f.args, vars)
		if need := requiredScope[f.name]; s.cfg.EnforceScopes && !hasScope(tok.scopes, need) {
			errs = append(errs, &gqlError{
				Message:   fmt.Sprintf("Access denied for %s field. Required access: `%s` access scope.", f.name, need),
				Locations: loc(doc.src, f.pos), Path: []any{f.key()},
				Extensions: map[string]any{"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes",
					"requiredAccess": "`" + need + "` access scope."},
			})
			data.set(f.key(), nil)
			continue
		}
		val, _, ferr := s.resolveRoot(sh, f.name, args)
		sh.stats.Fields[f.name]++
		actual += doc.rootCost(rootType, f, vars, val, true)
		if ferr != nil {
			ferr.Locations, ferr.Path = loc(doc.src, f.pos), []any{f.key()}
			errs = append(errs, ferr)
			data.set(f.key(), nil)
			continue
		}
		data.set(f.key(), doc.project(val, f.sub, vars))
	}
	// Shopify charges the requested cost up front and refunds the
	// difference once the actual cost is known.
	sh.bucket = min(s.cfg.GraphQLBucket, sh.bucket+float64(requested-actual))
	sh.stats.Spent += float64(actual)
	resp := map[string]any{"data": data, "extensions": cost(actual)}
	if len(errs) > 0 {
		resp["errors"] = errs
	}
	if sh.loseAnswers > 0 && (sh.loseField == "" || ranField(fields, sh.loseField)) {
		// The call ran; its answer is lost on the way back.
		sh.loseAnswers--
		writeRaw(w, http.StatusBadGateway, `{"errors":"Bad Gateway"}`+"\n")
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// requiredScope is the access scope each root field needs; write_X covers
// read_X.
var requiredScope = map[string]string{
	"codeDiscountNodeByCode": "read_discounts", "discountCodeBasicCreate": "write_discounts",
	"discountCodeFreeShippingCreate": "write_discounts", "discountCodeDeactivate": "write_discounts",
	"discountCodeActivate": "write_discounts", "customer": "read_customers", "themes": "read_themes",
	"discountRedeemCodeBulkAdd": "write_discounts", "discountRedeemCodeBulkCreation": "read_discounts",
	"discountCodeRedeemCodeBulkDelete": "write_discounts", "discountCodeBasicUpdate": "write_discounts",
	"storeCreditAccountCredit": "write_store_credit_account_transactions",
}

func hasScope(granted, need string) bool {
	if need == "" {
		return true
	}
	alt := need
	if r, ok := strings.CutPrefix(need, "read_"); ok {
		alt = "write_" + r
	}
	for sc := range strings.SplitSeq(granted, ",") {
		if sc = strings.TrimSpace(sc); sc == need || sc == alt {
			return true
		}
	}
	return false
}

// pageSize reads first/last, capped at Shopify's 250.
func pageSize(args map[string]any) int {
	n, _ := args["first"].(float64)
	if l, ok := args["last"].(float64); ok && n == 0 {
		n = l
	}
	return int(min(max(n, 0), 250))
}

// resolveRoot executes one root field and returns its value (maps with a
// __typename), its actual cost and a field error. Callers hold s.mu.
func (s *Simulator) resolveRoot(sh *shop, name string, args map[string]any) (any, int, *gqlError) {
	switch name {
	case "shop":
		return s.shopObject(sh), 1, nil
	case "webhookSubscriptions":
		return s.listSubscriptions(sh, args)
	case "webhookSubscriptionCreate":
		v, err := s.createSubscription(sh, args)
		return v, mutationCost, err
	case "webhookSubscriptionDelete":
		return s.deleteSubscription(sh, args), mutationCost, nil
	case "discountCodeBasicCreate":
		v, err := s.createDiscount(sh, "DiscountCodeBasic", "basicCodeDiscount", args)
		return v, mutationCost, err
	case "discountCodeFreeShippingCreate":
		v, err := s.createDiscount(sh, "DiscountCodeFreeShipping", "freeShippingCodeDiscount", args)
		return v, mutationCost, err
	case "discountCodeBasicUpdate":
		v, err := s.updateDiscount(sh, args)
		return v, mutationCost, err
	case "discountCodeDeactivate":
		return s.setDiscountActive(sh, args, false), mutationCost, nil
	case "discountCodeActivate":
		return s.setDiscountActive(sh, args, true), mutationCost, nil
	case "codeDiscountNodeByCode":
		code, _ := args["code"].(string)
		if d := sh.discountByCode(code); d != nil {
			return s.discountNode(sh, d), 1, nil
		}
		return nil, 1, nil
	case "customer":
		return s.customerObject(sh, args)
	case "discountRedeemCodeBulkAdd":
		v, err := s.bulkAdd(sh, args)
		return v, mutationCost, err
	case "discountRedeemCodeBulkCreation":
		return s.bulkCreationNode(sh, args), 1, nil
	case "discountCodeRedeemCodeBulkDelete":
		v, err := s.redeemCodesDelete(sh, args)
		return v, mutationCost, err
	case "themes":
		return s.listThemes(sh, args)
	case "storeCreditAccountCredit":
		v, err := s.creditStoreCredit(sh, args)
		return v, mutationCost, err
	}
	// Unreachable after validation; kept so a schema entry without a
	// resolver fails loudly.
	return nil, 0, &gqlError{Message: "shopifysim: no resolver for " + name}
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Simulator) shopObject(sh *shop) map[string]any {
	plan := sh.info.PlanDisplayName
	return map[string]any{
		"__typename": "Shop", "id": gid("Shop", sh.info.ID), "name": sh.info.Name, "email": sh.info.Email,
		"contactEmail": sh.info.Email, "currencyCode": sh.info.CurrencyCode, "ianaTimezone": sh.info.IanaTimezone,
		"myshopifyDomain": sh.domain, "url": "https://" + sh.domain, "createdAt": timestamp(sh.created),
		"plan": map[string]any{
			"__typename": "ShopPlan", "displayName": plan, "publicDisplayName": plan,
			"partnerDevelopment": strings.Contains(strings.ToLower(plan), "development"),
			"shopifyPlus":        strings.Contains(strings.ToLower(plan), "plus"),
		},
		"primaryDomain": map[string]any{"__typename": "Domain", "id": gid("Domain", sh.info.ID), "host": sh.domain,
			"url": "https://" + sh.domain, "sslEnabled": true},
	}
}

// connection wraps nodes in a Relay connection (nodes, edges, pageInfo).
func connection(typ string, nodes []map[string]any, cursor func(map[string]any) string, more bool) map[string]any {
	ns, edges := []any{}, []any{}
	for _, n := range nodes {
		ns = append(ns, n)
		edges = append(edges, map[string]any{"__typename": typ + "Edge", "cursor": cursor(n), "node": n})
	}
	pi := map[string]any{"__typename": "PageInfo", "hasNextPage": more, "hasPreviousPage": false, "startCursor": nil, "endCursor": nil}
	if len(nodes) > 0 {
		pi["startCursor"], pi["endCursor"] = cursor(nodes[0]), cursor(nodes[len(nodes)-1])
	}
	return map[string]any{"__typename": typ + "Connection", "nodes": ns, "edges": edges, "pageInfo": pi}
}

func idCursor(n map[string]any) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(n["id"])))
}

func subscriptionNode(sub *subscription) map[string]any {
	endpoint := map[string]any{"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.uri}
	switch {
	case strings.HasPrefix(sub.uri, "pubsub://"):
		project, topic, _ := strings.Cut(strings.TrimPrefix(sub.uri, "pubsub://"), ":")
		endpoint = map[string]any{"__typename": "WebhookPubSubEndpoint", "pubSubProject": project, "pubSubTopic": topic}
	case strings.HasPrefix(sub.uri, "arn:"):
		endpoint = map[string]any{"__typename": "WebhookEventBridgeEndpoint", "arn": sub.uri}
	}
	include := sub.includeFields
	if include == nil {
		include = []any{}
	}
	return map[string]any{
		"__typename": "WebhookSubscription", "id": sub.id, "topic": sub.topic, "uri": sub.uri, "callbackUrl": sub.uri,
		"format": sub.format, "includeFields": include, "metafieldNamespaces": []any{}, "filter": sub.filter,
		"createdAt": timestamp(sub.created), "updatedAt": timestamp(sub.created),
		"apiVersion": map[string]any{"__typename": "ApiVersion", "handle": APIVersion, "displayName": APIVersion, "supported": true},
		"endpoint":   endpoint,
	}
}

// listSubscriptions is webhookSubscriptions(first, after, topics, uri).
// Like Shopify's, it lists the shop's API-created subscriptions only: the
// app-specific ones of shopify.app.toml are not returned.
func (s *Simulator) listSubscriptions(sh *shop, args map[string]any) (any, int, *gqlError) {
	n := pageSize(args)
	if n == 0 {
		return nil, 2, &gqlError{Message: "you must provide one of first or last", Extensions: map[string]any{"code": "argumentLiteralsIncompatible"}}
	}
	topics := map[string]bool{}
	if ts, ok := args["topics"].([]any); ok {
		for _, t := range ts {
			topics[fmt.Sprint(t)] = true
		}
	}
	uri, _ := args["uri"].(string)
	if uri == "" {
		uri, _ = args["callbackUrl"].(string)
	}
	after, _ := args["after"].(string)
	var nodes []map[string]any
	more := false
	skipping := after != ""
	for _, sub := range sh.subs {
		if (len(topics) > 0 && !topics[sub.topic]) || (uri != "" && sub.uri != uri) {
			continue
		}
		node := subscriptionNode(sub)
		if skipping {
			skipping = idCursor(node) != after
			continue
		}
		if len(nodes) == n {
			more = true
			break
		}
		nodes = append(nodes, node)
	}
	return connection("WebhookSubscription", nodes, idCursor, more), 2 + len(nodes), nil
}

func userError(field []any, msg string) map[string]any {
	return map[string]any{"__typename": "UserError", "field": field, "message": msg}
}

// createSubscription is webhookSubscriptionCreate(topic, webhookSubscription):
// the topic must be a WebhookSubscriptionTopic the simulator knows
// (compliance topics are not in that enum: they cannot be created through
// the API, shopify.md §2); the address is a URL (callbackUrl, or uri in
// recent versions), pubsub:// or an EventBridge ARN. Shopify requires HTTPS
// callback URLs; the simulator accepts http too, for loopback tests.
func (s *Simulator) createSubscription(sh *shop, args map[string]any) (any, *gqlError) {
	enum, _ := args["topic"].(string)
	if _, ok := topicByEnum[enum]; !ok {
		return nil, &gqlError{
			Message:    fmt.Sprintf("Argument 'topic' on Field 'webhookSubscriptionCreate' has an invalid value (%s). Expected type 'WebhookSubscriptionTopic!'.", enum),
			Extensions: map[string]any{"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": "topic"},
		}
	}
	in, _ := args["webhookSubscription"].(map[string]any)
	if in == nil {
		return nil, &gqlError{
			Message:    "Argument 'webhookSubscription' on Field 'webhookSubscriptionCreate' has an invalid value (null). Expected type 'WebhookSubscriptionInput!'.",
			Extensions: map[string]any{"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": "webhookSubscription"},
		}
	}
	out := func(node any, ues ...any) any {
		if ues == nil {
			ues = []any{}
		}
		return map[string]any{"__typename": "WebhookSubscriptionCreatePayload", "webhookSubscription": node, "userErrors": ues}
	}
	field := "callbackUrl"
	addr, _ := in["callbackUrl"].(string)
	if addr == "" {
		if u, _ := in["uri"].(string); u != "" {
			addr, field = u, "uri"
		}
	}
	path := []any{"webhookSubscription", field}
	if addr == "" {
		return out(nil, userError(path, "Address can't be blank")), nil
	}
	if u, err := url.Parse(addr); !strings.HasPrefix(addr, "pubsub://") && !strings.HasPrefix(addr, "arn:") &&
		(err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
		return out(nil, userError(path, "Address is invalid")), nil
	}
	for _, existing := range sh.subs {
		if existing.topic == enum && existing.uri == addr {
			return out(nil, userError(path, "Address for this topic has already been taken")), nil
		}
	}
	format, _ := in["format"].(string)
	if format == "" {
		format = "JSON"
	}
	include, _ := in["includeFields"].([]any)
	sub := &subscription{id: gid("WebhookSubscription", s.nextID()), topic: enum, uri: addr, format: format,
		includeFields: include, filter: in["filter"], created: s.cfg.Now()}
	sh.subs = append(sh.subs, sub)
	s.log.Info("webhook subscription created", "shop", sh.domain, "topic", topicByEnum[enum], "address", addr)
	return out(subscriptionNode(sub)), nil
}

func (s *Simulator) deleteSubscription(sh *shop, args map[string]any) any {
	id, _ := args["id"].(string)
	for i, sub := range sh.subs {
		if sub.id == id {
			sh.subs = append(sh.subs[:i:i], sh.subs[i+1:]...)
			return map[string]any{"__typename": "WebhookSubscriptionDeletePayload", "deletedWebhookSubscriptionId": id, "userErrors": []any{}}
		}
	}
	return map[string]any{"__typename": "WebhookSubscriptionDeletePayload", "deletedWebhookSubscriptionId": nil,
		"userErrors": []any{userError([]any{"id"}, "Webhook subscription does not exist")}}
}

func discountError(field []any, code, msg string) map[string]any {
	return map[string]any{"__typename": "DiscountUserError", "field": field, "code": code, "message": msg, "extraInfo": nil}
}

// status is the discount's DiscountStatus at now.
func (d *discount) status(now time.Time) string {
	switch {
	case d.deactivated, d.endsAt != nil && !now.Before(*d.endsAt):
		return "EXPIRED"
	case d.startsAt != nil && now.Before(*d.startsAt):
		return "SCHEDULED"
	}
	return "ACTIVE"
}

// discountByCode finds a code case-insensitively, among every discount's
// redeem codes: Shopify's codes are unique per shop, case-insensitively.
func (sh *shop) discountByCode(code string) *discount {
	for _, d := range sh.discounts {
		if code != "" && d.hasCode(code) {
			return d
		}
	}
	return nil
}

func parseTime(v any) (*time.Time, bool) {
	s, ok := v.(string)
	if v == nil || (ok && s == "") {
		return nil, true
	}
	if !ok {
		return nil, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, false
	}
	return &t, true
}

// decimal reads a money amount or number sent as a string or a number.
func decimal(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case string:
		f, err := strconv.ParseFloat(t, 64)
		return f, err == nil
	}
	return 0, false
}

// createDiscount is discountCodeBasicCreate and
// discountCodeFreeShippingCreate. As at Shopify, refusals are userErrors
// with HTTP 200 (shopify.md §4): title, code and context (or the deprecated
// customerSelection) are required, plus customerGets for a basic discount;
// codes are unique per shop, case-insensitively. The percentage range
// (0, 1] and the messages other than TAKEN's are the simulator's reading of
// the docs.
func (s *Simulator) createDiscount(sh *shop, kind, arg string, args map[string]any) (any, *gqlError) {
	in, ok := args[arg].(map[string]any)
	if !ok {
		return nil, &gqlError{
			Message:    fmt.Sprintf("Argument '%s' has an invalid value. Expected type '%sInput!'.", arg, kind),
			Extensions: map[string]any{"code": "argumentLiteralsIncompatible", "argumentName": arg},
		}
	}
	payload := kind + "CreatePayload"
	out := func(node any, ues []any) any {
		if ues == nil {
			ues = []any{}
		}
		return map[string]any{"__typename": payload, "codeDiscountNode": node, "userErrors": ues}
	}
	f := func(path ...any) []any { return append([]any{arg}, path...) }
	var ues []any
	code, _ := in["code"].(string)
	title, _ := in["title"].(string)
	if strings.TrimSpace(title) == "" {
		ues = append(ues, discountError(f("title"), "BLANK", "Title can't be blank"))
	}
	switch {
	case strings.TrimSpace(code) == "":
		ues = append(ues, discountError(f("code"), "BLANK", "Code can't be blank"))
	case len(code) > 255:
		ues = append(ues, discountError(f("code"), "TOO_LONG", "Code is too long (maximum is 255 characters)"))
	case strings.ContainsAny(code, "\r\n"):
		ues = append(ues, discountError(f("code"), "INVALID", "Code cannot contain newline characters."))
	case sh.discountByCode(code) != nil:
		ues = append(ues, discountError(f("code"), "TAKEN", "Code must be unique. Please try a different code."))
	}
	if in["context"] == nil && in["customerSelection"] == nil {
		ues = append(ues, discountError(f("context"), "BLANK", "Context can't be blank"))
	}
	startsAt, okStart := parseTime(in["startsAt"])
	if !okStart {
		ues = append(ues, discountError(f("startsAt"), "INVALID", "Starts at is invalid"))
	}
	endsAt, okEnd := parseTime(in["endsAt"])
	if !okEnd {
		ues = append(ues, discountError(f("endsAt"), "INVALID", "Ends at is invalid"))
	} else if endsAt != nil && startsAt != nil && !endsAt.After(*startsAt) {
		ues = append(ues, discountError(f("endsAt"), "INVALID", "Ends at needs to be after starts_at"))
	}
	limit := 0
	if v, ok := in["usageLimit"]; ok && v != nil {
		n, _ := v.(float64)
		if n < 1 || n != math.Trunc(n) {
			ues = append(ues, discountError(f("usageLimit"), "GREATER_THAN", "Usage limit must be greater than 0"))
		}
		limit = int(n)
	}
	if kind == "DiscountCodeBasic" {
		ues = append(ues, customerGetsErrors(f, in["customerGets"])...)
	}
	if len(ues) > 0 {
		return out(nil, ues), nil
	}
	now := s.cfg.Now()
	if startsAt == nil {
		startsAt = &now
	}
	once, _ := in["appliesOncePerCustomer"].(bool)
	d := &discount{
		Discount: Discount{ID: gid("DiscountCodeNode", s.nextID()), Code: code, Title: title, Kind: kind, Input: in},
		startsAt: startsAt, endsAt: endsAt, usageLimit: limit, oncePerCustomer: once, created: now, updated: now,
	}
	sh.discounts = append(sh.discounts, d)
	s.log.Info("discount created", "shop", sh.domain, "kind", kind, "code", code)
	return out(s.discountNode(sh, d), nil), nil
}

func customerGetsErrors(f func(...any) []any, v any) []any {
	cg, _ := v.(map[string]any)
	if cg == nil {
		return []any{discountError(f("customerGets"), "BLANK", "Customer gets can't be blank")}
	}
	val, _ := cg["value"].(map[string]any)
	var ues []any
	switch {
	case val == nil || (val["percentage"] == nil && val["discountAmount"] == nil && val["discountOnQuantity"] == nil):
		ues = append(ues, discountError(f("customerGets", "value"), "BLANK", "Value can't be blank"))
	case val["percentage"] != nil:
		if p, ok := decimal(val["percentage"]); !ok || p <= 0 || p > 1 {
			ues = append(ues, discountError(f("customerGets", "value", "percentage"), "VALUE_OUTSIDE_RANGE", "Value must be between 0.0 and 1.0"))
		}
	case val["discountAmount"] != nil:
		da, _ := val["discountAmount"].(map[string]any)
		if a, ok := decimal(da["amount"]); !ok || a <= 0 {
			ues = append(ues, discountError(f("customerGets", "value", "discountAmount", "amount"), "GREATER_THAN", "Value must be greater than 0"))
		}
	}
	if cg["items"] == nil {
		ues = append(ues, discountError(f("customerGets", "items"), "BLANK", "Items can't be blank"))
	}
	return ues
}

// discountNode renders a DiscountCodeNode. Callers hold s.mu.
func (s *Simulator) discountNode(sh *shop, d *discount) map[string]any {
	now := s.cfg.Now()
	var ends, limit any
	if d.endsAt != nil {
		ends = timestamp(*d.endsAt)
	}
	if d.usageLimit > 0 {
		limit = d.usageLimit
	}
	combines := map[string]any{"__typename": "DiscountCombinesWith", "orderDiscounts": false, "productDiscounts": false, "shippingDiscounts": false}
	if cw, ok := d.Input["combinesWith"].(map[string]any); ok {
		for _, k := range []string{"orderDiscounts", "productDiscounts", "shippingDiscounts"} {
			combines[k], _ = cw[k].(bool)
		}
	}
	redeem := map[string]any{"__typename": "DiscountRedeemCode", "id": strings.Replace(d.ID, "DiscountCodeNode", "DiscountRedeemCode", 1),
		"code": d.Code, "asyncUsageCount": d.UsageCount}
	class, summary := "SHIPPING", "Free shipping on all products"
	cd := map[string]any{
		"__typename": d.Kind, "title": d.Title, "status": d.status(now), "asyncUsageCount": d.UsageCount,
		"startsAt": timestamp(*d.startsAt), "endsAt": ends, "usageLimit": limit, "appliesOncePerCustomer": d.oncePerCustomer,
		"codes":         d.codesField(redeem),
		"codesCount":    map[string]any{"__typename": "Count", "count": 1 + len(d.more), "precision": "EXACT"},
		"shareableUrls": []any{}, "createdAt": timestamp(d.created), "updatedAt": timestamp(d.updated),
		"combinesWith": combines,
	}
	if d.Kind == "DiscountCodeBasic" {
		class = "ORDER"
		cg, _ := d.Input["customerGets"].(map[string]any)
		val, _ := cg["value"].(map[string]any)
		var value map[string]any
		if p, ok := decimal(val["percentage"]); ok {
			value = map[string]any{"__typename": "DiscountPercentage", "percentage": p}
			summary = strconv.FormatFloat(p*100, 'f', -1, 64) + "% off entire order"
		} else {
			da, _ := val["discountAmount"].(map[string]any)
			a, _ := decimal(da["amount"])
			each, _ := da["appliesOnEachItem"].(bool)
			value = map[string]any{"__typename": "DiscountAmount", "appliesOnEachItem": each,
				"amount": map[string]any{"__typename": "MoneyV2", "amount": strconv.FormatFloat(a, 'f', 2, 64), "currencyCode": sh.info.CurrencyCode}}
			summary = strconv.FormatFloat(a, 'f', 2, 64) + " " + sh.info.CurrencyCode + " off entire order"
		}
		cd["customerGets"] = map[string]any{"__typename": "DiscountCustomerGets", "value": value,
			"items": map[string]any{"__typename": "AllDiscountItems", "allItems": true}, "appliesOnOneTimePurchase": true, "appliesOnSubscription": false}
	}
	cd["discountClass"], cd["summary"] = class, summary
	return map[string]any{"__typename": "DiscountCodeNode", "id": d.ID, "codeDiscount": cd}
}

// setDiscountActive is discountCodeDeactivate (the discount ends now, status
// EXPIRED) and discountCodeActivate.
func (s *Simulator) setDiscountActive(sh *shop, args map[string]any, active bool) any {
	payload := "DiscountCodeDeactivatePayload"
	if active {
		payload = "DiscountCodeActivatePayload"
	}
	id, _ := args["id"].(string)
	now := s.cfg.Now()
	for _, d := range sh.discounts {
		if d.ID != id {
			continue
		}
		d.deactivated, d.updated = !active, now
		if active {
			d.endsAt = nil
			if d.startsAt.After(now) {
				d.startsAt = &now
			}
		} else {
			d.endsAt = &now
		}
		return map[string]any{"__typename": payload, "codeDiscountNode": s.discountNode(sh, d), "userErrors": []any{}}
	}
	return map[string]any{"__typename": payload, "codeDiscountNode": nil,
		"userErrors": []any{discountError([]any{"id"}, "INVALID", "Discount does not exist")}}
}

// updateDiscount is discountCodeBasicUpdate: the fields given replace the
// discount's, the others stay (shopify.dev, discountCodeBasicUpdate); what
// an order gets from the discount (and from every redeem code of it) is
// read from its input, so a new customerGets changes it for all its codes.
// An unknown id is a userError, as for discountCodeDeactivate.
func (s *Simulator) updateDiscount(sh *shop, args map[string]any) (any, *gqlError) {
	const payload = "DiscountCodeBasicUpdatePayload"
	in, ok := args["basicCodeDiscount"].(map[string]any)
	if !ok {
		return nil, &gqlError{Message: "Argument 'basicCodeDiscount' has an invalid value. Expected type 'DiscountCodeBasicInput!'.",
			Extensions: map[string]any{"code": "argumentLiteralsIncompatible", "argumentName": "basicCodeDiscount"}}
	}
	id, _ := args["id"].(string)
	for _, d := range sh.discounts {
		if d.ID != id || d.Kind != "DiscountCodeBasic" {
			continue
		}
		f := func(path ...any) []any { return append([]any{"basicCodeDiscount"}, path...) }
		if cg, given := in["customerGets"]; given {
			if ues := customerGetsErrors(f, cg); len(ues) > 0 {
				return map[string]any{"__typename": payload, "codeDiscountNode": nil, "userErrors": ues}, nil
			}
		}
		merged := map[string]any{}
		for k, v := range d.Input {
			merged[k] = v
		}
		for k, v := range in {
			merged[k] = v
		}
		d.Input, d.updated = merged, s.cfg.Now()
		s.log.Info("discount updated", "shop", sh.domain, "id", id)
		return map[string]any{"__typename": payload, "codeDiscountNode": s.discountNode(sh, d), "userErrors": []any{}}, nil
	}
	return map[string]any{"__typename": payload, "codeDiscountNode": nil,
		"userErrors": []any{discountError([]any{"id"}, "INVALID", "Discount does not exist")}}, nil
}

// customerObject is customer(id): the simulator's customers are the ones
// its orders name, so an id without orders is unknown and, as at Shopify,
// null. numberOfOrders is an UnsignedInt64, serialised as a string.
func (s *Simulator) customerObject(sh *shop, args map[string]any) (any, int, *gqlError) {
	id, _ := args["id"].(string)
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "gid://shopify/Customer/"), 10, 64)
	if !strings.HasPrefix(id, "gid://shopify/Customer/") || err != nil {
		return nil, 1, &gqlError{Message: fmt.Sprintf("Invalid global id '%s'", id), Extensions: map[string]any{"code": "argumentLiteralsIncompatible"}}
	}
	var mine []map[string]any
	spent := 0.0
	for _, o := range sh.orders {
		if c, ok := o["customer"].(map[string]any); ok && fmt.Sprint(c["id"]) == strconv.FormatInt(n, 10) {
			mine = append(mine, o)
			t, _ := decimal(o["total_price"])
			spent += t
		}
	}
	if len(mine) == 0 {
		return nil, 1, nil
	}
	last := mine[len(mine)-1]["customer"].(map[string]any)
	email, _ := last["email"].(string)
	first, _ := last["first_name"].(string)
	lastName, _ := last["last_name"].(string)
	var emailObj, phoneObj any
	if email != "" {
		emailObj = map[string]any{"__typename": "CustomerEmailAddress", "emailAddress": email}
	}
	if p, _ := last["phone"].(string); p != "" {
		phoneObj = map[string]any{"__typename": "CustomerPhoneNumber", "phoneNumber": p}
	}
	return map[string]any{
		"__typename": "Customer", "id": id, "numberOfOrders": strconv.Itoa(len(mine)),
		"email": last["email"], "phone": last["phone"], "firstName": last["first_name"], "lastName": last["last_name"],
		"displayName": strings.TrimSpace(first + " " + lastName), "createdAt": mine[0]["created_at"], "updatedAt": mine[len(mine)-1]["updated_at"],
		"amountSpent":         map[string]any{"__typename": "MoneyV2", "amount": strconv.FormatFloat(spent, 'f', 2, 64), "currencyCode": sh.info.CurrencyCode},
		"defaultEmailAddress": emailObj, "defaultPhoneNumber": phoneObj,
		"storeCreditAccounts": sh.storeCreditAccounts(strconv.FormatInt(n, 10)),
	}, 1, nil
}

func ranField(fields []gqlSelection, name string) bool {
	for _, f := range fields {
		if f.name == name {
			return true
		}
	}
	return false
}
