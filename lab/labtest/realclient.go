package labtest

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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
	br, err := h.nh.BridgeIn("127.0.0.1:0", netip.AddrPortFrom(server.Addr(), port))
	if err != nil {
		h.w.t.Fatalf("labtest: %s's real client: %v", h.name, err)
	}
	defer br.Close()
	dir, err := os.MkdirTemp("", "labtest-realclient-")
	if err != nil {
		h.w.t.Fatalf("labtest: %s's real client: %v", h.name, err)
	}
	defer os.RemoveAll(dir)
	values := map[string]string{"sni": server.FQDN(), "canary": h.w.Canary(h.name).Token}
	loop, err := netip.ParseAddrPort(br.Addr().String())
	if err != nil {
		h.w.t.Fatalf("labtest: %s's real client: bridge address %v: %v", h.name, br.Addr(), err)
	}
	values["addr"], values["host"], values["port"] = loop.String(), loop.Addr().String(), strconv.Itoa(int(loop.Port()))
	values["ca"] = filepath.Join(dir, "ca.pem")
	values["crl"] = filepath.Join(dir, "crl.pem")
	crl, err := trusted.ca.CRL()
	if err == nil {
		err = os.WriteFile(values["ca"], pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: trusted.ca.Certificate().Raw}), 0o600)
	}
	if err == nil {
		err = os.WriteFile(values["crl"], pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}), 0o600)
	}
	if err != nil {
		h.w.t.Fatalf("labtest: %s's real client: %v", h.name, err)
	}
	cmd, err := tmpl.Expand(values)
	if err != nil {
		h.w.t.Fatalf("labtest: %s's real client: %v", h.name, err)
	}
	ctx, cancel := context.WithTimeout(h.w.ctx, realClientTimeout)
	defer cancel()
	res := realpeer.Run(ctx, cmd, dir)
	if res.Err != nil && !res.Stopped {
		h.w.t.Fatalf("labtest: %s's real client: %v", h.name, res.Err)
	}
	h.w.ev.Notef(h.name, "real client %s: %s; it said: %s", programName(cmd), exitText(res), lastLine(res.Output))
	if d, ok := diagnose(programName(cmd), res.Output); ok && res.ExitCode != 0 {
		h.w.mu.Lock()
		if h.w.diagnoses == nil {
			h.w.diagnoses = map[string]diagnosis{}
		}
		h.w.diagnoses[h.name] = d
		h.w.mu.Unlock()
	}
	h.w.logf("labtest: %s ran %s (%s):\n%s", h.name, cmd, exitText(res), res.Output)
	return res
}

// programName is the first word of a command line.
func programName(cmd string) string {
	if f := strings.Fields(cmd); len(f) > 0 {
		return filepath.Base(f[0])
	}
	return cmd
}

func exitText(r realpeer.Result) string {
	if r.Stopped {
		return "killed after " + r.Duration.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("exit status %d", r.ExitCode)
}

// lastLine is the last non-empty line of out, at most 200 bytes.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 200 {
		l = l[:200] + "..."
	}
	if l == "" {
		return "nothing"
	}
	return l
}

// diagnosis is the check a real client program said refused the peer.
type diagnosis struct {
	defense, program, line string
}

// diagnosisPatterns map what real clients print about a refused
// certificate to the defense that refused: OpenSSL s_client's verify
// error numbers (X509_V_ERR_*) and GnuTLS gnutls-cli's verification
// status texts. Measured against OpenSSL 3.0 and GnuTLS 3.7 in
// TestRealClientsUnderMITM.
var diagnosisPatterns = []struct {
	re      *regexp.Regexp
	defense string
}{
	{regexp.MustCompile(`verify error:num=62:.*`), lab.DefenseHostnameCheck},
	{regexp.MustCompile(`verify error:num=(9|10):.*`), lab.DefenseValidityCheck},
	{regexp.MustCompile(`verify error:num=(3|12|23):.*`), lab.DefenseRevocation},
	{regexp.MustCompile(`verify error:num=(2|7|18|19|20|21|26):.*`), lab.DefenseChainValidation},
	{regexp.MustCompile(`The certificate is NOT trusted\..*does not match the expected.*`), lab.DefenseHostnameCheck},
	{regexp.MustCompile(`The certificate is NOT trusted\..*revoked.*`), lab.DefenseRevocation},
	{regexp.MustCompile(`The certificate is NOT trusted\..*(expired|not yet (valid|activated)).*`), lab.DefenseValidityCheck},
	{regexp.MustCompile(`The certificate is NOT trusted\..*(issuer is unknown|intended purpose|not signed by a CA|insecure).*`), lab.DefenseChainValidation},
}

// diagnose returns the first refusal out names, if any.
func diagnose(program string, out []byte) (diagnosis, bool) {
	for _, p := range diagnosisPatterns {
		if m := p.re.Find(out); m != nil {
			return diagnosis{defense: p.defense, program: program, line: strings.TrimSpace(string(m))}, true
		}
	}
	return diagnosis{}, false
}

// diagnosis returns what host's real client said refused its peer.
func (w *World) diagnosis(host string) (diagnosis, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.diagnoses[host]
	return d, ok
}
