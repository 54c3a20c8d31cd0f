package report_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/report"
)

// The JUnit document as a CI reporter reads it back.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    string   `xml:"tests,attr"`
	Failures string   `xml:"failures,attr"`
	Errors   string   `xml:"errors,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name     string          `xml:"name,attr"`
		Tests    string          `xml:"tests,attr"`
		Failures string          `xml:"failures,attr"`
		Errors   string          `xml:"errors,attr"`
		Skipped  string          `xml:"skipped,attr"`
		Time     string          `xml:"time,attr"`
		Cases    []junitCaseRead `xml:"testcase"`
	} `xml:"testsuite"`
}

type junitCaseRead struct {
	ClassName string            `xml:"classname,attr"`
	Name      string            `xml:"name,attr"`
	Time      string            `xml:"time,attr"`
	Failure   *junitProblemRead `xml:"failure"`
	Error     *junitProblemRead `xml:"error"`
	SystemOut *string           `xml:"system-out"`
}

type junitProblemRead struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// junitFixture is sampleResults (a held match with captures, a broken
// mismatch, an error, a held mismatch by the wrong defense, a passed
// baseline) plus a held result against an expected broken whose evidence
// holds markup, quotes, a CDATA terminator and characters XML 1.0
// forbids.
func junitFixture() ([]lab.Scenario, []lab.Result) {
	const refused = "alice: handshake failed: x509: certificate signed by unknown authority"
	rs := append(sampleResults(), lab.Result{
		Scenario: "pki/odd-evidence", Labels: []lab.Label{lab.LabelPKI},
		Verdict: lab.Held, StoppedBy: []string{"chain-validation"}, Expected: lab.Broken, OK: false, Service: lab.ServiceDenied,
		Evidence: []string{
			"mallory: sent <INVITE> & \"quoted\" 'single' <&>\x00\x01\x1b ]]> end",
			refused,
		},
		Refusals: []lab.Refusal{{Defense: "chain-validation", Host: "alice",
			Reason: "handshake failed: x509: certificate signed by unknown authority", Line: refused, Credited: true}},
		Duration: 1500 * time.Microsecond, Seed: 42,
	})
	scenarios := []lab.Scenario{
		{Name: "mitm/stolen-key", Summary: "Mallory relays with the server's stolen key"},
		{Name: "eavesdrop/tls", Summary: "A passive tap sees only TLS"},
	}
	return scenarios, rs
}

func decodeJUnit(t *testing.T, data []byte) junitDoc {
	t.Helper()
	var doc junitDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("output is not XML: %v\n%s", err, data)
	}
	return doc
}

// junitCheck is one assertion about a decoded test case.
type junitCheck func(t *testing.T, tc junitCaseRead)

func junitAll(checks ...junitCheck) junitCheck {
	return func(t *testing.T, tc junitCaseRead) {
		for _, c := range checks {
			c(t, tc)
		}
	}
}

func junitAttrs(classname, name, seconds string) junitCheck {
	return func(t *testing.T, tc junitCaseRead) {
		if tc.ClassName != classname || tc.Name != name || tc.Time != seconds {
			t.Errorf("testcase classname=%q name=%q time=%q, want %q %q %q", tc.ClassName, tc.Name, tc.Time, classname, name, seconds)
		}
	}
}

// junitProps checks the properties, in order, as "name=value": the lines
// of the "properties:" block that ends the system-out.
func junitProps(want ...string) junitCheck {
	return func(t *testing.T, tc junitCaseRead) {
		var got []string
		if tc.SystemOut != nil {
			_, block, _ := strings.Cut(*tc.SystemOut, "\nproperties:\n")
			for _, l := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
				if l != "" {
					got = append(got, strings.TrimPrefix(l, "  "))
				}
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: properties %q, want %q", tc.Name, got, want)
		}
	}
}

func junitPassed() junitCheck {
	return func(t *testing.T, tc junitCaseRead) {
		if tc.Failure != nil || tc.Error != nil {
			t.Errorf("%s: failure %+v, error %+v, want neither", tc.Name, tc.Failure, tc.Error)
		}
	}
}

// problem checks the failure (kind "failure") or error (kind "error"): its
// attributes and its body, exactly.
func junitProblem(kind, message, typ, body string) junitCheck {
	return func(t *testing.T, tc junitCaseRead) {
		got, other := tc.Failure, tc.Error
		if kind == "error" {
			got, other = tc.Error, tc.Failure
		}
		if got == nil || other != nil {
			t.Fatalf("%s: failure %+v, error %+v, want only a %s", tc.Name, tc.Failure, tc.Error, kind)
		}
		if got.Message != message || got.Type != typ {
			t.Errorf("%s: %s message=%q type=%q, want %q %q", tc.Name, kind, got.Message, got.Type, message, typ)
		}
		if got.Body != body {
			t.Errorf("%s: %s body\n%q\nwant\n%q", tc.Name, kind, got.Body, body)
		}
	}
}

// junitSystemOut checks the system-out up to its "properties:" block
// (junitProps checks that).
func junitSystemOut(want string) junitCheck {
	return func(t *testing.T, tc junitCaseRead) {
		if tc.SystemOut == nil {
			t.Fatalf("%s: no system-out", tc.Name)
		}
		got, _, found := strings.Cut(*tc.SystemOut, "properties:\n")
		if !found {
			t.Errorf("%s: system-out lacks its properties:\n%q", tc.Name, *tc.SystemOut)
		}
		if got != want {
			t.Errorf("%s: system-out\n%q\nwant\n%q", tc.Name, got, want)
		}
	}
}

func TestWriteJUnit(t *testing.T) {
	scenarios, results := junitFixture()
	var buf bytes.Buffer
	if err := report.WriteJUnit(&buf, scenarios, results); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`+"\n<testsuites ") {
		t.Errorf("output does not start with the XML declaration and <testsuites>:\n%s", buf.String())
	}
	doc := decodeJUnit(t, buf.Bytes())

	// 1.234567s + 3ms + 0 + 20ms + 0.5ms + 1.5ms
	if doc.Name != "tlslab" || doc.Tests != "6" || doc.Failures != "3" || doc.Errors != "1" || doc.Time != "1.260" {
		t.Errorf("testsuites name=%q tests=%s failures=%s errors=%s time=%s, want tlslab 6 3 1 1.260",
			doc.Name, doc.Tests, doc.Failures, doc.Errors, doc.Time)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d testsuites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Name != "tlslab" || s.Tests != "6" || s.Failures != "3" || s.Errors != "1" || s.Skipped != "0" || s.Time != "1.260" {
		t.Errorf("testsuite name=%q tests=%s failures=%s errors=%s skipped=%s time=%s, want tlslab 6 3 1 0 1.260",
			s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, s.Time)
	}

	long := results[1].Evidence[0]
	odd := "mallory: sent <INVITE> & \"quoted\" 'single' <&> ]]> end" // NUL, SOH and ESC dropped
	const refused = "alice: handshake failed: x509: certificate signed by unknown authority"
	selfSignedEvidence := "evidence:\n" +
		"  mallory: spoofing alice and fe01\n" +
		"  mallory: intercepted alice's connection\n" +
		"  " + selfSignedDNS + "\n" +
		"  " + selfSignedChain + "\n" +
		"  " + selfSignedRevoked + "\n"
	checks := []junitCheck{
		junitAll(
			junitAttrs("tlslab.eavesdrop", "eavesdrop/tls", "1.235"),
			junitProps("verdict=held", "stopped_by=tls-only", "expected=held", "expected_stopped_by=tls-only",
				"service=intact", "seed=7", "labels=eavesdrop,tls"),
			junitPassed(),
			junitSystemOut("A passive tap sees only TLS\n"+
				"verdict: held (tls-only), expected held (tls-only), match: yes\n"+
				"service: intact\n"+
				"seed: 7 (replay: tlslab run eavesdrop/tls --seed 7)\n"+
				"pcap: out/eavesdrop-tls.pcapng\n"+
				"keylog: out/eavesdrop-tls.keys\n"+
				"refusals:\n"+
				"  tls-only (decisive): alice: sent only TLS application data records\n"+
				"evidence:\n"+
				"  eavesdropper: captured alice's connection to 10.0.0.20:5061\n"+
				"  alice: sent only TLS application data records\n"+
				"  eavesdropper: 0 of 2 canaries in 9.1 KiB of captured TCP payload\n"),
		),
		junitAll(
			junitAttrs("tlslab.mitm", "mitm/stolen-key", "0.003"),
			junitProps("verdict=broken", "expected=held", "expected_stopped_by=revocation", "service=intact", "seed=0", "labels=mitm"),
			junitProblem("failure", "expected held (revocation), got broken", "verdict-mismatch",
				long+"\nevidence:\n  "+long+"\n  mallory: 2 of 2 canaries in decrypted SIP\n"),
			junitSystemOut("Mallory relays with the server's stolen key\n"+
				"verdict: broken, expected held (revocation), match: NO\n"+
				"service: intact\n"+
				"seed: not recorded\n"+
				"evidence:\n  "+long+"\n  mallory: 2 of 2 canaries in decrypted SIP\n"),
		),
		junitAll(
			junitAttrs("tlslab.dns", "dns/hijack", "0.000"),
			junitProps("verdict=error", "expected=held", "expected_stopped_by=dnssec-validation", "service=unknown", "seed=0"),
			junitProblem("error", `lab: scenario "dns/hijack" did not finish within 10s`, "scenario-error",
				`error: lab: scenario "dns/hijack" did not finish within 10s`+"\nevidence: none recorded\n"),
			junitSystemOut("verdict: error, expected held (dnssec-validation), match: error\n"+
				"service: unknown\n"+
				"seed: not recorded\n"+
				"evidence: none recorded\n"),
		),
		junitAll(
			junitAttrs("tlslab.mitm", "mitm/self-signed", "0.020"),
			junitProps("verdict=held", "stopped_by=chain-validation,revocation", "expected=held", "expected_stopped_by=revocation",
				"service=denied", "seed=11", "labels=mitm,tls"),
			junitProblem("failure", "expected held (revocation), got held (chain-validation)", "verdict-mismatch",
				selfSignedChain+"\n"+selfSignedEvidence),
			junitSystemOut("verdict: held (chain-validation), expected held (revocation), match: NO\n"+
				"service: denied\n"+
				"seed: 11 (replay: tlslab run mitm/self-signed --seed 11)\n"+
				"refusals:\n"+
				"  dns-randomization (not credited): "+selfSignedDNS+"\n"+
				"  chain-validation (decisive): "+selfSignedChain+"\n"+
				"  revocation: "+selfSignedRevoked+"\n"+
				selfSignedEvidence),
		),
		junitAll(
			junitAttrs("tlslab.baseline", "baseline/tls", "0.001"),
			junitProps("verdict=passed", "expected=passed", "service=intact", "seed=8", "labels=baseline,tls"),
			junitPassed(),
			junitSystemOut("verdict: passed, expected passed, match: yes\n"+
				"service: intact\n"+
				"seed: 8 (replay: tlslab run baseline/tls --seed 8)\n"+
				"evidence:\n"+
				"  fe01: delivered the canary to bob\n"),
		),
		junitAll(
			junitAttrs("tlslab.pki", "pki/odd-evidence", "0.002"),
			junitProps("verdict=held", "stopped_by=chain-validation", "expected=broken", "service=denied", "seed=42", "labels=pki"),
			junitProblem("failure", "expected broken, got held (chain-validation)", "verdict-mismatch",
				refused+"\nevidence:\n  "+odd+"\n  "+refused+"\n"),
			junitSystemOut("verdict: held (chain-validation), expected broken, match: NO\n"+
				"service: denied\n"+
				"seed: 42 (replay: tlslab run pki/odd-evidence --seed 42)\n"+
				"refusals:\n"+
				"  chain-validation (decisive): "+refused+"\n"+
				"evidence:\n  "+odd+"\n  "+refused+"\n"),
		),
	}
	if len(s.Cases) != len(checks) {
		t.Fatalf("%d testcases, want %d", len(s.Cases), len(checks))
	}
	for i, check := range checks {
		check(t, s.Cases[i])
	}
	junitXMLLint(t, buf.Bytes())
}

func TestWriteJUnitEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteJUnit(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	doc := decodeJUnit(t, buf.Bytes())
	if doc.Tests != "0" || doc.Failures != "0" || doc.Errors != "0" || doc.Time != "0.000" || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 0 {
		t.Errorf("empty report: %+v", doc)
	}
	junitXMLLint(t, buf.Bytes())
}

// TestWriteJUnitEscapesAttributes: markup and forbidden characters in the
// name and the error message, which land in attributes.
func TestWriteJUnitEscapesAttributes(t *testing.T) {
	res := []lab.Result{{
		Scenario: "odd/<name>&\"'\x00", Verdict: lab.Error, Expected: lab.Held, Seed: 3,
		Err: junitErr("lab: bad <thing> & \"more\"\x07\nsecond line"),
	}}
	var buf bytes.Buffer
	if err := report.WriteJUnit(&buf, nil, res); err != nil {
		t.Fatal(err)
	}
	doc := decodeJUnit(t, buf.Bytes())
	tc := doc.Suites[0].Cases[0]
	if tc.Name != `odd/<name>&"'` || tc.ClassName != "tlslab.odd" {
		t.Errorf("name %q classname %q", tc.Name, tc.ClassName)
	}
	if tc.Error == nil || tc.Error.Message != "lab: bad <thing> & \"more\"\nsecond line" {
		t.Errorf("error %+v", tc.Error)
	}
	if want := `seed: 3 (replay: tlslab run 'odd/<name>&"'\''' --seed 3)`; tc.SystemOut == nil || !strings.Contains(*tc.SystemOut, want) {
		t.Errorf("system-out lacks %s", want)
	}
	junitXMLLint(t, buf.Bytes())
}

type junitErr string

func (e junitErr) Error() string { return string(e) }

// junitXMLLint validates data against the Jenkins xunit plugin's
// junit-10.xsd (testdata/junit-10.xsd) with xmllint, in a subtest that is
// skipped when xmllint is not installed, and fails instead with CI=true.
func junitXMLLint(t *testing.T, data []byte) {
	t.Helper()
	t.Run("xmllint", func(t *testing.T) {
		path, err := exec.LookPath("xmllint")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("xmllint not installed (CI=true; .ci/run installs libxml2-utils)")
			}
			t.Skip("xmllint not installed")
		}
		xsd, err := filepath.Abs(filepath.Join("testdata", "junit-10.xsd"))
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "junit.xml")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(path, "--schema", xsd, "--noout", file).CombinedOutput(); err != nil {
			t.Errorf("xmllint --schema junit-10.xsd --noout: %v\n%s\n%s", err, out, data)
		}
	})
}

// An inconclusive run is an <error> carrying the reason, never a failure.
func TestWriteJUnitInconclusive(t *testing.T) {
	const line = "mallory: intercepted alice's connection"
	res := []lab.Result{{
		Scenario: "mitm/self-signed", Verdict: lab.Error, Expected: lab.Held, ExpectedStoppedBy: "chain-validation",
		Service: lab.ServiceDenied, Seed: 5, Evidence: []string{line},
		Milestones: []lab.MilestoneReached{{Milestone: lab.MilestoneInPosition, Actor: "mallory", Line: line}},
		Err:        &lab.InconclusiveError{Reason: lab.ReasonNoDefense},
	}}
	var buf bytes.Buffer
	if err := report.WriteJUnit(&buf, nil, res); err != nil {
		t.Fatal(err)
	}
	doc := decodeJUnit(t, buf.Bytes())
	if doc.Tests != "1" || doc.Failures != "0" || doc.Errors != "1" {
		t.Errorf("tests=%s failures=%s errors=%s, want 1 0 1", doc.Tests, doc.Failures, doc.Errors)
	}
	junitAll(
		junitProps("verdict=error", "expected=held", "expected_stopped_by=chain-validation", "service=denied", "seed=5"),
		junitProblem("error", "inconclusive: no defense observed", "scenario-error",
			"error: inconclusive: no defense observed\nevidence:\n  "+line+"\n"),
		junitSystemOut("verdict: error, expected held (chain-validation), match: error\n"+
			"service: denied\n"+
			"seed: 5 (replay: tlslab run mitm/self-signed --seed 5)\n"+
			"evidence:\n  "+line+"\n"),
	)(t, doc.Suites[0].Cases[0])
	junitXMLLint(t, buf.Bytes())
}
