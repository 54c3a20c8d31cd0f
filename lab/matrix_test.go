package lab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// positioningDefenses refuse the attacker's attempt to get on the path,
// before it is in position.
var positioningDefenses = []string{lab.DefenseARPPolicy, lab.DefenseDNSSECValidation, lab.DefenseDNSRandomization}

// layered is an attack stopped by the first of defenses that is on in the
// run: its victim records that defense's refusal and loses service. A
// positioning defense refuses the attempt; the others refuse once the
// attacker is in position. With none on, the victim accepts the attacker
// (broken, service intact) or, when silent, nothing more is observed: no
// compromise and no refusal.
func layered(name string, labels []lab.Label, silent bool, defenses ...string) lab.Scenario {
	return lab.Scenario{
		Name: name, Labels: labels, Summary: "s", Attacker: "mallory", Expected: lab.Broken,
		// The catalogued configuration is weak; the matrix must ignore it.
		Defenses: func(d *lab.Defenses) { *d = lab.Defenses{} },
		Run: func(_ context.Context, env *lab.Env) error {
			ev := env.Evidence
			ev.Reached("mallory", lab.MilestoneAttempted, "spoofing alice")
			inPosition := false
			for _, d := range defenses {
				if !inPosition && !slices.Contains(positioningDefenses, d) {
					ev.Reached("mallory", lab.MilestoneInPosition, "intercepting alice")
					inPosition = true
				}
				if env.Defenses.On(d) {
					ev.Refused("alice", d, "refused by %s", d)
					ev.SetService(lab.ServiceDenied)
					return nil
				}
			}
			if !inPosition {
				ev.Reached("mallory", lab.MilestoneInPosition, "intercepting alice")
			}
			if !silent {
				ev.IdentityAccepted("alice", "pool01", "weak")
				ev.SetService(lab.ServiceIntact)
			}
			return nil
		},
	}
}

// matrixColumns returns the columns of MatrixChanges with the given names,
// in the order given.
func matrixColumns(t *testing.T, names ...string) []lab.DefenseChange {
	t.Helper()
	var out []lab.DefenseChange
	for _, n := range names {
		i := slices.IndexFunc(lab.MatrixChanges(), func(c lab.DefenseChange) bool { return c.Name() == n })
		if i < 0 {
			t.Fatalf("no column %q", n)
		}
		out = append(out, lab.MatrixChanges()[i])
	}
	return out
}

func TestMatrixCells(t *testing.T) {
	nameAttack := layered("mitm/name", []lab.Label{lab.LabelTLS}, false, lab.DefenseHostnameCheck)
	// Declared to be about DNS only, but chain validation decides it.
	mislabelled := layered("dns/mislabelled", []lab.Label{lab.LabelDNS}, false, lab.DefenseChainValidation)
	unstoppable := layered("eavesdrop/unstoppable", []lab.Label{lab.LabelTLS}, false)

	var calls []int
	m := lab.Matrix{Runner: lab.Runner{Parallel: 3, Progress: func(done, total int, _ lab.Result) {
		calls = append(calls, done)
		if total != 3*(1+len(lab.MatrixChanges())) {
			t.Errorf("progress total %d", total)
		}
	}}}
	res := m.Run(context.Background(), []lab.Scenario{nameAttack, mislabelled, unstoppable})

	if len(res.Rows) != 3 || len(res.Changes) != len(lab.MatrixChanges()) {
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
		if got := lab.CellOutcome(res.Rows[i].Hardened); got != want {
			t.Errorf("%s hardened: %q, want %q", res.Rows[i].Scenario.Name, got, want)
		}
	}
	cell := func(row lab.MatrixRow, column string) lab.MatrixCell {
		for _, c := range row.Cells {
			if c.Change.Name() == column {
				return c
			}
		}
		t.Fatalf("no column %q", column)
		return lab.MatrixCell{}
	}

	name := res.Rows[0]
	if c := cell(name, "hostname-check off"); !c.Applies || !name.Differs(c) || lab.CellOutcome(c.Result) != "broken, service intact" {
		t.Errorf("hostname-check off: applies=%v differs=%v %q", c.Applies, name.Differs(c), lab.CellOutcome(c.Result))
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

	var table bytes.Buffer
	if err := lab.WriteMatrixTable(&table, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ATTACK ", "HARDENED", "name-", "+arpstatic",
		"Attacks no single change affects (1): eavesdrop/unstoppable",
		"  name-      hostname-check off",
		"Defenses deciding held cells:\n  chain      chain-validation\n  name       hostname-check\n\n",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	mitmLine := lineWith(t, table.String(), "mitm/name ")
	if f := strings.Fields(mitmLine); f[1] != "H-:name" || f[2] != "H-:name" || f[3] != "B" || f[len(f)-1] != "n/a" {
		t.Errorf("mitm/name row %q: want H-:name (hardened), H-:name (chain-), B (name-), ..., n/a (+arpstatic)", mitmLine)
	}
	if f := strings.Fields(lineWith(t, table.String(), "dns/mislabelled ")); f[1] != "H-:chain" || f[2] != "B!" {
		t.Errorf("dns/mislabelled hardened and chain- cells %q, want H-:chain, B!", f[1:3])
	}

	var md bytes.Buffer
	if err := lab.WriteMatrixMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Attack | hardened | chain-validation off | hostname-check off |",
		"| `mitm/name` | held (hostname-check), denied | held (hostname-check), denied | **broken, intact** |",
		"| `dns/mislabelled` | held (chain-validation), denied | **broken, intact** ⚠ |",
		"- `mitm/name` (held (hostname-check), service denied): hostname-check off → broken, service intact",
		"- `eavesdrop/unstoppable` (broken, service intact): no single change alters it",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if !strings.HasPrefix(md.String(), "# Defense matrix\n\nEvery attack scenario of the catalog (3), run with the hardened defaults and then with one\n"+
		"defense switch changed at a time. Generated by `make matrix` (`tlslab matrix --format markdown`).\n\nHow a cell is judged") ||
		!strings.Contains(md.String(), "\n- **held (defense)**: a defense switch that is on in the cell was seen refusing, by name and exact\n") ||
		!strings.Contains(md.String(), "refusals.\n\n## Findings (12)\n\n") {
		t.Errorf("markdown does not open with how cells are judged, then its findings:\n%s", md.String())
	}

	var js bytes.Buffer
	if err := lab.WriteMatrixJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	var doc lab.JSONMatrix
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Columns) != 1+len(res.Changes) || doc.Columns[0] != "hardened" || len(doc.Rows) != 3 ||
		!slices.Equal(doc.Unaffected, []string{"eavesdrop/unstoppable"}) {
		t.Errorf("json document: %+v", doc)
	}
	if c := doc.Rows[0].Cells[0]; c.Column != "hardened" || c.Outcome != "held (hostname-check)" || !slices.Equal(c.StoppedBy, []string{"hostname-check"}) {
		t.Errorf("json mitm/name hardened cell: %+v", c)
	}
	if c := doc.Rows[0].Cells[2]; c.Column != "hostname-check off" || !c.Differs || c.Verdict != lab.Broken || c.StoppedBy == nil || len(c.StoppedBy) != 0 {
		t.Errorf("json mitm/name hostname cell: %+v (stopped_by must be an empty array)", c)
	}
	if !strings.Contains(js.String(), `"stopped_by": []`) {
		t.Errorf("json: a cell that is not held must carry \"stopped_by\": []")
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
	m := lab.Matrix{Changes: matrixColumns(t, "chain-validation off", "hostname-check off", "validity-check off",
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
	}
	if got := findingLines(res.Findings()); !slices.Equal(got, wantFindings) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantFindings, "\n"))
	}

	var table bytes.Buffer
	if err := lab.WriteMatrixTable(&table, res); err != nil {
		t.Fatal(err)
	}
	wantTail := "\nDecisive defenses (in the hardened column and the columns that turn a defense on)\n" +
		"  " + strings.Join(wantDecisive, "\n  ") + "\n" +
		"\nEach decisive defense switched off\n" +
		"  " + strings.Join(wantBackups, "\n  ") + "\n" +
		"\nAttacks no single change affects (1): downgrade/tls10\n" +
		"Error cells (1): 1 inconclusive (the attack not carried out, or no defense that is on seen refusing it), 0 whose run failed (see --format json)\n" +
		"\nFINDINGS (10)\n" +
		"  " + strings.Join(wantFindings, "\n  ") + "\n"
	if !strings.HasSuffix(table.String(), wantTail) {
		t.Errorf("table ends:\n%s\nwant it to end:\n%s", table.String(), wantTail)
	}
	var md bytes.Buffer
	if err := lab.WriteMatrixMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	wantMD := "\n## Findings (10)\n\n- " + strings.Join(wantFindings, "\n- ") + "\n\n## Matrix\n"
	if !strings.Contains(md.String(), wantMD) {
		t.Errorf("markdown findings: want\n%s\nin:\n%s", wantMD, md.String())
	}
	for _, want := range []string{
		"\n- `mitm/silent` (held (validity-check), service denied): validity-check off → error (no defense observed)\n",
		"\n## Each decisive defense switched off\n\n- " + strings.Join(wantBackups, "\n- ") + "\n",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if f := strings.Fields(lineWith(t, table.String(), "dns/poison ")); !slices.Equal(f[1:], []string{"B", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "H-:dnssec"}) {
		t.Errorf("dns/poison row %q", f)
	}

	var js bytes.Buffer
	if err := lab.WriteMatrixJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	var doc lab.JSONMatrix
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := findingLines(doc.Findings); !slices.Equal(got, wantFindings) {
		t.Errorf("json findings:\n%s", strings.Join(got, "\n"))
	}
	want := lab.JSONBackup{Scenario: "mitm/silent", Column: "hardened", Defense: "validity-check", OffColumn: "validity-check off",
		OffOutcome: "error (no defense observed)", NoBackup: true, Text: wantBackups[2]}
	if len(doc.Backups) != len(wantBackups) || doc.Backups[2] != want {
		t.Errorf("json backups %+v, want the third %+v", doc.Backups, want)
	}
	if len(doc.Decisive) != len(lab.DefenseNames()) || doc.Decisive[4].Defense != "client-cert-required" ||
		len(doc.Decisive[4].Cells) != 0 ||
		!slices.Equal(doc.Decisive[4].BackupFor, []lab.MatrixCellRef{{Scenario: "mtls/self-signed", Column: "chain-validation off"}}) {
		t.Errorf("json decisive %+v", doc.Decisive)
	}
}

// TestMatrixCreditViolations judges hand-made results, as a faulty oracle
// or scenario could produce them: held cells crediting a switch their
// column turned off, or one that is off in their run.
func TestMatrixCreditViolations(t *testing.T) {
	changes := matrixColumns(t, "chain-validation off", "revocation soft-fail", "revocation off", "dnssec-validation on")
	held := func(by ...string) lab.Result {
		return lab.Result{Verdict: lab.Held, StoppedBy: by, Service: lab.ServiceDenied}
	}
	row := lab.MatrixRow{
		Scenario: lab.Scenario{Name: "mitm/a"},
		Hardened: held(lab.DefenseDNSSECValidation),
		Cells: []lab.MatrixCell{
			{Change: changes[0], Applies: true, Result: held(lab.DefenseChainValidation, lab.DefenseHostnameCheck)},
			{Change: changes[1], Applies: true, Result: held(lab.DefenseRevocation)}, // soft-fail still refuses a revoked certificate
			{Change: changes[2], Applies: true, Result: held(lab.DefenseHostnameCheck, lab.DefenseRevocation)},
			{Change: changes[3], Applies: true, Result: held(lab.DefenseDNSSECValidation)},
		},
	}
	res := lab.MatrixResult{Changes: changes, Rows: []lab.MatrixRow{row}}
	want := []string{
		"credited-off: mitm/a [hardened]: held (dnssec-validation) credits dnssec-validation, which is off in this run",
		"credited-off: mitm/a [chain-validation off]: held (chain-validation) credits chain-validation, which this column turns off",
		"credited-off: mitm/a [revocation off]: held (hostname-check) credits revocation, which this column turns off",
	}
	if got := findingLines(res.CreditViolations()); !slices.Equal(got, want) {
		t.Errorf("credit violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// With DNSSEC validation on in the base, the hardened cell is honest.
	base := lab.Hardened()
	base.DNSSECValidation = true
	res.Base = &base
	if got := findingLines(res.CreditViolations()); !slices.Equal(got, want[1:]) {
		t.Errorf("credit violations with dnssec on in the base:\n%s", strings.Join(got, "\n"))
	}
}

// TestMatrixBackupOffCellErrors names an off cell that failed to run, and
// reports a matrix that lacks the column turning a defense off.
func TestMatrixBackupOffCellErrors(t *testing.T) {
	changes := matrixColumns(t, "chain-validation off")
	held := lab.Result{Verdict: lab.Held, StoppedBy: []string{lab.DefenseChainValidation}}
	res := lab.MatrixResult{Changes: changes, Rows: []lab.MatrixRow{
		{Scenario: lab.Scenario{Name: "mitm/crash"}, Hardened: held,
			Cells: []lab.MatrixCell{{Change: changes[0], Result: lab.Result{Verdict: lab.Error, Err: errors.New("boom")}}}},
		{Scenario: lab.Scenario{Name: "mitm/revoked"}, Hardened: lab.Result{Verdict: lab.Held, StoppedBy: []string{lab.DefenseRevocation}},
			Cells: []lab.MatrixCell{{Change: changes[0], Result: lab.Result{Verdict: lab.Broken}}}},
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
}

func TestMatrixNoFindings(t *testing.T) {
	var out bytes.Buffer
	if err := lab.WriteMatrixMarkdown(&out, lab.MatrixResult{}); err != nil {
		t.Fatal(err)
	}
	// An empty matrix decides nothing: every defense is decisive for none.
	if !strings.Contains(out.String(), "## Findings (14)\n\n- decisive-for-none: chain-validation: decisive for no attack\n") {
		t.Errorf("empty matrix:\n%s", out.String())
	}
	var buf bytes.Buffer
	m := lab.MatrixResult{Changes: []lab.DefenseChange{}}
	for _, d := range lab.DefenseNames() {
		m.Rows = append(m.Rows, lab.MatrixRow{Scenario: lab.Scenario{Name: "x/" + d},
			Hardened: lab.Result{Verdict: lab.Held, StoppedBy: []string{d}, Service: lab.ServiceDenied}})
	}
	all := lab.Hardened()
	all.DNSSECValidation = true
	lab.MatrixChanges()[len(lab.MatrixChanges())-1].Apply(&all)
	m.Base = &all
	if f := m.Findings(); len(f) != 0 {
		t.Fatalf("findings %v, want none", findingLines(f))
	}
	if err := lab.WriteMatrixTable(&buf, m); err != nil {
		t.Fatal(err)
	}
	const none = "No held cell credits a switch that is off or weakened, every attack whose\n" +
		"decisive defense is switched off is held by another defense or broken, and every defense switch\n" +
		"is decisive for an attack.\n"
	if !strings.HasSuffix(buf.String(), "\nFindings: none. "+none) {
		t.Errorf("table without findings ends:\n%s", buf.String())
	}
	buf.Reset()
	if err := lab.WriteMatrixMarkdown(&buf, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "refusals.\n\n## Findings\n\nNone. "+none+"\n## Matrix\n") {
		t.Errorf("markdown without findings:\n%s", buf.String())
	}
}

func TestMatrixBaseRevealsChangedDefault(t *testing.T) {
	attack := layered("mitm/revoked", []lab.Label{lab.LabelRevocation}, false, lab.DefenseRevocation)
	attack.Run = func(_ context.Context, env *lab.Env) error {
		env.Evidence.Reached("mallory", lab.MilestoneInPosition, "intercepting alice")
		if env.Defenses.Revocation.String() == "hard-fail" {
			env.Evidence.Refused("alice", lab.DefenseRevocation, "revocation status unavailable")
			env.Evidence.SetService(lab.ServiceDenied)
			return nil
		}
		env.Evidence.IdentityAccepted("alice", "pool01", "revoked")
		env.Evidence.SetService(lab.ServiceIntact)
		return nil
	}
	run := func(base *lab.Defenses) lab.Baseline {
		return lab.Matrix{Base: base, Changes: matrixColumns(t, "revocation soft-fail", "revocation off")}.
			Run(context.Background(), []lab.Scenario{attack}).Baseline()
	}
	stored := run(nil)
	if len(stored.Outcomes) != 3 {
		t.Fatalf("stored baseline %v", stored.Outcomes)
	}
	// A new default: revocation soft-fail instead of hard-fail.
	soft := lab.Hardened()
	matrixColumns(t, "revocation soft-fail")[0].Apply(&soft)
	changes := stored.Compare(run(&soft), true)
	want := "mitm/revoked [hardened]: was held (revocation), service denied, now broken, service intact"
	if len(changes) != 1 || changes[0].String() != want {
		t.Errorf("changes %v, want exactly %q", changes, want)
	}
}

func findingLines(fs []lab.MatrixFinding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return out
}

func columnNames(cs []lab.DefenseChange) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name())
	}
	return out
}

func lineWith(t *testing.T, text, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starting %q in:\n%s", prefix, text)
	return ""
}

func TestDecisiveDefenseString(t *testing.T) {
	d := lab.DecisiveDefense{Defense: "arp-policy", Cells: []lab.MatrixCellRef{
		{Scenario: "mitm/a", Column: "arp-policy static-only"},
		{Scenario: "mitm/b", Column: "hardened"},
		{Scenario: "mitm/c", Column: "arp-policy static-only"},
	}}
	if got, want := d.String(), "arp-policy: mitm/b; [arp-policy static-only] mitm/a, mitm/c"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
