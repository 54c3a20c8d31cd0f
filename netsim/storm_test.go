package netsim

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// stormPipeSample bounds the handshakes of the net.Pipe baseline each
// storm sub-benchmark measures: the CPU cost of a handshake over net.Pipe
// does not depend on how many there are, and 10,000 of them would double
// the run for nothing.
const stormPipeSample = 2000

// stormTimeout bounds one registration (dial, handshake, message). SYNs a
// full backlog drops are retransmitted after 1, 2 and 4 s.
const stormTimeout = 60 * time.Second

// BenchmarkRegistrationStorm has every one of N client hosts dial one TLS
// server, complete a TLS 1.3 handshake (ECDSA P-256 certificate, chain and
// name verified) and send one short message that the server reads: N
// devices registering at once. The connections stay open until all have
// registered. Sub-benchmarks:
//
//   - hosts=N: 1,000 clients, or 10,000 (only when the -bench pattern names
//     hosts=10000 or NETSIM_STORM_LARGE is set, as it takes about a minute);
//   - flat: every host and the server on one segment (10.0.0.0/16);
//     subnets: 250 hosts per /24 segment, joined to the server's segment by
//     one router;
//   - dial=64: 64 clients dial at a time; dial=all: all N at once.
//
// Metrics, per op (one storm): completions and timeouts (registrations that
// succeeded, and those that failed or ran out of time); vs-pipe, the
// process CPU time (getrusage: user+system, so the garbage collector and
// every goroutine count) per registration divided by that of the same
// registrations over net.Pipe, measured right after in the same run on a
// sample of up to 2,000 with the same concurrency; peak-MiB, the highest
// memory the Go runtime held from the OS (mapped minus released, about the
// RSS) during the storm, sampled every 10 ms; setup-s, the time to build
// the World, which is not in ns/op.
//
//	go test -run '^$' -bench RegistrationStorm -benchtime 1x ./netsim
//	go test -run '^$' -bench 'RegistrationStorm/hosts=10000' -benchtime 1x ./netsim
func BenchmarkRegistrationStorm(b *testing.B) {
	serverCfg, clientCfg := benchTLSConfigs(b)
	sizes := []int{1000}
	if os.Getenv("NETSIM_STORM_LARGE") != "" || benchPatternNames("hosts=10000") {
		sizes = append(sizes, 10000)
	}
	for _, n := range sizes {
		for _, topo := range []string{"flat", "subnets"} {
			for _, conc := range []int{64, 0} {
				dial := "64"
				if conc == 0 {
					dial = "all"
				}
				name := fmt.Sprintf("hosts=%d/%s/dial=%s", n, topo, dial)
				b.Run(name, func(b *testing.B) { benchStorm(b, n, topo == "subnets", conc, serverCfg, clientCfg) })
			}
		}
	}
}

// benchPatternNames reports whether the -test.bench pattern mentions s.
func benchPatternNames(s string) bool {
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), s)
}

// stormWorld is the network of one storm.
type stormWorld struct {
	w       *World
	server  *Host
	clients []*Host
	addr    string // the server's address and port
}

func newStormWorld(b *testing.B, n int, subnets bool) *stormWorld {
	w := NewWorld(Config{Seed: 1})
	sw := &stormWorld{w: w, clients: make([]*Host, n)}
	sw.server = w.NewHost("server", HostConfig{})
	if !subnets {
		lan := w.NewSegment("lan", SegmentConfig{})
		stormNIC(b, sw.server, lan, "10.0.0.1/16")
		for i := range n {
			h := w.NewHost(fmt.Sprintf("c%d", i), HostConfig{})
			ip := 10<<24 | uint32(i+2)
			stormNIC(b, h, lan, fmt.Sprintf("10.0.%d.%d/16", ip>>8&0xff, ip&0xff))
			sw.clients[i] = h
		}
		sw.addr = "10.0.0.1:443"
		return sw
	}
	router := w.NewRouter("router", HostConfig{})
	srvLAN := w.NewSegment("servers", SegmentConfig{})
	stormNIC(b, router, srvLAN, "10.0.0.1/24")
	stormNIC(b, sw.server, srvLAN, "10.0.0.2/24")
	if err := sw.server.SetDefaultGateway(netip.MustParseAddr("10.0.0.1")); err != nil {
		b.Fatal(err)
	}
	const perSubnet = 250
	var seg *Segment
	for i := range n {
		s, j := i/perSubnet+1, i%perSubnet
		if j == 0 {
			seg = w.NewSegment(fmt.Sprintf("sub%d", s), SegmentConfig{})
			stormNIC(b, router, seg, fmt.Sprintf("10.%d.%d.1/24", s>>8, s&0xff))
		}
		h := w.NewHost(fmt.Sprintf("c%d", i), HostConfig{})
		stormNIC(b, h, seg, fmt.Sprintf("10.%d.%d.%d/24", s>>8, s&0xff, j+2))
		if err := h.SetDefaultGateway(netip.MustParseAddr(fmt.Sprintf("10.%d.%d.1", s>>8, s&0xff))); err != nil {
			b.Fatal(err)
		}
		sw.clients[i] = h
	}
	sw.addr = "10.0.0.2:443"
	return sw
}

func stormNIC(b testing.TB, h *Host, seg *Segment, addr string) {
	if _, err := h.AddNIC(seg, NICConfig{Addr: netip.MustParsePrefix(addr)}); err != nil {
		b.Fatal(err)
	}
}

func benchStorm(b *testing.B, n int, subnets bool, conc int, serverCfg, clientCfg *tls.Config) {
	var completions, timeouts, cpu, pipeCPU, peak, setup float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		runtime.GC()
		debug.FreeOSMemory()
		start := time.Now()
		sw := newStormWorld(b, n, subnets)
		setup += time.Since(start).Seconds()
		ln, err := sw.server.Listen("tcp", ":443")
		if err != nil {
			b.Fatal(err)
		}
		stopPeak := samplePeakMemory()
		b.StartTimer()
		dial := func(ctx context.Context, i int) (net.Conn, error) {
			return sw.clients[i].DialContext(ctx, "tcp", sw.addr)
		}
		ok, failed, used, firstErr := runStorm(ln, n, conc, dial, serverCfg, clientCfg)
		b.StopTimer()
		peak = max(peak, stopPeak())
		sw.w.Close()
		if failed > 0 {
			b.Errorf("%d of %d registrations failed, the first with: %v", failed, n, firstErr)
		}
		completions += float64(ok)
		timeouts += float64(failed)
		cpu += used.Seconds()

		// The baseline: the same registrations over net.Pipe.
		sample := min(n, stormPipeSample)
		pl := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
		ok, failed, used, firstErr = runStorm(pl, sample, min(conc, sample), func(ctx context.Context, _ int) (net.Conn, error) {
			c1, c2 := net.Pipe()
			select {
			case pl.conns <- c2:
				return c1, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}, serverCfg, clientCfg)
		if failed > 0 {
			b.Fatalf("%d of %d registrations over net.Pipe failed: %v", failed, sample, firstErr)
		}
		pipeCPU += used.Seconds() / float64(ok) * float64(n)
		b.StartTimer()
	}
	b.ReportMetric(completions/float64(b.N), "completions")
	b.ReportMetric(timeouts/float64(b.N), "timeouts")
	b.ReportMetric(cpu/pipeCPU, "vs-pipe")
	b.ReportMetric(peak/(1<<20), "peak-MiB")
	b.ReportMetric(setup/float64(b.N), "setup-s")
}

// runStorm runs n registrations against ln, conc at a time (0: all at
// once), and returns how many succeeded and failed and the process CPU
// time they used. The listener is closed on return.
func runStorm(ln net.Listener, n, conc int, dial func(context.Context, int) (net.Conn, error), serverCfg, clientCfg *tls.Config) (ok, failed int, cpu time.Duration, firstErr error) {
	const msg = "REGISTER sip:device@tlslab.test\r\n"
	var (
		serverConns []net.Conn
		serverMu    sync.Mutex
		registered  atomic.Int64
		serverWG    sync.WaitGroup
	)
	cpuStart := processCPU()
	serverWG.Add(1)
	go func() {
		defer serverWG.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serverMu.Lock()
			serverConns = append(serverConns, c)
			serverMu.Unlock()
			serverWG.Add(1)
			go func() {
				defer serverWG.Done()
				c.SetDeadline(time.Now().Add(stormTimeout))
				tc := tls.Server(c, serverCfg)
				buf := make([]byte, len(msg))
				if _, err := io.ReadFull(tc, buf); err == nil && string(buf) == msg {
					registered.Add(1)
				}
			}()
		}
	}()

	var (
		mu          sync.Mutex
		clientConns = make([]net.Conn, 0, n)
		wg          sync.WaitGroup
		next        atomic.Int64
		errs        atomic.Int64
	)
	register := func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), stormTimeout)
		defer cancel()
		c, err := dial(ctx, i)
		if err == nil {
			c.SetDeadline(time.Now().Add(stormTimeout))
			tc := tls.Client(c, clientCfg)
			if err = tc.HandshakeContext(ctx); err == nil {
				_, err = io.WriteString(tc, msg)
			}
			mu.Lock()
			clientConns = append(clientConns, c)
			mu.Unlock()
		}
		if err != nil {
			if errs.Add(1) == 1 {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		}
	}
	workers := conc
	if workers <= 0 {
		workers = n
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				register(i)
			}
		}()
	}
	wg.Wait()
	// Every client has written its message; wait until the server has read
	// each one (or its deadline passes), then hang up.
	for deadline := time.Now().Add(stormTimeout); registered.Load()+errs.Load() < int64(n) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	ok = int(registered.Load())
	cpu = processCPU() - cpuStart
	ln.Close()
	for _, c := range clientConns {
		c.Close()
	}
	serverMu.Lock()
	for _, c := range serverConns {
		c.Close()
	}
	serverMu.Unlock()
	serverWG.Wait()
	return ok, n - ok, cpu, firstErr
}

// processCPU returns the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// samplePeakMemory samples the memory the Go runtime holds from the OS
// (mapped minus released) every 10 ms until the returned function is
// called, which reports the highest sample in bytes.
func samplePeakMemory() (stop func() float64) {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	var peak uint64
	read := func() {
		metrics.Read(samples)
		peak = max(peak, samples[0].Value.Uint64()-samples[1].Value.Uint64())
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	return func() float64 {
		close(done)
		<-finished
		read()
		return float64(peak)
	}
}
