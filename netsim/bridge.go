package netsim

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// A Bridge carries TCP connections between a World and real programs on
// this machine's loopback interface. Host.BridgeIn lets real clients reach a
// server in the World; Host.BridgeOut lets the World's hosts reach a real
// server. Bridges are the one place netsim opens real sockets, and they open
// them on literal loopback addresses only (127.0.0.0/8 and ::1): any other
// address is refused with a *BridgeAddrError before a socket is opened.
//
// Each connection the bridge accepts on one side is carried to a connection
// it dials on the other, and the bytes are copied both ways as they arrive.
// The two legs are separate TCP connections, each with its own segments,
// windows and timing; the World's impairments act on the simulated leg
// only. A FIN is passed on as a FIN (CloseWrite), so a stream half-closed on
// one side is half-closed on the other, and every other end of a leg (a
// RST, a timeout, the World closing, a failed write, a dial that fails) is
// passed on as a RST: the peer's Read then fails with syscall.ECONNRESET,
// on the real side as in the World.
//
// Close stops the bridge; closing the World stops it too. A Bridge is safe
// for concurrent use.
type Bridge struct {
	world *World
	ln    net.Listener                                             // where connections are accepted
	dial  func(ctx context.Context, in net.Conn) (net.Conn, error) // the other side, once per accepted connection

	ctx     context.Context // ends when the bridge stops; cancels dials
	cancel  context.CancelFunc
	stopped chan struct{} // closed once every goroutine of the bridge has returned
	wg      sync.WaitGroup

	mu     sync.Mutex
	closed bool
	relays map[*relay]struct{}
}

// BridgeIn lets real clients reach dst in the World: it listens on listen,
// a loopback "ip:port" of this machine such as "127.0.0.1:0" (port 0 picks a
// free port; Addr reports it), and carries each connection it accepts there
// into the World as a connection h dials to dst, an IPv4 address and port.
// A connection h cannot dial (refused, unreachable, timed out) is reset.
func (h *Host) BridgeIn(listen string, dst netip.AddrPort) (*Bridge, error) {
	if !dst.Addr().Is4() || dst.Port() == 0 {
		return nil, &ConfigError{What: "bridge into host " + h.name, Problem: "destination " + strconv.Quote(dst.String()) + " is not an IPv4 address and port"}
	}
	ln, err := h.listenLoopback(listen)
	if err != nil {
		return nil, err
	}
	return h.world.startBridge(ln, func(ctx context.Context, _ net.Conn) (net.Conn, error) {
		return h.DialContext(ctx, "tcp", dst.String())
	}), nil
}

// listenLoopback opens a bridge's real listener on listen, a literal
// loopback "ip:port", refusing any other address before opening a socket.
func (h *Host) listenLoopback(listen string) (*net.TCPListener, error) {
	ap, err := loopbackAddrPort("listen", listen)
	if err != nil {
		return nil, err
	}
	if h.world.closed() {
		return nil, opError("listen", "tcp", nil, callerAddr{"tcp", listen}, ErrWorldClosed)
	}
	return net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
}

// BridgeOut lets the World's hosts reach a real server: it listens on port
// of h, as h.Listen("tcp", ":port") does (port 0 picks a free ephemeral
// port; Addr reports it), and carries each connection accepted there to a
// real connection it dials to dst, a loopback "ip:port" of this machine
// such as "127.0.0.1:4433". A connection it cannot dial there (nothing
// listens, say) is reset.
func (h *Host) BridgeOut(port uint16, dst string) (*Bridge, error) {
	ap, err := loopbackAddrPort("dial", dst)
	if err != nil {
		return nil, err
	}
	address := ":" + strconv.Itoa(int(port))
	if h.world.closed() {
		return nil, opError("listen", "tcp", nil, callerAddr{"tcp", address}, ErrWorldClosed)
	}
	ln, err := h.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	raddr := ap.String()
	return h.world.startBridge(ln, func(ctx context.Context, _ net.Conn) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", raddr)
	}), nil
}

// startBridge starts a bridge's accept loop on ln. The World's Close waits
// for the bridge to stop, as for every goroutine the World started.
func (w *World) startBridge(ln net.Listener, dial func(context.Context, net.Conn) (net.Conn, error)) *Bridge {
	b := &Bridge{world: w, ln: ln, dial: dial, stopped: make(chan struct{}), relays: make(map[*relay]struct{})}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.wg.Add(1)
	go b.acceptLoop()
	w.goTracked(b.run)
	return b
}

// Addr returns the address the bridge accepts connections on, a
// *net.TCPAddr: a real loopback address for BridgeIn, an address in the
// World for BridgeOut.
func (b *Bridge) Addr() net.Addr { return b.ln.Addr() }

// Close stops the bridge: it stops accepting, resets every connection it
// still carries on both sides, and returns once every goroutine the bridge
// started has returned. Close is idempotent and always returns nil.
func (b *Bridge) Close() error {
	b.cancel()
	<-b.stopped
	return nil
}

// run waits for Close or the World's end, then stops the bridge.
func (b *Bridge) run() {
	select {
	case <-b.ctx.Done():
	case <-b.world.done:
		b.cancel()
	}
	b.mu.Lock()
	b.closed = true
	relays := make([]*relay, 0, len(b.relays))
	for r := range b.relays {
		relays = append(relays, r)
	}
	b.mu.Unlock()
	b.ln.Close()
	for _, r := range relays {
		r.end(false)
	}
	b.wg.Wait()
	close(b.stopped)
}

// acceptLoop accepts connections until the listener closes, and starts a
// relay for each. A failed Accept on a real listener (too many open files,
// say) is retried with a backoff of up to a second, as net/http's servers
// do.
func (b *Bridge) acceptLoop() {
	defer b.wg.Done()
	var backoff time.Duration
	for {
		c, err := b.ln.Accept()
		if err != nil {
			if b.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
				continue
			case <-b.ctx.Done():
				t.Stop()
				return
			}
		}
		backoff = 0
		r := &relay{in: c}
		if !b.add(r) {
			resetConn(c)
			return
		}
		go b.serve(r)
	}
}

// add registers a relay and counts its goroutine, unless the bridge has
// stopped.
func (b *Bridge) add(r *relay) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.relays[r] = struct{}{}
	b.wg.Add(1)
	return true
}

// remove forgets a relay that has ended.
func (b *Bridge) remove(r *relay) {
	b.mu.Lock()
	delete(b.relays, r)
	b.mu.Unlock()
}
