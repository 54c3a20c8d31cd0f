package autodiscover_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/internal/tsharktest"
)

// TestHTTPAutodiscoverDecodesInTshark captures the HTTPS-then-HTTP
// internal discovery and has tshark decode it: the refused HTTPS dial, the
// GET of the root over HTTP on port 80 and its JSON answer naming the
// pool, nothing malformed, no bad checksum, no expert warning but the
// refused connection's reset.
func TestHTTPAutodiscoverDecodesInTshark(t *testing.T) {
	tsharktest.Require(t)
	file := filepath.Join(t.TempDir(), "autodiscover.pcapng")
	t.Run("capture", func(t *testing.T) {
		l := newLAN(t, zoneAutodiscover, file)
		serve(t, l.fe, 80, nil, nil, service(t, "pool01.contoso.com"))
		res, err := autodiscover.Discover(t.Context(), autodiscover.Config{
			SIPDomain: "contoso.com", Resolver: l.stub, Dialer: l.client, RootCAs: l.root.Pool(), Time: l.w.Now,
		})
		if err != nil || res.Pool != "pool01.contoso.com" {
			t.Fatalf("Discover: %v, %v", res, err)
		}
	}) // the World and the capture are closed here
	got := tsharktest.Fields(t, file, "http", "ip.src", "http.request.method", "http.host", "http.request.uri", "http.response.code", "http.content_type", "json.value.string")
	want := []string{
		"10.0.0.10|GET|lyncdiscoverinternal.contoso.com|/autodiscover/autodiscoverservice.svc/root|||",
		"10.0.0.30||||200|application/json|Internal,http://lyncdiscoverinternal.contoso.com/Autodiscover/AutodiscoverService.svc/root?originalDomain=contoso.com,https://pool01.contoso.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=contoso.com,https://pool01.contoso.com/Autodiscover/XFrame/XFrame.html,pool01.contoso.com,sipexternal.contoso.com",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The Front End publishes no HTTPS: its RST to port 443 is the one
	// expected warning.
	if rst := tsharktest.Fields(t, file, "tcp.flags.reset == 1", "ip.src", "tcp.srcport"); strings.Join(rst, ",") != "10.0.0.30|443" {
		t.Errorf("resets %q, want the Front End's from port 443 alone", rst)
	}
	tsharktest.CheckClean(t, file, "tcp.flags.reset")
}
