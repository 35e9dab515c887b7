package shopify

import (
	"context"
	"fmt"
	"strings"

	"github.com/parrain/parrain/app"
)

// Friend codes in bulk (issue 12): the friend codes of one offer are the
// redeem codes of one discount. The discount is created with its first
// code (discountCodeBasicCreate, idempotent by code); the others are added
// by discountRedeemCodeBulkAdd, at most 250 a call, which Shopify runs
// asynchronously: discountRedeemCodeBulkCreation says when it has run and,
// code by code, what failed and why (shopify.dev, admin-graphql
// DiscountRedeemCodeBulkAddPayload, DiscountRedeemCodeBulkCreation,
// DiscountRedeemCodeBulkCreationCode). One code is removed with
// discountCodeRedeemCodeBulkDelete by its DiscountRedeemCode id.
//
// Costs as Shopify computes them (shopify.md §5): each mutation 10 points
// whatever the number of codes; the status query 1 (one object); the
// failed codes only when failedCount says there are some (a page of 100
// codes with their errors and redeem code: 2 + 100 × 3); the lookup of a
// redeem code before its removal about 6.

const bulkLimit = 250

const bulkAdd = `mutation ParrainFriendCodesAdd($id: ID!, $codes: [DiscountRedeemCodeInput!]!) {
  discountRedeemCodeBulkAdd(discountId: $id, codes: $codes) { bulkCreation { id } userErrors { field code message } }
}`

const bulkStatus = `query ParrainFriendCodesStatus($id: ID!) {
  discountRedeemCodeBulkCreation(id: $id) { id done codesCount importedCount failedCount }
}`

const bulkFailed = `query ParrainFriendCodesFailed($id: ID!, $after: String) {
  discountRedeemCodeBulkCreation(id: $id) {
    codes(first: 100, after: $after) { nodes { code errors { code message } discountRedeemCode { id } } pageInfo { hasNextPage endCursor } }
  }
}`

const redeemCodeByCode = `query ParrainRedeemCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id codeDiscount {
    ... on DiscountCodeBasic { codes(first: 1, query: $code) { nodes { id code } } }
    ... on DiscountCodeFreeShipping { codes(first: 1, query: $code) { nodes { id code } } }
  } }
}`

const redeemCodeDelete = `mutation ParrainRedeemCodeDelete($id: ID!, $ids: [ID!]) {
  discountCodeRedeemCodeBulkDelete(discountId: $id, ids: $ids) { job { id } userErrors { field code message } }
}`

// FriendBatchLimit implements app.StorePlatform.
func (s *Store) FriendBatchLimit(*app.Shop) int { return bulkLimit }

// offerSpec is the offer's discount: anyone may use it, once per customer
// (across all its codes: a friend gets the friend offer once).
func offerSpec(offer app.FriendOffer, first string) app.DiscountSpec {
	d := offer.Spec
	d.Code = first
	if d.Title == "" {
		d.Title = "Parrain: friend offer " + offer.Key
	}
	d.CustomerID, d.CustomerEmail, d.UsageLimit = "", "", 0
	return d
}

// AddFriendCodes implements app.StorePlatform. A code the store already
// holds (a batch sent again after a crash) comes back from the bulk
// creation as TAKEN and is then looked up: see FriendCodesAdded.
func (s *Store) AddFriendCodes(ctx context.Context, shop *app.Shop, offer app.FriendOffer, codes []string) (app.BulkAdd, error) {
	if len(codes) == 0 || len(codes) > bulkLimit {
		return app.BulkAdd{}, app.Errorf(app.EINVALID, "a bulk add takes 1 to %d codes, not %d", bulkLimit, len(codes))
	}
	out := app.BulkAdd{OfferRef: offer.Ref}
	rest := codes
	if offer.Ref == "" {
		// The discount is born with the batch's first code. A retry finds
		// it by that code (CreateDiscount looks before creating).
		ref, err := s.CreateDiscount(ctx, shop, offerSpec(offer, codes[0]))
		if err != nil {
			return out, fmt.Errorf("create the discount of offer %s: %w", offer.Key, err)
		}
		out.OfferRef = ref
		out.Codes = append(out.Codes, app.CodeOutcome{Code: codes[0], Ref: ref})
		rest = codes[1:]
	}
	if len(rest) == 0 {
		out.Done = true
		return out, nil
	}
	token, err := s.token(ctx, shop)
	if err != nil {
		return out, err
	}
	in := make([]map[string]any, len(rest))
	for i, c := range rest {
		in[i] = map[string]any{"code": c}
	}
	var res struct {
		Add struct {
			BulkCreation *struct {
				ID string `json:"id"`
			} `json:"bulkCreation"`
			UserErrors []userError `json:"userErrors"`
		} `json:"discountRedeemCodeBulkAdd"`
	}
	c := call{op: "bulkadd:" + out.OfferRef + ":" + rest[0], cost: 10, q: bulkAdd, vars: map[string]any{"id": out.OfferRef, "codes": in}}
	if err := s.Admin.query(ctx, shop.Domain, token, c, &res); err != nil {
		return out, fmt.Errorf("add %d friend codes to %s: %w", len(rest), out.OfferRef, err)
	}
	if err := userErrorsErr("discountRedeemCodeBulkAdd", res.Add.UserErrors); err != nil {
		return out, err
	}
	if res.Add.BulkCreation == nil {
		return out, fmt.Errorf("add %d friend codes to %s: no bulk creation in the answer", len(rest), out.OfferRef)
	}
	out.Operation = res.Add.BulkCreation.ID
	return out, nil
}

// FriendCodesAdded implements app.StorePlatform: one cheap status query
// while the bulk creation runs; once done, the codes' errors are read only
// when some failed. A TAKEN code is looked up: the store holds it (a
// previous attempt added it, or it is an older per-advocate discount), so
// it is reported with the discount that holds it.
func (s *Store) FriendCodesAdded(ctx context.Context, shop *app.Shop, offer app.FriendOffer, operation string, codes []string) (app.BulkAdd, error) {
	out := app.BulkAdd{OfferRef: offer.Ref, Operation: operation}
	token, err := s.token(ctx, shop)
	if err != nil {
		return out, err
	}
	var st struct {
		BC *struct {
			Done          bool `json:"done"`
			CodesCount    int  `json:"codesCount"`
			ImportedCount int  `json:"importedCount"`
			FailedCount   int  `json:"failedCount"`
		} `json:"discountRedeemCodeBulkCreation"`
	}
	if err := s.Admin.query(ctx, shop.Domain, token, call{op: "bulkstatus:" + operation, cost: 1, q: bulkStatus, vars: map[string]any{"id": operation}}, &st); err != nil {
		return out, fmt.Errorf("read bulk creation %s: %w", operation, err)
	}
	if st.BC == nil {
		return out, app.Errorf(app.ENOTFOUND, "bulk creation %s not found", operation)
	}
	if !st.BC.Done {
		return out, nil
	}
	failed := map[string]string{} // code (upper) → first error
	taken := map[string]bool{}
	if st.BC.FailedCount > 0 {
		var after any
		for {
			var page struct {
				BC *struct {
					Codes struct {
						Nodes []struct {
							Code   string      `json:"code"`
							Errors []userError `json:"errors"`
						} `json:"nodes"`
						PageInfo struct {
							HasNextPage bool   `json:"hasNextPage"`
							EndCursor   string `json:"endCursor"`
						} `json:"pageInfo"`
					} `json:"codes"`
				} `json:"discountRedeemCodeBulkCreation"`
			}
			c := call{op: "bulkfailed:" + operation, cost: 303, q: bulkFailed, vars: map[string]any{"id": operation, "after": after}}
			if err := s.Admin.query(ctx, shop.Domain, token, c, &page); err != nil {
				return out, fmt.Errorf("read failed codes of bulk creation %s: %w", operation, err)
			}
			if page.BC == nil {
				break
			}
			for _, n := range page.BC.Codes.Nodes {
				if len(n.Errors) == 0 {
					continue
				}
				k := strings.ToUpper(n.Code)
				failed[k] = n.Errors[0].Message
				for _, e := range n.Errors {
					if e.Code == "TAKEN" {
						taken[k] = true
					}
				}
			}
			if !page.BC.Codes.PageInfo.HasNextPage {
				break
			}
			after = page.BC.Codes.PageInfo.EndCursor
		}
	}
	for _, code := range codes {
		k := strings.ToUpper(code)
		msg, bad := failed[k]
		switch {
		case !bad:
			out.Codes = append(out.Codes, app.CodeOutcome{Code: code, Ref: offer.Ref})
		case taken[k]:
			id, err := s.lookup(ctx, shop, token, code)
			if err != nil {
				return out, err
			}
			if id == "" {
				// Taken, then gone: add it again in a later batch.
				continue
			}
			out.Codes = append(out.Codes, app.CodeOutcome{Code: code, Ref: id})
		default:
			out.Codes = append(out.Codes, app.CodeOutcome{Code: code, Err: "Shopify refused the code " + code + ": " + msg})
		}
	}
	out.Done = true
	return out, nil
}

// RemoveFriendCode implements app.StorePlatform: the redeem code's id is
// looked up by its code, then the code (only it) is deleted from its
// discount. Shopify deletes asynchronously; the job is not followed.
func (s *Store) RemoveFriendCode(ctx context.Context, shop *app.Shop, offer app.FriendOffer, code string) error {
	token, err := s.token(ctx, shop)
	if err != nil {
		return err
	}
	type codes struct {
		Codes *struct {
			Nodes []struct {
				ID   string `json:"id"`
				Code string `json:"code"`
			} `json:"nodes"`
		} `json:"codes"`
	}
	var found struct {
		Node *struct {
			ID           string `json:"id"`
			CodeDiscount codes  `json:"codeDiscount"`
		} `json:"codeDiscountNodeByCode"`
	}
	if err := s.Admin.query(ctx, shop.Domain, token, call{op: "redeemcode:" + code, cost: 6, q: redeemCodeByCode, vars: map[string]any{"code": code}}, &found); err != nil {
		return fmt.Errorf("look up friend code %s: %w", code, err)
	}
	if found.Node == nil || found.Node.CodeDiscount.Codes == nil {
		return nil
	}
	var id string
	for _, n := range found.Node.CodeDiscount.Codes.Nodes {
		if strings.EqualFold(n.Code, code) {
			id = n.ID
		}
	}
	if id == "" {
		return nil
	}
	var res struct {
		Del struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"discountCodeRedeemCodeBulkDelete"`
	}
	c := call{op: "redeemdelete:" + code, cost: 10, q: redeemCodeDelete, vars: map[string]any{"id": found.Node.ID, "ids": []string{id}}}
	if err := s.Admin.query(ctx, shop.Domain, token, c, &res); err != nil {
		return fmt.Errorf("remove friend code %s: %w", code, err)
	}
	if err := userErrorsErr("discountCodeRedeemCodeBulkDelete "+code, res.Del.UserErrors); err != nil {
		return app.Wrap(app.EINVALID, err, "the store did not remove the code "+code+": "+app.ErrorMessage(err))
	}
	return nil
}

const discountUpdate = `mutation ParrainFriendOfferUpdate($id: ID!, $d: DiscountCodeBasicInput!) {
  discountCodeBasicUpdate(id: $id, basicCodeDiscount: $d) { codeDiscountNode { id } userErrors { field code message } }
}`

var _ app.FriendOfferUpdater = (*Store)(nil)

// UpdateFriendOffer implements app.FriendOfferUpdater: the offer's codes
// are the redeem codes of one discount, so one discountCodeBasicUpdate
// (write_discounts, 10 points) changes what every one of them gives. Only
// customerGets is sent: the update leaves the fields it is not given as
// they are (shopify.dev, discountCodeBasicUpdate). An offer with no
// discount yet has nothing to change: its first batch creates it with the
// terms in force. Free shipping has no value to change (app.Campaign
// refuses a campaign turning a friend offer into or out of it).
func (s *Store) UpdateFriendOffer(ctx context.Context, shop *app.Shop, offer app.FriendOffer, _ []string, terms app.DiscountSpec) error {
	if offer.Ref == "" || terms.Kind == app.OfferFreeShipping {
		return nil
	}
	in, err := discountInput(terms)
	if err != nil {
		return err
	}
	token, err := s.token(ctx, shop)
	if err != nil {
		return err
	}
	var out struct {
		Update struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"discountCodeBasicUpdate"`
	}
	c := call{op: "offerupdate:" + offer.Ref, cost: 10, q: discountUpdate, vars: map[string]any{"id": offer.Ref, "d": map[string]any{"customerGets": in["customerGets"]}}}
	if err := s.Admin.query(ctx, shop.Domain, token, c, &out); err != nil {
		return fmt.Errorf("update friend offer %s (%s): %w", offer.Key, offer.Ref, err)
	}
	return userErrorsErr("discountCodeBasicUpdate "+offer.Ref, out.Update.UserErrors)
}
