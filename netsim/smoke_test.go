package netsim

import (
	"io"
	"net/netip"
	"testing"
)

func TestSmoke(t *testing.T) {
	w := NewWorld(Config{Seed: 1})
	defer w.Close()
	lan := w.NewSegment("lan", SegmentConfig{})
	a := w.NewHost("a", HostConfig{})
	b := w.NewHost("b", HostConfig{})
	a.AddNIC(lan, NICConfig{Addr: netip.MustParsePrefix("10.0.0.1/24")})
	b.AddNIC(lan, NICConfig{Addr: netip.MustParsePrefix("10.0.0.2/24")})
	l, err := b.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := a.Dial("tcp", "10.0.0.2:80")
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 300000)
	for i := range msg {
		msg[i] = byte(i)
	}
	go func() { c.Write(msg); c.(*Conn).CloseWrite() }()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(msg) {
		t.Fatalf("got %d bytes", len(got))
	}
	c.Close()
}
