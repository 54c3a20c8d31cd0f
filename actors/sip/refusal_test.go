package sip_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"slices"
	"testing"

	"github.com/tlslab/tlslab/actors/sip"
)

// refusal is what a refused message must leave behind: exact reasons at
// the refusing server, the status and Warning alice got back, no delivery.
type refusal struct {
	at        func(d *deployment) []sip.Rejection
	reasons   []string
	direction sip.Direction
	stage     sip.Stage
	status    int
	warning   string
	cause     func(error) bool // errors.As on the first rejection's Err
}

// checkRefusal sends alice's message to "to" and checks want.
func checkRefusal(t *testing.T, d *deployment, to string, want refusal) {
	t.Helper()
	res, err := d.client.SendMessage(t.Context(), to, canary)
	var se *sip.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("SendMessage: %v, want a *StatusError", err)
	}
	if se.StatusCode != want.status || se.Warning != want.warning || !res.Registered || res.Sent {
		t.Errorf("alice got %d %q (result %+v), want %d %q", se.StatusCode, se.Warning, res, want.status, want.warning)
	}
	// An inbound refusal is recorded by the refusing server after it sent
	// its alert, so possibly after alice has her answer.
	var rs []sip.Rejection
	eventually(t, "the refusing server records it", func() error {
		rs = want.at(d)
		return equalReasons(rs, want.reasons...)
	})
	if rs[0].Direction != want.direction || rs[0].Stage != want.stage {
		t.Errorf("rejection %s/%s, want %s/%s", rs[0].Direction, rs[0].Stage, want.direction, want.stage)
	}
	if want.cause != nil && !want.cause(rs[0].Err) {
		t.Errorf("rejection cause %T %v is not the expected type", rs[0].Err, rs[0].Err)
	}
	for name, ds := range map[string][]sip.Delivery{"fe02": d.fe02.Deliveries(), "fabrikam fe01": d.fabFE.Deliveries()} {
		if len(ds) != 0 {
			t.Errorf("%s delivered %+v despite the refusal", name, ds)
		}
	}
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// TestTrustedServerList: a server with a valid enterprise certificate that
// is not in the topology is refused, whichever end it is.
func TestTrustedServerList(t *testing.T) {
	t.Run("rogue insider dials fe02", func(t *testing.T) {
		tp := newTopo(t)
		d := tp.start(t)
		startFrontEnd(t, tp.rogueFrontEnd(t))
		tp.clientDNS.setA("pool01.contoso.com", fe99IP) // alice is pointed at fe99
		checkRefusal(t, d, "bob@contoso.com", refusal{
			at:        func(d *deployment) []sip.Rejection { return d.fe02.Rejections() },
			reasons:   []string{"fe02: MTLS peer fe99.contoso.com is not in the trusted server list"},
			direction: sip.Inbound, stage: sip.StageHandshake,
			status: 502, warning: "fe99: remote error: tls: bad certificate",
			cause: func(err error) bool {
				var u *sip.UntrustedPeerError
				return errors.As(err, &u) && u.Identity == "fe99.contoso.com" && slices.Equal(u.Names, []string{"fe99.contoso.com", "pool01.contoso.com"})
			},
		})
	})
	t.Run("fe01 dials a peer missing from its list", func(t *testing.T) {
		tp := newTopo(t)
		tp.fe01.TrustedServers = []string{"fe01.contoso.com", "edge01.contoso.com"}
		d := tp.start(t)
		checkRefusal(t, d, "bob@contoso.com", refusal{
			at:        func(d *deployment) []sip.Rejection { return d.fe01.Rejections() },
			reasons:   []string{"fe01: MTLS peer fe02.contoso.com is not in the trusted server list"},
			direction: sip.Outbound, stage: sip.StageHandshake,
			status: 502, warning: "fe01: MTLS peer fe02.contoso.com is not in the trusted server list",
			cause: isA[*sip.UntrustedPeerError],
		})
		// fe02 records the alert on its own goroutine, after fe01 answered.
		eventually(t, "fe02 records the alert fe01 sent", func() error {
			return equalReasons(d.fe02.Rejections(), "fe02: remote error: tls: bad certificate")
		})
	})
}

// TestFederationRefusals: each federation defense, on, stops the message
// at the Edge that applies it, with the exact reason.
func TestFederationRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, tp *topo)
		want  refusal
	}{{
		name: "partner root not in the trust store",
		setup: func(t *testing.T, tp *topo) {
			tp.edge.ExternalTLS = mtlsConfig(tp.contosoCA.issue(t, "sip.contoso.com"), tp.contosoCA.pool(), tp.now)
		},
		want: refusal{
			at:        func(d *deployment) []sip.Rejection { return d.edge.Rejections() },
			reasons:   []string{"edge01: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
			direction: sip.Outbound, stage: sip.StageHandshake,
			status: 502, warning: "edge01: tls: failed to verify certificate: x509: certificate signed by unknown authority",
			cause: isA[x509.UnknownAuthorityError],
		},
	}, {
		name: "partner does not trust our root",
		setup: func(t *testing.T, tp *topo) {
			tp.fabEdge.ExternalTLS = mtlsConfig(tp.fabrikamCA.issue(t, "sip.fabrikam.com"), tp.fabrikamCA.pool(), tp.now)
		},
		want: refusal{
			at:        func(d *deployment) []sip.Rejection { return d.fabEdge.Rejections() },
			reasons:   []string{"edge01: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
			direction: sip.Inbound, stage: sip.StageHandshake,
			status: 502, warning: "edge01: remote error: tls: unknown certificate authority",
			cause: isA[x509.UnknownAuthorityError],
		},
	}, {
		name: "SRV target outside the partner domain",
		setup: func(t *testing.T, tp *topo) {
			tp.edgeDNS.setSRV("_sipfederationtls._tcp.fabrikam.com", "sip.evil.com", 5061)
			tp.edgeDNS.setA("sip.evil.com", evilIP)
		},
		want: refusal{
			at:        func(d *deployment) []sip.Rejection { return d.edge.Rejections() },
			reasons:   []string{"edge01: SRV target sip.evil.com of _sipfederationtls._tcp.fabrikam.com is outside the partner domain fabrikam.com"},
			direction: sip.Outbound, stage: sip.StagePolicy,
			status: 403, warning: "edge01: SRV target sip.evil.com of _sipfederationtls._tcp.fabrikam.com is outside the partner domain fabrikam.com",
			cause: isA[*sip.SRVTargetError],
		},
	}, {
		name:  "recipient domain not in our allow-list",
		setup: func(t *testing.T, tp *topo) { tp.edge.Partners = []string{"litware.com"} },
		want: refusal{
			at:        func(d *deployment) []sip.Rejection { return d.edge.Rejections() },
			reasons:   []string{"edge01: partner domain fabrikam.com is not in the federation allow-list"},
			direction: sip.Outbound, stage: sip.StagePolicy,
			status: 403, warning: "edge01: partner domain fabrikam.com is not in the federation allow-list",
			cause: isA[*sip.PartnerNotAllowedError],
		},
	}, {
		name:  "we are not in the partner's allow-list",
		setup: func(t *testing.T, tp *topo) { tp.fabEdge.Partners = []string{"litware.com"} },
		want: refusal{
			at:        func(d *deployment) []sip.Rejection { return d.fabEdge.Rejections() },
			reasons:   []string{"edge01: federation peer sip.contoso.com is not in an allowed partner domain"},
			direction: sip.Inbound, stage: sip.StageHandshake,
			status: 502, warning: "edge01: remote error: tls: bad certificate",
			cause: isA[*sip.PartnerNotAllowedError],
		},
	}, {
		name:  "no federation SRV record",
		setup: func(t *testing.T, tp *topo) { tp.edgeDNS.setSRV("_sipfederationtls._tcp.fabrikam.com", "", 0) },
		want: refusal{
			at:        func(d *deployment) []sip.Rejection { return d.edge.Rejections() },
			reasons:   []string{"edge01: lookup _sipfederationtls._tcp.fabrikam.com: no such host"},
			direction: sip.Outbound, stage: sip.StageLookup,
			status: 502, warning: "edge01: lookup _sipfederationtls._tcp.fabrikam.com: no such host",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := newTopo(t)
			tt.setup(t, tp)
			checkRefusal(t, tp.start(t), "carol@fabrikam.com", tt.want)
		})
	}
}

// TestDefensesOff: with a defense switched off, the attack it stops goes
// through — the switches matter.
func TestDefensesOff(t *testing.T) {
	t.Run("trusted server list off: the rogue insider delivers", func(t *testing.T) {
		tp := newTopo(t)
		tp.fe02.SkipTrustedServerCheck = true
		d := tp.start(t)
		startFrontEnd(t, tp.rogueFrontEnd(t))
		tp.clientDNS.setA("pool01.contoso.com", fe99IP)
		send(t, d, "bob@contoso.com")
		if dl := oneDelivery(t, "fe02", d.fe02.Deliveries()); dl.Peer.Identity != "fe99.contoso.com" || !dl.Peer.Verified {
			t.Errorf("delivery peer %+v, want fe99", dl.Peer)
		}
	})
	t.Run("SRV target check off: federation goes to sip.evil.com", func(t *testing.T) {
		tp := newTopo(t)
		tp.edge.AllowSRVTargetOutsideDomain = true
		tp.edge.ExternalTLS.RootCAs = pool(tp.contosoCA, tp.fabrikamCA, tp.publicCA) // a public CA both trust
		tp.edgeDNS.setSRV("_sipfederationtls._tcp.fabrikam.com", "sip.evil.com", 5061)
		tp.edgeDNS.setA("sip.evil.com", evilIP)
		d := tp.start(t)
		evilCert := tp.publicCA.issue(t, "sip.evil.com")
		// The attacker takes any client certificate and poses as fabrikam.
		evil := startFrontEnd(t, sip.FrontEndConfig{
			FQDN: "sip.evil.com", Name: "evil", Domain: "fabrikam.com", Net: tp.evilH,
			ServerAddr:             evilIP + ":5061",
			ServerTLS:              &tls.Config{Certificates: []tls.Certificate{evilCert}, ClientAuth: tls.RequestClientCert},
			Registrar:              sip.NewRegistrar(map[string]string{"carol@fabrikam.com": "sip.evil.com"}),
			SkipTrustedServerCheck: true, Now: tp.now,
		})
		send(t, d, "carol@fabrikam.com")
		if dl := oneDelivery(t, "evil", evil.Deliveries()); dl.Body != canary || dl.Peer.Identity != "sip.contoso.com" || dl.Peer.Verified {
			t.Errorf("evil got %+v, want the canary from contoso's Edge (unverified)", dl)
		}
		if len(d.fabFE.Deliveries()) != 0 {
			t.Errorf("fabrikam delivered too: %+v", d.fabFE.Deliveries())
		}
	})
	t.Run("allow-lists off: open federation", func(t *testing.T) {
		tp := newTopo(t)
		tp.edge.Partners, tp.edge.AllowAnyPartner = nil, true
		tp.fabEdge.Partners, tp.fabEdge.AllowAnyPartner = nil, true
		d := tp.start(t)
		send(t, d, "carol@fabrikam.com")
		oneDelivery(t, "fabrikam fe01", d.fabFE.Deliveries())
	})
}

// TestRecordedSignalsEachRecord: a waiter holding a server's Recorded
// channel wakes when that server records its refusal (fe02, after its
// alert, on its own goroutine) and when a server records a delivery.
func TestRecordedSignalsEachRecord(t *testing.T) {
	tp := newTopo(t)
	tp.fe01.TrustedServers = []string{"fe01.contoso.com", "edge01.contoso.com"}
	d := tp.start(t)
	refused := d.fe02.Recorded()
	if _, err := d.client.SendMessage(t.Context(), "bob@contoso.com", canary); err == nil {
		t.Fatal("fe01 relayed to a server missing from its list")
	}
	select {
	case <-refused:
	case <-t.Context().Done():
		t.Fatal("fe02's Recorded channel never closed")
	}
	if err := equalReasons(d.fe02.Rejections(), "fe02: remote error: tls: bad certificate"); err != nil {
		t.Error(err)
	}

	delivered := d.fe01.Recorded()
	if _, err := d.client.SendMessage(t.Context(), "dave@contoso.com", canary); err != nil {
		t.Fatal(err)
	}
	select {
	case <-delivered:
	default:
		t.Fatal("fe01 delivered to dave, and its Recorded channel is still open")
	}
}
