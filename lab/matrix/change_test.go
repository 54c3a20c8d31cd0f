package matrix_test

import (
	"slices"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
)

// Every matrix column changes exactly its own switch, to its value.
func TestChangesGoThroughTheSwitches(t *testing.T) {
	for _, c := range matrix.Changes() {
		s, ok := lab.SwitchNamed(c.Switch)
		if !ok || !slices.Contains(s.Values, c.To) {
			t.Errorf("column %q: no switch %q with value %q", c.Name(), c.Switch, c.To)
			continue
		}
		d := lab.Hardened()
		c.Apply(&d)
		if diff := d.Diff(lab.Hardened()); len(diff) != 1 || s.Value(d) != c.To {
			t.Errorf("column %q changes %q", c.Name(), diff)
		}
	}
}

// A column leaves its switch on exactly when it strengthens it, still
// refuses with it, or lowers the TLS floor, which lab.Defenses.On counts
// as always on.
func TestChangesOn(t *testing.T) {
	for _, c := range matrix.Changes() {
		d := lab.Hardened()
		c.Apply(&d)
		if want := c.Strengthens || c.StillRefuses || c.Switch == lab.DefenseMinTLSVersion; d.On(c.Switch) != want {
			t.Errorf("column %q: On(%s) = %v, want %v", c.Name(), c.Switch, d.On(c.Switch), want)
		}
	}
}
