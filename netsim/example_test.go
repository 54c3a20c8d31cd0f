package netsim_test

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/tlslab/tlslab/netsim"
)

// Two hosts on one segment: an echo server and a client that half-closes
// and reads the echo back. The seed fixes the client's ephemeral port.
func Example() {
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	defer w.Close()
	lan := w.NewSegment("lan", netsim.SegmentConfig{})
	server := w.NewHost("server", netsim.HostConfig{})
	client := w.NewHost("client", netsim.HostConfig{})
	server.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.1/24")})
	client.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.2/24")})

	l, _ := server.Listen("tcp", ":7")
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()

	c, err := client.Dial("tcp", "10.0.0.1:7")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Fprint(c, "hello")
	c.(*netsim.Conn).CloseWrite()
	echo, _ := io.ReadAll(c)
	c.Close()
	fmt.Printf("%s -> %s: %s\n", c.LocalAddr(), c.RemoteAddr(), echo)

	_, err = client.Dial("tcp", "10.0.0.1:8")
	fmt.Println(err)
	// Output:
	// 10.0.0.2:64594 -> 10.0.0.1:7: hello
	// dial tcp 10.0.0.1:8: connect: connection refused
}
