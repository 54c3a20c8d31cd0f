package scenarios

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab/report"
	"github.com/tlslab/tlslab/lab/timeline/timelinetest"
)

// Golden descriptions (tlslab show NAME) of scenarios that change the
// preset's world, in testdata/show/<family>-<name>.golden, rewritten with
// 'go test ./scenarios -run Golden -update'. A description is
// deterministic: it is built before anything runs.
var goldenShows = []string{
	"mitm/attacker-ca-installed",      // Mallory Root CA in alice's own trust store; mallory, her CA and certificate
	"eavesdrop/stolen-key-static-rsa", // fe01's RSA certificate on 5061, the tap holding its key
	"dns/on-path-spoof",               // mallory on the switch, her fake pool and forged certificate
	"mitm/rogue-gateway-self-signed",  // alice's route to fe01 via mallory
	"mitm/stolen-key-revoked",         // fe01's certificate, revoked, in mallory's hands
}

func TestShowGolden(t *testing.T) {
	catalog := Catalog()
	for _, name := range goldenShows {
		t.Run(strings.ReplaceAll(name, "/", "-"), func(t *testing.T) {
			s, err := catalog.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := report.WriteShow(&b, s, s.DefensesFor()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "show", strings.ReplaceAll(name, "/", "-")+".golden")
			timelinetest.CheckGolden(t, path, b.String(), *updateGolden, "go test ./scenarios -run Golden -update")
		})
	}
}
