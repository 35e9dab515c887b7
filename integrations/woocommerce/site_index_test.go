package woocommerce_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/parrain/parrain/integrations/woocommerce"
	"github.com/parrain/parrain/integrations/woocommerce/wcsim"
)

func TestSiteInfoReadsTheRESTIndex(t *testing.T) {
	sim := wcsim.New("ck", "cs")
	sim.Title, sim.TimezoneString, sim.GMTOffset = "La Boutique &amp; Cie", "", "-3"
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	site, err := woocommerce.SiteInfo(context.Background(), srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if site.Name != "La Boutique & Cie" || site.Timezone != "Etc/GMT+3" {
		t.Fatalf("%+v", site)
	}
}
