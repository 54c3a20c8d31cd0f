package scenarios

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/tlslab/tlslab/lab"
)

// missingPrograms returns the programs s runs that this machine lacks.
func missingPrograms(s lab.Scenario) []string {
	var out []string
	for _, p := range s.Requires {
		if _, err := exec.LookPath(p); err != nil {
			out = append(out, p)
		}
	}
	return out
}

// skipWithout skips a scenario whose programs are missing, except in CI
// (CI=true), where .ci/run installs openssl and gnutls-bin and their
// absence is a failure. It reports whether the scenario can run.
func skipWithout(s lab.Scenario) bool {
	missing := missingPrograms(s)
	if len(missing) == 0 {
		return true
	}
	if os.Getenv("CI") == "true" {
		Fail(fmt.Sprintf("%s needs %s, not on PATH but CI=true: .ci/run must install openssl and gnutls-bin", s.Name, strings.Join(missing, ", ")))
	}
	return false
}

// requirePrograms skips the spec unless the named programs are installed,
// except in CI, where their absence fails it.
func requirePrograms(programs ...string) {
	GinkgoHelper()
	if !skipWithout(lab.Scenario{Name: "this spec", Requires: programs}) {
		Skip("needs " + strings.Join(programs, ", ") + " (apt-get install openssl gnutls-bin)")
	}
}

// bridgeCase is what a bridge scenario must produce: its verdict, the
// defenses seen refusing, the service, and evidence lines that must be
// among its evidence (each a regexp matching one whole line).
type bridgeCase struct {
	name      string
	verdict   lab.Verdict
	stoppedBy []string
	service   lab.Availability
	lines     []string
}

// The records alerts come in.
const (
	plainAlert     = "plaintext alert record"
	protectedAlert = "protected alert"
)

func bridgeEntry(c bridgeCase) TableEntry {
	covered[c.name] = true
	s, err := Catalog().Lookup(c.name)
	if err != nil {
		panic(err)
	}
	return Entry(c.name, ginkgoLabels(s), c)
}

// refusedWith is alice's refusal of mallory's certificate by the alert
// her real client sent, in a record that is "plaintext alert record"
// (OpenSSL sends its alert before encrypting, even at TLS 1.3) or
// "protected alert" (GnuTLS), with the program's diagnostic when quoted.
func refusedWith(alert string, code int, record, said string) string {
	line := fmt.Sprintf(`^alice: refused mallory's certificate with alert %s \(%d\), in a %s`, alert, code, record)
	if said != "" {
		line += "; " + said
	}
	return line + "$"
}

var _ = Describe("the bridge family: real OpenSSL and GnuTLS programs", Label("bridge"), func() {
	DescribeTable("gives the verdict its real peers' behaviour earns",
		func(ctx SpecContext, c bridgeCase) {
			s, err := Catalog().Lookup(c.name)
			Expect(err).NotTo(HaveOccurred())
			if !skipWithout(s) {
				Skip(c.name + " needs " + strings.Join(missingPrograms(s), ", "))
			}
			res := lab.Runner{}.Run(ctx, s)
			Expect(res.Err).NotTo(HaveOccurred(), "evidence: %q", res.Evidence)
			Expect(res.Verdict).To(Equal(c.verdict), "evidence: %q", res.Evidence)
			Expect(res.OK).To(BeTrue())
			if len(c.stoppedBy) > 0 {
				Expect(res.StoppedBy).To(Equal(c.stoppedBy), "evidence: %q", res.Evidence)
			}
			Expect(res.Service).To(Equal(c.service), "evidence: %q", res.Evidence)
			for _, l := range c.lines {
				Expect(res.Evidence).To(ContainElement(MatchRegexp(l)), "evidence: %q", res.Evidence)
			}
		},
		bridgeEntry(bridgeCase{name: "bridge/openssl-client-self-signed", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation},
			service: lab.ServiceUnknown, lines: []string{refusedWith("unknown_ca", 48, plainAlert, ""), `^alice: real client openssl: exit status 1; it said: .*certificate verify failed`}}),
		bridgeEntry(bridgeCase{name: "bridge/openssl-client-attacker-ca", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation},
			service: lab.ServiceUnknown, lines: []string{refusedWith("unknown_ca", 48, plainAlert, "")}}),
		bridgeEntry(bridgeCase{name: "bridge/openssl-client-expired", verdict: lab.Held, stoppedBy: []string{lab.DefenseValidityCheck},
			service: lab.ServiceUnknown, lines: []string{refusedWith("certificate_expired", 45, plainAlert, "")}}),
		bridgeEntry(bridgeCase{name: "bridge/openssl-client-no-verify", verdict: lab.Broken,
			service: lab.ServiceUnknown, lines: []string{`^mallory: 1 of 1 canary in 24 B of decrypted plaintext$`,
				`^alice: accepted the attacker as "pool01\.contoso\.com": openssl completed the TLS 1\.3 handshake with mallory, certificate CN=pool01\.contoso\.com issued by CN=Mallory Root CA,O=Mallory$`}}),
		bridgeEntry(bridgeCase{name: "bridge/gnutls-client-attacker-ca", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation},
			service: lab.ServiceUnknown, lines: []string{refusedWith("bad_certificate", 42, protectedAlert, `gnutls-cli said: The certificate is NOT trusted\. The certificate issuer is unknown\.`)}}),
		bridgeEntry(bridgeCase{name: "bridge/gnutls-client-wrong-name", verdict: lab.Held, stoppedBy: []string{lab.DefenseHostnameCheck},
			service: lab.ServiceUnknown, lines: []string{refusedWith("bad_certificate", 42, protectedAlert, `gnutls-cli said: The certificate is NOT trusted\. The name in the certificate does not match the expected\.`)}}),
		bridgeEntry(bridgeCase{name: "bridge/openssl-client-dns-proxy", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation},
			service: lab.ServiceUnknown, lines: []string{refusedWith("unknown_ca", 48, plainAlert, ""),
				`^mallory: alice's openssl \(10\.0\.0\.10\) connected to her pool at 10\.0\.0\.66:5061 and presented CN=pool01\.contoso\.com issued by CN=Mallory Root CA,O=Mallory`}}),
		bridgeEntry(bridgeCase{name: "bridge/openssl-both-legs", verdict: lab.Broken, service: lab.ServiceIntact,
			lines: []string{`^fe01: the real server printed alice's canary: delivered$`, `^mallory: 1 of 1 canary in 24 B of decrypted plaintext$`,
				`; upstream TLS 1\.3 to 10\.0\.0\.11:5061, server certificate CN=fe01\.contoso\.com,O=Contoso$`}}),
		bridgeEntry(bridgeCase{name: "bridge/openssl-server-static-rsa", verdict: lab.Broken, service: lab.ServiceIntact,
			lines: []string{`^mallory: decrypted 10\.0\.0\.10:[0-9]+ -> 10\.0\.0\.11:5061 with fe01's stolen key: TLS 1\.2 TLS_RSA_WITH_AES_128_GCM_SHA256, [0-9]+ B from the client$`,
				`^mallory: 1 of 1 canary in the plaintext of 1 captured TLS session\(s\) decrypted with fe01's stolen key$`}}),
		bridgeEntry(bridgeCase{name: "bridge/openssl-server-forward-secrecy", verdict: lab.Held, stoppedBy: []string{lab.DefenseForwardSecrecyOnly}, service: lab.ServiceIntact,
			lines: []string{`^mallory: cannot decrypt 10\.0\.0\.10:[0-9]+ -> 10\.0\.0\.11:5061 with fe01's stolen key: session used ECDHE key exchange: the server key cannot recover the premaster secret$`}}),
		bridgeEntry(bridgeCase{name: "bridge/gnutls-server-static-rsa", verdict: lab.Broken, service: lab.ServiceIntact,
			lines: []string{`^mallory: decrypted 10\.0\.0\.10:[0-9]+ -> 10\.0\.0\.11:5061 with fe01's stolen key: TLS 1\.2 TLS_RSA_WITH_AES_128_GCM_SHA256, [0-9]+ B from the client$`,
				`^fe01: the real server printed alice's canary: delivered$`}}),
	)

	// Every certificate MITM of the catalog with a real client in
	// alice's place: OpenSSL checking the server and GnuTLS refuse every
	// forgery, the decisive defense read from their alert (or, for
	// GnuTLS's bad_certificate, their diagnostic), except the
	// mis-issued certificate, which a CA the client trusts signed;
	// OpenSSL not checking is broken by each.
	certMITMs := []struct{ name, defense string }{
		{"mitm/self-signed", lab.DefenseChainValidation},
		{"mitm/attacker-ca", lab.DefenseChainValidation},
		{"mitm/trusted-cert-wrong-name", lab.DefenseHostnameCheck},
		{"mitm/expired-cert", lab.DefenseValidityCheck},
		{"mitm/not-yet-valid", lab.DefenseValidityCheck},
		{"mitm/wrong-eku", lab.DefenseChainValidation},
		{"mitm/mis-issued-revoked-hard-fail", lab.DefenseRevocation},
		{"mitm/mis-issued-cert", ""},
	}
	clients := []struct{ name, program, template string }{
		{"openssl-verify", "openssl", opensslClientVerify},
		{"gnutls-cli", "gnutls-cli", gnutlsClient},
		{"openssl-no-verify", "openssl", opensslClientNoVerify},
	}
	for _, cl := range clients {
		for _, m := range certMITMs {
			It(fmt.Sprintf("%s as alice in %s: %s", cl.name, m.name, map[bool]string{true: "held by " + m.defense, false: "broken"}[m.defense != "" && cl.name != "openssl-no-verify"]), func(ctx SpecContext) {
				requirePrograms(cl.program)
				s, err := Catalog().Lookup(m.name)
				Expect(err).NotTo(HaveOccurred())
				res := lab.Runner{RealPeers: lab.RealPeers{Victim: cl.template}}.Run(ctx, s)
				Expect(res.Err).NotTo(HaveOccurred(), "evidence: %q", res.Evidence)
				if m.defense == "" || cl.name == "openssl-no-verify" {
					Expect(res.Verdict).To(Equal(lab.Broken), "evidence: %q", res.Evidence)
					Expect(res.Evidence).To(ContainElement(MatchRegexp(`^alice: accepted the attacker as "pool01\.contoso\.com": ` + cl.program + ` completed the TLS 1\.[23] handshake with mallory`)))
					return
				}
				Expect(res.Verdict).To(Equal(lab.Held), "evidence: %q", res.Evidence)
				Expect(res.StoppedBy).To(HaveExactElements(m.defense), "evidence: %q", res.Evidence)
				Expect(res.Evidence).To(ContainElement(MatchRegexp(`^alice: refused mallory's certificate with alert [a-z_]+ \([0-9]+\), in a (plaintext alert record|protected alert)`)))
			})
		}
	}

	It("a scenario file's victim_cmd and server_cmd run OpenSSL on both ends (examples/bridge/openssl-forged-ca.yaml)", func(ctx SpecContext) {
		s, err := LoadFile(filepath.Join("examples", "bridge", "openssl-forged-ca.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Requires).To(Equal([]string{"openssl"}))
		Expect(s.RealPeers).To(BeZero(), "a file's own programs leave no role to the command line")
		if !skipWithout(s) {
			Skip("needs openssl")
		}
		res := lab.Runner{}.Run(ctx, s)
		Expect(res.Err).NotTo(HaveOccurred(), "evidence: %q", res.Evidence)
		Expect(res.Verdict).To(Equal(lab.Held))
		Expect(res.StoppedBy).To(HaveExactElements(lab.DefenseChainValidation))
		Expect(res.Evidence).To(ContainElements(
			MatchRegexp(`^fe01: real server openssl listens on 127\.0\.0\.1:[0-9]+, serving 10\.0\.0\.11:5061 through the bridge with certificate CN=fe01\.contoso\.com,O=Contoso$`),
			MatchRegexp(refusedWith("unknown_ca", 48, plainAlert, "")),
			Equal("alice: the canary did not reach fe01's real server")))
	})

	It("a run asking for a real peer a scenario does not offer is an error naming the roles", func(ctx SpecContext) {
		s, err := Catalog().Lookup("baseline/client-register-im")
		Expect(err).NotTo(HaveOccurred())
		res := lab.Runner{RealPeers: lab.RealPeers{Victim: opensslClientVerify}}.Run(ctx, s)
		Expect(res.Verdict).To(Equal(lab.Error))
		Expect(res.Err).To(MatchError(MatchRegexp(`^lab: scenario "baseline/client-register-im" has no victim client a real program can play \(it offers: none;`)))
	})

	It("openssl-both-legs: the capture holds both legs, each decrypted by the key log to the canary", Label("tshark"), func(ctx SpecContext) {
		requireTshark()
		s, err := Catalog().Lookup("bridge/openssl-both-legs")
		Expect(err).NotTo(HaveOccurred())
		if !skipWithout(s) {
			Skip("needs openssl")
		}
		dir := GinkgoT().TempDir()
		canary := testTokens(0xb1, 1)[0]
		res := lab.Runner{PcapDir: filepath.Join(dir, "pcap"), KeyLogDir: filepath.Join(dir, "keys"), Rand: tokenSource([]string{canary})}.Run(ctx, s)
		Expect(res.Verdict).To(Equal(lab.Broken), "evidence: %q", res.Evidence)
		hellos, err := exec.CommandContext(ctx, "tshark", "-r", res.Pcap, "-Y", "tls.handshake.type==1", "-T", "fields", "-e", "tcp.stream", "-e", "ip.src", "-e", "ip.dst").Output()
		Expect(err).NotTo(HaveOccurred())
		legs := strings.Split(strings.TrimSpace(string(hellos)), "\n")
		Expect(legs).To(HaveExactElements(MatchRegexp(`^[0-9]+\t10\.0\.0\.10\t10\.0\.0\.11$`), MatchRegexp(`^[0-9]+\t10\.0\.0\.66\t10\.0\.0\.11$`)),
			"alice's ClientHello to the pool's address (mallory, by ARP) and mallory's to fe01")
		for _, leg := range legs {
			stream := strings.Split(leg, "\t")[0]
			out, err := exec.CommandContext(ctx, "tshark", "-r", res.Pcap, "-o", "tls.keylog_file:"+res.KeyLog, "-q", "-z", "follow,tls,ascii,"+stream).Output()
			Expect(err).NotTo(HaveOccurred())
			Expect(string(out)).To(ContainSubstring(canary), "TCP stream %s decrypted", stream)
		}
	})
})
