package scenarios

import (
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The families a scenario file declares beyond the client-side MITM and
// DNS attacks, each as its Go family's params (so a file scenario runs
// the same code as its catalog twin): where mallory stands (position),
// whom she attacks (victim) and which server she targets or poses as
// (server) pick the family; the family's own keys fill its params.

// filePlace is one combination of position, victim and server a file may
// declare, and the family that runs it. "" for victim or server: the
// file leaves that key out.
type filePlace struct {
	position, victim, server string
	family                   fileFamily
}

// fileFamily names the Go family a file scenario runs as.
type fileFamily string

const (
	familyMITM          fileFamily = "mitm"           // mitmParams
	familyDNS           fileFamily = "dns"            // dnsParams
	familyMTLSRelay     fileFamily = "mtls-relay"     // mtlsRelayParams
	familyDNSFederation fileFamily = "dns-federation" // dnsSRVParams
	familyEavesdrop     fileFamily = "eavesdrop"      // eavesdropAttackParams, eavesdropParams
	familyMTLS          fileFamily = "mtls"           // mtlsParams
	familyFederation    fileFamily = "federation"     // federationParams
	familyDiscovery     fileFamily = "discovery"      // discoveryParams
)

// filePlaces lists every combination, the default of each position first.
var filePlaces = append([]filePlace{
	{"arp", "alice", "pool01", familyMITM},
	{"arp", "fe01", "fe02", familyMTLSRelay},
	{"gateway", "alice", "pool01", familyMITM},
	{"rogue-dns", "alice", "pool01", familyDNS},
	{"dns-on-path", "alice", "pool01", familyDNS},
	{"dns-on-path", "edge01", "fabrikam-edge01", familyDNSFederation},
	{"dns-blind", "alice", "pool01", familyDNS},
	{"tap", "alice", "", familyEavesdrop},
	{"insider", "", "fe02", familyMTLS},
	{"insider", "", "fe01", familyMTLS},
	{"insider", "", "edge01", familyMTLS},
	{"internet", "", "edge01", familyFederation},
}, discoveryPlaces()...)

// discoveryPlaces are the discovery positions: victim alice, no server.
func discoveryPlaces() []filePlace {
	out := make([]filePlace, len(discoveryPositions))
	for i, pos := range discoveryPositions {
		out[i] = filePlace{pos, "alice", "", familyDiscovery}
	}
	return out
}

// fileRecipients are the users alice may write to (to:), with the Front
// End that delivers to each: her own pool, fe02 across the Front Ends'
// MTLS relay, or Fabrikam's across federation.
var fileRecipients = []struct{ to, home string }{
	{"dave@contoso.com", "fe01"},
	{"bob@contoso.com", "fe02"},
	{"carol@fabrikam.com", "fabrikam-fe01"},
}

func recipientNames() []string {
	out := make([]string, len(fileRecipients))
	for i, r := range fileRecipients {
		out[i] = r.to
	}
	return out
}

// recipientPath is the servers alice's message to `to` crosses, her
// Front End first.
func recipientPath(to string) []string {
	switch to {
	case "bob@contoso.com":
		return []string{"fe01", "fe02"}
	case "carol@fabrikam.com":
		return []string{"fe01", "edge01", "fabrikam-edge01", "fabrikam-fe01"}
	}
	return []string{"fe01"}
}

// fileFederationModes spell contoso.FederationMode.
var fileFederationModes = []string{contoso.FederationPartnerCA.String(), contoso.FederationPublicCA.String()}

var (
	fileActorName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)
	fileAddress   = regexp.MustCompile(`^[a-z0-9._-]+@[a-z0-9.-]+$`)
)

// place resolves position, victim and server to a filePlace, or says
// which combinations the position takes.
func (d *fileDecoder) place(top *mapping, pos string) (filePlace, *FileError) {
	victim, vn, err := d.oneOf(top, "victim", false, "victim", fileVictims)
	if err != nil {
		return filePlace{}, err
	}
	server, sn, err := d.oneOf(top, "server", false, "server", fileServers)
	if err != nil {
		return filePlace{}, err
	}
	server = strings.TrimSuffix(server, ".contoso.com")
	var valid []string
	for _, p := range filePlaces {
		if p.position != pos {
			continue
		}
		valid = append(valid, describePlace(p))
		if (vn == nil || victim == p.victim) && (sn == nil || server == p.server) {
			return p, nil
		}
	}
	n, field := vn, "victim"
	if n == nil || sn != nil && slices.ContainsFunc(filePlaces, func(p filePlace) bool { return p.position == pos && p.victim == victim }) {
		n, field = sn, "server"
	}
	var given []string
	if vn != nil {
		given = append(given, "victim "+victim)
	}
	if sn != nil {
		given = append(given, "server "+server)
	}
	return filePlace{}, d.errAt(n, field, "position %s does not take %s; it takes %s", pos, strings.Join(given, " with "), strings.Join(valid, ", or "))
}

// describePlace says "victim alice with server pool01", "no victim with
// server fe02".
func describePlace(p filePlace) string {
	v, s := "victim "+p.victim, "server "+p.server
	if p.victim == "" {
		v = "no victim"
	}
	if p.server == "" {
		s = "no server"
	}
	return v + " with " + s
}

// fileFamilyAttackKeys are the attacker keys only the families of this
// file take (the MITM and DNS forms refuse them).
var fileFamilyAttackKeys = []string{"segment", "stolen_key", "sender", "actor"}

// clientSideKeys refuses what the MITM and DNS forms (alice against
// pool01) do not take: the other families' attacker and root keys, and
// the hosts changes their params cannot make.
func (d *fileDecoder) clientSideKeys(top, m *mapping, place filePlace, hosts fileHosts) *FileError {
	what := "position " + place.position
	for _, k := range fileFamilyAttackKeys {
		if m.has(k) {
			return d.errAt(m.keys[k], fieldPath(m.path, k), "%s does not use it; it is for %s", what, map[string]string{
				"segment": "position tap", "stolen_key": "position tap", "sender": "position internet", "actor": "position internet",
			}[k])
		}
	}
	if err := d.onlyTop(top, what, "hosts"); err != nil {
		return err
	}
	return d.refuseHosts(hosts, what, func(host string) string {
		switch {
		case host == "alice":
			return "" // trust_add: Mallory Root CA installed, as trusted_by_victim
		}
		return topologyOnly(hosts)(host)
	})
}

// only refuses the keys of m not in allowed: they mean nothing for what.
func (d *fileDecoder) only(m *mapping, what string, allowed ...string) *FileError {
	for _, k := range m.order {
		if !slices.Contains(allowed, k) {
			return d.errAt(m.keys[k], fieldPath(m.path, k), "%s does not use it; valid keys here: %s", what, joinComma(allowed))
		}
	}
	return nil
}

// fileTopHints say where each family key of the root mapping applies.
var fileTopHints = map[string]string{
	"to":         "alice writes to a chosen recipient only with position tap or without an attacker (a baseline)",
	"federation": "the federation mode is chosen only with position internet or without an attacker (a baseline)",
	"messages":   "only position tap counts alice's messages",
	"discovery":  "the discovery deployment applies only with the discovery positions (" + joinComma(discoveryPositions) + ")",
	"hosts":      "per-host changes apply with positions arp (alice and pool01), gateway, the DNS ones, tap and internet, and without an attacker (a baseline)",
}

// onlyTop refuses the family keys of the root mapping that what does not
// use (the catalog keys, name to impair, are every family's).
func (d *fileDecoder) onlyTop(top *mapping, what string, uses ...string) *FileError {
	for _, k := range []string{"to", "federation", "messages", "discovery", "hosts"} {
		if top.has(k) && !slices.Contains(uses, k) {
			return d.errAt(top.keys[k], k, "%s does not use it; %s", what, fileTopHints[k])
		}
	}
	return nil
}

// recipient reads to:, alice's recipient (def when absent).
func (d *fileDecoder) recipient(top *mapping, def string) (string, *yaml.Node, *FileError) {
	to, tn, err := d.oneOf(top, "to", def == "", "recipient", recipientNames())
	if err != nil || tn == nil {
		return def, tn, err
	}
	return to, tn, nil
}

// homeOf is the Front End that delivers to `to`.
func homeOf(to string) string {
	for _, r := range fileRecipients {
		if r.to == to {
			return r.home
		}
	}
	return "fe01"
}

// familyLabels derives the labels of a file scenario of the new families
// that lists none: the family's own, then misconfig when the defenses
// differ from the hardened ones.
func familyLabels(defenses func(*lab.Defenses), base ...lab.Label) []lab.Label {
	out := slices.Clone(base)
	if len(lab.Hardened().With(defenses).Diff(lab.Hardened())) > 0 {
		out = append(out, lab.LabelMisconfig)
	}
	return out
}

// scenarioOf declares a of the new families as a lab scenario, through
// its family's params; ok is false for the MITM and DNS families.
func (a fileAttack) scenarioOf(h header) (lab.Scenario, bool) {
	switch {
	case a.baseline != nil:
		p := *a.baseline
		p.header = h
		return p.scenario(), true
	case a.office != nil:
		p := *a.office
		p.header = h
		return p.scenario(), true
	case a.tap != nil:
		p := *a.tap
		p.header = h
		return p.scenario(), true
	case a.mtls != nil:
		p := *a.mtls
		p.header = h
		return p.scenario(), true
	case a.relay != nil:
		p := *a.relay
		p.header = h
		return p.scenario(), true
	case a.federation != nil:
		p := *a.federation
		p.header = h
		return p.scenario(), true
	case a.srv != nil:
		p := *a.srv
		p.header = h
		return p.scenario(), true
	case a.discovery != nil:
		p := *a.discovery
		p.header = h
		return p.scenario(), true
	}
	return lab.Scenario{}, false
}

// labelsOf derives the labels of a of the new families; ok is false for
// the MITM and DNS families.
func (a fileAttack) labelsOf(defenses func(*lab.Defenses)) ([]lab.Label, bool) {
	d := lab.Hardened().With(defenses)
	transport := lab.LabelTLS
	switch {
	case a.baseline != nil:
		out := []lab.Label{lab.LabelBaseline, lab.LabelSIP}
		switch home := homeOf(a.baseline.to); {
		case home == "fe01":
			out = append(out, lab.LabelTLS)
		case home == "fe02":
			out = append(out, lab.LabelMTLS)
		case !a.baseline.topology.ContosoEdgeOmitsFabrikamRoot || a.baseline.topology.Federation == contoso.FederationPublicCA:
			out = append(out, lab.LabelFederation, lab.LabelMTLS)
		default: // edge01 refuses Fabrikam's Edge: no MTLS session
			out = append(out, lab.LabelFederation)
		}
		if a.baseline.topology.Federation == contoso.FederationPublicCA || a.baseline.topology.ContosoEdgeOmitsFabrikamRoot {
			out = append(out, lab.LabelPKI)
		}
		if len(a.baseline.topology.Revoked) > 0 {
			out = append(out, lab.LabelRevocation)
		}
		return familyLabels(defenses, out...), true
	case a.office != nil:
		if !d.TLSOnly {
			transport = lab.LabelPlaintext
		}
		return familyLabels(defenses, lab.LabelEavesdrop, transport), true
	case a.tap != nil:
		if !d.TLSOnly && a.tap.fe01 == fe01NoTLS {
			transport = lab.LabelPlaintext
		}
		out := []lab.Label{lab.LabelEavesdrop, lab.LabelSIP}
		switch a.tap.home {
		case "fe01":
			out = append(out, transport)
		case "fe02":
			out = append(out, lab.LabelMTLS)
		default:
			out = append(out, lab.LabelFederation, lab.LabelMTLS)
		}
		return familyLabels(defenses, out...), true
	case a.mtls != nil:
		out := []lab.Label{lab.LabelMTLS, lab.LabelSIP}
		if a.mtlsCert != nil && a.mtlsCert.source != certOwn {
			out = append(out, lab.LabelPKI)
		}
		return familyLabels(defenses, out...), true
	case a.relay != nil:
		return familyLabels(defenses, lab.LabelMTLS, lab.LabelSIP, lab.LabelMITM, lab.LabelARP), true
	case a.federation != nil:
		out := []lab.Label{lab.LabelFederation, lab.LabelMTLS, lab.LabelSIP}
		if a.federation.actor == "mallory" {
			out = append(out, lab.LabelPKI) // she poses with a certificate not issued to whom she claims
		}
		return familyLabels(defenses, out...), true
	case a.srv != nil:
		return familyLabels(defenses, lab.LabelDNS, lab.LabelFederation, lab.LabelSIP, lab.LabelMITM), true
	case a.discovery != nil:
		return discoveryLabelsOf(a.discovery, defenses), true
	}
	return nil, false
}
