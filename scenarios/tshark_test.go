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
	"slices"
	"strings"

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
		for _, s := range Catalog() {
			res := results[s.Name]
			runs := [][]string{append([]string{"-r", res.Pcap}, checksums...)}
			if keys, err := os.ReadFile(res.KeyLog); err == nil && len(keys) > 0 {
				runs = append(runs, append(slices.Clone(runs[0]), "-o", "tls.keylog_file:"+res.KeyLog))
			}
			for _, args := range runs {
				expert := tshark(append(slices.Clone(args), "-q", "-z", "expert")...)
				Expect(expert).NotTo(ContainSubstring("Malformed"), "%s: %s", s.Name, expert)
				Expect(strings.ToLower(expert)).NotTo(ContainSubstring("checksum"), "%s: %s", s.Name, expert)
				Expect(expert).NotTo(MatchRegexp(`(?m)^Errors \(`), "%s: %s", s.Name, expert)

				details := tshark(append(slices.Clone(args), "-V")...)
				Expect(details).NotTo(ContainSubstring("Malformed"), s.Name)
				Expect(details).NotTo(ContainSubstring("[Checksum Status: Bad]"), s.Name)
				Expect(details).To(ContainSubstring("[Checksum Status: Good]"), s.Name)
			}
		}
	})

	It("reassembles each plaintext TCP stream with its message's canary", func() {
		res, toks := results["eavesdrop/plaintext"], tokens["eavesdrop/plaintext"]
		for stream, want := range toks[:2] {
			other := toks[1-stream]
			out := tshark("-r", res.Pcap, "-q", "-z", fmt.Sprintf("follow,tcp,ascii,%d", stream))
			Expect(out).To(MatchRegexp(`(?m)^Node 0: 10\.0\.0\.10:[0-9]+$`))
			Expect(out).To(MatchRegexp(`(?m)^Node 1: 10\.0\.0\.20:5060$`))
			Expect(out).To(MatchRegexp(`(?m)^MSG .*, code word ` + want + `$`))
			Expect(out).To(MatchRegexp(`(?m)^OK$`))
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
		follow := tshark("-r", res.Pcap, "-o", "tls.keylog_file:", "-q", "-z", "follow,tls,ascii,0")
		Expect(follow).NotTo(ContainSubstring("CANARY-"))
	})

	It("decrypts each TLS stream with the key log, revealing its message's canary", func() {
		res, toks := results["eavesdrop/tls"], tokens["eavesdrop/tls"]
		for stream, want := range toks[:2] {
			out := tshark("-r", res.Pcap, "-o", "tls.keylog_file:"+res.KeyLog, "-q", "-z", fmt.Sprintf("follow,tls,ascii,%d", stream))
			Expect(out).To(MatchRegexp(`(?m)^MSG .*, code word ` + regexp.QuoteMeta(want) + `$`))
			Expect(out).To(MatchRegexp(`(?m)^OK$`))
			Expect(out).NotTo(ContainSubstring(toks[1-stream]))
		}
		details := tshark("-r", res.Pcap, "-o", "tls.keylog_file:"+res.KeyLog, "-Y", "tls", "-V")
		for _, tok := range toks[:2] {
			Expect(details).To(ContainSubstring(tok))
		}
		for _, unused := range toks[2:] {
			Expect(details).NotTo(ContainSubstring(unused))
		}
	})
})
