package scenarios

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/lab"
)

// catalogTextDiffers lists the file forms whose handout text (Scenario
// Attacker, and the topology option that quotes it) is written from the
// file's certificate spec rather than the catalog's hand-written phrase:
// the same certificate, described in certSpec.text's words.
var catalogTextDiffers = map[string]bool{
	"mtls/missing-client-auth-eku": true,
}

// catalogTwins returns the catalog's scenarios by name: each has a file
// form under examples/catalog.
func catalogTwins() map[string]lab.Scenario {
	out := map[string]lab.Scenario{}
	for _, s := range Catalog() {
		out[s.Name] = s
	}
	return out
}

// requireTools skips t when a program s requires is missing, and fails
// it instead when CI=true (the bridge family runs real programs).
func requireTools(t *testing.T, s lab.Scenario) {
	t.Helper()
	for _, p := range s.Requires {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s needs %s, which CI must have: %v", s.Name, p, err)
			}
			t.Skipf("%s needs %s: %v", s.Name, p, err)
		}
	}
}

// Every catalog scenario has a file form, examples/catalog/FAMILY/NAME.yaml
// (scenario FAMILY/NAME-file), that declares what its Go twin declares and, run, gives the same
// verdict, service and decisive defense. With -short only the
// declarations are compared. The bridge family's twins run real programs
// (skipped where missing, unless CI=true).
func TestFileCatalogTwins(t *testing.T) {
	twins := catalogTwins()
	paths, err := filepath.Glob(filepath.Join("examples", "catalog", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, path := range paths {
		name := filepath.Base(filepath.Dir(path)) + "/" + strings.TrimSuffix(filepath.Base(path), ".yaml")
		seen[name] = true
		twin, ok := twins[name]
		if !ok {
			t.Errorf("%s: no catalog scenario %s", path, name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			compareDeclarations(t, s, twin)
			if testing.Short() {
				return
			}
			requireTools(t, twin)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			got := lab.Runner{Seed: 1}.Run(ctx, s)
			want := lab.Runner{Seed: 1}.Run(ctx, twin)
			if got.Err != nil || want.Err != nil {
				t.Fatalf("file run error %v, twin run error %v\nfile evidence:\n%s", got.Err, want.Err, strings.Join(got.Evidence, "\n"))
			}
			if got.Verdict != want.Verdict || got.Service != want.Service || decisive(got) != decisive(want) {
				t.Errorf("file: %s, service %s, decisive %q; twin: %s, service %s, decisive %q\nfile evidence:\n%s",
					got.Verdict, got.Service, decisive(got), want.Verdict, want.Service, decisive(want), strings.Join(got.Evidence, "\n"))
			}
			t.Logf("file %s/%s/%q twin %s/%s/%q in %v", got.Verdict, got.Service, decisive(got), want.Verdict, want.Service, decisive(want), got.Duration)
			if !got.OK {
				t.Errorf("file result %s does not match its expectation %s", got.Outcome(), got.ExpectedOutcome())
			}
		})
	}
	for name := range twins {
		if !seen[name] {
			t.Errorf("catalog scenario %s has no file examples/catalog/%s.yaml", name, name)
		}
	}
}

// decisive is a held result's decisive defense, "" otherwise.
func decisive(r lab.Result) string {
	if len(r.StoppedBy) == 0 {
		return ""
	}
	return r.StoppedBy[0]
}

// compareDeclarations checks that the file declares what its twin does:
// catalog entry, expectation, defenses, attacker text and topology.
func compareDeclarations(t *testing.T, s, twin lab.Scenario) {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	// A file may not reuse a catalog name (tlslab refuses the clash), so
	// the twin is named after it with -file.
	if s.Name != twin.Name+"-file" || s.Summary != twin.Summary || s.Story != twin.Story || !slices.Equal(s.Labels, twin.Labels) {
		t.Errorf("entry %q %q %v\nwant %q %q %v", s.Name, s.Summary, s.Labels, twin.Name+"-file", twin.Summary, twin.Labels)
	}
	if s.Expected != twin.Expected || s.StoppedBy != twin.StoppedBy {
		t.Errorf("expected %s (%s), want %s (%s)", s.Expected, s.StoppedBy, twin.Expected, twin.StoppedBy)
	}
	if got, want := s.DefensesFor().Diff(lab.Hardened()), twin.DefensesFor().Diff(lab.Hardened()); !slices.Equal(got, want) {
		t.Errorf("defenses %q, want %q", got, want)
	}
	if s.RealPeers != twin.RealPeers || !slices.Equal(s.Requires, twin.Requires) {
		t.Errorf("RealPeers %v, Requires %q; want %v, %q", s.RealPeers, s.Requires, twin.RealPeers, twin.Requires)
	}
	if catalogTextDiffers[twin.Name] {
		return
	}
	if s.Attacker != twin.Attacker {
		t.Errorf("Attacker\n got %q\nwant %q", s.Attacker, twin.Attacker)
	}
	if !reflect.DeepEqual(s.Topology, twin.Topology) {
		t.Errorf("Topology\n got %#v\nwant %#v", s.Topology, twin.Topology)
	}
}

// Labels a catalog file leaves out are derived from its attack as the
// catalog would list them.
func TestFileCatalogDerivedLabels(t *testing.T) {
	twins := catalogTwins()
	paths, err := filepath.Glob(filepath.Join("examples", "catalog", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		name := filepath.Base(filepath.Dir(path)) + "/" + strings.TrimSuffix(filepath.Base(path), ".yaml")
		twin, ok := twins[name]
		if !ok || strings.HasPrefix(name, "mitm/") || strings.HasPrefix(name, "dns/") && !strings.Contains(name, "federation") || strings.HasPrefix(name, "bridge/") {
			continue // the MITM and DNS forms derive labels by their own rule (TestFileSameAsCatalog); the bridge family lists its base's
		}
		data := readWithoutLabels(t, path)
		s, err := ParseFile(path, data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !sameSet(s.Labels, twin.Labels) {
			t.Errorf("%s: derived labels %v, catalog lists %v", name, s.Labels, twin.Labels)
		}
	}
}

// readWithoutLabels returns the file at path without its labels: line.
func readWithoutLabels(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "labels:") {
			kept = append(kept, l)
		}
	}
	return []byte(strings.Join(kept, "\n"))
}

func sameSet(a, b []lab.Label) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// A file's impair: applies to every family: each catalog file, delayed
// on every link, still runs to its expected outcome and reports the
// impairment it ran under.
func TestFileCatalogImpair(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every catalog file")
	}
	paths, err := filepath.Glob(filepath.Join("examples", "catalog", "*", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("catalog files: %v, %d", err, len(paths))
	}
	for _, path := range paths {
		if strings.Contains(path, "/bridge/") {
			continue // the same attacks as their bases, with real programs
		}
		t.Run(strings.TrimSuffix(path[len("examples/catalog/"):], ".yaml"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := ParseFile(path, append(data, "impair: \"delay=3ms\"\n"...))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res := lab.Runner{Seed: 2}.Run(ctx, s)
			if res.Impair != "delay=3ms" || !res.OK {
				t.Errorf("impair %q, outcome %s (expected %s), err %v; want delay=3ms and the expected outcome\nevidence:\n%s",
					res.Impair, res.Outcome(), res.ExpectedOutcome(), res.Err, strings.Join(res.Evidence, "\n"))
			}
		})
	}
}

// familyExampleReasons is, per example of examples/families, the exact
// evidence its run must carry: fragments that one evidence line holds
// together (a serial number or a time stands between them).
var familyExampleReasons = map[string][]string{
	"insider-edge01-list-off.yaml": {"fabrikam-fe01: accepted an injected message: MESSAGE from alice@contoso.com to carol@fabrikam.com carrying mallory's canary"},
	"insider-fe01-serverauth-only.yaml": {"fe01: tls: failed to verify certificate: x509: certificate specifies an incompatible key usage, " +
		"in the inbound handshake from 10.0.0.99 on the mtls listener"},
	"tap-fe02-stolen-rsa.yaml":              {"mallory: decrypted 10.0.0.11:", "-> 10.0.0.12:5062 with fe02's stolen key: TLS 1.2 TLS_RSA_WITH_AES_128_GCM_SHA256"},
	"mitm-stolen-fe01-revoked-by-host.yaml": {`alice: pki: certificate "fe01.contoso.com" (serial `, "reason keyCompromise (OCSP http://pki.contoso.com/ocsp), in the TLS handshake with pool01.contoso.com (10.0.0.11:5061)"},
	"dns-on-path-trusted-attacker-ca.yaml":  {`alice: revocation: OCSP http://10.0.0.66/ocsp: "pool01.contoso.com" (serial `, ") good"},
	"mitm-alice-soft-fail-blocked.yaml":     {`alice: revocation: "pool01.contoso.com" (serial `, ") unavailable, soft-fail accepted: OCSP http://pki.contoso.com/ocsp"},
	"dns-on-path-alice-revocation-off.yaml": {`alice: accepted the attacker as "pool01.contoso.com": mallory's machine 10.0.0.66:5061 completed the TLS handshake with certificate CN=pool01.contoso.com issued by CN=Contoso Issuing CA 01,O=Contoso`},
	"rogue-dns-trusted-ca-revoked.yaml":     {`alice: pki: certificate "pool01.contoso.com" (serial `, "reason keyCompromise (OCSP http://10.0.0.66/ocsp), in the TLS handshake with pool01.contoso.com (10.0.0.66:5061)"},
}

// The family examples (what the catalog does not cover: other MTLS
// targets, other stolen keys, revocation by the topology) run to their
// expected verdict with their exact evidence.
func TestFileFamilyExamples(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("examples", "families", "*.yaml"))
	if err != nil || len(paths) != len(familyExampleReasons) {
		t.Fatalf("family examples: %v, %d files for %d reasons", err, len(paths), len(familyExampleReasons))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			reason, ok := familyExampleReasons[filepath.Base(path)]
			if !ok {
				t.Fatalf("no expected reason for %s", path)
			}
			s, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res := lab.Runner{}.Run(t.Context(), s)
			if res.Err != nil || !res.OK {
				t.Fatalf("outcome %s, expected %s, err %v\nevidence:\n%s", res.Outcome(), res.ExpectedOutcome(), res.Err, strings.Join(res.Evidence, "\n"))
			}
			holds := func(l string) bool {
				return !slices.ContainsFunc(reason, func(f string) bool { return !strings.Contains(l, f) })
			}
			if !slices.ContainsFunc(res.Evidence, holds) {
				t.Errorf("no evidence line contains all of %q\nevidence:\n%s", reason, strings.Join(res.Evidence, "\n"))
			}
		})
	}
}

// hosts: changes reach the declared topology (what show prints) and the
// built one: fe01's certificate issued with an RSA key and alice checking
// revocation soft-fail, in a MITM file whose mallory presents fe01's
// stolen certificate.
func TestFileHostChanges(t *testing.T) {
	data := []byte(`name: training/rsa-fe01
summary: x
hosts:
  fe01: {key: rsa-2048}
  alice: {revocation: soft-fail}
  edge01: {key: rsa-2048, trust_remove: [fabrikam-root]}
attacker:
  position: arp
  certificate: {source: stolen, from: fe01}
expected: broken
`)
	s, err := ParseFile("rsa-fe01.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	desc := s.Topology.Describe(lab.Hardened())
	keys := map[string]string{}
	for _, c := range desc.Certificates {
		keys[c.Holder] = c.Key
	}
	for holder, want := range map[string]string{"fe01": "RSA 2048", "edge01": "RSA 2048", "edge01-external": "RSA 2048", "fe02": "ECDSA P-256"} {
		if keys[holder] != want {
			t.Errorf("%s's certificate key %q, want %q", holder, keys[holder], want)
		}
	}
	for _, want := range []string{
		"revocation checking on alice: soft-fail, whatever the revocation defense says",
		"contoso's Edge imports Fabrikam Root CA: no",
	} {
		if !slices.Contains(desc.Options, want) {
			t.Errorf("options %q lack %q", desc.Options, want)
		}
	}
	res := lab.Runner{}.Run(t.Context(), s)
	if !res.OK || res.Verdict != lab.Broken {
		t.Fatalf("outcome %s, err %v", res.Outcome(), res.Err)
	}
	const accepted = `alice: accepted the attacker as "pool01.contoso.com": completed the TLS 1.3 handshake with mallory, certificate CN=fe01.contoso.com,O=Contoso`
	if !slices.Contains(res.Evidence, accepted+" issued by CN=Contoso Issuing CA 01,O=Contoso") {
		t.Errorf("no evidence line %q\nevidence:\n%s", accepted, strings.Join(res.Evidence, "\n"))
	}
}
