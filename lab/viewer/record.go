package viewer

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"sync"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
	"github.com/tlslab/tlslab/netsim"
)

// Recording is one run of a scenario as the viewer draws it: the result and
// timeline of [timeline.Record], the frames of the run's capture decoded
// and annotated, and which frame each timeline event came from.
//
// The page model reads events through their exported fields only, so new
// Event fields reach the page by adding them to [Arrow]; nothing here
// depends on the events' text but the marks (spoofed, forged, decrypted)
// drawn beside the text itself.
type Recording struct {
	Scenario lab.Scenario
	Result   lab.Result
	Defenses lab.Defenses // what the run ran with: Runner.Defenses(Scenario)
	Events   timeline.Events
	// Frames are the capture's frames in capture order; Frame.Number is
	// the frame's number in the pcapng, as Wireshark shows it.
	Frames []*Frame
	// FrameOf[i] is the index in Frames of the frame Events[i] was read
	// from (for a certificate, the frame that carried it to the host), -1
	// for an event without a frame (evidence lines).
	FrameOf []int
	// Hosts are the hosts of the run's World, in creation order, with the
	// NICs they had when the run ended: the declared ones and those the
	// scenario added (its attackers).
	Hosts []RunHost
}

// RunHost is one host of a run's World.
type RunHost struct {
	Name   string
	Router bool
	NICs   []RunNIC
}

// RunNIC is one NIC of a RunHost.
type RunNIC struct {
	Segment string
	Prefix  netip.Prefix
	MAC     string
}

// Record runs s once with r through [timeline.Record] and returns the
// recording. The run's pcapng and key log are written into dir (r's
// PcapDir and KeyLogDir are replaced by it) and read back after the run
// to annotate each frame's bytes and decrypt TLS records with the run's
// own secrets; with dir "" they go to a temporary directory removed before
// Record returns, and Result.Pcap and Result.KeyLog are then "".
//
// The scenario's Run is wrapped only to learn the run's World, so frames
// can be named by the hosts that sent them; the scenario runs and is
// judged exactly as by r.Run. The error is for what the viewer itself
// could not do (a directory, an unreadable capture); a run that failed is
// a Result with verdict error and no error here.
func Record(ctx context.Context, r lab.Runner, s lab.Scenario, dir string) (*Recording, error) {
	keep := dir != ""
	if !keep {
		tmp, err := os.MkdirTemp("", "tlslab-viewer-")
		if err != nil {
			return nil, fmt.Errorf("viewer: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	r.PcapDir, r.KeyLogDir = dir, dir

	var (
		mu    sync.Mutex
		world *netsim.World
	)
	wrapped := s
	if s.Run != nil {
		wrapped.Run = func(ctx context.Context, env *lab.Env) error {
			mu.Lock()
			world = env.World
			mu.Unlock()
			return s.Run(ctx, env)
		}
	}
	res, events := timeline.Record(ctx, r, wrapped)
	rec := &Recording{Scenario: s, Result: res, Defenses: r.Defenses(s), Events: events}
	mu.Lock()
	w := world
	mu.Unlock()
	names := newHostNames(w)
	rec.Hosts = names.hosts
	if res.Pcap != "" {
		keys, err := readKeyLog(res.KeyLog)
		if err != nil {
			return nil, err
		}
		frames, err := readFrames(res.Pcap, names, keys)
		if err != nil {
			return nil, err
		}
		rec.Frames = frames
	}
	rec.FrameOf = linkEvents(events, rec.Frames)
	if !keep {
		rec.Result.Pcap, rec.Result.KeyLog = "", ""
	}
	return rec, nil
}

// hostNames names the addresses of a run's World after the run.
type hostNames struct {
	hosts  []RunHost
	byMAC  map[string]string
	byIP   map[netip.Addr][]string
	router map[string]bool // hosts that forward frames
}

func newHostNames(w *netsim.World) *hostNames {
	n := &hostNames{byMAC: make(map[string]string), byIP: make(map[netip.Addr][]string), router: make(map[string]bool)}
	if w == nil {
		return n
	}
	for _, h := range w.Hosts() {
		rh := RunHost{Name: h.Name(), Router: h.Forwarding()}
		n.router[h.Name()] = h.Forwarding()
		for _, nic := range h.NICs() {
			seg := ""
			if nic.Segment() != nil {
				seg = nic.Segment().Name()
			}
			rh.NICs = append(rh.NICs, RunNIC{Segment: seg, Prefix: nic.Prefix(), MAC: nic.MAC().String()})
			n.byMAC[nic.MAC().String()] = h.Name()
			n.byIP[nic.Addr()] = append(n.byIP[nic.Addr()], h.Name())
		}
		n.hosts = append(n.hosts, rh)
	}
	return n
}

// ip names the one host holding a, or "".
func (n *hostNames) ip(a netip.Addr) string {
	if hs := n.byIP[a]; len(hs) == 1 {
		return hs[0]
	}
	return ""
}
