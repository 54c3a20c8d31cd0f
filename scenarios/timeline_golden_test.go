package scenarios

import (
	"context"
	"path/filepath"
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
	"dns/rogue-server",
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
