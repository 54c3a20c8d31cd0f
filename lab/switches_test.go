package lab_test

import (
	"slices"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// Every switch takes each of its values and reads it back; a value it
// does not take is refused, naming the valid ones.
func TestSwitchesSetAndRead(t *testing.T) {
	for i, s := range lab.Switches() {
		if got := lab.Hardened().Settings()[i].Name; got != s.Name {
			t.Errorf("switch %d is %q, Settings says %q", i, s.Name, got)
		}
		for _, v := range s.Values {
			d := lab.Hardened()
			if err := s.Set(&d, v); err != nil {
				t.Errorf("%s: Set(%q): %v", s.Name, v, err)
			}
			if got := s.Value(d); got != v {
				t.Errorf("%s: set %q, reads %q", s.Name, v, got)
			}
		}
		d := lab.Hardened()
		if err := s.Set(&d, "maybe"); err == nil || d != lab.Hardened() {
			t.Errorf("%s: Set(\"maybe\") = %v, defenses %v; want an error and nothing changed", s.Name, err, d.Diff(lab.Hardened()))
		}
	}
	d := lab.Hardened()
	hc, _ := lab.SwitchNamed(lab.DefenseHostnameCheck)
	if err := hc.Set(&d, "maybe"); err == nil || err.Error() != `lab: hostname-check cannot be "maybe"; valid: on, off` {
		t.Errorf("the refusal reads %v", err)
	}
	if !slices.Equal(lab.DefenseNames(), names(lab.Hardened().Settings())) {
		t.Errorf("DefenseNames %q differ from Settings", lab.DefenseNames())
	}
}

func names(settings []lab.DefenseSetting) []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.Name
	}
	return out
}

// On follows the switches: on unless "off", the ARP policy only when
// stricter than accept-any, the TLS floor always.
func TestDefensesOn(t *testing.T) {
	d := lab.Hardened()
	var off []string
	for _, n := range lab.DefenseNames() {
		if !d.On(n) {
			off = append(off, n)
		}
	}
	if want := []string{lab.DefenseDNSSECValidation, lab.DefenseARPPolicy, lab.DefensePoolPinning}; !slices.Equal(off, want) {
		t.Errorf("off in Hardened: %q, want %q", off, want)
	}
	if d.On("firewall") {
		t.Error("an unknown switch is on")
	}
}
