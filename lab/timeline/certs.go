package timeline

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/tlslab/tlslab/lab"
)

// certCheck is one certificate check a TLSPolicy config made, as its
// VerifyConnection saw it. VerifyConnection runs when crypto/tls accepted
// the certificate or left the checks to the lab (a switch is off).
type certCheck struct {
	at         time.Time
	byServer   bool   // the server checked (a client certificate); a guess for MTLS configs
	serverName string // the SNI of the handshake
	certs      []*x509.Certificate
	err        error  // nil: accepted
	random     []byte // the client random the config's key log wrote last; a hint
	matched    bool   // it judged a certificate seen on the wire
}

// certPresented is a Certificate message seen on the wire (in the clear,
// or decrypted), with what the receiving side made of it.
type certPresented struct {
	at        time.Time
	conn      *tcpConn
	dir       int // 1: the server's certificate, 0: the client's
	certs     []*x509.Certificate
	check     *certCheck // the receiver's VerifyConnection on it, if any
	alert     uint8      // the fatal alert the receiver sent instead of going on; 0: none
	continued bool       // the receiver went on with the handshake
}

// verdict is the receiving side's verdict, "" when unknown.
func (p *certPresented) verdict() string {
	switch {
	case p.check != nil:
		return verdictOf(p.check.err)
	case p.alert != 0:
		return "refused: alert " + alertName(p.alert)
	case p.continued:
		return "accepted (handshake continued)"
	}
	return ""
}

// presented reports certs, presented by the direction's sender, as an
// event on the host they were presented to.
func (w wireCtx) presented(certs []*x509.Certificate) {
	c := w.c
	p := &certPresented{at: w.at, conn: c, dir: w.dir, certs: certs}
	w.r.presented = append(w.r.presented, p)
	// The receiver: the host that sent the SYN, or the one that answered it.
	mac, ip := c.clientMAC, c.client.Addr()
	what := "certificate"
	if w.dir == 0 {
		mac, ip = c.serverMAC, c.server.Addr()
		what = "client certificate"
	}
	from, sender := w.from, w.src
	w.r.add("", &wireEvent{at: w.at, order: w.order, srcMAC: mac, srcIP: ip, peerMAC: sender, peerIP: from.Addr(), kind: Certificate, text: func(n *namer) string {
		text := what + " presented by " + presenter(n, from, sender)
		if c.tls.sni != "" {
			text += " for " + c.tls.sni
		}
		text += ": " + describeChain(p.certs)
		if v := p.verdict(); v != "" {
			text += ": " + v
		}
		return text
	}})
}

// CertificateChecked records a TLSPolicy config's decision (Observer).
func (r *recorder) CertificateChecked(c lab.CertificateCheck) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, certCheck{at: c.At, byServer: c.ByServer, serverName: c.ServerName, certs: c.Chain, err: c.Err, random: c.ClientRandom})
}

// KeyLogged takes the run's key log lines (Observer), to decrypt TLS 1.3
// handshakes with.
func (r *recorder) KeyLogged(lines []byte) { r.keyLog(lines) }

// judge gives each certificate seen on the wire the check that judged it:
// a check of the same leaf for the same server name, made after it was
// presented; the one on the connection of the client random the checking
// config logged last if there is one (in TLS 1.3, that handshake's), else
// the latest. A check that accepted never goes to a certificate its
// receiver refused with an alert. Called with r.mu held.
func (r *recorder) judge() {
	for i := range r.checks {
		c := &r.checks[i]
		if c.matched || len(c.certs) == 0 {
			continue
		}
		fits := func(p *certPresented) bool {
			return p.check == nil && !p.at.After(c.at) && p.conn.tls.sni == c.serverName &&
				bytes.Equal(p.certs[0].Raw, c.certs[0].Raw) && (c.err != nil || p.alert == 0)
		}
		var found *certPresented
		for _, p := range r.presented {
			if len(c.random) > 0 && bytes.Equal(p.conn.tls.random, c.random) && fits(p) {
				found = p
				break
			}
		}
		for i := len(r.presented) - 1; found == nil && i >= 0; i-- {
			if fits(r.presented[i]) {
				found = r.presented[i]
			}
		}
		if found != nil {
			found.check, c.matched = c, true
		}
	}
}

// certificateEvents turns the checks no certificate on the wire matched
// (none was captured, or the session was resumed) into events on the
// verifying host. Called with r.mu held, after judge.
func (r *recorder) certificateEvents(n *namer) []Event {
	var events []Event
	for _, c := range r.checks {
		if c.matched {
			continue
		}
		h := r.matchHello(c)
		var host, by string
		if h != nil {
			client, server := h.conn.client, h.conn.server
			if !c.byServer {
				host = n.host(h.conn.clientMAC, client.Addr())
				by = presenter(n, server, h.conn.serverMAC)
			} else {
				host = n.host(h.conn.serverMAC, server.Addr())
				by = presenter(n, client, h.conn.clientMAC)
			}
		}
		what := "certificate"
		if c.byServer {
			what = "client certificate"
		}
		text := what + " presented"
		if by != "" {
			text += " by " + by
		}
		if c.serverName != "" {
			text += " for " + c.serverName
		}
		text += ": " + describeChain(c.certs) + ": " + verdictOf(c.err)
		events = append(events, Event{At: c.at.Sub(r.t0), Host: host, Kind: Certificate, Text: text})
	}
	return events
}

// side indexes helloSeen.claimed: 0 for a client's check, 1 for a server's.
func (c certCheck) side() int {
	if c.byServer {
		return 1
	}
	return 0
}

// matchHello finds the ClientHello of the handshake c was made in: the one
// with the client random the config logged, if it names the same server
// and was not claimed by another check in the same role; else the latest
// such ClientHello before the check.
func (r *recorder) matchHello(c certCheck) *helloSeen {
	fits := func(h *helloSeen) bool {
		return h.sni == c.serverName && !h.at.After(c.at) && !h.claimed[c.side()]
	}
	var found *helloSeen
	if len(c.random) > 0 {
		for _, h := range r.hellos {
			if bytes.Equal(h.random, c.random) && fits(h) {
				found = h
				break
			}
		}
	}
	for i := len(r.hellos) - 1; found == nil && i >= 0; i-- {
		if fits(r.hellos[i]) {
			found = r.hellos[i]
		}
	}
	if found != nil {
		found.claimed[c.side()] = true
	}
	return found
}

// presenter is "10.0.0.11:5061 (mallory)": the address, and the host that
// answered from it when known, else the one holding it.
func presenter(n *namer, ap netip.AddrPort, mac net.HardwareAddr) string {
	name := n.macHost(mac)
	if name == "" {
		name = n.ipHost(ap.Addr())
	}
	if name == "" {
		return ap.String()
	}
	return fmt.Sprintf("%v (%s)", ap, name)
}

// verdictOf is "accepted" or "refused: <the x509 or revocation error>".
func verdictOf(err error) string {
	if err == nil {
		return "accepted"
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) && cve.Err != nil {
		err = cve.Err
	}
	return "refused: " + err.Error()
}
