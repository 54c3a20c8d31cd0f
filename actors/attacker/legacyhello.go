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
// client offers version, it returns a conn that replays the ClientHello,
// for crypto/tls to complete the handshake at that version. When it does
// not (its floor is higher), it answers as a server that speaks nothing
// newer than version does: a ServerHello selecting version and the
// client's first cipher suite. The client then refuses by its own
// version floor ("tls: server selected unsupported protocol version
// 301"), and answerAsLegacyServer returns the alert it sent as an error.
func answerAsLegacyServer(conn net.Conn, version uint16) (net.Conn, error) {
	record, err := tlswire.ReadRecord(conn)
	if err != nil {
		return nil, err
	}
	hello, ok := clientHelloIn(record)
	if !ok || len(hello.CipherSuites) == 0 || slices.Contains(hello.Versions(), version) {
		return &replayConn{Conn: conn, prefix: record}, nil
	}
	var random [32]byte
	_, _ = rand.Read(random[:])
	if _, err := conn.Write(tlswire.ServerHelloRecord(version, random[:], hello.SessionID, hello.CipherSuites[0])); err != nil {
		return nil, err
	}
	answer, err := tlswire.ReadRecord(conn)
	if err != nil {
		return nil, fmt.Errorf("attacker: answered %s; the client gave no alert: %w", tls.VersionName(version), err)
	}
	h, _ := tlswire.ParseHeader(answer)
	_, desc, isAlert := tlswire.ParseAlert(answer[tlswire.HeaderLen:])
	if h.Type != tlswire.ContentAlert || !isAlert {
		return nil, fmt.Errorf("attacker: answered %s; the client sent record type %d, not an alert", tls.VersionName(version), h.Type)
	}
	return nil, fmt.Errorf("attacker: answered %s; the client refused it: alert %w", tls.VersionName(version), tls.AlertError(desc))
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
