package pki_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/netsim"
)

// TestRevocationFetchesInTshark captures a CRL download and an OCSP query
// served inside the simulation and has tshark, an analyser nobody here
// wrote, decode them: the HTTP GET of the CRL and its application/pkix-crl
// answer, and the OCSP request and response, with no malformed packets.
// Without tshark it is skipped, except in CI (CI=true), where it fails.
func TestRevocationFetchesInTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed; .ci/run installs it")
		}
		t.Skip("tshark not installed")
	}
	h := newHierarchy(t, hierarchyConfig{})
	leaf := h.issue(t, pki.CertRequest{})
	rs, err := pki.NewRevocationServer(h.root, h.issuing)
	if err != nil {
		t.Fatal(err)
	}
	n := newNetwork(t)
	file := filepath.Join(t.TempDir(), "revocation.pcapng")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	capture, err := netsim.NewCapture(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := capture.AttachSegment(n.lan); err != nil {
		t.Fatal(err)
	}
	n.serveHTTP(t, rs)
	tr := &http.Transport{DialContext: n.dialer(n.alice)}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}

	resp, err := client.Get(h.issuing.CRLURL())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	req, err := ocsp.CreateRequest(leaf.Leaf, h.issuing.Certificate(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = client.Post(h.issuing.OCSPURL(), pki.ContentTypeOCSPRequest, bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	tr.CloseIdleConnections()
	if err := capture.Close(); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) string {
		t.Helper()
		var stderr bytes.Buffer
		cmd := exec.Command(tshark, append([]string{"-r", file}, args...)...)
		cmd.Stderr = &stderr // tshark warns about running as root there
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return string(out)
	}
	if got := run("-Y", `http.request.method == "GET"`, "-T", "fields", "-e", "http.request.uri"); strings.TrimSpace(got) != "/crl/contoso-issuing.crl" {
		t.Errorf("CRL request URIs = %q, want /crl/contoso-issuing.crl", got)
	}
	if got := run("-Y", "http.response", "-T", "fields", "-e", "http.content_type"); !strings.Contains(got, pki.ContentTypeCRL) || !strings.Contains(got, pki.ContentTypeOCSPResponse) {
		t.Errorf("HTTP response content types = %q, want a CRL and an OCSP response", got)
	}
	if got := run("-Y", "ocsp", "-T", "fields", "-e", "frame.number"); len(strings.Fields(got)) != 2 {
		t.Errorf("OCSP frames = %q, want the request and the response", got)
	}
	expert := run("-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-q", "-z", "expert")
	for _, bad := range []string{"Malformed", "Bad checksum", "checksum is incorrect"} {
		if strings.Contains(expert, bad) {
			t.Errorf("tshark expert info mentions %q:\n%s", bad, expert)
		}
	}
}
