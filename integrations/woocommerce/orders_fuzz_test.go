package woocommerce

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Seeds: the recorded deliveries' bodies (WooCommerce 10.0.2), the REST
// docs' order, and shapes the parsers must refuse cleanly.
func addWooSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/delivery-*.json")
	for _, name := range files {
		if strings.Contains(name, "wc-auth") || strings.Contains(name, "rest-no-route") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var r recorded
		if err := json.Unmarshal(b, &r); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(r.Delivery.Body))
	}
	if b, err := os.ReadFile("testdata/rest-order-727.json"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"id":1}`, `{"id":1,"total":"1e400","currency":"EUR"}`,
		`{"id":1,"total":"10.00","currency":"EUR","refunds":[{"id":3,"total":"--5"}]}`,
		`{"id":1,"total":"10.00","currency":"EUR","meta_data":[{"key":"_wc_order_attribution_session_entry","value":"http://[::1"}]}`,
		`{"id":1,"status":"checkout-draft"}`, `{"webhook_id":12}`} {
		f.Add([]byte(s))
	}
}

// An order body is parsed or refused; never a panic. What the parser takes,
// the dedup key takes too, and a parsed change names its order.
func FuzzParseOrder(f *testing.F) {
	addWooSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		ch, err := ParseOrder(payload)
		if err != nil || ch == nil {
			return
		}
		if ch.Order.Order.PlatformID == "" || ch.Order.Order.PlatformID == "0" {
			t.Fatalf("parsed change without its order: %+v", ch)
		}
		if _, err := DeliveryKey(payload); err != nil {
			t.Fatalf("parsed order but no dedup key: %v", err)
		}
		for _, r := range ch.Refunds {
			if r.RefundID == "" || r.Order.PlatformID != ch.Order.Order.PlatformID || r.RefundMinor < 0 {
				t.Fatalf("refund %+v of another order", r)
			}
		}
	})
}

// The dedup key depends on what the body says, not on how it is written:
// the same content re-encoded (other whitespace, key order) gives the same
// key, so a repeat is a duplicate; and it is deterministic.
func FuzzDeliveryKey(f *testing.F) {
	addWooSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		key, err := DeliveryKey(payload)
		if err != nil {
			return
		}
		if !strings.HasPrefix(key, "order:") {
			t.Fatalf("key %q", key)
		}
		if again, _ := DeliveryKey(payload); again != key {
			t.Fatalf("not deterministic: %q then %q", key, again)
		}
		if hasDuplicateKeys(payload) {
			// {"id":1,"id":null}: a struct keeps 1, a map keeps null, so
			// re-encoding is not the same content (testdata/fuzz seed).
			return
		}
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		re, err := json.MarshalIndent(v, "", "   ")
		if err != nil {
			return
		}
		if other, err := DeliveryKey(re); err != nil || other != key {
			t.Fatalf("re-encoded body: key %q (%v), want %q", other, err, key)
		}
	})
}

// hasDuplicateKeys reports whether any JSON object in b repeats a key.
func hasDuplicateKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // next string token in an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.obj {
					top.expect = true
				}
				stack = append(stack, &frame{obj: t == '{', keys: map[string]bool{}, expect: t == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
		default:
			if top != nil && top.obj {
				if top.expect {
					k, _ := t.(string)
					if top.keys[k] {
						return true
					}
					top.keys[k] = true
					top.expect = false
				} else {
					top.expect = true
				}
			}
		}
	}
}
