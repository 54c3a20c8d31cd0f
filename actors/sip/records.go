package sip

import (
	"crypto/tls"
	"slices"
	"sync"
	"time"

	"github.com/tlslab/tlslab/internal/notify"
)

// Transport names how a connection was protected.
type Transport string

const (
	// TransportTCP is plaintext SIP over TCP (RFC 3261 "TCP"): no
	// confidentiality, no authentication.
	TransportTCP Transport = "TCP"
	// TransportTLS is SIP over TLS where only the server proved its
	// identity (a client's connection to its pool).
	TransportTLS Transport = "TLS"
	// TransportMTLS is SIP over TLS where the peer also presented a
	// certificate (server to server).
	TransportMTLS Transport = "MTLS"
)

// Direction says which end of a connection a record was made at.
type Direction string

const (
	// Inbound: the peer connected to this server.
	Inbound Direction = "inbound"
	// Outbound: this server was connecting to its next hop.
	Outbound Direction = "outbound"
)

// Stage is the step at which a connection or request was refused.
type Stage string

const (
	// StageLookup: DNS resolution of the next hop failed.
	StageLookup Stage = "lookup"
	// StagePolicy: a federation policy refused the next hop before dialling
	// (allow-list, SRV target outside the partner domain).
	StagePolicy Stage = "policy"
	// StageDial: the TCP connection failed.
	StageDial Stage = "dial"
	// StageHandshake: the TLS handshake failed, including the trusted server
	// list and partner checks run inside it.
	StageHandshake Stage = "handshake"
	// StageExchange: sending the request or reading the answer failed.
	StageExchange Stage = "exchange"
	// StageRequest: the request was refused (malformed, unknown recipient,
	// method not allowed, no route).
	StageRequest Stage = "request"
)

// TLSInfo describes a completed TLS handshake.
type TLSInfo struct {
	Version     uint16
	CipherSuite uint16
	// ServerName is the SNI name: the name the client dialled.
	ServerName string
	// PeerSubject and PeerIssuer are the peer's leaf certificate's subject
	// and issuer in RFC 2253 form ("CN=pool01.contoso.com,O=Contoso");
	// empty when the peer sent no certificate.
	PeerSubject string
	PeerIssuer  string
	// PeerDNSNames are the leaf's DNS subject alternative names.
	PeerDNSNames []string
	// Verified reports whether the peer's chain was verified against the
	// local trust store (false, for example, when the peer sent none, or
	// the config skipped verification).
	Verified bool
}

// VersionName is the protocol version as text, e.g. "TLS 1.3".
func (t *TLSInfo) VersionName() string { return tls.VersionName(t.Version) }

// CipherSuiteName is the cipher suite as text, e.g. "TLS_AES_128_GCM_SHA256".
func (t *TLSInfo) CipherSuiteName() string { return tls.CipherSuiteName(t.CipherSuite) }

func newTLSInfo(cs tls.ConnectionState) *TLSInfo {
	info := &TLSInfo{
		Version:     cs.Version,
		CipherSuite: cs.CipherSuite,
		ServerName:  cs.ServerName,
		Verified:    len(cs.VerifiedChains) > 0,
	}
	if len(cs.PeerCertificates) > 0 {
		leaf := cs.PeerCertificates[0]
		info.PeerSubject = leaf.Subject.String()
		info.PeerIssuer = leaf.Issuer.String()
		info.PeerDNSNames = slices.Clone(leaf.DNSNames)
	}
	return info
}

// PeerInfo describes the connection a request arrived on.
type PeerInfo struct {
	// Addr is the peer's "ip:port".
	Addr string
	// Listener names the listener that accepted the connection: "client",
	// "plain" or "mtls" on a FrontEnd, "internal" or "external" on an Edge.
	Listener string
	// Transport is how the connection was protected.
	Transport Transport
	// Identity is the first DNS name of the peer's certificate (its subject
	// common name when it has none); "" when the peer presented none.
	Identity string
	// Verified reports whether the peer's certificate chain was verified.
	// Identity is a proven identity only when Verified is true.
	Verified bool
	// TLS is the handshake; nil for plaintext.
	TLS *TLSInfo
	// User is, on a client listener, the user registered on this
	// connection when the record was made; "" before a REGISTER and on
	// server listeners.
	User string
	// Auth is, on a client listener, the account the connection
	// authenticated as (FrontEndConfig.NTLM) when the record was made; nil
	// before it did, without NTLM, and on server listeners.
	Auth *AuthInfo
}

// AuthInfo is the account a client connection proved with user
// authentication (MS-SIPAE NTLM).
type AuthInfo struct {
	// Scheme is the authentication scheme, "NTLM".
	Scheme string
	// User, Domain and Workstation are the names the verified
	// AUTHENTICATE carried: "alice", "CONTOSO", "ALICE-PC".
	User, Domain, Workstation string
}

// Account is DOMAIN\user, or user without a domain.
func (a AuthInfo) Account() string { return ntlmAccount(a.Domain, a.User) }

// Delivery is the observable proof that a FrontEnd handed a MESSAGE to a
// user homed on it. The lab has no recipient endpoints: the record is the
// delivery.
type Delivery struct {
	Time time.Time
	// Node is the delivering server's Name.
	Node string
	// From and To are the sender's and recipient's addresses,
	// "alice@contoso.com".
	From, To string
	// Body is the message body; ContentType its media type.
	Body        string
	ContentType string
	CallID      string
	// Via lists the sent-by of every Via header, topmost (last hop) first:
	// the path the message took.
	Via []string
	// Peer is the connection the message arrived on: for a relayed message,
	// the previous server's verified identity.
	Peer PeerInfo
}

// Relay records a request a server forwarded to its next hop, and the
// answer it got.
type Relay struct {
	Time time.Time
	// Node is the forwarding server's Name.
	Node     string
	Method   string
	From, To string
	CallID   string
	// Peer is the connection the request arrived on.
	Peer PeerInfo
	// NextHop is the name dialled (the TLS server name); NextHopAddr its
	// "ip:port"; NextHopTLS the handshake.
	NextHop     string
	NextHopAddr string
	NextHopTLS  *TLSInfo
	// Status is the final status the next hop answered.
	Status int
}

// Rejection records something a server refused or failed: an inbound
// handshake, an outbound connection, a request. Reason is the exact text
// scenarios assert on, "<node>: <cause>", e.g.
// "fe02: MTLS peer fe99.contoso.com is not in the trusted server list" or
// "edge01: tls: failed to verify certificate: x509: certificate signed by unknown authority".
type Rejection struct {
	Time      time.Time
	Node      string
	Direction Direction
	Stage     Stage
	// Peer is the inbound connection (Inbound), or the connection the
	// request that triggered an outbound attempt arrived on (Outbound).
	Peer PeerInfo
	// Target is, outbound, the name this server was trying to reach (an
	// FQDN, an SRV target or an SRV record); "" inbound.
	Target string
	// TargetAddr is, outbound, the "ip:port" dialled when known.
	TargetAddr string
	// Method, From and To describe the request, when there was one.
	Method   string
	From, To string
	// Status is the SIP status this server answered, 0 when it answered
	// none (a failed handshake).
	Status int
	// Reason is "<Node>: <Err>".
	Reason string
	// Err is the typed cause: *UntrustedPeerError, *PartnerNotAllowedError,
	// *SRVTargetError, *RoutingError, *tls.CertificateVerificationError, ...
	Err error
}

// Registration records a REGISTER a FrontEnd accepted. With
// FrontEndConfig.NTLM, Peer.Auth says which account authenticated the
// connection and by which scheme.
type Registration struct {
	Time    time.Time
	Node    string
	User    string
	Contact string
	Peer    PeerInfo
}

// recorder keeps a server's records. It is safe for concurrent use; every
// accessor returns a copy.
type recorder struct {
	mu            sync.Mutex
	deliveries    []Delivery
	relays        []Relay
	rejections    []Rejection
	registrations []Registration
	changed       notify.Signal // broadcast after each record
}

func (r *recorder) addDelivery(d Delivery) {
	r.mu.Lock()
	r.deliveries = append(r.deliveries, d)
	r.mu.Unlock()
	r.changed.Broadcast()
}

func (r *recorder) addRelay(x Relay) {
	r.mu.Lock()
	r.relays = append(r.relays, x)
	r.mu.Unlock()
	r.changed.Broadcast()
}

func (r *recorder) addRejection(x Rejection) {
	r.mu.Lock()
	r.rejections = append(r.rejections, x)
	r.mu.Unlock()
	r.changed.Broadcast()
}

func (r *recorder) addRegistration(x Registration) {
	r.mu.Lock()
	r.registrations = append(r.registrations, x)
	r.mu.Unlock()
	r.changed.Broadcast()
}

func (r *recorder) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.deliveries)
}

func (r *recorder) Relays() []Relay {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.relays)
}

func (r *recorder) Rejections() []Rejection {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rejections)
}

func (r *recorder) Registrations() []Registration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.registrations)
}

// Recorded returns a channel that is closed when the Edge next records a
// relay or a rejection: take it, then read the records, and wait on it if
// what you look for is not there yet.
func (e *Edge) Recorded() <-chan struct{} { return e.node.rec.changed.Next() }

// Recorded returns a channel that is closed when the Front End next
// records a delivery, relay, rejection or registration: take it, then read
// the records, and wait on it if what you look for is not there yet.
func (f *FrontEnd) Recorded() <-chan struct{} { return f.node.rec.changed.Next() }
