package labtest

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tlslab/tlslab/actors/realpeer"
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
// client's refusal is read from the TLS alert it sends the attacker; a
// template that does not parse, or a program that cannot start, fails
// the test.
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
