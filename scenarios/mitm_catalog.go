package scenarios

import (
	"crypto/x509"
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
		name: "mitm/self-signed", labels: mitmLabels, expected: lab.Held, stoppedBy: lab.DefenseChainValidation, cert: selfSignedCert,
		summary: "ARP MITM presents a self-signed pool01 certificate: chain validation refuses",
		story: mitmSetting + "Mallory presents a self-signed certificate for pool01.contoso.com. Every defense is on: " +
			"alice's chain validation must refuse it; she loses her service, mallory reads nothing.",
	}
	mitmAttackerCA = mitmParams{
		name: "mitm/attacker-ca", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseChainValidation, cert: malloryCACert,
		summary: "ARP MITM forges pool01 from Mallory Root CA, which alice does not trust",
		story: mitmSetting + "Mallory forges a pool01.contoso.com leaf from her own Mallory Root CA (with its own OCSP " +
			"responder) as interception proxies do. Alice's trust store lacks that root: chain validation must refuse.",
	}
	mitmAttackerCAInstalled = mitmParams{
		name: "mitm/attacker-ca-installed", labels: mitmPKILabels, expected: lab.Broken, cert: malloryCACert,
		trustMallory: true,
		summary:      "alice's trust store includes Mallory Root CA: the forged pool01 leaf is accepted",
		story: mitmSetting + "As mitm/attacker-ca, but Mallory Root CA was installed in alice's trust store. The chain, " +
			"name, validity and (mallory's own OCSP) revocation checks all pass: mallory reads the canary.",
	}
	mitmWrongName = mitmParams{
		name: "mitm/trusted-cert-wrong-name", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseHostnameCheck, cert: ownCert,
		summary: "ARP MITM presents its valid enterprise certificate for mallory.contoso.com",
		story: mitmSetting + "Mallory presents a valid certificate for mallory.contoso.com from Contoso Issuing CA 01. " +
			"The chain is trusted, but alice's hostname check must refuse a certificate not naming pool01.contoso.com.",
	}
	mitmNoHostnameCheck = mitmParams{
		name: "mitm/wrong-name-no-hostname-check", labels: mitmMisLabels, expected: lab.Broken, cert: ownCert,
		defenses: func(d *lab.Defenses) { d.HostnameCheck = false },
		summary:  "alice's client skips the hostname check: mallory.contoso.com passes for pool01",
		story: mitmSetting + "As mitm/trusted-cert-wrong-name, with alice's hostname check off: her client accepts " +
			"any trusted certificate, so mallory's own passes and mallory reads the canary.",
	}
	mitmMisIssued = mitmParams{
		name: "mitm/mis-issued-cert", labels: mitmPKILabels, expected: lab.Broken, cert: misIssuedCert,
		summary: "a trusted CA mis-issued pool01.contoso.com to mallory: the model's stated limit",
		story: mitmSetting + "Contoso Issuing CA 01 mis-issued a certificate for pool01.contoso.com to mallory. Every " +
			"check passes (chain, name, validity, OCSP good): TLS cannot tell, and mallory reads the canary.",
	}
	mitmMisIssuedRevokedHard = mitmParams{
		name: "mitm/mis-issued-revoked-hard-fail", labels: mitmRevLabels, expected: lab.Held, stoppedBy: lab.DefenseRevocation, cert: misIssuedCert.revoke(),
		summary: "the mis-issued certificate is revoked; alice's hard-fail OCSP check refuses it",
		story: mitmSetting + "As mitm/mis-issued-cert, but the CA has revoked the mis-issued certificate. Alice checks " +
			"revocation in hard-fail mode at pki.contoso.com and must refuse it as revoked.",
	}
	mitmMisIssuedSoftBlocked = mitmParams{
		name: "mitm/mis-issued-revoked-soft-fail-blocked", labels: mitmRevLabels, expected: lab.Broken, cert: misIssuedCert.revoke(), blockPKI: true,
		defenses: func(d *lab.Defenses) { d.Revocation = pki.RevocationSoftFail },
		summary:  "revoked mis-issued certificate, soft-fail revocation, mallory blocks pki01",
		story: mitmSetting + "As mitm/mis-issued-revoked-hard-fail, but alice checks revocation in soft-fail mode and " +
			"mallory also poisons pki01 (10.0.0.80) and resets alice's OCSP and CRL requests: the status is unavailable, " +
			"soft-fail accepts, and mallory reads the canary.",
	}
	mitmMisIssuedHardBlocked = mitmParams{
		name: "mitm/mis-issued-hard-fail-blocked", labels: mitmRevLabels, expected: lab.Held, stoppedBy: lab.DefenseRevocation,
		cert: misIssuedCert, blockPKI: true,
		summary: "mis-issued certificate, mallory blocks pki01: only hard-fail revocation refuses",
		story: mitmSetting + "Mallory presents the certificate a trusted CA mis-issued for pool01.contoso.com, which " +
			"passes every certificate check, and also poisons pki01 (10.0.0.80) and resets alice's OCSP and CRL " +
			"requests. Alice cannot learn the certificate's status: hard-fail revocation refuses it for that alone, " +
			"where soft-fail would accept it and let mallory read the canary.",
	}
	mitmStolenKey = mitmParams{
		name: "mitm/stolen-key", labels: mitmPKILabels, expected: lab.Broken, cert: stolenCert,
		summary: "mallory stole fe01's certificate and key: indistinguishable from fe01",
		story: mitmSetting + "Mallory stole fe01's certificate and private key and presents them. It is fe01's genuine, " +
			"unrevoked certificate: every check passes and mallory reads the canary.",
	}
	mitmStolenKeyRevoked = mitmParams{
		name: "mitm/stolen-key-revoked", labels: mitmRevLabels, expected: lab.Held, stoppedBy: lab.DefenseRevocation, cert: stolenCert.revoke(),
		summary: "fe01's stolen certificate was revoked: alice's hard-fail check refuses it",
		story: mitmSetting + "As mitm/stolen-key, but Contoso revoked fe01's certificate for key compromise. Alice's " +
			"hard-fail revocation check must refuse it; her service is down until fe01 gets a new certificate.",
	}
	mitmExpired = mitmParams{
		name: "mitm/expired-cert", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseValidityCheck, cert: expiredCert,
		summary: "ARP MITM presents an expired pool01 certificate from the enterprise CA",
		story: mitmSetting + "Mallory presents a pool01.contoso.com certificate from Contoso Issuing CA 01 that " +
			"expired a year ago (an old certificate's key). Alice's validity check must refuse it.",
	}
	mitmNotYetValid = mitmParams{
		name: "mitm/not-yet-valid", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseValidityCheck, cert: notYetValidCert,
		summary: "ARP MITM presents a pool01 certificate valid only from next year",
		story: mitmSetting + "Mallory presents a pool01.contoso.com certificate from Contoso Issuing CA 01 valid from " +
			"a year from now. Alice's validity check must refuse it.",
	}
	mitmWrongEKU = mitmParams{
		name: "mitm/wrong-eku", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseChainValidation, cert: wrongEKUCert,
		summary: "ARP MITM presents a clientAuth-only pool01 certificate: not for servers",
		story: mitmSetting + "Mallory presents a pool01.contoso.com certificate from Contoso Issuing CA 01 whose " +
			"extended key usage is clientAuth only. Alice's chain validation must refuse it for a server.",
	}
	mitmTLSStrip = mitmParams{
		name: "mitm/tls-strip", labels: []lab.Label{lab.LabelMITM, lab.LabelARP, lab.LabelPlaintext, lab.LabelSIP},
		expected: lab.Held, stoppedBy: lab.DefenseTLSOnly, mode: modeStrip,
		summary: "mallory refuses 5061 to make alice fall back to plaintext; alice will not",
		story: "Mallory (10.0.0.66) ARP-spoofs alice and fe01, resets alice's connections to 5061 and waits on 5060 to " +
			"relay plaintext SIP to fe01 over TLS. Alice's client is TLS-only: she refuses to fall back, loses her " +
			"service, and mallory reads nothing.",
	}
	mitmTLSStripFallback = mitmParams{
		name: "mitm/tls-strip-fallback", labels: []lab.Label{lab.LabelMITM, lab.LabelARP, lab.LabelPlaintext, lab.LabelMisconfig, lab.LabelSIP},
		expected: lab.Broken, mode: modeStrip, defenses: func(d *lab.Defenses) { d.TLSOnly = false },
		summary: "alice's client falls back to plaintext SIP: mallory strips TLS and reads it",
		story: "As mitm/tls-strip, but alice's client may fall back to plaintext (TLSOnly off): after the reset on " +
			"5061 she sends her canary over TCP 5060, which mallory reads and relays to fe01 over TLS.",
	}
	mitmVersionDowngrade = mitmParams{
		name: "mitm/version-downgrade", labels: mitmPKILabels, expected: lab.Held, stoppedBy: lab.DefenseMinTLSVersion, mode: modeDowngrade, cert: stolenCert,
		summary: "mallory's proxy speaks only TLS 1.0: alice's TLS 1.2 floor refuses it",
		story: mitmSetting + "Mallory's proxy offers TLS 1.0 only, the legacy protocol she hopes to break later. Even " +
			"with fe01's stolen certificate and key, alice's minimum version (TLS 1.2) must refuse the handshake.",
	}
	mitmRogueGateway = mitmParams{
		name: "mitm/rogue-gateway-self-signed", labels: []lab.Label{lab.LabelMITM, lab.LabelTLS, lab.LabelSIP},
		expected: lab.Held, stoppedBy: lab.DefenseChainValidation, position: positionGateway, cert: selfSignedCert,
		summary: "mallory is alice's gateway to the pool and presents a self-signed certificate",
		story: "A rogue DHCP offer made mallory (10.0.0.66) alice's next hop to fe01 (10.0.0.11/32 via 10.0.0.66); " +
			"no ARP spoofing. Mallory's proxy presents a self-signed pool01.contoso.com certificate: chain validation " +
			"must refuse it.",
	}
	mitmPassthrough = mitmParams{
		name: "mitm/passthrough", labels: mitmLabels, expected: lab.Held, stoppedBy: lab.DefenseTLSOnly, mode: modePassthrough,
		summary: "ARP MITM relays alice's TLS untouched: service intact, only ciphertext",
		story: mitmSetting + "Mallory only relays the bytes: alice's TLS session is with fe01 itself, the canary " +
			"arrives, and mallory sees ciphertext only.",
	}
	mitmARPStatic = mitmParams{
		name: "mitm/arp-static-entries", labels: mitmLabels,
		expected: lab.Held, stoppedBy: lab.DefenseARPPolicy, cert: selfSignedCert,
		defenses: func(d *lab.Defenses) { d.ARPPolicy = netsim.ARPStaticOnly },
		summary:  "alice and fe01 pin static ARP entries: the spoofing fails, service intact",
		story: mitmSetting + "Every host pins static ARP entries (ARP policy static-only) and ignores mallory's forged " +
			"replies: alice's frames for fe01 never reach mallory, and her canary reaches dave over TLS with fe01.",
	}
)

// mitmCatalog lists the family's scenarios in catalog order.
func mitmCatalog() []mitmParams {
	return []mitmParams{
		mitmSelfSigned, mitmAttackerCA, mitmAttackerCAInstalled, mitmWrongName, mitmNoHostnameCheck,
		mitmMisIssued, mitmMisIssuedRevokedHard, mitmMisIssuedSoftBlocked, mitmMisIssuedHardBlocked, mitmStolenKey, mitmStolenKeyRevoked,
		mitmExpired, mitmNotYetValid, mitmWrongEKU, mitmTLSStrip, mitmTLSStripFallback, mitmVersionDowngrade,
		mitmRogueGateway, mitmPassthrough, mitmARPStatic,
	}
}
