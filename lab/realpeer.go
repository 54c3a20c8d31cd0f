package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// RealPeers are the real programs a run puts in place of a scenario's
// simulated peers, as realpeer command templates (see actors/realpeer):
// "" leaves that peer simulated. A scenario says which roles it lets a
// real program play (Scenario.RealPeers); the Runner refuses a run that
// asks for another.
type RealPeers struct {
	// Victim is the victim client's command: openssl s_client,
	// gnutls-cli, curl ... It connects from the victim's host to {addr}
	// (or through {proxy}), checks the server it reaches, and sends
	// {canary}.
	Victim string
	// Server is the victim server's command: openssl s_server,
	// gnutls-serv ... It listens on {port} with the server's {cert} and
	// {key}, and prints what it receives, so the canary's delivery is
	// seen in its output.
	Server string
}

// RealPeerRole is a set of the roles a scenario lets real programs play.
type RealPeerRole uint8

// The roles of a real program.
const (
	// RealVictim: RealPeers.Victim plays the victim client.
	RealVictim RealPeerRole = 1 << iota
	// RealServer: RealPeers.Server plays the victim server.
	RealServer
)

// Roles returns the roles p asks for.
func (p RealPeers) Roles() RealPeerRole {
	var r RealPeerRole
	if p.Victim != "" {
		r |= RealVictim
	}
	if p.Server != "" {
		r |= RealServer
	}
	return r
}

// String names the roles, "victim client" and "victim server".
func (r RealPeerRole) String() string {
	var names []string
	if r&RealVictim != 0 {
		names = append(names, "victim client")
	}
	if r&RealServer != 0 {
		names = append(names, "victim server")
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " and ")
}

// RealPeerError is a run's request for a real program in a role its
// scenario does not offer.
type RealPeerError struct {
	Scenario string
	Asked    RealPeerRole // the roles asked for that the scenario lacks
	Offers   RealPeerRole
}

func (e *RealPeerError) Error() string {
	return fmt.Sprintf("lab: scenario %q has no %s a real program can play (it offers: %s; scenarios labelled bridge, mitm/* and eavesdrop/stolen-key-* do)",
		e.Scenario, e.Asked, e.Offers)
}

// MissingProgramError is a scenario's need for a program this machine
// does not have (Scenario.Requires).
type MissingProgramError struct {
	Scenario, Program, Package string
}

func (e *MissingProgramError) Error() string {
	return fmt.Sprintf("lab: scenario %q runs %s, which is not installed here (Debian package %s)", e.Scenario, e.Program, e.Package)
}

// programPackages are the Debian packages of the programs scenarios run.
var programPackages = map[string]string{
	"openssl": "openssl", "gnutls-cli": "gnutls-bin", "gnutls-serv": "gnutls-bin", "curl": "curl",
}

// checkRealPeers returns why s cannot run with peers on this machine: a
// role s does not offer, or a program it requires that is missing.
func checkRealPeers(s Scenario, peers RealPeers) error {
	if missing := peers.Roles() &^ s.RealPeers; missing != 0 {
		return &RealPeerError{Scenario: s.Name, Asked: missing, Offers: s.RealPeers}
	}
	for _, prog := range s.Requires {
		if _, err := exec.LookPath(prog); err != nil {
			pkg := programPackages[prog]
			if pkg == "" {
				pkg = prog
			}
			return &MissingProgramError{Scenario: s.Name, Program: prog, Package: pkg}
		}
	}
	return nil
}

// ProgramLog keeps a real program's output as an artifact of the run:
// "<PeerLogDir>/<family>-<name>.<role>.log" when the Runner has a
// PeerLogDir, and returns its path ("" without one). role is "victim" or
// "server". The output is evidence to read, never the verdict.
func (e *Env) ProgramLog(role, command string, output []byte) (string, error) {
	if e.peerLogDir == "" {
		return "", nil
	}
	if err := os.MkdirAll(e.peerLogDir, PcapDirMode); err != nil {
		return "", fmt.Errorf("lab: peer log directory: %w", err)
	}
	path := filepath.Join(e.peerLogDir, ArtifactBase(e.scenario)+"."+role+".log")
	data := append([]byte("$ "+command+"\n"), output...)
	if err := os.WriteFile(path, data, PcapMode); err != nil {
		return "", fmt.Errorf("lab: peer log: %w", err)
	}
	e.mu.Lock()
	e.peerLogs = append(e.peerLogs, path)
	e.mu.Unlock()
	return path, nil
}

// ProgramDiagnosis is the check a real client program said refused its
// peer, read from its output.
type ProgramDiagnosis struct {
	Defense string // the defense that check is
	Line    string // what the program printed
}

// programDiagnoses map what real clients print about a refused
// certificate to the defense that refused: OpenSSL s_client's verify
// error numbers (X509_V_ERR_*) and GnuTLS gnutls-cli's verification
// status texts. Measured against OpenSSL 3.0 and GnuTLS 3.7 (lab/labtest's
// TestRealClientsUnderMITM and the bridge scenarios).
var programDiagnoses = []struct {
	re      *regexp.Regexp
	defense string
}{
	{regexp.MustCompile(`verify error:num=62:.*`), DefenseHostnameCheck},
	{regexp.MustCompile(`verify error:num=(9|10):.*`), DefenseValidityCheck},
	{regexp.MustCompile(`verify error:num=(3|12|23):.*`), DefenseRevocation},
	{regexp.MustCompile(`verify error:num=(2|7|18|19|20|21|26):.*`), DefenseChainValidation},
	{regexp.MustCompile(`The certificate is NOT trusted\..*does not match the expected.*`), DefenseHostnameCheck},
	{regexp.MustCompile(`The certificate is NOT trusted\..*revoked.*`), DefenseRevocation},
	{regexp.MustCompile(`The certificate is NOT trusted\..*(expired|not yet (valid|activated)).*`), DefenseValidityCheck},
	{regexp.MustCompile(`The certificate is NOT trusted\..*(issuer is unknown|intended purpose|not signed by a CA|insecure).*`), DefenseChainValidation},
}

// DiagnoseProgram returns the first refusal a real client's output names,
// if any.
func DiagnoseProgram(output []byte) (ProgramDiagnosis, bool) {
	for _, p := range programDiagnoses {
		if m := p.re.Find(output); m != nil {
			return ProgramDiagnosis{Defense: p.defense, Line: strings.TrimSpace(string(m))}, true
		}
	}
	return ProgramDiagnosis{}, false
}

// RefusedByAlert records how a victim whose TLS stack the lab does not
// run (a real program's) refused an attacker: alert is what the attacker
// received (its description number and name, and whether it came in a
// plaintext record). The refusal is credited to the defense the alert
// names (ClassifyAlert), or else to the one diag names (the program's own
// diagnostic, when it gave one); an alert that names neither is only
// noted, and credits nothing.
func (e *Evidence) RefusedByAlert(victim, attacker string, desc uint8, name string, plaintext bool, program string, diag *ProgramDiagnosis) {
	how := "in a plaintext alert record"
	if !plaintext {
		how = "in a protected alert"
	}
	line := fmt.Sprintf("refused %s's certificate with alert %s (%d), %s", attacker, name, desc, how)
	if defense, ok := ClassifyAlert(desc); ok {
		e.Refused(victim, defense, "%s", line)
		return
	}
	if diag != nil {
		e.Refused(victim, diag.Defense, "%s; %s said: %s", line, program, diag.Line)
		return
	}
	e.Notef(victim, "%s, which names no one defense", line)
}
