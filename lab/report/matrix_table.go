package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
)

// defenseShort abbreviates a defense switch for the terminal matrix, as
// the matrix's column headers do: "chain" for chain-validation, "name" for
// hostname-check, "minver" for min-tls-version. An unknown name is
// returned unchanged.
func defenseShort(defense string) string {
	switch defense {
	case lab.DefenseChainValidation:
		return "chain"
	case lab.DefenseHostnameCheck:
		return "name"
	case lab.DefenseValidityCheck:
		return "valid"
	case lab.DefenseRevocation:
		return "rev"
	case lab.DefenseClientCertRequired:
		return "ccert"
	case lab.DefenseTrustedServerList:
		return "tsl"
	case lab.DefenseTLSOnly:
		return "tls-only"
	case lab.DefenseMinTLSVersion:
		return "minver"
	case lab.DefenseForwardSecrecyOnly:
		return "fs"
	case lab.DefenseFederationSRVDomainMatch:
		return "srv"
	case lab.DefenseFederationAllowList:
		return "allow"
	case lab.DefenseDNSRandomization:
		return "dnsrand"
	case lab.DefenseDNSSECValidation:
		return "dnssec"
	case lab.DefenseARPPolicy:
		return "arp"
	case lab.DefenseDistrustList:
		return "distrust"
	case lab.DefenseAutodiscoverHTTPSOnly:
		return "https-only"
	case lab.DefenseStrictDNSNaming:
		return "strict"
	case lab.DefenseTrustedDomainsEmpty:
		return "tdl"
	case lab.DefenseDeclinePrompts:
		return "decline"
	case lab.DefenseLLMNRNBTNSDisabled:
		return "llmnr"
	case lab.DefenseLinkSingleLabelOnly:
		return "fqdn-link"
	case lab.DefenseWPADDisabled:
		return "wpad"
	case lab.DefenseDHCPSnooping:
		return "snoop"
	case lab.DefenseNTLMVerifiedServersOnly:
		return "ntlm"
	case lab.DefensePoolPinning:
		return "pin"
	}
	return defense
}

// matrixCode is a cell as the terminal table shows it: "H" held with service
// intact, "H-" held with service denied, "B"/"B-" the same for broken,
// "P"/"P-" for a baseline that passed, "?"
// for an unknown service, then for a held cell ":" and its decisive
// defense's defenseShort ("H-:chain"); "ERR" for an error. cellCode
// adds "n/a" for a change that does not apply and "!" for a change
// declared not to apply that changed the outcome anyway.
func matrixCode(r lab.Result) string {
	if r.Verdict == lab.Error {
		return "ERR"
	}
	code := "H"
	switch r.Verdict {
	case lab.Broken:
		code = "B"
	case lab.Passed:
		code = "P"
	}
	switch r.Service {
	case lab.ServiceDenied:
		code += "-"
	case lab.ServiceUnknown:
		code += "?"
	}
	if r.Verdict == lab.Held && len(r.StoppedBy) > 0 {
		code += ":" + defenseShort(r.StoppedBy[0])
	}
	return code
}

// cellCode is cell c of row in the terminal table: matrixCode, "n/a" or
// the code with "!" (see matrixCode).
func cellCode(row matrix.Row, c matrix.Cell) string {
	switch {
	case row.NotApplicable(c):
		return "n/a"
	case !c.Applies:
		return matrixCode(c.Result) + "!"
	default:
		return matrixCode(c.Result)
	}
}

// WriteMatrixTable writes the matrix for a terminal: one row per attack,
// the hardened outcome, then one short column per change, a legend naming
// the columns, codes and defense abbreviations, then the sections of
// writeMatrixSections, ending with the findings.
func WriteMatrixTable(w io.Writer, m matrix.Result) error {
	if err := WriteMatrixGrid(w, m); err != nil {
		return err
	}
	if err := writeMatrixSections(w, m, "", func(s string) string { return s }); err != nil {
		return err
	}
	return writeMatrixFindings(w, m.Findings(), "")
}

// WriteMatrixGrid writes the rows and the legend of WriteMatrixTable
// without the sections and findings that judge the matrix as a whole: for
// a matrix some of whose rows are missing (an interrupted run), where
// "decisive for no attack" and the like would be false.
func WriteMatrixGrid(w io.Writer, m matrix.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	header := []string{"ATTACK", "HARDENED"}
	for _, c := range m.Changes {
		header = append(header, c.Short)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range m.Rows {
		cells := []string{cell(row.Scenario.Name), matrixCode(row.Hardened)}
		for _, c := range row.Cells {
			cells = append(cells, cellCode(row, c))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nH held, B broken, P passed; '-' service denied, '?' service unknown; ':chain' names the defense")
	fmt.Fprintln(w, "that decided a held cell. n/a: the switch does not bear on the attack and changed nothing; '!':")
	fmt.Fprintln(w, "declared not to bear on it, yet it changed the outcome; ERR: a failed run or inconclusive evidence.")
	fmt.Fprintln(w, "Columns change one switch of the hardened defaults:")
	for _, c := range m.Changes {
		fmt.Fprintf(w, "  %-10s %s\n", c.Short, c.Name())
	}
	if used := decisiveDefenses(m); len(used) > 0 {
		fmt.Fprintln(w, "Defenses deciding held cells:")
		for _, d := range used {
			fmt.Fprintf(w, "  %-10s %s\n", defenseShort(d), d)
		}
	}
	return nil
}

// decisiveDefenses returns the defenses decisive in at least one cell,
// the hardened ones included, in the order of lab.DefenseNames: those
// matrix.Result.Decisive lists with a cell or as a backup.
func decisiveDefenses(m matrix.Result) []string {
	var out []string
	for _, d := range m.Decisive() {
		if len(d.Cells) > 0 || len(d.BackupFor) > 0 {
			out = append(out, d.Defense)
		}
	}
	return out
}
