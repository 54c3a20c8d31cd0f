package scenarios

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/eavesdrop"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// What a passive tap learned, as evidence: both eavesdrop families
// (eavesdrop.go, eavesdrop_attacks.go) read their tap's report through
// these helpers.

// recordTLSFacts records what the eavesdropper read in each TLS handshake.
func recordTLSFacts(env *lab.Env, r eavesdrop.Report) {
	if r.Malformed > 0 {
		env.Evidence.Notef("eavesdropper", "%d of %d frames did not decode", r.Malformed, r.Frames)
	}
	if len(r.TLS) == 0 {
		env.Evidence.Notef("eavesdropper", "no TLS handshake in %d TCP stream directions", r.Streams)
		return
	}
	for _, t := range r.TLS {
		env.Evidence.Notef("eavesdropper", "TLS %s -> %s: %s", t.Client, t.Server, describeTLS(t))
	}
}

// tapLeg is one host's connections to one server address, as a passive
// tap captured them, in the order first seen.
type tapLeg struct {
	client, server string         // host names, or addresses when unknown
	addr           netip.AddrPort // the server's address
	conns          []eavesdrop.ConnInfo
}

// tapLegs groups the captured connections that carries selects (those
// that carried the victim's message) by client host and server address,
// naming hosts by names.
func tapLegs(r eavesdrop.Report, names map[netip.Addr]string, carries func(eavesdrop.ConnInfo) bool) []tapLeg {
	name := func(a netip.Addr) string {
		if n, ok := names[a]; ok {
			return n
		}
		return a.String()
	}
	var legs []tapLeg
	for _, c := range r.Conns {
		if !carries(c) {
			continue
		}
		i := slices.IndexFunc(legs, func(l tapLeg) bool { return l.client == name(c.Client.Addr()) && l.addr == c.Server })
		if i < 0 {
			legs = append(legs, tapLeg{client: name(c.Client.Addr()), server: name(c.Server.Addr()), addr: c.Server})
			i = len(legs) - 1
		}
		legs[i].conns = append(legs[i].conns, c)
	}
	return legs
}

// segmentHostNames maps every address on seg to its host's name.
func segmentHostNames(seg *netsim.Segment) map[netip.Addr]string {
	out := map[netip.Addr]string{}
	for _, nic := range seg.NICs() {
		out[nic.Addr()] = nic.Host().Name()
	}
	return out
}

// notePosition records the eavesdropper's position: for each leg, the
// frames it captured of the victim's connections.
func notePosition(env *lab.Env, legs []tapLeg) {
	for _, l := range legs {
		frames := 0
		for _, c := range l.conns {
			frames += c.Frames
		}
		env.Evidence.Reached("eavesdropper", lab.MilestoneInPosition, "captured %d frames of %s's %s to %s (%v)",
			frames, l.client, tapCount(len(l.conns), "connection"), l.server, l.addr)
	}
}

// tapStolenKey is a server private key the passive attacker holds, and what
// it decrypted with it.
type tapStolenKey struct {
	holder string     // the host whose key it is
	addr   netip.Addr // the holder's address on the tapped segment
	report attacker.KeyReport
}

// notePassiveRefusals records the protection the tap met on each leg
// whose connections all carried nothing but TLS records: the keys the
// attacker lacks. For a leg to the holder of a stolen key, whose every
// session negotiated ephemeral (ECDHE) key exchange so that the key
// decrypted none, it is the holder's forward-secrecy-only; for any other
// leg, the client's tls-only. A leg that carried anything else, or whose
// session the stolen key decrypted, gets no refusal: the canary count
// says what the attacker read.
func notePassiveRefusals(env *lab.Env, legs []tapLeg, key *tapStolenKey) {
	for _, l := range legs {
		if !slices.ContainsFunc(l.conns, func(c eavesdrop.ConnInfo) bool { return c.TLS != nil }) ||
			slices.ContainsFunc(l.conns, func(c eavesdrop.ConnInfo) bool { return !c.OnlyTLS }) {
			continue
		}
		sessions := tapSessions(l.conns)
		if key != nil && l.addr.Addr() == key.addr {
			if tapEphemeralOnly(l.conns, key.report) {
				env.Evidence.Refused(key.holder, lab.DefenseForwardSecrecyOnly,
					"negotiated ephemeral (ECDHE) key exchange with %s on %s to %v, %s; the stolen RSA key does not decrypt it",
					l.client, tapCount(len(l.conns), "connection"), l.addr, sessions)
			}
			continue
		}
		env.Evidence.Refused(l.client, lab.DefenseTLSOnly,
			"sent and received only TLS records on %s to %s (%v), %s; the eavesdropper holds no key for them",
			tapCount(len(l.conns), "connection"), l.server, l.addr, sessions)
	}
}

// tapEphemeralOnly reports whether the stolen key decrypted none of conns
// because each negotiated ephemeral key exchange (an ECDHE suite, or TLS
// 1.3, whose key exchange always is).
func tapEphemeralOnly(conns []eavesdrop.ConnInfo, r attacker.KeyReport) bool {
	for _, c := range conns {
		i := slices.IndexFunc(r.Conns, func(d attacker.DecryptResult) bool { return d.Client == c.Client && d.Server == c.Server })
		if i < 0 {
			return false
		}
		d := r.Conns[i]
		if d.Decrypted || !errors.Is(d.Error, attacker.ErrEphemeralKeyExchange) && !errors.Is(d.Error, attacker.ErrTLS13) {
			return false
		}
	}
	return true
}

// tapSessions lists the distinct versions and suites the connections'
// ServerHellos chose, as the tap read them: "TLS 1.3
// TLS_AES_128_GCM_SHA256".
func tapSessions(conns []eavesdrop.ConnInfo) string {
	var out []string
	for _, c := range conns {
		s := "no ServerHello"
		if t := c.TLS; t != nil && t.ServerHello {
			s = t.Version + " " + t.CipherSuite
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// tapCount says "1 connection", "2 connections".
func tapCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// describeTLS says what a passive observer learned from one handshake, e.g.
// "TLS 1.3, TLS_AES_128_GCM_SHA256, SNI pool01.contoso.com".
func describeTLS(t eavesdrop.TLSStreamInfo) string {
	var facts []string
	if t.ServerHello {
		facts = append(facts, t.Version, t.CipherSuite)
	} else {
		facts = append(facts, "no ServerHello")
	}
	switch {
	case !t.ClientHello:
		facts = append(facts, "no ClientHello")
	case t.SNI == "":
		facts = append(facts, "no SNI")
	default:
		facts = append(facts, "SNI "+t.SNI)
	}
	for _, a := range t.ClientAlerts {
		facts = append(facts, "client alert "+a)
	}
	for _, a := range t.ServerAlerts {
		facts = append(facts, "server alert "+a)
	}
	return strings.Join(facts, ", ")
}
