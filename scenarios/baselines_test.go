package scenarios

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
	"github.com/tlslab/tlslab/lab/matrix"
)

// The catalog's baselines: every verdict and service of `tlslab run` and of
// `tlslab matrix`. A change that flips one (a new default, a library
// upgrade, a scenario edit) fails these tests with a was/now line per cell;
// if the change is intended, `make baselines` rewrites them.
const (
	runBaselineFile    = "testdata/baselines/run.json"
	matrixBaselineFile = "testdata/baselines/matrix.json"
)

func allScenarios(t *testing.T) []lab.Scenario {
	t.Helper()
	all, err := Catalog().Select(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// requireUnchanged fails with every changed cell, one per line.
func requireUnchanged(t *testing.T, file string, changes []baseline.Change) {
	t.Helper()
	if len(changes) == 0 {
		return
	}
	lines := make([]string, len(changes))
	for i, c := range changes {
		lines[i] = "  " + c.String()
	}
	t.Errorf("%d cells differ from %s:\n%s\n(if intended, run 'make baselines' and review the diff)", len(changes), file, strings.Join(lines, "\n"))
}

func TestCatalogMatchesRunBaseline(t *testing.T) {
	stored, err := baseline.Read(runBaselineFile, baseline.KindRun)
	if err != nil {
		t.Fatal(err)
	}
	results := lab.Runner{Parallel: runtime.NumCPU()}.RunAll(context.Background(), allScenarios(t))
	requireUnchanged(t, runBaselineFile, stored.Compare(baseline.OfRun(results), true))
}

func TestCatalogMatchesMatrixBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole matrix: 720 runs")
	}
	stored, err := baseline.Read(matrixBaselineFile, baseline.KindMatrix)
	if err != nil {
		t.Fatal(err)
	}
	m := matrix.Runner{Cells: lab.Runner{Parallel: runtime.NumCPU()}}
	res := m.Run(context.Background(), matrix.Attacks(allScenarios(t)))
	requireUnchanged(t, matrixBaselineFile, stored.Compare(baseline.OfMatrix(res), true))
}

// A default that changes is caught: the same check, with revocation
// soft-fail instead of hard-fail as the hardened default, names the cells
// whose verdict flips. Soft-fail still refuses a revoked certificate whose
// status it can fetch (mitm/mis-issued-revoked-hard-fail does not change);
// it accepts a certificate whose status mallory keeps it from fetching.
func TestBaselineCatchesChangedDefault(t *testing.T) {
	stored, err := baseline.Read(matrixBaselineFile, baseline.KindMatrix)
	if err != nil {
		t.Fatal(err)
	}
	var picked []lab.Scenario
	for _, name := range []string{"mitm/mis-issued-revoked-hard-fail", "mitm/mis-issued-hard-fail-blocked"} {
		s, err := Catalog().Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		picked = append(picked, s)
	}
	softFail := lab.Hardened()
	softFail.Revocation = pki.RevocationSoftFail
	m := matrix.Runner{Cells: lab.Runner{Parallel: 2}, Base: &softFail}
	changes := stored.Compare(baseline.OfMatrix(m.Run(context.Background(), picked)), false)
	// Every column starts from the default, so the blocked-responder row
	// flips wherever the change leaves revocation at soft-fail and mallory
	// in position; with tls-only off it was broken already (alice falls
	// back to plaintext through mallory after refusing her).
	const row = "mitm/mis-issued-hard-fail-blocked"
	var columns []string
	for _, c := range changes {
		cell, ok := strings.CutPrefix(c.Cell, row+" [")
		if !ok || c.Was != "held (revocation), service denied" || c.Now != "broken, service intact" {
			t.Errorf("unexpected change: %s", c)
			continue
		}
		columns = append(columns, strings.TrimSuffix(cell, "]"))
	}
	want := []string{
		"autodiscover-https-only off", "chain-validation off", "client-cert-required off", "decline-prompts off", "dhcp-snooping off",
		"distrust-list off", "dns-randomization off", "dnssec-validation on",
		"federation-allow-list off", "federation-srv-domain-match off", "forward-secrecy-only off", "hardened",
		"hostname-check off", "link-single-label-only off", "llmnr-nbtns-disabled off", "min-tls-version TLS 1.0",
		"ntlm-verified-servers-only off", "pool-pinning on", "strict-dns-naming off", "trusted-domains-empty off",
		"trusted-server-list off", "validity-check off", "wpad-disabled off",
	}
	if strings.Join(columns, ", ") != strings.Join(want, ", ") {
		t.Errorf("flipped columns of %s:\n  %s\nwant:\n  %s", row, strings.Join(columns, ", "), strings.Join(want, ", "))
	}
	if i := slices.Index(columns, "hardened"); i < 0 || changes[i].String() != row+" [hardened]: was held (revocation), service denied, now broken, service intact" {
		t.Errorf("the report line of the hardened cell is missing or reads otherwise: %v", changes)
	}
}
