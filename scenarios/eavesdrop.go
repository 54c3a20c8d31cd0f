package scenarios

import (
	"context"
	"fmt"

	"github.com/tlslab/tlslab/actors/eavesdrop"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The office eavesdrop family: on the contoso preset, alice sends dave two
// instant messages through her pool while a passive tap on contoso-lan
// records every frame. Unlike eavesdrop_attacks.go, the pool's transport
// follows the run's tls-only switch, so the defense matrix's tls-only
// column shows what TLS alone buys.

const (
	// eavesdropMessages is how many instant messages alice sends, one
	// canary and one SIP session (connection) each.
	eavesdropMessages = 2
	// officeRecipient is homed on fe01, so alice's messages cross only
	// contoso-lan's client leg (no Front End to Front End relay).
	officeRecipient = "dave@contoso.com"
)

// eavesdropParams declares one scenario of the office family: a header and
// nothing else. The transport follows the tls-only switch of the run
// (Env.Defenses), whatever the header's defenses changed: on, alice's
// client registers with pool01.contoso.com (fe01) over TLS on 5061, as the
// preset builds it; off, fe01 is a deployment without TLS, serving SIP over
// TCP on 5060 only, and alice's client, allowed to fall back, sends in the
// clear. So the switch decides the verdict.
type eavesdropParams struct {
	header
}

var (
	eavesdropTLS = eavesdropParams{
		header: header{
			name:    "eavesdrop/tls",
			labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelTLS},
			summary: "a listener on alice's LAN sees only TLS 1.3 ciphertext",
			story: "Alice (10.0.0.10) sends dave@contoso.com two instant messages through her Front End pool, " +
				"pool01.contoso.com (fe01, 10.0.0.11), across contoso-lan. An eavesdropper on a mirror port of the LAN " +
				"switch records every frame and reassembles the TCP streams, wanting to read the messages. " +
				"Defenses in force: SIP over TLS 1.3 on port 5061 only; alice's client verifies fe01's certificate " +
				"chain to the Contoso root and the name pool01.contoso.com. The eavesdropper should learn the " +
				"server name, version and cipher suite from the handshakes, and nothing of the messages.",
			expected:  lab.Held,
			stoppedBy: lab.DefenseTLSOnly,
		},
	}
	eavesdropPlaintext = eavesdropParams{
		header: header{
			name:    "eavesdrop/plaintext",
			labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelPlaintext, lab.LabelMisconfig},
			summary: "with TLS switched off, a listener on the LAN reads alice's messages",
			story: "The same office LAN as eavesdrop/tls: alice (10.0.0.10) sends dave@contoso.com two instant " +
				"messages through pool01.contoso.com (fe01, 10.0.0.11) while an eavesdropper on a mirror port of the " +
				"LAN switch records every frame, wanting to read them. Defense switched off: the pool is deployed " +
				"without TLS, as a legacy or misconfigured deployment would be, and serves SIP over plain TCP on port " +
				"5060, where alice's client falls back. Nothing stands between the eavesdropper and the message bodies.",
			expected: lab.Broken,
			defenses: func(d *lab.Defenses) { d.TLSOnly = false },
		},
	}
)

// eavesdropFamily returns the family's scenarios in catalog order.
func eavesdropFamily() []lab.Scenario {
	return []lab.Scenario{eavesdropTLS.scenario(), eavesdropPlaintext.scenario()}
}

// scenario declares p as a lab scenario.
func (p eavesdropParams) scenario() lab.Scenario {
	return p.header.scenario(officeAttacker, lab.WithChanges(contoso.Config{}, p.topologyChanges()...), p.run)
}

// officeAttacker is the family's attacker, for handouts.
const officeAttacker = "an eavesdropper on a mirror port of contoso-lan's switch, passive: it records every frame " +
	"between alice (10.0.0.10) and her pool, fe01 (10.0.0.11), and sends nothing"

// run builds the preset (fe01 without TLS when tls-only is off), taps
// contoso-lan through the eavesdropper's machine (attachEavesdropper) and has alice send her messages, one session each. Evidence,
// in order: what alice sent and how, what fe01 delivered (which sets the
// service), the frames the tap captured of the SIP connections (its
// position), what it learned of each TLS handshake, the refusal it met
// (alice's connections carried only TLS records, whose keys it lacks), and
// last its canary count. Under any sabotage the tap sees nothing.
func (p eavesdropParams) run(ctx context.Context, env *lab.Env) error {
	c, err := contoso.Config{}.Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	fe01 := c.FrontEnd("fe01")
	if !env.Defenses.TLSOnly {
		if fe01, err = restartFE01(ctx, env, c, nil); err != nil {
			return err
		}
		defer fe01.Close()
	}
	lan := c.Segment("contoso-lan")
	eve, err := attachEavesdropper(c, "contoso-lan")
	if err != nil {
		return err
	}
	tap := eavesdrop.New(eavesdrop.Config{})
	if !tapSilenced(env) {
		defer lan.AddTapVia(eve, tap)()
	}

	canaries := make([]lab.Canary, eavesdropMessages)
	tokens := make([]string, len(canaries))
	for i := range canaries {
		canaries[i] = env.NewCanary("alice")
		tokens[i] = canaries[i].Token
	}
	results, sendErr := officeSend(ctx, c, canaries)
	noteOfficeSends(env, results)

	delivered := 0
	for _, cn := range canaries {
		if _, ok := findDeliveryOn(fe01, cn); ok {
			delivered++
		}
	}
	env.Evidence.Notef("fe01", "delivered %d of %d messages to %s", delivered, len(canaries), officeRecipient)
	if delivered == len(canaries) {
		env.Evidence.SetService(lab.ServiceIntact)
	} else {
		env.Evidence.SetService(lab.ServiceDenied)
	}

	rep := tap.Report(tokens)
	legs := tapLegs(rep, segmentHostNames(lan), carriesSIP)
	notePosition(env, legs)
	recordTLSFacts(env, rep)
	notePassiveRefusals(env, legs, nil)
	env.Evidence.CanariesObtained("eavesdropper", len(rep.Found), len(canaries),
		lab.FormatBytes(rep.PayloadBytes)+" of captured TCP payload on contoso-lan")

	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	return sendErr
}

// officeSend has alice, on her PC, send one message per canary to
// officeRecipient, each in its own session (Connect, Register, MESSAGE,
// Close). It stops at the first failure and returns the results so far,
// the failed one last.
func officeSend(ctx context.Context, c *contoso.Deployment, canaries []lab.Canary) ([]*sip.Result, error) {
	client, err := c.Client("alice", "alice@contoso.com")
	if err != nil {
		return nil, err
	}
	var results []*sip.Result
	for i, cn := range canaries {
		body := fmt.Sprintf("alice to %s: message %d, code word %s", officeRecipient, i+1, cn)
		res, err := client.SendMessage(ctx, officeRecipient, body)
		results = append(results, res)
		if err != nil {
			return results, fmt.Errorf("scenarios: alice sending message %d to %s: %w", i+1, officeRecipient, err)
		}
	}
	return results, nil
}

// noteOfficeSends records how many messages alice's pool took and over
// which connection (the last one made): "sent 2 of 2 messages to
// dave@contoso.com through pool01.contoso.com (10.0.0.11:5061, found
// through _sip._tls.contoso.com) over TLS 1.3 TLS_AES_128_GCM_SHA256,
// server certificate ... issued by ...", or over plain TCP after the
// failed TLS attempt.
func noteOfficeSends(env *lab.Env, results []*sip.Result) {
	sent, how := 0, "without connecting to her pool"
	for _, res := range results {
		if res.Sent {
			sent++
		}
		ci := res.Conn
		switch {
		case !ci.Addr.IsValid():
		case ci.TLS != nil:
			how = fmt.Sprintf("through %s (%v, found through %s) over %s %s, server certificate %s issued by %s",
				ci.Target, ci.Addr, ci.Record, ci.TLS.VersionName(), ci.TLS.CipherSuiteName(), ci.TLS.PeerSubject, ci.TLS.PeerIssuer)
		default:
			how = fmt.Sprintf("through %s (%v) over plain TCP, after %s", ci.Target, ci.Addr, describeFailedTLS(res.Attempts))
		}
	}
	env.Evidence.Notef("alice", "sent %d of %d messages to %s %s", sent, eavesdropMessages, officeRecipient, how)
}
