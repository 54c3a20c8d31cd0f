package winname

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	miekg "github.com/miekg/dns"
)

// Policy is which names a Responder answers for.
type Policy int

const (
	// AnswerOwnName answers only for the responder's own name, as every
	// Windows host with LLMNR and NetBIOS over TCP/IP on does.
	AnswerOwnName Policy = iota
	// AnswerEveryName answers every name asked with the responder's
	// address, as the Responder tool does to poison name resolution.
	AnswerEveryName
)

func (p Policy) String() string {
	switch p {
	case AnswerOwnName:
		return "answer own name"
	case AnswerEveryName:
		return "answer every name"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ResponderConfig declares an LLMNR and NBT-NS responder.
type ResponderConfig struct {
	// Name is the host's own name ("fileserv"), compared without regard
	// to case. Required for AnswerOwnName; ignored by AnswerEveryName.
	Name string
	// Addr is the IPv4 address every answer gives. Required.
	Addr netip.Addr
	// Policy picks the names answered; the zero value is AnswerOwnName.
	Policy Policy
	// OnAnswer, when not nil, is called with every answer sent, after it
	// was sent, from the goroutine serving the socket. It must not block.
	// Responder.Answers keeps the same record.
	OnAnswer func(Answer)
}

// Answer is one response a Responder sent: evidence of who was told what.
type Answer struct {
	// Protocol is LLMNR or NBTNS.
	Protocol Protocol
	// To is the querier's address and port.
	To netip.AddrPort
	// Name is the name asked: the LLMNR question without its trailing
	// dot, or the NetBIOS name ("FILESERV<00>").
	Name string
	// Addr is the address the answer gave.
	Addr netip.Addr
}

func (a Answer) String() string {
	return fmt.Sprintf("%s answer to %v: %s is %v", a.Protocol, a.To, a.Name, a.Addr)
}

// Responder answers LLMNR and NBT-NS name queries according to its Policy.
// Its methods are safe for concurrent use.
type Responder struct {
	cfg ResponderConfig

	mu      sync.Mutex
	answers []Answer // guarded by mu
}

// NewResponder returns a responder for cfg. It fails with a *ConfigError
// when Addr is not IPv4 or, for AnswerOwnName, Name is empty.
func NewResponder(cfg ResponderConfig) (*Responder, error) {
	if !cfg.Addr.Is4() {
		return nil, &ConfigError{What: "responder", Problem: "ResponderConfig.Addr must be the IPv4 address to answer with"}
	}
	if cfg.Policy == AnswerOwnName && strings.TrimSuffix(cfg.Name, ".") == "" {
		return nil, &ConfigError{What: "responder", Problem: "ResponderConfig.Name is empty: AnswerOwnName needs the host's name"}
	}
	if cfg.Policy != AnswerOwnName && cfg.Policy != AnswerEveryName {
		return nil, &ConfigError{What: "responder", Problem: fmt.Sprintf("unknown policy %d: use AnswerOwnName or AnswerEveryName", int(cfg.Policy))}
	}
	cfg.Name = strings.TrimSuffix(cfg.Name, ".")
	return &Responder{cfg: cfg}, nil
}

// forget removes the last record of a, an answer that could not be sent.
func (r *Responder) forget(a Answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.answers) - 1; i >= 0; i-- {
		if r.answers[i] == a {
			r.answers = slices.Delete(r.answers, i, i+1)
			return
		}
	}
}

// Answers returns a copy of every answer sent so far, in order.
func (r *Responder) Answers() []Answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Answer(nil), r.answers...)
}

// ownsName reports whether the policy answers for name (case-insensitive).
func (r *Responder) ownsName(name string) bool {
	return r.cfg.Policy == AnswerEveryName || strings.EqualFold(name, r.cfg.Name)
}

// AnswerLLMNR returns the wire response to the LLMNR query in wire and the
// name asked, or ok false when the policy does not answer it or it is not
// a query for A records (see RFC 4795 section 2.1.1).
func (r *Responder) AnswerLLMNR(wire []byte) (resp []byte, name string, ok bool) {
	q := new(miekg.Msg)
	if q.Unpack(wire) != nil {
		return nil, "", false
	}
	name, err := llmnrQuestion(q)
	if err != nil || !r.ownsName(name) {
		return nil, "", false
	}
	resp, err = NewLLMNRAnswer(q, r.cfg.Addr, DefaultLLMNRTTL).Pack()
	if err != nil {
		return nil, "", false
	}
	return resp, name, true
}

// AnswerNBNS returns the wire positive response to the NBNS name query in
// wire and the NetBIOS name asked, or ok false when the policy does not
// answer it or it is not an NB name query. A host answers for its own name
// with the workstation and file server suffixes; AnswerEveryName answers
// any suffix.
func (r *Responder) AnswerNBNS(wire []byte) (resp []byte, name NetBIOSName, ok bool) {
	q, err := ParseNBNS(wire)
	if err != nil || q.Response() || q.Opcode() != 0 || len(q.Questions) != 1 || len(q.Answers) != 0 {
		return nil, NetBIOSName{}, false
	}
	qq := q.Questions[0]
	if qq.Type != NBNSTypeNB || qq.Class != NBNSClassIN {
		return nil, NetBIOSName{}, false
	}
	if r.cfg.Policy == AnswerOwnName {
		own, fits := NetBIOSNameFor(r.cfg.Name, qq.Name.Suffix)
		if !fits || own.Name != qq.Name.Name || qq.Name.Scope != "" ||
			(qq.Name.Suffix != SuffixWorkstation && qq.Name.Suffix != SuffixFileServer) {
			return nil, NetBIOSName{}, false
		}
	}
	resp, err = NewNBNSPositiveResponse(q, r.cfg.Addr, DefaultNBNSTTL).Marshal()
	if err != nil {
		return nil, NetBIOSName{}, false
	}
	return resp, qq.Name, true
}

// Serve answers queries arriving on llmnr (a socket on UDP port 5355 that
// receives the LLMNR group's datagrams) and nbns (a socket on UDP port 137
// that receives broadcasts), either of which may be nil, sending each
// response by unicast to the query's source. It runs until ctx ends, then
// closes both sockets, waits for its goroutines and returns ctx's error; if
// a socket fails first, it returns that error (after the same cleanup).
func (r *Responder) Serve(ctx context.Context, llmnr, nbns net.PacketConn) error {
	if llmnr == nil && nbns == nil {
		return &ConfigError{What: "responder", Problem: "Serve needs an LLMNR or an NBNS socket"}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for pc, proto := range map[net.PacketConn]Protocol{llmnr: LLMNR, nbns: NBTNS} {
		if pc != nil {
			wg.Go(func() { cancel(r.serveConn(pc, proto)) }) // no-op once ctx is done
		}
	}
	<-ctx.Done()
	for _, pc := range []net.PacketConn{llmnr, nbns} {
		if pc != nil {
			pc.Close()
		}
	}
	wg.Wait()
	return context.Cause(ctx)
}

// serveConn answers queries on pc until reading fails, and returns why.
func (r *Responder) serveConn(pc net.PacketConn, proto Protocol) error {
	buf := make([]byte, miekg.MaxMsgSize)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("winname: %s responder: %w", proto, err)
		}
		var resp []byte
		var name string
		var ok bool
		if proto == LLMNR {
			resp, name, ok = r.AnswerLLMNR(buf[:n])
		} else {
			var nb NetBIOSName
			resp, nb, ok = r.AnswerNBNS(buf[:n])
			name = nb.String()
		}
		if !ok {
			continue
		}
		// Recorded before it is sent: once the querier has the answer,
		// Answers must already hold it (a test or a scenario reads it as
		// soon as the lookup returns).
		a := Answer{Protocol: proto, To: addrPort(from), Name: name, Addr: r.cfg.Addr}
		r.mu.Lock()
		r.answers = append(r.answers, a)
		r.mu.Unlock()
		if _, err := pc.WriteTo(resp, from); err != nil {
			r.forget(a)
			continue // the querier may be gone; keep serving
		}
		if r.cfg.OnAnswer != nil {
			r.cfg.OnAnswer(a)
		}
	}
}

// addrPort returns a UDP address as a netip.AddrPort (zero for another
// kind of address).
func addrPort(a net.Addr) netip.AddrPort {
	ua, ok := a.(*net.UDPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ap := ua.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
