package lab_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

func noop(context.Context, *lab.Env) error { return nil }

func testCatalog() lab.Catalog {
	mk := func(name string, labels ...lab.Label) lab.Scenario {
		if labels[0] == lab.LabelBaseline {
			return lab.Scenario{Name: name, Labels: labels, Summary: name, Expected: lab.Passed, Run: noop}
		}
		return lab.Scenario{Name: name, Labels: labels, Summary: name, Attacker: "mallory",
			Expected: lab.Held, StoppedBy: lab.DefenseChainValidation, Run: noop}
	}
	return lab.Catalog{
		mk("baseline/tls", lab.LabelBaseline, lab.LabelTLS),
		mk("eavesdrop/tls", lab.LabelEavesdrop, lab.LabelTLS),
		mk("eavesdrop/plaintext", lab.LabelEavesdrop, lab.LabelPlaintext),
		mk("mitm/arp-tls", lab.LabelMITM, lab.LabelARP, lab.LabelTLS),
		mk("mitm/dns-hijack", lab.LabelMITM, lab.LabelDNS, lab.LabelTLS),
	}
}

func TestLookup(t *testing.T) {
	c := testCatalog()
	s, err := c.Lookup("mitm/arp-tls")
	if err != nil || s.Name != "mitm/arp-tls" {
		t.Fatalf("Lookup = %q, %v", s.Name, err)
	}
	_, err = c.Lookup("eavesdrop/tsl")
	var use *lab.UnknownScenarioError
	if !errors.As(err, &use) {
		t.Fatalf("Lookup(eavesdrop/tsl) error = %v, want *UnknownScenarioError", err)
	}
	if len(use.Closest) != 3 || use.Closest[0] != "eavesdrop/tls" {
		t.Errorf("Closest = %q, want eavesdrop/tls first of 3", use.Closest)
	}
	if want := `unknown scenario "eavesdrop/tsl"; closest: eavesdrop/tls, `; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	_, err = lab.Catalog{}.Lookup("x")
	if err == nil || !strings.Contains(err.Error(), "catalog is empty") {
		t.Errorf("empty catalog Lookup error = %v", err)
	}
}

func TestSelect(t *testing.T) {
	c := testCatalog()
	tests := []struct {
		name    string
		names   []string
		labels  []lab.Label
		want    []string
		wantErr string
	}{
		{name: "all by default", want: c.Names()},
		{name: "names in given order, deduplicated",
			names: []string{"mitm/arp-tls", "baseline/tls", "mitm/arp-tls"},
			want:  []string{"mitm/arp-tls", "baseline/tls"}},
		{name: "one label", labels: []lab.Label{lab.LabelEavesdrop},
			want: []string{"eavesdrop/tls", "eavesdrop/plaintext"}},
		{name: "labels narrow (all must match)", labels: []lab.Label{lab.LabelMITM, lab.LabelDNS},
			want: []string{"mitm/dns-hijack"}},
		{name: "names filtered by label", names: []string{"baseline/tls", "eavesdrop/tls"},
			labels: []lab.Label{lab.LabelEavesdrop}, want: []string{"eavesdrop/tls"}},
		{name: "unknown name", names: []string{"eavesdrop/tsl"}, wantErr: `unknown scenario "eavesdrop/tsl"; closest: eavesdrop/tls`},
		{name: "unknown label", labels: []lab.Label{"mitn"}, wantErr: `unknown label "mitn"`},
		{name: "nothing left", labels: []lab.Label{lab.LabelFederation}, wantErr: "no scenario in the catalog has all of the labels federation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Select(tt.names, tt.labels)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if names := lab.Catalog(got).Names(); !slices.Equal(names, tt.want) {
				t.Errorf("selected %q, want %q", names, tt.want)
			}
		})
	}
	if c[0].Name != "baseline/tls" || len(c) != 5 {
		t.Error("Select modified the catalog")
	}
}

func TestCatalogValidate(t *testing.T) {
	if err := testCatalog().Validate(); err != nil {
		t.Fatalf("valid catalog: %v", err)
	}
	bad := lab.Catalog{
		{Name: "noslash", Summary: "x", Expected: lab.Held, Run: noop},
		{Name: "a/b", Labels: []lab.Label{"bogus"}, Summary: "two\nlines", Expected: lab.Error},
		{Name: "a/b", Summary: "dup", Expected: lab.Broken, Run: noop},
		{Name: "a/held", Summary: "x", Attacker: "mallory", Expected: lab.Held, Run: noop},
		{Name: "a/held-by", Summary: "x", Attacker: "mallory", Expected: lab.Held, StoppedBy: "firewall", Run: noop},
		{Name: "a/broken-by", Summary: "x", Attacker: "mallory", Expected: lab.Broken, StoppedBy: lab.DefenseTLSOnly, Run: noop},
		{Name: "a/passed", Summary: "x", Attacker: "mallory", Expected: lab.Passed, Run: noop},
	}
	err := bad.Validate()
	for _, want := range []string{
		`"noslash": name must look like "family/name"`,
		`unknown label "bogus"`,
		"summary must be one non-empty line",
		`expected verdict is "error"; a scenario without an attacker is a baseline and must expect "passed"`,
		`"a/b": expected verdict is "broken"; a scenario without an attacker is a baseline`,
		`"a/held": expected held, but StoppedBy "" names no defense`,
		`"a/held-by": expected held, but StoppedBy "firewall" names no defense`,
		`"a/broken-by": StoppedBy "tls-only" is set, but the expected verdict is "broken", not held`,
		`"a/passed": expected verdict is "passed", want "held" or "broken"`,
		"Run is nil",
		`"a/b" is in the catalog twice`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %v\ndoes not contain %q", err, want)
		}
	}
}

// TestRegisterDefense adds a defense of an outside catalog: a held
// scenario may name it, a refusal by it is credited (it is always on),
// and it is no switch.
func TestRegisterDefense(t *testing.T) {
	if err := lab.RegisterDefense("pinning-test", "the client pins its server's key"); err != nil {
		t.Fatal(err)
	}
	if err := lab.RegisterDefense("pinning-test", "the client pins its server's key"); err != nil {
		t.Errorf("registering again with the same doc: %v", err)
	}
	for _, c := range []struct{ name, doc, want string }{
		{"pinning-test", "another doc", `lab: defense "pinning-test" is registered as "the client pins its server's key"`},
		{"hostname-check", "mine", `lab: defense "hostname-check" is a built-in switch`},
		{"Pinning", "doc", `lab: defense "Pinning": a defense is lower case without spaces, with a one-line doc`},
		{"pin", "", `lab: defense "pin": a defense is lower case without spaces, with a one-line doc`},
	} {
		if err := lab.RegisterDefense(c.name, c.doc); err == nil || err.Error() != c.want {
			t.Errorf("RegisterDefense(%q, %q): %v, want %q", c.name, c.doc, err, c.want)
		}
	}
	if !lab.IsDefense("pinning-test") || !lab.Hardened().On("pinning-test") || slices.Contains(lab.DefenseNames(), "pinning-test") {
		t.Errorf("registered defense: IsDefense %v, On %v, among the switches %v", lab.IsDefense("pinning-test"), lab.Hardened().On("pinning-test"), slices.Contains(lab.DefenseNames(), "pinning-test"))
	}
	s := lab.Scenario{Name: "x/pinned", Summary: "pinned", Attacker: "mallory", Expected: lab.Held, StoppedBy: "pinning-test",
		Run: func(context.Context, *lab.Env) error { return nil }}
	if err := lab.Catalog([]lab.Scenario{s}).Validate(); err != nil {
		t.Errorf("a scenario held by a registered defense: %v", err)
	}
	j := lab.Decide(nil, lab.Observation{Attack: true, Defenses: lab.Hardened(),
		Refusals:   []lab.Refusal{{Host: "client", Defense: "pinning-test", Reason: "key mismatch", Line: "client: key mismatch"}},
		Milestones: []lab.MilestoneReached{{Milestone: lab.MilestoneInPosition, Actor: "mallory"}}})
	if j.Verdict != lab.Held || !slices.Equal(j.StoppedBy, []string{"pinning-test"}) {
		t.Errorf("verdict %s by %v, want held by pinning-test", j.Verdict, j.StoppedBy)
	}
}
