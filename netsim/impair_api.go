package netsim

// SetImpairment puts imp in effect for every frame crossing the segment,
// unicast or flooded, sent by a NIC or injected, from the next frame on
// (frames already on their way keep their fate). It replaces the segment's
// previous impairment; the zero Impairment removes it. The segment's taps
// see frames after the impairment: not the lost ones, corrupted ones as
// corrupted. It fails, changing nothing, when imp is invalid (see
// Impairment.Validate).
func (s *Segment) SetImpairment(imp Impairment) error {
	if err := imp.Validate(); err != nil {
		return err
	}
	s.imp.set(imp, false)
	return nil
}

// Impairment returns the segment's impairment.
func (s *Segment) Impairment() Impairment { return s.imp.get() }

// ImpairStats returns what the segment's impairments have done so far.
func (s *Segment) ImpairStats() ImpairStats { return s.imp.stats() }

// SetImpairment puts imp in effect for the frames this NIC sends and,
// separately, for those it receives (a frame between two impaired NICs
// faces both), from the next frame on. It replaces the NIC's previous
// impairment, including the one NICConfig.Latency and Loss set; the zero
// Impairment removes it. A capture on the NIC shows frames as its host
// sent them and as they arrived. It fails, changing nothing, when imp is
// invalid (see Impairment.Validate).
func (n *NIC) SetImpairment(imp Impairment) error {
	if err := imp.Validate(); err != nil {
		return err
	}
	n.setImpairment(imp, false)
	return nil
}

func (n *NIC) setImpairment(imp Impairment, udpOnlyLoss bool) {
	n.tx.set(imp, udpOnlyLoss)
	n.rx.set(imp, udpOnlyLoss)
}

// Impairment returns the NIC's impairment: the last one set, or the one its
// NICConfig's Latency and Loss describe (whose Loss, unlike one set with
// SetImpairment, spares everything but UDP).
func (n *NIC) Impairment() Impairment { return n.tx.get() }

// ImpairStats returns what the NIC's impairments have done so far, in both
// directions.
func (n *NIC) ImpairStats() ImpairStats { return n.tx.stats().add(n.rx.stats()) }

// SetImpairment sets imp on each of the host's NICs, and on NICs added to
// it later (see NIC.SetImpairment). It fails, changing nothing, when imp
// is invalid.
func (h *Host) SetImpairment(imp Impairment) error {
	if err := imp.Validate(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.imp = &imp
	for _, n := range h.nics {
		n.setImpairment(imp, false)
	}
	return nil
}

// ImpairSegments sets imp on every segment of the World, and on segments
// created later (until another ImpairSegments or ImpairSegment call says
// otherwise: for a new segment, the last call that names it or all
// segments wins). It fails, changing nothing, when imp is invalid.
func (w *World) ImpairSegments(imp Impairment) error {
	if err := imp.Validate(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.impair.segments = append(w.impair.segments[:0], segmentRule{all: true, imp: imp})
	for _, s := range w.segments {
		s.imp.set(imp, false)
	}
	return nil
}

// ImpairSegment sets imp on the World's segments with the given name, and
// on any created later with that name. It fails, changing nothing, when imp
// is invalid.
func (w *World) ImpairSegment(name string, imp Impairment) error {
	if err := imp.Validate(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	rules := w.impair.segments[:0]
	for _, r := range w.impair.segments {
		if r.all || r.name != name {
			rules = append(rules, r)
		}
	}
	w.impair.segments = append(rules, segmentRule{name: name, imp: imp})
	for _, s := range w.segments {
		if s.name == name {
			s.imp.set(imp, false)
		}
	}
	return nil
}

// ImpairHost sets imp on the hosts (or routers) with the given name, or
// impaired as that name (Host.ImpairAs), as Host.SetImpairment does, and
// on any created later with that name. It
// fails, changing nothing, when imp is invalid.
func (w *World) ImpairHost(name string, imp Impairment) error {
	if err := imp.Validate(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.impair.hosts == nil {
		w.impair.hosts = make(map[string]Impairment)
	}
	w.impair.hosts[name] = imp
	for _, h := range w.hosts {
		if h.impairedAs(name) {
			_ = h.SetImpairment(imp) // validated above
		}
	}
	return nil
}

// impairRules are the World's standing impairments, for segments and hosts
// created after they were set. They are guarded by World.mu.
type impairRules struct {
	segments []segmentRule // oldest first; the last that matches wins
	hosts    map[string]Impairment
}

type segmentRule struct {
	all  bool   // every segment
	name string // otherwise, segments with this name
	imp  Impairment
}

// segment returns the impairment for a new segment called name.
func (r *impairRules) segment(name string) (Impairment, bool) {
	for i := len(r.segments) - 1; i >= 0; i-- {
		if s := r.segments[i]; s.all || s.name == name {
			return s.imp, true
		}
	}
	return Impairment{}, false
}
