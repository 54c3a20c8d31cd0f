package scenarios

import (
	"crypto/tls"
	"errors"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The MTLS families in a scenario file:
//
//   - position insider (server fe02, the default, fe01 or edge01):
//     mallory, on fe99.contoso.com, dials the server's MTLS listener as a
//     Front End and relays a forged MESSAGE to a user it serves
//     (mtlsParams, mtlsServers). attacker.certificate is the client
//     certificate she presents; without it she presents none. source own
//     with no issuer and no names is fe99's own enterprise certificate.
//   - position arp with victim fe01 and server fe02: mallory ARP-spoofs
//     the Front Ends and terminates their MTLS relay with a self-signed
//     certificate for fe02.contoso.com (mtlsRelayParams).

// mtlsPosedAs is the Front End whose name a certificate for the insider
// holds by default: another server of the topology, which the target's
// trusted server list holds.
func mtlsPosedAs(target string) string {
	if target == "fe01" {
		return "fe02.contoso.com"
	}
	return "fe01.contoso.com"
}

// insiderAttack reads a position insider attacker.
func (d *fileDecoder) insiderAttack(top, m *mapping, target string) (fileAttack, *FileError) {
	const what = "position insider (mallory's Front End on fe99)"
	if err := d.only(m, what, "position", "certificate"); err != nil {
		return fileAttack{}, err
	}
	if err := d.onlyTop(top, what); err != nil {
		return fileAttack{}, err
	}
	if target == mtlsTarget {
		target = "" // the catalog's
	}
	p := &mtlsParams{
		target:   target,
		cert:     func(*lab.Env, *contoso.Deployment) (*tls.Certificate, string, error) { return nil, "", nil },
		certText: "no client certificate",
	}
	if !m.has("certificate") {
		return fileAttack{mtls: p}, nil
	}
	s, err := d.certificate(m.values["certificate"])
	if err != nil {
		return fileAttack{}, err
	}
	if s.source == certStolen && s.revoked {
		return fileAttack{}, d.errAt(m.keys["certificate"], "attacker.certificate", "position insider cannot present a revoked stolen certificate: its topology is fixed (fe99 as insider); steal it unrevoked, or use position arp")
	}
	if s.source == certOwn && s.issuer == "" && s.names == nil && s.plain() && !s.revoked {
		p.cert, p.certText = mtlsInsiderCert, "fe99's valid server+client certificate from Contoso Issuing CA 01"
	} else {
		posedAs := mtlsPosedAs(target)
		p.cert, p.certText = s.clientCert(posedAs), s.text(posedAs)
	}
	return fileAttack{mtls: p, mtlsCert: &s}, nil
}

// clientCert is the client certificate the spec declares, built on the
// running world as the MITM family builds the one it presents: Mallory
// Root CA is the topology's attacker CA, and the certificate is the one
// the source gives for its first name.
func (s certSpec) clientCert(posedAs string) func(*lab.Env, *contoso.Deployment) (*tls.Certificate, string, error) {
	return func(env *lab.Env, c *contoso.Deployment) (*tls.Certificate, string, error) {
		certs, ca, err := s.build(certWorld{env: env, c: c, server: posedAs, mallory: c.CA("attacker")})
		if err != nil {
			return nil, "", err
		}
		name := s.dnsNames(posedAs)[0]
		if s.revoked && s.source != certStolen {
			if err := revokeCert(env, ca, certs, name); err != nil {
				return nil, "", err
			}
		}
		cert, err := certs.Certificate(&tls.ClientHelloInfo{ServerName: name})
		if err != nil {
			return nil, "", err
		}
		if cert == nil {
			return nil, "", errors.New("scenarios: the certificate source gave no certificate")
		}
		return cert, s.text(posedAs), nil
	}
}

// relayAttack reads a position arp attacker between fe01 and fe02.
func (d *fileDecoder) relayAttack(top, m *mapping) (fileAttack, *FileError) {
	const what = "position arp between fe01 and fe02 (the MTLS relay attack)"
	if err := d.only(m, what, "position", "mode", "certificate"); err != nil {
		return fileAttack{}, err
	}
	if err := d.onlyTop(top, what); err != nil {
		return fileAttack{}, err
	}
	if mode, mn, err := d.oneOf(m, "mode", false, "mode", mitmModes); err != nil {
		return fileAttack{}, err
	} else if mn != nil && mode != "terminate" {
		return fileAttack{}, d.errAt(mn, "attacker.mode", "%s supports only mode terminate", what)
	}
	if !m.has("certificate") {
		return fileAttack{}, d.errAt(m.node, "attacker", "missing key %q: mallory's proxy presents a certificate to fe01; write certificate: {source: self-signed}", "certificate")
	}
	s, err := d.certificate(m.values["certificate"])
	if err != nil {
		return fileAttack{}, err
	}
	if s.source != certSelfSigned || !s.plain() || s.names != nil && !(len(s.names) == 1 && s.names[0] == "fe02.contoso.com") {
		return fileAttack{}, d.errAt(m.keys["certificate"], "attacker.certificate", "%s presents a self-signed certificate for fe02.contoso.com only; write certificate: {source: self-signed}", what)
	}
	return fileAttack{relay: &mtlsRelayParams{}}, nil
}
