package scenarios

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// discardLog keeps net/http's complaints about connections the World cut
// out of the run's output.
var discardLog = log.New(io.Discard, "", 0)

// observe records, in the order things happened: the access switch's
// refusals, what mallory did to get in position, alice's chain step by
// step, what mallory's pool saw, the credentials and canaries she got,
// and whether dave got the message.
func (r *discoveryRun) observe(ctx context.Context, in *contoso.SignIn, canary lab.Canary) {
	ev := r.env.Evidence
	me := discMalloryAddr.Addr()
	for _, f := range r.c.SnoopedFrames() {
		ev.At(f.At).Refused("contoso-lan switch", lab.DefenseDHCPSnooping,
			"dropped a DHCP server message from %v (%v): its port is not the DHCP server's", f.IP, f.MAC)
	}
	r.noteMallory(in)
	in.Record(ev, true)

	sessions := endedSessions(ctx, r.proxies)
	for _, s := range sessions {
		v := s.VictimSide
		line := fmt.Sprintf("alice (%v) connected to her pool at %v", s.Victim.Addr(), s.Dialled)
		switch {
		case sabotaged(v.Err):
			ev.At(s.Start).Notef("mallory", "%s, which failed: %s", line, v.Err)
		case v.Certificate != nil:
			ev.At(s.Start).Reached("mallory", lab.MilestonePresented, "%s and presented %s issued by %s (%s)", line, v.Certificate.Subject, v.Certificate.Issuer, v.Certificate.Source)
			if v.Completed {
				ev.IdentityAccepted("alice", v.ServerName, fmt.Sprintf("completed the %s handshake with mallory's machine %v, certificate %s issued by %s",
					v.Version, s.Dialled, v.Certificate.Subject, v.Certificate.Issuer))
			}
		default:
			ev.At(s.Start).Reached("mallory", lab.MilestoneInPosition, "%s in plaintext", line)
		}
	}
	// Credentials: every NTLMv2 response she holds, checked against
	// alice's planted password.
	cred, _ := r.c.UserCredential("alice")
	r.mu.Lock()
	captured := append([]ntlm.Captured(nil), r.captured...)
	r.mu.Unlock()
	for _, c := range captured {
		if ntlm.Verify(c, cred.Password) {
			ev.CredentialObtained("mallory", "alice", fmt.Sprintf("the NTLMv2 response of %s\\%s from %s to her server challenge %x verifies with alice's password: crackable offline, relayable",
				c.Domain, c.User, c.Workstation, c.ServerChallenge))
		} else {
			ev.Notef("mallory", "captured an NTLMv2 response of %s\\%s that does not verify with alice's password", c.Domain, c.User)
		}
	}
	if len(captured) == 0 {
		ev.Notef("mallory", "captured no NTLM response")
	}
	found, clear, bytes := 0, 0, int64(0)
	for _, px := range r.proxies {
		rep := px.Report([]string{canary.Token})
		found += len(rep.Found)
		bytes += rep.CapturedBytes
		if !cred.Password.IsZero() {
			clear += len(px.Report([]string{cred.Password.Reveal()}).Found)
		}
	}
	if clear > 0 {
		ev.CredentialObtained("mallory", "alice", fmt.Sprintf("alice's password in clear in the %d B she sent to her pool at %v", bytes, me))
	}
	ev.CanariesObtained("mallory", min(found, 1), 1, fmt.Sprintf("%d B alice sent to her pool at %v", bytes, me))

	if d, ok := findDelivery(r.c, "fe01", canary); ok {
		ev.SetService(lab.ServiceIntact)
		ev.At(d.Time).Delivered("fe01", "%s", describeDelivery(d))
	} else {
		ev.SetService(lab.ServiceDenied)
		if in.Err != nil {
			ev.Notef("alice", "did not sign in: %v", in.Err)
		}
	}
}

// noteMallory records what mallory did to get in position, and whether
// alice took it: her forged DNS answers, her DHCP offers and the lease
// alice took, Responder's answers and the PAC file alice fetched.
func (r *discoveryRun) noteMallory(in *contoso.SignIn) {
	ev := r.env.Evidence
	me := discMalloryAddr.Addr()
	if r.spoofer != nil {
		ev.Reached("mallory", lab.MilestoneAttempted, "on the path to dns01 (a switch port she controls), answering alice's lookups as she chose")
		for _, q := range r.spoofer.Questions() {
			if q.Forged {
				ev.Reached("mallory", lab.MilestoneAttempted, "answered %s's query %s %s (ID %d) with her forgery", q.Client.Addr(), q.Type, q.Name, q.ID)
			}
		}
	}
	if r.rogue != nil {
		for _, o := range r.rogue.offered() {
			ev.At(o.At).Reached("mallory", lab.MilestoneAttempted, "her DHCP server offered %v to %v, naming her DNS server %v", o.Addr, o.MAC, me)
		}
		if l := in.Lease; l != nil && l.Server == me {
			ev.At(l.Obtained).Reached("mallory", lab.MilestoneInPosition, "alice took her lease: her DNS server %v answers alice's lookups", me)
		}
	}
	if r.link != nil && r.link.responder != nil {
		ev.Reached("mallory", lab.MilestoneAttempted, "Responder on contoso-lan, answering every LLMNR and NBT-NS name with %v", me)
		for _, a := range r.link.responder.Answers() {
			ev.Notef("mallory", "Responder answered %s", a)
		}
		if r.link.pac != nil {
			for _, f := range r.link.pac.Fetches() {
				ev.Reached("mallory", lab.MilestoneInPosition, "alice (%v) fetched her PAC file http://%s%s: her proxy is alice's", f.From, f.Host, f.Path)
			}
		}
		if r.link.proxy != nil {
			for _, q := range r.link.proxy.Requests() {
				ev.Notef("mallory", "her proxy: %s %s from %v: %d", q.Method, q.Target, q.From, q.Status)
			}
		}
	}
	// Alice dialled her address, or took her SRV target: in position.
	if res := in.Pool; res != nil {
		for _, st := range res.Steps {
			switch {
			case st.From.Addr() == me:
				ev.Reached("mallory", lab.MilestoneInPosition, "alice's autodiscover request %s went to her machine %v", st.Asked, st.From)
			case st.Kind == autodiscover.KindSRV && st.Pool != "" && strings.HasSuffix(st.Pool, r.malloryTarget()):
				ev.Reached("mallory", lab.MilestoneInPosition, "alice's resolver took her SRV answer: %s", st.Pool)
			}
		}
	}
}

// malloryTarget is the SRV target mallory forges, "" when none.
func (r *discoveryRun) malloryTarget() string {
	switch r.p.attack {
	case discSRVInsider:
		return discMalloryPC + "." + contoso.Domain
	case discSRVSubdomain:
		return discSubdomainSIP
	}
	return "\x00" // matches nothing
}
