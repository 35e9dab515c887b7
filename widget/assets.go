package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
)

//go:embed dist/*.js
var dist embed.FS

type asset struct {
	plain, gz, br []byte
	etag          string
	cache         string
}

// Assets serves the scripts: the loader and capture script at stable URLs
// with a short cache and an ETag, the popup at a content-hashed URL cached
// for a year. Each is compressed once, at start-up.
type Assets struct {
	files map[string]*asset
	// PopupName is the popup's versioned file name, popup.<hash>.js.
	PopupName string
}

const (
	shortCache   = "public, max-age=300"
	foreverCache = "public, max-age=31536000, immutable"
)

// NewAssets loads and compresses the built scripts.
func NewAssets() (*Assets, error) {
	read := func(name string) ([]byte, error) {
		b, err := dist.ReadFile("dist/" + name)
		if err != nil {
			return nil, fmt.Errorf("widget asset %s missing (go generate ./widget): %w", name, err)
		}
		return b, nil
	}
	popup, err := read("popup.js")
	if err != nil {
		return nil, err
	}
	a := &Assets{files: map[string]*asset{}}
	a.PopupName = "popup." + hash(popup)[:12] + ".js"
	loader, err := read("loader.js")
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(loader, []byte("__POPUP__")) {
		return nil, fmt.Errorf("widget loader has no __POPUP__ placeholder")
	}
	loader = bytes.ReplaceAll(loader, []byte("__POPUP__"), []byte(a.PopupName))
	capture, err := read("capture.js")
	if err != nil {
		return nil, err
	}
	a.add("loader.js", loader, shortCache)
	a.add("capture.js", capture, shortCache)
	a.add(a.PopupName, popup, foreverCache)
	// The same script at a stable URL, for pages that load it directly
	// (as the Shopify theme app embed does from its own assets).
	a.add("popup.js", popup, shortCache)
	return a, nil
}

func hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (a *Assets) add(name string, b []byte, cache string) {
	var gz, br bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	_, _ = bw.Write(b)
	_ = bw.Close()
	a.files[name] = &asset{plain: b, gz: gz.Bytes(), br: br.Bytes(), etag: `"` + hash(b)[:16] + `"`, cache: cache}
}

// Size returns the bytes a browser downloads for name with the encoding.
func (a *Assets) Size(name, encoding string) int {
	f, ok := a.files[name]
	switch {
	case !ok:
		return 0
	case encoding == "br":
		return len(f.br)
	case encoding == "gzip":
		return len(f.gz)
	}
	return len(f.plain)
}

// ServeHTTP serves /widget/{name}.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[path.Base(r.URL.Path)]
	if !ok {
		http.Error(w, "no such widget file", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", f.cache)
	h.Set("ETag", f.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	// Store pages load these from another origin; CORS lets them be
	// loaded with integrity checks or as modules if a theme wants to.
	h.Set("Access-Control-Allow-Origin", "*")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.plain
	switch enc := accepts(r.Header.Get("Accept-Encoding")); {
	case enc["br"]:
		h.Set("Content-Encoding", "br")
		body = f.br
	case enc["gzip"]:
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// accepts reads Accept-Encoding, leaving out codings refused with q=0.
func accepts(header string) map[string]bool {
	out := map[string]bool{}
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if q, err := strconv.ParseFloat(v, 64); err != nil || q <= 0 {
				continue
			}
		}
		out[strings.ToLower(strings.TrimSpace(name))] = true
	}
	return out
}
