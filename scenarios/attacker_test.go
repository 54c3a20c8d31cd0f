package scenarios

import (
	"strings"
	"testing"
)

// Every scenario that has an attacker says who it is, where and how, for
// handouts.
func TestAttackerDescribed(t *testing.T) {
	for _, s := range Catalog() {
		if s.Family() == "baseline" {
			continue
		}
		if strings.TrimSpace(s.Attacker) == "" {
			t.Errorf("%s: Attacker is empty", s.Name)
		}
		if strings.ContainsAny(s.Attacker, "\r\n") {
			t.Errorf("%s: Attacker %q is not one line", s.Name, s.Attacker)
		}
	}
}

// The MITM family's text follows its params.
func TestAttackerMITMText(t *testing.T) {
	for _, tc := range []struct {
		p    mitmParams
		want string
	}{
		{mitmSelfSigned, "mallory (10.0.0.66) on contoso-lan, ARP-spoofing alice and fe01; transparent proxy on 5061 presenting " +
			"a self-signed certificate for the name alice asks for (pool01.contoso.com)"},
		{mitmExpired, "mallory (10.0.0.66) on contoso-lan, ARP-spoofing alice and fe01; transparent proxy on 5061 presenting " +
			"a certificate for pool01.contoso.com that Contoso Issuing CA 01 issued to her (expired, valid from 730d ago for 365d)"},
		{mitmMisIssuedSoftBlocked, "mallory (10.0.0.66) on contoso-lan, ARP-spoofing alice and fe01 and pki01; transparent proxy on 5061 " +
			"presenting a certificate for pool01.contoso.com that Contoso Issuing CA 01 issued to her (revoked); " +
			"drops alice's OCSP and CRL queries to pki01 (10.0.0.80)"},
		{mitmTLSStrip, "mallory (10.0.0.66) on contoso-lan, ARP-spoofing alice and fe01; resets alice's connections to 5061 " +
			"and relays plaintext SIP on 5060 to fe01 over TLS"},
	} {
		if got := tc.p.attackerText(); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.p.name, got, tc.want)
		}
	}
}
