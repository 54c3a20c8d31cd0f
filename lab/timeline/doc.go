// Package timeline records a run step by step, for people: every frame on
// the segments the scenario captures, decoded (ARP, DNS, TCP connections,
// TLS handshakes — TLS 1.3's decrypted with the run's own key log),
// every certificate a peer presented with what the receiving side made of
// it, and every evidence line, each at the World's time.
//
// [Record] runs a scenario with a lab.Runner exactly as Run does, with the
// recorder watching as the run's lab.Observer, and returns the result and
// the [Events]; [Write] prints them one per line:
//
//	res, events := timeline.Record(ctx, lab.Runner{Seed: 1}, s)
//	timeline.Write(os.Stdout, events)
//
// The recorder reads TLS with internal/tlswire and reassembles TCP with
// internal/tcpstream, the parser and reassembler the eavesdropper and the
// attackers use.
package timeline
