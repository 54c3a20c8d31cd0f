package report_test

import (
	"bytes"
	"context"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/lab/report"
)

// showWidth is the line width WriteShow wraps the story to.
const showWidth = 100

func TestWriteShow(t *testing.T) {
	s := lab.Scenario{
		Name: "baseline/x", Labels: []lab.Label{lab.LabelBaseline, lab.LabelMTLS}, Summary: "a summary", Expected: lab.Held,
		Story:    strings.Repeat("a story that wraps ", 10),
		Defenses: func(d *lab.Defenses) { d.TrustedServerList = false },
		Topology: contoso.Config{Insiders: []contoso.Insider{{Name: "fe99", Addr: netip.MustParseAddr("10.0.0.99")}}},
		Run:      func(context.Context, *lab.Env) error { return nil },
	}
	var buf bytes.Buffer
	if err := report.WriteShow(&buf, s, s.DefensesFor()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"baseline/x\n  a summary\n  labels: baseline, mtls\n  expected: held\n",
		"\nStory\n  a story that wraps",
		"\nTopology: contoso\n  federation: partner-ca",
		"insider: fe99.contoso.com (10.0.0.99)",
		"  contoso-lan        10.0.0.0/24     Contoso internal LAN\n",
		"\nRouters\n  rtr01: router between the LAN, the perimeter and the Internet\n      contoso-lan 10.0.0.1/24, contoso-perimeter 172.16.0.1/24, internet 203.0.113.1/24\n",
		"  fe01: Front End of pool01\n      contoso-lan 10.0.0.11/24; default via 10.0.0.1; DNS 10.0.0.53\n      names: fe01.contoso.com, pool01.contoso.com",
		"  Contoso Issuing CA 01: Contoso enterprise issuing CA, issued by Contoso Enterprise Root CA\n",
		"edge01 (external, federation)\n    trusts Contoso Enterprise Root CA, Public Trust Root CA, Fabrikam Root CA\n",
		"  contoso.com (internal view) on dns01, unsigned\n    fe01.contoso.com A 10.0.0.11\n",
		"    _sip._tls.contoso.com SRV 0 0 5061 pool01.contoso.com.\n",
		"  alice@contoso.com   homed on fe01.contoso.com   client on alice\n",
		"\nDefenses (* = changed by this scenario from the hardened defaults)\n",
		"  chain-validation             on                  certificates must chain to a trusted root\n",
		"* trusted-server-list          off (hardened: on)  MTLS peers must be servers listed in the topology\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^  fe99 +fe99\.contoso\.com +server\+client +ECDSA P-256 +Contoso Issuing CA 01 +valid$`).MatchString(out) {
		t.Errorf("show lacks fe99's certificate:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  a story") && len(line) > showWidth {
			t.Errorf("story line longer than %d: %q", showWidth, line)
		}
	}

	buf.Reset()
	s.Topology = nil
	if err := report.WriteShow(&buf, s, lab.Hardened()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\nTopology\n  not declared") || strings.Contains(buf.String(), "\n* ") {
		t.Errorf("show without topology, hardened:\n%s", buf.String())
	}
}
