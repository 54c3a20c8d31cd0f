package scenarios

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
	"github.com/tlslab/tlslab/netsim"
)

// impairedScenarios are one or two scenarios of each family, each a
// different path through the network: a baseline over DNS, TLS and OCSP,
// a tap, MITMs by ARP, an MTLS peer, a DNS hijack, federation.
var impairedScenarios = []string{
	"baseline/client-register-im",
	"baseline/fe-to-fe-mtls",
	"eavesdrop/tls",
	"mitm/self-signed",
	"mitm/mis-issued-cert",
	"mtls/not-in-topology",
	"dns/hijack-mis-issued-cert",
	"federation/partner-not-allowed",
}

func pickScenarios(t *testing.T, names []string) []lab.Scenario {
	t.Helper()
	picked, err := Catalog().Select(names, nil)
	if err != nil {
		t.Fatal(err)
	}
	return picked
}

func mustImpair(t *testing.T, spec string) netsim.ImpairSpec {
	t.Helper()
	imp, err := netsim.ParseImpairSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

// TestImpairedNetworkSameOutcomes: loss, reordering and duplication cost
// time, not verdicts. Each run on an impaired network gives the verdict,
// decisive defenses and service the catalog's baseline holds, and TCP's
// retransmissions show in the captures, which tshark reads without a
// malformed frame or a bad checksum.
func TestImpairedNetworkSameOutcomes(t *testing.T) {
	if testing.Short() {
		t.Skip("impaired runs wait for retransmissions")
	}
	stored, err := baseline.Read(runBaselineFile, baseline.KindRun)
	if err != nil {
		t.Fatal(err)
	}
	picked := pickScenarios(t, impairedScenarios)
	for _, spec := range []string{"loss=2%", "reorder=5%,duplicate=1%"} {
		for _, seed := range []uint64{1} {
			t.Run(fmt.Sprintf("%s/seed=%d", spec, seed), func(t *testing.T) {
				dir := t.TempDir()
				r := lab.Runner{Seed: seed, Impair: mustImpair(t, spec), PcapDir: dir, Parallel: 2 * runtime.NumCPU()}
				results := r.RunAll(context.Background(), picked)
				requireUnchanged(t, runBaselineFile, stored.Compare(baseline.OfRun(results), false))
				for _, res := range results {
					if res.Impair != spec {
						t.Errorf("%s: Result.Impair %q, want %q", res.Scenario, res.Impair, spec)
					}
				}
				if strings.HasPrefix(spec, "loss") {
					checkRetransmissions(t, dir)
				}
			})
		}
	}
}

// checkRetransmissions requires tshark to mark retransmissions in the
// captures under dir and to find nothing malformed and no bad checksum.
// Without tshark it skips, except in CI.
func checkRetransmissions(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not on PATH but CI=true: .ci/run must install it")
		}
		t.Log("tshark is not on PATH; the captures are not checked")
		return
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	if len(files) == 0 {
		t.Fatal("no capture written")
	}
	retransmissions := 0
	for _, f := range files {
		out, err := tsharkOutput(append([]string{"-r", f, "-Y", "tcp.analysis.retransmission || tcp.analysis.fast_retransmission", "-T", "fields", "-e", "frame.number"}, checksums...)...)
		if err != nil {
			t.Fatal(err)
		}
		retransmissions += len(strings.Fields(out))
		bad, err := tsharkOutput(append([]string{"-r", f, "-Y", "_ws.malformed || ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\"", "-T", "fields", "-e", "frame.number"}, checksums...)...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(bad) != "" {
			t.Errorf("%s: malformed or bad-checksum frames %s", filepath.Base(f), strings.Join(strings.Fields(bad), ", "))
		}
	}
	if retransmissions == 0 {
		t.Errorf("no retransmission in %d captures of lossy runs", len(files))
	}
}

// TestCutOffAttackerNotCarriedOut: with mallory's links dropping
// everything, her attacks never get in position (error, attack not
// carried out) — her taps and on-path hooks act only through her NIC, and
// the MTLS insider she runs answers to her name — and the baselines,
// which she is not part of, keep their outcomes.
func TestCutOffAttackerNotCarriedOut(t *testing.T) {
	stored, err := baseline.Read(runBaselineFile, baseline.KindRun)
	if err != nil {
		t.Fatal(err)
	}
	picked := pickScenarios(t, []string{"baseline/client-register-im", "baseline/revoked-server-cert",
		"eavesdrop/tls", "eavesdrop/plaintext", "mitm/self-signed", "mitm/mis-issued-cert", "mitm/tls-strip",
		"mtls/not-in-topology", "dns/rogue-server", "dns/on-path-spoof", "dns/dnssec-on-path-spoof", "federation/partner-not-allowed"})
	r := lab.Runner{Seed: 1, Impair: mustImpair(t, "host=mallory,loss=100%"), Parallel: 2 * runtime.NumCPU()}
	for _, res := range r.RunAll(context.Background(), picked) {
		if strings.HasPrefix(res.Scenario, "baseline/") {
			requireUnchanged(t, runBaselineFile, stored.Compare(baseline.OfRun([]lab.Result{res}), false))
			continue
		}
		var inc *lab.InconclusiveError
		if res.Verdict != lab.Error || !errors.As(res.Err, &inc) || inc.Reason != lab.ReasonNotCarriedOut {
			t.Errorf("%s with mallory cut off: %s (%v), want error: attack not carried out", res.Scenario, res.Verdict, res.Err)
		}
	}
}
