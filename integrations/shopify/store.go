package shopify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v3"

	"github.com/parrain/parrain/app"
)

// Store implements app.StorePlatform for Shopify through the Admin GraphQL
// API (discountCodeBasicCreate: REST price rules are legacy for public apps,
// shopify.md §0, §4).
type Store struct {
	Admin *Admin
	// Origin is where the shop's storefront is (the simulator in tests).
	Origin Origin
	// APIKey is the app's client id (the theme editor's deep link names
	// the app by it).
	APIKey string
	Tokens interface {
		AccessToken(ctx context.Context, shopID int64, shop string) (string, error)
	}
	// Absent, when set, remembers codes a previous attempt proved were not
	// created (the budget held the create back, or Shopify refused it with
	// THROTTLED), so the retry goes straight to the create instead of
	// spending points on a lookup that can only say "absent" again.
	Absent Notes
}

// Notes is a set of short-lived facts shared by every process
// (storebudget.Notes).
type Notes interface {
	Has(ctx context.Context, key string) bool
	Set(ctx context.Context, key string, ttl time.Duration)
	Clear(ctx context.Context, key string)
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, time.Duration)
}

// absentKey names the fact "code was not created in shop".
func absentKey(shop, code string) string { return "shopify:absent:" + shop + ":" + code }

var _ app.StorePlatform = (*Store)(nil)

const discountByCode = `query ParrainDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id codeDiscount { ... on DiscountCodeBasic { status asyncUsageCount } ... on DiscountCodeFreeShipping { status asyncUsageCount } } }
}`

const discountCreate = `mutation ParrainDiscountCreate($d: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $d) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}`

const freeShippingCreate = `mutation ParrainFreeShippingCreate($d: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $d) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}`

const discountDeactivate = `mutation ParrainDiscountDeactivate($id: ID!) {
  discountCodeDeactivate(id: $id) { codeDiscountNode { id } userErrors { field code message } }
}`

type codeNode struct {
	CodeDiscountNodeByCode *struct {
		ID           string `json:"id"`
		CodeDiscount struct {
			Status          string `json:"status"`
			AsyncUsageCount int    `json:"asyncUsageCount"`
		} `json:"codeDiscount"`
	} `json:"codeDiscountNodeByCode"`
}

func (s *Store) token(ctx context.Context, shop *app.Shop) (string, error) {
	return s.Tokens.AccessToken(ctx, shop.ID, shop.Domain)
}

func (s *Store) lookup(ctx context.Context, shop *app.Shop, token, code string) (string, error) {
	id, _, _, err := s.lookupUsage(ctx, shop, token, code)
	return id, err
}

func (s *Store) lookupUsage(ctx context.Context, shop *app.Shop, token, code string) (id string, used int, status string, err error) {
	var out codeNode
	// codeDiscountNodeByCode and the codeDiscount union: one object each.
	c := call{op: "lookup:" + code, cost: 2, q: discountByCode, vars: map[string]any{"code": code}}
	if err := s.Admin.query(ctx, shop.Domain, token, c, &out); err != nil {
		return "", 0, "", fmt.Errorf("look up discount %s: %w", code, err)
	}
	if out.CodeDiscountNodeByCode == nil {
		return "", 0, "", nil
	}
	n := out.CodeDiscountNodeByCode
	return n.ID, n.CodeDiscount.AsyncUsageCount, n.CodeDiscount.Status, nil
}

// CreateDiscount implements app.StorePlatform. It looks the code up first
// and creates it only when absent, so a retry after a crash (the code was
// created, the caller never recorded it) finds the code instead of failing
// or doubling; a TAKEN race is resolved by a second lookup. The lookup is
// skipped when the previous attempt proved the code absent (its create was
// held back or refused): that retry spends its points on the create only.
func (s *Store) CreateDiscount(ctx context.Context, shop *app.Shop, d app.DiscountSpec) (string, error) {
	token, err := s.token(ctx, shop)
	if err != nil {
		return "", err
	}
	absent := absentKey(shop.Domain, d.Code)
	if s.Absent != nil {
		// One creator per code at a time: an order's create and paid
		// events arrive together and both make the buyer an advocate;
		// without this both look up and both create, and the second
		// create (10 points) only learns TAKEN. The other comes back once
		// this one is done and finds the code with a lookup.
		release, err := s.claimOne(ctx, "shopify:creating:"+shop.Domain+":"+d.Code, "create discount "+d.Code+": another worker is creating it")
		if err != nil {
			return "", err
		}
		// Released on return, deferred or not: a create held back by the
		// budget holds its points in a ticket keyed by the code, which
		// whichever event comes back first uses; no second reservation.
		defer release()
	}
	if s.Absent == nil || !s.Absent.Has(ctx, absent) {
		if id, err := s.lookup(ctx, shop, token, d.Code); err != nil || id != "" {
			return id, err
		}
	}
	input, err := discountInput(d)
	if err != nil {
		return "", err
	}
	type created struct {
		CodeDiscountNode *struct {
			ID string `json:"id"`
		} `json:"codeDiscountNode"`
		UserErrors []userError `json:"userErrors"`
	}
	var out struct {
		Basic        created `json:"discountCodeBasicCreate"`
		FreeShipping created `json:"discountCodeFreeShippingCreate"`
	}
	mutation, op := discountCreate, "discountCodeBasicCreate"
	if d.Kind == app.OfferFreeShipping {
		mutation, op = freeShippingCreate, "discountCodeFreeShippingCreate"
	}
	err = s.Admin.query(ctx, shop.Domain, token, call{op: "create:" + d.Code, cost: 10, q: mutation, vars: map[string]any{"d": input}}, &out)
	if s.Absent != nil {
		var re *RetryError
		if errors.As(err, &re) && re.NotSent {
			// Proven not created; keep the fact until well after the retry.
			s.Absent.Set(ctx, absent, re.Delay+10*time.Minute)
		} else {
			// Created, taken, refused for good, or unknown (a timeout may
			// have created it): the next attempt looks first.
			s.Absent.Clear(ctx, absent)
		}
	}
	if err != nil {
		return "", fmt.Errorf("create discount %s: %w", d.Code, err)
	}
	res := out.Basic
	if d.Kind == app.OfferFreeShipping {
		res = out.FreeShipping
	}
	for _, ue := range res.UserErrors {
		if ue.Code == "TAKEN" {
			if id, err := s.lookup(ctx, shop, token, d.Code); err != nil || id != "" {
				return id, err
			}
		}
	}
	if err := userErrorsErr(op+" "+d.Code, res.UserErrors); err != nil {
		return "", err
	}
	if res.CodeDiscountNode == nil {
		return "", fmt.Errorf("create discount %s: no node in the answer", d.Code)
	}
	return res.CodeDiscountNode.ID, nil
}

// discountInput builds DiscountCodeBasicInput (shopify.md §4): context
// replaces the deprecated customerSelection since 2026-01.
func discountInput(d app.DiscountSpec) (map[string]any, error) {
	in := map[string]any{
		"title": d.Title, "code": d.Code, "startsAt": d.StartsAt.UTC().Format(time.RFC3339),
		"appliesOncePerCustomer": d.OncePerCustomer,
		"combinesWith":           map[string]any{"orderDiscounts": false, "productDiscounts": true, "shippingDiscounts": true},
	}
	if d.EndsAt != nil {
		in["endsAt"] = d.EndsAt.UTC().Format(time.RFC3339)
	}
	if d.UsageLimit > 0 {
		in["usageLimit"] = d.UsageLimit
	}
	if d.CustomerID != "" {
		in["context"] = map[string]any{"customers": map[string]any{"add": []string{"gid://shopify/Customer/" + d.CustomerID}}}
	} else {
		// Anyone: a friend code, or the reward of a guest advocate. A
		// Shopify code can be restricted to customers (GIDs) or segments,
		// never to an email, and a guest has no customer; the reward stays
		// single use (usageLimit 1) and its code is known only to the
		// advocate.
		in["context"] = map[string]any{"all": "ALL"}
	}
	switch d.Kind {
	case app.OfferFreeShipping:
		// DiscountCodeFreeShippingInput: no customerGets, a destination.
		in["destination"] = map[string]any{"all": true}
	case app.OfferPercent:
		// Shopify takes a fraction: 0.1 for 10 %.
		in["customerGets"] = map[string]any{"value": map[string]any{"percentage": float64(d.Percent) / 100}, "items": map[string]any{"all": true}}
	case app.OfferFixed:
		amount := app.Money{Minor: d.AmountMinor, Currency: d.Currency}.Decimal()
		in["customerGets"] = map[string]any{"value": map[string]any{"discountAmount": map[string]any{"amount": amount, "appliesOnEachItem": false}}, "items": map[string]any{"all": true}}
	default:
		return nil, app.Errorf(app.EINVALID, "Shopify offer kind %q is not supported yet", d.Kind)
	}
	if d.MinOrderMinor > 0 {
		in["minimumRequirement"] = map[string]any{"subtotal": map[string]any{"greaterThanOrEqualToSubtotal": app.Money{Minor: d.MinOrderMinor, Currency: d.Currency}.Decimal()}}
	}
	return in, nil
}

// DeactivateDiscount implements app.StorePlatform. A code already used is
// left alone: the money is spent, and support sees the flagged referral.
func (s *Store) DeactivateDiscount(ctx context.Context, shop *app.Shop, code string) error {
	token, err := s.token(ctx, shop)
	if err != nil {
		return err
	}
	id, used, status, err := s.lookupUsage(ctx, shop, token, code)
	if err != nil || id == "" || used > 0 || status == "EXPIRED" {
		return err
	}
	var out struct {
		DiscountCodeDeactivate struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"discountCodeDeactivate"`
	}
	if err := s.Admin.query(ctx, shop.Domain, token, call{op: "deactivate:" + code, cost: 10, q: discountDeactivate, vars: map[string]any{"id": id}}, &out); err != nil {
		return fmt.Errorf("deactivate discount %s: %w", code, err)
	}
	if err := userErrorsErr("discountCodeDeactivate "+code, out.DiscountCodeDeactivate.UserErrors); err != nil {
		return app.Wrap(app.EINVALID, err, "the store did not deactivate the code "+code+": "+app.ErrorMessage(err))
	}
	// Read it back: only what the store holds counts.
	_, _, status, err = s.lookupUsage(ctx, shop, token, code)
	if err != nil {
		return fmt.Errorf("deactivate discount %s: read it back: %w", code, err)
	}
	if status == "ACTIVE" {
		return app.Errorf(app.EINVALID, "the store did not deactivate the code %s: it is still active", code)
	}
	return nil
}

const customerOrders = `query ParrainCustomerOrders($id: ID!) { customer(id: $id) { id numberOfOrders } }`

// CustomerOrderCount implements app.StorePlatform (numberOfOrders replaced
// orders_count, shopify.md §3).
func (s *Store) CustomerOrderCount(ctx context.Context, shop *app.Shop, customerID string) (int, error) {
	token, err := s.token(ctx, shop)
	if err != nil {
		return 0, err
	}
	var out struct {
		Customer *struct {
			NumberOfOrders string `json:"numberOfOrders"`
		} `json:"customer"`
	}
	c := call{op: "orders:" + customerID, cost: 1, q: customerOrders, vars: map[string]any{"id": "gid://shopify/Customer/" + customerID}}
	if err := s.Admin.query(ctx, shop.Domain, token, c, &out); err != nil {
		return 0, fmt.Errorf("count orders of customer %s: %w", customerID, err)
	}
	if out.Customer == nil {
		return 0, nil
	}
	n, _ := strconv.Atoi(out.Customer.NumberOfOrders)
	return n, nil
}

const probeQuery = `query ParrainProbe { shop { id } }`

// StillInstalled asks Shopify whether the shop still lets the app in: its
// access token (refreshed if due) answers the Admin API. Uninstalling the app
// revokes every token of the shop, so Shopify then answers 401 (and the
// refresh endpoint refuses the refresh token); a shop that no longer exists
// answers 404. Any other answer (200, 402 frozen, 403 missing scope, 423
// locked) is a shop that still knows the token: the app is installed. A
// network failure or 5xx is a RetryError: we cannot tell, so the caller must
// not act yet.
func (s *Store) StillInstalled(ctx context.Context, shop *app.Shop) (bool, error) {
	token, err := s.token(ctx, shop)
	switch app.ErrorCode(err) {
	case "":
	case app.ENOTFOUND, app.EUNAUTHORIZED:
		// No token left, or Shopify refused to refresh it.
		return false, nil
	default:
		return false, fmt.Errorf("probe installation of %s: %w", shop.Domain, err)
	}
	var out struct{}
	c := goshopify.NewClient(s.Admin.app, shop.Domain, token, goshopify.WithVersion(s.Admin.version), goshopify.WithHTTPClient(s.Admin.http), goshopify.WithRetry(1))
	err = c.GraphQL.Query(probeQuery, nil, &out)
	var re goshopify.ResponseError
	if errors.As(err, &re) && (re.Status == http.StatusUnauthorized || re.Status == http.StatusNotFound) {
		return false, nil
	}
	if err != nil && (!errors.As(err, &re) || re.Status >= 500 || re.Status == http.StatusTooManyRequests) {
		return false, fmt.Errorf("probe installation of %s: %w", shop.Domain, s.Admin.classify(err, nil))
	}
	return true, nil
}

// FetchOrder implements app.StorePlatform: Shopify delivers order webhooks
// within seconds of checkout, before the thank-you page asks, so there is
// nothing to fetch.
func (s *Store) FetchOrder(context.Context, *app.Shop, string) (*app.FetchedOrder, error) {
	return nil, nil
}

// LandingURL implements app.StorePlatform: Shopify's shareable discount
// link applies the code to the session, then redirects to a path on the
// same store (shopify.md §4 "Shareable link"); the ref rides along for the
// storefront script and landing_site.
func (s *Store) LandingURL(shop *app.Shop, friendCode, refCode string) string {
	if friendCode == "" {
		return s.Origin.BrowserURL(shop.Domain, "/", url.Values{})
	}
	return s.Origin.BrowserURL(shop.Domain, "/discount/"+url.PathEscape(friendCode), url.Values{"redirect": {"/?ref=" + refCode}})
}

// OrderAdminURL implements app.StorePlatform: the shop's /admin/orders/{id},
// which Shopify redirects to the order in admin.shopify.com.
func (s *Store) OrderAdminURL(shop *app.Shop, orderID string) string {
	if orderID == "" {
		return ""
	}
	return "https://" + shop.Domain + "/admin/orders/" + url.PathEscape(orderID)
}

// CustomerAdminURL implements app.StorePlatform: /admin/customers/{id}.
func (s *Store) CustomerAdminURL(shop *app.Shop, customerID string) string {
	if customerID == "" {
		return ""
	}
	return "https://" + shop.Domain + "/admin/customers/" + url.PathEscape(customerID)
}

// claimOne makes the caller the only worker running one store operation
// (a code's create, a reward's credit). The operation takes milliseconds:
// wait a little in place, then send the job back to the queue for a
// second rather than hold a worker.
func (s *Store) claimOne(ctx context.Context, claim, busy string) (release func(), err error) {
	for wait := 0; ; wait++ {
		if ok, _ := s.Absent.Claim(ctx, claim, time.Minute); ok {
			return func() { s.Absent.Clear(ctx, claim) }, nil
		}
		if wait == 15 {
			return nil, &RetryError{Delay: time.Second, Err: errors.New(busy)}
		}
		time.Sleep(20 * time.Millisecond)
	}
}
