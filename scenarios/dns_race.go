package scenarios

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// dnsBlindRace is the blind scenarios' race against dns01, decided by
// events rather than by a fixed delay. dns01 asks upstream for pool01 and
// answers late: a hook on contoso-lan holds its answers to alice's
// queries for pool01.contoso.com A, and a tap on alice's NIC releases
// them once mallory's forged answers for every guess of hers (her guess
// space) have reached alice after alice's query left. So the flood gets
// exactly one full round against the query, whatever the load, and the
// real answer comes after it. The tap also records alice's query (its
// source port and ID) and whether a forged answer carried both.
type dnsBlindRace struct {
	seg     *netsim.Segment
	dns01   *netsim.NIC
	alice   *netsim.NIC
	server  netip.AddrPort // dns01:53
	guesses int            // mallory's guess space

	mu       sync.Mutex
	query    blindQuery          // alice's first query for pool01 A
	seen     map[blindGuess]bool // forged answers that reached alice after it
	matched  bool                // one carried the query's port and ID
	held     [][]byte            // dns01's answers not yet released
	released bool

	// stop stops mallory's flood and waits for it (set by startBlind);
	// it returns the flood's error unless the flood was stopped.
	stop func() error
}

// blindQuery is alice's query as her NIC sent it.
type blindQuery struct {
	sent     bool
	server   netip.AddrPort
	port, id uint16
}

// blindGuess is a forged answer's destination port and query ID.
type blindGuess struct{ port, id uint16 }

func newDNSBlindRace(seg *netsim.Segment, dns01, alice *netsim.Host, guesses int) *dnsBlindRace {
	return &dnsBlindRace{
		seg: seg, dns01: dns01.NICs()[0], alice: alice.NICs()[0], server: netip.AddrPortFrom(dns01.Addr(), 53),
		guesses: guesses, seen: map[blindGuess]bool{},
	}
}

// attach installs the hook and the tap; remove uninstalls them, and any
// answer still held is lost with them.
func (b *dnsBlindRace) attach() (remove func()) {
	unhook := b.seg.AddHook(netsim.HookFunc(b.hold))
	untap := b.alice.AddTap(netsim.TapFunc(b.watch))
	return func() { unhook(); untap() }
}

// hold is the hook: dns01's answers for pool01 A to alice wait until
// release.
func (b *dnsBlindRace) hold(f *netsim.Frame) netsim.HookAction {
	if f.Ingress != b.dns01 {
		return netsim.Pass
	}
	src, dst, m, ok := dnsDatagram(f.Data)
	if !ok || src != b.server || dst.Addr() != b.alice.Addr() || !m.Response || !asksPool(m) {
		return netsim.Pass
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return netsim.Pass
	}
	b.held = append(b.held, slices.Clone(f.Data))
	return netsim.Drop
}

// watch is the tap on alice's NIC: it notes her query for pool01 A as it
// leaves, then the forged answers as they arrive, and releases dns01's
// answer once they covered every guess. Frames it injects are processed
// after the one it is looking at.
func (b *dnsBlindRace) watch(_ time.Time, frame []byte) {
	src, dst, m, ok := dnsDatagram(frame)
	if !ok || !asksPool(m) {
		return
	}
	b.mu.Lock()
	switch {
	case !m.Response && src.Addr() == b.alice.Addr() && dst == b.server:
		if !b.query.sent {
			b.query = blindQuery{sent: true, server: dst, port: src.Port(), id: m.Id}
		}
	case m.Response && src == b.server && dst.Addr() == b.alice.Addr() && forgedPool(m) && b.query.sent:
		b.seen[blindGuess{dst.Port(), m.Id}] = true
		if dst.Port() == b.query.port && m.Id == b.query.id {
			b.matched = true
		}
	}
	var release [][]byte
	if !b.released && len(b.seen) >= b.guesses {
		b.released, release, b.held = true, b.held, nil
	}
	b.mu.Unlock()
	for _, f := range release {
		b.seg.Inject(f)
	}
}

// missed returns alice's query when every guess reached her after it and
// none was addressed to its port: the forgeries reached no socket.
func (b *dnsBlindRace) missed() (blindQuery, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.query.sent || len(b.seen) < b.guesses || b.matched {
		return b.query, false
	}
	for g := range b.seen {
		if g.port == b.query.port {
			return b.query, false // on its socket: the resolver's drops say
		}
	}
	return b.query, true
}

// asksPool reports whether m's question is pool01.contoso.com A.
func asksPool(m *miekg.Msg) bool {
	return len(m.Question) == 1 && m.Question[0].Qtype == miekg.TypeA && strings.EqualFold(m.Question[0].Name, contoso.Pool+".")
}

// dnsDatagram decodes an Ethernet frame carrying an IPv4 UDP datagram to
// or from port 53 with a DNS message.
func dnsDatagram(frame []byte) (src, dst netip.AddrPort, m *miekg.Msg, ok bool) {
	const eth = 14
	if len(frame) < eth+20 || frame[12] != 0x08 || frame[13] != 0x00 || frame[eth+9] != 17 {
		return src, dst, nil, false
	}
	ihl := int(frame[eth]&0x0f) * 4
	udp := eth + ihl
	if ihl < 20 || len(frame) < udp+8 {
		return src, dst, nil, false
	}
	src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(frame[eth+12:eth+16])), binary.BigEndian.Uint16(frame[udp:]))
	dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(frame[eth+16:eth+20])), binary.BigEndian.Uint16(frame[udp+2:]))
	if src.Port() != 53 && dst.Port() != 53 {
		return src, dst, nil, false
	}
	end := udp + int(binary.BigEndian.Uint16(frame[udp+4:]))
	if end < udp+8 || end > len(frame) {
		return src, dst, nil, false
	}
	m = new(miekg.Msg)
	if m.Unpack(frame[udp+8:end]) != nil {
		return src, dst, nil, false
	}
	return src, dst, m, true
}
