package timeline

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlslab/tlslab/internal/tcpstream"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// recorder collects a run's timeline as the run's Observer: it
// decodes the frames of every segment the scenario captures, reads the
// run's key log lines to decrypt TLS 1.3 handshakes, takes the certificate
// checks of TLSPolicy's configs, and gets the evidence at the end. Frames are decoded as they pass, under mu;
// names are resolved only when the timeline is built, after the World has
// stopped, so the frame path never takes the World's locks.
type recorder struct {
	mu    sync.Mutex
	world *netsim.World // nil until start, and when the run failed before
	t0    time.Time

	parser  *gopacket.DecodingLayerParser
	eth     layers.Ethernet
	arp     layers.ARP
	ip4     layers.IPv4
	tcp     layers.TCP
	udp     layers.UDP
	payload gopacket.Payload
	decoded []gopacket.LayerType

	frames    int // frames observed so far; a frame's number orders its events
	wire      []*wireEvent
	seen      map[string]bool       // keys of frames already reported (copies forwarded by routers)
	arpFold   map[string]*wireEvent // repeated ARP messages fold into the first
	conns     map[tcpstream.Key]*tcpConn
	hellos    []*helloSeen
	presented []*certPresented
	checks    []certCheck
	evidence  []lab.EvidenceEntry

	dnsQueries map[dnsTransaction]*wireEvent   // the first copy of each query
	dnsEarly   map[dnsTransaction][]*wireEvent // answers seen before their query

	secrets     map[string]map[string][]byte // key log: client random, label -> secret
	byRandom    map[string][]*tcpConn        // TLS connections by their ClientHello's random
	sealedConns []*tcpConn                   // connections whose records the key log may open (TLS 1.3, TLS 1.2)
}

// wireEvent is an event seen on the wire, before names are resolved.
type wireEvent struct {
	at     time.Time
	order  int              // the number of the frame it comes from
	sub    int              // orders events placed at one frame's number (an early answer after its query)
	frame  int              // the number of the frame it comes from, even when order moved it
	srcMAC net.HardwareAddr // the frame's sender; for a certificate, the host it was presented to
	srcIP  netip.Addr       // invalid for ARP
	// peerMAC and peerIP name the host the event's message went to (the
	// frame's destination MAC and address); for a certificate, the host
	// that presented it. Both unset for a broadcast.
	peerMAC net.HardwareAddr
	peerIP  netip.Addr
	// dnsAnswer names the DNS transaction a DNS answer answers,
	// "A pool01.contoso.com (ID 21303)"; "" for other events.
	dnsAnswer string
	kind      Kind
	text      func(n *namer) string
	// forged says why the wire shows the message to be forged, "" when it
	// does not; nil for events that cannot be.
	forged  func(n *namer) string
	repeats int       // further identical ARP messages
	last    time.Time // when the last of them was seen
}

func newRecorder() *recorder {
	r := &recorder{
		seen:       make(map[string]bool),
		arpFold:    make(map[string]*wireEvent),
		dnsQueries: make(map[dnsTransaction]*wireEvent),
		dnsEarly:   make(map[dnsTransaction][]*wireEvent),
		conns:      make(map[tcpstream.Key]*tcpConn),
		secrets:    make(map[string]map[string][]byte),
		byRandom:   make(map[string][]*tcpConn),
	}
	r.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &r.eth, &r.arp, &r.ip4, &r.tcp, &r.udp, &r.payload)
	r.parser.IgnoreUnsupported = true
	return r
}

// Start fixes the World and the time the offsets count from (Observer).
func (r *recorder) Start(w *netsim.World) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.world, r.t0 = w, w.Now()
}

// Finish takes the run's evidence lines (Observer).
func (r *recorder) Finish(entries []lab.EvidenceEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evidence = entries
}

// ObserveFrame decodes one frame (netsim.Tap, for Observer). It copies what it keeps.
func (r *recorder) ObserveFrame(ts time.Time, frame []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames++
	r.decoded = r.decoded[:0]
	if err := r.parser.DecodeLayers(frame, &r.decoded); err != nil && len(r.decoded) == 0 {
		return
	}
	src := append(net.HardwareAddr(nil), r.eth.SrcMAC...)
	for _, lt := range r.decoded {
		switch lt {
		case layers.LayerTypeARP:
			r.observeARP(ts, src)
			return
		case layers.LayerTypeTCP:
			if r.fragment() {
				return
			}
			r.observeTCP(ts, src)
			return
		case layers.LayerTypeUDP:
			if r.fragment() {
				return
			}
			r.observeUDP(ts, src)
			return
		}
	}
}

func (r *recorder) fragment() bool {
	return r.ip4.Flags&layers.IPv4MoreFragments != 0 || r.ip4.FragOffset != 0
}

// add appends a wire event unless key was reported already ("" never is).
// An event without a frame number gets the current frame's.
func (r *recorder) add(key string, e *wireEvent) {
	if e.order == 0 {
		e.order = r.frames
	}
	e.frame = e.order
	if key != "" {
		if r.seen[key] {
			return
		}
		r.seen[key] = true
	}
	r.wire = append(r.wire, e)
}

func (r *recorder) observeARP(ts time.Time, src net.HardwareAddr) {
	a := &r.arp
	if a.Protocol != layers.EthernetTypeIPv4 || len(a.SourceProtAddress) != 4 || len(a.DstProtAddress) != 4 {
		return
	}
	sender := netip.AddrFrom4([4]byte(a.SourceProtAddress))
	target := netip.AddrFrom4([4]byte(a.DstProtAddress))
	senderMAC := append(net.HardwareAddr(nil), a.SourceHwAddress...)
	op := a.Operation
	key := fmt.Sprintf("arp|%d|%v|%v|%v|%v", op, src, sender, senderMAC, target)
	if e := r.arpFold[key]; e != nil {
		e.repeats++
		e.last = ts
		return
	}
	e := &wireEvent{at: ts, srcMAC: src, kind: ARP}
	if op == layers.ARPReply {
		e.peerMAC, e.peerIP = dstMAC(&r.eth), target
	}
	e.forged = func(n *namer) string { return n.spoofed(sender, senderMAC) }
	switch {
	case op == layers.ARPRequest && sender == target:
		e.text = func(n *namer) string {
			return fmt.Sprintf("ARP announce %v is-at %v%s", sender, senderMAC, n.spoofed(sender, senderMAC))
		}
	case op == layers.ARPRequest:
		e.text = func(n *namer) string {
			return fmt.Sprintf("ARP who-has %v tell %v%s", target, sender, n.spoofed(sender, senderMAC))
		}
	case op == layers.ARPReply:
		e.text = func(n *namer) string {
			return fmt.Sprintf("ARP is-at %v -> %v, to %s%s", sender, senderMAC, n.addr(target), n.spoofed(sender, senderMAC))
		}
	default:
		return
	}
	r.arpFold[key] = e
	r.add("", e)
}

func (r *recorder) observeUDP(ts time.Time, src net.HardwareAddr) {
	if r.udp.SrcPort != 53 && r.udp.DstPort != 53 {
		return
	}
	from := netip.AddrPortFrom(addr4(r.ip4.SrcIP), uint16(r.udp.SrcPort))
	to := netip.AddrPortFrom(addr4(r.ip4.DstIP), uint16(r.udp.DstPort))
	r.observeDNS(ts, src, from, to, r.udp.Payload, "")
}

// timeline resolves names and returns the sorted events.
func (r *recorder) timeline() Events {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushSealed()
	// Records decrypted once their secret came were reported late: put
	// the events back in the order of their frames.
	slices.SortStableFunc(r.wire, func(a, b *wireEvent) int {
		return cmp.Or(cmp.Compare(a.order, b.order), cmp.Compare(a.sub, b.sub))
	})
	n := newNamer(r.world)
	r.judge()
	var tl Events
	// anchors: when each DNS transaction was answered (by a forged
	// answer, if one came), for the evidence lines that name it.
	anchors := make(map[string]time.Duration)
	forgedAnchor := make(map[string]bool)
	for _, e := range r.wire {
		if e.dnsAnswer == "" {
			continue
		}
		forged := e.forged != nil && e.forged(n) != ""
		if _, ok := anchors[e.dnsAnswer]; !ok || forged && !forgedAnchor[e.dnsAnswer] {
			anchors[e.dnsAnswer], forgedAnchor[e.dnsAnswer] = e.at.Sub(r.t0), forged
		}
	}
	delete(anchors, "")
	for _, e := range r.wire {
		host := n.host(e.srcMAC, e.srcIP)
		forged := e.forged != nil && e.forged(n) != ""
		if forged && e.srcIP.IsValid() && n.impostor(e.srcMAC, e.srcIP) == "" {
			// The frame claims the MAC of the address it forges too:
			// who really sent it, the wire does not say.
			host = ""
		}
		text := e.text(n)
		if e.repeats > 0 {
			noun := "times"
			if e.repeats == 1 {
				noun = "time"
			}
			text += fmt.Sprintf(" [repeated %d more %s, last at %s]", e.repeats, noun, FormatOffset(e.last.Sub(r.t0)))
		}
		var peer string
		if len(e.peerMAC) > 0 || e.peerIP.IsValid() {
			peer = n.host(e.peerMAC, e.peerIP)
		}
		tl = append(tl, Event{At: e.at.Sub(r.t0), Host: host, Peer: peer, Kind: e.kind, Text: text, Forged: forged, Frame: e.frame})
	}
	tl = append(tl, r.certificateEvents(n)...)
	for _, e := range r.evidence {
		at := e.At.Sub(r.t0)
		ev := Event{At: at, Recorded: at, Host: e.Actor, Kind: Evidence, Text: "evidence: " + e.Text}
		if when, ok := anchors[dnsTransactionIn(e.Text)]; ok && when < at {
			ev.At = when
		}
		if !e.Occurred.IsZero() && e.Occurred.Before(e.At) {
			ev.At = e.Occurred.Sub(r.t0)
		}
		tl = append(tl, ev)
	}
	slices.SortStableFunc(tl, func(a, b Event) int { return cmp.Compare(a.At, b.At) })
	return tl
}

// namer turns the addresses seen on the wire into host names, with what
// the World knows after the run.
type namer struct {
	w    *netsim.World
	macs map[string]string
	ips  map[netip.Addr][]*netsim.NIC
}

func newNamer(w *netsim.World) *namer {
	return &namer{w: w, macs: make(map[string]string), ips: make(map[netip.Addr][]*netsim.NIC)}
}

// macHost is the name of the host with a NIC of that MAC, or "".
func (n *namer) macHost(mac net.HardwareAddr) string {
	if n.w == nil || len(mac) == 0 {
		return ""
	}
	k := string(mac)
	if name, ok := n.macs[k]; ok {
		return name
	}
	name := ""
	if nic := n.w.NICByMAC(mac); nic != nil {
		name = nic.Host().Name()
	}
	n.macs[k] = name
	return name
}

func (n *namer) nics(a netip.Addr) []*netsim.NIC {
	if n.w == nil {
		return nil
	}
	if nics, ok := n.ips[a]; ok {
		return nics
	}
	nics := n.w.NICsByAddr(a)
	n.ips[a] = nics
	return nics
}

// ipHost is the name of the one host holding a, or "" (none, or several).
func (n *namer) ipHost(a netip.Addr) string {
	if nics := n.nics(a); len(nics) == 1 {
		return nics[0].Host().Name()
	}
	return ""
}

// host names a frame's sender: the owner of its source MAC, else of its
// source address.
func (n *namer) host(mac net.HardwareAddr, ip netip.Addr) string {
	if name := n.macHost(mac); name != "" {
		return name
	}
	if ip.IsValid() {
		return n.ipHost(ip)
	}
	return ""
}

// addr is "10.0.0.11 (fe01)", or the bare address when nobody or several
// hosts hold it.
func (n *namer) addr(a netip.Addr) string {
	if name := n.ipHost(a); name != "" {
		return fmt.Sprintf("%v (%s)", a, name)
	}
	return a.String()
}

// addrPort is "10.0.0.11:5061 (fe01)".
func (n *namer) addrPort(ap netip.AddrPort) string {
	if name := n.ipHost(ap.Addr()); name != "" {
		return fmt.Sprintf("%v (%s)", ap, name)
	}
	return ap.String()
}

// spoofed is " (spoofed: 10.0.0.11 is fe01, at <mac>)" when an ARP
// message claims for ip a MAC that no NIC holding ip has; else "".
func (n *namer) spoofed(ip netip.Addr, mac net.HardwareAddr) string {
	nics := n.nics(ip)
	if len(nics) == 0 {
		return ""
	}
	for _, nic := range nics {
		if slices.Equal(nic.MAC(), mac) {
			return ""
		}
	}
	return fmt.Sprintf(" (spoofed: %v is %s, at %v)", ip, nics[0].Host().Name(), nics[0].MAC())
}

// impostor says why a frame from mac claiming source address ip was sent
// by another host than ip's: "sent from mallory's MAC 02:..., not
// dns01's", when a NIC holding ip is on the segment of the NIC with mac
// (its owner would have sent the frame itself) and has another MAC. ""
// otherwise: a router forwarding a frame from another segment, an
// unknown MAC or address.
func (n *namer) impostor(mac net.HardwareAddr, ip netip.Addr) string {
	if n.w == nil || len(mac) == 0 || !ip.IsValid() {
		return ""
	}
	sender := n.w.NICByMAC(mac)
	if sender == nil {
		return ""
	}
	nics := n.nics(ip)
	for _, nic := range nics {
		if slices.Equal(nic.MAC(), mac) {
			return ""
		}
	}
	for _, nic := range nics {
		if nic.Segment() == sender.Segment() {
			return fmt.Sprintf("sent from %s's MAC %v, not %s's", sender.Host().Name(), mac, nic.Host().Name())
		}
	}
	return ""
}

// dstMAC is a copy of the frame's destination MAC, nil for a broadcast
// or multicast.
func dstMAC(eth *layers.Ethernet) net.HardwareAddr {
	if len(eth.DstMAC) == 0 || eth.DstMAC[0]&1 != 0 {
		return nil
	}
	return append(net.HardwareAddr(nil), eth.DstMAC...)
}

func addr4(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip.To4())
	return a
}
