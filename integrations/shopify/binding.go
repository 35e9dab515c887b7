package shopify

import (
	"encoding/json"
	"strings"

	"github.com/bytedance/sonic"

	"github.com/parrain/parrain/app"
)

// Shopify's HMAC covers the body only: X-Shopify-Topic and
// X-Shopify-Shop-Domain are unsigned, so anyone holding one signed body
// (a captured order, a leaked log) can re-send it under another topic and
// another shop's domain. What the headers claim is therefore bound to what
// the signed body says before anything is stored: every topic's payload has
// its own shape, and the shop-level topics name their shop in the body.

// body is a payload's top-level keys: presence tells the topics' shapes
// apart (a key with a null value is present).
type body map[string]json.RawMessage

func (b body) has(k string) bool { _, ok := b[k]; return ok }

// id returns the key's value as a positive integer id.
func (b body) id(k string) (int64, bool) {
	var v int64
	if !b.has(k) || json.Unmarshal(b[k], &v) != nil {
		return 0, false
	}
	return v, v > 0
}

// str returns the key's string value; ok is false when absent, null or not
// a string.
func (b body) str(k string) (string, bool) {
	var s *string
	if json.Unmarshal(b[k], &s) != nil || s == nil {
		return "", false
	}
	return *s, true
}

// ShopLevelTopic reports whether the topic acts on the whole shop or on a
// customer's data (app/uninstalled and the compliance topics). Their bodies
// name the shop, and the intake checks the name against the shop it knows.
func ShopLevelTopic(topic string) bool {
	switch topic {
	case TopicAppUninstalled, TopicShopRedact, TopicCustomersRedact, TopicCustomersDataReq:
		return true
	}
	return false
}

// BindWebhook checks that the signed body is a payload of the claimed topic
// for the claimed shop (shopify.md §2, fixtures/shopify):
//
//   - orders/*: an Order (id; no order_id, shop_id, shop_domain or
//     myshopify_domain, which only the other topics' bodies carry);
//   - refunds/create: a Refund (id and order_id);
//   - app/uninstalled: a Shop (id and myshopify_domain; the domain, when
//     set, is the header's shop, and the id is the one we know, if we know it);
//   - shop/redact, customers/redact, customers/data_request: shop_id and
//     shop_domain equal to the header's shop (and to the id we know), plus
//     the customer and the order list or request the topic carries.
//
// knownShopID is the platform id recorded for the shop (0 when unknown). A
// body of another shape is EINVALID (400); a body naming another shop is
// EUNAUTHORIZED (401): the signature does not vouch for that shop.
func BindWebhook(topic, shopDomain string, knownShopID int64, payload []byte) error {
	var b body
	// Every delivery passes here with its (often 30 KB) order: sonic's
	// std-compatible mode splits it into top-level fields at a fraction of
	// encoding/json's cost (the intake already validated it the same way).
	if err := sonic.ConfigStd.Unmarshal(payload, &b); err != nil || b == nil {
		return app.Errorf(app.EINVALID, "body does not have the shape of a %s payload", topic)
	}
	shape := func(ok bool) error {
		if ok {
			return nil
		}
		return app.Errorf(app.EINVALID, "body does not have the shape of a %s payload", topic)
	}
	otherShop := app.Errorf(app.EUNAUTHORIZED, "the signed body names another shop than X-Shopify-Shop-Domain")
	// Keys only the shop-level and compliance bodies carry.
	shopKeys := b.has("shop_id") || b.has("shop_domain") || b.has("myshopify_domain")
	switch topic {
	case TopicOrdersCreate, TopicOrdersPaid, TopicOrdersCancelled:
		_, id := b.id("id")
		return shape(id && !b.has("order_id") && !shopKeys && !b.has("data_request"))
	case TopicRefundsCreate:
		_, id := b.id("id")
		_, oid := b.id("order_id")
		return shape(id && oid && !shopKeys)
	case TopicAppUninstalled:
		id, ok := b.id("id")
		if err := shape(ok && b.has("myshopify_domain") && !b.has("order_id") && !b.has("shop_id") && !b.has("customer") && !b.has("line_items")); err != nil {
			return err
		}
		if dom, ok := b.str("myshopify_domain"); ok && !strings.EqualFold(dom, shopDomain) {
			return otherShop
		}
		if knownShopID != 0 && id != knownShopID {
			return otherShop
		}
		return nil
	case TopicShopRedact, TopicCustomersRedact, TopicCustomersDataReq:
		id, ok := b.id("shop_id")
		dom, okDom := b.str("shop_domain")
		if err := shape(ok && okDom && !b.has("id") && !b.has("order_id")); err != nil {
			return err
		}
		switch topic {
		case TopicShopRedact:
			// A customer request of the same shop must not pass for a
			// request to erase the whole shop.
			if err := shape(!b.has("customer") && !b.has("orders_to_redact") && !b.has("orders_requested") && !b.has("data_request")); err != nil {
				return err
			}
		case TopicCustomersRedact:
			if err := shape(b.has("customer") && b.has("orders_to_redact") && !b.has("data_request")); err != nil {
				return err
			}
		case TopicCustomersDataReq:
			var req body
			_ = json.Unmarshal(b["data_request"], &req)
			_, reqID := req.id("id")
			if err := shape(b.has("customer") && b.has("orders_requested") && reqID); err != nil {
				return err
			}
		}
		if !strings.EqualFold(dom, shopDomain) || (knownShopID != 0 && id != knownShopID) {
			return otherShop
		}
		return nil
	}
	return app.Errorf(app.EINVALID, "unknown or missing X-Shopify-Topic")
}
