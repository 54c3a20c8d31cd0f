package scenarios

import (
	"slices"
	"strings"

	"github.com/tlslab/tlslab/lab/contoso"
)

// The federation families in a scenario file:
//
//   - position internet (server edge01): a partner Edge on the Internet
//     (203.0.113.66) dials contoso's federation listener with a public-CA
//     certificate for one name and relays a MESSAGE from attacker.sender
//     to alice@contoso.com (federationParams). attacker.actor is who
//     sends: mallory (the default), or the organisation that holds the
//     certificate, writing as itself.
//   - position dns-on-path with victim edge01 (server fabrikam-edge01):
//     mallory answers edge01's federation SRV query for fabrikam.com with
//     sip.evil.com, her host with a public-CA certificate for that name
//     (dnsSRVParams).

// srvPoisonCert is the certificate mallory's Edge presents in the SRV
// poisoning: her own, from the public CA, for sip.evil.com.
var srvPoisonCert = certSpec{source: certOwn, issuer: "public-issuing", names: []string{dnsEvilName}}

// internetAttack reads a position internet attacker.
func (d *fileDecoder) internetAttack(top, m *mapping, hosts fileHosts) (fileAttack, *FileError) {
	const what = "position internet (a partner Edge)"
	if err := d.only(m, what, "position", "certificate", "sender", "actor"); err != nil {
		return fileAttack{}, err
	}
	if err := d.onlyTop(top, what, "federation", "hosts"); err != nil {
		return fileAttack{}, err
	}
	if err := d.refuseHosts(hosts, what, topologyOnly(hosts)); err != nil {
		return fileAttack{}, err
	}
	if !m.has("certificate") {
		return fileAttack{}, d.errAt(m.node, "attacker", "missing key %q: a partner Edge presents a client certificate; write certificate: {source: own, issuer: public-issuing, names: [sip.mallory.example]}", "certificate")
	}
	s, err := d.certificate(m.values["certificate"])
	if err != nil {
		return fileAttack{}, err
	}
	if s.source != certOwn || s.issuer != "public-issuing" || len(s.names) != 1 || !s.plain() || s.revoked {
		return fileAttack{}, d.errAt(m.keys["certificate"], "attacker.certificate", "a partner Edge presents a valid public-CA certificate for one name; write certificate: {source: own, issuer: public-issuing, names: [sip.mallory.example]}")
	}
	holder := s.names[0]
	sender, sn, err := d.str(m, "sender", false, "the address the MESSAGE claims to come from, e.g. carol@fabrikam.com")
	if err != nil {
		return fileAttack{}, err
	}
	if sn == nil {
		sender = "carol@fabrikam.com"
	} else if !fileAddress.MatchString(sender) {
		return fileAttack{}, d.errAt(sn, "attacker.sender", "%q is not a SIP address such as carol@fabrikam.com", sender)
	}
	actor, an, err := d.str(m, "actor", false, `who sends: mallory, or the organisation that holds the certificate (e.g. litware)`)
	if err != nil {
		return fileAttack{}, err
	}
	if an == nil {
		actor = "mallory"
	} else if !fileActorName.MatchString(actor) {
		return fileAttack{}, d.errAt(an, "attacker.actor", "%q is not a name such as mallory or litware (lowercase letters, digits, '-')", actor)
	}
	cfg, err := d.federationMode(top, hosts.merge(contoso.Config{}))
	if err != nil {
		return fileAttack{}, err
	}
	p := &federationParams{topology: cfg, holder: holder, certDesc: partnerCertDesc(actor, holder), from: sender, actor: actor}
	return fileAttack{federation: p}, nil
}

// partnerCertDesc says whose certificate the partner Edge presents, as
// the catalog says it: "its own", "her own" (a name of mallory's), or
// the holder organisation's.
func partnerCertDesc(actor, holder string) string {
	labels := strings.Split(holder, ".")
	org := labels[0]
	if len(labels) > 2 {
		org = labels[1]
	}
	switch {
	case actor != "mallory":
		return "its own public-CA certificate"
	case slices.Contains(labels, "mallory"):
		return "her own public-CA certificate"
	}
	return org + "'s public-CA certificate"
}

// federationMode reads federation: who issues the Edges' external
// certificates, into cfg.
func (d *fileDecoder) federationMode(top *mapping, cfg contoso.Config) (contoso.Config, *FileError) {
	mode, mn, err := d.oneOf(top, "federation", false, "federation mode", fileFederationModes)
	if err != nil || mn == nil {
		return cfg, err
	}
	cfg.Federation = contoso.FederationMode(slices.Index(fileFederationModes, mode))
	return cfg, nil
}

// topologyOnly allows the hosts changes contoso.Config makes (revoked,
// trust_remove, insider) and refuses the others.
func topologyOnly(h fileHosts) func(host string) string {
	return func(host string) string {
		switch {
		case host == "alice" && h.trustMallory:
			return "alice's trust store gains Mallory Root CA (trust_add) only where mallory presents a certificate to her: positions arp, gateway and the DNS ones"
		case host == "fe01" && h.fe01NoTLS:
			return "stopping fe01's TLS listener (tls: off) is for position tap"
		}
		return ""
	}
}

// srvAttack reads a position dns-on-path attacker on edge01's federation
// lookup.
func (d *fileDecoder) srvAttack(top, m *mapping) (fileAttack, *FileError) {
	const what = "position dns-on-path against edge01 (federation SRV poisoning)"
	if err := d.only(m, what, "position", "mode", "certificate"); err != nil {
		return fileAttack{}, err
	}
	if err := d.onlyTop(top, what); err != nil {
		return fileAttack{}, err
	}
	if mode, mn, err := d.oneOf(m, "mode", false, "mode", mitmModes); err != nil {
		return fileAttack{}, err
	} else if mn != nil && mode != "terminate" {
		return fileAttack{}, d.errAt(mn, "attacker.mode", "%s supports only mode terminate: mallory's Edge answers edge01 itself", what)
	}
	if m.has("certificate") {
		s, err := d.certificate(m.values["certificate"])
		if err != nil {
			return fileAttack{}, err
		}
		if s.source != srvPoisonCert.source || s.issuer != srvPoisonCert.issuer || !slices.Equal(s.names, srvPoisonCert.names) || !s.plain() || s.revoked {
			return fileAttack{}, d.errAt(m.keys["certificate"], "attacker.certificate", "%s presents mallory's own public-CA certificate for %s only; write certificate: {source: own, issuer: public-issuing, names: [%s]}, or leave it out", what, dnsEvilName, dnsEvilName)
		}
	}
	return fileAttack{srv: &dnsSRVParams{}}, nil
}
