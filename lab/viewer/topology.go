package viewer

import (
	"slices"

	"github.com/tlslab/tlslab/lab"
)

// TopologyView is the world the scenario declared, as `tlslab show`
// prints it (lab.Topology.Describe under the run's defenses, so the
// scenario's own changes are applied), with the hosts the run added to it
// — its attackers — placed on their segments.
type TopologyView struct {
	Declared     bool // the scenario declared a topology
	Preset       string
	Options      []string
	Segments     []SegmentView
	Width        int
	Height       int
	CAs          []lab.CADescription
	Certificates []lab.CertificateDescription
	Trust        []lab.TrustDescription
	Zones        []lab.ZoneDescription
	Hosts        []lab.HostDescription // declared hosts, in order
	Added        []RunHost             // hosts the run added: attackers
}

// SegmentView is one segment row of the topology drawing.
type SegmentView struct {
	Name, Prefix, Doc string
	Y                 int // top of the row
	Hosts             []HostBox
}

// HostBox is one host on one segment.
type HostBox struct {
	Name, Addr, Role string
	X                int
	Router, Attacker bool
}

// Geometry of the topology drawing.
const (
	topoRowH  = 112
	topoBoxW  = 128
	topoBoxH  = 50
	topoStepX = 138
)

// BoxY is the top of the host boxes in a row; BarY the segment's line.
func (s SegmentView) BoxY() int   { return s.Y + 26 }
func (s SegmentView) BarY() int   { return s.Y + 26 + topoBoxH + 14 }
func (s SegmentView) LabelY() int { return s.Y + 16 }

// BoxW and BoxH size a host box.
func (HostBox) BoxW() int { return topoBoxW }
func (HostBox) BoxH() int { return topoBoxH }

func newTopologyView(rec *Recording) TopologyView {
	var td lab.TopologyDescription
	v := TopologyView{}
	if rec.Scenario.Topology != nil {
		td = rec.Scenario.Topology.Describe(rec.Defenses)
		v.Declared = true
	}
	v.Preset, v.Options = td.Preset, td.Options
	v.CAs, v.Certificates, v.Trust, v.Zones, v.Hosts = td.CAs, td.Certificates, td.Trust, td.Zones, td.Hosts
	declared := make(map[string]bool)
	for _, h := range td.Hosts {
		declared[h.Name] = true
	}
	segIndex := make(map[string]int)
	addSeg := func(name, prefix, doc string) int {
		if i, ok := segIndex[name]; ok {
			return i
		}
		segIndex[name] = len(v.Segments)
		v.Segments = append(v.Segments, SegmentView{Name: name, Prefix: prefix, Doc: doc})
		return segIndex[name]
	}
	for _, s := range td.Segments {
		addSeg(s.Name, s.Prefix.String(), s.Doc)
	}
	place := func(seg string, b HostBox) {
		i := addSeg(seg, "", "")
		v.Segments[i].Hosts = append(v.Segments[i].Hosts, b)
	}
	for _, h := range td.Hosts {
		for _, n := range h.NICs {
			place(n.Segment, HostBox{Name: h.Name, Addr: n.Addr.Addr().String(), Role: h.Role, Router: h.Router})
		}
	}
	for _, h := range rec.Hosts {
		if declared[h.Name] {
			continue
		}
		attacker := v.Declared // only a declared world tells who was added
		if attacker {
			v.Added = append(v.Added, h)
		}
		for _, n := range h.NICs {
			role := "added by the scenario"
			if attacker {
				role = "attacker, added by the scenario"
			}
			place(n.Segment, HostBox{Name: h.Name, Addr: n.Prefix.Addr().String(), Role: role, Router: h.Router, Attacker: attacker})
		}
	}
	widest := 1
	for i := range v.Segments {
		s := &v.Segments[i]
		s.Y = 8 + i*topoRowH
		for j := range s.Hosts {
			s.Hosts[j].X = 12 + j*topoStepX
		}
		widest = max(widest, len(s.Hosts))
	}
	v.Width = max(24+widest*topoStepX, 560)
	v.Height = 16 + len(v.Segments)*topoRowH
	return v
}

// attackers are the hosts the run added to the declared world.
func (v TopologyView) attackers() map[string]bool {
	m := make(map[string]bool)
	for _, h := range v.Added {
		m[h.Name] = true
	}
	return m
}

// SegmentsOf lists the segments a host's NICs are on.
func (h RunHost) SegmentsOf() []string {
	var s []string
	for _, n := range h.NICs {
		if !slices.Contains(s, n.Segment) {
			s = append(s, n.Segment)
		}
	}
	return s
}
