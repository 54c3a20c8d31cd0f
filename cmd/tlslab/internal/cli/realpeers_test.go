package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/realpeer"
	"github.com/tlslab/tlslab/lab"
)

// withRealVictim adds a scenario offering the victim client role: its
// Run runs the template itself (printf, on every machine) and keeps the
// output, as the catalog's MITM scenarios do through the bridge.
func withRealVictim() lab.Catalog {
	return append(fakeCatalog(), lab.Scenario{
		Name: "mitm/real", Labels: []lab.Label{lab.LabelMITM}, Summary: "a real client meets mallory",
		Attacker: "mallory", Expected: lab.Held, StoppedBy: lab.DefenseChainValidation, RealPeers: lab.RealVictim,
		Run: func(ctx context.Context, env *lab.Env) error {
			tmpl, err := realpeer.Parse(env.RealPeers.Victim)
			if err != nil {
				return err
			}
			cmd, err := tmpl.Expand(map[string]string{"canary": env.NewCanary("alice").Token})
			if err != nil {
				return err
			}
			res := realpeer.Run(ctx, cmd, os.TempDir())
			if _, err := env.ProgramLog("victim", res.Command, res.Output); err != nil {
				return err
			}
			env.Evidence.Reached("mallory", lab.MilestoneInPosition, "intercepted alice")
			env.Evidence.Refused("alice", lab.DefenseChainValidation, "real client said: %s", res.LastLine())
			return nil
		},
	})
}

func TestRunRealPeers(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check check
	}{
		{"a template that does not parse", []string{"run", "mitm/real", "--victim-cmd", "printf {canry}"},
			usage("tlslab help run", "invalid --victim-cmd: command template, column 8: unknown placeholder {canry}; known: addr,")},
		{"a program not installed", []string{"run", "mitm/real", "--victim-cmd", "no-such-tls-client {addr}"},
			usage("tlslab help run", `invalid --victim-cmd: program "no-such-tls-client" is not installed (or not on PATH)`)},
		{"a role the scenario lacks", []string{"run", "mitm/real", "baseline/tls", "--server-cmd", "printf {port}"},
			usage("tlslab help run", "no victim server a real program can play in mitm/real, baseline/tls;")},
		{"a role no selected scenario offers", []string{"run", "eavesdrop/tls", "--victim-cmd", "printf {canary}"},
			usage("tlslab help run", "no victim client a real program can play in eavesdrop/tls;")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, run(withRealVictim(), tt.args...)) })
	}

	t.Run("a run keeps the program's output and reports it", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "peers")
		o := run(withRealVictim(), "run", "mitm/real", "--victim-cmd", "printf 'sent %s\\n' {canary}", "--peer-logs", dir, "--format", "json")
		exit(ExitOK)(t, o)
		var rep struct {
			Results []struct {
				PeerLogs []string `json:"peer_logs"`
				Evidence []string `json:"evidence"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(o.stdout), &rep); err != nil {
			t.Fatalf("%v:\n%s", err, o.stdout)
		}
		want := filepath.Join(dir, "mitm-real.victim.log")
		if len(rep.Results) != 1 || len(rep.Results[0].PeerLogs) != 1 || rep.Results[0].PeerLogs[0] != want {
			t.Fatalf("peer_logs: %+v, want [%s]", rep.Results, want)
		}
		log, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(log), "\n")
		if lines[0] != "$ printf 'sent %s\\n' "+strings.TrimPrefix(lines[1], "sent ") || !strings.HasPrefix(lines[1], "sent CANARY-") {
			t.Errorf("the log is not the command and its output:\n%s", log)
		}
		if ev := rep.Results[0].Evidence; len(ev) != 2 || ev[1] != "alice: real client said: "+lines[1] {
			t.Errorf("evidence: %q", ev)
		}
	})
}
