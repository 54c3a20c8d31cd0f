package attacker

import "bytes"

// DefaultMaxCapture bounds the bytes an attacker keeps per direction of a
// connection for canary search, when its config leaves the limit zero.
// Bytes beyond it are still counted.
const DefaultMaxCapture = 16 << 20

// found returns the canaries that occur in any of data, in the order asked
// for. Empty canaries are never found.
func found(canaries []string, data ...[]byte) []string {
	var out []string
	for _, c := range canaries {
		if c == "" {
			continue
		}
		for _, d := range data {
			if bytes.Contains(d, []byte(c)) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// capBuf keeps the first max bytes written to it and counts them all.
type capBuf struct {
	max   int
	data  []byte
	total int64
}

func (b *capBuf) write(p []byte) {
	b.total += int64(len(p))
	if room := b.max - len(b.data); room > 0 {
		b.data = append(b.data, p[:min(room, len(p))]...)
	}
}

func maxCapture(n int) int {
	if n <= 0 {
		return DefaultMaxCapture
	}
	return n
}
