package labtest

import (
	"context"
	"crypto/x509"
	"net/netip"
	"os"
	"time"

	"github.com/tlslab/tlslab/actors/realpeer"
	"github.com/tlslab/tlslab/lab"
)

// realClientTimeout bounds a real client program's run.
const realClientTimeout = 20 * time.Second

// RealClient runs a real program (openssl s_client, gnutls-cli, curl ...)
// as a client on h, from a realpeer command template, and returns what it
// did once it exits (or is killed after 20 s). A netsim loopback bridge
// carries the program's connections into the World as h's connections to
// server's port, so attacks on h's path (MITM) meet them. The template's
// values are:
//
//   - {addr}, {host}, {port}: the bridge's loopback address, to connect to;
//   - {sni}: server's name in the World ("api.lan");
//   - {ca}: a PEM file of trusted's root certificate;
//   - {crl}: a PEM file of trusted's current CRL;
//   - {canary}: a new canary of h's, for the program to send.
//
// For example:
//
//	client.RealClient(`openssl s_client -connect {addr} -servername {sni} -CAfile {ca} -verify_return_error -quiet <<< {canary}`, api, 443, ca)
//
// The program's exit status and last line of output are recorded as
// evidence (never as the verdict), and its output is logged. A real
// client's refusal is seen in the TLS alert it sends the attacker and
// credited to the defense the alert names (lab.ClassifyAlert); when the
// alert names none (bad_certificate, as GnuTLS sends for every refusal),
// to the one the program's own diagnostic names (OpenSSL's verify error,
// GnuTLS's verification status). A template that does not parse, or a
// program that cannot start, fails the test.
func (h *Host) RealClient(template string, server *Host, port uint16, trusted *CA) realpeer.Result {
	h.w.t.Helper()
	tmpl, err := realpeer.Parse(template)
	if err != nil {
		h.w.t.Fatalf("labtest: %s's real client: %v", h.name, err)
	}
	dir, err := os.MkdirTemp("", "labtest-realclient-")
	if err != nil {
		h.w.t.Fatalf("labtest: %s's real client: %v", h.name, err)
	}
	defer os.RemoveAll(dir)
	crl, err := trusted.ca.CRL()
	if err != nil {
		h.w.t.Fatalf("labtest: %s's real client: %v", h.name, err)
	}
	client := realpeer.Client{Host: h.nh, Server: netip.AddrPortFrom(server.Addr(), port), ServerName: server.FQDN(),
		Trust: []*x509.Certificate{trusted.ca.Certificate()}, CRLs: [][]byte{crl}, Canary: h.w.Canary(h.name).Token, Dir: dir}
	ctx, cancel := context.WithTimeout(h.w.ctx, realClientTimeout)
	defer cancel()
	res, err := client.Run(ctx, tmpl)
	if err != nil {
		h.w.t.Fatalf("labtest: %s's real client: %v", h.name, err)
	}
	h.w.ev.Notef(h.name, "real client %s: %s; it said: %s", res.Program(), res.Status(), res.LastLine())
	if d, ok := lab.DiagnoseProgram(res.Output); ok && res.ExitCode != 0 {
		h.w.mu.Lock()
		if h.w.diagnoses == nil {
			h.w.diagnoses = map[string]diagnosis{}
		}
		h.w.diagnoses[h.name] = diagnosis{ProgramDiagnosis: d, program: res.Program()}
		h.w.mu.Unlock()
	}
	h.w.logf("labtest: %s ran %s (%s):\n%s", h.name, res.Command, res.Status(), res.Output)
	return res
}

// diagnosis is what a real client program said refused its peer.
type diagnosis struct {
	lab.ProgramDiagnosis
	program string
}

// diagnosis returns what host's real client said refused its peer.
func (w *World) diagnosis(host string) (diagnosis, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.diagnoses[host]
	return d, ok
}
