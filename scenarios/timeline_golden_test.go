package scenarios

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
	"github.com/tlslab/tlslab/lab/timeline/timelinetest"
)

// Golden timelines of catalog scenarios that tell distinct stories, in
// testdata/timelines/<family>-<name>.golden, compared byte for byte and
// rewritten with 'go test ./scenarios -run Golden -update' (the package's
// -update flag, file_test.go). Each is the per-connection projection of
// the run's timeline (timelinetest.Lanes): the World is concurrent, so
// how events at different hosts interleave varies from run to run, while
// each lane's order does not.
var goldenTimelines = []string{
	"baseline/client-register-im",
	"baseline/revoked-server-cert",
	"eavesdrop/tls",
	"mitm/self-signed",
	"mitm/attacker-ca-installed", // the decrypted SIP MESSAGE with the canary, on both legs
	"eavesdrop/stolen-key-static-rsa",
	"dns/rogue-server",
	"dns/on-path-spoof",        // the forged answer marked, after alice's query
	"dns/dnssec-on-path-spoof", // the forgery, then the genuine signed answer
	"dns/hijack-mis-issued-cert",
	"mtls/untrusted-client-cert",
	"federation/partner-not-allowed",
}

func TestTimelineGolden(t *testing.T) {
	catalog := Catalog()
	for _, name := range goldenTimelines {
		t.Run(strings.ReplaceAll(name, "/", "-"), func(t *testing.T) {
			s, err := catalog.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			ignore := goleak.IgnoreCurrent()
			res, tl := timeline.Record(context.Background(), lab.Runner{Seed: 1}, s)
			if !res.OK {
				t.Fatalf("%s: verdict %s, err %v; want %s", name, res.Verdict, res.Err, s.Expected)
			}
			path := filepath.Join("testdata", "timelines", strings.ReplaceAll(name, "/", "-")+".golden")
			timelinetest.CheckGolden(t, path, timelinetest.Lanes(tl), *updateGolden, "go test ./scenarios -run Golden -update")
			goleak.VerifyNone(t, ignore)
		})
	}
}

// The on-path DNS forgeries are marked from the wire alone (their answer
// crosses the segment before alice's query does), placed right after the
// query they answer, and sent by nobody the wire can name; dns01's genuine
// answer follows them (the run waits for it), signed with DNSSEC.
func TestTimelineForgedDNSAnswer(t *testing.T) {
	catalog := Catalog()
	for _, tc := range []struct {
		name    string
		genuine bool
		signed  bool
	}{{"dns/on-path-spoof", true, false}, {"dns/dnssec-on-path-spoof", true, true}} {
		t.Run(strings.ReplaceAll(tc.name, "/", "-"), func(t *testing.T) {
			s, err := catalog.Lookup(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			res, tl := timeline.Record(context.Background(), lab.Runner{Seed: 1}, s)
			if !res.OK {
				t.Fatalf("verdict %s, err %v", res.Verdict, res.Err)
			}
			const query = "DNS query pool01.contoso.com A -> 10.0.0.53 (dns01)"
			const forged = "DNS answer pool01.contoso.com A -> 10.0.0.10 (alice): NOERROR: A 10.0.0.66 " +
				"(forged as 10.0.0.53 (dns01): it crossed the wire before the query it answers)"
			genuine := "DNS answer pool01.contoso.com A -> 10.0.0.10 (alice): NOERROR: A 10.0.0.11, A 10.0.0.12"
			if tc.signed {
				genuine += ", RRSIG(A)"
			}
			qi, fi, gi := -1, -1, -1
			for i, e := range tl {
				switch {
				case e.Text == query && qi < 0:
					qi = i
					if e.Peer != "dns01" {
						t.Errorf("query: Peer %q, want dns01", e.Peer)
					}
				case e.Text == forged:
					fi = i
					if !e.Forged || e.Host != "" || e.Peer != "alice" || e.Kind != timeline.DNS {
						t.Errorf("forged answer: Forged %v, Host %q, Peer %q, Kind %s; want true, \"\", alice, dns", e.Forged, e.Host, e.Peer, e.Kind)
					}
				case e.Text == genuine:
					gi = i
					if e.Forged || e.Host != "dns01" {
						t.Errorf("genuine answer: Forged %v, Host %q; want false, dns01", e.Forged, e.Host)
					}
				}
			}
			if qi < 0 || fi != qi+1 {
				t.Errorf("query at %d, forged answer at %d; want the answer right after the query", qi, fi)
			}
			if tc.genuine && gi <= fi {
				t.Errorf("genuine answer at %d, forged at %d; want the genuine one after it", gi, fi)
			}
			if tc.signed {
				// The resolver's refusal is placed at the forgery it
				// refused, not when the scenario wrote it down.
				const dropped = "evidence: resolver dropped the forged answer from 10.0.0.53:53 to its query A pool01.contoso.com (ID "
				di := slices.IndexFunc(tl, func(e timeline.Event) bool { return strings.HasPrefix(e.Text, dropped) })
				if di < 0 || di <= fi || di >= gi || tl[di].At != tl[fi].At || tl[di].Recorded <= tl[di].At {
					t.Errorf("the refusal at %d (of %d events), forged answer at %d, genuine at %d; want it between them, at the forgery's time and recorded later", di, len(tl), fi, gi)
				}
			}
			for i := 1; i < len(tl); i++ {
				if tl[i].At < tl[i-1].At {
					t.Fatalf("event %d (%s) at %v before event %d at %v", i, tl[i].Text, tl[i].At, i-1, tl[i-1].At)
				}
			}
		})
	}
}
