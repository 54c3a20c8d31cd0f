// Package netsim is tlslab's in-memory network: switched Ethernet segments,
// hosts and routers whose frames are real Ethernet, ARP, IPv4, TCP and UDP
// frames, built and parsed with gopacket, so that crypto/tls, miekg/dns and a
// packet analyser all see a network they recognise. netsim never opens a real
// socket.
//
// # Building a network
//
// A World holds everything and owns the clock and the randomness:
//
//	w := netsim.NewWorld(netsim.Config{Seed: 1})
//	defer w.Close() // stops every goroutine the World started
//
//	lan := w.NewSegment("lan", netsim.SegmentConfig{}) // MTU 1500
//	alice := w.NewHost("alice", netsim.HostConfig{})
//	pool := w.NewHost("pool01", netsim.HostConfig{})
//	alice.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.10/24")})
//	pool.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.20/24")})
//
// Routers (World.NewRouter) join segments; hosts reach other subnets through
// SetDefaultGateway and AddRoute. Each host resolves next hops with ARP into
// its own cache, whose HostConfig.ARPPolicy (accept any reply, only solicited
// replies, static entries only) is the defense against ARP spoofing. Requests
// are learned from as Linux learns from them: a request for one of the host's
// addresses creates or updates its sender's entry, any other request
// (another host's broadcast, gratuitous ARP) only updates an entry that
// exists or is being resolved. So a host on a flat segment of thousands
// caches the hosts it talks to, not every host that broadcasts, and a
// forged gratuitous ARP poisons only an entry the victim already has
// (forged replies, under accept-any, poison in any case).
//
// # Streams and datagrams
//
// Host.Listen and Host.DialContext give a net.Listener and net.Conn (a *Conn)
// with TCP's behaviour on the wire: three-way handshake, MSS-sized segments
// with consistent sequence and acknowledgement numbers, a receive window that
// stalls a writer whose peer stops reading, FIN half-close (Conn.CloseWrite),
// RST, "connection refused" for closed ports, and deadlines whose errors are
// net.Errors with Timeout() true. The model is lossless: impairments never drop
// TCP, and segments a hook drops are not retransmitted. Host.ListenPacket and
// DialContext("udp", ...) give UDP sockets on which a miekg/dns server and
// client run unchanged. netsim resolves no names: that is the DNS actors' job.
//
//	ln, _ := pool.Listen("tcp", ":5061")
//	conn, _ := alice.DialContext(ctx, "tcp", "10.0.0.20:5061")
//	tlsConn := tls.Client(conn, cfg) // crypto/tls, unmodified
//
// # Watching and attacking the wire
//
// A Tap sees frames passively at a segment (Segment.AddTap, like a mirror
// port) or a NIC (NIC.AddTap). Capture writes taps to pcapng, one interface
// per capture point, readable by Wireshark and tshark:
//
//	c, _ := netsim.NewCapture(file)
//	c.AttachSegment(lan)
//	defer c.Close()
//
// A FrameHook on a segment (Segment.AddHook) or a router (Host.AddForwardHook)
// can observe, drop or rewrite frames in flight, and Segment.Inject and
// NIC.WriteFrame put hand-made frames on the wire: the attackers' entry
// points. Host.ListenTransparent lets an on-path host terminate TCP addressed
// to someone else, as a transparent proxy does.
//
// # Time
//
// Latency (NICConfig.Latency), datagram loss (NICConfig.Loss), deadlines,
// retransmission and delayed-ACK timers all run on the World's Clock. The
// default uses package time, so a World created inside a testing/synctest
// bubble runs on virtual time.
//
// # Speed
//
// Frames are encoded in place into pooled buffers and recycled once read;
// bulk writes are segmented GSO-style from one gopacket-encoded header per
// batch, each segment checksummed while its payload is still in the cache;
// receivers and readers are woken once per batch; frames that reach their
// receiver exactly as a host's stack built them skip checksum verification.
// A segment decodes a broadcast ARP request once and delivers it only to the
// ports it can concern (its target, hosts that hold or are resolving an
// entry for its sender, promiscuous and tapped NICs), so a flat segment of N
// hosts costs O(N), not O(N²), in ARP. BenchmarkStream and
// BenchmarkTLSHandshake compare netsim with kernel loopback TCP and
// net.Pipe in the same run; BenchmarkRegistrationStorm has thousands of
// hosts complete a TLS handshake with one server at once.
package netsim
