package sip_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/sip"
)

// TestClientWrongServerName: DNS sends alice to mallory, whose certificate
// is valid and trusted but for another name. The handshake fails with
// crypto/tls's own hostname error and nothing is sent.
func TestClientWrongServerName(t *testing.T) {
	tp := newTopo(t)
	d := tp.start(t)
	mallory := startFrontEnd(t, tp.mallory(t))
	tp.clientDNS.setA("pool01.contoso.com", malloryIP)

	res, err := d.client.SendMessage(t.Context(), "bob@contoso.com", canary)
	const want = "sip: alice@contoso.com: no usable SIP server for contoso.com: " +
		"TLS pool01.contoso.com 10.0.0.66:5061: tls: failed to verify certificate: " +
		"x509: certificate is valid for mallory.contoso.com, not pool01.contoso.com (plaintext fallback is off)"
	if err == nil || err.Error() != want {
		t.Fatalf("SendMessage error:\n got %v\nwant %s", err, want)
	}
	var verr *tls.CertificateVerificationError
	var herr x509.HostnameError
	var cerr *sip.ConnectError
	if !errors.As(err, &verr) || !errors.As(err, &herr) || herr.Host != "pool01.contoso.com" || !errors.As(err, &cerr) {
		t.Errorf("error %T does not unwrap to the TLS hostname error", err)
	}
	if res.Registered || res.Sent || len(res.Attempts) != 1 || res.Attempts[0].Target != "pool01.contoso.com" {
		t.Errorf("result %+v", res)
	}
	// mallory saw alice's alert, and nothing else.
	eventually(t, "mallory records alice's alert", func() error {
		return equalReasons(mallory.Rejections(), "mallory: remote error: tls: bad certificate")
	})
	if len(mallory.Registrations()) != 0 || len(mallory.Deliveries()) != 0 {
		t.Errorf("mallory got traffic: %+v %+v", mallory.Registrations(), mallory.Deliveries())
	}
}

// TestClientLookup: _sip._tls first, then _sipinternaltls._tcp, with
// exact errors when neither answers.
func TestClientLookup(t *testing.T) {
	t.Run("sipinternaltls when _sip._tls is missing", func(t *testing.T) {
		tp := newTopo(t)
		d := tp.start(t)
		tp.clientDNS.setSRV("_sip._tls.contoso.com", "", 0)
		tp.clientDNS.setSRV("_sipinternaltls._tcp.contoso.com", "pool01.contoso.com", 5061)
		res := send(t, d, "dave@contoso.com")
		if res.Conn.Record != "_sipinternaltls._tcp.contoso.com" || len(res.Attempts) != 2 || res.Attempts[0].Err == nil {
			t.Errorf("result %+v, want the failed _sip._tls lookup then _sipinternaltls", res)
		}
	})
	t.Run("no record at all", func(t *testing.T) {
		tp := newTopo(t)
		tp.clientDNS.setSRV("_sip._tls.contoso.com", "", 0)
		_, err := newClient(t, tp.client).SendMessage(t.Context(), "dave@contoso.com", canary)
		const want = "sip: alice@contoso.com: no usable SIP server for contoso.com: " +
			"SRV _sip._tls.contoso.com: lookup _sip._tls.contoso.com: no such host; " +
			"SRV _sipinternaltls._tcp.contoso.com: lookup _sipinternaltls._tcp.contoso.com: no such host " +
			"(plaintext fallback is off)"
		if err == nil || err.Error() != want {
			t.Errorf("error:\n got %v\nwant %s", err, want)
		}
	})
}

// TestPlaintextFallback: the client sends SIP in the clear only when
// AllowPlaintextFallback is on, and then only after TLS failed.
func TestPlaintextFallback(t *testing.T) {
	tests := []struct {
		name     string
		fallback bool
		setup    func(t *testing.T, tp *topo)
		wantErr  string // "" means delivered over TCP
	}{{
		name:  "no TLS record, fallback off",
		setup: noTLSRecord,
		wantErr: "sip: alice@contoso.com: no usable SIP server for contoso.com: " +
			"SRV _sip._tls.contoso.com: lookup _sip._tls.contoso.com: no such host; " +
			"SRV _sipinternaltls._tcp.contoso.com: lookup _sipinternaltls._tcp.contoso.com: no such host " +
			"(plaintext fallback is off)",
	}, {
		name:     "no TLS record, fallback on",
		fallback: true,
		setup:    noTLSRecord,
	}, {
		name:  "TLS hijacked, fallback off",
		setup: tlsHijacked,
		wantErr: "sip: alice@contoso.com: no usable SIP server for contoso.com: " +
			"TLS pool01.contoso.com 10.0.0.66:5061: tls: failed to verify certificate: " +
			"x509: certificate is valid for mallory.contoso.com, not pool01.contoso.com (plaintext fallback is off)",
	}, {
		name:     "TLS hijacked, fallback on",
		fallback: true,
		setup:    tlsHijacked,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := newTopo(t)
			tp.fe01.PlainAddr = fe01IP + ":5060"
			tp.client.AllowPlaintextFallback = tt.fallback
			tt.setup(t, tp)
			d := tp.start(t)
			res, err := d.client.SendMessage(t.Context(), "dave@contoso.com", canary)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error:\n got %v\nwant %s", err, tt.wantErr)
				}
				if n := len(d.fe01.Deliveries()); n != 0 {
					t.Errorf("fe01 delivered %d messages with fallback off", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c := res.Conn; c.Transport != sip.TransportTCP || !c.Fallback || c.TLS != nil ||
				c.Record != "_sip._tcp.contoso.com" || c.Addr.String() != fe01IP+":5060" {
				t.Errorf("connection %+v, want plaintext fallback to fe01:5060", c)
			}
			dl := oneDelivery(t, "fe01", d.fe01.Deliveries())
			if dl.Peer.Transport != sip.TransportTCP || dl.Peer.Listener != "plain" || dl.Peer.TLS != nil || dl.Body != canary {
				t.Errorf("delivery %+v, want the canary over plaintext", dl)
			}
			if first := res.Attempts[0]; first.Err == nil {
				t.Errorf("first attempt %v, want the TLS failure that caused the fallback", first)
			}
		})
	}
}

// noTLSRecord leaves only _sip._tcp in alice's DNS.
func noTLSRecord(t *testing.T, tp *topo) {
	tp.clientDNS.setSRV("_sip._tls.contoso.com", "", 0)
	tp.clientDNS.setSRV("_sip._tcp.contoso.com", "pool01.contoso.com", 5060)
}

// tlsHijacked points pool01 at mallory (wrong certificate name) and
// publishes _sip._tcp to fe01's plaintext port.
func tlsHijacked(t *testing.T, tp *topo) {
	startFrontEnd(t, tp.mallory(t))
	tp.clientDNS.setA("pool01.contoso.com", malloryIP)
	tp.clientDNS.setSRV("_sip._tcp.contoso.com", "sip-plain.contoso.com", 5060)
	tp.clientDNS.setA("sip-plain.contoso.com", fe01IP)
}

// TestSessionReuse: one session registers once and sends several messages.
func TestSessionReuse(t *testing.T) {
	tp := newTopo(t)
	d := tp.start(t)
	s, err := d.client.Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The pool takes messages only from the user registered on the connection.
	err = s.Message(t.Context(), "dave@contoso.com", canary)
	const unregistered = "sip: alice@contoso.com: MESSAGE pool01.contoso.com: 403 Forbidden: " +
		"fe01: MESSAGE from alice@contoso.com on a connection that has not registered"
	if err == nil || err.Error() != unregistered {
		t.Errorf("Message before Register: %v, want %s", err, unregistered)
	}
	if err := s.Register(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"dave@contoso.com", "bob@contoso.com", "carol@fabrikam.com"} {
		if err := s.Message(t.Context(), to, canary+" for "+to); err != nil {
			t.Errorf("Message(%s): %v", to, err)
		}
	}
	err = s.Message(t.Context(), "nobody@contoso.com", canary)
	var se *sip.StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 ||
		err.Error() != "sip: alice@contoso.com: MESSAGE pool01.contoso.com: 404 Not Found: fe01: recipient nobody@contoso.com is not homed on any Front End" {
		t.Errorf("Message to an unknown user: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Message(t.Context(), "dave@contoso.com", canary); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Message after Close: %v", err)
	}
	if a, b, c := len(d.fe01.Deliveries()), len(d.fe02.Deliveries()), len(d.fabFE.Deliveries()); a != 1 || b != 1 || c != 1 {
		t.Errorf("deliveries %d %d %d, want 1 each", a, b, c)
	}
}
