package netsim

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
)

// handshakeChoices makes three TCP connections and a UDP socket in a World
// seeded with seed and returns every random choice visible on the wire:
// ephemeral ports, initial sequence numbers and IPv4 identifiers of the
// SYNs and SYN-ACKs, and the UDP socket's port.
func handshakeChoices(t *testing.T, seed uint64) []string {
	var out []string
	// In a bubble, synctest.Wait lets each connection finish closing
	// before the next opens, so even the IPv4 identifiers, which count the
	// frames a host sent, are reproducible.
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{seed: seed})
		if got := p.w.Seed(); got != seed {
			t.Errorf("Seed() = %d, want %d", got, seed)
		}
		rec := &recorder{}
		p.lan.AddTap(rec)
		l, _ := p.b.Listen("tcp", ":80")
		defer l.Close()
		for range 3 {
			c, err := p.a.Dial("tcp", "10.0.0.2:80")
			if err != nil {
				t.Fatal(err)
			}
			s, _ := l.Accept()
			c.Close()
			s.Close()
			synctest.Wait()
		}
		u, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:53")
		defer u.Close()
		for _, pk := range rec.tcpPackets() {
			if pk.tcp.SYN {
				out = append(out, fmt.Sprintf("%s -> %s seq %d id %d", pk.src(), pk.dst(), pk.tcp.Seq, pk.ip.Id))
			}
		}
		if len(out) != 6 {
			t.Fatalf("saw %d SYNs, want 6", len(out))
		}
		out = append(out, "udp "+u.LocalAddr().String())
	})
	return out
}

// TestSeedDeterminism: the same seed makes the same choices; another seed
// makes different ones.
func TestSeedDeterminism(t *testing.T) {
	first := handshakeChoices(t, 42)
	if again := handshakeChoices(t, 42); !slices.Equal(first, again) {
		t.Errorf("same seed, different choices:\n%q\n%q", first, again)
	}
	other := handshakeChoices(t, 43)
	for i := range first {
		if first[i] == other[i] {
			t.Errorf("seeds 42 and 43 both chose %q", first[i])
		}
	}
	// The three connections use three different ports and ISNs.
	seen := map[string]bool{}
	for _, s := range first[:6:6] {
		seen[s] = true
	}
	if len(seen) != 6 {
		t.Errorf("repeated choices within one World: %q", first)
	}
}

func TestZeroSeedIsRandom(t *testing.T) {
	a, b := NewWorld(Config{}), NewWorld(Config{})
	defer a.Close()
	defer b.Close()
	if a.Seed() == 0 || a.Seed() == b.Seed() {
		t.Errorf("zero seeds became %d and %d, want two random non-zero seeds", a.Seed(), b.Seed())
	}
}
