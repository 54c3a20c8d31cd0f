package lab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// switchAttack is a scenario that is broken exactly when weak(defenses)
// holds, and denies service otherwise, as a MITM refused by its victim.
func switchAttack(name string, labels []lab.Label, weak func(lab.Defenses) bool) lab.Scenario {
	return lab.Scenario{
		Name: name, Labels: labels, Summary: "s", Expected: lab.Held,
		// The catalogued configuration is weak; the matrix must ignore it.
		Defenses: func(d *lab.Defenses) { *d = lab.Defenses{} },
		Run: func(_ context.Context, env *lab.Env) error {
			if weak(env.Defenses) {
				env.Evidence.IdentityAccepted("alice", "pool01", "weak")
				env.Evidence.SetService(lab.ServiceIntact)
			} else {
				env.Evidence.Notef("alice", "refused")
				env.Evidence.SetService(lab.ServiceDenied)
			}
			return nil
		},
	}
}

func TestMatrixCells(t *testing.T) {
	nameAttack := switchAttack("mitm/name", []lab.Label{lab.LabelTLS},
		func(d lab.Defenses) bool { return !d.HostnameCheck })
	// Declared to be about DNS only, but chain validation decides it.
	mislabelled := switchAttack("dns/mislabelled", []lab.Label{lab.LabelDNS},
		func(d lab.Defenses) bool { return !d.ChainValidation })
	immune := switchAttack("eavesdrop/immune", []lab.Label{lab.LabelTLS},
		func(lab.Defenses) bool { return false })

	var calls []int
	m := lab.Matrix{Runner: lab.Runner{Parallel: 3, Progress: func(done, total int, _ lab.Result) {
		calls = append(calls, done)
		if total != 3*(1+len(lab.MatrixChanges())) {
			t.Errorf("progress total %d", total)
		}
	}}}
	res := m.Run(context.Background(), []lab.Scenario{nameAttack, mislabelled, immune})

	if len(res.Rows) != 3 || len(res.Changes) != len(lab.MatrixChanges()) {
		t.Fatalf("%d rows, %d changes", len(res.Rows), len(res.Changes))
	}
	if want := 3 * (1 + len(res.Changes)); len(calls) != want || calls[want-1] != want {
		t.Errorf("progress calls %v, want 1..%d", calls, want)
	}
	for _, row := range res.Rows {
		if got := lab.Outcome(row.Hardened); got != "held, service denied" {
			t.Errorf("%s hardened: %q, want held, service denied (the scenario's own weak defenses ignored)", row.Scenario.Name, got)
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
	if c := cell(name, "hostname-check off"); !c.Applies || !name.Differs(c) || lab.Outcome(c.Result) != "broken, service intact" {
		t.Errorf("hostname-check off: applies=%v differs=%v %q", c.Applies, name.Differs(c), lab.Outcome(c.Result))
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
	if got := res.Unaffected(); len(got) != 1 || got[0].Scenario.Name != "eavesdrop/immune" {
		t.Errorf("unaffected %v", got)
	}

	var table bytes.Buffer
	if err := lab.WriteMatrixTable(&table, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ATTACK ", "HARDENED", "name-", "+arpstatic",
		"Attacks no single change affects (1): eavesdrop/immune",
		"  name-      hostname-check off",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	mitmLine := lineWith(t, table.String(), "mitm/name ")
	if f := strings.Fields(mitmLine); f[1] != "H-" || f[2] != "H-" || f[3] != "B" || f[len(f)-1] != "n/a" {
		t.Errorf("mitm/name row %q: want H- (hardened), H- (chain-), B (name-), ..., n/a (+arpstatic)", mitmLine)
	}
	if f := strings.Fields(lineWith(t, table.String(), "dns/mislabelled ")); f[2] != "B!" {
		t.Errorf("dns/mislabelled chain- cell %q, want B!", f[2])
	}

	var md bytes.Buffer
	if err := lab.WriteMatrixMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Attack | hardened | chain-validation off | hostname-check off |",
		"| `mitm/name` | held, denied | held, denied | **broken, intact** |",
		"| `dns/mislabelled` | held, denied | **broken, intact** ⚠ |",
		"- `mitm/name` (held, service denied): hostname-check off → broken, service intact",
		"- `eavesdrop/immune` (held, service denied): no single change alters it",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
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
		!slices.Equal(doc.Unaffected, []string{"eavesdrop/immune"}) {
		t.Errorf("json document: %+v", doc)
	}
	if c := doc.Rows[0].Cells[2]; c.Column != "hostname-check off" || !c.Differs || c.Verdict != lab.Broken {
		t.Errorf("json mitm/name hostname cell: %+v", c)
	}
}

func TestMatrixBaseRevealsChangedDefault(t *testing.T) {
	attack := switchAttack("mitm/revoked", []lab.Label{lab.LabelRevocation},
		func(d lab.Defenses) bool { return d.Revocation.String() != "hard-fail" })
	run := func(base *lab.Defenses) lab.Baseline {
		return lab.Matrix{Base: base, Changes: lab.MatrixChanges()[3:5]}.Run(context.Background(), []lab.Scenario{attack}).Baseline()
	}
	stored := run(nil)
	if len(stored.Outcomes) != 3 {
		t.Fatalf("stored baseline %v", stored.Outcomes)
	}
	// A new default: revocation soft-fail instead of hard-fail.
	soft := lab.Hardened()
	lab.MatrixChanges()[3].Apply(&soft)
	changes := stored.Compare(run(&soft), true)
	want := "mitm/revoked [hardened]: was held, service denied, now broken, service intact"
	if len(changes) != 1 || changes[0].String() != want {
		t.Errorf("changes %v, want exactly %q", changes, want)
	}
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
