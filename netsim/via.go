package netsim

// An attacker's observers, acting only as far as her own interface lets
// them.
//
// A plain segment tap or hook stands for a mirror port or a switch the
// attacker controls: it sees and acts on every frame whatever becomes of
// her machine. The Via variants tie the observer to the attacker's NIC
// instead, so that impairing her host (Host.SetImpairment,
// World.ImpairHost, Host.Down) cuts her observers off with it: a frame is
// shown to them only if it would reach that NIC, and frames she injects
// leave through it (NIC.Inject). Without impairment, and while her host is
// up, each Via variant behaves exactly as its plain counterpart and draws
// nothing from the World's random source.

import "time"

// AddTapVia installs t on the segment as AddTap does, but t sees a frame
// only if the frame would reach nic (normally the attacker's NIC on this
// segment): nic's host is up, and the frame passes nic's receive-side
// partition and loss (see NIC.reaches). A frame that would not is not
// shown to t at all. remove uninstalls t.
func (s *Segment) AddTapVia(nic *NIC, t Tap) (remove func()) {
	return s.AddTap(&viaTap{nic: nic, t: t})
}

// AddHookVia installs h on the segment as AddHook does, but h is called
// for a frame only if nic sent it or the frame would reach nic (see
// AddTapVia); any other frame passes on untouched, as if h were absent.
// To inject frames, h calls nic.Inject, so that they leave through nic and
// its send impairment applies to them. remove uninstalls h.
func (s *Segment) AddHookVia(nic *NIC, h FrameHook) (remove func()) {
	return s.AddHook(&viaHook{nic: nic, h: h})
}

type viaTap struct {
	nic *NIC
	t   Tap
}

func (v *viaTap) ObserveFrame(ts time.Time, frame []byte) {
	if v.nic.reaches(frame) {
		v.t.ObserveFrame(ts, frame)
	}
}

type viaHook struct {
	nic *NIC
	h   FrameHook
}

func (v *viaHook) HandleFrame(f *Frame) HookAction {
	if f.Ingress != v.nic && !v.nic.reaches(f.Data) {
		return Pass
	}
	return v.h.HandleFrame(f)
}

// reaches reports whether a frame crossing n's segment would get to n's
// host: the host is up, and the frame is neither partitioned away nor
// lost by n's receive-side impairment. Loss is drawn from the World's
// seeded source, as the impairment itself draws it, and only when loss
// applies to the frame (NICConfig.Loss spares all but UDP). Other effects
// (delay, jitter, corruption, duplication, rate) are not applied: an
// observer sees the frame as it crossed the segment. Nothing is counted in
// the NIC's ImpairStats, which count what reached the host. The NIC's
// address filter does not matter here: an attacker's observer listens
// beyond her own MAC.
func (n *NIC) reaches(frame []byte) bool {
	if n.host.down.Load() {
		return false
	}
	im := n.rx.cur.Load()
	if im == nil {
		return true
	}
	if im.imp.Partition {
		return false
	}
	if im.imp.Loss > 0 && (!im.udpOnlyLoss || isUDPFrame(frame)) {
		w := n.host.world
		w.mu.Lock()
		lost := w.rand.Float64() < im.imp.Loss
		w.mu.Unlock()
		return !lost
	}
	return true
}

// Inject sends frame onto n's segment as Segment.Inject does (no hook
// runs, taps see it, and the switch learns nothing from its source MAC, as
// from a hidden port), but through n: nothing leaves while n's host is
// down, and n's send impairment (loss, delay, ...) applies, drawing from
// the World's seeded source. n's own taps do not see the frame: it never
// went through its host's stack. The frame must be a well-formed Ethernet
// frame; it is not copied and must not be modified afterwards.
func (n *NIC) Inject(frame []byte) {
	if n.host.down.Load() {
		return
	}
	s := n.seg
	taps := s.observers.Load().taps
	var k kicker
	defer k.kick()
	im := n.tx.cur.Load()
	if im == nil {
		s.forward(&k, frame, nil, taps, 0, 0)
		return
	}
	v := im.pass(&n.tx, n.host.world, frame, 0)
	if v.drop {
		return
	}
	st := v.state(0)
	s.forward(&k, v.frame, nil, taps, st, v.delay)
	if v.dup {
		s.forward(&k, v.frame, nil, taps, st, v.delay)
	}
}
