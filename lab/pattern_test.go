package lab_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

func TestSelectPatternsAndExclude(t *testing.T) {
	c := lab.Catalog{
		{Name: "mitm/self-signed", Labels: []lab.Label{lab.LabelMITM, lab.LabelTLS}},
		{Name: "mitm/arp-dns", Labels: []lab.Label{lab.LabelMITM, lab.LabelDNS}},
		{Name: "dns/self-signed", Labels: []lab.Label{lab.LabelDNS}},
	}
	names := func(ss []lab.Scenario) string {
		var n []string
		for _, s := range ss {
			n = append(n, s.Name)
		}
		return strings.Join(n, " ")
	}
	got, err := c.Select([]string{"*/self-signed", "mitm/*"}, nil)
	if err != nil || names(got) != "mitm/self-signed dns/self-signed mitm/arp-dns" {
		t.Errorf("Select globs = %q, %v", names(got), err)
	}
	var nm *lab.NoMatchError
	if _, err := c.Select([]string{"pki/*"}, nil); !errors.As(err, &nm) || nm.Pattern != "pki/*" {
		t.Errorf("Select(pki/*) error %v, want a NoMatchError naming it", err)
	}
	var bp *lab.BadPatternError
	if _, err := c.Select([]string{"mitm/["}, nil); !errors.As(err, &bp) {
		t.Errorf("Select(mitm/[) error %v, want a BadPatternError", err)
	}
	got, err = lab.Exclude(c, c, []lab.Label{lab.LabelDNS}, nil)
	if err != nil || names(got) != "mitm/self-signed" {
		t.Errorf("Exclude(!dns) = %q, %v", names(got), err)
	}
	got, err = lab.Exclude(c, c, nil, []string{"mitm/self-signed", "dns/*"})
	if err != nil || names(got) != "mitm/arp-dns" {
		t.Errorf("Exclude(--skip) = %q, %v", names(got), err)
	}
	if _, err := lab.Exclude(c, c, nil, []string{"pki/*"}); !errors.As(err, &nm) || nm.Flag != "--skip" {
		t.Errorf("Exclude(--skip pki/*) error %v, want a NoMatchError for --skip", err)
	}
}
