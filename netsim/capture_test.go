package netsim

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// captureExchange records a TCP exchange, a refused dial and a UDP
// datagram on segment "lan" and on a's NIC, and returns the pcapng bytes,
// the number of frames written, the client's address and the virtual time
// the World started at.
func captureExchange(t *testing.T) (pcap []byte, frames int, client string, start time.Time) {
	var buf bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		start = time.Now()
		p := newPair(t, pairConfig{})
		c, err := NewCapture(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AttachSegment(p.lan); err != nil {
			t.Fatal(err)
		}
		if err := c.AttachNIC(p.na); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // traffic starts one virtual second in
		// Ports no dissector claims, so tshark judges TCP and UDP only.
		cc, ss := connect(t, p.a, p.b, "40000")
		client = cc.LocalAddr().String()
		go func() { io.Copy(ss, ss); ss.Close() }()
		go func() { cc.Write(payload(1, 20_000)); cc.CloseWrite() }()
		io.Copy(io.Discard, cc)
		cc.Close()
		p.a.Dial("tcp", "10.0.0.2:40001") // refused: a RST on the wire
		u, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:40002")
		u.Write([]byte("datagram"))
		u.Close()
		synctest.Wait()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		frames = c.Frames()
		if err := c.AttachSegment(p.lan); err == nil {
			t.Error("AttachSegment after Close succeeded")
		}
	})
	return buf.Bytes(), frames, client, start
}

// TestCapturePcapng reads a capture back with gopacket's pcapng reader:
// one interface per capture point, named after it, Ethernet link type,
// every frame written once per capture point that saw it, and timestamps
// from the World's clock.
func TestCapturePcapng(t *testing.T) {
	data, frames, _, start := captureExchange(t)
	r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	perIf := map[int]int{}
	var first time.Time
	total := 0
	for {
		pkt, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("packet %d: %v", total, err)
		}
		if total == 0 {
			first = ci.Timestamp
		}
		if ci.CaptureLength != len(pkt) || ci.Length != len(pkt) {
			t.Errorf("packet %d: capture info %+v for %d bytes", total, ci, len(pkt))
		}
		if err := verifyChecksums(pkt); err != nil {
			t.Errorf("packet %d: %v", total, err)
		}
		perIf[ci.InterfaceIndex]++
		total++
	}
	if total != frames {
		t.Errorf("read %d packets, Capture.Frames reports %d", total, frames)
	}
	if r.NInterfaces() != 2 {
		t.Fatalf("%d interfaces, want 2", r.NInterfaces())
	}
	for i, want := range []string{"lan", "a/eth0"} {
		intf, err := r.Interface(i)
		if err != nil {
			t.Fatal(err)
		}
		if intf.Name != want || intf.LinkType != layers.LinkTypeEthernet {
			t.Errorf("interface %d: %q link type %v, want %q Ethernet", i, intf.Name, intf.LinkType, want)
		}
	}
	// a is on every conversation here, so its NIC sees every frame the
	// segment carries.
	if perIf[0] == 0 || perIf[0] != perIf[1] {
		t.Errorf("frames per interface %v, want equal non-zero counts", perIf)
	}
	if want := start.Add(time.Second); !first.Equal(want) {
		t.Errorf("first timestamp %v, want the World's clock %v", first, want)
	}
}

// TestCaptureTshark has Wireshark's dissectors check the capture: no
// malformed packets, no bad checksums, and the TCP conversation recognized.
func TestCaptureTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed; CI must have it")
		}
		t.Skip("tshark not found")
	}
	data, _, client, _ := captureExchange(t)
	file := filepath.Join(t.TempDir(), "netsim.pcapng")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), tshark, append([]string{"-r", file,
			"-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out)
	}
	expert := run("-q", "-z", "expert")
	for _, bad := range []string{"Malformed", "malformed", "checksum", "Checksum", "Bad "} {
		if strings.Contains(expert, bad) {
			t.Errorf("tshark expert info mentions %q:\n%s", bad, expert)
		}
	}
	// Each frame once, verbosely: every checksum is reported good.
	verbose := run("-V", "-Y", "ip")
	if n := strings.Count(verbose, "[Checksum Status: Bad]"); n != 0 {
		t.Errorf("%d bad checksums", n)
	}
	if n := strings.Count(verbose, "[Checksum Status: Good]"); n == 0 {
		t.Errorf("tshark verified no checksum:\n%.2000s", verbose)
	}
	conv := run("-q", "-z", "conv,tcp")
	stream := regexp.MustCompile(regexp.QuoteMeta(client) + `\s+<->\s+10\.0\.0\.2:40000\s`)
	if !stream.MatchString(conv) {
		t.Errorf("tshark does not see the TCP stream %s <-> 10.0.0.2:40000:\n%s", client, conv)
	}
}

func TestCaptureEdgeCases(t *testing.T) {
	if _, err := NewCapture(nil); err == nil {
		t.Error("NewCapture(nil) succeeded")
	}
	// Nothing attached: still a valid, empty pcapng.
	var buf bytes.Buffer
	c, _ := NewCapture(&buf)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(buf.Bytes()), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatalf("empty capture unreadable: %v", err)
	}
	if _, _, err := r.ReadPacketData(); err != io.EOF {
		t.Errorf("empty capture: %v, want EOF", err)
	}
	// A failing writer surfaces in Close.
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		fw := &failingWriter{after: 1 << 10}
		c, _ := NewCapture(fw)
		if err := c.AttachSegment(p.lan); err != nil {
			t.Fatal(err)
		}
		cc, ss := connect(t, p.a, p.b, "80")
		cc.Write(payload(1, 100_000))
		io.ReadFull(ss, make([]byte, 100_000))
		cc.Close()
		ss.Close()
		if err := c.Close(); !errors.Is(err, errDiskFull) {
			t.Errorf("Close after a write error: %v, want %v", err, errDiskFull)
		}
	})
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{ after int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.after < len(b) {
		return 0, errDiskFull
	}
	w.after -= len(b)
	return len(b), nil
}

// A capture of several capture points seeing frames at once, on the real
// clock, is in strict time order: timestamps are taken under the
// capture's lock, as the frames are written.
func TestCaptureTimeOrder(t *testing.T) {
	var buf bytes.Buffer
	p := newPair(t, pairConfig{})
	c, err := NewCapture(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, attach := range []func() error{
		func() error { return c.AttachSegment(p.lan) },
		func() error { return c.AttachNIC(p.na) },
		func() error { return c.AttachNIC(p.nb) },
	} {
		if err := attach(); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	for i := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			cc, ss := connect(t, p.a, p.b, strconv.Itoa(41000+i))
			go func() { io.Copy(ss, ss); ss.Close() }()
			go func() { cc.Write(payload(uint64(i), 50_000)); cc.CloseWrite() }()
			io.Copy(io.Discard, cc)
			cc.Close()
		}()
	}
	for range 4 {
		<-done
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(buf.Bytes()), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	n := 0
	for {
		_, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ci.Timestamp.Before(last) {
			t.Fatalf("frame %d at %v, before frame %d at %v", n+1, ci.Timestamp, n, last)
		}
		last = ci.Timestamp
		n++
	}
	if n < 100 {
		t.Fatalf("%d frames captured, want the traffic of 4 connections", n)
	}
}
