package attacker

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"time"
)

// CertInfo describes a certificate an attacker presented or received.
type CertInfo struct {
	// Subject and Issuer are RFC 2253 names ("CN=pool01.contoso.com").
	Subject, Issuer string
	DNSNames        []string
	// Serial is the serial number in hex ("0x3f").
	Serial              string
	NotBefore, NotAfter time.Time
	// ExtKeyUsage lists the extended key usages by their RFC 5280 names
	// ("serverAuth", "clientAuth", ...); empty when the certificate has
	// none (any purpose).
	ExtKeyUsage []string
	// Source describes where the attacker got it (a CertSource's String);
	// empty for certificates received.
	Source string
}

func certInfo(leaf *x509.Certificate, source string) *CertInfo {
	if leaf == nil {
		return nil
	}
	ci := &CertInfo{
		Subject: subjectText(leaf), Issuer: leaf.Issuer.String(),
		DNSNames: slices.Clone(leaf.DNSNames), Serial: "0x" + leaf.SerialNumber.Text(16),
		NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, Source: source,
	}
	for _, u := range leaf.ExtKeyUsage {
		ci.ExtKeyUsage = append(ci.ExtKeyUsage, ekuName(u))
	}
	return ci
}

// leafOf returns the parsed leaf of cert, parsing it when Leaf is unset.
func leafOf(cert *tls.Certificate) *x509.Certificate {
	if cert == nil || len(cert.Certificate) == 0 {
		return nil
	}
	if cert.Leaf != nil {
		return cert.Leaf
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil
	}
	return leaf
}

func ekuName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "any"
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	}
	return "other"
}

// Handshake is one side of a connection as an attacker saw it: the
// victim's side, where the attacker played the server, or the upstream
// side, where it played the client.
type Handshake struct {
	// TLS reports whether this side spoke TLS; false for plaintext and for
	// a raw relay of whatever the victim sent.
	TLS bool
	// Completed reports whether the side was established: the TLS
	// handshake finished (on the victim's side: the victim accepted the
	// attacker's certificate, since a TLS server's handshake ends with the
	// client's Finished), or the plaintext connection was made.
	Completed bool
	// Version and CipherSuite are what TLS negotiated ("TLS 1.3",
	// "TLS_AES_128_GCM_SHA256"); empty without TLS or on failure.
	Version, CipherSuite string
	// ServerName is the SNI: the name the victim asked for, or the name
	// the attacker sent upstream.
	ServerName string
	// Certificate is the certificate the attacker presented (victim's
	// side) or the server presented to it (upstream); nil when none.
	Certificate *CertInfo
	// Verified reports, upstream, whether the attacker verified the
	// server's chain (it usually does not).
	Verified bool
	// Err is the exact error that ended this side, as crypto/tls or the
	// network reported it, e.g. "remote error: tls: bad certificate"
	// (the victim refused the attacker's certificate with an alert);
	// empty when it did not fail.
	Err string
	// Alert is, on the victim's side, the alert with which the victim
	// refused the handshake, read exactly whether crypto/tls decrypted it
	// or it came in plaintext (then Err may say something else, such as
	// "local error: tls: bad record MAC"); nil when the handshake
	// completed or the victim sent no alert. lab.ClassifyAlert maps its
	// Description to a defense.
	Alert *TLSAlert
}

// fillTLS records a TLS connection state.
func (h *Handshake) fillTLS(cs tls.ConnectionState) {
	h.Version = tls.VersionName(cs.Version)
	h.CipherSuite = tls.CipherSuiteName(cs.CipherSuite)
}

// clone returns a copy of h sharing nothing with it.
func (h Handshake) clone() Handshake {
	if h.Certificate != nil {
		c := *h.Certificate
		c.DNSNames = slices.Clone(c.DNSNames)
		c.ExtKeyUsage = slices.Clone(c.ExtKeyUsage)
		h.Certificate = &c
	}
	if h.Alert != nil {
		a := *h.Alert
		h.Alert = &a
	}
	return h
}

// subjectText is the leaf's subject as RFC 2253 prints it, or "(empty
// subject)" for a certificate whose names are in its SAN only.
func subjectText(leaf *x509.Certificate) string {
	if s := leaf.Subject.String(); s != "" {
		return s
	}
	return "(empty subject)"
}
