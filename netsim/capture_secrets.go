package netsim

import (
	"encoding/binary"
	"errors"
	"io"
)

// SecretsTLSKeyLog is the pcapng secrets type of a TLS key log in NSS
// format ("TLSK"), what Wireshark reads from a Decryption Secrets Block
// in place of a key log file.
const SecretsTLSKeyLog uint32 = 0x544c534b

// blockTypeDecryptionSecrets is the pcapng Decryption Secrets Block type.
const blockTypeDecryptionSecrets uint32 = 0x0000000A

// maxSecretsBlock bounds how much data consecutive WriteSecrets calls
// gather into one Decryption Secrets Block, well under the block sizes
// readers accept (one larger write still makes one block).
const maxSecretsBlock = 1 << 20

// secretsBlock is secrets waiting to be written.
type secretsBlock struct {
	typ  uint32
	data []byte
}

// WriteSecrets embeds data, secrets of type secretsType (SecretsTLSKeyLog
// for an NSS key log), in the capture: it goes into the stream as a
// Decryption Secrets Block just before the next frame the capture writes
// (or at Close), so it precedes every frame captured after the call.
// Secrets written one after another with the same type share a block. A
// TLS stack logs a session's secrets before it sends the records they
// protect, so a capture fed its key log this way decrypts from the start.
// data is copied. It fails only after Close; a write error is returned by
// Close.
func (c *Capture) WriteSecrets(secretsType uint32, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("netsim: capture is closed")
	}
	if len(data) == 0 {
		return nil
	}
	if n := len(c.secrets); n > 0 && c.secrets[n-1].typ == secretsType && len(c.secrets[n-1].data)+len(data) <= maxSecretsBlock {
		c.secrets[n-1].data = append(c.secrets[n-1].data, data...)
		return nil
	}
	c.secrets = append(c.secrets, secretsBlock{typ: secretsType, data: append([]byte(nil), data...)})
	return nil
}

// KeyLogWriter returns a writer for tls.Config.KeyLogWriter that embeds
// what a TLS stack logs in the capture (WriteSecrets with
// SecretsTLSKeyLog). Its writes never fail, so a capture that cannot be
// written never aborts a handshake: after Close they are dropped, and a
// write error is reported by Close.
func (c *Capture) KeyLogWriter() io.Writer { return keyLogWriter{c} }

type keyLogWriter struct{ c *Capture }

func (k keyLogWriter) Write(p []byte) (int, error) {
	_ = k.c.WriteSecrets(SecretsTLSKeyLog, p)
	return len(p), nil
}

// flushSecretsLocked writes the pending secrets blocks, once the section
// header is out (c.w exists), keeping the first error.
func (c *Capture) flushSecretsLocked() {
	if len(c.secrets) == 0 || c.w == nil {
		return
	}
	pending := c.secrets
	c.secrets = nil
	if c.err != nil {
		return
	}
	// The NgWriter buffers what it wrote; the block must follow it.
	if err := c.w.Flush(); err != nil {
		c.err = err
		return
	}
	var block []byte
	for _, s := range pending {
		block = appendDecryptionSecrets(block[:0], s.typ, s.data)
		if _, err := c.out.Write(block); err != nil {
			c.err = err
			return
		}
	}
}

// appendDecryptionSecrets appends to dst a little-endian pcapng
// Decryption Secrets Block (block type 0x0000000A) holding data as
// secrets of secretsType, without options:
//
//	block type, block total length,
//	secrets type, secrets length, secrets data padded to 32 bits,
//	block total length
func appendDecryptionSecrets(dst []byte, secretsType uint32, data []byte) []byte {
	padding := (4 - len(data)%4) % 4
	total := uint32(4 + 4 + 4 + 4 + len(data) + padding + 4)
	dst = binary.LittleEndian.AppendUint32(dst, blockTypeDecryptionSecrets)
	dst = binary.LittleEndian.AppendUint32(dst, total)
	dst = binary.LittleEndian.AppendUint32(dst, secretsType)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(data)))
	dst = append(dst, data...)
	dst = append(dst, make([]byte, padding)...)
	return binary.LittleEndian.AppendUint32(dst, total)
}
