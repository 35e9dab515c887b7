package wcsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Coupons as WooCommerce keeps them (woocommerce.md §5, §9): codes stored
// lower-case; a coupon's status cannot be changed through REST (PUT answers
// 200 and the coupon stays publish: WC_Coupon_Data_Store_CPT::update()
// writes the post only when code, description or dates change), while
// what is stored as meta (expiry, usage limit, email restrictions) is
// updated; DELETE moves to the trash, ?force=true removes; checkout refuses
// an expired coupon, one at its usage limit, or one restricted to other
// emails.

const wcDate = "2006-01-02T15:04:05"

// parseWCDate reads a date as WooCommerce does: with an offset it is that
// instant; without one it is in the site's timezone (UTC here).
func parseWCDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Parse(wcDate, v)
}

// setExpiry stores date_expires from a request value (null clears it).
func (c *Coupon) setExpiry(raw json.RawMessage) error {
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	if v == nil || *v == "" {
		c.DateExpires, c.DateExpiresGMT = nil, nil
		return nil
	}
	t, err := parseWCDate(*v)
	if err != nil {
		return err
	}
	// WooCommerce keeps the expiry as a timestamp and answers it in the
	// site's timezone without offset, and in GMT.
	local, gmt := t.Format(wcDate), t.UTC().Format(wcDate)
	c.DateExpires, c.DateExpiresGMT = &local, &gmt
	return nil
}

// applyFields applies the meta fields of a create or update body; status
// is not among them (§9).
func (c *Coupon) applyFields(in map[string]json.RawMessage) error {
	for k, raw := range in {
		var err error
		switch k {
		case "date_expires":
			err = c.setExpiry(raw)
		case "usage_limit":
			err = json.Unmarshal(raw, &c.UsageLimit)
		case "usage_limit_per_user":
			err = json.Unmarshal(raw, &c.UsageLimitPerUser)
		case "email_restrictions":
			err = json.Unmarshal(raw, &c.EmailRestrictions)
		case "amount":
			err = json.Unmarshal(raw, &c.Amount)
		case "description":
			err = json.Unmarshal(raw, &c.Description)
		case "discount_type":
			err = json.Unmarshal(raw, &c.DiscountType)
		case "minimum_amount":
			err = json.Unmarshal(raw, &c.MinimumAmount)
		case "individual_use":
			err = json.Unmarshal(raw, &c.IndividualUse)
		case "free_shipping":
			err = json.Unmarshal(raw, &c.FreeShipping)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

func (s *Sim) createCoupon(w http.ResponseWriter, r *http.Request) {
	var in map[string]json.RawMessage
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.newCoupon(in)
	if e != nil {
		wcError(w, e.status, e.code, e.msg)
		return
	}
	reply(w, http.StatusCreated, c)
}

// couponErr is a refusal of one coupon.
type couponErr struct {
	status    int
	code, msg string
}

// newCoupon validates and stores a coupon from a create body. Callers hold
// s.mu.
func (s *Sim) newCoupon(in map[string]json.RawMessage) (*Coupon, *couponErr) {
	var code string
	_ = json.Unmarshal(in["code"], &code)
	code = strings.ToLower(strings.TrimSpace(code))
	if code == "" {
		return nil, &couponErr{http.StatusBadRequest, "woocommerce_rest_empty_coupon_code", "The coupon code cannot be empty."}
	}
	c := Coupon{Code: code, Status: "publish", DiscountType: "fixed_cart", UsedBy: []string{}}
	if err := c.applyFields(in); err != nil {
		return nil, &couponErr{http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): " + err.Error()}
	}
	if st, ok := in["status"]; ok {
		// On creation the post status is written.
		_ = json.Unmarshal(st, &c.Status)
	}
	for _, x := range s.coupons {
		if x.Code == code {
			return nil, &couponErr{http.StatusBadRequest, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists"}
		}
	}
	s.seq++
	c.ID = s.seq
	s.coupons = append(s.coupons, &c)
	return &c, nil
}

// batchLimit is WC_REST_Controller::check_batch_limit's default (the
// woocommerce_rest_batch_items_limit filter): create + update + delete.
const batchLimit = 100

// batchCoupons is POST /coupons/batch as WC_REST_Controller::batch_items
// answers it: 413 over the limit (create + update + delete), else 200 with
// a list per group given, one item per entry in order.
//
// create: each item as POST /coupons would make it; a refused one is
// {"id": 0, "error": {code, message, data}}.
//
// update: each item goes to update_item as a PUT body (no schema
// validation: batch_items calls update_item directly). The coupon is looked
// up by the item's "id" (absint; WC_REST_CRUD_Controller::update_item):
// none is {"id": <as sent>, "error": {"code":
// "woocommerce_rest_shop_coupon_invalid_id", "message": "Invalid ID.",
// "data": {"status": 404}}}; a code another coupon holds is
// woocommerce_rest_coupon_code_already_exists (400,
// WC_REST_Coupons_V2_Controller::prepare_object_for_database); a
// discount_type WooCommerce does not know is WC_Coupon::set_discount_type's
// coupon_invalid_discount_type (400). Otherwise the given fields are set as
// a PUT sets them (status still ignored, §9) and the item is the coupon as
// stored. A trashed coupon is still found and updated.
//
// delete is counted against the limit but not played (Parrain never sends
// it).
func (s *Sim) batchCoupons(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Create []map[string]json.RawMessage `json:"create"`
		Update []map[string]json.RawMessage `json:"update"`
		Delete []json.RawMessage            `json:"delete"`
	}
	if !decode(w, r, &in) {
		return
	}
	if n := len(in.Create) + len(in.Update) + len(in.Delete); n > batchLimit {
		wcError(w, http.StatusRequestEntityTooLarge, "woocommerce_rest_request_entity_too_large",
			fmt.Sprintf("Unable to accept more than %d items for this request.", batchLimit))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	itemErr := func(id any, e *couponErr) map[string]any {
		return map[string]any{"id": id, "error": map[string]any{"code": e.code, "message": e.msg, "data": map[string]int{"status": e.status}}}
	}
	resp := map[string]any{}
	if len(in.Create) > 0 {
		out := []any{}
		for _, item := range in.Create {
			c, e := s.newCoupon(item)
			if e != nil {
				out = append(out, itemErr(0, e))
				continue
			}
			out = append(out, c)
		}
		resp["create"] = out
	}
	if len(in.Update) > 0 {
		out := []any{}
		for _, item := range in.Update {
			var sent any
			_ = json.Unmarshal(item["id"], &sent)
			c, e := s.batchUpdate(item)
			if e != nil {
				out = append(out, itemErr(sent, e))
				continue
			}
			out = append(out, c)
		}
		resp["update"] = out
	}
	if len(resp) == 0 {
		// PHP's empty array() is a JSON list.
		reply(w, http.StatusOK, []any{})
		return
	}
	reply(w, http.StatusOK, resp)
}

// couponTypes are wc_get_coupon_types()'s keys.
var couponTypes = []string{"percent", "fixed_cart", "fixed_product"}

// batchUpdate is update_item for one item of a batch. Callers hold s.mu.
func (s *Sim) batchUpdate(item map[string]json.RawMessage) (*Coupon, *couponErr) {
	var id float64
	_ = json.Unmarshal(item["id"], &id) // absint: anything else is 0
	var c *Coupon
	for _, x := range s.coupons {
		if id > 0 && x.ID == int64(id) {
			c = x
		}
	}
	if c == nil {
		return nil, &couponErr{http.StatusNotFound, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID."}
	}
	next := *c
	if raw, ok := item["code"]; ok {
		var code string
		_ = json.Unmarshal(raw, &code)
		code = strings.ToLower(strings.TrimSpace(code))
		for _, x := range s.coupons {
			if x.ID != c.ID && x.Code == code {
				return nil, &couponErr{http.StatusBadRequest, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists"}
			}
		}
		next.Code = code
	}
	if err := next.applyFields(item); err != nil {
		return nil, &couponErr{http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): " + err.Error()}
	}
	if !slices.Contains(couponTypes, next.DiscountType) {
		return nil, &couponErr{http.StatusBadRequest, "coupon_invalid_discount_type", "Invalid discount type"}
	}
	*c = next
	return c, nil
}

func (s *Sim) listCoupons(w http.ResponseWriter, r *http.Request) {
	code := strings.ToLower(r.URL.Query().Get("code"))
	s.mu.Lock()
	out := []Coupon{}
	for _, c := range s.coupons {
		if code == "" || c.Code == code {
			out = append(out, *c)
		}
	}
	s.mu.Unlock()
	w.Header().Set("X-WP-Total", strconv.Itoa(len(out)))
	reply(w, http.StatusOK, out)
}

func (s *Sim) coupon(w http.ResponseWriter, r *http.Request) (int, bool) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for i, c := range s.coupons {
		if c.ID == id {
			return i, true
		}
	}
	wcError(w, http.StatusNotFound, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.")
	return 0, false
}

func (s *Sim) getCoupon(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.coupon(w, r); ok {
		reply(w, http.StatusOK, *s.coupons[i])
	}
}

// updateCoupon answers 200 with the coupon as stored: meta fields change,
// status does not (§9).
func (s *Sim) updateCoupon(w http.ResponseWriter, r *http.Request) {
	var in map[string]json.RawMessage
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuseUpdates != "" {
		wcError(w, http.StatusForbidden, "rest_forbidden", s.refuseUpdates)
		return
	}
	i, ok := s.coupon(w, r)
	if !ok {
		return
	}
	c := *s.coupons[i]
	if err := c.applyFields(in); err != nil {
		wcError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): "+err.Error())
		return
	}
	*s.coupons[i] = c
	reply(w, http.StatusOK, c)
}

// deleteCoupon: without force the coupon goes to the trash (unusable, still
// listed); with force it is gone.
func (s *Sim) deleteCoupon(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.coupon(w, r)
	if !ok {
		return
	}
	c := *s.coupons[i]
	if r.URL.Query().Get("force") == "true" {
		s.coupons = slices.Delete(s.coupons, i, i+1)
	} else {
		s.coupons[i].Status = "trash"
		c.Status = "trash"
	}
	reply(w, http.StatusOK, c)
}

// RefuseCouponUpdates makes the store answer coupon updates 403 with msg
// (a security plugin or a WAF in front of the REST API); "" lifts it.
func (s *Sim) RefuseCouponUpdates(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseUpdates = msg
}

// checkCoupon is the checkout's validation of a coupon for a buyer's
// email (WC_Discounts::is_coupon_valid and the checkout's email check).
// Caller holds s.mu.
func (s *Sim) checkCoupon(code, email string) (*Coupon, error) {
	var c *Coupon
	for _, x := range s.coupons {
		if x.Code == strings.ToLower(strings.TrimSpace(code)) {
			c = x
		}
	}
	email = strings.ToLower(strings.TrimSpace(email))
	switch {
	case c == nil || c.Status != "publish":
		return nil, fmt.Errorf("coupon %q does not exist", code)
	case c.DateExpiresGMT != nil && !s.expiryAfterNow(*c.DateExpiresGMT):
		return nil, fmt.Errorf("coupon %q: this coupon has expired", code)
	case c.UsageLimit != nil && *c.UsageLimit > 0 && c.UsageCount >= *c.UsageLimit:
		return nil, fmt.Errorf("coupon %q: coupon usage limit has been reached", code)
	case len(c.EmailRestrictions) > 0 && !slices.ContainsFunc(c.EmailRestrictions, func(e string) bool { return strings.EqualFold(e, email) }):
		return nil, fmt.Errorf("coupon %q: please enter a valid email to use this coupon", code)
	case c.UsageLimitPerUser != nil && *c.UsageLimitPerUser > 0 && countOf(c.UsedBy, email) >= *c.UsageLimitPerUser:
		return nil, fmt.Errorf("coupon %q: usage limit per user reached", code)
	}
	return c, nil
}

func (s *Sim) expiryAfterNow(gmt string) bool {
	t, err := time.Parse(wcDate, gmt)
	return err == nil && s.Now().Before(t)
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// CouponUsable reports whether a shopper with this billing email could use
// the code at checkout now (nil), or why not.
func (s *Sim) CouponUsable(code, email string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.checkCoupon(code, email)
	return err
}
