package sip_test

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/sip"
)

const canary = "canary-7f3a9c"

// send runs alice's whole job and fails the test on error.
func send(t *testing.T, d *deployment, to string) *sip.Result {
	t.Helper()
	res, err := d.client.SendMessage(t.Context(), to, canary)
	if err != nil {
		t.Fatalf("SendMessage(%s): %v", to, err)
	}
	if !res.Registered || !res.Sent {
		t.Fatalf("SendMessage(%s) = %+v, want registered and sent", to, res)
	}
	return res
}

// oneDelivery returns the only delivery, failing when there is not exactly one.
func oneDelivery(t *testing.T, name string, ds []sip.Delivery) sip.Delivery {
	t.Helper()
	if len(ds) != 1 {
		t.Fatalf("%s delivered %d messages, want 1: %+v", name, len(ds), ds)
	}
	return ds[0]
}

// reasons lists the Reason of each rejection.
func reasons(rs []sip.Rejection) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Reason)
	}
	return out
}

func TestDeliveredOnHomeFrontEnd(t *testing.T) {
	tp := newTopo(t)
	d := tp.start(t)
	res := send(t, d, "dave@contoso.com")

	c := res.Conn
	if c.Target != "pool01.contoso.com" || c.Addr.String() != fe01IP+":5061" || c.Record != "_sip._tls.contoso.com" ||
		c.Transport != sip.TransportTLS || c.Fallback {
		t.Errorf("connection %+v, want TLS to pool01.contoso.com %s:5061 via _sip._tls.contoso.com", c, fe01IP)
	}
	if c.TLS == nil || c.TLS.Version != tls.VersionTLS13 || c.TLS.ServerName != "pool01.contoso.com" ||
		c.TLS.PeerSubject != "CN=fe01.contoso.com" || c.TLS.PeerIssuer != "CN=Contoso Enterprise Root CA" || !c.TLS.Verified {
		t.Errorf("TLS %+v, want verified TLS 1.3 with fe01's certificate", c.TLS)
	}
	if got := c.String(); !strings.HasPrefix(got, "TLS 1.3 TLS_") || !strings.Contains(got, "(CN=fe01.contoso.com issued by CN=Contoso Enterprise Root CA)") {
		t.Errorf("ConnInfo.String() = %q", got)
	}

	dl := oneDelivery(t, "fe01", d.fe01.Deliveries())
	if dl.Node != "fe01" || dl.From != "alice@contoso.com" || dl.To != "dave@contoso.com" || dl.Body != canary ||
		dl.ContentType != "text/plain" || dl.CallID == "" {
		t.Errorf("delivery %+v", dl)
	}
	if p := dl.Peer; p.Transport != sip.TransportTLS || p.Listener != "client" || p.Identity != "" || p.User != "alice@contoso.com" ||
		!strings.HasPrefix(p.Addr, aliceIP+":") || p.TLS == nil {
		t.Errorf("delivery peer %+v, want alice's TLS connection", p)
	}
	if len(dl.Via) != 1 || !strings.HasPrefix(dl.Via[0], aliceIP+":") {
		t.Errorf("via %v, want alice's address only", dl.Via)
	}
	regs := d.fe01.Registrations()
	if len(regs) != 1 || regs[0].User != "alice@contoso.com" || !strings.HasPrefix(regs[0].Contact, "sip:alice@"+aliceIP+":") {
		t.Errorf("registrations %+v", regs)
	}
	for name, n := range map[string]int{
		"fe01 relays": len(d.fe01.Relays()), "fe01 rejections": len(d.fe01.Rejections()),
		"fe02 deliveries": len(d.fe02.Deliveries()),
	} {
		if n != 0 {
			t.Errorf("%s: %d, want 0", name, n)
		}
	}
}

func TestRelayedToHomeFrontEnd(t *testing.T) {
	tp := newTopo(t)
	d := tp.start(t)
	send(t, d, "bob@contoso.com")

	dl := oneDelivery(t, "fe02", d.fe02.Deliveries())
	if dl.Node != "fe02" || dl.From != "alice@contoso.com" || dl.To != "bob@contoso.com" || dl.Body != canary {
		t.Errorf("delivery %+v", dl)
	}
	p := dl.Peer
	if p.Transport != sip.TransportMTLS || p.Listener != "mtls" || p.Identity != "fe01.contoso.com" || !p.Verified ||
		!strings.HasPrefix(p.Addr, fe01IP+":") {
		t.Errorf("delivery peer %+v, want fe01's verified MTLS connection", p)
	}
	if len(dl.Via) != 2 || dl.Via[0] != "fe01.contoso.com" {
		t.Errorf("via %v, want fe01.contoso.com then alice", dl.Via)
	}
	relays := d.fe01.Relays()
	if len(relays) != 1 || relays[0].NextHop != "fe02.contoso.com" || relays[0].NextHopAddr != fe02IP+":5062" ||
		relays[0].Status != 200 || relays[0].NextHopTLS == nil || relays[0].NextHopTLS.PeerSubject != "CN=fe02.contoso.com" {
		t.Errorf("fe01 relays %+v", relays)
	}
	if len(d.fe01.Deliveries()) != 0 {
		t.Errorf("fe01 delivered %+v, want nothing", d.fe01.Deliveries())
	}
}

func TestFederatedToPartner(t *testing.T) {
	tp := newTopo(t)
	d := tp.start(t)
	send(t, d, "carol@fabrikam.com")

	dl := oneDelivery(t, "fabrikam fe01", d.fabFE.Deliveries())
	if dl.From != "alice@contoso.com" || dl.To != "carol@fabrikam.com" || dl.Body != canary {
		t.Errorf("delivery %+v", dl)
	}
	if p := dl.Peer; p.Identity != "edge01.fabrikam.com" || !p.Verified || p.Transport != sip.TransportMTLS {
		t.Errorf("delivery peer %+v, want fabrikam's Edge", p)
	}
	wantVia := []string{"edge01.fabrikam.com", "sip.contoso.com", "fe01.contoso.com"}
	if len(dl.Via) != 4 || !slices.Equal(dl.Via[:3], wantVia) {
		t.Errorf("via %v, want %v then alice", dl.Via, wantVia)
	}

	out := d.edge.Relays()
	if len(out) != 1 || out[0].Peer.Identity != "fe01.contoso.com" || out[0].Peer.Listener != "internal" ||
		out[0].NextHop != "sip.fabrikam.com" || out[0].NextHopAddr != fabEdgeExt+":5061" || out[0].Status != 200 {
		t.Errorf("contoso edge relays %+v", out)
	}
	in := d.fabEdge.Relays()
	if len(in) != 1 || in[0].Peer.Identity != "sip.contoso.com" || in[0].Peer.Listener != "external" ||
		in[0].NextHop != "fe01.fabrikam.com" || in[0].Status != 200 {
		t.Errorf("fabrikam edge relays %+v", in)
	}
	for name, rs := range map[string][]sip.Rejection{
		"fe01": d.fe01.Rejections(), "edge": d.edge.Rejections(), "fabrikam edge": d.fabEdge.Rejections(), "fabrikam fe01": d.fabFE.Rejections(),
	} {
		if len(rs) != 0 {
			t.Errorf("%s rejected %v", name, reasons(rs))
		}
	}
}

// TestConcurrentClients runs several sessions at once through every path.
func TestConcurrentClients(t *testing.T) {
	tp := newTopo(t)
	d := tp.start(t)
	recipients := []string{"dave@contoso.com", "bob@contoso.com", "carol@fabrikam.com"}
	errs := make(chan error, 3*len(recipients))
	for range 3 {
		for _, to := range recipients {
			go func() {
				_, err := d.client.SendMessage(t.Context(), to, canary)
				errs <- err
			}()
		}
	}
	for range 3 * len(recipients) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if a, b, c := len(d.fe01.Deliveries()), len(d.fe02.Deliveries()), len(d.fabFE.Deliveries()); a != 3 || b != 3 || c != 3 {
		t.Errorf("deliveries fe01 %d, fe02 %d, fabrikam %d; want 3 each", a, b, c)
	}
}
