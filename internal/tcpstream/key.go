package tcpstream

import "net/netip"

// Key names a TCP connection by its endpoints, the lower endpoint (by
// netip.AddrPort.Compare) first, so both directions share a key.
type Key struct{ Lo, Hi netip.AddrPort }

// KeyOf returns the key of the connection a segment from src to dst
// belongs to, and its direction: 0 when src is Key.Lo, 1 when it is
// Key.Hi.
func KeyOf(src, dst netip.AddrPort) (Key, int) {
	if src.Compare(dst) <= 0 {
		return Key{src, dst}, 0
	}
	return Key{dst, src}, 1
}

// Sender returns the endpoint that sends in direction dir (0 or 1).
func (k Key) Sender(dir int) netip.AddrPort {
	if dir == 0 {
		return k.Lo
	}
	return k.Hi
}
