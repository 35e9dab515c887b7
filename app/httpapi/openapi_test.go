package httpapi

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"
)

// docs/openapi.yaml is valid YAML with the OpenAPI top level: a stray colon
// in an unquoted description breaks every tool that reads it.
func TestOpenAPIIsValidYAML(t *testing.T) {
	spec, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string         `yaml:"openapi"`
		Paths      map[string]any `yaml:"paths"`
		Components map[string]any `yaml:"components"`
	}
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if doc.OpenAPI == "" || len(doc.Paths) < 6 || doc.Components["schemas"] == nil {
		t.Fatalf("docs/openapi.yaml lacks openapi/paths/components: %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}
}

// Route groups registered only when their service is wired: the test wires
// a stand-in (never called) so their routes are checked too.
type (
	someCampaigns  struct{ Campaigns }
	someMilestones struct{ MilestoneReader }
)

// docs/openapi.yaml documents every admin API route: a route added without
// its documentation fails here.
func TestOpenAPICoversTheAdminAPI(t *testing.T) {
	spec, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := (&Server{Campaigns: someCampaigns{}, Milestones: someMilestones{}}).Handler().(*gin.Engine)
	param := regexp.MustCompile(`:([a-z]+)`)
	n := 0
	seen := map[string]bool{}
	for _, r := range h.Routes() {
		if !strings.HasPrefix(r.Path, "/api/admin/shops/") || r.Method == http.MethodHead {
			continue
		}
		n++
		path := param.ReplaceAllString(r.Path, "{$1}")
		seen[r.Method+" "+path] = true
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
	for _, must := range []string{
		"GET /api/admin/shops/{shop}/campaigns", "POST /api/admin/shops/{shop}/campaigns",
		"PUT /api/admin/shops/{shop}/campaigns/{id}", "DELETE /api/admin/shops/{shop}/campaigns/{id}",
		"GET /api/admin/shops/{shop}/advocates/{id}/milestones",
	} {
		if !seen[must] {
			t.Errorf("%s was not registered, so not checked", must)
		}
	}
}
