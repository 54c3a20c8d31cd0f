package netsim

import (
	"errors"
	"sync"

	"github.com/gopacket/gopacket"
)

// frameBuffer is a gopacket.SerializeBuffer over a preallocated frame whose
// payload is already in place: gopacket prepends the headers in front of it,
// so a frame is built with one buffer and one payload copy.
type frameBuffer struct {
	data         []byte // len = end of payload; cap leaves room for Ethernet padding
	start        int
	payloadStart int
	payloadEnd   int
	layers       []gopacket.LayerType
}

var errFrameBuffer = errors.New("netsim: frame buffer too small")

func (b *frameBuffer) Bytes() []byte { return b.data[b.start:] }

func (b *frameBuffer) PrependBytes(n int) ([]byte, error) {
	if n > b.start {
		return nil, errFrameBuffer
	}
	b.start -= n
	return b.data[b.start : b.start+n], nil
}

func (b *frameBuffer) AppendBytes(n int) ([]byte, error) {
	l := len(b.data)
	if l+n > cap(b.data) {
		return nil, errFrameBuffer
	}
	b.data = b.data[:l+n]
	return b.data[l:], nil
}

func (b *frameBuffer) Clear() error {
	b.start = b.payloadStart
	b.data = b.data[:b.payloadEnd]
	b.layers = b.layers[:0]
	return nil
}

func (b *frameBuffer) Layers() []gopacket.LayerType { return b.layers }

func (b *frameBuffer) PushLayer(l gopacket.LayerType) { b.layers = append(b.layers, l) }

// minFrameLen is the shortest Ethernet frame without FCS; gopacket pads
// shorter ones.
const minFrameLen = 60

// framePool recycles frame buffers so that a bulk TCP transfer allocates
// almost nothing per segment. A buffer returns to the pool only when exactly
// one owner is known to hold it: a frame that a hook saw, that was flooded
// to several ports, or that was injected is left to the garbage collector.
// Buffers are pooled as array pointers, so Put allocates nothing.
type framePool struct {
	small  sync.Pool // *[smallFrameCap]byte: standard Ethernet frames
	medium sync.Pool // *[mediumFrameCap]byte: jumbo frames
	large  sync.Pool // *[largeFrameCap]byte: up to the 65535-byte MTU
}

const (
	smallFrameCap  = 2 << 10
	mediumFrameCap = 16 << 10
	largeFrameCap  = 66 << 10
)

func (p *framePool) init() {}

// get returns a buffer of length n with capacity for Ethernet padding.
func (p *framePool) get(n int) []byte {
	switch need := max(n, minFrameLen); {
	case need <= smallFrameCap:
		if a, ok := p.small.Get().(*[smallFrameCap]byte); ok {
			return a[:n]
		}
		return make([]byte, n, smallFrameCap)
	case need <= mediumFrameCap:
		if a, ok := p.medium.Get().(*[mediumFrameCap]byte); ok {
			return a[:n]
		}
		return make([]byte, n, mediumFrameCap)
	case need <= largeFrameCap:
		if a, ok := p.large.Get().(*[largeFrameCap]byte); ok {
			return a[:n]
		}
		return make([]byte, n, largeFrameCap)
	default:
		return make([]byte, n, need)
	}
}

// put returns a buffer obtained from get. The caller must be its only user.
func (p *framePool) put(b []byte) {
	switch cap(b) {
	case smallFrameCap:
		p.small.Put((*[smallFrameCap]byte)(b[:smallFrameCap]))
	case mediumFrameCap:
		p.medium.Put((*[mediumFrameCap]byte)(b[:mediumFrameCap]))
	case largeFrameCap:
		p.large.Put((*[largeFrameCap]byte)(b[:largeFrameCap]))
	}
}
