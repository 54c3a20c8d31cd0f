package report_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"golang.org/x/net/html"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/report"
)

// handoutFixture is a small handout: a scenario that changes a defense
// and left captures, an attack held by two defenses with a refusal the
// verdict did not credit, and a baseline without attacker or captures.
func handoutFixture() ([]lab.Scenario, []lab.Result) {
	scenarios := []lab.Scenario{
		{
			Name: "mitm/self-signed", Labels: []lab.Label{lab.LabelMITM, lab.LabelTLS},
			Summary:  "Mallory terminates TLS with a self-signed certificate",
			Story:    "Alice dials pool01 while Mallory sits in the path.\n\nWith the hostname check off, Alice accepts any name.",
			Attacker: "mallory (10.0.0.66) on contoso-lan, ARP-spoofing alice",
			Expected: lab.Broken,
			Defenses: func(d *lab.Defenses) { d.HostnameCheck = false; d.ChainValidation = false },
		},
		{
			Name: "mitm/revoked", Labels: []lab.Label{lab.LabelMITM, lab.LabelRevocation},
			Summary: "Mallory presents a revoked certificate", Story: "Mallory got hold of a revoked certificate for pool01.",
			Attacker: "mallory on contoso-lan", Expected: lab.Held, StoppedBy: "revocation",
		},
		{Name: "baseline/tls", Summary: "Alice registers over TLS", Expected: lab.Passed},
	}
	line := `alice: accepted the attacker as "pool01.contoso.com"`
	revoked := "alice: certificate of pool01.contoso.com is revoked (CRL)"
	expired := "alice: x509: certificate has expired"
	spoof := "alice: ignored a spoofed ARP reply for 10.0.0.1"
	results := []lab.Result{
		{
			Scenario: "mitm/self-signed", Labels: []lab.Label{lab.LabelMITM, lab.LabelTLS},
			Verdict: lab.Broken, Expected: lab.Broken, OK: true, Service: lab.ServiceIntact,
			Evidence:    []string{"mallory: spoofing alice", line},
			Compromises: []lab.Compromise{{Kind: lab.CompromiseIdentity, Actor: "alice", Line: line}},
			Duration:    2 * time.Second, Seed: 7,
			Pcap: "out/mitm-self-signed.pcapng", KeyLog: "out/mitm-self-signed.keys",
		},
		{
			Scenario: "mitm/revoked", Labels: []lab.Label{lab.LabelMITM, lab.LabelRevocation},
			Verdict: lab.Held, StoppedBy: []string{"revocation", "validity-check"}, Expected: lab.Held, ExpectedStoppedBy: "revocation",
			OK: true, Service: lab.ServiceDenied,
			Evidence: []string{spoof, "mallory: intercepted alice's connection", revoked, expired, revoked},
			Refusals: []lab.Refusal{
				{Defense: "arp-policy", Host: "alice", Reason: "ignored a spoofed ARP reply for 10.0.0.1", Line: spoof},
				{Defense: "revocation", Host: "alice", Reason: "certificate of pool01.contoso.com is revoked (CRL)", Line: revoked, Credited: true},
				{Defense: "validity-check", Host: "alice", Reason: "x509: certificate has expired", Line: expired, Credited: true},
				{Defense: "revocation", Host: "alice", Reason: "certificate of pool01.contoso.com is revoked (CRL)", Line: revoked, Credited: true},
			},
			Seed: 8,
		},
		{
			Scenario: "baseline/tls", Verdict: lab.Passed, Expected: lab.Passed, OK: true, Service: lab.ServiceIntact,
			Evidence: []string{"alice: registered"}, Seed: 9,
		},
	}
	return scenarios, results
}

// handoutGolden is WriteMarkdown's output for handoutFixture, with "‵"
// standing for "`" (a raw string cannot hold a backtick).
const handoutGolden = `# tlslab handout

3 scenarios: 3 matched, 0 differed, 0 errors

| Scenario | Verdict | Expected | Match | Service |
| --- | --- | --- | --- | --- |
| [mitm/self-signed](#mitmself-signed) | broken | broken | yes | intact |
| [mitm/revoked](#mitmrevoked) | held (revocation) | held (revocation) | yes | denied |
| [baseline/tls](#baselinetls) | passed | passed | yes | intact |

## mitm/self-signed

Mallory terminates TLS with a self-signed certificate

Labels: mitm, tls

**Story.** Alice dials pool01 while Mallory sits in the path.

With the hostname check off, Alice accepts any name.

**Attacker:** mallory (10.0.0.66) on contoso-lan, ARP-spoofing alice

**Defenses** that bear on this scenario; it changes chain-validation: on -> off; hostname-check: on -> off (in bold):

- **chain-validation: off** (hardened: on) — certificates must chain to a trusted root
- **hostname-check: off** (hardened: on) — the server certificate must name the host dialled
- validity-check: on — certificates must be inside their validity period
- revocation: hard-fail — CRL and OCSP checks (off, soft-fail, hard-fail)
- tls-only: on — no plaintext SIP fallback
- min-tls-version: TLS 1.2 — lowest TLS version accepted
- forward-secrecy-only: on — only ECDHE key exchange, no static RSA
- distrust-list: on — roots on the enterprise distrust list are refused even when installed

Not bearing on it, and left hardened: client-cert-required, trusted-server-list, federation-srv-domain-match, federation-allow-list, dns-randomization, dnssec-validation, arp-policy, autodiscover-https-only, strict-dns-naming, trusted-domains-empty, decline-prompts, llmnr-nbtns-disabled, link-single-label-only, wpad-disabled, dhcp-snooping, ntlm-verified-servers-only, pool-pinning.

**Decisive:** none; no defense stopped the attack.

**Verdict:** broken, expected broken: matches. Service: intact. Seed 7, replay with ‵tlslab run mitm/self-signed --seed 7‵.

**Main evidence:** ‵alice: accepted the attacker as "pool01.contoso.com"‵

**Evidence** (every line, in the order recorded):

‵‵‵text
mallory: spoofing alice
alice: accepted the attacker as "pool01.contoso.com"
‵‵‵

**Capture files:**

- packet capture: ‵out/mitm-self-signed.pcapng‵
- TLS key log: ‵out/mitm-self-signed.keys‵

Open the capture in Wireshark and set the key log in Preferences > Protocols > TLS > (Pre)-Master-Secret log filename to see the decrypted traffic, or run ‵wireshark -o tls.keylog_file:out/mitm-self-signed.keys -r out/mitm-self-signed.pcapng‵.

## mitm/revoked

Mallory presents a revoked certificate

Labels: mitm, revocation

**Story.** Mallory got hold of a revoked certificate for pool01.

**Attacker:** mallory on contoso-lan

**Defenses** that bear on this scenario, as hardened (it changes none):

- chain-validation: on — certificates must chain to a trusted root
- hostname-check: on — the server certificate must name the host dialled
- validity-check: on — certificates must be inside their validity period — refused too
- revocation: hard-fail — CRL and OCSP checks (off, soft-fail, hard-fail) — **decisive**: refused first
- arp-policy: accept-any — which ARP messages may change ARP caches — refused (not credited)
- distrust-list: on — roots on the enterprise distrust list are refused even when installed

Not bearing on it, and left hardened: client-cert-required, trusted-server-list, tls-only, min-tls-version, forward-secrecy-only, federation-srv-domain-match, federation-allow-list, dns-randomization, dnssec-validation, autodiscover-https-only, strict-dns-naming, trusted-domains-empty, decline-prompts, llmnr-nbtns-disabled, link-single-label-only, wpad-disabled, dhcp-snooping, ntlm-verified-servers-only, pool-pinning.

**Decisive:** revocation, the first defense seen refusing that the verdict credits.

**Verdict:** held (revocation), expected held (revocation): matches. Service: denied. Seed 8, replay with ‵tlslab run mitm/revoked --seed 8‵.

**Stopped by** (every refusal seen, in order):

- arp-policy (not credited): ‵alice: ignored a spoofed ARP reply for 10.0.0.1‵
- revocation (decisive): ‵alice: certificate of pool01.contoso.com is revoked (CRL)‵
- validity-check: ‵alice: x509: certificate has expired‵
- revocation: ‵alice: certificate of pool01.contoso.com is revoked (CRL)‵

**Main evidence:** ‵alice: certificate of pool01.contoso.com is revoked (CRL)‵

**Evidence** (every line, in the order recorded):

‵‵‵text
alice: ignored a spoofed ARP reply for 10.0.0.1
mallory: intercepted alice's connection
alice: certificate of pool01.contoso.com is revoked (CRL)
alice: x509: certificate has expired
alice: certificate of pool01.contoso.com is revoked (CRL)
‵‵‵

**Capture files:** no capture requested (run with ‵--pcap DIR --keylog DIR‵).

## baseline/tls

Alice registers over TLS

**Story.** No story written.

**Attacker:** no attacker

**Defenses** that bear on this scenario, as hardened (it changes none):

- none of the switches

Not bearing on it, and left hardened: chain-validation, hostname-check, validity-check, revocation, client-cert-required, trusted-server-list, tls-only, min-tls-version, forward-secrecy-only, federation-srv-domain-match, federation-allow-list, dns-randomization, dnssec-validation, arp-policy, distrust-list, autodiscover-https-only, strict-dns-naming, trusted-domains-empty, decline-prompts, llmnr-nbtns-disabled, link-single-label-only, wpad-disabled, dhcp-snooping, ntlm-verified-servers-only, pool-pinning.

**Verdict:** passed, expected passed: matches. Service: intact. Seed 9, replay with ‵tlslab run baseline/tls --seed 9‵.

**Main evidence:** ‵alice: registered‵

**Evidence** (every line, in the order recorded):

‵‵‵text
alice: registered
‵‵‵

**Capture files:** no capture requested (run with ‵--pcap DIR --keylog DIR‵).
`

func TestWriteMarkdownGolden(t *testing.T) {
	s, r := handoutFixture()
	var buf bytes.Buffer
	if err := report.WriteMarkdown(&buf, s, r); err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(handoutGolden, "‵", "`")
	if got := buf.String(); got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d:\n got %q\nwant %q", i+1, g, w)
				break
			}
		}
		t.Errorf("handout differs from the golden one; got:\n%s", got)
	}
}

func TestWriteMarkdownMissingScenarioAndCaptures(t *testing.T) {
	res := []lab.Result{
		{Scenario: "dns/hijack", Verdict: lab.Error, Expected: lab.Held, ExpectedStoppedBy: "dnssec-validation", Service: lab.ServiceUnknown,
			Err: errors.New("lab: scenario \"dns/hijack\" did not finish within 10s")},
		{Scenario: "eavesdrop/tls", Verdict: lab.Held, StoppedBy: []string{"tls-only"}, Expected: lab.Broken, Service: lab.ServiceIntact,
			Evidence: []string{"eve: 0 of 2 canaries"}, Pcap: "out dir/eavesdrop-tls.pcapng", Seed: 3},
		{Scenario: "eavesdrop/keys", Verdict: lab.Held, StoppedBy: []string{"tls-only"}, Expected: lab.Held, ExpectedStoppedBy: "tls-only",
			OK: true, Service: lab.ServiceIntact, KeyLog: "out/eavesdrop-keys.keys", Seed: 4},
		{Scenario: "mitm/inconclusive", Verdict: lab.Error, Expected: lab.Held, ExpectedStoppedBy: "chain-validation", Service: lab.ServiceDenied,
			Evidence: []string{"mallory: intercepted alice's connection"}, Err: &lab.InconclusiveError{Reason: lab.ReasonNoDefense}, Seed: 5},
	}
	var buf bytes.Buffer
	if err := report.WriteMarkdown(&buf, nil, res); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"1 matched, 1 differed, 2 errors\n",
		"| [dns/hijack](#dnshijack) | error | held (dnssec-validation) | error | unknown |\n",
		"| [eavesdrop/tls](#eavesdroptls) | held (tls-only) | broken | NO | intact |\n",
		"| [eavesdrop/keys](#eavesdropkeys) | held (tls-only) | held (tls-only) | yes | intact |\n",
		"| [mitm/inconclusive](#mitminconclusive) | error | held (chain-validation) | error | denied |\n",
		"## dns/hijack\n\nThis scenario is not in the list the report was given: its story, attacker and defenses are unknown.\n\n**Verdict:**",
		"**Verdict:** error, expected held (dnssec-validation): **error**, no trustworthy observation. Service: unknown. Seed not recorded.\n",
		"**Main evidence:** `error: lab: scenario \"dns/hijack\" did not finish within 10s`\n\n**Evidence:** no lines recorded.\n",
		"**Verdict:** held (tls-only), expected broken: **differs from the expectation**. Service: intact. Seed 3, replay with `tlslab run eavesdrop/tls --seed 3`.\n",
		"- packet capture: `out dir/eavesdrop-tls.pcapng`\n\nOpen it in Wireshark (`wireshark -r 'out dir/eavesdrop-tls.pcapng'`); without a key log (`--keylog DIR`) the TLS records stay encrypted.\n",
		"- TLS key log: `out/eavesdrop-keys.keys`\n\nIn Wireshark the key log goes in Preferences > Protocols > TLS > (Pre)-Master-Secret log filename; it decrypts a capture of the same run (`--pcap DIR`).\n",
		"**Evidence:** no lines recorded.\n\n**Capture files:**", // no main evidence without lines
		"**Verdict:** error, expected held (chain-validation): **error**, no trustworthy observation. Service: denied. Seed 5, replay with `tlslab run mitm/inconclusive --seed 5`.\n\n" +
			"**Main evidence:** `error: inconclusive: no defense observed`\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("handout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "**Story.**") || strings.Contains(out, "**Defenses:**") || strings.Contains(out, "**Stopped by**") {
		t.Errorf("story, defenses or refusals written for scenarios that were not given or had no refusals:\n%s", out)
	}
}

// trickyResults have names and evidence full of Markdown and HTML syntax.
func trickyResults() []lab.Result {
	return []lab.Result{
		{Scenario: "mitm/self-signed", Verdict: lab.Broken, Expected: lab.Held, Service: lab.ServiceDenied, Seed: 1,
			Evidence: []string{
				"mallory: a | b `tick` ``two`` *star* _under_ <b>bold</b> & \\back [x](y) $x$ ~~del~~",
				"`starts with a tick",
				"ends with a tick`",
				"```fence inside",
				"```",
				"| leading pipe |",
				"1. not a list",
				"- not a list either",
				"# not a heading",
			},
			Compromises: []lab.Compromise{{Line: "mallory: a | b `tick` ``two`` *star* _under_ <b>bold</b> & \\back [x](y) $x$ ~~del~~"}}},
		{Scenario: "odd/pipe|star*under_score`tick<b>", Verdict: lab.Held, StoppedBy: []string{"hostname-check"},
			Expected: lab.Held, ExpectedStoppedBy: "hostname-check", OK: true, Service: lab.ServiceIntact, Seed: 2,
			Evidence: []string{"mallory: *in position*", "`ticks at both ends`", "alice: <b>refused</b> | `x509` _name_"},
			Refusals: []lab.Refusal{{Defense: "hostname-check", Host: "alice", Reason: "<b>refused</b> | `x509` _name_",
				Line: "alice: <b>refused</b> | `x509` _name_", Credited: true}}},
		{Scenario: "a/bc", Verdict: lab.Passed, Expected: lab.Passed, OK: true, Seed: 3},
		{Scenario: "ab/c", Verdict: lab.Passed, Expected: lab.Passed, OK: true, Seed: 4,
			Evidence: []string{" two  spaces around "}},
		{Scenario: "a/bc", Verdict: lab.Passed, Expected: lab.Passed, OK: true, Seed: 5},
	}
}

// trickyScenarios give stories and summaries that would become markup if
// they were not escaped.
func trickyScenarios() []lab.Scenario {
	return []lab.Scenario{
		{Name: "mitm/self-signed", Summary: "*not emphasis* and <i>not HTML</i> | not a cell",
			Story:    "1. not a list\n\n- not a list either\n\n> not a quote\n\n=== not a heading",
			Attacker: "mallory_(10.0.0.66) `relaying`"},
		{Name: "a/bc", Summary: "plain"},
	}
}

func TestWriteMarkdownAnchors(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteMarkdown(&buf, trickyScenarios(), trickyResults()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// Anchors as GitHub generates them: '/', '|', '*', '`', '<', '>' dropped,
	// '_' and '-' kept, repeats numbered.
	for _, want := range []string{
		"| [mitm/self-signed](#mitmself-signed) | broken | held | NO | denied |\n",
		"| [odd/pipe\\|star\\*under\\_score\\`tick\\<b>](#oddpipestarunder_scoretickb) | held (hostname-check) | held (hostname-check) | yes | intact |\n",
		"| [a/bc](#abc) |",
		"| [ab/c](#abc-1) |",
		"| [a/bc](#abc-2) |",
		"\n## odd/pipe\\|star\\*under\\_score\\`tick\\<b>\n",
		"| [a/bc](#abc) | passed | passed | yes | unknown |\n", // no service recorded
		"**Stopped by** (every refusal seen, in order):\n\n- hostname-check (decisive): ``alice: <b>refused</b> | `x509` _name_``\n\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("handout lacks %q:\n%s", want, out)
		}
	}

	// Every link resolves to a heading: an independent ASCII-only slugger
	// over the headings, in order, yields the link targets.
	var headings, links []string
	seen := map[string]int{}
	fence := "" // the open code fence, "" outside code blocks
	for _, line := range strings.Split(out, "\n") {
		switch {
		case fence == "" && strings.HasPrefix(line, "```"):
			fence = strings.TrimSuffix(line, "text")
			continue
		case fence != "":
			if line == fence {
				fence = ""
			}
			continue
		}
		if h, ok := strings.CutPrefix(line, "#"); ok {
			text := unescapeMarkdown(strings.TrimSpace(strings.TrimLeft(h, "#")))
			headings = append(headings, asciiSlug(text, seen))
		}
		if rest, ok := strings.CutPrefix(line, "| ["); ok {
			_, target, _ := strings.Cut(rest, "](#")
			target, _, _ = strings.Cut(target, ")")
			links = append(links, target)
		}
	}
	if got, want := strings.Join(links, " "), strings.Join(headings[1:], " "); got != want {
		t.Errorf("links %s\nheadings %s", got, want)
	}
}

// asciiSlug is GitHub's anchor for an ASCII heading.
func asciiSlug(text string, seen map[string]int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	slug := b.String()
	if n, ok := seen[slug]; ok {
		seen[slug] = n + 1
		slug = fmt.Sprintf("%s-%d", slug, n+1)
	}
	seen[slug] = 0
	return slug
}

// unescapeMarkdown removes backslash escapes of ASCII punctuation.
func unescapeMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", rune(s[i+1])) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestWriteMarkdownRenders renders the handout with goldmark (GFM) and
// checks the HTML: one table whose cells hold the names as written, one
// h2 per result, evidence inside <code> unchanged, and no markup smuggled
// in by names, stories or evidence.
func TestWriteMarkdownRenders(t *testing.T) {
	results := trickyResults()
	var md, out bytes.Buffer
	if err := report.WriteMarkdown(&md, trickyScenarios(), results); err != nil {
		t.Fatal(err)
	}
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert(md.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var h2s, codes []string
	var rows [][]string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			count[n.Data]++
			switch n.Data {
			case "h2":
				h2s = append(h2s, nodeText(n))
			case "code":
				codes = append(codes, nodeText(n))
			case "tr":
				var cells []string
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
						cells = append(cells, nodeText(c))
					}
				}
				rows = append(rows, cells)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	t.Logf("rendered:\n%s", md.String())

	if count["table"] != 1 {
		t.Errorf("%d tables, want 1", count["table"])
	}
	for _, tag := range []string{"em", "del", "b", "i", "ol", "blockquote", "h3", "hr"} {
		if count[tag] != 0 {
			t.Errorf("%d <%s> elements, want none: markup leaked from names, stories or evidence", count[tag], tag)
		}
	}
	if count["h1"] != 1 {
		t.Errorf("%d <h1>, want 1", count["h1"])
	}
	var names []string
	for _, r := range results {
		names = append(names, r.Scenario)
	}
	if got, want := strings.Join(h2s, "\n"), strings.Join(names, "\n"); got != want {
		t.Errorf("h2 headings\n%s\nwant\n%s", got, want)
	}
	if len(rows) != len(results)+1 {
		t.Fatalf("%d table rows, want header + %d", len(rows), len(results))
	}
	for i, row := range rows[1:] {
		r := results[i]
		want := []string{r.Scenario, r.Outcome(), r.ExpectedOutcome()}
		if len(row) != 5 || row[0] != want[0] || row[1] != want[1] || row[2] != want[2] {
			t.Errorf("row %d = %q, want 5 cells starting %q", i+1, row, want)
		}
	}
	for _, r := range results {
		for _, line := range r.Evidence {
			if !inCodeBlock(codes, line) {
				t.Errorf("evidence %q not inside <code> unchanged", line)
			}
		}
		for _, f := range r.Refusals {
			if !contains(codes, f.Line) {
				t.Errorf("refusal %q not an inline <code> of its own", f.Line)
			}
		}
		if len(r.Evidence) > 0 && !contains(codes, r.MainEvidence()) {
			t.Errorf("main evidence %q not an inline <code> of its own", r.MainEvidence())
		}
	}
	for _, want := range []string{"*not emphasis* and <i>not HTML</i> | not a cell", "1. not a list", "- not a list either", "> not a quote", "=== not a heading"} {
		if !strings.Contains(out.String(), html.EscapeString(want)) && !strings.Contains(nodeText(doc), want) {
			t.Errorf("rendered text lacks %q", want)
		}
	}
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// inCodeBlock reports whether line is a whole line of one of codes.
func inCodeBlock(codes []string, line string) bool {
	for _, c := range codes {
		for _, l := range strings.Split(c, "\n") {
			if l == line {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
