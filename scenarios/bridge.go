package scenarios

import (
	"context"
	"fmt"
	"slices"

	"github.com/tlslab/tlslab/lab"
)

// The bridge family: catalog scenarios replayed with real TLS programs
// (OpenSSL, GnuTLS) in alice's or fe01's place, over netsim's loopback
// bridges. Each runs its base scenario's attack with the templates below
// as lab.RealPeers; the verdict comes from the same evidence (what
// mallory obtained, the alert the real client sent her). The family is
// opt-in: a run picks it by name or with --label bridge, since it needs
// the programs installed (lab.Scenario.Requires).

// Command templates of the real programs, as a user would write them for
// tlslab run --victim-cmd and --server-cmd.
const (
	// OpenSSL 3 s_client checking the server (chain, name, CRL) and
	// sending the canary line; -no_ign_eof closes when it is sent.
	opensslClientVerify = `openssl s_client -connect {addr} -servername {sni} -verify_hostname {sni} -CAfile {ca} -CRL {crl} -crl_check -verify_return_error -quiet -no_ign_eof <<< {canary}`
	// The same without -verify_return_error: OpenSSL reports a bad
	// certificate and carries on.
	opensslClientNoVerify = `openssl s_client -connect {addr} -servername {sni} -quiet -no_ign_eof <<< {canary}`
	// s_client through the World's DNS, by the bridge's CONNECT front.
	opensslClientProxy = `openssl s_client -proxy {proxy} -connect {target} -servername {sni} -verify_hostname {sni} -CAfile {ca} -verify_return_error -quiet -no_ign_eof <<< {canary}`
	// GnuTLS gnutls-cli checking chain, name and CRL.
	gnutlsClient = `gnutls-cli --x509cafile {ca} --x509crlfile {crl} --port {port} --sni-hostname {sni} --verify-hostname {sni} {host} <<< {canary}`
	// OpenSSL s_server printing what it receives.
	opensslServer = `openssl s_server -accept {addr} -cert {cert} -cert_chain {chain} -key {key}`
	// s_server offering static RSA key exchange only, TLS 1.2.
	opensslServerStaticRSA = opensslServer + ` -tls1_2 -cipher AES128-GCM-SHA256`
	// s_server offering ECDHE only, TLS 1.2.
	opensslServerECDHE = opensslServer + ` -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256`
	// GnuTLS gnutls-serv echoing (and printing) what it receives, static
	// RSA key exchange only, TLS 1.2.
	gnutlsServerStaticRSA = `gnutls-serv --echo --port {port} --x509certfile {cert} --x509keyfile {key} --priority NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA`
)

// bridgeParams declares one bridge scenario: its own header (expected
// outcome included) over a base scenario's attack, with real programs.
type bridgeParams struct {
	header
	base     string
	peers    lab.RealPeers
	requires []string
}

// bridgeCatalog is the family.
func bridgeCatalog() []bridgeParams {
	held := func(name, base, summary, story, stoppedBy string, peers lab.RealPeers, requires ...string) bridgeParams {
		return bridgeParams{header: header{name: name, summary: summary, story: story, expected: lab.Held, stoppedBy: stoppedBy},
			base: base, peers: peers, requires: requires}
	}
	broken := func(name, base, summary, story string, peers lab.RealPeers, requires ...string) bridgeParams {
		return bridgeParams{header: header{name: name, summary: summary, story: story, expected: lab.Broken},
			base: base, peers: peers, requires: requires}
	}
	return []bridgeParams{
		held("bridge/openssl-client-self-signed", "mitm/self-signed",
			"openssl s_client as alice refuses mallory's self-signed pool01 certificate",
			"mitm/self-signed with OpenSSL's s_client in alice's place, checking the chain against Contoso's root: it "+
				"refuses with an unknown_ca alert, which mallory receives in plaintext.",
			lab.DefenseChainValidation, lab.RealPeers{Victim: opensslClientVerify}, "openssl"),
		held("bridge/openssl-client-attacker-ca", "mitm/attacker-ca",
			"openssl s_client as alice refuses a pool01 certificate from Mallory Root CA",
			"mitm/attacker-ca with OpenSSL's s_client in alice's place: Mallory Root CA is not in its CA file, so "+
				"it refuses with unknown_ca.",
			lab.DefenseChainValidation, lab.RealPeers{Victim: opensslClientVerify}, "openssl"),
		held("bridge/openssl-client-expired", "mitm/expired-cert",
			"openssl s_client as alice refuses an expired enterprise pool01 certificate",
			"mitm/expired-cert with OpenSSL's s_client in alice's place: it refuses with certificate_expired.",
			lab.DefenseValidityCheck, lab.RealPeers{Victim: opensslClientVerify}, "openssl"),
		broken("bridge/openssl-client-no-verify", "mitm/attacker-ca",
			"openssl s_client without -verify_return_error completes the handshake with mallory",
			"mitm/attacker-ca with OpenSSL's s_client in alice's place, as often run by hand: without "+
				"-verify_return_error it reports the verification error and carries on, sending the canary to mallory.",
			lab.RealPeers{Victim: opensslClientNoVerify}, "openssl"),
		held("bridge/gnutls-client-attacker-ca", "mitm/attacker-ca",
			"gnutls-cli as alice refuses a pool01 certificate from Mallory Root CA",
			"mitm/attacker-ca with GnuTLS's gnutls-cli in alice's place. GnuTLS sends bad_certificate for every "+
				"refusal; the defense is read from its own verification status (issuer unknown).",
			lab.DefenseChainValidation, lab.RealPeers{Victim: gnutlsClient}, "gnutls-cli"),
		held("bridge/gnutls-client-wrong-name", "mitm/trusted-cert-wrong-name",
			"gnutls-cli as alice refuses mallory's valid certificate for mallory.contoso.com",
			"mitm/trusted-cert-wrong-name with gnutls-cli in alice's place: the chain is good, the name is not "+
				"pool01.contoso.com, and gnutls-cli says so.",
			lab.DefenseHostnameCheck, lab.RealPeers{Victim: gnutlsClient}, "gnutls-cli"),
		held("bridge/openssl-client-dns-proxy", "dns/rogue-server",
			"openssl s_client through the CONNECT front resolves pool01 at mallory's DNS and refuses her",
			"dns/rogue-server with OpenSSL's s_client in alice's place, connecting through the bridge's HTTP "+
				"CONNECT front: pool01.contoso.com is resolved by alice's (rogue) DNS server to mallory's machine, "+
				"whose forged certificate s_client refuses.",
			lab.DefenseChainValidation, lab.RealPeers{Victim: opensslClientProxy}, "openssl"),
		broken("bridge/openssl-both-legs", "mitm/mis-issued-cert",
			"openssl s_client -> mallory (mis-issued certificate) -> openssl s_server, all real TLS",
			"mitm/mis-issued-cert with OpenSSL on both ends: s_client in alice's place accepts the certificate "+
				"Contoso's CA mis-issued to mallory, and mallory relays to s_server in fe01's place. The capture holds "+
				"both legs, and the key log decrypts them: mallory's TLS stack logged both sessions.",
			lab.RealPeers{Victim: opensslClientVerify, Server: opensslServer}, "openssl"),
		broken("bridge/openssl-server-static-rsa", "eavesdrop/stolen-key-static-rsa",
			"openssl s_server with static RSA: the stolen key decrypts the capture",
			"eavesdrop/stolen-key-static-rsa with OpenSSL's s_server in fe01's place, TLS 1.2 and "+
				"AES128-GCM-SHA256 only: mallory's stolen copy of the RSA key decrypts the session OpenSSL negotiated.",
			lab.RealPeers{Server: opensslServerStaticRSA}, "openssl"),
		held("bridge/openssl-server-forward-secrecy", "eavesdrop/stolen-key-forward-secrecy",
			"openssl s_server with ECDHE only: the stolen key does not decrypt the capture",
			"eavesdrop/stolen-key-forward-secrecy with OpenSSL's s_server in fe01's place, ECDHE-RSA-AES128-GCM-SHA256 "+
				"only: the RSA key only signs the ephemeral share.",
			lab.DefenseForwardSecrecyOnly, lab.RealPeers{Server: opensslServerECDHE}, "openssl"),
		broken("bridge/gnutls-server-static-rsa", "eavesdrop/stolen-key-static-rsa",
			"gnutls-serv with static RSA: the stolen key decrypts the capture",
			"eavesdrop/stolen-key-static-rsa with GnuTLS's gnutls-serv in fe01's place, TLS 1.2 with RSA key "+
				"exchange only: mallory's stolen key decrypts the session GnuTLS negotiated.",
			lab.RealPeers{Server: gnutlsServerStaticRSA}, "gnutls-serv"),
	}
}

// bridgeFamily builds the family over the scenarios in base.
func bridgeFamily(base lab.Catalog) []lab.Scenario {
	var out []lab.Scenario
	for _, p := range bridgeCatalog() {
		b, err := base.Lookup(p.base)
		if err != nil {
			panic(fmt.Sprintf("scenarios: %s: base %v", p.name, err))
		}
		p.labels = append(slices.DeleteFunc(slices.Clone(b.Labels), func(l lab.Label) bool { return l == lab.LabelMisconfig }), lab.LabelBridge)
		p.defenses = b.Defenses
		peers, run := p.peers, b.Run
		s := p.header.scenario(b.Attacker, b.Topology, func(ctx context.Context, env *lab.Env) error {
			env.RealPeers = peers
			return run(ctx, env)
		})
		s.Requires = slices.Clone(p.requires)
		s.Impair = b.Impair
		out = append(out, s)
	}
	return out
}
