package netsim

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// impairPoint is a place on the frame path where an Impairment acts: a
// segment, or one direction of a NIC. The frame path loads cur once per
// frame; nil, the common case, costs nothing more.
type impairPoint struct {
	cur atomic.Pointer[impairer]

	lost, queueDrops, corrupted, duplicated, reordered atomic.Uint64
}

// impairer is an Impairment in effect at one point: immutable apart from
// its rate queue, and replaced as a whole when the impairment changes.
type impairer struct {
	imp Impairment
	// udpOnlyLoss limits Loss to UDP datagrams: NICConfig.Loss's meaning.
	udpOnlyLoss bool
	rate        *rateQueue // nil without Rate
}

// set puts imp in effect from the next frame on; frames already on their
// way are not affected. A new rate queue starts empty.
func (p *impairPoint) set(imp Impairment, udpOnlyLoss bool) {
	if imp.IsZero() {
		p.cur.Store(nil)
		return
	}
	im := &impairer{imp: imp, udpOnlyLoss: udpOnlyLoss}
	if imp.Rate > 0 {
		limit := imp.QueueLimit
		if limit == 0 {
			limit = DefaultQueueLimit
		}
		im.rate = &rateQueue{rate: imp.Rate, limit: limit}
	}
	p.cur.Store(im)
}

// get returns the Impairment in effect.
func (p *impairPoint) get() Impairment {
	if im := p.cur.Load(); im != nil {
		return im.imp
	}
	return Impairment{}
}

func (p *impairPoint) stats() ImpairStats {
	return ImpairStats{
		Lost:       p.lost.Load(),
		QueueDrops: p.queueDrops.Load(),
		Corrupted:  p.corrupted.Load(),
		Duplicated: p.duplicated.Load(),
		Reordered:  p.reordered.Load(),
	}
}

// verdict is what one impairment point does to one frame.
type verdict struct {
	drop    bool
	dup     bool          // pass frame on twice
	corrupt bool          // frame is a corrupted copy
	frame   []byte        // the frame to pass on
	delay   time.Duration // added by this point
}

// state returns the frame state to pass on: a duplicated or corrupted
// frame is no longer one receiver's alone to recycle, and is no longer as
// its sender's stack built it (so the receiver verifies its checksums).
func (v *verdict) state(st frameState) frameState {
	if v.dup || v.corrupt {
		return st &^ frameOwned
	}
	return st
}

// pass decides frame's fate at point p, which it reaches offset after now
// (the delay it has gathered on its way so far). All random choices are
// drawn from w's seeded source, in a fixed order, only for the effects
// that are on; so NICConfig.Loss alone draws exactly as it always has.
func (im *impairer) pass(p *impairPoint, w *World, frame []byte, offset time.Duration) verdict {
	imp := &im.imp
	v := verdict{frame: frame}
	if imp.Partition {
		p.lost.Add(1)
		return verdict{drop: true}
	}
	lossy := imp.Loss > 0 && (!im.udpOnlyLoss || isUDPFrame(frame))
	var flips flipRange
	if imp.Corrupt > 0 {
		flips = corruptible(frame)
	}
	delayed := imp.Delay > 0 || imp.Jitter > 0
	flip := -1
	reordered := false
	if lossy || flips.bits > 0 || imp.Duplicate > 0 || imp.Reorder > 0 || imp.Jitter > 0 {
		w.mu.Lock()
		r := w.rand
		if lossy && r.Float64() < imp.Loss {
			w.mu.Unlock()
			p.lost.Add(1)
			return verdict{drop: true}
		}
		if flips.bits > 0 && r.Float64() < imp.Corrupt {
			flip = int(r.Uint64N(uint64(flips.bits)))
		}
		v.dup = imp.Duplicate > 0 && r.Float64() < imp.Duplicate
		reordered = imp.Reorder > 0 && r.Float64() < imp.Reorder
		if imp.Jitter > 0 && !reordered {
			v.delay = time.Duration(r.Int64N(int64(imp.Jitter)))
		}
		w.mu.Unlock()
	}
	if im.rate != nil {
		wait, ok := im.rate.admit(w.clock.Now().Add(offset), len(frame))
		if !ok {
			p.queueDrops.Add(1)
			return verdict{drop: true}
		}
		v.delay += wait
	}
	switch {
	case !reordered:
		v.delay += imp.Delay
	case delayed:
		p.reordered.Add(1) // ahead of the delayed frames
	default:
		v.delay += ReorderHold // behind the frames sent next
		p.reordered.Add(1)
	}
	if flip >= 0 {
		v.frame, v.corrupt = flips.flip(frame, flip), true
		p.corrupted.Add(1)
	}
	if v.dup {
		p.duplicated.Add(1)
	}
	return v
}

// flipRange says which bits of a frame corruption may flip: those of its
// IPv4 packet from the second byte of the header on (the version and
// header length stay, so the header checksum is computed over the same
// bytes), except a UDP checksum field, whose zero value would mean "no
// checksum" and let the frame through. Every other single-bit flip changes
// a ones' complement sum that covers it, so the receiver's IPv4 or TCP/UDP
// checksum check drops the frame.
type flipRange struct {
	start  int // first corruptible byte
	bits   int // number of corruptible bits; 0 when none
	skipAt int // offset from start of the two UDP checksum bytes, or -1
}

func corruptible(frame []byte) flipRange {
	if len(frame) < ethHeaderLen+ipv4HeaderLen || binary.BigEndian.Uint16(frame[12:14]) != uint16(layers.EthernetTypeIPv4) {
		return flipRange{}
	}
	ip := frame[ethHeaderLen:]
	ihl := int(ip[0]&0x0f) * 4
	total := min(int(binary.BigEndian.Uint16(ip[2:4])), len(ip)) // not the Ethernet padding
	if ihl < ipv4HeaderLen || total < ihl {
		return flipRange{}
	}
	r := flipRange{start: ethHeaderLen + 1, bits: (total - 1) * 8, skipAt: -1}
	if ip[9] == uint8(layers.IPProtocolUDP) && total >= ihl+udpHeaderLen {
		r.skipAt = ihl + 6 - 1
		r.bits -= 16
	}
	return r
}

// flip returns a copy of frame with corruptible bit i flipped.
func (r flipRange) flip(frame []byte, i int) []byte {
	off := i / 8
	if r.skipAt >= 0 && off >= r.skipAt {
		off += 2
	}
	out := CloneFrame(frame)
	out[r.start+off] ^= 1 << (i % 8)
	return out
}
