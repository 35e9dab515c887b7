package shopifysim

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Redeem codes in bulk, as the Admin GraphQL API documents them
// (shopify.dev admin-graphql: discountRedeemCodeBulkAdd,
// DiscountRedeemCodeBulkCreation, DiscountRedeemCodeBulkCreationCode,
// discountCodeRedeemCodeBulkDelete):
//   - discountRedeemCodeBulkAdd(discountId, codes) takes at most 250 codes
//     and answers at once with a bulk creation that is not done; the codes
//     are added asynchronously (Config.BulkDelay here), each one checked on
//     its own: a code another discount or this one already holds fails
//     with TAKEN, a blank, too long or multi-line code with its error,
//     the others are added. Such per-code errors are on the bulk
//     creation's codes, not in the mutation's userErrors, which are for the
//     call itself (unknown discount, too many codes).
//   - discountRedeemCodeBulkCreation(id) reports done, codesCount,
//     importedCount, failedCount and, code by code, errors and the created
//     DiscountRedeemCode.
//   - discountCodeRedeemCodeBulkDelete(discountId, ids) removes redeem
//     codes by id and answers with a Job.
// Costs: each mutation 10, the bulk creation an object (1), its codes a
// connection (2 + first × a node's cost): cost.go computes them from the
// schema below.

// maxBulkCodes is discountRedeemCodeBulkAdd's limit.
const maxBulkCodes = 250

type redeemCode struct {
	id, code string
}

type bulkCode struct {
	code   string
	errs   []any
	redeem *redeemCode
}

type bulkCreation struct {
	id      string
	disc    *discount
	codes   []bulkCode
	created time.Time
	due     time.Time
	done    bool
}

// hasCode reports whether the discount holds the code (any case).
func (d *discount) hasCode(code string) bool {
	if strings.EqualFold(d.Code, code) {
		return true
	}
	for _, r := range d.more {
		if strings.EqualFold(r.code, code) {
			return true
		}
	}
	return false
}

// storedCode is the discount's own spelling of code (one of its redeem
// codes): an order names the code the buyer redeemed, not the discount's
// first code.
func (d *discount) storedCode(code string) string {
	for _, r := range d.more {
		if strings.EqualFold(r.code, code) {
			return r.code
		}
	}
	return d.Code
}

// codesField is the discount's codes connection; query: filters the codes
// as Shopify's default search does (case-insensitive text match).
func (d *discount) codesField(first map[string]any) argField {
	return func(args map[string]any) any {
		q, _ := args["query"].(string)
		q = strings.ToLower(strings.Trim(strings.TrimSpace(q), `"'`))
		all := []map[string]any{first}
		for _, r := range d.more {
			all = append(all, map[string]any{"__typename": "DiscountRedeemCode", "id": r.id, "code": r.code, "asyncUsageCount": 0})
		}
		var nodes []map[string]any
		for _, n := range all {
			if c, _ := n["code"].(string); q == "" || strings.Contains(strings.ToLower(c), q) {
				nodes = append(nodes, n)
			}
		}
		size := pageSize(args)
		if size == 0 {
			size = len(nodes)
		}
		more := len(nodes) > size
		if more {
			nodes = nodes[:size]
		}
		return connection("DiscountRedeemCode", nodes, idCursor, more)
	}
}

// bulkAdd is discountRedeemCodeBulkAdd.
func (s *Simulator) bulkAdd(sh *shop, args map[string]any) (any, *gqlError) {
	out := func(bc any, ues ...any) any {
		if ues == nil {
			ues = []any{}
		}
		return map[string]any{"__typename": "DiscountRedeemCodeBulkAddPayload", "bulkCreation": bc, "userErrors": ues}
	}
	id, _ := args["discountId"].(string)
	list, _ := args["codes"].([]any)
	var d *discount
	for _, x := range sh.discounts {
		if x.ID == id {
			d = x
		}
	}
	switch {
	case d == nil:
		return out(nil, discountError([]any{"discountId"}, "INVALID", "Code discount does not exist.")), nil
	case len(list) == 0:
		return out(nil, discountError([]any{"codes"}, "BLANK", "Codes can't be blank")), nil
	case len(list) > maxBulkCodes:
		return out(nil, discountError([]any{"codes"}, "TOO_MANY_ARGUMENTS", "Too many codes. Maximum of 250 codes allowed.")), nil
	}
	now := s.cfg.Now()
	bc := &bulkCreation{id: gid("DiscountRedeemCodeBulkCreation", s.nextID()), disc: d, created: now, due: now.Add(s.cfg.BulkDelay)}
	for _, v := range list {
		in, _ := v.(map[string]any)
		c, _ := in["code"].(string)
		bc.codes = append(bc.codes, bulkCode{code: c})
	}
	if sh.bulks == nil {
		sh.bulks = map[string]*bulkCreation{}
	}
	sh.bulks[bc.id] = bc
	return out(s.bulkNode(bc)), nil
}

// runBulks runs the bulk creations that are due. Callers hold s.mu.
func (s *Simulator) runBulks(sh *shop, now time.Time) {
	for _, bc := range sh.bulks {
		if bc.done || now.Before(bc.due) {
			continue
		}
		bc.done = true
		for i := range bc.codes {
			c := &bc.codes[i]
			f := []any{"codes", i, "code"}
			switch {
			case strings.TrimSpace(c.code) == "":
				c.errs = []any{discountError(f, "BLANK", "Code can't be blank")}
			case len(c.code) > 255:
				c.errs = []any{discountError(f, "TOO_LONG", "Code is too long (maximum is 255 characters)")}
			case strings.ContainsAny(c.code, "\r\n"):
				c.errs = []any{discountError(f, "INVALID", "Code cannot contain newline characters.")}
			case sh.discountByCode(c.code) != nil:
				c.errs = []any{discountError(f, "TAKEN", "Code must be unique. Please try a different code.")}
			default:
				r := redeemCode{id: gid("DiscountRedeemCode", s.nextID()), code: c.code}
				bc.disc.more = append(bc.disc.more, r)
				c.redeem = &r
			}
		}
		bc.disc.updated = now
		s.log.Info("bulk codes added", "shop", sh.domain, "codes", len(bc.codes))
	}
}

// bulkNode renders a DiscountRedeemCodeBulkCreation.
func (s *Simulator) bulkNode(bc *bulkCreation) map[string]any {
	imported, failed := 0, 0
	var nodes []map[string]any
	for _, c := range bc.codes {
		var redeem any
		errs := c.errs
		if errs == nil {
			errs = []any{}
		}
		if c.redeem != nil {
			imported++
			redeem = map[string]any{"__typename": "DiscountRedeemCode", "id": c.redeem.id, "code": c.redeem.code, "asyncUsageCount": 0}
		} else if bc.done {
			failed++
		}
		nodes = append(nodes, map[string]any{"__typename": "DiscountRedeemCodeBulkCreationCode", "code": c.code, "errors": errs, "discountRedeemCode": redeem})
	}
	codes := argField(func(args map[string]any) any {
		start := 0
		if after, _ := args["after"].(string); after != "" {
			for i, n := range nodes {
				if codeCursor(n) == after {
					start = i + 1
				}
			}
		}
		size := pageSize(args)
		page := nodes[min(start, len(nodes)):]
		more := len(page) > size
		if more {
			page = page[:size]
		}
		return connection("DiscountRedeemCodeBulkCreationCode", page, codeCursor, more)
	})
	return map[string]any{"__typename": "DiscountRedeemCodeBulkCreation", "id": bc.id, "done": bc.done,
		"codesCount": len(bc.codes), "importedCount": imported, "failedCount": failed, "createdAt": timestamp(bc.created),
		"codes": codes}
}

// codeCursor is a bulk creation code's cursor: its code.
func codeCursor(n map[string]any) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(n["code"])))
}

// bulkCreationNode is discountRedeemCodeBulkCreation(id); null when unknown.
func (s *Simulator) bulkCreationNode(sh *shop, args map[string]any) any {
	id, _ := args["id"].(string)
	if bc := sh.bulks[id]; bc != nil {
		return s.bulkNode(bc)
	}
	return nil
}

// redeemCodesDelete is discountCodeRedeemCodeBulkDelete with ids (the
// only form the app uses; search and savedSearchId are refused here).
func (s *Simulator) redeemCodesDelete(sh *shop, args map[string]any) (any, *gqlError) {
	out := func(job any, ues ...any) any {
		if ues == nil {
			ues = []any{}
		}
		return map[string]any{"__typename": "DiscountCodeRedeemCodeBulkDeletePayload", "job": job, "userErrors": ues}
	}
	id, _ := args["discountId"].(string)
	var d *discount
	for _, x := range sh.discounts {
		if x.ID == id {
			d = x
		}
	}
	ids, _ := args["ids"].([]any)
	switch {
	case d == nil:
		return out(nil, discountError([]any{"discountId"}, "INVALID", "Code discount does not exist.")), nil
	case len(ids) == 0:
		return out(nil, discountError([]any{"ids"}, "BLANK", "Ids can't be blank")), nil
	}
	gone := map[string]bool{}
	for _, v := range ids {
		s, _ := v.(string)
		gone[s] = true
	}
	kept := d.more[:0]
	for _, r := range d.more {
		if !gone[r.id] {
			kept = append(kept, r)
		}
	}
	d.more = kept
	d.updated = s.cfg.Now()
	// The discount's first code is its own: removing it would leave a
	// discount without its code; Shopify keeps a discount's last code.
	return out(map[string]any{"__typename": "Job", "id": gid("Job", s.nextID()), "done": true}), nil
}
