package scenarios

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/lab"
)

// Sabotage (lab.Runner.Sabotage) breaks an attacker on purpose, so the
// suite can show that the oracle never turns a broken attacker into a
// verdict: every family reads it where it starts its attacker, through
// these helpers.
//
//   - proxy-refuses: interception endpoints reset every connection
//     (sabotagedVictim), rogue servers refuse, impersonators do not dial;
//   - proxy-hangs: they accept and never answer;
//   - spoofer-silent: no spoofed ARP reply, forged DNS answer or rogue
//     route is sent, and a passive tap sees nothing (tapSilenced).

// What a sabotaged endpoint records as its failure. A session that ended
// with one of them is no step of the attack: the attacker's own endpoint
// failed (see sabotaged).
var (
	errSabotagedRefused = errors.New("scenarios: attacker sabotaged: refused the connection")
	errSabotagedHung    = errors.New("scenarios: attacker sabotaged: never answered")
)

// sabotaged reports whether err, an attacker endpoint's recorded failure,
// is a sabotage's.
func sabotaged(err string) bool {
	return err == errSabotagedRefused.Error() || err == errSabotagedHung.Error()
}

// sabotagedVictim returns the victim side mallory's proxy plays under the
// run's sabotage: v itself normally, a reset after the victim's first
// bytes (proxy-refuses) or an endpoint that reads and never answers until
// the victim gives up (proxy-hangs).
func sabotagedVictim(env *lab.Env, v attacker.VictimSide) attacker.VictimSide {
	switch env.Sabotage() {
	case lab.SabotageProxyRefuses:
		return refusingVictim{}
	case lab.SabotageProxyHangs:
		return hangingVictim{}
	}
	return v
}

// spooferSilent reports whether the attacker's positioning must send
// nothing in this run.
func spooferSilent(env *lab.Env) bool { return env.Sabotage() == lab.SabotageSpooferSilent }

// tapSilenced reports whether a passive attacker must see nothing: any
// sabotage blinds a tap, which has no endpoint to refuse or hang.
func tapSilenced(env *lab.Env) bool { return env.Sabotage() != lab.SabotageNone }

// refusingVictim resets the victim's connection after its first bytes.
type refusingVictim struct{}

// Accept implements attacker.VictimSide.
func (refusingVictim) Accept(ctx context.Context, conn net.Conn, hs *attacker.Handshake) (net.Conn, error) {
	var b [1]byte
	_, _ = io.ReadFull(conn, b[:])
	hs.Err = errSabotagedRefused.Error()
	return nil, errSabotagedRefused
}

// hangingVictim accepts the victim's connection and never answers: it
// reads until the victim closes it (its handshake deadline) or the world
// ends, then fails.
type hangingVictim struct{}

// Accept implements attacker.VictimSide.
func (hangingVictim) Accept(ctx context.Context, conn net.Conn, hs *attacker.Handshake) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_, _ = io.Copy(io.Discard, conn)
	hs.Err = errSabotagedHung.Error()
	return nil, errSabotagedHung
}
