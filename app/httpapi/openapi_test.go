package httpapi

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// docs/openapi.yaml documents every admin API route: a route added without
// its documentation fails here.
func TestOpenAPICoversTheAdminAPI(t *testing.T) {
	spec, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := (&Server{}).Handler().(*gin.Engine)
	param := regexp.MustCompile(`:([a-z]+)`)
	n := 0
	for _, r := range h.Routes() {
		if !strings.HasPrefix(r.Path, "/api/admin/shops/") || r.Method == http.MethodHead {
			continue
		}
		n++
		path := param.ReplaceAllString(r.Path, "{$1}")
		i := strings.Index(string(spec), "\n  "+path+":")
		if i < 0 {
			t.Errorf("%s %s is not in docs/openapi.yaml", r.Method, path)
			continue
		}
		block := string(spec[i+1:])
		if j := strings.Index(block[2:], "\n  /"); j >= 0 {
			block = block[:j+2]
		}
		if !strings.Contains(block, "\n    "+strings.ToLower(r.Method)+":") {
			t.Errorf("%s %s: method not documented", r.Method, path)
		}
	}
	if n < 6 {
		t.Fatalf("only %d admin routes found", n)
	}
}
