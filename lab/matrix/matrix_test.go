package matrix_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
	"github.com/tlslab/tlslab/lab/matrix/matrixtest"
)

var layered = matrixtest.Layered

func TestMatrixCells(t *testing.T) {
	nameAttack := layered("mitm/name", []lab.Label{lab.LabelTLS}, false, lab.DefenseHostnameCheck)
	// Declared to be about DNS only, but chain validation decides it.
	mislabelled := layered("dns/mislabelled", []lab.Label{lab.LabelDNS}, false, lab.DefenseChainValidation)
	unstoppable := layered("eavesdrop/unstoppable", []lab.Label{lab.LabelTLS}, false)

	var calls []int
	m := matrix.Runner{Cells: lab.Runner{Parallel: 3, Progress: func(done, total int, _ lab.Result) {
		calls = append(calls, done)
		if total != 3*(1+len(matrix.Changes())) {
			t.Errorf("progress total %d", total)
		}
	}}}
	res := m.Run(context.Background(), []lab.Scenario{nameAttack, mislabelled, unstoppable})

	if len(res.Rows) != 3 || len(res.Changes) != len(matrix.Changes()) {
		t.Fatalf("%d rows, %d changes", len(res.Rows), len(res.Changes))
	}
	if res.Base == nil || !slices.Equal(res.Base.Diff(lab.Hardened()), nil) {
		t.Errorf("result base %+v, want Hardened()", res.Base)
	}
	if want := 3 * (1 + len(res.Changes)); len(calls) != want || calls[want-1] != want {
		t.Errorf("progress calls %v, want 1..%d", calls, want)
	}
	// The scenarios' own weak defenses are ignored.
	for i, want := range []string{"held (hostname-check), service denied", "held (chain-validation), service denied", "broken, service intact"} {
		if got := matrix.CellOutcome(res.Rows[i].Hardened); got != want {
			t.Errorf("%s hardened: %q, want %q", res.Rows[i].Scenario.Name, got, want)
		}
	}
	cell := func(row matrix.Row, column string) matrix.Cell {
		for _, c := range row.Cells {
			if c.Change.Name() == column {
				return c
			}
		}
		t.Fatalf("no column %q", column)
		return matrix.Cell{}
	}

	name := res.Rows[0]
	if c := cell(name, "hostname-check off"); !c.Applies || !name.Differs(c) || matrix.CellOutcome(c.Result) != "broken, service intact" {
		t.Errorf("hostname-check off: applies=%v differs=%v %q", c.Applies, name.Differs(c), matrix.CellOutcome(c.Result))
	}
	if c := cell(name, "dns-randomization off"); c.Applies || !name.NotApplicable(c) {
		t.Errorf("dns-randomization off on a TLS attack: applies=%v n/a=%v", c.Applies, name.NotApplicable(c))
	}
	if c := cell(name, "chain-validation off"); !c.Applies || name.Differs(c) {
		t.Errorf("chain-validation off: applies=%v differs=%v", c.Applies, name.Differs(c))
	}
	if got := columnNames(name.LoadBearing()); !slices.Equal(got, []string{"hostname-check off"}) {
		t.Errorf("load-bearing %v", got)
	}

	mis := res.Rows[1]
	if c := cell(mis, "chain-validation off"); c.Applies || mis.NotApplicable(c) || !mis.Differs(c) {
		t.Errorf("a change declared not to apply that changes the outcome must show: applies=%v n/a=%v", c.Applies, mis.NotApplicable(c))
	}
	if got := res.Unaffected(); len(got) != 1 || got[0].Scenario.Name != "eavesdrop/unstoppable" {
		t.Errorf("unaffected %v", got)
	}
}

func TestAttacks(t *testing.T) {
	all := []lab.Scenario{
		{Name: "baseline/tls", Labels: []lab.Label{lab.LabelBaseline, lab.LabelTLS}},
		{Name: "mitm/arp-tls", Labels: []lab.Label{lab.LabelMITM, lab.LabelARP}},
	}
	if got := matrix.Attacks(all); len(got) != 1 || got[0].Name != "mitm/arp-tls" {
		t.Errorf("attacks %v", got)
	}
}

// TestMatrixFindings runs a matrix with a backup defense, a defense with
// no backup, a weakened floor still credited, a defense decisive only
// where a column turns it on, and defenses decisive for none.
func TestMatrixFindings(t *testing.T) {
	scenarios := []lab.Scenario{
		layered("mtls/self-signed", []lab.Label{lab.LabelMTLS}, false, lab.DefenseChainValidation, lab.DefenseClientCertRequired),
		layered("mitm/wrong-name", []lab.Label{lab.LabelTLS}, false, lab.DefenseHostnameCheck),
		layered("mitm/silent", []lab.Label{lab.LabelTLS}, true, lab.DefenseValidityCheck),
		layered("mitm/revoked", []lab.Label{lab.LabelRevocation}, false, lab.DefenseRevocation),
		layered("downgrade/tls10", []lab.Label{lab.LabelTLS}, false, lab.DefenseMinTLSVersion),
		layered("dns/poison", []lab.Label{lab.LabelDNS}, false, lab.DefenseDNSSECValidation),
	}
	m := matrix.Runner{Changes: matrixtest.Columns(t, "chain-validation off", "hostname-check off", "validity-check off",
		"revocation soft-fail", "revocation off", "min-tls-version TLS 1.0", "dnssec-validation on")}
	res := m.Run(context.Background(), scenarios)

	var backups []string
	for _, b := range res.Backups() {
		backups = append(backups, b.String())
	}
	wantBackups := []string{
		"mtls/self-signed: chain-validation decisive; with it off: held (client-cert-required)",
		"mitm/wrong-name: hostname-check decisive; with it off: broken",
		"mitm/silent: validity-check decisive; with it off: error (no defense observed)",
		"mitm/revoked: revocation decisive; with it off: broken",
		"downgrade/tls10: min-tls-version decisive; with it weakened to TLS 1.0: held (min-tls-version)",
		"dns/poison [dnssec-validation on]: dnssec-validation decisive; with it off (hardened): broken",
	}
	if !slices.Equal(backups, wantBackups) {
		t.Errorf("backups:\n%s\nwant:\n%s", strings.Join(backups, "\n"), strings.Join(wantBackups, "\n"))
	}

	var decisive []string
	for _, d := range res.Decisive() {
		decisive = append(decisive, d.String())
	}
	wantDecisive := []string{
		"chain-validation: mtls/self-signed",
		"hostname-check: mitm/wrong-name",
		"validity-check: mitm/silent",
		"revocation: mitm/revoked",
		"client-cert-required: decisive for no attack; backup for mtls/self-signed [chain-validation off]",
		"trusted-server-list: decisive for no attack",
		"tls-only: decisive for no attack",
		"min-tls-version: downgrade/tls10",
		"forward-secrecy-only: decisive for no attack",
		"federation-srv-domain-match: decisive for no attack",
		"federation-allow-list: decisive for no attack",
		"dns-randomization: decisive for no attack",
		"dnssec-validation: [dnssec-validation on] dns/poison",
		"arp-policy: decisive for no attack",
		"distrust-list: decisive for no attack",
		"autodiscover-https-only: decisive for no attack",
		"strict-dns-naming: decisive for no attack",
		"trusted-domains-empty: decisive for no attack",
		"decline-prompts: decisive for no attack",
		"llmnr-nbtns-disabled: decisive for no attack",
		"link-single-label-only: decisive for no attack",
		"wpad-disabled: decisive for no attack",
		"dhcp-snooping: decisive for no attack",
		"ntlm-verified-servers-only: decisive for no attack",
		"pool-pinning: decisive for no attack",
	}
	if !slices.Equal(decisive, wantDecisive) {
		t.Errorf("decisive:\n%s\nwant:\n%s", strings.Join(decisive, "\n"), strings.Join(wantDecisive, "\n"))
	}
	// Revocation still decides its attack under soft-fail, but it is no
	// backup there: the hardened cell is its own.
	if rev := res.Decisive()[3]; rev.Defense != "revocation" || rev.BackupFor == nil || len(rev.BackupFor) != 0 || len(rev.Cells) != 1 {
		t.Errorf("revocation %+v, want it a backup for nothing", rev)
	}

	wantFindings := []string{
		"credited-off: downgrade/tls10 [min-tls-version TLS 1.0]: held (min-tls-version) credits min-tls-version, which this column weakens to TLS 1.0",
		"no-backup: mitm/silent: validity-check decisive; with it off: error (no defense observed)",
		"decisive-for-none: client-cert-required: decisive for no attack; backup for mtls/self-signed [chain-validation off]",
		"decisive-for-none: trusted-server-list: decisive for no attack",
		"decisive-for-none: tls-only: decisive for no attack",
		"decisive-for-none: forward-secrecy-only: decisive for no attack",
		"decisive-for-none: federation-srv-domain-match: decisive for no attack",
		"decisive-for-none: federation-allow-list: decisive for no attack",
		"decisive-for-none: dns-randomization: decisive for no attack",
		"decisive-for-none: arp-policy: decisive for no attack",
		"decisive-for-none: distrust-list: decisive for no attack",
		"decisive-for-none: autodiscover-https-only: decisive for no attack",
		"decisive-for-none: strict-dns-naming: decisive for no attack",
		"decisive-for-none: trusted-domains-empty: decisive for no attack",
		"decisive-for-none: decline-prompts: decisive for no attack",
		"decisive-for-none: llmnr-nbtns-disabled: decisive for no attack",
		"decisive-for-none: link-single-label-only: decisive for no attack",
		"decisive-for-none: wpad-disabled: decisive for no attack",
		"decisive-for-none: dhcp-snooping: decisive for no attack",
		"decisive-for-none: ntlm-verified-servers-only: decisive for no attack",
		"decisive-for-none: pool-pinning: decisive for no attack",
	}
	if got := matrixtest.FindingLines(res.Findings()); !slices.Equal(got, wantFindings) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantFindings, "\n"))
	}
}

// TestMatrixCreditViolations judges hand-made results, as a faulty oracle
// or scenario could produce them: held cells crediting a switch their
// column turned off, or one that is off in their run.
func TestMatrixCreditViolations(t *testing.T) {
	changes := matrixtest.Columns(t, "chain-validation off", "revocation soft-fail", "revocation off", "dnssec-validation on")
	held := func(by ...string) lab.Result {
		return lab.Result{Verdict: lab.Held, StoppedBy: by, Service: lab.ServiceDenied}
	}
	row := matrix.Row{
		Scenario: lab.Scenario{Name: "mitm/a"},
		Hardened: held(lab.DefenseDNSSECValidation),
		Cells: []matrix.Cell{
			{Change: changes[0], Applies: true, Result: held(lab.DefenseChainValidation, lab.DefenseHostnameCheck)},
			{Change: changes[1], Applies: true, Result: held(lab.DefenseRevocation)}, // soft-fail still refuses a revoked certificate
			{Change: changes[2], Applies: true, Result: held(lab.DefenseHostnameCheck, lab.DefenseRevocation)},
			{Change: changes[3], Applies: true, Result: held(lab.DefenseDNSSECValidation)},
		},
	}
	res := matrix.Result{Changes: changes, Rows: []matrix.Row{row}}
	want := []string{
		"credited-off: mitm/a [hardened]: held (dnssec-validation) credits dnssec-validation, which is off in this run",
		"credited-off: mitm/a [chain-validation off]: held (chain-validation) credits chain-validation, which this column turns off",
		"credited-off: mitm/a [revocation off]: held (hostname-check) credits revocation, which this column turns off",
	}
	if got := matrixtest.FindingLines(res.CreditViolations()); !slices.Equal(got, want) {
		t.Errorf("credit violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// With DNSSEC validation on in the base, the hardened cell is honest.
	base := lab.Hardened()
	base.DNSSECValidation = true
	res.Base = &base
	if got := matrixtest.FindingLines(res.CreditViolations()); !slices.Equal(got, want[1:]) {
		t.Errorf("credit violations with dnssec on in the base:\n%s", strings.Join(got, "\n"))
	}
}

// TestMatrixBackupOffCellErrors names an off cell that failed to run, and
// reports a matrix that lacks the column turning a defense off.
func TestMatrixBackupOffCellErrors(t *testing.T) {
	changes := matrixtest.Columns(t, "chain-validation off")
	held := lab.Result{Verdict: lab.Held, StoppedBy: []string{lab.DefenseChainValidation}}
	res := matrix.Result{Changes: changes, Rows: []matrix.Row{
		{Scenario: lab.Scenario{Name: "mitm/crash"}, Hardened: held,
			Cells: []matrix.Cell{{Change: changes[0], Result: lab.Result{Verdict: lab.Error, Err: errors.New("boom")}}}},
		{Scenario: lab.Scenario{Name: "mitm/revoked"}, Hardened: lab.Result{Verdict: lab.Held, StoppedBy: []string{lab.DefenseRevocation}},
			Cells: []matrix.Cell{{Change: changes[0], Result: lab.Result{Verdict: lab.Broken}}}},
	}}
	var got []string
	for _, b := range res.Backups() {
		got = append(got, b.String())
	}
	want := []string{
		"mitm/crash: chain-validation decisive; with it off: error (run failed)",
		"mitm/revoked: revocation decisive; no column of the matrix turns it off",
	}
	if !slices.Equal(got, want) {
		t.Errorf("backups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f := res.Findings(); len(f) == 0 || f[0].String() != "no-backup: "+want[0] {
		t.Errorf("first finding %v, want the no-backup of mitm/crash", f)
	}
	if n, failed := res.Errors(), res.RunErrors(); n != 1 || failed != 1 {
		t.Errorf("errors %d, run errors %d; want 1 and 1", n, failed)
	}
}

// A matrix whose every defense decides an attack, with nothing credited
// that is off, has no findings.
func TestMatrixNoFindings(t *testing.T) {
	if f := (matrix.Result{}).Findings(); len(f) != len(lab.DefenseNames()) {
		t.Errorf("an empty matrix decides nothing, so every defense is decisive for none; got %v", matrixtest.FindingLines(f))
	}
	m := matrixtest.EveryDefenseDecisive()
	if f := m.Findings(); len(f) != 0 {
		t.Fatalf("findings %v, want none", matrixtest.FindingLines(f))
	}
}

func columnNames(cs []matrix.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name())
	}
	return out
}

func TestDecisiveDefenseString(t *testing.T) {
	d := matrix.DecisiveDefense{Defense: "arp-policy", Cells: []matrix.CellRef{
		{Scenario: "mitm/a", Column: "arp-policy static-only"},
		{Scenario: "mitm/b", Column: "hardened"},
		{Scenario: "mitm/c", Column: "arp-policy static-only"},
	}}
	if got, want := d.String(), "arp-policy: mitm/b; [arp-policy static-only] mitm/a, mitm/c"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
