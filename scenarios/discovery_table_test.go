package scenarios

import (
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/lab"
)

// The discovery family, line by line: alice's chain as she took it (every
// step of her sign-in), what mallory did to get in position, what her
// endpoints saw, and the verdict. A DHCP offer alice ignored is left out:
// whether dns01's late offer reaches her before she moves on is a race.
var _ = Describe("discovery", Label(string(lab.LabelDiscovery)), func() {
	DescribeTable("alice's PC signs in as Windows does while mallory aims at its discovery", runDiscoveryCase,
		scenarioEntry(scenarioCase{
			name: "discovery/autodiscover-http-downgrade", verdict: lab.Held, stoppedBy: []string{lab.DefenseAutodiscoverHTTPSOnly}, service: lab.ServiceIntact,
			main: Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
			evidence: []types.GomegaMatcher{
				Equal("mallory: on the path to dns01 (a switch port she controls), answering alice's lookups as she chose"),
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query A lyncdiscoverinternal\.contoso\.com \(ID \d+\) with her forgery$`),
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query A lyncdiscover\.contoso\.com \(ID \d+\) with her forgery$`),
				Equal("mallory: alice's autodiscover request https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root went to her machine 10.0.0.66:443"),
				Equal("mallory: alice's autodiscover request https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root went to her machine 10.0.0.66:443"),
				Equal("alice: dhcp: OFFER of 10.0.0.10 from 10.0.0.53: taken"),
				Equal("alice: dhcp: lease 10.0.0.10/24 from 10.0.0.53: router 10.0.0.1, DNS [10.0.0.53], domain \"contoso.com\", WPAD (option 252) none"),
				Equal("alice: wpad: automatic proxy detection is off: no proxy looked for (no option 252, no \"wpad\" lookup)"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: [10.0.0.66]"),
				Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: from 10.0.0.66:443 failed (connect: dial tcp 10.0.0.66:443: connect: connection refused)"),
				Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS lyncdiscover.contoso.com: [10.0.0.66]"),
				Equal("alice: autodiscover https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: from 10.0.0.66:443 failed (connect: dial tcp 10.0.0.66:443: connect: connection refused)"),
				Equal("alice: autodiscover http://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS _sipinternaltls._tcp.contoso.com: []"),
				Equal("alice: autodiscover: SRV _sipinternaltls._tcp.contoso.com: pool sip.contoso.com:5061 accepted (pool in the SIP domain)"),
				Equal("alice: name: DNS sip.contoso.com: [10.0.0.11 10.0.0.12]"),
				Equal("alice: ntlm: answered the NTLM demand of sip.contoso.com (10.0.0.11:5061) as CONTOSO\\alice"),
				Equal("alice: sip: registered with sip.contoso.com:5061 and sent the message to dave@contoso.com"),
				Equal("mallory: captured no NTLM response"),
				MatchRegexp(`^mallory: 0 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`),
				Equal("fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.10)"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "discovery/autodiscover-http-downgrade-trusted-domain", verdict: lab.Broken, service: lab.ServiceDenied,
			main:        Equal("alice: accepted the attacker as \"pool.contoso-lync.net\": completed the TLS 1.3 handshake with mallory's machine 10.0.0.66:5061, certificate CN=pool.contoso-lync.net issued by CN=Public Trust TLS CA,O=Public Trust"),
			compromises: []lab.CompromiseKind{lab.CompromiseIdentity, lab.CompromiseCredential, lab.CompromiseCanary},
			evidence: []types.GomegaMatcher{
				Equal("mallory: on the path to dns01 (a switch port she controls), answering alice's lookups as she chose"),
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query A lyncdiscoverinternal\.contoso\.com \(ID \d+\) with her forgery$`),
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query A lyncdiscoverinternal\.contoso\.com \(ID \d+\) with her forgery$`),
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query A pool\.contoso-lync\.net \(ID \d+\) with her forgery$`),
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query A pool\.contoso-lync\.net \(ID \d+\) with her forgery$`),
				Equal("mallory: alice's autodiscover request https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root went to her machine 10.0.0.66:443"),
				Equal("mallory: alice's autodiscover request http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root went to her machine 10.0.0.66:80"),
				Equal("alice: dhcp: OFFER of 10.0.0.10 from 10.0.0.53: taken"),
				Equal("alice: dhcp: lease 10.0.0.10/24 from 10.0.0.53: router 10.0.0.1, DNS [10.0.0.53], domain \"contoso.com\", WPAD (option 252) none"),
				Equal("alice: wpad: automatic proxy detection is off: no proxy looked for (no option 252, no \"wpad\" lookup)"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: [10.0.0.66]"),
				Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: from 10.0.0.66:443 failed (connect: dial tcp 10.0.0.66:443: connect: connection refused)"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: [10.0.0.66]"),
				Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: from 10.0.0.66:80, pool pool.contoso-lync.net:5061 offered (pool outside the SIP domain contoso.com)"),
				Equal("alice: autodiscover: prompt pool.contoso-lync.net: pool pool.contoso-lync.net:5061 accepted (contoso-lync.net is in the Trusted Domain List: not asked)"),
				Equal("alice: name: DNS pool.contoso-lync.net: [10.0.0.66]"),
				Equal("alice: web: GET https://pool.contoso-lync.net/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=contoso.com: Get \"https://pool.contoso-lync.net/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=contoso.com\": dial tcp 10.0.0.66:443: connect: connection refused"),
				Equal("alice: name: DNS pool.contoso-lync.net: [10.0.0.66]"),
				Equal("alice: ntlm: answered the NTLM demand of pool.contoso-lync.net (10.0.0.66:5061) as CONTOSO\\alice"),
				Equal("alice: sip: registered with pool.contoso-lync.net:5061 and sent the message to dave@contoso.com"),
				Equal("mallory: alice (10.0.0.10) connected to her pool at 10.0.0.66:5061 and presented CN=pool.contoso-lync.net issued by CN=Public Trust TLS CA,O=Public Trust (public certificate for pool.contoso-lync.net)"),
				Equal("alice: accepted the attacker as \"pool.contoso-lync.net\": completed the TLS 1.3 handshake with mallory's machine 10.0.0.66:5061, certificate CN=pool.contoso-lync.net issued by CN=Public Trust TLS CA,O=Public Trust"),
				MatchRegexp(`^mallory: obtained alice's credential: the NTLMv2 response of CONTOSO\\alice from ALICE-PC to her server challenge [0-9a-f]{16} verifies with alice's password: crackable offline, relayable$`),
				MatchRegexp(`^mallory: 1 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "discovery/srv-autoenrolled-workstation", verdict: lab.Held, stoppedBy: []string{lab.DefenseStrictDNSNaming}, service: lab.ServiceIntact,
			main: Equal("alice: autodiscover: SRV _sipinternaltls._tcp.contoso.com: pool mallory-pc.contoso.com:5061 refused (strict DNS naming: the target must be contoso.com or sip.contoso.com)"),
			evidence: []types.GomegaMatcher{
				Equal("mallory: on the path to dns01 (a switch port she controls), answering alice's lookups as she chose"),
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query SRV _sipinternaltls\._tcp\.contoso\.com \(ID \d+\) with her forgery$`),
				Equal("mallory: alice's resolver took her SRV answer: mallory-pc.contoso.com"),
				Equal("alice: dhcp: OFFER of 10.0.0.10 from 10.0.0.53: taken"),
				Equal("alice: dhcp: lease 10.0.0.10/24 from 10.0.0.53: router 10.0.0.1, DNS [10.0.0.53], domain \"contoso.com\", WPAD (option 252) none"),
				Equal("alice: wpad: automatic proxy detection is off: no proxy looked for (no option 252, no \"wpad\" lookup)"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: dns: lookup lyncdiscoverinternal.contoso.com: no such host"),
				Equal("alice: name: LLMNR lyncdiscoverinternal.contoso.com: winname: lyncdiscoverinternal.contoso.com not asked on the link: LLMNR and NBT-NS are off"),
				Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: failed (dns: lookup lyncdiscoverinternal.contoso.com: no such host)"),
				Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS lyncdiscover.contoso.com: dns: lookup lyncdiscover.contoso.com: no such host"),
				Equal("alice: name: LLMNR lyncdiscover.contoso.com: winname: lyncdiscover.contoso.com not asked on the link: LLMNR and NBT-NS are off"),
				Equal("alice: autodiscover https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: failed (dns: lookup lyncdiscover.contoso.com: no such host)"),
				Equal("alice: autodiscover http://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS _sipinternaltls._tcp.contoso.com: []"),
				Equal("alice: autodiscover: SRV _sipinternaltls._tcp.contoso.com: pool mallory-pc.contoso.com:5061 refused (strict DNS naming: the target must be contoso.com or sip.contoso.com)"),
				Equal("alice: name: DNS _sip._tls.contoso.com: []"),
				Equal("alice: autodiscover: SRV _sip._tls.contoso.com: pool sip.contoso.com:5061 accepted (pool in the SIP domain)"),
				Equal("alice: name: DNS sip.contoso.com: [10.0.0.11 10.0.0.12]"),
				Equal("alice: ntlm: answered the NTLM demand of sip.contoso.com (10.0.0.11:5061) as CONTOSO\\alice"),
				Equal("alice: sip: registered with sip.contoso.com:5061 and sent the message to dave@contoso.com"),
				Equal("mallory: captured no NTLM response"),
				MatchRegexp(`^mallory: 0 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`),
				Equal("fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.10)"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "discovery/srv-subdomain-relaxed-naming", verdict: lab.Broken, service: lab.ServiceDenied,
			main:        Equal("alice: accepted the attacker as \"sip.lab.contoso.com\": completed the TLS 1.3 handshake with mallory's machine 10.0.0.66:5061, certificate CN=sip.lab.contoso.com issued by CN=Public Trust TLS CA,O=Public Trust"),
			compromises: []lab.CompromiseKind{lab.CompromiseIdentity, lab.CompromiseCredential, lab.CompromiseCanary},
			evidence: []types.GomegaMatcher{
				Equal("mallory: on the path to dns01 (a switch port she controls), answering alice's lookups as she chose"),
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query SRV _sipinternaltls\._tcp\.contoso\.com \(ID \d+\) with her forgery$`),
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query A sip\.lab\.contoso\.com \(ID \d+\) with her forgery$`),
				Equal("mallory: alice's resolver took her SRV answer: sip.lab.contoso.com"),
				Equal("alice: dhcp: OFFER of 10.0.0.10 from 10.0.0.53: taken"),
				Equal("alice: dhcp: lease 10.0.0.10/24 from 10.0.0.53: router 10.0.0.1, DNS [10.0.0.53], domain \"contoso.com\", WPAD (option 252) none"),
				Equal("alice: wpad: automatic proxy detection is off: no proxy looked for (no option 252, no \"wpad\" lookup)"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: dns: lookup lyncdiscoverinternal.contoso.com: no such host"),
				Equal("alice: name: LLMNR lyncdiscoverinternal.contoso.com: winname: lyncdiscoverinternal.contoso.com not asked on the link: LLMNR and NBT-NS are off"),
				Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: failed (dns: lookup lyncdiscoverinternal.contoso.com: no such host)"),
				Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS lyncdiscover.contoso.com: dns: lookup lyncdiscover.contoso.com: no such host"),
				Equal("alice: name: LLMNR lyncdiscover.contoso.com: winname: lyncdiscover.contoso.com not asked on the link: LLMNR and NBT-NS are off"),
				Equal("alice: autodiscover https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: failed (dns: lookup lyncdiscover.contoso.com: no such host)"),
				Equal("alice: autodiscover http://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS _sipinternaltls._tcp.contoso.com: []"),
				Equal("alice: autodiscover: SRV _sipinternaltls._tcp.contoso.com: pool sip.lab.contoso.com:5061 accepted (pool in the SIP domain)"),
				Equal("alice: name: DNS sip.lab.contoso.com: [10.0.0.66]"),
				Equal("alice: ntlm: answered the NTLM demand of sip.lab.contoso.com (10.0.0.66:5061) as CONTOSO\\alice"),
				Equal("alice: sip: registered with sip.lab.contoso.com:5061 and sent the message to dave@contoso.com"),
				Equal("mallory: alice (10.0.0.10) connected to her pool at 10.0.0.66:5061 and presented CN=sip.lab.contoso.com issued by CN=Public Trust TLS CA,O=Public Trust (public certificate for sip.lab.contoso.com)"),
				Equal("alice: accepted the attacker as \"sip.lab.contoso.com\": completed the TLS 1.3 handshake with mallory's machine 10.0.0.66:5061, certificate CN=sip.lab.contoso.com issued by CN=Public Trust TLS CA,O=Public Trust"),
				MatchRegexp(`^mallory: obtained alice's credential: the NTLMv2 response of CONTOSO\\alice from ALICE-PC to her server challenge [0-9a-f]{16} verifies with alice's password: crackable offline, relayable$`),
				MatchRegexp(`^mallory: 1 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "discovery/rogue-dhcp-dns", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation}, service: lab.ServiceDenied,
			main: Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: from 10.0.0.66:443, cert lyncdiscoverinternal.contoso.com rejected failed (TLS: tls: failed to verify certificate: x509: certificate signed by unknown authority)"),
			evidence: []types.GomegaMatcher{
				MatchRegexp(`^mallory: her DHCP server offered 10\.0\.0\.10 to ([0-9a-f]{2}:){5}[0-9a-f]{2}, naming her DNS server 10\.0\.0\.66$`),
				Equal("mallory: alice took her lease: her DNS server 10.0.0.66 answers alice's lookups"),
				Equal("mallory: alice's autodiscover request https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root went to her machine 10.0.0.66:443"),
				Equal("mallory: alice's autodiscover request https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root went to her machine 10.0.0.66:443"),
				Equal("alice: dhcp: OFFER of 10.0.0.10 from 10.0.0.66: taken"),
				Equal("alice: dhcp: lease 10.0.0.10/24 from 10.0.0.66: router 10.0.0.1, DNS [10.0.0.66], domain \"contoso.com\", WPAD (option 252) none"),
				Equal("alice: wpad: automatic proxy detection is off: no proxy looked for (no option 252, no \"wpad\" lookup)"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: [10.0.0.66]"),
				Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: from 10.0.0.66:443, cert lyncdiscoverinternal.contoso.com rejected failed (TLS: tls: failed to verify certificate: x509: certificate signed by unknown authority)"),
				Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS lyncdiscover.contoso.com: [10.0.0.66]"),
				Equal("alice: autodiscover https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: from 10.0.0.66:443, cert lyncdiscover.contoso.com rejected failed (TLS: tls: failed to verify certificate: x509: certificate signed by unknown authority)"),
				Equal("alice: autodiscover http://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS _sipinternaltls._tcp.contoso.com: []"),
				Equal("alice: autodiscover: SRV _sipinternaltls._tcp.contoso.com: pool sip.contoso.com:5061 accepted (pool in the SIP domain)"),
				Equal("alice: name: DNS sip.contoso.com: [10.0.0.66]"),
				Equal("alice: sip: alice@contoso.com: no usable SIP server for contoso.com: TLS sip.contoso.com 10.0.0.66:5061: tls: failed to verify certificate: x509: certificate signed by unknown authority (plaintext fallback is off)"),
				Equal("mallory: alice (10.0.0.10) connected to her pool at 10.0.0.66:5061 and presented CN=sip.contoso.com issued by CN=Mallory Root CA,O=Mallory (certificate forged per SNI by the attacker's CA Mallory Root CA)"),
				Equal("mallory: captured no NTLM response"),
				MatchRegexp(`^mallory: 0 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`),
				Equal("alice: did not sign in: sip: alice@contoso.com: no usable SIP server for contoso.com: TLS sip.contoso.com 10.0.0.66:5061: tls: failed to verify certificate: x509: certificate signed by unknown authority (plaintext fallback is off)"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "discovery/llmnr-poisoning-fqdn-control", verdict: lab.Held, stoppedBy: []string{lab.DefenseLinkSingleLabelOnly}, service: lab.ServiceIntact,
			main: Equal("alice: name: LLMNR lyncdiscoverinternal.contoso.com: winname: lyncdiscoverinternal.contoso.com not asked on the link: LLMNR and NBT-NS are asked only for single-label names"),
			evidence: []types.GomegaMatcher{
				Equal("mallory: Responder on contoso-lan, answering every LLMNR and NBT-NS name with 10.0.0.66"),
				Equal("alice: dhcp: OFFER of 10.0.0.10 from 10.0.0.53: taken"),
				Equal("alice: dhcp: lease 10.0.0.10/24 from 10.0.0.53: router 10.0.0.1, DNS [10.0.0.53], domain \"contoso.com\", WPAD (option 252) none"),
				Equal("alice: wpad: automatic proxy detection is off: no proxy looked for (no option 252, no \"wpad\" lookup)"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: dns: lookup lyncdiscoverinternal.contoso.com: no such host"),
				Equal("alice: name: LLMNR lyncdiscoverinternal.contoso.com: winname: lyncdiscoverinternal.contoso.com not asked on the link: LLMNR and NBT-NS are asked only for single-label names"),
				Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: failed (dns: lookup lyncdiscoverinternal.contoso.com: no such host)"),
				Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS lyncdiscover.contoso.com: dns: lookup lyncdiscover.contoso.com: no such host"),
				Equal("alice: name: LLMNR lyncdiscover.contoso.com: winname: lyncdiscover.contoso.com not asked on the link: LLMNR and NBT-NS are asked only for single-label names"),
				Equal("alice: autodiscover https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: failed (dns: lookup lyncdiscover.contoso.com: no such host)"),
				Equal("alice: autodiscover http://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS _sipinternaltls._tcp.contoso.com: []"),
				Equal("alice: autodiscover: SRV _sipinternaltls._tcp.contoso.com: pool sip.contoso.com:5061 accepted (pool in the SIP domain)"),
				Equal("alice: name: DNS sip.contoso.com: [10.0.0.11 10.0.0.12]"),
				Equal("alice: ntlm: answered the NTLM demand of sip.contoso.com (10.0.0.11:5061) as CONTOSO\\alice"),
				Equal("alice: sip: registered with sip.contoso.com:5061 and sent the message to dave@contoso.com"),
				Equal("mallory: captured no NTLM response"),
				MatchRegexp(`^mallory: 0 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`),
				Equal("fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.10)"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "discovery/wpad-llmnr-proxy-ntlm", verdict: lab.Broken, service: lab.ServiceIntact,
			main:        MatchRegexp(`^mallory: obtained alice's credential: the NTLMv2 response of CONTOSO\\alice from ALICE-PC to her server challenge [0-9a-f]{16} verifies with alice's password: crackable offline, relayable$`),
			compromises: []lab.CompromiseKind{lab.CompromiseCredential, lab.CompromiseCredential},
			evidence: []types.GomegaMatcher{
				Equal("mallory: Responder on contoso-lan, answering every LLMNR and NBT-NS name with 10.0.0.66"),
				MatchRegexp(`^mallory: Responder answered LLMNR answer to 10\.0\.0\.10:\d+: wpad is 10\.0\.0\.66$`),
				MatchRegexp(`^mallory: alice \(10\.0\.0\.10:\d+\) fetched her PAC file http://wpad/wpad\.dat: her proxy is alice's$`),
				MatchRegexp(`^mallory: her proxy: CONNECT 10\.0\.0\.11:443 from 10\.0\.0\.10:\d+: 200$`),
				MatchRegexp(`^mallory: her proxy: CONNECT 10\.0\.0\.11:443 from 10\.0\.0\.10:\d+: 200$`),
				Equal("alice: dhcp: OFFER of 10.0.0.10 from 10.0.0.53: taken"),
				Equal("alice: dhcp: lease 10.0.0.10/24 from 10.0.0.53: router 10.0.0.1, DNS [10.0.0.53], domain \"contoso.com\", WPAD (option 252) none"),
				Equal("alice: wpad: DHCP option 252 (lease): the lease has no option 252"),
				Equal("alice: name: DNS wpad.contoso.com: dns: lookup wpad.contoso.com: no such host"),
				Equal("alice: name: LLMNR wpad: [10.0.0.66] from 10.0.0.66:5355"),
				Equal("alice: wpad: LLMNR wpad: GET http://wpad/wpad.dat from 10.0.0.66:80: PAC (application/x-ns-proxy-autoconfig)"),
				Equal("alice: wpad: PAC file from http://wpad/wpad.dat (LLMNR) says \"PROXY 10.0.0.66:8080\" for https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: through 10.0.0.66:8080"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: [10.0.0.11]"),
				Equal("alice: ntlm: answered proxy 10.0.0.66:8080's NTLM demand as CONTOSO\\alice"),
				Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: from 10.0.0.11:443, cert lyncdiscoverinternal.contoso.com,lyncdiscover.contoso.com,webint.contoso.com verified, pool pool01.contoso.com:5061 accepted (pool in the SIP domain)"),
				Equal("alice: name: DNS webint.contoso.com: [10.0.0.11]"),
				Equal("alice: ntlm: answered proxy 10.0.0.66:8080's NTLM demand as CONTOSO\\alice"),
				Equal("alice: ntlm: answered the NTLM demand of https://webint.contoso.com as CONTOSO\\alice"),
				Equal("alice: web: GET https://webint.contoso.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=contoso.com: 200 OK"),
				Equal("alice: name: DNS pool01.contoso.com: [10.0.0.11 10.0.0.12]"),
				Equal("alice: ntlm: answered the NTLM demand of pool01.contoso.com (10.0.0.11:5061) as CONTOSO\\alice"),
				Equal("alice: sip: registered with pool01.contoso.com:5061 and sent the message to dave@contoso.com"),
				MatchRegexp(`^mallory: obtained alice's credential: the NTLMv2 response of CONTOSO\\alice from ALICE-PC to her server challenge [0-9a-f]{16} verifies with alice's password: crackable offline, relayable$`),
				MatchRegexp(`^mallory: obtained alice's credential: the NTLMv2 response of CONTOSO\\alice from ALICE-PC to her server challenge [0-9a-f]{16} verifies with alice's password: crackable offline, relayable$`),
				MatchRegexp(`^mallory: 0 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`),
				Equal("fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.10)"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "discovery/wpad-rewrites-http-autodiscover", verdict: lab.Held, stoppedBy: []string{lab.DefenseAutodiscoverHTTPSOnly}, service: lab.ServiceIntact,
			main: Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
			evidence: []types.GomegaMatcher{
				Equal("mallory: Responder on contoso-lan, answering every LLMNR and NBT-NS name with 10.0.0.66"),
				MatchRegexp(`^mallory: Responder answered NBT-NS answer to 10\.0\.0\.10:\d+: WPAD<00> is 10\.0\.0\.66$`),
				MatchRegexp(`^mallory: alice \(10\.0\.0\.10:\d+\) fetched her PAC file http://wpad/wpad\.dat: her proxy is alice's$`),
				MatchRegexp(`^mallory: her proxy: CONNECT 10\.0\.0\.11:443 from 10\.0\.0\.10:\d+: 502$`),
				Equal("alice: dhcp: OFFER of 10.0.0.10 from 10.0.0.53: taken"),
				Equal("alice: dhcp: lease 10.0.0.10/24 from 10.0.0.53: router 10.0.0.1, DNS [10.0.0.53], domain \"contoso.com\", WPAD (option 252) none"),
				Equal("alice: wpad: DHCP option 252 (lease): the lease has no option 252"),
				Equal("alice: name: DNS wpad.contoso.com: dns: lookup wpad.contoso.com: no such host"),
				Equal("alice: name: LLMNR wpad: winname: LLMNR wpad: no answer to 2 queries"),
				Equal("alice: name: NBT-NS WPAD<00>: [10.0.0.66] from 10.0.0.66:137"),
				Equal("alice: wpad: NBT-NS wpad: GET http://wpad/wpad.dat from 10.0.0.66:80: PAC (application/x-ns-proxy-autoconfig)"),
				Equal("alice: wpad: PAC file from http://wpad/wpad.dat (NBT-NS) says \"PROXY 10.0.0.66:8080\" for https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: through 10.0.0.66:8080"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: [10.0.0.11]"),
				Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: from 10.0.0.11:443 failed (connect: ntlm: proxy refused CONNECT 10.0.0.11:443: 502 Bad Gateway)"),
				Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS lyncdiscover.contoso.com: dns: lookup lyncdiscover.contoso.com: no such host"),
				Equal("alice: name: LLMNR lyncdiscover.contoso.com: winname: lyncdiscover.contoso.com not asked on the link: LLMNR and NBT-NS are asked only for single-label names"),
				Equal("alice: autodiscover https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: failed (dns: lookup lyncdiscover.contoso.com: no such host)"),
				Equal("alice: autodiscover http://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS _sipinternaltls._tcp.contoso.com: []"),
				Equal("alice: autodiscover: SRV _sipinternaltls._tcp.contoso.com: pool sip.contoso.com:5061 accepted (pool in the SIP domain)"),
				Equal("alice: name: DNS sip.contoso.com: [10.0.0.11 10.0.0.12]"),
				Equal("alice: ntlm: answered the NTLM demand of sip.contoso.com (10.0.0.11:5061) as CONTOSO\\alice"),
				Equal("alice: sip: registered with sip.contoso.com:5061 and sent the message to dave@contoso.com"),
				Equal("mallory: captured no NTLM response"),
				MatchRegexp(`^mallory: 0 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`),
				Equal("fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.10)"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "discovery/rogue-registrar-ntlm", verdict: lab.Held, stoppedBy: []string{lab.DefenseNTLMVerifiedServersOnly}, service: lab.ServiceDenied,
			main: Equal("alice: ntlm: refused to answer the NTLM demand of sip.contoso.com (10.0.0.66:5060): plaintext SIP: the server is not authenticated"),
			evidence: []types.GomegaMatcher{
				MatchRegexp(`^mallory: her DHCP server offered 10\.0\.0\.10 to ([0-9a-f]{2}:){5}[0-9a-f]{2}, naming her DNS server 10\.0\.0\.66$`),
				Equal("mallory: alice took her lease: her DNS server 10.0.0.66 answers alice's lookups"),
				Equal("alice: dhcp: OFFER of 10.0.0.10 from 10.0.0.66: taken"),
				Equal("alice: dhcp: lease 10.0.0.10/24 from 10.0.0.66: router 10.0.0.1, DNS [10.0.0.66], domain \"contoso.com\", WPAD (option 252) none"),
				Equal("alice: wpad: automatic proxy detection is off: no proxy looked for (no option 252, no \"wpad\" lookup)"),
				Equal("alice: name: DNS lyncdiscoverinternal.contoso.com: dns: lookup lyncdiscoverinternal.contoso.com: server answered REFUSED"),
				Equal("alice: autodiscover https://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: failed (dns: lookup lyncdiscoverinternal.contoso.com: server answered REFUSED)"),
				Equal("alice: autodiscover http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS lyncdiscover.contoso.com: dns: lookup lyncdiscover.contoso.com: server answered REFUSED"),
				Equal("alice: autodiscover https://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: failed (dns: lookup lyncdiscover.contoso.com: server answered REFUSED)"),
				Equal("alice: autodiscover http://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root: skipped (HTTPS only)"),
				Equal("alice: name: DNS _sipinternaltls._tcp.contoso.com: []"),
				Equal("alice: autodiscover: SRV _sipinternaltls._tcp.contoso.com: pool sip.contoso.com:5061 accepted (pool in the SIP domain)"),
				Equal("alice: name: DNS sip.contoso.com: [10.0.0.66]"),
				Equal("alice: name: DNS sip.contoso.com: [10.0.0.66]"),
				Equal("alice: ntlm: refused to answer the NTLM demand of sip.contoso.com (10.0.0.66:5060): plaintext SIP: the server is not authenticated"),
				Equal("alice: sip: alice@contoso.com: REGISTER sip.contoso.com: NTLM demand from sip.contoso.com (10.0.0.66:5060, TCP) refused: refused to answer the NTLM demand of sip.contoso.com (10.0.0.66:5060): plaintext SIP: the server is not authenticated"),
				Equal("mallory: alice (10.0.0.10) connected to her pool at 10.0.0.66:5060 in plaintext"),
				Equal("mallory: captured no NTLM response"),
				MatchRegexp(`^mallory: 0 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`),
				Equal("alice: did not sign in: sip: alice@contoso.com: REGISTER sip.contoso.com: NTLM demand from sip.contoso.com (10.0.0.66:5060, TCP) refused: refused to answer the NTLM demand of sip.contoso.com (10.0.0.66:5060): plaintext SIP: the server is not authenticated"),
			},
		}),
	)
})

// runDiscoveryCase is runCase with the DHCP offers alice ignored left out
// of the evidence before it is compared line by line.
func runDiscoveryCase(ctx SpecContext, c scenarioCase) {
	s, err := Catalog().Lookup(c.name)
	Expect(err).NotTo(HaveOccurred())
	res := lab.Runner{}.Run(ctx, s)
	Expect(res.Err).NotTo(HaveOccurred(), "evidence so far: %q", res.Evidence)
	Expect(res.OK).To(BeTrue(), "evidence: %q", res.Evidence)
	Expect(res.Verdict).To(Equal(c.verdict))
	if len(c.stoppedBy) == 0 {
		Expect(res.StoppedBy).To(BeEmpty())
	} else {
		Expect(res.StoppedBy).To(Equal(c.stoppedBy))
	}
	Expect(res.Service).To(Equal(c.service))
	Expect(res.MainEvidence()).To(c.main)
	var lines []string
	for _, l := range res.Evidence {
		if !ignoredOffer.MatchString(l) {
			lines = append(lines, l)
		}
	}
	Expect(lines).To(HaveExactElements(toAny(c.evidence)...))
	kinds := make([]lab.CompromiseKind, len(res.Compromises))
	for i, cp := range res.Compromises {
		kinds[i] = cp.Kind
	}
	if len(c.compromises) == 0 {
		Expect(kinds).To(BeEmpty())
	} else {
		Expect(kinds).To(Equal(c.compromises))
	}
}

// ignoredOffer is the line of a DHCP offer alice received after taking
// another, which she may or may not read before she moves on.
var ignoredOffer = regexp.MustCompile(`^alice: dhcp: OFFER of \S+ from \S+: ignored \(an earlier offer was taken\)$`)
