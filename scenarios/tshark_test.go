package scenarios

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/tlslab/tlslab/lab"
)

// tokenSource returns a reader from which a lab.Runner mints exactly these
// canary tokens, in order ("CANARY-" and 16 hex digits, made from 8 bytes
// each), so the captures can be searched for known secrets.
func tokenSource(tokens []string) io.Reader {
	var raw []byte
	for _, tok := range tokens {
		b, err := hex.DecodeString(strings.TrimPrefix(tok, "CANARY-"))
		if err != nil || len(b) != 8 {
			panic(fmt.Sprintf("bad test token %q", tok))
		}
		raw = append(raw, b...)
	}
	return bytes.NewReader(raw)
}

// testTokens returns the n tokens the i-th catalog scenario gets in the
// tshark specs, e.g. "CANARY-7e57000100000002".
func testTokens(i, n int) []string {
	toks := make([]string, n)
	for j := range toks {
		toks[j] = fmt.Sprintf("CANARY-7e57%04x%08x", i, j+1)
	}
	return toks
}

// tokensPerScenario is how many tokens each scenario may draw; a scenario
// that draws more fails with an Error verdict (its canary source runs dry).
const tokensPerScenario = 8

// tshark runs tshark with args and returns its standard output; it fails
// the spec on a non-zero exit, showing standard error.
func tshark(args ...string) string {
	GinkgoHelper()
	cmd := exec.Command("tshark", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	Expect(err).NotTo(HaveOccurred(), "tshark %s\nstderr:\n%s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}

// decodeMTLS makes tshark dissect the servers' MTLS port 5062 as TLS and,
// once decrypted, as SIP (Wireshark's Decode As): it knows 5061 but not
// 5062.
var decodeMTLS = []string{"-d", "tcp.port==5062,tls", "-d", "tls.port==5062,sip"}

// tsharkOutput runs tshark with args and returns its standard output, or an
// error carrying its standard error. Safe to call from several goroutines.
func tsharkOutput(args ...string) (string, error) {
	cmd := exec.Command("tshark", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("tshark %s: %w\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

type output struct {
	text string
	err  error
}

// parallel runs f(0..n-1), as many at a time as there are CPUs, and
// returns the results in order.
func parallel(n int, f func(i int) (string, error)) []output {
	outs := make([]output, n)
	sem := make(chan struct{}, max(runtime.NumCPU(), 2))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			outs[i].text, outs[i].err = f(i)
		})
	}
	wg.Wait()
	return outs
}

// expertTable is the heading of one of "-z expert"'s tables.
var expertTable = regexp.MustCompile(`(?m)^(Errors|Warns|Notes|Chats|Comments) \([0-9]+\)$`)

// splitExpert splits the output of "tshark -V -z expert" into the packet
// details and the expert tables that follow them ("" when there are none).
func splitExpert(out string) (details, expert string) {
	if loc := expertTable.FindStringIndex(out); loc != nil {
		return out[:loc[0]], out[loc[0]:]
	}
	return out, ""
}

// checksums makes tshark validate every IPv4, TCP and UDP checksum.
var checksums = []string{
	"-o", "ip.check_checksum:TRUE",
	"-o", "tcp.check_checksum:TRUE",
	"-o", "udp.check_checksum:TRUE",
}

// requireTshark skips the spec when tshark is not installed, except in CI
// (CI=true), where .ci/run installs it and its absence is a failure.
func requireTshark() {
	GinkgoHelper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") == "true" {
			Fail("tshark is not on PATH but CI=true: .ci/run must install it (apt-get install -y tshark)")
		}
		Skip("tshark is not on PATH; install it (apt-get install tshark) to check the captures")
	}
}

var _ = Describe("captures, checked with tshark", Ordered, Label("tshark"), func() {
	var (
		results = map[string]lab.Result{}
		tokens  = map[string][]string{}
	)

	BeforeAll(func(ctx SpecContext) {
		requireTshark()
		dir := GinkgoT().TempDir()
		for i, s := range Catalog() {
			if !skipWithout(s) {
				continue
			}
			tokens[s.Name] = testTokens(i, tokensPerScenario)
			r := lab.Runner{
				PcapDir:   filepath.Join(dir, "pcap"),
				KeyLogDir: filepath.Join(dir, "keylog"),
				Rand:      tokenSource(tokens[s.Name]),
			}
			res := r.Run(ctx, s)
			Expect(res.Err).NotTo(HaveOccurred(), "%s: %q", s.Name, res.Evidence)
			Expect(res.OK).To(BeTrue(), "%s: %q", s.Name, res.Evidence)
			Expect(res.Pcap).To(BeARegularFile())
			Expect(res.KeyLog).To(BeARegularFile())
			results[s.Name] = res
		}
	})

	It("finds no malformed packet and no bad checksum in any capture, with or without the key log", func() {
		type run struct {
			name string
			args []string
		}
		var runs []run
		for _, s := range Catalog() {
			res, ok := results[s.Name]
			if !ok {
				continue
			}
			plain := append(append([]string{"-r", res.Pcap}, checksums...), decodeMTLS...)
			runs = append(runs, run{s.Name, plain})
			if keys, err := os.ReadFile(res.KeyLog); err == nil && len(keys) > 0 {
				runs = append(runs, run{s.Name + " with its key log", append(slices.Clone(plain), "-o", "tls.keylog_file:"+res.KeyLog)})
			}
		}
		// One tshark per capture and key log: packet details (-V) followed
		// by the expert summary (-z expert), several at a time.
		outs := parallel(len(runs), func(i int) (string, error) {
			return tsharkOutput(append(slices.Clone(runs[i].args), "-V", "-z", "expert")...)
		})
		for i, r := range runs {
			out := outs[i]
			Expect(out.err).NotTo(HaveOccurred(), "%s", r.name)
			details, expert := splitExpert(out.text)
			Expect(details).NotTo(ContainSubstring("Malformed"), r.name)
			Expect(details).NotTo(ContainSubstring("[Checksum Status: Bad]"), r.name)
			Expect(details).To(ContainSubstring("[Checksum Status: Good]"), r.name)
			Expect(expert).NotTo(ContainSubstring("Malformed"), "%s: %s", r.name, expert)
			Expect(strings.ToLower(expert)).NotTo(ContainSubstring("checksum"), "%s: %s", r.name, expert)
			Expect(expert).NotTo(MatchRegexp(`(?m)^Errors \(`), "%s: %s", r.name, expert)
		}
	})

	// sipStreams returns the TCP stream numbers of alice's connections to
	// fe01 on port, in capture order (one per message; for 5061 in a
	// plaintext run, the refused attempts).
	sipStreams := func(pcap string, port int) []string {
		GinkgoHelper()
		out := tshark("-r", pcap, "-Y", fmt.Sprintf("tcp.flags.syn==1 && tcp.flags.ack==0 && ip.src==10.0.0.10 && tcp.dstport==%d", port),
			"-T", "fields", "-e", "tcp.stream")
		return strings.Fields(out)
	}

	It("reassembles each plaintext SIP stream with its message's canary", func() {
		res, toks := results["eavesdrop/plaintext"], tokens["eavesdrop/plaintext"]
		streams := sipStreams(res.Pcap, 5060)
		Expect(streams).To(HaveLen(2))
		for i, stream := range streams {
			want, other := toks[i], toks[1-i]
			out := tshark("-r", res.Pcap, "-q", "-z", "follow,tcp,ascii,"+stream)
			Expect(out).To(MatchRegexp(`(?m)^Node 0: 10\.0\.0\.10:[0-9]+$`))
			Expect(out).To(MatchRegexp(`(?m)^Node 1: 10\.0\.0\.11:5060$`))
			Expect(out).To(MatchRegexp(`(?m)^MESSAGE sip:dave@contoso\.com SIP/2\.0`))
			Expect(out).To(ContainSubstring(fmt.Sprintf("message %d, code word %s", i+1, want)))
			Expect(out).To(MatchRegexp(`(?m)^SIP/2\.0 200 OK`))
			Expect(out).NotTo(ContainSubstring(other))
		}
	})

	It("shows the SNI pool01.contoso.com in both TLS ClientHellos", func() {
		res := results["eavesdrop/tls"]
		out := tshark("-r", res.Pcap, "-Y", "tls.handshake.type==1", "-T", "fields", "-e", "tls.handshake.extensions_server_name")
		Expect(out).To(Equal("pool01.contoso.com\npool01.contoso.com\n"))
	})

	It("shows no canary in the TLS capture without the key log", func() {
		res, toks := results["eavesdrop/tls"], tokens["eavesdrop/tls"]
		raw, err := os.ReadFile(res.Pcap)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(raw)).NotTo(ContainSubstring("CANARY-"))
		out := tshark("-r", res.Pcap, "-o", "tls.keylog_file:", "-V", "-x")
		Expect(out).To(ContainSubstring("Application Data"), "the capture holds encrypted application data")
		Expect(out).NotTo(ContainSubstring("CANARY-"))
		for _, tok := range toks {
			Expect(out).NotTo(ContainSubstring(tok))
		}
		for _, stream := range sipStreams(res.Pcap, 5061) {
			follow := tshark("-r", res.Pcap, "-o", "tls.keylog_file:", "-q", "-z", "follow,tls,ascii,"+stream)
			Expect(follow).NotTo(ContainSubstring("CANARY-"))
		}
	})

	It("decrypts each TLS stream with the key log, revealing its message's canary", func() {
		res, toks := results["eavesdrop/tls"], tokens["eavesdrop/tls"]
		streams := sipStreams(res.Pcap, 5061)
		Expect(streams).To(HaveLen(2))
		for i, stream := range streams {
			want := toks[i]
			out := tshark("-r", res.Pcap, "-o", "tls.keylog_file:"+res.KeyLog, "-q", "-z", "follow,tls,ascii,"+stream)
			Expect(out).To(MatchRegexp(`(?m)^MESSAGE sip:dave@contoso\.com SIP/2\.0`))
			Expect(out).To(ContainSubstring(fmt.Sprintf("message %d, code word %s", i+1, want)))
			Expect(out).To(MatchRegexp(`(?m)^SIP/2\.0 200 OK`))
			Expect(out).NotTo(ContainSubstring(toks[1-i]))
		}
		details := tshark("-r", res.Pcap, "-o", "tls.keylog_file:"+res.KeyLog, "-Y", "tls", "-V")
		for _, tok := range toks[:2] {
			Expect(details).To(ContainSubstring(tok))
		}
		for _, unused := range toks[2:] {
			Expect(details).NotTo(ContainSubstring(unused))
		}
	})

	// query is one tshark run: a capture, extra options, a display filter
	// and the fields to print (none: the packet details, -V).
	type query struct {
		pcap   string
		extra  []string
		filter string
		fields []string
	}
	// lines runs the queries, several at a time, and returns for each the
	// distinct lines of its fields, tab-separated, in capture order.
	lines := func(qs ...query) [][]string {
		GinkgoHelper()
		outs := parallel(len(qs), func(i int) (string, error) {
			q := qs[i]
			args := slices.Concat([]string{"-r", q.pcap}, q.extra, []string{"-Y", q.filter, "-T", "fields"})
			if len(q.fields) == 0 {
				args[len(args)-2] = "-V"
				args = args[:len(args)-1]
			}
			for _, f := range q.fields {
				args = append(args, "-e", f)
			}
			return tsharkOutput(args...)
		})
		got := make([][]string, len(qs))
		for i, out := range outs {
			Expect(out.err).NotTo(HaveOccurred())
			for _, l := range strings.Split(strings.TrimSpace(out.text), "\n") {
				if l != "" && !slices.Contains(got[i], l) {
					got[i] = append(got[i], l)
				}
			}
		}
		return got
	}

	It("decodes the baselines' DNS: SRV and A queries and answers inside the simulation", func() {
		pcap := results["baseline/federation-partner-ca"].Pcap
		got := lines(
			query{pcap, nil, "dns.qry.type == 33 && dns.flags.response == 0", []string{"ip.src", "ip.dst", "dns.qry.name"}},
			query{pcap, nil, "dns.qry.type == 33 && dns.flags.response == 1", []string{"ip.src", "ip.dst", "dns.srv.target", "dns.srv.port"}},
			query{pcap, nil, "dns.qry.type == 1 && dns.flags.response == 1", []string{"ip.dst", "dns.qry.name", "dns.a"}},
		)
		Expect(got[0]).To(ContainElements(
			"10.0.0.10\t10.0.0.53\t_sip._tls.contoso.com",
			"203.0.113.10\t203.0.113.53\t_sipfederationtls._tcp.fabrikam.com",
		))
		Expect(got[1]).To(ContainElements(
			"10.0.0.53\t10.0.0.10\tpool01.contoso.com\t5061",
			"203.0.113.53\t203.0.113.10\tsip.fabrikam.com\t5061",
		))
		Expect(got[2]).To(ContainElements(
			"10.0.0.10\tpool01.contoso.com\t10.0.0.11,10.0.0.12", // the pool: both Front Ends
			"10.0.0.10\tpki.contoso.com\t10.0.0.80",              // internal view
			"203.0.113.10\tsip.fabrikam.com\t203.0.113.20",
			"203.0.113.10\tpki.fabrikam.com\t203.0.113.82",
			"203.0.113.20\tpki.contoso.com\t203.0.113.81", // public view
			"10.1.0.11\tpki.fabrikam.com\t10.1.0.80",
		))
	})

	It("decodes the baselines' OCSP requests over HTTP and their answers", func() {
		pcap := results["baseline/federation-partner-ca"].Pcap
		revoked := results["baseline/revoked-server-cert"]
		got := lines(
			query{pcap, nil, "http.request", []string{"ip.src", "ip.dst", "http.request.method", "http.host", "http.request.uri"}},
			query{pcap, nil, "ocsp.responseStatus", []string{"ocsp.responseStatus", "ocsp.certStatus"}},
			query{pcap, nil, "http.response", []string{"http.response.code", "http.content_type"}},
			query{revoked.Pcap, nil, "ocsp.certStatus == 1", []string{"ip.src", "ip.dst", "ocsp.revoked_element"}},
			query{revoked.Pcap, []string{"-o", "tls.keylog_file:" + revoked.KeyLog}, "tls.alert_message", []string{"ip.src", "ip.dst", "tls.alert_message.desc"}},
		)
		Expect(got[0]).To(ContainElements(
			"10.0.0.10\t10.0.0.80\tPOST\tpki.contoso.com\t/ocsp",        // alice checks fe01
			"203.0.113.10\t203.0.113.82\tPOST\tpki.fabrikam.com\t/ocsp", // contoso's Edge checks fabrikam's
			"203.0.113.20\t203.0.113.81\tPOST\tpki.contoso.com\t/ocsp",  // and the other way round
		))
		// Every answer is a successful OCSP response saying "good" (0).
		Expect(got[1]).To(Equal([]string{"0\t0"}))
		Expect(got[2]).To(Equal([]string{"200\tapplication/ocsp-response"}))
		// fe01's revoked certificate: pki01 says so to alice.
		Expect(got[3]).To(ConsistOf(MatchRegexp(`^10\.0\.0\.80\t10\.0\.0\.10\t\S`)))
		// alice aborts the handshake with a bad_certificate alert (42),
		// encrypted under TLS 1.3: readable with the key log only.
		Expect(got[4]).To(Equal([]string{"10.0.0.10\t10.0.0.11\t42"}))
	})

	It("decodes the TLS and MTLS handshakes of the baselines, 5062 with Decode As", func() {
		hellos := func(name string) query {
			return query{results[name].Pcap, decodeMTLS, "tls.handshake.type == 1",
				[]string{"ip.src", "ip.dst", "tcp.dstport", "tls.handshake.extensions_server_name"}}
		}
		got := lines(hellos("baseline/fe-to-fe-mtls"), hellos("baseline/federation-partner-ca"), hellos("baseline/mtls-peer-not-in-topology"))
		Expect(got[0]).To(ConsistOf(
			"10.0.0.10\t10.0.0.11\t5061\tpool01.contoso.com",
			"10.0.0.11\t10.0.0.12\t5062\tfe02.contoso.com",
		))
		Expect(got[1]).To(ConsistOf(
			"10.0.0.10\t10.0.0.11\t5061\tpool01.contoso.com",
			"10.0.0.11\t172.16.0.10\t5062\tedge01.contoso.com",
			"203.0.113.10\t203.0.113.20\t5061\tsip.fabrikam.com",
			"10.1.0.5\t10.1.0.11\t5062\tfe01.fabrikam.com",
		))
		Expect(got[2]).To(ContainElement("10.0.0.99\t10.0.0.12\t5062\tfe02.contoso.com"))
	})

	It("decrypts the relayed MESSAGE on the MTLS port only with Decode As tls.port 5062 as SIP", func() {
		res := results["baseline/fe-to-fe-mtls"]
		keys := []string{"-o", "tls.keylog_file:" + res.KeyLog}
		message := []string{"ip.src", "ip.dst", "tcp.dstport", "sip.Request-Line"}
		got := lines(
			query{res.Pcap, slices.Concat(keys, decodeMTLS), `sip.Method == "MESSAGE"`, message},
			query{res.Pcap, keys, `sip.Method == "MESSAGE"`, message},
			query{res.Pcap, slices.Concat(keys, decodeMTLS), `sip.Method == "MESSAGE" && tcp.dstport == 5062`, nil},
		)
		Expect(got[0]).To(ConsistOf(
			"10.0.0.10\t10.0.0.11\t5061\tMESSAGE sip:bob@contoso.com SIP/2.0", // alice to fe01
			"10.0.0.11\t10.0.0.12\t5062\tMESSAGE sip:bob@contoso.com SIP/2.0", // fe01 relays to fe02
		))
		Expect(got[1]).To(ConsistOf("10.0.0.10\t10.0.0.11\t5061\tMESSAGE sip:bob@contoso.com SIP/2.0"))
		Expect(got[2]).To(ContainElement(HaveSuffix(tokens["baseline/fe-to-fe-mtls"][0])), "the relayed body carries alice's canary")
	})

	It("decodes the discovery chain: DHCP, LLMNR, NBNS, PAC, NTLMSSP on the proxy and the web services, HTTP autodiscover and TLS", func() {
		keyed := func(name string) query {
			res := results[name]
			return query{pcap: res.Pcap, extra: slices.Concat(checksums, []string{"-o", "tls.keylog_file:" + res.KeyLog})}
		}
		with := func(q query, filter string, fields ...string) query { q.filter, q.fields = filter, fields; return q }
		dhcp, wpadNTLM := keyed("discovery/rogue-dhcp-dns"), keyed("discovery/wpad-llmnr-proxy-ntlm")
		nbns, http := keyed("discovery/wpad-rewrites-http-autodiscover"), keyed("discovery/autodiscover-http-downgrade-trusted-domain")
		got := lines(
			with(dhcp, "dhcp", "dhcp.option.dhcp", "dhcp.option.dhcp_server_id", "dhcp.option.domain_name_server"),
			with(wpadNTLM, "llmnr", "dns.qry.name", "dns.a"),
			with(wpadNTLM, "http.content_type", "http.content_type"),
			with(wpadNTLM, "ntlmssp", "http.request.method", "ntlmssp.messagetype", "ntlmssp.auth.domain", "ntlmssp.auth.username", "http.host"),
			with(wpadNTLM, "tls.handshake.type == 1 && tcp.dstport == 8080", "tls.handshake.extensions_server_name"),
			with(nbns, "nbns", "nbns.name", "nbns.addr"),
			with(http, "http.request && tcp.dstport == 80 && ip.dst == 10.0.0.66", "http.host", "http.request.uri"),
			with(http, "json.key == \"SipServerInternalAccess\"", "json.value.string"),
			with(http, "tls.handshake.type == 1 && tcp.dstport == 5061", "tls.handshake.extensions_server_name"),
		)
		Expect(got[0]).To(ConsistOf("1\t\t", "2\t10.0.0.66\t10.0.0.66", "2\t10.0.0.53\t10.0.0.53", "3\t10.0.0.66\t", "5\t10.0.0.66\t10.0.0.66"),
			"DISCOVER, mallory's OFFER naming her DNS, dns01's, the REQUEST and her ACK")
		Expect(got[0][:2]).To(Equal([]string{"1\t\t", "2\t10.0.0.66\t10.0.0.66"}), "mallory's OFFER first")
		Expect(got[1]).To(Equal([]string{"wpad\t", "wpad\t10.0.0.66"}), "alice's LLMNR query for wpad and Responder's answer")
		Expect(got[2]).To(ContainElement("application/x-ns-proxy-autoconfig"), "mallory's PAC file")
		Expect(got[2]).To(ContainElement("application/json"), "the autodiscover answer, decrypted from the tunnel")
		Expect(got[3]).To(ContainElements("CONNECT\t0x00000001\t\t\t10.0.0.11:443", "\t0x00000002\t\t\t", "CONNECT\t0x00000003\tCONTOSO\talice\t10.0.0.11:443"),
			"NEGOTIATE, CHALLENGE and alice's AUTHENTICATE on the CONNECT to mallory's proxy")
		Expect(got[3]).To(ContainElements("GET\t0x00000001\t\t\twebint.contoso.com", "GET\t0x00000003\tCONTOSO\talice\twebint.contoso.com"),
			"alice's NTLM to the web services' user resource, decrypted from the tunnel with the key log")
		Expect(got[4]).To(ContainElement("lyncdiscoverinternal.contoso.com"), "the autodiscover ClientHello inside the tunnel")
		Expect(got[5]).To(Equal([]string{"WPAD<00>\t", "WPAD<00> (Workstation/Redirector)\t10.0.0.66"}), "alice's NBT-NS broadcast and Responder's answer")
		Expect(got[6]).To(Equal([]string{"lyncdiscoverinternal.contoso.com\t/autodiscover/autodiscoverservice.svc/root"}), "plain-HTTP autodiscover to mallory")
		Expect(got[7]).To(ContainElement(ContainSubstring("pool.contoso-lync.net")), "her answer links her pool")
		Expect(got[8]).To(ContainElement("pool.contoso-lync.net"), "alice's ClientHello to mallory's pool")
	})
})
