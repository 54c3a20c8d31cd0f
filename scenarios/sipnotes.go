package scenarios

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// Helpers shared by the families that run SIP on the Contoso topology:
// sending alice's canary, and turning what the servers recorded into
// evidence lines.

// Names and ports of the contoso preset, as the families spell them.
const (
	pool01Name = contoso.Pool // the Front End pool alice's client talks to
	contosoOrg = "Contoso"    // the Organization of Contoso's certificates
	// SIP's well-known ports: 5061 for TLS, 5060 for plain TCP.
	portTLS   = contoso.PortSIPTLS
	portPlain = sip.PortTCP
)

// aliceSends creates a canary and has alice, on her PC, register and send
// it to "to" in one session.
func aliceSends(ctx context.Context, env *lab.Env, c *contoso.Deployment, to string) (lab.Canary, *sip.Result, error) {
	canary := env.NewCanary("alice")
	client, err := c.Client("alice", "alice@contoso.com")
	if err != nil {
		return canary, &sip.Result{}, err
	}
	res, err := client.SendMessage(ctx, to, fmt.Sprintf("alice to %s: code word %s", to, canary))
	return canary, res, err
}

// noteConnection records the connection alice's client made, if any.
func noteConnection(env *lab.Env, res *sip.Result) {
	ci := res.Conn
	if ci.TLS == nil {
		return
	}
	verb := "connected to"
	if res.Registered {
		verb = "registered with"
	}
	env.Evidence.Notef("alice", "%s %s (%v, found through %s) over %s %s, server certificate %s issued by %s",
		verb, ci.Target, ci.Addr, ci.Record, ci.TLS.VersionName(), ci.TLS.CipherSuiteName(), ci.TLS.PeerSubject, ci.TLS.PeerIssuer)
}

// sipServer is what FrontEnd and Edge record.
type sipServer interface {
	Relays() []sip.Relay
	Rejections() []sip.Rejection
	Recorded() <-chan struct{}
}

// server returns the Front End or Edge on host, or nil.
func server(c *contoso.Deployment, host string) sipServer {
	if fe := c.FrontEnd(host); fe != nil {
		return fe
	}
	if e := c.Edge(host); e != nil {
		return e
	}
	return nil
}

// noteRelays records every request each of hosts relayed, in host order.
func noteRelays(env *lab.Env, c *contoso.Deployment, hosts ...string) {
	for _, h := range hosts {
		s := server(c, h)
		if s == nil {
			continue
		}
		for _, r := range s.Relays() {
			via := ""
			if t := r.NextHopTLS; t != nil {
				via = fmt.Sprintf(" over MTLS, %s, peer certificate %s issued by %s", t.VersionName(), t.PeerSubject, t.PeerIssuer)
			}
			env.Evidence.Notef(h, "relayed %s from %s to %s to %s (%s)%s; answered %d",
				r.Method, r.From, r.To, r.NextHop, r.NextHopAddr, via, r.Status)
		}
	}
}

// noteRejections records every refusal each of hosts recorded, in host
// order, as its exact reason and where it happened.
func noteRejections(env *lab.Env, c *contoso.Deployment, hosts ...string) {
	for _, h := range hosts {
		if s := server(c, h); s != nil {
			for _, r := range s.Rejections() {
				noteRejection(env, r)
			}
		}
	}
}

// noteRejection records one refusal: the server's exact reason first (it
// reads "<server>: <cause>"), then where it happened, e.g. "edge01: tls:
// failed to verify certificate: x509: certificate signed by unknown
// authority, in the outbound handshake with sip.fabrikam.com
// (203.0.113.20:5061)".
//
// A cause that ClassifyRefusal names (an x509 error, the trusted server
// list, a federation policy) is recorded as that defense's refusal by the
// server; any other (a time-out, a reset) is only a note.
func noteRejection(env *lab.Env, r sip.Rejection) {
	env.Evidence.NoteFailure(r.Node, r.Err, "%s, %s", strings.TrimPrefix(r.Reason, r.Node+": "), rejectionContext(r))
}

func rejectionContext(r sip.Rejection) string {
	if r.Direction == sip.Outbound {
		s := fmt.Sprintf("in the outbound %s with %s", stageNoun(r.Stage), r.Target)
		if r.TargetAddr != "" {
			s += " (" + r.TargetAddr + ")"
		}
		return s
	}
	return fmt.Sprintf("in the inbound %s from %s on the %s listener", stageNoun(r.Stage), hostOnly(r.Peer.Addr), r.Peer.Listener)
}

// stageNoun names a stage for a sentence: "handshake", "request".
func stageNoun(s sip.Stage) string {
	switch s {
	case sip.StagePolicy:
		return "policy check"
	case sip.StageLookup:
		return "DNS lookup"
	}
	return string(s)
}

// findDelivery returns the Front End's delivery whose body carries the
// canary.
func findDelivery(c *contoso.Deployment, host string, canary lab.Canary) (sip.Delivery, bool) {
	fe := c.FrontEnd(host)
	if fe == nil {
		return sip.Delivery{}, false
	}
	for _, d := range fe.Deliveries() {
		if strings.Contains(d.Body, canary.Token) {
			return d, true
		}
	}
	return sip.Delivery{}, false
}

// describeDelivery says who delivered the canary to whom, over which
// connection, and the path the Via headers record, e.g. "delivered the
// canary to bob@contoso.com from verified MTLS peer fe01.contoso.com
// (10.0.0.11), sent by alice@contoso.com, path 10.0.0.10 > fe01.contoso.com".
func describeDelivery(d sip.Delivery) string {
	p := d.Peer
	if p.Listener == "client" || p.Listener == "plain" {
		return fmt.Sprintf("delivered the canary to %s from %s's registered %s connection (%s)",
			d.To, p.User, p.Transport, hostOnly(p.Addr))
	}
	verified := "verified"
	if !p.Verified {
		verified = "unverified"
	}
	path := slices.Clone(d.Via)
	slices.Reverse(path)
	for i, v := range path {
		path[i] = hostOnly(v)
	}
	return fmt.Sprintf("delivered the canary to %s from %s %s peer %s (%s), sent by %s, path %s",
		d.To, verified, p.Transport, p.Identity, hostOnly(p.Addr), d.From, strings.Join(path, " > "))
}

// hostOnly drops the port of "host:port"; other strings are returned as
// they are.
func hostOnly(s string) string {
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}

func errOrNothing(err error) string {
	if err == nil {
		return "no error was reported"
	}
	return err.Error()
}

// endedSessions waits until every connection mallory's proxies
// intercepted has ended (a proxy records the victim's alert after the
// victim has given up) and returns them all, in order. eventWait is only
// a deadline for that event; past it, the sessions still open are
// returned too, so nothing the proxies saw is left out.
func endedSessions(ctx context.Context, proxies []*attacker.Proxy) []attacker.Session {
	all := func() []attacker.Session {
		var out []attacker.Session
		for _, px := range proxies {
			out = append(out, px.Sessions()...)
		}
		return out
	}
	changes := make([]func() <-chan struct{}, len(proxies))
	for i, px := range proxies {
		changes[i] = px.SessionsChanged
	}
	awaitChange(ctx, func() bool {
		return !slices.ContainsFunc(all(), func(s attacker.Session) bool { return s.End.IsZero() })
	}, changes...)
	return all()
}

// awaitChange waits until cond holds and reports whether it did. It looks
// at cond again each time one of changes' channels closes (an actor's
// notice that it recorded something: sip's Recorded, a proxy's
// SessionsChanged, a host's ARPChanged), taking the channels before each
// look so no change slips in between; ctx's end, or eventWait, bounds the
// wait. Actors record some events (a server's refusal, after its alert; a
// session's end) after the other side has its answer, so scenarios wait
// for them here rather than assume them.
func awaitChange(ctx context.Context, cond func() bool, changes ...func() <-chan struct{}) bool {
	ctx, cancel := context.WithTimeout(ctx, eventWait)
	defer cancel()
	cases := make([]reflect.SelectCase, len(changes)+1)
	cases[0] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}
	for {
		for i, next := range changes {
			cases[i+1] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(next())}
		}
		if cond() {
			return true
		}
		if chosen, _, _ := reflect.Select(cases); chosen == 0 {
			return cond()
		}
	}
}

// awaitRejection waits for host's Front End or Edge to record a refusal
// that match accepts, and returns the first such refusal.
func awaitRejection(ctx context.Context, c *contoso.Deployment, host string, match func(sip.Rejection) bool) (sip.Rejection, bool) {
	s := server(c, host)
	if s == nil {
		return sip.Rejection{}, false
	}
	var refusal sip.Rejection
	ok := awaitChange(ctx, func() bool {
		var found bool
		refusal, found = findRejection(c, host, match)
		return found
	}, s.Recorded)
	return refusal, ok
}

// dropTrafficTo installs a hook on the segments of host that drops every
// IPv4 frame addressed to it, as a dead link or a firewall would: the host
// is unreachable while the rest of the network works. remove uninstalls it.
func dropTrafficTo(c *contoso.Deployment, host string) (remove func(), err error) {
	h := c.Host(host)
	if h == nil {
		return nil, fmt.Errorf("scenarios: no host %q to make unreachable", host)
	}
	var removes []func()
	for _, nic := range h.NICs() {
		target := nic.Addr()
		removes = append(removes, nic.Segment().AddHook(netsim.HookFunc(func(f *netsim.Frame) netsim.HookAction {
			if ipv4Dst(f.Data) == target {
				return netsim.Drop
			}
			return netsim.Pass
		})))
	}
	return func() {
		for _, r := range removes {
			r()
		}
	}, nil
}

// ipv4Dst returns the destination of an Ethernet frame carrying IPv4, or
// the zero Addr.
func ipv4Dst(frame []byte) netip.Addr {
	const eth = 14
	if len(frame) < eth+20 || binary.BigEndian.Uint16(frame[12:14]) != 0x0800 {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(frame[eth+16 : eth+20]))
}
