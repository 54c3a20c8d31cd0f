package scenarios

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/lab"
)

// featureReasons is, per example of the certificate, offer and distrust
// features (examples/certs, examples/offer, examples/distrust), the exact
// text its evidence must carry: the defense's refusal, or what alice
// accepted.
var featureReasons = map[string]string{
	"certs/sha1-signature.yaml": `alice: tls: failed to verify certificate: x509: certificate signed by unknown authority ` +
		`(possibly because of "x509: cannot verify signature: insecure algorithm ECDSA-SHA1" while trying to verify candidate authority certificate "Contoso Issuing CA 01")`,
	"certs/ed25519-mis-issued.yaml": `(certificate for pool01.contoso.com mis-issued by Contoso Issuing CA 01, Ed25519 key); alice completed TLS 1.3`,
	"certs/p521-sha512.yaml":        `(certificate for pool01.contoso.com mis-issued by Contoso Issuing CA 01, ECDSA P-521 key, signed with SHA-512); alice completed TLS 1.3`,
	"certs/cn-only.yaml":            `alice: tls: failed to verify certificate: x509: certificate relies on legacy Common Name field, use SANs instead`,
	"certs/empty-subject.yaml": `alice: accepted the attacker as "pool01.contoso.com": completed the TLS 1.3 handshake with mallory, ` +
		`certificate (empty subject) issued by CN=Contoso Issuing CA 01,O=Contoso`,
	"certs/wildcard-idn-many-names.yaml": `(certificate for *.contoso.com, xn--bcher-kva.contoso.com, contoso.com, www.contoso.com, mail.contoso.com, ` +
		`vpn.contoso.com, sip.contoso.com, lyncdiscover.contoso.com, meet.contoso.com, dialin.contoso.com, autodiscover.contoso.com, owa.contoso.com, ` +
		`teams.contoso.com mis-issued by Contoso Issuing CA 01, common name contoso wildcard); alice completed TLS 1.3`,
	"certs/missing-intermediate.yaml": `alice: tls: failed to verify certificate: x509: certificate signed by unknown authority, in the TLS handshake`,
	"certs/with-root.yaml":            `(certificate for pool01.contoso.com mis-issued by Contoso Issuing CA 01, presented with its root); alice completed TLS 1.3`,
	"certs/rsa-1024-mis-issued.yaml":  `(certificate for pool01.contoso.com mis-issued by Contoso Issuing CA 01, RSA 1024 key); alice completed TLS 1.3`,
	"certs/leaf-only.yaml":            `alice: tls: failed to verify certificate: x509: certificate signed by unknown authority, in the TLS handshake`,
	"certs/reversed-chain.yaml":       `alice: tls: failed to verify certificate: x509: certificate is not valid for any names, but wanted to match pool01.contoso.com`,
	"certs/extra-unrelated.yaml":      `(certificate for pool01.contoso.com mis-issued by Contoso Issuing CA 01, chain presented with two unrelated certificates appended); alice completed TLS 1.3`,
	"certs/name-constrained-ca.yaml": `alice: tls: failed to verify certificate: x509: a root or intermediate certificate is not authorized to sign for this name: ` +
		`DNS name "pool01.contoso.com" is not permitted by any constraint`,
	"certs/leaf-claims-ca.yaml": `(certificate for pool01.contoso.com mis-issued by Contoso Issuing CA 01, basic constraints cA TRUE, key usage keyCertSign); alice completed TLS 1.3`,
	"offer/static-rsa-refused.yaml": `alice: tls: server chose an unconfigured cipher suite, in the TLS handshake with pool01.contoso.com (10.0.0.11:5061); ` +
		`plaintext fallback is off (mallory chose TLS_RSA_WITH_AES_128_CBC_SHA)`,
	"offer/static-rsa-allowed.yaml": `over TLS 1.2 TLS_RSA_WITH_AES_128_CBC_SHA, server certificate CN=pool01.contoso.com issued by CN=Contoso Issuing CA 01,O=Contoso`,
	"offer/tls10-3des-refused.yaml": `alice: tls: server selected unsupported protocol version 301, in the TLS handshake with pool01.contoso.com (10.0.0.11:5061)`,
	"offer/tls10-cbc-accepted.yaml": `over TLS 1.1 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, server certificate CN=pool01.contoso.com issued by CN=Contoso Issuing CA 01,O=Contoso`,
	"distrust/installed-distrusted-root.yaml": `alice: tls: failed to verify certificate: lab: certificate chains to "CN=Mallory Root CA,O=Mallory", ` +
		`which is on the enterprise distrust list (disallowed store)`,
	"distrust/distrust-list-off.yaml": `alice: accepted the attacker as "pool01.contoso.com": completed the TLS 1.3 handshake with mallory, ` +
		`certificate CN=pool01.contoso.com issued by CN=Mallory Root CA,O=Mallory`,
	"offer/dns-on-path-static-rsa-refused.yaml": `alice: tls: server chose an unconfigured cipher suite, in the TLS handshake with pool01.contoso.com (10.0.0.66:5061) ` +
		`(mallory chose TLS_RSA_WITH_AES_128_GCM_SHA256)`,
	"distrust/rogue-dns-distrusted-root.yaml": `alice: tls: failed to verify certificate: lab: certificate chains to "CN=Mallory Root CA,O=Mallory", ` +
		`which is on the enterprise distrust list (disallowed store), in the TLS handshake with pool01.contoso.com (10.0.0.66:5061)`,
	"distrust/compromised-issuing-ca.yaml": `alice: tls: failed to verify certificate: lab: certificate chains to "CN=Contoso Issuing CA 01,O=Contoso", ` +
		`which is on the enterprise distrust list (disallowed store)`,
}

// Every feature example loads and runs to its expected verdict (and
// decisive defense) for its exact reason.
func TestFileFeatureExamples(t *testing.T) {
	var paths []string
	for _, dir := range []string{"certs", "offer", "distrust"} {
		p, err := filepath.Glob(filepath.Join("examples", dir, "*.yaml"))
		if err != nil || len(p) < 3 {
			t.Fatalf("examples/%s: %v, %d files", dir, err, len(p))
		}
		paths = append(paths, p...)
	}
	for _, path := range paths {
		key := filepath.Join(filepath.Base(filepath.Dir(path)), filepath.Base(path))
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			reason, ok := featureReasons[key]
			if !ok {
				t.Errorf("no expected reason for %s in featureReasons", key)
			}
			s, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res := lab.Runner{}.Run(ctx, s)
			evidence := strings.Join(res.Evidence, "\n")
			if res.Err != nil {
				t.Fatalf("run: %v\nevidence:\n%s", res.Err, evidence)
			}
			if res.Verdict != s.Expected || !res.OK {
				t.Errorf("verdict %s, expected %s\nevidence:\n%s", res.Verdict, s.Expected, evidence)
			}
			if !ok || !slices.ContainsFunc(res.Evidence, func(l string) bool { return strings.Contains(l, reason) }) {
				t.Errorf("no evidence line contains %q\nevidence:\n%s", reason, evidence)
			}
		})
	}
}
