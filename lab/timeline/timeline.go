package timeline

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tlslab/tlslab/lab"
)

// Kind says what an [Event] is about, in the protocol's own
// terms.
type Kind string

// The kinds of timeline events.
const (
	// ARP: an ARP request or reply on a segment, with spoofed replies
	// (a sender address that belongs to another host's NIC) marked.
	ARP Kind = "arp"
	// DNS: a DNS query or response (UDP, or TCP on port 53).
	DNS Kind = "dns"
	// TCP: a connection attempt (SYN), its acceptance (SYN-ACK), a
	// refusal or reset (RST) and each side's close (FIN).
	TCP Kind = "tcp"
	// TLS: the messages of a TLS handshake: ClientHello and
	// ServerHello, the other handshake messages (TLS 1.3's, and TLS 1.2's
	// Finished, decrypted with the run's key log, marked "(decrypted)"),
	// alerts, and where records the key log does not open begin.
	TLS Kind = "tls"
	// Application: an application message read from TLS records the
	// run's key log decrypted: a SIP request line with the first line of
	// its body ("SIP MESSAGE sip:dave@contoso.com: \"...\" (decrypted) ->
	// ...") or a SIP status line ("SIP 200 OK (decrypted) -> ..."), or
	// decrypted data that is not SIP, by size. "(decrypted)" says the
	// timeline opened the records with the run's own key log, which the
	// lab's TLS stacks write: it is no sign that the attacker could (her
	// evidence lines say what she read). (Added with decryption of
	// application data; earlier timelines have none.)
	Application Kind = "application"
	// Certificate: a certificate chain a peer presented in a
	// Certificate message, on the host it was presented to, with that
	// side's verdict when known (accepted, or refused and how).
	Certificate Kind = "certificate"
	// Data: the first line of a TCP stream that is not TLS (plain
	// SIP, HTTP for OCSP and CRLs).
	Data Kind = "data"
	// Evidence: an evidence line the scenario recorded.
	Evidence Kind = "evidence"
)

// Event is one step of a run.
type Event struct {
	// At is the World's clock at the event, as an offset from the moment
	// the World was created (just before the scenario's Run was called).
	At time.Duration
	// Host is the host the event happened on or whose frame it is: the
	// owner of the frame's source MAC, the side that verified a
	// certificate, the actor of an evidence line. "" when unknown (a frame
	// from a MAC no NIC has, an evidence line without actor).
	Host string
	// Peer is the other host of the event: the one its frame was sent to
	// (the owner of the destination MAC, else of the destination address;
	// for a TCP connection's messages, the host that sent or answered its
	// SYN); for a certificate, the host that presented it. "" for
	// broadcasts, evidence lines and when unknown. (Added for viewers.)
	Peer string
	Kind Kind
	// Text says what happened, for people, starting with the protocol
	// ("ARP who-has 10.0.0.11 tell 10.0.0.10", "TLS ClientHello -> ...",
	// "certificate presented by ...", "evidence: ...").
	Text string
	// Forged is true for a message the wire itself shows to be forged, and
	// Text then says why: an ARP message claiming an address for a MAC no
	// NIC holding that address has ("(spoofed: ...)"); a DNS answer that
	// crossed the wire before any query it answers, or that came from the
	// MAC of another host than the one holding its source address on that
	// segment ("(forged as 10.0.0.53 (dns01): ...)"). Host is "" for a
	// forgery whose frame claims the forged host's MAC too. It is never set
	// from what a scenario expects, only from the frames. (Added for
	// viewers; older events have it false.)
	Forged bool
	// Recorded is, for an evidence line, the time the scenario recorded
	// it; At is then the time of the event it describes when the
	// timeline can tell (a line naming a DNS transaction, "query A
	// pool01.contoso.com (ID 21303)", is placed at that transaction's
	// answer, the forged one if any; a line the scenario recorded with
	// the event's time, lab.Evidence.At, at that time), else Recorded.
	// Zero for other
	// events. (Added for viewers.)
	Recorded time.Duration
	// Frame is the number of the captured frame the event comes from,
	// counting every frame the recorder observed from 1, in the order the
	// taps saw them; 0 for events that do not come from one frame
	// (certificate verdicts, evidence lines). Events decoded from bytes
	// that several frames carried (a TLS record split across segments)
	// have the number of the frame that completed them.
	Frame int
}

// Events are a run's events sorted by At; events at the same time keep the
// order in which they were observed, wire and certificate events before
// evidence lines.
type Events []Event

// Record runs s with r exactly as [lab.Runner.Run] does and also returns the
// timeline of the run: every frame on the segments the scenario passed to
// Env.Capture, decoded (ARP, DNS, TCP connections, the TLS handshake), and
// every evidence line, each at the World's time.
//
// TLS 1.3 connections are decrypted with the secrets the run's TLS stacks
// write to Env.KeyLog (any tls.Config with KeyLogWriter: env.KeyLog, which
// includes every config [lab.TLSPolicy] builds from it): the server's
// EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify
// and Finished, the client's Certificate and Finished, the alerts either
// side sends (which is how a refused certificate shows), and the
// application data. TLS 1.2 connections whose suite tlswire decrypts
// (AES-GCM, ChaCha20-Poly1305, AES-CBC) are decrypted from ChangeCipherSpec
// on with the key log's CLIENT_RANDOM master secret: their Finished, their
// alerts and their application data. Decrypted application data is read
// as SIP: each request and status line is an [Application] event (see
// appdata.go). A connection neither side logged stays encrypted, and
// where its encrypted records begin is reported.
//
// DNS answers the wire shows to be forged are marked (Event.Forged), and
// an answer seen before the query it answers is placed right after it;
// see observeDNS.
//
// Each certificate a peer presents (TLS 1.3 or 1.2) is one event on the
// host it was presented to, with that side's verdict when known:
// "accepted" when the VerifyConnection of a TLSPolicy config accepted it,
// "refused: <x509 error>" when the lab's own checks refused it (a switch is
// off), "refused: alert <description>" when the side sent a fatal alert
// instead of going on, "accepted (handshake continued)" when it went on.
// crypto/tls's own x509 error for a refusal is in the actor's evidence.
//
// Recording changes nothing the scenario can observe but this: Env.KeyLog
// is never nil (it discards the secrets unless KeyLogDir asks for them).
// Certificates are checked exactly as in Run. Frames are decoded on the
// frame path under one lock, so a run is slower than with Run.
//
// Frames a router forwards appear once, when first seen (on the sender's
// segment); TCP payload is reassembled in order per direction, and what
// cannot be parsed is skipped.
func Record(ctx context.Context, r lab.Runner, s lab.Scenario) (lab.Result, Events) {
	tl := newRecorder()
	res := r.RunObserved(ctx, s, tl)
	return res, tl.timeline()
}

// Write prints events one per line, for people: the time as an
// offset from the World's start ("+12.345ms"), the host ("-" when
// unknown), and the text, in columns:
//
//	+0.000ms  alice    ARP who-has 10.0.0.11 tell 10.0.0.10
//
// It returns the first write error.
func Write(w io.Writer, events []Event) error {
	width := 1
	for _, e := range events {
		width = max(width, len(e.Host))
	}
	atWidth := 1
	for _, e := range events {
		atWidth = max(atWidth, len(FormatOffset(e.At)))
	}
	bw := bufio.NewWriter(w)
	for _, e := range events {
		host := e.Host
		if host == "" {
			host = "-"
		}
		fmt.Fprintf(bw, "%-*s  %-*s  %s\n", atWidth, FormatOffset(e.At), width, host, e.Text)
	}
	return bw.Flush()
}

// FormatOffset formats an offset from the World's start in milliseconds
// with microsecond precision: "+0.000ms", "+12.345ms", "+1503.020ms".
func FormatOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%s%d.%03dms", sign, d/time.Millisecond, (d%time.Millisecond)/time.Microsecond)
}
