// Package eavesdrop is a passive attacker: it watches raw Ethernet frames on a
// segment, follows every TCP stream, and reports what a listener on the wire
// could learn — how many payload bytes it captured, whether a scenario's
// canaries appear in them, and, for TLS, what the handshake revealed (SNI,
// negotiated version and cipher suite, plaintext alerts).
//
// An Eavesdropper implements netsim's Tap, so the simulation feeds it from the
// frame path:
//
//	eve := eavesdrop.New(eavesdrop.Config{})
//	remove := lan.AddTap(eve)
//	defer remove()
//	// ... run the victim's traffic ...
//	r := eve.Report([]string{canary})
//	if len(r.Found) > 0 { /* broken: the canary crossed the wire in clear */ }
//
// # What it decodes
//
// Ethernet (optionally 802.1Q-tagged) / IPv4 / TCP, with gopacket's
// DecodingLayerParser. Other frames (ARP, UDP, IPv6, IP fragments) are counted
// and ignored. Each direction of a connection is a stream keyed by its
// 4-tuple; payload is reassembled in sequence order. A segment that repeats
// or overlaps bytes already delivered contributes only its new bytes (the
// first copy of a byte wins); a segment from the future waits until the gap
// before it is filled. Bytes still waiting behind a gap are searched and
// counted at Report time as separate runs.
//
// TLS is parsed from the reassembled bytes at Report time: record headers,
// and the plaintext handshake messages before encryption starts — the
// ClientHello (SNI) and ServerHello (version, taking supported_versions into
// account for TLS 1.3, and cipher suite), including a HelloRetryRequest.
//
// Report.Conns describes every connection on its own: who opened it, how
// many of its frames the tap saw (a listener's position on the victim's
// path), and whether everything it carried, both ways, was TLS records
// (ConnInfo.OnlyTLS), which is what a passive listener without the keys
// is left holding.
//
// # Contract with the frame path
//
// ObserveFrame is safe for concurrent use, never retains or modifies the
// frame (it copies the payload it keeps), and does only a decode and a map
// update per frame. Memory grows with the payload seen, up to
// Config.MaxStreamBytes per stream.
package eavesdrop
