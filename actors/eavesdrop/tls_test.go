package eavesdrop_test

import (
	"crypto/tls"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/eavesdrop"
)

const canary = "canary-7f3a9c"

func TestTLSOnRealHandshakes(t *testing.T) {
	ca, cert := testPKI(t)
	now := func() time.Time { return epoch.Add(time.Hour) }
	server := func(mod func(*tls.Config)) *tls.Config {
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, Time: now}
		if mod != nil {
			mod(cfg)
		}
		return cfg
	}
	client := func(name string, mod func(*tls.Config)) *tls.Config {
		cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: name, Time: now}
		if mod != nil {
			mod(cfg)
		}
		return cfg
	}
	// fromState fills the negotiated fields from the client's own view.
	fromState := func(c *capture, info eavesdrop.TLSStreamInfo) eavesdrop.TLSStreamInfo {
		info.Version = tls.VersionName(c.state.Version)
		info.CipherSuite = tls.CipherSuiteName(c.state.CipherSuite)
		return info
	}
	base := eavesdrop.TLSStreamInfo{
		Client: alice, Server: pool,
		RecordVersions: []string{"TLS 1.0", "TLS 1.2"},
		ClientHello:    true, SNI: "pool01.contoso.com",
		ServerHello: true,
	}
	tests := []struct {
		name    string
		server  *tls.Config
		client  *tls.Config
		reorder func([]seg) []seg
		sendErr string // substring; empty means the exchange succeeds
		want    func(c *capture) eavesdrop.TLSStreamInfo
	}{
		{
			name:   "TLS 1.3",
			server: server(nil), client: client("pool01.contoso.com", nil),
			want: func(c *capture) eavesdrop.TLSStreamInfo {
				if c.state.Version != tls.VersionTLS13 {
					t.Errorf("negotiated %s, want TLS 1.3", tls.VersionName(c.state.Version))
				}
				return fromState(c, base)
			},
		},
		{
			name:   "TLS 1.3 segments swapped pairwise",
			server: server(nil), client: client("pool01.contoso.com", nil),
			reorder: swapPairs,
			want:    func(c *capture) eavesdrop.TLSStreamInfo { return fromState(c, base) },
		},
		{
			name:   "TLS 1.2 pinned suite",
			server: server(nil),
			client: client("pool01.contoso.com", func(c *tls.Config) {
				c.MaxVersion = tls.VersionTLS12
				c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
			}),
			want: func(c *capture) eavesdrop.TLSStreamInfo {
				info := fromState(c, base)
				if info.Version != "TLS 1.2" || info.CipherSuite != "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" {
					t.Errorf("client negotiated %s %s", info.Version, info.CipherSuite)
				}
				return info
			},
		},
		{
			name:   "TLS 1.2 hostname mismatch: the client's alert is in clear",
			server: server(nil),
			client: client("evil.example", func(c *tls.Config) {
				c.MaxVersion = tls.VersionTLS12
				c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
			}),
			sendErr: "x509: certificate is valid for pool01.contoso.com, not evil.example",
			want: func(c *capture) eavesdrop.TLSStreamInfo {
				info := base
				info.SNI = "evil.example"
				info.Version, info.CipherSuite = "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
				info.ClientAlerts = []string{"tls: bad certificate"}
				return info
			},
		},
		{
			name:    "TLS 1.3 hostname mismatch: the client's alert is encrypted",
			server:  server(nil),
			client:  client("evil.example", func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 }),
			sendErr: "x509: certificate is valid for pool01.contoso.com, not evil.example",
			want: func(c *capture) eavesdrop.TLSStreamInfo {
				info := base
				info.SNI = "evil.example"
				info.Version = "TLS 1.3"
				// The suite depends on the CPU's AES support; any TLS 1.3 suite.
				return info
			},
		},
		{
			name:   "HelloRetryRequest",
			server: server(func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP256} }),
			client: client("pool01.contoso.com", func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256} }),
			want: func(c *capture) eavesdrop.TLSStreamInfo {
				if !c.state.HelloRetryRequest {
					t.Error("the client saw no HelloRetryRequest; the test setup no longer forces one")
				}
				info := fromState(c, base)
				info.HelloRetryRequest = true
				return info
			},
		},
		{
			name:   "dialled by IP: no SNI",
			server: server(nil), client: client(pool.Addr().String(), nil),
			want: func(c *capture) eavesdrop.TLSStreamInfo {
				info := fromState(c, base)
				info.SNI = ""
				return info
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := captureExchange(t, tt.server, tt.client, canary)
			// A small MSS splits every hello across segments, so the
			// parsers only ever see reassembled bytes.
			const mss = 100
			if n := len(c.writes[0].data); n <= mss {
				t.Fatalf("the ClientHello (%d bytes) fits one segment", n)
			}
			if tt.sendErr == "" && c.sendErr != nil {
				t.Fatalf("exchange: %v", c.sendErr)
			}
			if tt.sendErr != "" && (c.sendErr == nil || !strings.Contains(c.sendErr.Error(), tt.sendErr)) {
				t.Fatalf("exchange = %v, want an error containing %q", c.sendErr, tt.sendErr)
			}
			tc := newTCPConn(alice, pool, 1000, 900000)
			tc.mss = mss
			segs := c.segments(tc)
			if tt.reorder != nil {
				segs = tt.reorder(segs)
			}
			e := eavesdrop.New(eavesdrop.Config{})
			for _, f := range frames(t, segs) {
				e.ObserveFrame(epoch, f)
			}
			r := e.Report([]string{canary})
			if len(r.Found) != 0 {
				t.Errorf("Found = %q in TLS traffic", r.Found)
			}
			if r.PayloadBytes != c.bytesWritten() || r.Streams != 2 {
				t.Errorf("PayloadBytes = %d, Streams = %d; want %d, 2", r.PayloadBytes, r.Streams, c.bytesWritten())
			}
			if len(r.TLS) != 1 {
				t.Fatalf("TLS = %+v, want one connection", r.TLS)
			}
			got, want := r.TLS[0], tt.want(c)
			if want.CipherSuite == "" && (strings.HasPrefix(got.CipherSuite, "TLS_AES_") || strings.HasPrefix(got.CipherSuite, "TLS_CHACHA20_")) {
				want.CipherSuite = got.CipherSuite // any TLS 1.3 suite
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("TLS info\n got %+v\nwant %+v", got, want)
			}
			// The connection carried nothing but TLS records, whatever the
			// order its segments arrived in.
			wantConn := eavesdrop.ConnInfo{Client: alice, Server: pool, Frames: len(segs), PayloadBytes: c.bytesWritten(), OnlyTLS: true, TLS: &got}
			if len(r.Conns) != 1 || !reflect.DeepEqual(r.Conns[0], wantConn) {
				t.Errorf("Conns\n got %+v\nwant [%+v]", r.Conns, wantConn)
			}
		})
	}
}

func TestPlaintextExchange(t *testing.T) {
	c := captureExchange(t, nil, nil, canary)
	if c.sendErr != nil {
		t.Fatal(c.sendErr)
	}
	e := eavesdrop.New(eavesdrop.Config{})
	for _, f := range frames(t, c.segments(newTCPConn(alice, pool, 1, 2))) {
		e.ObserveFrame(epoch, f)
	}
	r := e.Report([]string{canary, "not-sent"})
	n := len("MSG " + canary + "\nOK\n")
	want := eavesdrop.Report{Frames: 5, Segments: 5, Streams: 2, PayloadBytes: n, Found: []string{canary},
		Conns: []eavesdrop.ConnInfo{{Client: alice, Server: pool, Frames: 5, PayloadBytes: n}}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("Report\n got %+v\nwant %+v", r, want)
	}
}

// swapPairs swaps segments 2k and 2k+1 after the TCP handshake, so every
// other segment arrives before the one it follows.
func swapPairs(segs []seg) []seg {
	out := append([]seg(nil), segs...)
	for i := 3; i+1 < len(out); i += 2 {
		out[i], out[i+1] = out[i+1], out[i]
	}
	return out
}
