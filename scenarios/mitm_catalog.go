package scenarios

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// The certificates mallory presents in the catalog.
const year = 365 * 24 * time.Hour

var (
	selfSignedCert  = certSpec{source: certSelfSigned}
	malloryCACert   = certSpec{source: certForged, issuer: issuerMallory}
	ownCert         = certSpec{source: certOwn, issuer: "contoso-issuing"}
	misIssuedCert   = certSpec{source: certForged, issuer: "contoso-issuing"}
	stolenCert      = certSpec{source: certStolen, holder: "fe01"}
	expiredCert     = certSpec{source: certForged, issuer: "contoso-issuing", dated: true, validFrom: -2 * year, validFor: year}
	notYetValidCert = certSpec{source: certForged, issuer: "contoso-issuing", dated: true, validFrom: year, validFor: year}
	wrongEKUCert    = certSpec{source: certForged, issuer: "contoso-issuing", ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
)

var (
	mitmLabels    = []lab.Label{lab.LabelMITM, lab.LabelARP, lab.LabelTLS, lab.LabelSIP}
	mitmPKILabels = []lab.Label{lab.LabelMITM, lab.LabelARP, lab.LabelTLS, lab.LabelPKI, lab.LabelSIP}
	mitmRevLabels = []lab.Label{lab.LabelMITM, lab.LabelARP, lab.LabelTLS, lab.LabelPKI, lab.LabelRevocation, lab.LabelSIP}
	mitmMisLabels = []lab.Label{lab.LabelMITM, lab.LabelARP, lab.LabelTLS, lab.LabelMisconfig, lab.LabelSIP}
)

const mitmSetting = "Mallory (10.0.0.66, a router on contoso-lan) ARP-spoofs alice and fe01 (10.0.0.11) and runs a " +
	"transparent proxy on 5061, to read the canary alice sends dave@contoso.com (homed on fe01). Defenses are " +
	"hardened unless stated. "

var (
	mitmSelfSigned = mitmParams{
		header: header{
			name: "mitm/self-signed", labels: mitmLabels, expected: lab.Held, stoppedBy: lab.DefenseChainValidation,
			summary: "ARP MITM presents a self-signed pool01 certificate: chain validation refuses",
			story: mitmSetting + "Mallory presents a self-signed certificate for pool01.contoso.com. Every defense is on: " +
				"alice's chain validation must refuse it; she loses her service, mallory reads nothing.",
		},
		cert: selfSignedCert,
	}
	mitmAttackerCA = mitmParams{
		header: header{
			name: "mitm/attacker-ca", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseChainValidation,
			summary: "ARP MITM forges pool01 from Mallory Root CA, which alice does not trust",
			story: mitmSetting + "Mallory forges a pool01.contoso.com leaf from her own Mallory Root CA (with its own OCSP " +
				"responder) as interception proxies do. Alice's trust store lacks that root: chain validation must refuse.",
		},
		cert: malloryCACert,
	}
	mitmAttackerCAInstalled = mitmParams{
		header: header{
			name: "mitm/attacker-ca-installed", labels: mitmPKILabels, expected: lab.Broken,
			summary: "alice's trust store includes Mallory Root CA: the forged pool01 leaf is accepted",
			story: mitmSetting + "As mitm/attacker-ca, but Mallory Root CA was installed in alice's trust store. The chain, " +
				"name, validity and (mallory's own OCSP) revocation checks all pass: mallory reads the canary.",
		},
		cert:         malloryCACert,
		trustMallory: true,
	}
	mitmAttackerCADistrusted = mitmParams{
		header: header{
			name: "mitm/attacker-ca-installed-distrusted", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseDistrustList,
			summary: "Mallory Root CA is installed on alice's machine but on the enterprise distrust list: refused",
			story: mitmSetting + "As mitm/attacker-ca-installed, Mallory Root CA is in alice's trust store; but the enterprise " +
				"has put it on its distrust list (as Windows' disallowed store), pushed to every machine. The chain verifies, " +
				"and the distrust list must refuse it all the same.",
		},
		cert:         malloryCACert,
		trustMallory: true,
		distrusted:   []string{issuerMallory},
	}
	mitmWrongName = mitmParams{
		header: header{
			name: "mitm/trusted-cert-wrong-name", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseHostnameCheck,
			summary: "ARP MITM presents its valid enterprise certificate for mallory.contoso.com",
			story: mitmSetting + "Mallory presents a valid certificate for mallory.contoso.com from Contoso Issuing CA 01. " +
				"The chain is trusted, but alice's hostname check must refuse a certificate not naming pool01.contoso.com.",
		},
		cert: ownCert,
	}
	mitmNoHostnameCheck = mitmParams{
		header: header{
			name: "mitm/wrong-name-no-hostname-check", labels: mitmMisLabels, expected: lab.Broken,
			defenses: func(d *lab.Defenses) { d.HostnameCheck = false },
			summary:  "alice's client skips the hostname check: mallory.contoso.com passes for pool01",
			story: mitmSetting + "As mitm/trusted-cert-wrong-name, with alice's hostname check off: her client accepts " +
				"any trusted certificate, so mallory's own passes and mallory reads the canary.",
		},
		cert: ownCert,
	}
	mitmMisIssued = mitmParams{
		header: header{
			name: "mitm/mis-issued-cert", labels: mitmPKILabels, expected: lab.Broken,
			summary: "a trusted CA mis-issued pool01.contoso.com to mallory: the model's stated limit",
			story: mitmSetting + "Contoso Issuing CA 01 mis-issued a certificate for pool01.contoso.com to mallory. Every " +
				"check passes (chain, name, validity, OCSP good): TLS cannot tell, and mallory reads the canary.",
		},
		cert: misIssuedCert,
	}
	mitmMisIssuedRevokedHard = mitmParams{
		header: header{
			name: "mitm/mis-issued-revoked-hard-fail", labels: mitmRevLabels, expected: lab.Held, stoppedBy: lab.DefenseRevocation,
			summary: "the mis-issued certificate is revoked; alice's hard-fail OCSP check refuses it",
			story: mitmSetting + "As mitm/mis-issued-cert, but the CA has revoked the mis-issued certificate. Alice checks " +
				"revocation in hard-fail mode at pki.contoso.com and must refuse it as revoked.",
		},
		cert: misIssuedCert.revoke(),
	}
	mitmMisIssuedSoftBlocked = mitmParams{
		header: header{
			name: "mitm/mis-issued-revoked-soft-fail-blocked", labels: mitmRevLabels, expected: lab.Broken,
			defenses: func(d *lab.Defenses) { d.Revocation = pki.RevocationSoftFail },
			summary:  "revoked mis-issued certificate, soft-fail revocation, mallory blocks pki01",
			story: mitmSetting + "As mitm/mis-issued-revoked-hard-fail, but alice checks revocation in soft-fail mode and " +
				"mallory also poisons pki01 (10.0.0.80) and resets alice's OCSP and CRL requests: the status is unavailable, " +
				"soft-fail accepts, and mallory reads the canary.",
		},
		cert: misIssuedCert.revoke(), blockPKI: true,
	}
	mitmMisIssuedHardBlocked = mitmParams{
		header: header{
			name: "mitm/mis-issued-hard-fail-blocked", labels: mitmRevLabels, expected: lab.Held, stoppedBy: lab.DefenseRevocation,
			summary: "mis-issued certificate, mallory blocks pki01: only hard-fail revocation refuses",
			story: mitmSetting + "Mallory presents the certificate a trusted CA mis-issued for pool01.contoso.com, which " +
				"passes every certificate check, and also poisons pki01 (10.0.0.80) and resets alice's OCSP and CRL " +
				"requests. Alice cannot learn the certificate's status: hard-fail revocation refuses it for that alone, " +
				"where soft-fail would accept it and let mallory read the canary.",
		},
		cert: misIssuedCert, blockPKI: true,
	}
	mitmStolenKey = mitmParams{
		header: header{
			name: "mitm/stolen-key", labels: mitmPKILabels, expected: lab.Broken,
			summary: "mallory stole fe01's certificate and key: indistinguishable from fe01",
			story: mitmSetting + "Mallory stole fe01's certificate and private key and presents them. It is fe01's genuine, " +
				"unrevoked certificate: every check passes and mallory reads the canary.",
		},
		cert: stolenCert,
	}
	mitmStolenKeyRevoked = mitmParams{
		header: header{
			name: "mitm/stolen-key-revoked", labels: mitmRevLabels, expected: lab.Held, stoppedBy: lab.DefenseRevocation,
			summary: "fe01's stolen certificate was revoked: alice's hard-fail check refuses it",
			story: mitmSetting + "As mitm/stolen-key, but Contoso revoked fe01's certificate for key compromise. Alice's " +
				"hard-fail revocation check must refuse it; her service is down until fe01 gets a new certificate.",
		},
		cert: stolenCert.revoke(),
	}
	mitmExpired = mitmParams{
		header: header{
			name: "mitm/expired-cert", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseValidityCheck,
			summary: "ARP MITM presents an expired pool01 certificate from the enterprise CA",
			story: mitmSetting + "Mallory presents a pool01.contoso.com certificate from Contoso Issuing CA 01 that " +
				"expired a year ago (an old certificate's key). Alice's validity check must refuse it.",
		},
		cert: expiredCert,
	}
	mitmNotYetValid = mitmParams{
		header: header{
			name: "mitm/not-yet-valid", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseValidityCheck,
			summary: "ARP MITM presents a pool01 certificate valid only from next year",
			story: mitmSetting + "Mallory presents a pool01.contoso.com certificate from Contoso Issuing CA 01 valid from " +
				"a year from now. Alice's validity check must refuse it.",
		},
		cert: notYetValidCert,
	}
	mitmWrongEKU = mitmParams{
		header: header{
			name: "mitm/wrong-eku", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseChainValidation,
			summary: "ARP MITM presents a clientAuth-only pool01 certificate: not for servers",
			story: mitmSetting + "Mallory presents a pool01.contoso.com certificate from Contoso Issuing CA 01 whose " +
				"extended key usage is clientAuth only. Alice's chain validation must refuse it for a server.",
		},
		cert: wrongEKUCert,
	}
	mitmTLSStrip = mitmParams{
		header: header{
			name: "mitm/tls-strip", labels: []lab.Label{lab.LabelMITM, lab.LabelARP, lab.LabelPlaintext, lab.LabelSIP},
			expected: lab.Held, stoppedBy: lab.DefenseTLSOnly,
			summary: "mallory refuses 5061 to make alice fall back to plaintext; alice will not",
			story: "Mallory (10.0.0.66) ARP-spoofs alice and fe01, resets alice's connections to 5061 and waits on 5060 to " +
				"relay plaintext SIP to fe01 over TLS. Alice's client is TLS-only: she refuses to fall back, loses her " +
				"service, and mallory reads nothing.",
		},
		mode: modeStrip,
	}
	mitmTLSStripFallback = mitmParams{
		header: header{
			name: "mitm/tls-strip-fallback", labels: []lab.Label{lab.LabelMITM, lab.LabelARP, lab.LabelPlaintext, lab.LabelMisconfig, lab.LabelSIP},
			expected: lab.Broken, defenses: func(d *lab.Defenses) { d.TLSOnly = false },
			summary: "alice's client falls back to plaintext SIP: mallory strips TLS and reads it",
			story: "As mitm/tls-strip, but alice's client may fall back to plaintext (TLSOnly off): after the reset on " +
				"5061 she sends her canary over TCP 5060, which mallory reads and relays to fe01 over TLS.",
		},
		mode: modeStrip,
	}
	mitmVersionDowngrade = mitmParams{
		header: header{
			name: "mitm/version-downgrade", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseMinTLSVersion,
			summary: "mallory's proxy speaks only TLS 1.0: alice's TLS 1.2 floor refuses it",
			story: mitmSetting + "Mallory's proxy offers TLS 1.0 only, the legacy protocol she hopes to break later. Even " +
				"with fe01's stolen certificate and key, alice's minimum version (TLS 1.2) must refuse the handshake.",
		},
		mode: modeDowngrade, cert: stolenCert,
	}
	mitmRogueGateway = mitmParams{
		header: header{
			name: "mitm/rogue-gateway-self-signed", labels: []lab.Label{lab.LabelMITM, lab.LabelTLS, lab.LabelSIP},
			expected: lab.Held, stoppedBy: lab.DefenseChainValidation,
			summary: "mallory is alice's gateway to the pool and presents a self-signed certificate",
			story: "A rogue DHCP offer made mallory (10.0.0.66) alice's next hop to fe01 (10.0.0.11/32 via 10.0.0.66); " +
				"no ARP spoofing. Mallory's proxy presents a self-signed pool01.contoso.com certificate: chain validation " +
				"must refuse it.",
		},
		position: positionGateway, cert: selfSignedCert,
	}
	mitmPassthrough = mitmParams{
		header: header{
			name: "mitm/passthrough", labels: mitmLabels, expected: lab.Held, stoppedBy: lab.DefenseTLSOnly,
			summary: "ARP MITM relays alice's TLS untouched: service intact, only ciphertext",
			story: mitmSetting + "Mallory only relays the bytes: alice's TLS session is with fe01 itself, the canary " +
				"arrives, and mallory sees ciphertext only.",
		},
		mode: modePassthrough,
	}
	mitmARPStatic = mitmParams{
		header: header{
			name: "mitm/arp-static-entries", labels: mitmLabels,
			expected: lab.Held, stoppedBy: lab.DefenseARPPolicy,
			defenses: func(d *lab.Defenses) { d.ARPPolicy = netsim.ARPStaticOnly },
			summary:  "alice and fe01 pin static ARP entries: the spoofing fails, service intact",
			story: mitmSetting + "Every host pins static ARP entries (ARP policy static-only) and ignores mallory's forged " +
				"replies: alice's frames for fe01 never reach mallory, and her canary reaches dave over TLS with fe01.",
		},
		cert: selfSignedCert,
	}
)

// mitmCatalog lists the family's scenarios in catalog order.
func mitmCatalog() []mitmParams {
	return []mitmParams{
		mitmSelfSigned, mitmAttackerCA, mitmAttackerCAInstalled, mitmAttackerCADistrusted, mitmWrongName, mitmNoHostnameCheck,
		mitmMisIssued, mitmMisIssuedRevokedHard, mitmMisIssuedSoftBlocked, mitmMisIssuedHardBlocked, mitmStolenKey, mitmStolenKeyRevoked,
		mitmExpired, mitmNotYetValid, mitmWrongEKU, mitmTLSStrip, mitmTLSStripFallback, mitmVersionDowngrade,
		mitmRogueGateway, mitmPassthrough, mitmARPStatic,
	}
}

// mitmPositions and mitmModes name the MITM family's positions and modes
// as scenario files spell them, in iota order.
var (
	mitmPositions = []string{"arp", "gateway"}
	mitmModes     = []string{"terminate", "downgrade", "passthrough", "strip"}
)

// String returns the position as scenario files spell it, "arp".
func (p mitmPosition) String() string {
	if int(p) >= 0 && int(p) < len(mitmPositions) {
		return mitmPositions[p]
	}
	return fmt.Sprintf("mitmPosition(%d)", int(p))
}

// String returns the mode as scenario files spell it, "terminate".
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
		if p.offer != nil {
			fmt.Fprintf(&b, "; transparent proxy on %d offering %s and presenting %s", portTLS, p.offer.text(), p.cert.text(pool01Name))
			break
		}
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
	if len(p.distrusted) > 0 {
		b.WriteString("; the enterprise distrust list holds " + distrustedNames(p.distrusted))
	}
	if p.blockPKI {
		b.WriteString("; drops alice's OCSP and CRL queries to pki01 (10.0.0.80)")
	}
	return b.String()
}
