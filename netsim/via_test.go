package netsim

import (
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// viaLab is an impairPair with a third host, m, the attacker, on the LAN.
type viaLab struct {
	*pair
	m  *Host
	nm *NIC
}

func newViaLab(t *testing.T, seed uint64) *viaLab {
	p := impairPair(t, seed)
	m, nm := addHost(t, p.w, p.lan, "m", HostConfig{}, NICConfig{Addr: netip.MustParsePrefix("10.0.0.66/24")})
	return &viaLab{pair: p, m: m, nm: nm}
}

// counter is a tap and a hook counting the frames it is shown.
type counter struct{ n atomic.Int64 }

func (c *counter) ObserveFrame(time.Time, []byte) { c.n.Add(1) }
func (c *counter) HandleFrame(*Frame) HookAction  { c.n.Add(1); return Pass }

// viaRun sends n datagrams from a to b with plain and Via observers of m's
// NIC installed, after setup, and returns what b received and what each
// observer saw.
func viaRun(t *testing.T, seed uint64, n int, setup func(l *viaLab)) (got []int, plainTap, viaTap, plainHook, viaHook int64) {
	synctest.Test(t, func(t *testing.T) {
		l := newViaLab(t, seed)
		var pt, vt, ph, vh counter
		defer l.lan.AddTap(&pt)()
		defer l.lan.AddTapVia(l.nm, &vt)()
		defer l.lan.AddHook(&ph)()
		defer l.lan.AddHookVia(l.nm, &vh)()
		setup(l)
		got = seqs(udpRun(t, l.pair, n, 100, time.Millisecond))
		plainTap, viaTap, plainHook, viaHook = pt.n.Load(), vt.n.Load(), ph.n.Load(), vh.n.Load()
	})
	return
}

// TestViaUnimpaired: with m's NIC unimpaired, Via observers see exactly
// what plain ones see, and draw nothing from the World's random source: a
// lossy segment loses the same datagrams with or without them.
func TestViaUnimpaired(t *testing.T) {
	lossy := func(l *viaLab) { must(t, l.lan.SetImpairment(Impairment{Loss: 0.3})) }
	got, pt, vt, ph, vh := viaRun(t, 7, 50, lossy)
	if pt == 0 || vt != pt || vh != ph {
		t.Errorf("taps saw %d (plain) and %d (via), hooks %d and %d; want equal and not zero", pt, vt, ph, vh)
	}
	var want []int
	synctest.Test(t, func(t *testing.T) {
		l := newViaLab(t, 7)
		lossy(l)
		want = seqs(udpRun(t, l.pair, 50, 100, time.Millisecond))
	})
	if !slices.Equal(got, want) || len(got) == 50 {
		t.Errorf("received %v with Via observers, %v without; want the same, with some lost", got, want)
	}
}

// TestViaCutOff: once m is cut off (total loss, partition, down), its Via
// tap and hook are shown nothing, while plain ones see every frame.
func TestViaCutOff(t *testing.T) {
	for name, cut := range map[string]func(l *viaLab){
		"loss":      func(l *viaLab) { must(t, l.w.ImpairHost("m", Impairment{Loss: 1})) },
		"partition": func(l *viaLab) { must(t, l.m.SetImpairment(Impairment{Partition: true})) },
		"down":      func(l *viaLab) { l.m.Down() },
	} {
		t.Run(name, func(t *testing.T) {
			got, pt, vt, ph, vh := viaRun(t, 1, 20, cut)
			if len(got) != 20 || pt != 20 || ph != 20 || vt != 0 || vh != 0 {
				t.Errorf("b got %d; plain tap %d, hook %d; via tap %d, hook %d; want 20, 20, 20, 0, 0", len(got), pt, ph, vt, vh)
			}
		})
	}
}

// TestViaPartialLoss: with partial loss on m's NIC a Via tap sees some
// frames, the same ones for the same seed.
func TestViaPartialLoss(t *testing.T) {
	half := func(l *viaLab) { must(t, l.m.SetImpairment(Impairment{Loss: 0.5})) }
	_, _, vt1, _, _ := viaRun(t, 3, 40, half)
	_, _, vt2, _, _ := viaRun(t, 3, 40, half)
	if vt1 == 0 || vt1 == 40 || vt1 != vt2 {
		t.Errorf("via tap saw %d then %d of 40 frames; want the same share, neither none nor all", vt1, vt2)
	}
}

// TestViaHookActs: a Via hook that replaces each datagram by a copy it
// injects through m's NIC acts as a plain hook would while m is up and
// unimpaired, and not at all once m is cut off; NIC.Inject sends nothing
// from a host that is cut off or down.
func TestViaHookActs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cut      func(l *viaLab)
		injected int64
	}{
		{"unimpaired", func(*viaLab) {}, 10},
		{"cut-off", func(l *viaLab) { must(t, l.m.SetImpairment(Impairment{Loss: 1})) }, 0},
		{"down", func(l *viaLab) { l.m.Down() }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newViaLab(t, 1)
				var injected atomic.Int64
				defer l.lan.AddHookVia(l.nm, HookFunc(func(f *Frame) HookAction {
					if f.Ingress != l.na || !isUDPFrame(f.Data) {
						return Pass
					}
					injected.Add(1)
					l.nm.Inject(CloneFrame(f.Data))
					return Drop
				}))()
				tc.cut(l)
				got := udpRun(t, l.pair, 10, 100, time.Millisecond)
				if len(got) != 10 || injected.Load() != tc.injected {
					t.Errorf("b got %d datagrams, %d injected; want 10, %d", len(got), injected.Load(), tc.injected)
				}
			})
		})
	}
}

// TestInjectThroughNIC: NIC.Inject delivers like Segment.Inject, without
// teaching the switch the frame's source, and not at all when the NIC's
// send side loses it or its host is down.
func TestInjectThroughNIC(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(l *viaLab)
		want int
	}{
		{"unimpaired", func(*viaLab) {}, 3},
		{"partition", func(l *viaLab) { must(t, l.nm.SetImpairment(Impairment{Partition: true})) }, 0},
		{"down", func(l *viaLab) { l.m.Down() }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newViaLab(t, 1)
				var frames [][]byte
				untap := l.lan.AddTap(TapFunc(func(_ time.Time, f []byte) {
					if isUDPFrame(f) {
						frames = append(frames, CloneFrame(f))
					}
				}))
				udpRun(t, l.pair, 1, 100, 0)
				untap()
				if len(frames) != 1 {
					t.Fatalf("captured %d datagrams, want 1", len(frames))
				}
				tc.cut(l)
				var atB atomic.Int64 // datagrams b's NIC received
				defer l.nb.AddTap(TapFunc(func(_ time.Time, f []byte) {
					if isUDPFrame(f) && [6]byte(f[0:6]) == [6]byte(l.nb.MAC()) {
						atB.Add(1)
					}
				}))()
				for range 3 {
					l.nm.Inject(frames[0])
				}
				time.Sleep(time.Second)
				synctest.Wait()
				if got := int(atB.Load()); got != tc.want {
					t.Errorf("b's NIC saw %d injected frames, want %d", got, tc.want)
				}
				l.lan.mu.RLock()
				learned := l.lan.table[[6]byte(l.na.MAC())]
				l.lan.mu.RUnlock()
				if learned != l.na {
					t.Errorf("switch learned a's MAC at %v, want a's port", learned)
				}
			})
		})
	}
}

// TestImpairAs: rules for the name a host is impaired as reach it, whether
// set before ImpairAs or after.
func TestImpairAs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newViaLab(t, 1)
		cut := Impairment{Loss: 1}
		must(t, l.w.ImpairHost("mallory", cut))
		if l.na.Impairment() != (Impairment{}) {
			t.Fatal("rule for mallory reached a before ImpairAs")
		}
		l.a.ImpairAs("mallory")
		if got := l.na.Impairment(); got != cut {
			t.Errorf("a's NIC after ImpairAs: %v, want %v", got, cut)
		}
		part := Impairment{Partition: true}
		must(t, l.w.ImpairHost("mallory", part))
		if got := l.na.Impairment(); got != part {
			t.Errorf("a's NIC after a later rule: %v, want %v", got, part)
		}
		if got := l.nb.Impairment(); got != (Impairment{}) {
			t.Errorf("b's NIC: %v, want none", got)
		}
	})
}
