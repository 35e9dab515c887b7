package shopify

import (
	"bytes"
	"encoding/json"
	"unsafe"

	"github.com/bytedance/sonic"

	"github.com/parrain/parrain/app"
)

// jsonAPI decodes webhook bodies: validation exactly like encoding/json
// (sonic's std-compatible settings) at a fraction of its cost, and keys
// matched case-sensitively, as the binding's presence checks require
// (Shopify's keys are lower-case; encoding/json would also take "ID" for
// "id"). The intake and the worker decode orders the same way.
var jsonAPI = sonic.Config{
	EscapeHTML: true, SortMapKeys: true, CompactMarshaler: true, CopyString: true, ValidateString: true,
	CaseSensitive: true,
}.Froze()

// unmarshalBody is jsonAPI.Unmarshal without its copy of the body:
// sonic's Unmarshal(bytes) converts them to a string first (a 31 KB copy
// per order, 2-3% of serve's CPU and a third of its allocation). The
// decoded strings are copies (CopyString), so nothing decoded points into
// the body; the body is not modified while it is read.
func unmarshalBody(payload []byte, v any) error {
	return jsonAPI.UnmarshalFromString(unsafe.String(unsafe.SliceData(payload), len(payload)), v)
}

// orderBody is an orders/* body as the intake reads it, in one pass: the
// fields the engine uses and the keys that tell other topics' bodies apart
// (BindWebhook). A key present with null holds "null".
type orderBody struct {
	order
	OrderID         json.RawMessage `json:"order_id"`
	ShopID          json.RawMessage `json:"shop_id"`
	ShopDomain      json.RawMessage `json:"shop_domain"`
	MyshopifyDomain json.RawMessage `json:"myshopify_domain"`
	DataRequest     json.RawMessage `json:"data_request"`
}

// WebhookBody is a verified webhook body read by the intake.
type WebhookBody struct {
	topic, payload []byte
	// CustomerID is the customer the body names (0: none).
	CustomerID int64
	// Inline is, for an order topic, the order reduced to the fields the
	// engine reads (ParseOrderEvent gives the same event from it as from
	// the whole body): the job carries it, so the worker neither reloads
	// nor decodes the whole order. Nil for other topics.
	Inline []byte
	// order is set when the one-pass decode of an order topic succeeded.
	order *orderBody
}

// ReadWebhook checks that a verified body is a JSON object and reads what
// the intake needs of it, in one decode for order topics (the body is
// often 30 KB and this is the intake's largest CPU item). A body that is
// not a JSON object is EINVALID. Bind must be called before anything is
// stored.
func ReadWebhook(topic string, payload []byte) (*WebhookBody, error) {
	notJSON := app.Errorf(app.EINVALID, "body is not a JSON object")
	if trimmed := bytes.TrimSpace(payload); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, notJSON
	}
	wb := &WebhookBody{topic: []byte(topic), payload: payload}
	switch topic {
	case TopicOrdersCreate, TopicOrdersPaid, TopicOrdersCancelled:
		var o orderBody
		if unmarshalBody(payload, &o) == nil {
			wb.order = &o
			if o.Customer != nil {
				wb.CustomerID = o.Customer.ID
			}
			if b, err := jsonAPI.Marshal(&o.order); err == nil {
				wb.Inline = b
			}
			return wb, nil
		}
		// Valid JSON whose fields have unexpected types (the worker
		// will say which), or not JSON: read as any other topic.
	}
	var head struct {
		Customer *struct {
			ID int64 `json:"id"`
		} `json:"customer"`
	}
	if unmarshalBody(payload, &head) != nil {
		return nil, notJSON
	}
	if head.Customer != nil {
		wb.CustomerID = head.Customer.ID
	}
	return wb, nil
}

// Bind is BindWebhook for a body ReadWebhook read: an order body decoded in
// one pass is checked from that decode.
func (wb *WebhookBody) Bind(shopDomain string, knownShopID int64) error {
	o := wb.order
	if o == nil {
		return BindWebhook(string(wb.topic), shopDomain, knownShopID, wb.payload)
	}
	// As BindWebhook's orders/* case: a positive id; none of the keys only
	// other topics' bodies carry.
	if o.ID > 0 && o.OrderID == nil && o.ShopID == nil && o.ShopDomain == nil && o.MyshopifyDomain == nil && o.DataRequest == nil {
		return nil
	}
	return app.Errorf(app.EINVALID, "body does not have the shape of a %s payload", string(wb.topic))
}
