package netsim

import "syscall"

// Down takes the host off the network, as a crash or a pulled plug does:
// from now on it sends no frame and every frame reaching its NICs is
// dropped. It also loses every TCP connection at once, sending nothing:
// their Read and Write, and Dials waiting for a handshake, fail with
// ECONNABORTED. A peer notices only when it next hears from the host (see
// Up). Listeners and UDP sockets stay open, standing for services that come
// back with the host. Frames already queued to a NIC (in flight) when the
// host goes down may still reach it; anything it would send in answer is
// dropped. Down on a host that is down does nothing.
func (h *Host) Down() {
	h.downMu.Lock()
	defer h.downMu.Unlock()
	if h.down.Load() {
		return
	}
	h.down.Store(true)
	h.tcp.crash(errHostDown)
}

// Up brings a host that is down back, as after a reboot: it sends and
// receives again, but remembers no TCP connection (connections opened while
// it was down are lost too), so a peer's segment for a connection it had
// is answered with RST, and the peer's Read fails with ECONNRESET. Up on a
// host that is up does nothing.
func (h *Host) Up() {
	h.downMu.Lock()
	defer h.downMu.Unlock()
	if !h.down.Load() {
		return
	}
	h.tcp.crash(errHostDown)
	h.down.Store(false)
}

// IsDown reports whether the host is down.
func (h *Host) IsDown() bool { return h.down.Load() }

// errHostDown fails the connections of a host that goes down or comes back.
var errHostDown error = syscall.ECONNABORTED
