package attacker

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"slices"

	"github.com/tlslab/tlslab/internal/tlswire"
)

// answerAsLegacyServer reads the victim's ClientHello from conn. When the
// client offers version and, below TLS 1.3, one of suites (any suite when
// suites is empty), it returns a conn that replays the ClientHello, for
// crypto/tls to complete the handshake. Otherwise it answers as a server
// that speaks nothing else does, and the client refuses by its own
// policy:
//
//   - a client that does not offer version (its floor is higher) gets a
//     ServerHello selecting version and a suite of suites it offers (its
//     first suite if none): "tls: server selected unsupported protocol
//     version 301";
//   - a client that offers version but none of suites gets a ServerHello
//     selecting version and suites[0]: "tls: server chose an unconfigured
//     cipher suite".
//
// answerAsLegacyServer then returns the alert the client sent as an
// error naming what was answered.
func answerAsLegacyServer(conn net.Conn, version uint16, suites []uint16) (net.Conn, error) {
	record, err := tlswire.ReadRecord(conn)
	if err != nil {
		return nil, err
	}
	hello, ok := clientHelloIn(record)
	if !ok || len(hello.CipherSuites) == 0 {
		return &replayConn{Conn: conn, prefix: record}, nil
	}
	offersVersion := slices.Contains(hello.Versions(), version)
	common := slices.IndexFunc(suites, func(s uint16) bool { return slices.Contains(hello.CipherSuites, s) })
	if offersVersion && (len(suites) == 0 || version == tls.VersionTLS13 || common >= 0) {
		return &replayConn{Conn: conn, prefix: record}, nil
	}
	suite := hello.CipherSuites[0]
	answered := tls.VersionName(version)
	sessionID := hello.SessionID
	switch {
	case common >= 0:
		suite = suites[common]
	case offersVersion:
		suite = suites[0]
		answered += " with " + tls.CipherSuiteName(suite)
		// A TLS 1.2 server does not echo a TLS 1.3 client's compatibility
		// session ID (the client would refuse that first).
		sessionID = nil
	}
	var random [32]byte
	_, _ = rand.Read(random[:])
	if _, err := conn.Write(tlswire.ServerHelloRecord(version, random[:], sessionID, suite)); err != nil {
		return nil, err
	}
	answer, err := tlswire.ReadRecord(conn)
	if err != nil {
		return nil, fmt.Errorf("attacker: answered %s; the client gave no alert: %w", answered, err)
	}
	h, _ := tlswire.ParseHeader(answer)
	_, desc, isAlert := tlswire.ParseAlert(answer[tlswire.HeaderLen:])
	if h.Type != tlswire.ContentAlert || !isAlert {
		return nil, fmt.Errorf("attacker: answered %s; the client sent record type %d, not an alert", answered, h.Type)
	}
	return nil, fmt.Errorf("attacker: answered %s; the client refused it: alert %w", answered, tls.AlertError(desc))
}

// clientHelloIn parses the ClientHello that begins a handshake record.
func clientHelloIn(record []byte) (tlswire.ClientHello, bool) {
	recs, _, _ := tlswire.SplitRecords(record)
	if len(recs) == 0 || recs[0].Type != tlswire.ContentHandshake {
		return tlswire.ClientHello{}, false
	}
	msgs, _, _ := tlswire.SplitHandshake(recs[0].Body)
	if len(msgs) == 0 || msgs[0].Type != tlswire.HandshakeClientHello {
		return tlswire.ClientHello{}, false
	}
	return tlswire.ParseClientHello(msgs[0].Body)
}

// replayConn returns prefix before reading on from Conn.
type replayConn struct {
	net.Conn
	prefix []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
