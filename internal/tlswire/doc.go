// Package tlswire is the lab's one reader of TLS as it crosses the wire:
// record framing, handshake messages (ClientHello, ServerHello,
// Certificate), alerts, and the decryption of protected records with
// secrets from a key log (TLS 1.3) or a recovered master secret (TLS 1.2).
// It also writes the few bytes the attackers forge: a bare ServerHello, and
// a ClientHello's supported_versions rewritten in place.
//
// # Contracts
//
// Parsers take bytes as captured and never panic on any input: malformed
// input is reported by a false ok or an error. Unless a doc comment says
// otherwise, results alias their input (a Record's Body, a Message's Body
// and Raw), so callers copy what they keep past the input's life. Nothing
// here retains its input or holds global state beyond constant tables, and
// everything is safe for concurrent use except an Opener, which tracks one
// direction's record sequence number.
//
// Records are recognised by their header alone: a content type from
// change_cipher_spec (20) to heartbeat (24), a major version of 3, and a
// length no record allows more than (2^14 + 2048). Versions and cipher
// suites are crypto/tls's numbers (tls.VersionTLS13,
// tls.TLS_AES_128_GCM_SHA256).
//
// Decryption covers what crypto/tls negotiates: the three TLS 1.3 AEAD
// suites, and the TLS 1.2 AES-GCM, ChaCha20-Poly1305 and AES-CBC suites
// with ECDHE or static RSA key exchange (CanDecryptTLS12 lists them).
package tlswire
