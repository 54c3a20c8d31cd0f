package lab

import (
	"crypto/x509"
	"time"

	"github.com/tlslab/tlslab/netsim"
)

// An Observer watches one run as it happens, for tools that explain runs
// rather than judge them: the timeline (package lab/timeline) is one. It
// sees what the run's own machinery sees — frames, TLS secrets, the
// certificate decisions of TLSPolicy's configs, the evidence — and changes
// nothing: the scenario observes and is judged exactly as without it.
//
// [Runner.RunObserved] calls Start once before the scenario's Run, Finish
// once after the World has stopped, and the other methods in between from
// the run's goroutines, concurrently: an Observer must be safe for
// concurrent use, and must not block.
type Observer interface {
	// Start gives the run's World, just created; offsets of a run count
	// from its clock's reading now.
	Start(w *netsim.World)
	// Tap sees every frame of the segments the scenario captures
	// (Env.Capture), as a pcapng would.
	netsim.Tap
	// KeyLogged receives what a TLS stack of the run wrote to Env.KeyLog:
	// NSS key log lines, each ending in a newline.
	KeyLogged(lines []byte)
	// CertificateChecked receives what a config of the run's TLSPolicy
	// decided about a peer's certificates, in its VerifyConnection.
	CertificateChecked(CertificateCheck)
	// Finish gives every evidence line the scenario recorded, in order.
	Finish(evidence []EvidenceEntry)
}

// CertificateCheck is one decision of a TLSPolicy config about the
// certificates a peer presented.
type CertificateCheck struct {
	At time.Time // the World's clock when the config decided
	// ByServer is true when the checking side was the server (judging a
	// client certificate). For MTLS configs, which serve both roles, it is
	// a guess: the side whose own certificate names the server name.
	ByServer   bool
	ServerName string              // the handshake's SNI
	Chain      []*x509.Certificate // as presented, leaf first
	Err        error               // nil: accepted
	// ClientRandom is the client random of the last secret the config
	// logged, nil when it logged none. In TLS 1.3 that is the handshake
	// being checked (its handshake secrets are logged before the peer's
	// Certificate is read); in TLS 1.2, or when one config runs several
	// handshakes at once, it may be another connection's. It is a hint
	// that lets an observer reading the wire tell connections with the
	// same certificate apart, to be checked against what it saw.
	ClientRandom []byte
}

// EvidenceEntry is one evidence line with when and by whom it was recorded.
type EvidenceEntry struct {
	At time.Time // when it was recorded; zero when the Evidence has no clock
	// Occurred is when the event the line describes happened, when the
	// scenario said (Evidence.At); zero otherwise.
	Occurred time.Time
	Actor    string // "" for a line without actor
	Text     string // the message, without the actor
}
