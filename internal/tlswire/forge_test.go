package tlswire_test

import (
	"bytes"
	"crypto/tls"
	"net"
	"slices"
	"testing"

	"github.com/tlslab/tlslab/internal/tlswire"
)

// clientHelloRecord is the first record crypto/tls writes as a client.
func clientHelloRecord(t *testing.T, cfg *tls.Config) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		tc := tls.Client(c, cfg)
		_ = tc.Handshake()
		tc.Close()
	}()
	raw, err := tlswire.ReadRecord(s)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func parseHelloRecord(t *testing.T, raw []byte) tlswire.ClientHello {
	t.Helper()
	recs, _, _ := tlswire.SplitRecords(raw)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	msgs, _, _ := tlswire.SplitHandshake(recs[0].Body)
	if len(msgs) != 1 || msgs[0].Type != tlswire.HandshakeClientHello {
		t.Fatal("no ClientHello")
	}
	h, ok := tlswire.ParseClientHello(msgs[0].Body)
	if !ok {
		t.Fatal("ClientHello does not parse")
	}
	return h
}

// TestDowngradeSupportedVersions rewrites crypto/tls's ClientHello in
// place, whole and cut where a first TCP segment might end.
func TestDowngradeSupportedVersions(t *testing.T) {
	raw := clientHelloRecord(t, &tls.Config{ServerName: "srv.lab.test", InsecureSkipVerify: true})
	before := parseHelloRecord(t, raw)
	if !slices.Contains(before.Versions(), tls.VersionTLS13) {
		t.Fatalf("crypto/tls offers %x", before.Versions())
	}
	b := bytes.Clone(raw)
	if !tlswire.DowngradeSupportedVersions(b, tls.VersionTLS12) {
		t.Fatal("nothing rewritten")
	}
	if len(b) != len(raw) {
		t.Fatal("length changed")
	}
	after := parseHelloRecord(t, b)
	if slices.Contains(after.Versions(), tls.VersionTLS13) || !slices.Contains(after.Versions(), tls.VersionTLS12) || after.ServerName != before.ServerName {
		t.Errorf("after the rewrite: versions %x, SNI %q", after.Versions(), after.ServerName)
	}
	if tlswire.DowngradeSupportedVersions(b, tls.VersionTLS12) {
		t.Error("a second rewrite changed something")
	}
	// Cut before supported_versions ends: left alone.
	cut := bytes.Clone(raw[:60])
	if tlswire.DowngradeSupportedVersions(cut, tls.VersionTLS12) || !bytes.Equal(cut, raw[:60]) {
		t.Error("a ClientHello cut short was rewritten")
	}
	if tlswire.DowngradeSupportedVersions(record(23, make([]byte, 50)), tls.VersionTLS12) {
		t.Error("application data was rewritten")
	}
}

// TestServerHelloRecord: the forged ServerHello parses back as written.
func TestServerHelloRecord(t *testing.T) {
	random := bytes.Repeat([]byte{7}, 32)
	raw := tlswire.ServerHelloRecord(tls.VersionTLS10, random, []byte{1, 2, 3}, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA)
	recs, rest, valid := tlswire.SplitRecords(raw)
	if len(recs) != 1 || len(rest) != 0 || !valid || recs[0].Version != tls.VersionTLS10 {
		t.Fatalf("records %+v", recs)
	}
	msgs, _, _ := tlswire.SplitHandshake(recs[0].Body)
	h, ok := tlswire.ParseServerHello(msgs[0].Body)
	if !ok || h.Version != tls.VersionTLS10 || !bytes.Equal(h.Random, random) || !bytes.Equal(h.SessionID, []byte{1, 2, 3}) ||
		h.CipherSuite != tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA || h.IsHelloRetryRequest() || h.ExtendedMasterSecret {
		t.Errorf("ParseServerHello = %+v %v", h, ok)
	}
}
