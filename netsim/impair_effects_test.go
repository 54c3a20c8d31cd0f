package netsim

import (
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// arrival is one datagram of an impairment experiment: its number and when
// it arrived, after the experiment's start.
type arrival struct {
	seq int
	at  time.Duration
}

func seqs(as []arrival) []int {
	out := make([]int, len(as))
	for i, a := range as {
		out[i] = a.seq
	}
	return out
}

// impairPair is a pair with static ARP both ways, so that only the frames
// an experiment sends cross the wire.
func impairPair(t *testing.T, seed uint64) *pair {
	p := newPair(t, pairConfig{seed: seed})
	p.a.SetStaticARP(p.b.Addr(), p.nb.MAC())
	p.b.SetStaticARP(p.a.Addr(), p.na.MAC())
	return p
}

// udpRun sends n numbered datagrams of size bytes (at least 4) from a to
// b:9, one every gap (experiments sending more than b's socket queues,
// udpQueueDatagrams, need a gap), and returns what b received, in order, with arrival
// times on the World clock. Call it inside a synctest bubble.
func udpRun(t *testing.T, p *pair, n, size int, gap time.Duration) []arrival {
	t.Helper()
	pb, err := p.b.ListenPacket("udp", ":9")
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	c, err := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	var got []arrival
	var wg sync.WaitGroup
	wg.Go(func() {
		pb.SetReadDeadline(start.Add(time.Hour))
		buf := make([]byte, size)
		for {
			if _, _, err := pb.ReadFrom(buf); err != nil {
				return
			}
			got = append(got, arrival{int(binary.BigEndian.Uint32(buf)), time.Since(start)})
		}
	})
	msg := make([]byte, size)
	for i := range n {
		binary.BigEndian.PutUint32(msg, uint32(i))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if gap > 0 {
			time.Sleep(gap)
		}
	}
	wg.Wait()
	return got
}

// impairRun runs udpRun in a fresh bubble and World with seed, after
// setup has impaired it. It returns the arrivals and the (closed) pair, for
// its statistics.
func impairRun(t *testing.T, seed uint64, n, size int, gap time.Duration, setup func(p *pair)) ([]arrival, *pair) {
	var got []arrival
	var p *pair
	synctest.Test(t, func(t *testing.T) {
		p = impairPair(t, seed)
		setup(p)
		got = udpRun(t, p, n, size, gap)
	})
	return got, p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestImpairLoss: Loss drops about its share of datagrams, the same ones for
// the same seed, whichever point it is set on; loss on two points compounds.
func TestImpairLoss(t *testing.T) {
	const n = 1000
	points := map[string]func(p *pair, imp Impairment) error{
		"segment":  func(p *pair, imp Impairment) error { return p.lan.SetImpairment(imp) },
		"sender":   func(p *pair, imp Impairment) error { return p.na.SetImpairment(imp) },
		"receiver": func(p *pair, imp Impairment) error { return p.b.SetImpairment(imp) },
	}
	for name, set := range points {
		t.Run(name, func(t *testing.T) {
			run := func(seed uint64) []int {
				got, _ := impairRun(t, seed, n, 8, time.Microsecond, func(p *pair) { must(t, set(p, Impairment{Loss: 0.3})) })
				return seqs(got)
			}
			first := run(42)
			if len(first) < 700-90 || len(first) > 700+90 { // six standard deviations
				t.Errorf("loss 0.3 delivered %d of %d", len(first), n)
			}
			if again := run(42); !slices.Equal(first, again) {
				t.Errorf("same seed, different datagrams lost: %d then %d delivered", len(first), len(again))
			}
			if other := run(43); slices.Equal(first, other) {
				t.Error("another seed lost exactly the same datagrams")
			}
		})
	}
	t.Run("compounds", func(t *testing.T) {
		got, _ := impairRun(t, 7, n, 8, time.Microsecond, func(p *pair) {
			must(t, p.lan.SetImpairment(Impairment{Loss: 0.5}))
			must(t, p.nb.SetImpairment(Impairment{Loss: 0.5}))
		})
		if len(got) < 250-82 || len(got) > 250+82 {
			t.Errorf("loss 0.5 twice delivered %d of %d, want about a quarter", len(got), n)
		}
	})
}

// TestImpairLossTCP: unlike NICConfig.Loss, Impairment.Loss drops TCP too.
func TestImpairLossTCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := impairPair(t, 1)
		must(t, p.na.SetImpairment(Impairment{Loss: 1}))
		l, _ := p.b.Listen("tcp", ":80")
		defer l.Close()
		var frames int
		p.lan.AddTap(TapFunc(func(time.Time, []byte) { frames++ }))
		if _, err := p.a.Dial("tcp", "10.0.0.2:80"); err == nil {
			t.Fatal("Dial over a link with loss 1 succeeded")
		}
		if frames != 0 {
			t.Errorf("%d frames crossed the segment, want none", frames)
		}
		if s := p.na.ImpairStats(); s.Lost != synMaxTries {
			t.Errorf("stats %+v, want %d SYNs lost", s, synMaxTries)
		}
	})
}

// TestImpairDelay: delays of the sender, the segment and the receiver add
// up, on the World clock.
func TestImpairDelay(t *testing.T) {
	got, _ := impairRun(t, 1, 3, 8, 0, func(p *pair) {
		must(t, p.na.SetImpairment(Impairment{Delay: 1 * time.Millisecond}))
		must(t, p.lan.SetImpairment(Impairment{Delay: 10 * time.Millisecond}))
		must(t, p.nb.SetImpairment(Impairment{Delay: 100 * time.Millisecond}))
	})
	want := []arrival{{0, 111 * time.Millisecond}, {1, 111 * time.Millisecond}, {2, 111 * time.Millisecond}}
	if !slices.Equal(got, want) {
		t.Errorf("arrivals %v, want %v", got, want)
	}
}

// TestImpairJitter: jitter spreads arrivals over [Delay, Delay+Jitter),
// reordering datagrams, the same way for the same seed.
func TestImpairJitter(t *testing.T) {
	const n = 200
	run := func(seed uint64) []arrival {
		got, _ := impairRun(t, seed, n, 8, 0, func(p *pair) {
			must(t, p.lan.SetImpairment(Impairment{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}))
		})
		return got
	}
	got := run(3)
	if len(got) != n {
		t.Fatalf("%d of %d arrived", len(got), n)
	}
	times := map[time.Duration]bool{}
	for _, a := range got {
		if a.at < 10*time.Millisecond || a.at >= 15*time.Millisecond {
			t.Errorf("datagram %d arrived after %v, want in [10ms, 15ms)", a.seq, a.at)
		}
		times[a.at] = true
	}
	if len(times) < n/2 {
		t.Errorf("only %d distinct arrival times", len(times))
	}
	if slices.IsSorted(seqs(got)) {
		t.Error("jitter reordered nothing")
	}
	if again := run(3); !slices.Equal(got, again) {
		t.Error("same seed, different arrivals")
	}
}

// TestImpairReorder: reordered datagrams skip the delay and overtake those
// still delayed; the others keep their order.
func TestImpairReorder(t *testing.T) {
	const n = 400
	got, p := impairRun(t, 5, n, 8, time.Millisecond, func(p *pair) {
		must(t, p.lan.SetImpairment(Impairment{Delay: 50 * time.Millisecond, Reorder: 0.25}))
	})
	stats := p.lan.ImpairStats()
	if len(got) != n {
		t.Fatalf("%d of %d arrived", len(got), n)
	}
	var early, late []int
	for _, a := range got {
		sent := time.Duration(a.seq) * time.Millisecond
		switch a.at - sent {
		case 0:
			early = append(early, a.seq)
		case 50 * time.Millisecond:
			late = append(late, a.seq)
		default:
			t.Fatalf("datagram %d sent at %v arrived at %v", a.seq, sent, a.at)
		}
	}
	if len(early) < 100-52 || len(early) > 100+52 {
		t.Errorf("%d of %d reordered, want about a quarter", len(early), n)
	}
	if uint64(len(early)) != stats.Reordered {
		t.Errorf("%d arrived early, stats count %d", len(early), stats.Reordered)
	}
	if !slices.IsSorted(early) || !slices.IsSorted(late) || slices.IsSorted(seqs(got)) {
		t.Errorf("order: early %v late %v", early, late)
	}
}

// TestImpairDuplicate: duplicated datagrams arrive twice, back to back.
func TestImpairDuplicate(t *testing.T) {
	const n = 300
	t.Run("all", func(t *testing.T) {
		arrivals, _ := impairRun(t, 1, n, 8, time.Microsecond, func(p *pair) { must(t, p.na.SetImpairment(Impairment{Duplicate: 1})) })
		got := seqs(arrivals)
		var want []int
		for i := range n {
			want = append(want, i, i)
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("some", func(t *testing.T) {
		arrivals, p := impairRun(t, 1, n, 8, 0, func(p *pair) {
			must(t, p.lan.SetImpairment(Impairment{Duplicate: 0.1}))
		})
		got, stats := seqs(arrivals), p.lan.ImpairStats()
		if dups := len(got) - n; dups < 5 || dups > 60 || uint64(dups) != stats.Duplicated {
			t.Errorf("%d duplicates, stats count %d", dups, stats.Duplicated)
		}
		if !slices.IsSorted(got) {
			t.Error("duplicates out of order")
		}
	})
}

// TestImpairCorrupt: corrupted frames are real frames with one bit flipped,
// shown by the segment's capture, counted, and dropped by the receiver on
// their bad checksum.
func TestImpairCorrupt(t *testing.T) {
	const n = 200
	for _, size := range []int{8, 1000} {
		synctest.Test(t, func(t *testing.T) {
			p := impairPair(t, 11)
			var mu sync.Mutex
			var seen [][]byte
			p.lan.AddTap(TapFunc(func(_ time.Time, f []byte) {
				mu.Lock()
				seen = append(seen, CloneFrame(f))
				mu.Unlock()
			}))
			var clean [][]byte
			p.na.AddTap(TapFunc(func(_ time.Time, f []byte) { clean = append(clean, CloneFrame(f)) }))
			must(t, p.na.SetImpairment(Impairment{Corrupt: 1}))
			if got := udpRun(t, p, n, size, 0); len(got) != 0 {
				t.Errorf("size %d: %d corrupted datagrams delivered", size, len(got))
			}
			if s := p.na.ImpairStats(); s.Corrupted != n {
				t.Errorf("stats %+v, want %d corrupted", s, n)
			}
			if len(seen) != n || len(clean) != n {
				t.Fatalf("capture has %d frames, sender's %d, want %d", len(seen), len(clean), n)
			}
			for i, f := range seen {
				if checksumsOK(f) {
					t.Errorf("size %d: captured frame %d has good checksums", size, i)
				}
				if d := bitsDiffer(f, clean[i]); d != 1 {
					t.Errorf("size %d: frame %d differs from what was sent in %d bits", size, i, d)
				}
			}
		})
	}
}

// checksumsOK verifies an IPv4 frame's header and transport checksums.
func checksumsOK(f []byte) bool {
	ip := f[ethHeaderLen:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if foldSum(onesSum(0, ip[:ihl])) != 0xffff || total > len(ip) {
		return false
	}
	return transportChecksumOK(ip[:ihl], ip[ihl:total], ip[9])
}

func bitsDiffer(a, b []byte) int {
	if len(a) != len(b) {
		return -1
	}
	d := 0
	for i := range a {
		for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
			d++
		}
	}
	return d
}

// TestImpairRate: a rate spaces frames by their transmission time and tail
// drops beyond the queue.
func TestImpairRate(t *testing.T) {
	const size = 1000 - ethHeaderLen - ipv4HeaderLen - udpHeaderLen // 1000-byte frames
	t.Run("throughput", func(t *testing.T) {
		got, _ := impairRun(t, 1, 10, size, 0, func(p *pair) {
			must(t, p.lan.SetImpairment(Impairment{Rate: 10_000})) // 100 ms a frame
		})
		for i, a := range got {
			if want := time.Duration(i+1) * 100 * time.Millisecond; a.seq != i || a.at != want {
				t.Errorf("arrival %d: %v, want datagram %d at %v", i, a, i, want)
			}
		}
		if len(got) != 10 {
			t.Errorf("%d of 10 arrived", len(got))
		}
	})
	t.Run("tail drop", func(t *testing.T) {
		got, p := impairRun(t, 1, 20, size, 0, func(p *pair) {
			must(t, p.nb.SetImpairment(Impairment{Rate: 10_000, QueueLimit: 5}))
		})
		stats := p.nb.ImpairStats()
		if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(seqs(got), want) {
			t.Errorf("delivered %v, want %v (one on the wire, five queued)", seqs(got), want)
		}
		if stats.QueueDrops != 14 {
			t.Errorf("stats %+v, want 14 queue drops", stats)
		}
	})
	t.Run("queue drains", func(t *testing.T) {
		// One frame every 100 ms at 10 kB/s never waits.
		got, _ := impairRun(t, 1, 20, size, 100*time.Millisecond, func(p *pair) {
			must(t, p.lan.SetImpairment(Impairment{Rate: 10_000, QueueLimit: 1}))
		})
		if len(got) != 20 {
			t.Errorf("%d of 20 arrived", len(got))
		}
	})
}

// TestImpairPartitionAndRuntimeChange: a partition drops everything, ARP
// included; changing or removing an impairment acts on later frames only.
func TestImpairPartitionAndRuntimeChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{}) // dynamic ARP: the partition cuts it too
		pb, _ := p.b.ListenPacket("udp", ":9")
		defer pb.Close()
		c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
		defer c.Close()
		recv := func() (string, time.Duration, bool) {
			start := time.Now()
			pb.SetReadDeadline(start.Add(5 * time.Second))
			buf := make([]byte, 16)
			n, _, err := pb.ReadFrom(buf)
			return string(buf[:n]), time.Since(start), err == nil
		}
		must(t, p.w.ImpairSegments(Impairment{Partition: true}))
		c.Write([]byte("cut"))
		if msg, _, ok := recv(); ok {
			t.Errorf("%q crossed a partition", msg)
		}
		if len(p.a.ARPTable()) != 0 {
			t.Error("ARP resolved across a partition")
		}
		must(t, p.lan.SetImpairment(Impairment{Delay: 30 * time.Millisecond}))
		c.Write([]byte("slow"))
		// ARP request and reply, then the datagram: three crossings.
		if msg, d, ok := recv(); !ok || msg != "slow" || d != 90*time.Millisecond {
			t.Errorf("got %q after %v (%v), want slow after 90ms", msg, d, ok)
		}
		inFlight := make(chan struct{})
		go func() {
			c.Write([]byte("old"))
			time.Sleep(10 * time.Millisecond)
			must(t, p.lan.SetImpairment(Impairment{}))
			c.Write([]byte("new"))
			close(inFlight)
		}()
		if msg, d, ok := recv(); !ok || msg != "new" || d != 10*time.Millisecond {
			t.Errorf("got %q after %v, want new after 10ms", msg, d)
		}
		if msg, d, ok := recv(); !ok || msg != "old" || d != 20*time.Millisecond {
			t.Errorf("got %q after %v more, want old 20ms later: set delays frames already sent", msg, d)
		}
		<-inFlight
		if got := p.lan.Impairment(); !got.IsZero() {
			t.Errorf("Impairment() = %v after removal", got)
		}
	})
}

// TestImpairLater: World rules reach hosts and segments created after them.
func TestImpairLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := NewWorld(Config{Seed: 1})
		defer w.Close()
		slow := Impairment{Delay: 7 * time.Millisecond}
		must(t, w.ImpairHost("late", slow))
		must(t, w.ImpairSegments(Impairment{Loss: 0.1}))
		must(t, w.ImpairSegment("wan", Impairment{Delay: time.Second}))
		lan := w.NewSegment("lan", SegmentConfig{})
		wan := w.NewSegment("wan", SegmentConfig{})
		h := w.NewHost("late", HostConfig{})
		n, err := h.AddNIC(lan, NICConfig{Addr: mustPrefix("10.0.0.9/24"), Latency: time.Millisecond})
		must(t, err)
		other, _ := addHost(t, w, lan, "other", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.8/24"), Latency: time.Millisecond})
		if got := n.Impairment(); got != slow {
			t.Errorf("late host's NIC has %v, want %v", got, slow)
		}
		if got := other.NICs()[0].Impairment(); got != (Impairment{Delay: time.Millisecond}) {
			t.Errorf("other host's NIC has %v, want its config's", got)
		}
		if got := lan.Impairment(); got != (Impairment{Loss: 0.1}) {
			t.Errorf("lan has %v", got)
		}
		if got := wan.Impairment(); got != (Impairment{Delay: time.Second}) {
			t.Errorf("wan has %v", got)
		}
		must(t, w.ImpairSegments(Impairment{}))
		if !wan.Impairment().IsZero() || !w.NewSegment("wan", SegmentConfig{}).Impairment().IsZero() {
			t.Error("ImpairSegments did not override the segment rule")
		}
	})
}

// TestImpairValidate: invalid impairments are refused with the field named,
// and leave the previous impairment in place.
func TestImpairValidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		good := Impairment{Delay: time.Millisecond}
		must(t, p.lan.SetImpairment(good))
		for _, tt := range []struct {
			imp   Impairment
			field string
		}{
			{Impairment{Loss: 1.5}, "Loss"},
			{Impairment{Reorder: -0.1}, "Reorder"},
			{Impairment{Duplicate: 2}, "Duplicate"},
			{Impairment{Corrupt: -1}, "Corrupt"},
			{Impairment{Delay: -time.Second}, "Delay"},
			{Impairment{Jitter: -1}, "Jitter"},
			{Impairment{Rate: -5}, "Rate"},
			{Impairment{QueueLimit: -1}, "QueueLimit"},
		} {
			for name, err := range map[string]error{
				"segment": p.lan.SetImpairment(tt.imp),
				"nic":     p.na.SetImpairment(tt.imp),
				"host":    p.a.SetImpairment(tt.imp),
				"world":   p.w.ImpairHost("x", tt.imp),
			} {
				ie, ok := err.(*ImpairmentError)
				if !ok || ie.Field != tt.field {
					t.Errorf("%s %+v: error %v, want one naming %s", name, tt.imp, err, tt.field)
				}
			}
		}
		if got := p.lan.Impairment(); got != good {
			t.Errorf("a refused impairment replaced %v with %v", good, got)
		}
		if _, err := p.a.AddNIC(p.lan, NICConfig{Addr: mustPrefix("10.0.0.5/24"), Loss: 2}); err == nil {
			t.Error("AddNIC accepted loss 2")
		}
	})
}

// TestImpairDeterminism: every effect at once, on every point, makes the
// same choices for the same seed.
func TestImpairDeterminism(t *testing.T) {
	imp := Impairment{Loss: 0.1, Delay: 3 * time.Millisecond, Jitter: 4 * time.Millisecond, Reorder: 0.1, Duplicate: 0.1, Corrupt: 0.1, Rate: 1 << 20}
	run := func(seed uint64) []arrival {
		got, _ := impairRun(t, seed, 300, 100, 100*time.Microsecond, func(p *pair) {
			must(t, p.lan.SetImpairment(imp))
			must(t, p.a.SetImpairment(imp))
			must(t, p.b.SetImpairment(imp))
		})
		return got
	}
	first := run(9)
	if len(first) == 0 {
		t.Fatal("nothing arrived")
	}
	if again := run(9); !slices.Equal(first, again) {
		t.Errorf("same seed: %d then %d arrivals, differing", len(first), len(again))
	}
}

// TestImpairReorderWithoutDelay: on a link with no delay a reordered
// datagram is held back ReorderHold, and those sent after it overtake it.
func TestImpairReorderWithoutDelay(t *testing.T) {
	const n = 400
	gap := 100 * time.Microsecond
	got, p := impairRun(t, 5, n, 8, gap, func(p *pair) {
		must(t, p.lan.SetImpairment(Impairment{Reorder: 0.25}))
	})
	if len(got) != n {
		t.Fatalf("%d of %d arrived", len(got), n)
	}
	held := 0
	for _, a := range got {
		switch sent := time.Duration(a.seq) * gap; a.at - sent {
		case 0:
		case ReorderHold:
			held++
		default:
			t.Fatalf("datagram %d sent at %v arrived at %v", a.seq, sent, a.at)
		}
	}
	if held < 100-52 || held > 100+52 || uint64(held) != p.lan.ImpairStats().Reordered {
		t.Errorf("%d held back (stats %d), want about a quarter of %d", held, p.lan.ImpairStats().Reordered, n)
	}
	if slices.IsSorted(seqs(got)) {
		t.Error("every datagram arrived in order")
	}
}
