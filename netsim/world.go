package netsim

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// ErrWorldClosed is returned by operations on a World, or on anything in it,
// after World.Close. It wraps net.ErrClosed.
var ErrWorldClosed = fmt.Errorf("netsim: world closed: %w", net.ErrClosed)

// Config describes a World.
type Config struct {
	// Seed seeds every random choice the World makes (TCP initial sequence
	// numbers, ephemeral ports, IPv4 identifiers, every impairment's
	// choices). Two Worlds with the same seed and the same sequence of calls
	// and frames make the same choices. Zero picks a random seed; World.Seed reports it.
	Seed uint64
	// Clock is the World's time source. Nil means SystemClock.
	Clock Clock
}

// World is one simulated network: segments, hosts and routers, with one
// clock and one source of randomness. Everything it starts stops at Close.
// A World is safe for concurrent use.
type World struct {
	clock Clock
	seed  uint64

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // NIC receive loops

	frames framePool  // recycled frame buffers
	notes  frameNotes // packet comments for captures (NoteFrame)

	mu       sync.Mutex
	rand     *rand.Rand
	segments []*Segment
	hosts    []*Host
	nextMAC  uint32
	impair   impairRules
}

// NewWorld returns an empty World.
func NewWorld(cfg Config) *World {
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	clock := cfg.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	w := &World{
		clock: clock,
		seed:  seed,
		done:  make(chan struct{}),
		rand:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	w.frames.init()
	return w
}

// Seed returns the seed the World's randomness was derived from.
func (w *World) Seed() uint64 { return w.seed }

// Clock returns the World's clock.
func (w *World) Clock() Clock { return w.clock }

// Now returns the current time on the World's clock.
func (w *World) Now() time.Time { return w.clock.Now() }

// Done returns a channel that is closed when the World is closed.
func (w *World) Done() <-chan struct{} { return w.done }

// Close stops the World: every blocked Read, Write, Accept and Dial returns
// ErrWorldClosed, every Bridge stops and resets the connections it carries,
// every goroutine the World started (a Bridge's included) has returned when
// Close returns, and frames still in flight are discarded. Close is
// idempotent and always returns nil.
func (w *World) Close() error {
	w.closeOnce.Do(func() {
		close(w.done)
		w.mu.Lock()
		hosts := append([]*Host(nil), w.hosts...)
		w.mu.Unlock()
		for _, h := range hosts {
			h.shutdown()
		}
		w.wg.Wait()
	})
	return nil
}

func (w *World) closed() bool { return isClosed(w.done) }

// Segments returns the World's segments in creation order.
func (w *World) Segments() []*Segment {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*Segment(nil), w.segments...)
}

// Hosts returns the World's hosts and routers in creation order.
func (w *World) Hosts() []*Host {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*Host(nil), w.hosts...)
}

// randUint32 returns a value from the World's seeded source.
func (w *World) randUint32() uint32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rand.Uint32()
}

// newMAC returns the next locally administered unicast MAC address.
func (w *World) newMAC() net.HardwareAddr {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nextMAC++
	n := w.nextMAC
	return net.HardwareAddr{0x02, 0x00, 0x5e, byte(n >> 16), byte(n >> 8), byte(n)}
}

// go runs f in a goroutine that Close waits for.
func (w *World) goTracked(f func()) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		f()
	}()
}
