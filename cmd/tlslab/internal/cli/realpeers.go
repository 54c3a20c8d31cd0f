package cli

import (
	"os/exec"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tlslab/tlslab/actors/realpeer"
	"github.com/tlslab/tlslab/lab"
)

// realPeerFlags put real programs in scenarios' peer roles.
type realPeerFlags struct {
	victim, server string
	peerLogs       string
}

func (f *realPeerFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.victim, "victim-cmd", "", "run a real client program as the victim, from a command `TEMPLATE` with {addr} {sni} {ca} {crl} {canary} {proxy} {target} (see README)")
	fl.StringVar(&f.server, "server-cmd", "", "run a real server program as the victim server, from a command `TEMPLATE` with {port} {cert} {key} {ca} {crl} (see README)")
	fl.StringVar(&f.peerLogs, "peer-logs", "", "write each real program's output into `DIR`, <family>-<name>.<victim|server>.log")
}

// realPeerScenarios says which catalog scenarios offer real peer roles.
const realPeerScenarios = "the mitm scenarios where mallory presents a certificate (victim client and server), " +
	"dns/rogue-server, dns/on-path-spoof and the other DNS hijacks but blind spoofing (victim client), and " +
	"eavesdrop/stolen-key-* (server)"

// peers checks the templates (placeholders, the program installed) and
// that every selected scenario offers the roles asked for, and returns
// them for the Runner. Each problem is a usage error naming the flag.
func (f realPeerFlags) peers(selected []lab.Scenario) (lab.RealPeers, error) {
	peers := lab.RealPeers{Victim: f.victim, Server: f.server}
	for _, t := range []struct{ flag, text string }{{"--victim-cmd", f.victim}, {"--server-cmd", f.server}} {
		if t.text == "" {
			continue
		}
		if _, err := realpeer.Parse(t.text); err != nil {
			return peers, usagef("invalid %s: %s", t.flag, strings.TrimPrefix(err.Error(), "realpeer: "))
		}
		if prog := strings.Fields(t.text)[0]; !strings.ContainsAny(prog, "{}=") {
			if _, err := exec.LookPath(prog); err != nil {
				return peers, usagef("invalid %s: program %q is not installed (or not on PATH)", t.flag, prog)
			}
		}
	}
	var lacking []string
	for _, s := range selected {
		if peers.Roles()&^s.RealPeers != 0 {
			lacking = append(lacking, s.Name)
		}
	}
	if len(lacking) > 0 {
		more := ""
		if len(lacking) > 5 {
			lacking, more = lacking[:5], " ..."
		}
		return peers, usagef("no %s a real program can play in %s%s; %s offer one",
			peers.Roles(), strings.Join(lacking, ", "), more, realPeerScenarios)
	}
	return peers, nil
}
