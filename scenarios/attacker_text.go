package scenarios

import (
	"fmt"
	"strings"
)

// What each family's attacker is, where it sits and how it attacks, for
// handouts (lab.Scenario.Attacker), derived from the params so the text
// follows the declaration.

// mitmPositions and mitmModes name the MITM family's positions and modes
// as scenario files spell them, in iota order.
var (
	mitmPositions = []string{"arp", "gateway"}
	mitmModes     = []string{"terminate", "downgrade", "passthrough", "strip"}
)

func (p mitmPosition) String() string {
	if int(p) >= 0 && int(p) < len(mitmPositions) {
		return mitmPositions[p]
	}
	return fmt.Sprintf("mitmPosition(%d)", int(p))
}

func (m mitmMode) String() string {
	if int(m) >= 0 && int(m) < len(mitmModes) {
		return mitmModes[m]
	}
	return fmt.Sprintf("mitmMode(%d)", int(m))
}

// attackerText: "mallory (10.0.0.66) on contoso-lan, ARP-spoofing alice
// and fe01; transparent proxy on 5061 presenting ...".
func (p mitmParams) attackerText() string {
	var b strings.Builder
	switch p.position {
	case positionGateway:
		b.WriteString("mallory (10.0.0.66) on contoso-lan as alice's rogue gateway to fe01 (route 10.0.0.11/32 via 10.0.0.66)")
	default:
		b.WriteString("mallory (10.0.0.66) on contoso-lan, ARP-spoofing alice and fe01")
		if p.blockPKI {
			b.WriteString(" and pki01")
		}
	}
	switch p.mode {
	case modeTerminate:
		fmt.Fprintf(&b, "; transparent proxy on %d presenting %s", portTLS, p.cert.text(pool01Name))
	case modeDowngrade:
		fmt.Fprintf(&b, "; transparent proxy on %d offering only TLS 1.0 and presenting %s", portTLS, p.cert.text(pool01Name))
	case modePassthrough:
		fmt.Fprintf(&b, "; transparent proxy on %d relaying alice's TLS untouched", portTLS)
	case modeStrip:
		fmt.Fprintf(&b, "; resets alice's connections to %d and relays plaintext SIP on %d to fe01 over TLS", portTLS, portPlain)
	}
	if p.trustMallory {
		b.WriteString("; alice's trust store includes Mallory Root CA")
	}
	if p.blockPKI {
		b.WriteString("; drops alice's OCSP and CRL queries to pki01 (10.0.0.80)")
	}
	return b.String()
}

// dnsPositions names the dns family's positions as scenario files spell
// them, in iota order.
var dnsPositions = []string{"rogue-dns", "dns-on-path", "dns-blind"}

func (p dnsPosition) String() string {
	if int(p) >= 0 && int(p) < len(dnsPositions) {
		return dnsPositions[p]
	}
	return fmt.Sprintf("dnsPosition(%d)", int(p))
}

func (p dnsParams) attackerText() string {
	var b strings.Builder
	switch p.position {
	case dnsRogueServer:
		b.WriteString("mallory (10.0.0.66) on contoso-lan as alice's DNS server (a rogue DHCP offer), answering pool01.contoso.com with 10.0.0.66")
	case dnsOnPath:
		b.WriteString("mallory (10.0.0.66) on a compromised contoso-lan switch, answering alice's queries to dns01 (10.0.0.53) for pool01.contoso.com first, with 10.0.0.66")
	case dnsBlind:
		b.WriteString("mallory (10.0.0.66) on contoso-lan, off the path, flooding alice with forged answers from dns01's address (query IDs 1-16, port 53000) saying pool01.contoso.com is 10.0.0.66")
	}
	fmt.Fprintf(&b, "; there she plays the pool on %d with %s, and a plaintext trap on %d", portTLS, p.cert.text(pool01Name), portPlain)
	return b.String()
}

func (p dnsSRVParams) attackerText() string {
	return "mallory on the Internet path to public DNS (203.0.113.53), answering edge01's query for " + dnsFedRecord +
		" with " + dnsEvilName + " (203.0.113.66), her host with a valid public-CA certificate for its own name"
}

func (p federationParams) attackerText() string {
	who := "mallory (203.0.113.66) on the Internet"
	if p.actor != "mallory" {
		who = fmt.Sprintf("%s's Edge %s (203.0.113.66) on the Internet", p.actor, p.holder)
	}
	return fmt.Sprintf("%s, connecting to contoso's federation listener %s (%s) as a partner Edge with %s for %s, "+
		"relaying a MESSAGE from %s to %s", who, federationTargetName, federationTarget, p.certDesc, p.holder, p.from, federationVictim)
}

func (p mtlsParams) attackerText() string {
	return fmt.Sprintf("mallory on fe99.contoso.com (10.0.0.99) on contoso-lan, connecting to fe02's MTLS port (%s) as a Front End "+
		"with %s, relaying a forged MESSAGE from alice@contoso.com to %s", mtlsTargetAddr, p.certText, mtlsVictim)
}

func (p mtlsRelayParams) attackerText() string {
	return "mallory (10.0.0.66) on contoso-lan, ARP-spoofing fe01 and fe02; transparent proxy on 5062 presenting " +
		"a self-signed certificate for fe02.contoso.com"
}

func (p eavesdropAttackParams) attackerText() string {
	var b strings.Builder
	switch p.segment {
	case "internet":
		b.WriteString("mallory's passive tap on the internet segment between sip.contoso.com and sip.fabrikam.com (an ISP tap), recording every frame")
	default:
		fmt.Fprintf(&b, "mallory's passive tap on %s (a mirrored switch port), recording every frame", p.segment)
	}
	var keys []string
	if p.stolenKey {
		keys = append(keys, "fe01's")
	}
	if p.rsaFE02 {
		keys = append(keys, "fe02's")
	}
	if p.rsaFabrikamEdge {
		keys = append(keys, "fabrikam-edge01's (sip.fabrikam.com)")
	}
	if len(keys) > 0 {
		fmt.Fprintf(&b, ", holding %s stolen RSA private key", strings.Join(keys, " and "))
	}
	b.WriteString("; it sends nothing")
	return b.String()
}
