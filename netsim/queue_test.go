package netsim

import (
	"net/netip"
	"testing"
	"testing/synctest"
)

// TestKickerListsEachNICOnce: a kicker recognises a NIC it already holds
// without scanning, and two kickers sharing NICs each wake them all.
func TestKickerListsEachNICOnce(t *testing.T) {
	a, b := &NIC{kick: make(chan struct{}, 1)}, &NIC{kick: make(chan struct{}, 1)}
	var k1, k2 kicker
	for range 3 {
		k1.add(a)
		k1.add(b)
	}
	if len(k1.nics) != 2 {
		t.Errorf("kicker lists %d NICs, want 2", len(k1.nics))
	}
	k2.add(a)
	k1.add(a) // a's mark is now k2's: listed again, a spare wake-up at worst
	k1.kick()
	k2.kick()
	for _, n := range []*NIC{a, b} {
		select {
		case <-n.kick:
		default:
			t.Error("a NIC was not woken")
		}
	}
}

// TestReceiveQueueShrinksAfterBurst: a NIC that queued thousands of frames
// lets the large array go once the burst has been processed.
func TestReceiveQueueShrinksAfterBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		frame := udpFrame(t, p.na.MAC(), p.nb.MAC(), netip.AddrPortFrom(p.a.Addr(), 1000), netip.AddrPortFrom(p.b.Addr(), 9), []byte("x"))
		var k kicker
		for range 4000 {
			p.nb.deliver(&k, frame, nil, 0, 0)
		}
		k.kick()
		synctest.Wait()
		p.nb.mu.Lock()
		c := cap(p.nb.queue)
		p.nb.mu.Unlock()
		if c > shrinkQueueCap {
			t.Errorf("idle receive queue keeps capacity %d after a burst of 4000", c)
		}
	})
}
