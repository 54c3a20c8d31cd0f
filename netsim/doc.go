// Package netsim is tlslab's in-memory network: switched Ethernet segments,
// hosts and routers whose frames are real Ethernet, ARP, IPv4, TCP and UDP
// frames, built and parsed with gopacket, so that crypto/tls, miekg/dns and a
// packet analyser all see a network they recognise. netsim opens no real
// socket, with one explicit exception: a Bridge, on loopback only (see Real
// peers).
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
// RST (Conn.Abort, or Close with data unread), "connection refused" for
// closed ports, and deadlines whose errors are net.Errors with Timeout()
// true. Lost segments are recovered as Linux recovers them: a retransmission
// timer per connection (RFC 6298 RTT estimation, 200 ms minimum, exponential
// backoff, Karn's algorithm), fast
// retransmit on three duplicate ACKs with NewReno-style recovery, resent
// SYNs, SYN-ACKs and FINs, out-of-order data held within the window,
// zero-window probes, and an abort with "connection timed out" once the peer
// has acknowledged nothing for TCPUserTimeout (30 s of World time). There is
// no congestion control: the peer's window alone limits the sender. Loss
// comes from impairments (Impairment.Loss, Partition, Corrupt, a Rate's
// queue) and from hooks. Host.ListenPacket and
// DialContext("udp", ...) give UDP sockets on which a miekg/dns server and
// client run unchanged. They also send and receive broadcasts
// (255.255.255.255 and a subnet's directed broadcast) and IPv4 multicast
// (MulticastConn.JoinGroup, Host.ListenMulticastUDP), which routers never
// forward; a NIC added with NICConfig.Unaddressed lets its host send from
// 0.0.0.0 until NIC.SetAddr configures it, as a DHCP client does (see
// udp_broadcast.go). netsim resolves no names: that is the DNS actors' job.
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
// A sender annotates the frames it forges for the capture's reader
// (World.NoteFrame, or World.NoteNext for frames its TCP connection
// builds): the note becomes the frame's pcapng comment, Wireshark's
// frame.comment. A capture that holds its frames until Close
// (CaptureOptions.Hold) can still note one after the fact (NoteLast), and
// KeyLogWriter embeds a TLS key log so the file opens decrypted.
//
// A FrameHook on a segment (Segment.AddHook) or a router (Host.AddForwardHook)
// can observe, drop or rewrite frames in flight, and Segment.Inject and
// NIC.WriteFrame put hand-made frames on the wire: the attackers' entry
// points. Host.ListenTransparent lets an on-path host terminate TCP addressed
// to someone else, as a transparent proxy does.
//
// # Impairments and failures
//
// An Impairment, in the spirit of Linux netem, says what happens to frames
// at one point of the network: loss (of every protocol, TCP included),
// delay, jitter, reordering, duplication, bit corruption, a rate with a
// tail-dropping queue, and partition. It can be set, changed and removed at
// any time, and acts on frames sent from then on:
//
//	lan.SetImpairment(netsim.Impairment{Loss: 0.02, Delay: 2 * time.Millisecond})
//	nic.SetImpairment(netsim.Impairment{Rate: 125_000})  // each direction
//	mallory.SetImpairment(netsim.Impairment{Partition: true}) // all its NICs
//	w.ImpairSegments(imp)          // every segment, now and later
//	w.ImpairHost("mallory", imp)   // that host, now or once created
//
// A frame faces its sending NIC's impairment, then the segment's, then the
// receiving NIC's; delays add up. Corruption flips one bit where a checksum
// covers it, so the receiving stack drops the frame as a real one would,
// while captures further down the path show it corrupted. ParseImpairSpec
// reads impairments from text ("loss=2%,delay=2ms;host=mallory,partition")
// for command lines. NICConfig.Latency and NICConfig.Loss (UDP only) are a
// NIC's initial impairment.
//
// Host.Down takes a host off the network as a crash does: it sends and
// receives nothing, and its TCP connections are lost without a word. After
// Host.Up it answers a peer's segment for a lost connection with RST, as a
// rebooted host does.
//
// # Time
//
// Impairments' delays and rates, deadlines, retransmission and delayed-ACK
// timers all run on the World's Clock: a delayed frame is delivered when
// the Clock reaches its time, never by sleeping. The default Clock uses
// package time, so a World created inside a testing/synctest bubble runs on
// virtual time and an impaired network's timing is exact and repeatable.
// Every random choice (impairments', TCP's initial sequence numbers,
// ephemeral ports) comes from the World's seeded source: the same seed and
// the same order of frames make the same choices.
//
// # Real peers
//
// A Bridge carries TCP connections between the World and real programs on
// the same machine, such as a real TLS client or server under test, over
// real sockets on loopback addresses:
//
//	in, _ := alice.BridgeIn("127.0.0.1:0", netip.MustParseAddrPort("10.0.0.20:443"))
//	defer in.Close() // real clients dial in.Addr() and reach pool01:443 from alice
//	out, _ := pool.BridgeOut(4433, "127.0.0.1:4433")
//	defer out.Close() // hosts dial 10.0.0.20:4433 and reach the real server
//
// Each bridged connection is two TCP connections, a real one and one in the
// World, with the bytes copied between them as they arrive: a FIN on one
// is passed on as a FIN (so half-closed streams stay half-closed), and a
// RST, or any other end, as a RST. The World's impairments, taps and
// captures see only the simulated leg, and the real leg runs on real time
// whatever the World's Clock. Bridges bind and dial literal loopback
// addresses only (127.0.0.0/8 and ::1) and refuse any other address, a name
// included, with a *BridgeAddrError before opening a socket, so nothing
// beyond the machine can reach a World or be reached from one. Closing a
// Bridge, or the World, resets the connections it carries and waits for its
// goroutines.
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
