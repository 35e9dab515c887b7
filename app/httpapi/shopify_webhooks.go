package httpapi

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/metrics"
	"github.com/parrain/parrain/integrations/shopify"
)

// shopifyWebhook is the intake: verify, store, acknowledge. Order of checks
// is part of the contract: the signature is checked on the raw bytes before
// anything is parsed, and nothing is written unless every check passed. The
// 200 is sent only after the event is committed in Postgres; its job is
// queued afterwards (see jobs.Dispatcher), so Redis being down never costs an
// event, and Postgres being down answers 503 so Shopify retries.
func (s *Server) shopifyWebhook(c *gin.Context) {
	reject := func(reason string, err error) {
		metrics.WebhooksRejected.WithLabelValues("shopify", reason).Inc()
		fail(c, err)
	}
	body, buf, ok := s.intakeBodyBuf(c, reject)
	if !ok {
		return
	}
	// The body's buffer is reused by a later delivery once nothing can
	// read it any more: on every return but a failed StoreEvent, whose
	// request may still sit in the insert stage's queue (its caller gave
	// up) and be written later.
	reuse := true
	defer func() {
		if reuse {
			putBodyBuf(buf)
		}
	}()
	h := shopify.ReadWebhookHeaders(c.Request.Header)
	if err := shopify.VerifyWebhook(body, h.HMAC, s.ShopifySecret); err != nil {
		reject("hmac", err)
		return
	}
	body = s.storable(c, body)
	if !shopify.KnownTopic(h.Topic) {
		reject("topic", app.Errorf(app.EINVALID, "unknown or missing X-Shopify-Topic"))
		return
	}
	domain, err := shopify.NormalizeShop(h.Shop)
	if err != nil {
		reject("shop", app.Errorf(app.EINVALID, "missing or invalid X-Shopify-Shop-Domain"))
		return
	}
	eventID := h.EventID
	if eventID == "" {
		// Deliveries without X-Shopify-Event-Id (older API versions) are
		// deduplicated per delivery only.
		eventID = "webhook:" + h.WebhookID
	}
	if eventID == "webhook:" || len(eventID) > 200 {
		reject("event_id", app.Errorf(app.EINVALID, "missing X-Shopify-Event-Id"))
		return
	}
	// One decode validates the body and reads what the intake needs of it
	// (shopify.ReadWebhook).
	wb, err := shopify.ReadWebhook(h.Topic, body)
	if err != nil {
		reject("json", err)
		return
	}
	shopID, err := s.shopCache.lookup(domain, func() (int64, error) {
		sh, err := s.Shops.ShopByDomain(c.Request.Context(), app.PlatformShopify, domain)
		if err != nil {
			return 0, err
		}
		return sh.ID, nil
	})
	if err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			reject("shop", app.Errorf(app.ENOTFOUND, "unknown shop"))
			return
		}
		fail(c, err)
		return
	}
	// The headers are unsigned: bind them to the signed body before
	// anything is written (see shopify.BindWebhook). Shop-level topics are
	// rare; their check reads the shop's platform id uncached.
	var knownShopID int64
	if shopify.ShopLevelTopic(h.Topic) {
		sh, err := s.Shops.ShopByDomain(c.Request.Context(), app.PlatformShopify, domain)
		if err != nil {
			fail(c, err)
			return
		}
		knownShopID = sh.PlatformShopID
	}
	if err := wb.Bind(domain, knownShopID); err != nil {
		reject("binding", err)
		return
	}
	ev := &app.WebhookEvent{
		ShopID: shopID, Platform: app.PlatformShopify, Topic: h.Topic, EventID: eventID, WebhookID: h.WebhookID,
		TriggeredAt: h.TriggeredAt, APIVersion: h.APIVersion, Payload: body, CustomerID: wb.CustomerID,
	}
	id, created, err := s.Webhooks.StoreEvent(c.Request.Context(), ev)
	if err != nil {
		reuse = false
		fail(c, err)
		return
	}
	if !created {
		metrics.WebhooksDuplicate.WithLabelValues("shopify", h.Topic).Inc()
		logging.From(c.Request.Context()).Info("duplicate webhook", "topic", h.Topic, "shop_id", shopID)
		c.JSON(http.StatusOK, gin.H{"status": "duplicate"})
		return
	}
	metrics.WebhooksReceived.WithLabelValues("shopify", h.Topic).Inc()
	s.Notifier.Notify(app.EventRef{ID: id, ShopID: shopID, Topic: h.Topic, Inline: wb.Inline})
	c.JSON(http.StatusOK, gin.H{"status": "stored"})
}

// shopCache remembers shop ids by domain for a short while, sparing the
// intake a query per delivery. Only hits are cached: a shop that installs a
// second after an unknown-shop answer is found on the next delivery. A shop
// row is never deleted (redaction leaves a tombstone), so a cached id stays
// valid.
type shopCache struct {
	mu  sync.RWMutex
	ttl time.Duration
	now func() time.Time
	m   map[string]cachedShop
}

type cachedShop struct {
	id  int64
	exp time.Time
}

func newShopCache(ttl time.Duration, now func() time.Time) *shopCache {
	return &shopCache{ttl: ttl, now: now, m: map[string]cachedShop{}}
}

func (sc *shopCache) lookup(domain string, load func() (int64, error)) (int64, error) {
	sc.mu.RLock()
	e, ok := sc.m[domain]
	sc.mu.RUnlock()
	if ok && sc.now().Before(e.exp) {
		return e.id, nil
	}
	id, err := load()
	if err != nil {
		return 0, err
	}
	sc.mu.Lock()
	if len(sc.m) > 100000 {
		sc.m = map[string]cachedShop{}
	}
	sc.m[domain] = cachedShop{id: id, exp: sc.now().Add(sc.ttl)}
	sc.mu.Unlock()
	return id, nil
}

func (sc *shopCache) forget(domain string) {
	sc.mu.Lock()
	delete(sc.m, domain)
	sc.mu.Unlock()
}

// intakeBody reads a webhook's raw body, refusing one over WebhookMaxBody
// (413) before or while reading it.
func (s *Server) intakeBody(c *gin.Context, reject func(reason string, err error)) ([]byte, bool) {
	return s.intakeBodyInto(c, reject, nil)
}

// intakeBodyInto is intakeBody reading into *buf (grown as needed) when buf
// is not nil and the sender gave a Content-Length.
func (s *Server) intakeBodyInto(c *gin.Context, reject func(reason string, err error), buf *[]byte) ([]byte, bool) {
	tooLarge := app.Errorf(app.ETOOLARGE, "body over %d bytes", s.WebhookMaxBody)
	if c.Request.ContentLength > s.WebhookMaxBody {
		reject("too_large", tooLarge)
		return nil, false
	}
	body, err := readBody(c, s.WebhookMaxBody, buf)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			reject("too_large", tooLarge)
		} else {
			reject("read", app.Wrap(app.EINVALID, err, "could not read body"))
		}
		return nil, false
	}
	return body, true
}

// bodyBufs are the Shopify intake's body buffers: a 31 KB order body
// allocated (and zeroed) per delivery was a third of serve's allocation,
// paid again in garbage collection.
var bodyBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody is the largest buffer kept for reuse.
const maxPooledBody = 256 << 10

func putBodyBuf(buf *[]byte) {
	if buf != nil && cap(*buf) <= maxPooledBody {
		bodyBufs.Put(buf)
	}
}

// intakeBodyBuf is intakeBody reading into a pooled buffer when the sender
// gave a Content-Length (Shopify does). The caller gives buf back with
// putBodyBuf once nothing refers to the body (buf is nil when the body was
// not read into a pooled buffer).
func (s *Server) intakeBodyBuf(c *gin.Context, reject func(reason string, err error)) (body []byte, buf *[]byte, ok bool) {
	if n := c.Request.ContentLength; n <= 0 || n > maxPooledBody {
		body, ok = s.intakeBody(c, reject)
		return body, nil, ok
	}
	buf = bodyBufs.Get().(*[]byte)
	if body, ok = s.intakeBodyInto(c, reject, buf); !ok {
		putBodyBuf(buf)
		return nil, nil, false
	}
	return body, buf, true
}

// readBody reads at most limit bytes, in one allocation when the sender
// gave a Content-Length (Shopify does): into *buf when given, grown as
// needed.
func readBody(c *gin.Context, limit int64, buf *[]byte) ([]byte, error) {
	r := http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	if n := c.Request.ContentLength; n > 0 && n <= limit {
		var b []byte
		if buf != nil {
			if int64(cap(*buf)) < n {
				*buf = make([]byte, n, max(n, 32<<10))
			}
			b = (*buf)[:n]
		} else {
			b = make([]byte, n)
		}
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(r)
}
