package lab

import (
	"context"
	"crypto/tls"
	"errors"
	"slices"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/netsim"
)

// DefenseChange is one column of the defense matrix: a single switch moved
// away from the hardened defaults. Most columns switch a defense off (or
// weaken it); the two defenses the hardened defaults leave off, DNSSEC
// validation and static ARP, are columns that switch them on.
type DefenseChange struct {
	Switch string // the switch's name (Switches): "hostname-check"
	To     string // the value it is changed to, one of the switch's Values: "off", "soft-fail", "TLS 1.0", "on"
	Short  string // a column header for terminals: "name-", "rev:soft", "+dnssec"
	// Strengthens is true for a change that adds a defense the hardened
	// defaults lack, false for one that removes or weakens a defense.
	Strengthens bool
	// StillRefuses is true for a weakening that leaves the switch refusing
	// some attacks, so a held cell of this column may credit it: revocation
	// soft-fail still refuses a certificate reported revoked. A held cell
	// crediting the switch of any other weakening column is a finding (see
	// MatrixResult.CreditViolations).
	StillRefuses bool
	// AppliesTo lists the labels of the attacks this switch bears on: the
	// change applies to a scenario carrying any of them. A cell where it
	// does not apply is still run, and shown as not applicable only when
	// its outcome equals the hardened one.
	AppliesTo []Label
}

// Name is the column's name: "hostname-check off".
func (c DefenseChange) Name() string { return c.Switch + " " + c.To }

// Apply sets the column's switch to its value in d, through the switch
// table (Switches). A change whose Switch or To the table does not know
// changes nothing; every column of MatrixChanges is known.
func (c DefenseChange) Apply(d *Defenses) {
	if s, ok := SwitchNamed(c.Switch); ok {
		_ = s.Set(d, c.To)
	}
}

// Applies reports whether the change bears on scenario s (see AppliesTo).
func (c DefenseChange) Applies(s Scenario) bool {
	return slices.ContainsFunc(c.AppliesTo, s.HasLabel)
}

// Labels of the attacks each group of switches bears on.
var (
	certificateAttacks = []Label{LabelTLS, LabelMTLS, LabelPKI, LabelRevocation}
	handshakeAttacks   = []Label{LabelTLS, LabelMTLS, LabelEavesdrop}
)

// MatrixChanges returns the matrix's columns after the hardened one, in the
// order of Defenses.Settings: every switch of Hardened() weakened on its own
// (revocation twice: soft-fail and off), then DNSSEC validation and static
// ARP switched on.
//
// The minimum TLS version is lowered to TLS 1.0, the lowest version the
// lab's TLS stack speaks: nothing an attacker can offer lies below that
// floor, so the column is the switch turned off, and a min-tls-version
// refusal in it (a host that still enforced the hardened floor) is a
// finding. Revocation soft-fail, by contrast, still refuses a certificate
// reported revoked; its column is marked StillRefuses.
func MatrixChanges() []DefenseChange {
	return []DefenseChange{
		{Switch: DefenseChainValidation, To: "off", Short: "chain-", AppliesTo: certificateAttacks},
		{Switch: DefenseHostnameCheck, To: "off", Short: "name-", AppliesTo: certificateAttacks},
		{Switch: DefenseValidityCheck, To: "off", Short: "valid-", AppliesTo: certificateAttacks},
		{Switch: DefenseRevocation, To: pki.RevocationSoftFail.String(), Short: "rev:soft", AppliesTo: certificateAttacks, StillRefuses: true},
		{Switch: DefenseRevocation, To: pki.RevocationOff.String(), Short: "rev:off", AppliesTo: certificateAttacks},
		{Switch: DefenseClientCertRequired, To: "off", Short: "ccert-", AppliesTo: []Label{LabelMTLS}},
		{Switch: DefenseTrustedServerList, To: "off", Short: "tsl-", AppliesTo: []Label{LabelMTLS}},
		{Switch: DefenseTLSOnly, To: "off", Short: "tls-only-", AppliesTo: []Label{LabelTLS, LabelPlaintext, LabelEavesdrop}},
		{Switch: DefenseMinTLSVersion, To: tls.VersionName(tls.VersionTLS10), Short: "tls1.0", AppliesTo: handshakeAttacks},
		{Switch: DefenseForwardSecrecyOnly, To: "off", Short: "fs-", AppliesTo: handshakeAttacks},
		{Switch: DefenseFederationSRVDomainMatch, To: "off", Short: "srv-", AppliesTo: []Label{LabelFederation}},
		{Switch: DefenseFederationAllowList, To: "off", Short: "allow-", AppliesTo: []Label{LabelFederation}},
		{Switch: DefenseDNSRandomization, To: "off", Short: "dnsrand-", AppliesTo: []Label{LabelDNS}},
		{Switch: DefenseDNSSECValidation, To: "on", Short: "+dnssec", Strengthens: true, AppliesTo: []Label{LabelDNS}},
		{Switch: DefenseARPPolicy, To: netsim.ARPStaticOnly.String(), Short: "+arpstatic", Strengthens: true, AppliesTo: []Label{LabelARP}},
	}
}

// HardenedColumn names the matrix's first column: the scenario run with
// Hardened() exactly, whatever the scenario's own defense changes.
const HardenedColumn = "hardened"

// Matrix runs attack scenarios once with the hardened defaults and once per
// DefenseChange, so a reader sees which defenses each attack depends on.
// Every cell is a full run in a fresh World, judged by Decide like any other.
type Matrix struct {
	// Runner runs the cells: its Timeout, Seed, Parallel and Progress are
	// used (Progress counts cells). Its Override is ignored, and the matrix
	// writes no artifacts, whatever PcapDir and KeyLogDir say.
	Runner Runner
	// Base is what the hardened column runs with and every change starts
	// from; nil means Hardened(). A scenario's own defense changes are
	// ignored: rows compare attacks, not the configurations they were
	// catalogued with.
	Base *Defenses
	// Changes are the columns after the hardened one; nil means
	// MatrixChanges().
	Changes []DefenseChange
}

// MatrixResult is a run of the matrix.
type MatrixResult struct {
	// Base is what the hardened column ran with and every change started
	// from; nil means Hardened().
	Base    *Defenses
	Changes []DefenseChange // the columns after the hardened one
	Rows    []MatrixRow     // one per scenario, in the order given
}

// Defenses returns the defenses a cell of column ran with: Base for the
// hardened column (change nil), Base changed by change otherwise.
func (m MatrixResult) Defenses(change *DefenseChange) Defenses {
	d := Hardened()
	if m.Base != nil {
		d = *m.Base
	}
	if change != nil {
		change.Apply(&d)
	}
	return d
}

// MatrixRow is one attack's line of the matrix.
type MatrixRow struct {
	Scenario Scenario
	Hardened Result       // the run with the base defenses
	Cells    []MatrixCell // one per change, in the order of MatrixResult.Changes
}

// MatrixCell is one attack run with one change.
type MatrixCell struct {
	Change  DefenseChange
	Applies bool // Change.Applies(row's scenario)
	Result  Result
}

// Differs reports whether the cell's outcome (verdict, decisive defense and
// service, see CellOutcome) is not the hardened one: the change it makes
// matters to this attack, if only because another defense now stops it.
func (r MatrixRow) Differs(c MatrixCell) bool {
	return CellOutcome(c.Result) != CellOutcome(r.Hardened)
}

// NotApplicable reports whether the cell is shown as not applicable: the
// change does not bear on the attack and, run anyway, changed nothing. A
// cell whose change was declared not to apply but changed the outcome is
// shown with its outcome, so a wrong declaration cannot hide a result.
func (r MatrixRow) NotApplicable(c MatrixCell) bool {
	return !c.Applies && !r.Differs(c)
}

// LoadBearing returns the changes that alter this attack's outcome (see
// Differs).
func (r MatrixRow) LoadBearing() []DefenseChange {
	var out []DefenseChange
	for _, c := range r.Cells {
		if r.Differs(c) {
			out = append(out, c.Change)
		}
	}
	return out
}

// Run runs every scenario with the base defenses and with each change, all
// cells spread over Runner.Parallel workers. Cells not started because ctx
// ended are Error results.
func (m Matrix) Run(ctx context.Context, scenarios []Scenario) MatrixResult {
	base := Hardened()
	if m.Base != nil {
		base = *m.Base
	}
	changes := m.Changes
	if changes == nil {
		changes = MatrixChanges()
	}
	columns := len(changes) + 1
	cells := make([]Scenario, 0, len(scenarios)*columns)
	for _, s := range scenarios {
		for col := range columns {
			cell := s
			d := base
			if col > 0 {
				changes[col-1].Apply(&d)
			}
			cell.Defenses = func(x *Defenses) { *x = d }
			cells = append(cells, cell)
		}
	}
	runner := m.Runner
	runner.Override, runner.PcapDir, runner.KeyLogDir = nil, "", ""
	results := runner.RunAll(ctx, cells)

	out := MatrixResult{Base: &base, Changes: changes, Rows: make([]MatrixRow, len(scenarios))}
	for i, s := range scenarios {
		row := results[i*columns : (i+1)*columns]
		mr := MatrixRow{Scenario: s, Hardened: row[0], Cells: make([]MatrixCell, len(changes))}
		for j, c := range changes {
			mr.Cells[j] = MatrixCell{Change: c, Applies: c.Applies(s), Result: row[j+1]}
		}
		out.Rows[i] = mr
	}
	return out
}

// Unaffected returns the rows no single change alters: every cell has the
// hardened outcome, decisive defense included.
func (m MatrixResult) Unaffected() []MatrixRow {
	var out []MatrixRow
	for _, r := range m.Rows {
		if len(r.LoadBearing()) == 0 {
			out = append(out, r)
		}
	}
	return out
}

// Errors counts the cells (hardened ones included) whose verdict is Error.
func (m MatrixResult) Errors() int {
	n := 0
	for _, r := range m.Rows {
		if r.Hardened.Verdict == Error {
			n++
		}
		for _, c := range r.Cells {
			if c.Result.Verdict == Error {
				n++
			}
		}
	}
	return n
}

// RunErrors counts the Error cells whose run failed (a time-out, a panic,
// a setup or artifact failure), leaving out the inconclusive ones (an
// *InconclusiveError: the attack was not carried out or no defense that is
// on was seen refusing it), which are findings about the attack, not
// failures of the matrix.
func (m MatrixResult) RunErrors() int {
	n := 0
	failed := func(r Result) bool {
		var ie *InconclusiveError
		return r.Verdict == Error && !errors.As(r.Err, &ie)
	}
	for _, r := range m.Rows {
		if failed(r.Hardened) {
			n++
		}
		for _, c := range r.Cells {
			if failed(c.Result) {
				n++
			}
		}
	}
	return n
}

// AttackScenarios returns the scenarios the matrix is for: every one not
// labelled baseline.
func AttackScenarios(scenarios []Scenario) []Scenario {
	var out []Scenario
	for _, s := range scenarios {
		if !s.HasLabel(LabelBaseline) {
			out = append(out, s)
		}
	}
	return out
}

// CellOutcome is a result as the matrix compares and shows it: Outcome
// with a held result's decisive defense, "held (chain-validation), service
// denied", "broken, service intact", or "error".
func CellOutcome(r Result) string {
	if r.Verdict == Error {
		return string(Error)
	}
	return r.Outcome() + ", service " + string(r.Service)
}
