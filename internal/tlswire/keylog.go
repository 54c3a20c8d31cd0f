package tlswire

import (
	"bytes"
	"encoding/hex"
)

// NSS key log labels (the format of tls.Config.KeyLogWriter).
const (
	// KeyLogClientRandom labels a TLS 1.2 master secret.
	KeyLogClientRandom = "CLIENT_RANDOM"
	// The TLS 1.3 traffic secrets (RFC 8446 section 7.1).
	KeyLogClientHandshake = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	KeyLogServerHandshake = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	KeyLogClientTraffic   = "CLIENT_TRAFFIC_SECRET_0"
	KeyLogServerTraffic   = "SERVER_TRAFFIC_SECRET_0"
)

// KeyLogEntry is one key log line: a secret of the connection whose
// ClientHello carried ClientRandom.
type KeyLogEntry struct {
	Label        string
	ClientRandom []byte // 32 bytes
	Secret       []byte
}

// ParseKeyLogLine parses one key log line, "<label> <client random hex>
// <secret hex>", surrounding white space allowed. ok is false for a
// comment, a blank line or anything malformed. The entry shares nothing
// with line.
func ParseKeyLogLine(line []byte) (e KeyLogEntry, ok bool) {
	f := bytes.Fields(line)
	if len(f) != 3 {
		return e, false
	}
	random, err := hex.DecodeString(string(f[1]))
	if err != nil || len(random) != 32 {
		return e, false
	}
	secret, err := hex.DecodeString(string(f[2]))
	if err != nil {
		return e, false
	}
	return KeyLogEntry{Label: string(f[0]), ClientRandom: random, Secret: secret}, true
}
