package scenarios

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
)

// What the families change in the contoso world when they run, declared
// as lab.TopologyChange values beside the preset's config, so that
// tlslab show describes the world as the scenario builds it: mallory's
// machine and what runs on it, her CA and the certificate she presents,
// a root installed in alice's trust store, a server re-keyed.

// malloryHost describes mallory's machine at addr on segment, with her
// role there and what she serves.
func malloryHost(segment string, addr netip.Prefix, role string, services ...string) lab.TopologyChange {
	return lab.AddHost(lab.HostDescription{
		Name: "mallory", Role: role, Attacker: true,
		NICs:     []lab.NICDescription{{Segment: segment, Addr: addr}},
		Services: services,
	})
}

// malloryRootCA describes the Mallory Root CA that mallory creates for the
// run, with its OCSP responder on her machine (mallory.startCA).
func malloryRootCA() lab.TopologyChange {
	return lab.AddCA(lab.CADescription{
		Name: issuerName(issuerMallory), Role: "the attacker's own CA, created by mallory for the run",
		OCSP: "http://" + malloryAddr.Addr().String() + "/ocsp",
	})
}

// certificateChanges describe the certificate mallory presents for
// server: a copy of the holder's for a stolen one, else the one the spec
// issues.
func (s certSpec) certificateChanges(server string) []lab.TopologyChange {
	if s.source == certStolen {
		status := "valid; stolen with its private key from " + s.holder
		if s.revoked {
			status = "revoked at build time (keyCompromise); stolen with its private key from " + s.holder
		}
		return []lab.TopologyChange{lab.CopyCertificate(s.holder, "mallory", status)}
	}
	names := s.dnsNames(server)
	if s.perSNI() {
		names = []string{"the name the victim asks for (" + server + ")"}
	}
	issuer := "self-signed"
	if s.source != certSelfSigned {
		issuer = issuerName(s.issuerKey())
	}
	purpose := "server"
	if s.ekus != nil {
		usages := make([]string, len(s.ekus))
		for i, u := range s.ekus {
			usages[i] = ekuName(u)
		}
		purpose = "extended key usage " + orNone(strings.Join(usages, ","))
	}
	var status []string
	if s.dated {
		switch {
		case s.validFrom+s.validForOrDefault() <= 0:
			status = append(status, "expired")
		case s.validFrom > 0:
			status = append(status, "not yet valid")
		}
		status = append(status, fmt.Sprintf("valid from %s for %s", relative(s.validFrom), formatDuration(s.validForOrDefault())))
	} else {
		status = append(status, "valid")
	}
	if s.revoked {
		status = append(status, "revoked (keyCompromise) before alice connects")
	}
	status = append(status, s.opts.describe()...)
	return []lab.TopologyChange{lab.AddCertificate(lab.CertificateDescription{
		Holder: "mallory", Names: names, Purpose: purpose, Key: s.key.String(), Issuer: issuer,
		Status: strings.Join(status, ", "),
	})}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// topologyChanges are the MITM family's changes to the contoso world:
// mallory on contoso-lan with her position and proxy, her CA when she runs
// one, the certificate she presents, and Mallory Root CA in alice's trust
// store when the scenario installs it.
func (p mitmParams) topologyChanges() []lab.TopologyChange {
	var role string
	switch p.position {
	case positionGateway:
		role = "alice's rogue gateway to fe01 (a router forwarding what she does not intercept)"
	default:
		victims := "alice and fe01"
		if p.blockPKI {
			victims = "alice, fe01 and pki01"
		}
		role = "ARP-spoofs " + victims + " (a router forwarding what she does not intercept)"
	}
	var services []string
	switch {
	case p.mode == modeTerminate && p.offer != nil:
		services = append(services, fmt.Sprintf("TLS proxy :%d offering %s (terminates alice's TLS, connects to fe01 over TLS)", portTLS, p.offer.text()))
	case p.mode == modeTerminate:
		services = append(services, fmt.Sprintf("TLS proxy :%d (terminates alice's TLS, connects to fe01 over TLS)", portTLS))
	case p.mode == modeDowngrade:
		services = append(services, fmt.Sprintf("TLS proxy :%d offering only TLS 1.0 (connects to fe01 over TLS)", portTLS))
	case p.mode == modePassthrough:
		services = append(services, fmt.Sprintf("TCP relay :%d (alice's TLS to fe01, untouched)", portTLS))
	case p.mode == modeStrip:
		services = append(services, fmt.Sprintf("resets :%d after the ClientHello", portTLS),
			fmt.Sprintf("plaintext SIP proxy :%d (connects to fe01 over TLS)", portPlain))
	}
	if p.blockPKI {
		services = append(services, "resets alice's connections to pki01:80 (OCSP, CRL)")
	}
	if p.malloryCA() {
		services = append(services, "HTTP :80 (OCSP of Mallory Root CA)")
	}
	changes := []lab.TopologyChange{malloryHost("contoso-lan", malloryAddr, role, services...)}
	if p.position == positionGateway {
		changes = append(changes, lab.AddRoute("alice", fe01IP.String()+"/32 via "+malloryAddr.Addr().String()+" (mallory, rogue)"))
	}
	if p.malloryCA() {
		changes = append(changes, malloryRootCA())
	}
	if p.usesCert() {
		changes = append(changes, p.cert.certificateChanges(pool01Name)...)
	}
	if p.trustMallory {
		changes = append(changes, lab.TrustRoots("alice", "alice (her client: Mallory Root CA installed)", issuerName(issuerMallory)))
	}
	if len(p.distrusted) > 0 {
		changes = append(changes, distrustChange(p.distrusted))
	}
	return changes
}

// topologyChanges are the eavesdrop attack family's changes: the tap's
// machine on its segment, with the keys it stole, and the servers the
// scenario re-keys or stops.
func (p eavesdropAttackParams) topologyChanges() []lab.TopologyChange {
	var keys []string
	var changes []lab.TopologyChange
	rsa := func(holder, listener string, names ...string) {
		changes = append(changes, lab.AddCertificate(lab.CertificateDescription{
			Holder: holder + " (" + listener + ")", Names: names, Purpose: "server",
			Key: pki.KeyRSA2048.String(), Issuer: "Contoso Issuing CA 01", Status: "valid; private key stolen by mallory",
		}), lab.AddOption(fmt.Sprintf("%s's %s re-keyed: an RSA certificate on a TLS 1.2 stack preferring static RSA key exchange where allowed", holder, listener)))
	}
	switch p.fe01 {
	case fe01NoTLS:
		changes = append(changes, lab.AddOption(fmt.Sprintf("fe01's SIP TLS listener :%d is down; SIP over TCP :%d answers where plaintext is allowed", 5061, portPlain)))
	case fe01RSA:
		rsa("fe01", "SIP TLS :5061", "fe01.contoso.com", "pool01.contoso.com")
		if p.stolenKey {
			keys = append(keys, "fe01's")
		}
	}
	if p.rsaFE02 {
		changes = append(changes, lab.AddCertificate(lab.CertificateDescription{
			Holder: "fe02 (SIP MTLS :5062)", Names: []string{"fe02.contoso.com"}, Purpose: pki.PurposeServerClient.String(),
			Key: pki.KeyRSA2048.String(), Issuer: "Contoso Issuing CA 01", Status: "valid; private key stolen by mallory",
		}), lab.AddOption("fe02's SIP MTLS listener :5062 re-keyed: an RSA certificate on a TLS 1.2 stack preferring static RSA key exchange where allowed"))
		keys = append(keys, "fe02's")
	}
	if p.rsaFabrikamEdge {
		changes = append(changes, lab.AddOption("fabrikam-edge01's federation listener re-keyed: an RSA certificate for sip.fabrikam.com from the CA of its current one, on TLS 1.2 preferring static RSA key exchange where allowed"))
		keys = append(keys, "fabrikam-edge01's")
	}
	role := "passive tap on " + p.segment + ", recording every frame; sends nothing"
	if len(keys) > 0 {
		role += "; holds " + strings.Join(keys, " and ") + " stolen RSA private key"
	}
	return slices.Insert(changes, 0, malloryHost(p.segment, eavesdropperAddrs[p.segment], role))
}

// topologyChanges are the dns family's changes: mallory's machine with
// her DNS position and her fake pool, alice's name server when mallory's
// rogue server is it, and the certificate her pool presents.
func (p dnsParams) topologyChanges() []lab.TopologyChange {
	mallory := dnsMalloryAddr.Addr().String()
	var role string
	var changes []lab.TopologyChange
	services := []string{
		fmt.Sprintf("fake pool: SIP TLS :%d, SIP TCP :%d (a plaintext trap)", portTLS, portPlain),
	}
	switch p.position {
	case dnsRogueServer:
		role = "alice's DNS server (a rogue DHCP offer), answering pool01.contoso.com with " + mallory
		services = append(services, "DNS :53 (pool01.contoso.com A "+mallory+")")
		changes = append(changes, lab.SetResolver("alice", mallory+" (mallory, rogue)"))
	case dnsOnPath:
		role = "on a compromised contoso-lan switch: answers alice's queries to dns01 for pool01.contoso.com first, with " + mallory +
			", and holds each query back " + formatDuration(dnsQueryHold)
	case dnsBlind:
		role = "off the path: floods alice with answers forged as dns01's, pool01.contoso.com A " + mallory
	}
	if p.trustMallory {
		services = append(services, "HTTP :80 (OCSP of Mallory Root CA)")
	}
	changes = append(changes, malloryHost("contoso-lan", dnsMalloryAddr, role, services...))
	if p.trustMallory {
		changes = append(changes, malloryRootCA(), lab.TrustRoots("alice", "alice (her client: Mallory Root CA installed)", issuerName(issuerMallory)))
	}
	return append(changes, p.cert.certificateChanges(pool01Name)...)
}

// The families below add mallory's machine with their attacker's text as
// its role: where she is and what she does there.

// topologyChanges: the eavesdropper's machine on contoso-lan.
func (p eavesdropParams) topologyChanges() []lab.TopologyChange {
	return []lab.TopologyChange{malloryHost("contoso-lan", eavesdropperAddrs["contoso-lan"], officeAttacker)}
}

// topologyChanges: mallory between the Front Ends, and the self-signed
// certificate her proxy presents.
func (p mtlsRelayParams) topologyChanges() []lab.TopologyChange {
	return []lab.TopologyChange{
		malloryHost("contoso-lan", mallorylanAddr, p.attackerText(), "TLS proxy :5062 (presents the certificate below, relays to fe02)"),
		lab.AddCertificate(lab.CertificateDescription{
			Holder: "mallory", Names: []string{"fe02.contoso.com"}, Purpose: "server", Key: pki.KeyECDSAP256.String(),
			Issuer: "self-signed", Status: "valid",
		}),
	}
}

// topologyChanges: fe99, the topology's insider, is mallory's machine.
func (p mtlsParams) topologyChanges() []lab.TopologyChange {
	return []lab.TopologyChange{lab.AddOption("fe99 is mallory's machine: " + p.attackerText())}
}

// topologyChanges: mallory's machine on the Internet.
func (p federationParams) topologyChanges() []lab.TopologyChange {
	return []lab.TopologyChange{malloryHost("internet", federationAttackerAddr, p.attackerText())}
}

// topologyChanges: mallory's machine on the Internet.
func (p dnsSRVParams) topologyChanges() []lab.TopologyChange {
	return []lab.TopologyChange{malloryHost("internet", dnsEvilAddr, p.attackerText())}
}
