package tlswire_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"

	"github.com/tlslab/tlslab/internal/tlswire"
)

// passive is what a passive decryptor holding the key log made of a
// conversation.
type passive struct {
	hello        tlswire.ClientHello
	serverHello  tlswire.ServerHello
	certs        []*x509.Certificate
	clientData   []byte // application data, decrypted
	serverData   []byte
	clientAlerts []uint8 // alert descriptions, decrypted
}

// records splits one direction's bytes, all of which must be records.
func records(t *testing.T, data []byte) []tlswire.Record {
	t.Helper()
	recs, rest, valid := tlswire.SplitRecords(data)
	if !valid || len(rest) != 0 {
		t.Fatalf("%d bytes after %d records are not a record (valid %v)", len(rest), len(recs), valid)
	}
	return recs
}

// secrets indexes a key log by label, for the connection with random.
func secrets(t *testing.T, keyLog, random []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for line := range bytes.Lines(keyLog) {
		e, ok := tlswire.ParseKeyLogLine(line)
		if !ok {
			t.Fatalf("key log line %q does not parse", line)
		}
		if bytes.Equal(e.ClientRandom, random) {
			out[e.Label] = e.Secret
		}
	}
	return out
}

// decrypt reads a conversation as a passive listener with the key log.
func decrypt(t *testing.T, c conversation) passive {
	t.Helper()
	var p passive
	cRecs, sRecs := records(t, c.client), records(t, c.server)
	hs, _, _ := tlswire.SplitHandshake(cRecs[0].Body)
	if len(hs) == 0 || hs[0].Type != tlswire.HandshakeClientHello {
		t.Fatal("the client's first record holds no ClientHello")
	}
	var ok bool
	if p.hello, ok = tlswire.ParseClientHello(hs[0].Body); !ok {
		t.Fatal("ClientHello does not parse")
	}
	keys := secrets(t, c.keyLog, p.hello.Random)
	if hs, _, _ = tlswire.SplitHandshake(sRecs[0].Body); len(hs) == 0 || hs[0].Type != tlswire.HandshakeServerHello {
		t.Fatal("the server's first record holds no ServerHello")
	}
	if p.serverHello, ok = tlswire.ParseServerHello(hs[0].Body); !ok {
		t.Fatal("ServerHello does not parse")
	}
	if p.serverHello.Version == tls.VersionTLS13 {
		p.decrypt13(t, keys, cRecs, sRecs)
	} else {
		p.decrypt12(t, keys, cRecs, sRecs)
	}
	return p
}

// decrypt12 reads the server's plaintext Certificate and opens what each
// side sent after its ChangeCipherSpec with the master secret.
func (p *passive) decrypt12(t *testing.T, keys map[string][]byte, cRecs, sRecs []tlswire.Record) {
	master := keys[tlswire.KeyLogClientRandom]
	if master == nil {
		t.Fatal("no CLIENT_RANDOM in the key log")
	}
	cOpen, sOpen, err := tlswire.NewTLS12Openers(p.serverHello.CipherSuite, master, p.hello.Random, p.serverHello.Random)
	if err != nil {
		t.Fatal(err)
	}
	var plainHS []byte
	for _, r := range sRecs {
		if r.Type == tlswire.ContentChangeCipherSpec {
			break
		}
		plainHS = append(plainHS, r.Body...)
	}
	msgs, _, _ := tlswire.SplitHandshake(plainHS)
	for _, m := range msgs {
		if m.Type == tlswire.HandshakeCertificate {
			if p.certs, err = tlswire.ParseCertificates(m.Body, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.clientData, p.clientAlerts = open12(t, cOpen, cRecs)
	p.serverData, _ = open12(t, sOpen, sRecs)
}

func open12(t *testing.T, o *tlswire.Opener, recs []tlswire.Record) (data []byte, alerts []uint8) {
	t.Helper()
	i := slices.IndexFunc(recs, func(r tlswire.Record) bool { return r.Type == tlswire.ContentChangeCipherSpec })
	if i < 0 {
		t.Fatal("no ChangeCipherSpec")
	}
	for _, r := range recs[i+1:] {
		typ, content, err := o.Open(r)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		data, alerts = keep(typ, content, data, alerts)
	}
	return data, alerts
}

// keep appends decrypted application data to data and an alert's
// description to alerts.
func keep(typ uint8, content, data []byte, alerts []uint8) ([]byte, []uint8) {
	switch typ {
	case tlswire.ContentApplicationData:
		data = append(data, content...)
	case tlswire.ContentAlert:
		if _, desc, ok := tlswire.ParseAlert(content); ok {
			alerts = append(alerts, desc)
		}
	}
	return data, alerts
}

// decrypt13 opens each side's records, under its handshake traffic secret
// until its Finished, then under its application traffic secret.
func (p *passive) decrypt13(t *testing.T, keys map[string][]byte, cRecs, sRecs []tlswire.Record) {
	var alerts []uint8
	p.clientData, alerts = p.open13(t, keys[tlswire.KeyLogClientHandshake], keys[tlswire.KeyLogClientTraffic], cRecs)
	p.clientAlerts = alerts
	p.serverData, _ = p.open13(t, keys[tlswire.KeyLogServerHandshake], keys[tlswire.KeyLogServerTraffic], sRecs)
}

func (p *passive) open13(t *testing.T, hsSecret, appSecret []byte, recs []tlswire.Record) (data []byte, alerts []uint8) {
	t.Helper()
	suite := p.serverHello.CipherSuite
	o, err := tlswire.NewTLS13Opener(suite, hsSecret)
	if err != nil {
		t.Fatal(err)
	}
	var hs []byte
	for _, r := range recs {
		if r.Type != tlswire.ContentApplicationData {
			continue // the hellos, and a compatibility ChangeCipherSpec
		}
		typ, content, err := o.Open(r)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		switch typ {
		case tlswire.ContentHandshake:
			hs = append(hs, content...)
			msgs, rest, _ := tlswire.SplitHandshake(hs)
			hs = rest
			for _, m := range msgs {
				switch m.Type {
				case tlswire.HandshakeCertificate:
					if p.certs, err = tlswire.ParseCertificates(m.Body, true); err != nil {
						t.Fatal(err)
					}
				case tlswire.HandshakeFinished:
					if o, err = tlswire.NewTLS13Opener(suite, appSecret); err != nil {
						t.Fatal(err)
					}
				}
			}
		default:
			data, alerts = keep(typ, content, data, alerts)
		}
	}
	return data, alerts
}

// TestDecryptsCryptoTLS runs real crypto/tls conversations and checks that
// a passive listener with the client's key log parses the hellos and the
// server's certificate and decrypts both sides' application data.
func TestDecryptsCryptoTLS(t *testing.T) {
	const name = "srv.lab.test"
	ecCert, ecLeaf := certificate(t, name, false)
	rsaCert, rsaLeaf := certificate(t, name, true)
	tls12 := func(suite uint16) *tls.Config {
		return &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}}
	}
	cases := []struct {
		name   string
		client *tls.Config
		rsa    bool
		retry  bool // the server's first hello is a HelloRetryRequest
	}{
		{name: "TLS 1.3", client: &tls.Config{MinVersion: tls.VersionTLS13}},
		{name: "TLS 1.3 after a HelloRetryRequest", client: &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}}, retry: true},
		{name: "ECDHE AES-128-GCM", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)},
		{name: "ECDHE AES-256-GCM", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)},
		{name: "ECDHE ChaCha20-Poly1305", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)},
		{name: "ECDHE AES-128-CBC-SHA", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA)},
		{name: "ECDHE AES-128-CBC-SHA256", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256)},
		{name: "static RSA AES-256-CBC-SHA", client: tls12(tls.TLS_RSA_WITH_AES_256_CBC_SHA), rsa: true},
		{name: "static RSA AES-256-GCM", client: tls12(tls.TLS_RSA_WITH_AES_256_GCM_SHA384), rsa: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cert, leaf := ecCert, ecLeaf
			if tc.rsa {
				cert, leaf = rsaCert, rsaLeaf
			}
			roots := x509.NewCertPool()
			roots.AddCert(leaf)
			client := tc.client.Clone()
			client.ServerName, client.RootCAs = name, roots
			server := &tls.Config{Certificates: []tls.Certificate{cert}, CipherSuites: tc.client.CipherSuites}
			if tc.client.CurvePreferences != nil {
				server.CurvePreferences = []tls.CurveID{tls.CurveP256} // forces a HelloRetryRequest
			}
			c := converse(t, client, server)
			p := decrypt(t, c)

			if p.hello.ServerName != name || !bytes.Equal(p.hello.Random, randomOf(t, c)) {
				t.Errorf("ClientHello: SNI %q", p.hello.ServerName)
			}
			if !slices.Contains(p.hello.Versions(), c.state.Version) {
				t.Errorf("ClientHello offers %x, not the negotiated %x", p.hello.Versions(), c.state.Version)
			}
			if p.serverHello.Version != c.state.Version || p.serverHello.CipherSuite != c.state.CipherSuite {
				t.Errorf("ServerHello %s %s; crypto/tls negotiated %s %s",
					tls.VersionName(p.serverHello.Version), tls.CipherSuiteName(p.serverHello.CipherSuite),
					tls.VersionName(c.state.Version), tls.CipherSuiteName(c.state.CipherSuite))
			}
			if p.serverHello.IsHelloRetryRequest() != tc.retry {
				t.Errorf("IsHelloRetryRequest = %v", !tc.retry)
			}
			if len(p.certs) != 1 || !p.certs[0].Equal(leaf) {
				t.Errorf("certificates %d, want the server's", len(p.certs))
			}
			if string(p.clientData) != clientLine || string(p.serverData) != serverLine {
				t.Errorf("decrypted %q and %q", p.clientData, p.serverData)
			}
			if !slices.Equal(p.clientAlerts, []uint8{0}) { // close_notify
				t.Errorf("client alerts %v, want close_notify", p.clientAlerts)
			}
			if c.state.DidResume || tls.VersionName(c.state.Version) == "" {
				t.Errorf("state %+v", c.state)
			}
		})
	}
}

// randomOf is the client random the key log names the connection by.
func randomOf(t *testing.T, c conversation) []byte {
	t.Helper()
	e, ok := tlswire.ParseKeyLogLine(bytes.SplitN(c.keyLog, []byte("\n"), 2)[0])
	if !ok {
		t.Fatal("empty key log")
	}
	return e.ClientRandom
}
