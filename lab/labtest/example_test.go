package labtest_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/labtest"
)

// A scenario of your own: mallory ARP-spoofs her way between a client and
// an HTTPS API and presents a valid certificate for her own name from the
// CA the client trusts. crypto/tls's hostname check refuses it, so the
// lab's Runner judges the run held by hostname-check.
func ExampleScenario() {
	hello := http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, "hello") })
	s := labtest.Scenario(lab.Scenario{Name: "api/mitm-other-name", Attacker: "mallory, ARP spoofing on lan",
		Expected: lab.Held, StoppedBy: lab.DefenseHostnameCheck}, func(w *labtest.World) {
		client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
		api.ServeHTTP(443, ca.ServerConfig("api.lan"), hello)
		w.MITM(client, api, 443, labtest.ByARP(), labtest.Presenting(ca.OtherName("mallory.lan")))
		_, _ = client.HTTPClient(&tls.Config{RootCAs: ca.Pool()}).Get("https://api.lan/?" + w.Canary("client").String())
	})
	r := lab.Runner{Seed: 1}.Run(context.Background(), s)
	fmt.Println(r.Verdict, r.StoppedBy, r.OK)
	fmt.Println(r.Refusals[0].Line)
	// Output:
	// held [hostname-check] true
	// client: refused api.lan:443: tls: failed to verify certificate: x509: certificate is valid for mallory.lan, not api.lan
}

// The same client with a tls.Config that skips verification gives the
// attacker the request, canary and all: broken, where the scenario
// expected held (r.OK is false).
func ExampleScenario_broken() {
	s := labtest.Scenario(lab.Scenario{Name: "api/mitm-insecure", Attacker: "mallory, ARP spoofing on lan",
		Expected: lab.Held}, func(w *labtest.World) {
		client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
		api.ServeHTTP(443, ca.ServerConfig("api.lan"), http.NotFoundHandler())
		w.MITM(client, api, 443, labtest.Presenting(w.SelfSigned("api.lan")))
		_, _ = client.HTTPClient(&tls.Config{InsecureSkipVerify: true}).Get("https://api.lan/?" + w.Canary("client").String())
	})
	r := lab.Runner{Seed: 1}.Run(context.Background(), s)
	fmt.Println(r.Verdict, r.OK)
	for _, c := range r.Compromises {
		fmt.Println(c.Kind, c.Actor)
	}
	// Output:
	// broken false
	// identity client
	// canary mallory
}

// Forgeries lists the certificate cases a client must refuse by itself,
// each with the defense its refusal is classified as.
func ExampleForgeries() {
	for _, f := range labtest.Forgeries() {
		fmt.Printf("%-13s %s\n", f.Name, f.StoppedBy)
	}
	// Output:
	// other-name    hostname-check
	// self-signed   chain-validation
	// own-ca        chain-validation
	// expired       validity-check
	// not-yet-valid validity-check
	// wrong-eku     chain-validation
}
