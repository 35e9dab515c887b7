package widget

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// dist/ is what the binary embeds: it must be what src/ builds to.
func TestDistIsFresh(t *testing.T) {
	for _, name := range Scripts {
		want, err := Minify(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile("dist/" + name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("dist/%s is stale: run `go generate ./widget`", name)
		}
	}
}

func TestBudget(t *testing.T) {
	a, err := NewAssets()
	if err != nil {
		t.Fatal(err)
	}
	total := a.Size("loader.js", "gzip") + a.Size(a.PopupName, "gzip")
	t.Logf("loader+popup gzipped: %d bytes (brotli %d)", total, a.Size("loader.js", "br")+a.Size(a.PopupName, "br"))
	if total > BudgetGzip || total == 0 {
		t.Fatalf("loader+popup gzipped = %d bytes, budget %d", total, BudgetGzip)
	}
}

func TestServe(t *testing.T) {
	a, err := NewAssets()
	if err != nil {
		t.Fatal(err)
	}
	get := func(name, enc, etag string) *http.Response {
		r := httptest.NewRequest(http.MethodGet, "/widget/"+name, nil)
		if enc != "" {
			r.Header.Set("Accept-Encoding", enc)
		}
		if etag != "" {
			r.Header.Set("If-None-Match", etag)
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w.Result()
	}
	decode := func(resp *http.Response) string {
		var rd io.Reader = resp.Body
		switch resp.Header.Get("Content-Encoding") {
		case "gzip":
			rd, _ = gzip.NewReader(resp.Body)
		case "br":
			rd = brotli.NewReader(resp.Body)
		}
		b, _ := io.ReadAll(rd)
		return string(b)
	}

	loader := get("loader.js", "", "")
	body := decode(loader)
	if loader.StatusCode != 200 || !strings.Contains(body, "/widget/"+a.PopupName) || strings.Contains(body, "__POPUP__") {
		t.Fatalf("loader: %d, does not point at %s", loader.StatusCode, a.PopupName)
	}
	if cc := loader.Header.Get("Cache-Control"); cc != shortCache {
		t.Errorf("loader Cache-Control %q", cc)
	}
	if r := get("loader.js", "", loader.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("loader with its ETag: %d, want 304", r.StatusCode)
	}
	for _, tc := range []struct{ accept, want string }{
		{"gzip, deflate, br", "br"},
		{"gzip", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"identity", ""},
	} {
		r := get(a.PopupName, tc.accept, "")
		if got := r.Header.Get("Content-Encoding"); got != tc.want {
			t.Errorf("Accept-Encoding %q: got %q, want %q", tc.accept, got, tc.want)
		}
		if !strings.Contains(decode(r), "parrain") || r.Header.Get("Cache-Control") != foreverCache {
			t.Errorf("popup %q: bad body or cache %q", tc.accept, r.Header.Get("Cache-Control"))
		}
	}
	if r := get("popup.000000000000.js", "", ""); r.StatusCode != 404 {
		t.Errorf("unknown version: %d", r.StatusCode)
	}
}
