package lab_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

func TestParseLabel(t *testing.T) {
	for _, l := range lab.KnownLabels() {
		got, err := lab.ParseLabel(string(l))
		if err != nil || got != l {
			t.Errorf("ParseLabel(%q) = %q, %v", l, got, err)
		}
		if l.Doc() == "" {
			t.Errorf("label %q has no doc", l)
		}
	}
	if got, err := lab.ParseLabel(" MITM "); err != nil || got != lab.LabelMITM {
		t.Errorf("ParseLabel(\" MITM \") = %q, %v; want mitm", got, err)
	}

	_, err := lab.ParseLabel("mitn")
	var ule *lab.UnknownLabelError
	if !errors.As(err, &ule) || ule.Label != "mitn" {
		t.Fatalf("ParseLabel(mitn) error = %v, want *UnknownLabelError", err)
	}
	for _, want := range []string{`"mitn"`, "eavesdrop", "mitm", "mtls", "dns", "federation", "baseline", "tls", "plaintext"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
