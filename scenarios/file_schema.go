package scenarios

import (
	"context"
	"crypto/x509"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tlslab/tlslab/actors/realpeer"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// The keys of a scenario file, per mapping.
var (
	fileKeys        = []string{"name", "summary", "story", "labels", "topology", "victim", "server", "attacker", "defenses", "expected", "stopped_by", "impair", "victim_cmd", "server_cmd", "distrusted", "to", "federation", "messages", "discovery", "hosts"}
	fileAttackKeys  = append([]string{"position", "mode", "certificate", "trusted_by_victim", "block_revocation", "offer"}, fileFamilyAttackKeys...)
	fileCertKeys    = append([]string{"source", "issuer", "names", "from", "valid_from", "valid_for", "eku", "key", "revoked"}, fileCertOptionKeys...)
	fileTopologies  = []string{"contoso"}
	fileVictims     = []string{"alice", "fe01", "edge01"}
	fileServers     = []string{"pool01", "pool01.contoso.com", "fe01", "fe02", "edge01", "fabrikam-edge01"}
	fileVerdicts    = []string{string(lab.Held), string(lab.Broken), string(lab.Passed)}
	filePositions   = append(append(append(slices.Clone(mitmPositions), dnsPositions...), "tap", "insider", "internet"), discoveryPositions...)
	fileNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$`)
	fileDNSName     = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// scenario turns the root mapping into a scenario.
func (d *fileDecoder) scenario(root *yaml.Node) (lab.Scenario, *FileError) {
	top, err := d.mapping(root, "", fileKeys)
	if err != nil {
		return lab.Scenario{}, err
	}
	name, nn, err := d.str(top, "name", true, `"family/name", e.g. "training/forged-pool-cert"`)
	if err != nil {
		return lab.Scenario{}, err
	}
	if !fileNamePattern.MatchString(name) {
		return lab.Scenario{}, d.errAt(nn, "name", `%q is not "family/name": two parts of lowercase letters, digits, '.', '_' or '-', e.g. "training/forged-pool-cert"`, name)
	}
	summary, sn, err := d.str(top, "summary", true, "one line for tables")
	if err != nil {
		return lab.Scenario{}, err
	}
	summary = strings.TrimSpace(summary)
	if summary == "" || strings.ContainsAny(summary, "\r\n") {
		return lab.Scenario{}, d.errAt(sn, "summary", "must be one non-empty line; put longer text in story")
	}
	story, _, err := d.str(top, "story", false, "a few sentences for people")
	if err != nil {
		return lab.Scenario{}, err
	}
	labels, err := d.labels(top)
	if err != nil {
		return lab.Scenario{}, err
	}
	if _, _, err := d.oneOf(top, "topology", false, "topology preset", fileTopologies); err != nil {
		return lab.Scenario{}, err
	}
	expected, en, err := d.oneOf(top, "expected", true, "verdict", fileVerdicts)
	if err != nil {
		return lab.Scenario{}, err
	}
	defenses, err := d.defenses(top)
	if err != nil {
		return lab.Scenario{}, err
	}
	hosts, err := d.hosts(top)
	if err != nil {
		return lab.Scenario{}, err
	}
	var a fileAttack
	if top.has("attacker") {
		if lab.Verdict(expected) == lab.Passed {
			return lab.Scenario{}, d.errAt(en, "expected", "passed is the verdict of a scenario without an attacker (a baseline); with one, want held or broken")
		}
		a, err = d.attack(top, hosts)
	} else {
		a, err = d.baselineForm(top, lab.Verdict(expected), en, hosts)
	}
	if err != nil {
		return lab.Scenario{}, err
	}
	if err := d.distrustedRoots(top, &a); err != nil {
		return lab.Scenario{}, err
	}
	stoppedBy, err := d.stoppedBy(top, lab.Verdict(expected), en)
	if err != nil {
		return lab.Scenario{}, err
	}
	impair, err := d.impair(top)
	if err != nil {
		return lab.Scenario{}, err
	}
	if story == "" {
		story = summary
	}
	if labels == nil {
		labels = a.labels(defenses)
	}
	sc := a.scenario(name, summary, strings.TrimSpace(story), labels, lab.Verdict(expected), defenses)
	sc.StoppedBy = stoppedBy
	sc.Impair = impair
	if err := d.realPeers(top, &sc); err != nil {
		return lab.Scenario{}, err
	}
	return sc, nil
}

// realPeers reads victim_cmd and server_cmd: real programs in alice's and
// fe01's place, as tlslab run --victim-cmd and --server-cmd take them
// (realpeer command templates). A scenario with either runs them
// whatever the command line asks, requires their programs (lab.Scenario
// Requires), and offers no further real peer role.
func (d *fileDecoder) realPeers(top *mapping, sc *lab.Scenario) *FileError {
	var peers lab.RealPeers
	for _, k := range []struct {
		key  string
		role lab.RealPeerRole
		into *string
	}{{"victim_cmd", lab.RealVictim, &peers.Victim}, {"server_cmd", lab.RealServer, &peers.Server}} {
		v, vn, err := d.str(top, k.key, false, "a command template such as tlslab run --victim-cmd takes, e.g. \"openssl s_client -connect {addr} ...\"")
		if err != nil {
			return err
		}
		if vn == nil {
			continue
		}
		if _, perr := realpeer.Parse(v); perr != nil {
			return d.errAt(vn, k.key, "%s", strings.TrimPrefix(perr.Error(), "realpeer: "))
		}
		if sc.RealPeers&k.role == 0 {
			return d.errAt(vn, k.key, "this attack has no %s a real program can play; %s", k.role, "a terminating MITM or a DNS hijack takes victim_cmd, a terminating MITM server_cmd")
		}
		*k.into = v
		if prog := strings.Fields(v)[0]; !strings.ContainsAny(prog, "{}=") && !slices.Contains(sc.Requires, prog) {
			sc.Requires = append(sc.Requires, prog)
		}
	}
	if peers.Roles() == 0 {
		return nil
	}
	run := sc.Run
	sc.RealPeers = 0
	sc.Run = func(ctx context.Context, env *lab.Env) error {
		env.RealPeers = peers
		return run(ctx, env)
	}
	return nil
}

// impair reads impair: the scenario's network impairments, in the syntax
// of tlslab run --impair ("loss=2%,delay=2ms", "host=mallory,loss=100%").
func (d *fileDecoder) impair(top *mapping) (netsim.ImpairSpec, *FileError) {
	v, vn, err := d.str(top, "impair", false, `impairments as tlslab run --impair takes them, e.g. "loss=2%,delay=2ms"`)
	if err != nil || vn == nil {
		return netsim.ImpairSpec{}, err
	}
	spec, perr := netsim.ParseImpairSpec(v)
	if perr != nil {
		return netsim.ImpairSpec{}, d.errAt(vn, "impair", "%v", perr)
	}
	return spec, nil
}

// stoppedBy reads stopped_by: the defense that must stop a held attack
// first, required with expected held and refused otherwise.
func (d *fileDecoder) stoppedBy(top *mapping, expected lab.Verdict, expectedNode *yaml.Node) (string, *FileError) {
	v, vn, err := d.oneOf(top, "stopped_by", false, "defense", lab.DefenseNames())
	switch {
	case err != nil:
		return "", err
	case expected == lab.Held && vn == nil:
		return "", d.errAt(expectedNode, "expected", "expected held needs stopped_by: the defense that must stop the attack first; valid: %s",
			joinComma(lab.DefenseNames()))
	case expected != lab.Held && vn != nil:
		return "", d.errAt(vn, "stopped_by", "only a held expectation names the defense that stops the attack (expected is %s); remove it", expected)
	}
	return v, nil
}

// labels reads the optional label list.
func (d *fileDecoder) labels(top *mapping) ([]lab.Label, *FileError) {
	names, nodes, err := d.list(top, "labels", "[mitm, arp, tls]")
	if err != nil || names == nil {
		return nil, err
	}
	known := make([]string, 0, len(lab.KnownLabels()))
	for _, l := range lab.KnownLabels() {
		known = append(known, string(l))
	}
	out := make([]lab.Label, 0, len(names))
	for i, n := range names {
		l, perr := lab.ParseLabel(n)
		if perr != nil {
			return nil, d.errAt(nodes[i], "labels", "unknown label %q; valid: %s%s", n, joinComma(known), didYouMean(n, known))
		}
		if slices.Contains(out, l) {
			return nil, d.errAt(nodes[i], "labels", "label %q is listed twice", n)
		}
		out = append(out, l)
	}
	return out, nil
}

// fileAttack is the attacker section, as the catalog's params: exactly
// one family's is set (file_families.go).
type fileAttack struct {
	mitm       *mitmParams
	dns        *dnsParams
	baseline   *baselineParams
	office     *eavesdropParams
	tap        *eavesdropAttackParams
	mtls       *mtlsParams
	relay      *mtlsRelayParams
	federation *federationParams
	srv        *dnsSRVParams
	discovery  *discoveryParams
	// mtlsCert is the client certificate spec of mtls (nil: none), for
	// labels.
	mtlsCert *certSpec
}

// attack reads the attacker mapping and dispatches to the family that
// position, victim and server name.
func (d *fileDecoder) attack(top *mapping, hosts fileHosts) (fileAttack, *FileError) {
	m, err := d.mapping(top.values["attacker"], "attacker", fileAttackKeys)
	if err != nil {
		return fileAttack{}, err
	}
	pos, _, err := d.oneOf(m, "position", true, "position", filePositions)
	if err != nil {
		return fileAttack{}, err
	}
	place, err := d.place(top, pos)
	if err != nil {
		return fileAttack{}, err
	}
	switch place.family {
	case familyEavesdrop:
		return d.tapAttack(top, m, hosts)
	case familyMTLS:
		return d.insiderAttack(top, m, place.server)
	case familyMTLSRelay:
		return d.relayAttack(top, m)
	case familyFederation:
		return d.internetAttack(top, m, hosts)
	case familyDNSFederation:
		return d.srvAttack(top, m)
	case familyDiscovery:
		return d.discoveryAttackForm(top, m, pos)
	}
	if err := d.clientSideKeys(top, m, place, hosts); err != nil {
		return fileAttack{}, err
	}
	mode, mn, err := d.oneOf(m, "mode", false, "mode", mitmModes)
	if err != nil {
		return fileAttack{}, err
	}
	if mn == nil {
		mode = "terminate"
	}
	dnsPos := slices.Index(dnsPositions, pos)
	if dnsPos >= 0 && mode != "terminate" {
		return fileAttack{}, d.errAt(mn, "attacker.mode", "position %s supports only mode terminate: mallory plays the pool herself, there is no server behind her to %s to", pos, mode)
	}
	trusted, err := d.boolean(m, "trusted_by_victim")
	if err != nil {
		return fileAttack{}, err
	}
	block, err := d.boolean(m, "block_revocation")
	if err != nil {
		return fileAttack{}, err
	}
	if block && pos != "arp" {
		return fileAttack{}, d.errAt(m.keys["block_revocation"], "attacker.block_revocation", "needs position arp: mallory blocks pki01 by ARP-spoofing it too (position is %s)", pos)
	}
	presents := mode == "terminate" || mode == "downgrade"
	var cert certSpec
	switch {
	case presents && !m.has("certificate"):
		return fileAttack{}, d.errAt(m.node, "attacker", "missing key %q: mode %s presents a certificate to alice; want a mapping with source (and issuer, names ...)", "certificate", mode)
	case !presents && m.has("certificate"):
		return fileAttack{}, d.errAt(m.keys["certificate"], "attacker.certificate", "mode %s presents no certificate; remove it, or use mode terminate", mode)
	case presents:
		if cert, err = d.certificate(m.values["certificate"]); err != nil {
			return fileAttack{}, err
		}
	}
	if dnsPos >= 0 {
		offer, err := d.attackOffer(m, pos, mode, cert)
		if err != nil {
			return fileAttack{}, err
		}
		return fileAttack{dns: &dnsParams{position: dnsPosition(dnsPos), cert: cert, trustMallory: trusted || hosts.trustMallory,
			topology: hosts.merge(contoso.Config{}), offer: offer}}, nil
	}
	p := &mitmParams{
		topology: hosts.merge(contoso.Config{}),
		position: mitmPosition(slices.Index(mitmPositions, pos)), mode: mitmMode(slices.Index(mitmModes, mode)),
		cert: cert, trustMallory: trusted || hosts.trustMallory, blockPKI: block,
	}
	if p.offer, err = d.attackOffer(m, pos, mode, cert); err != nil {
		return fileAttack{}, err
	}
	return fileAttack{mitm: p}, nil
}

// certificate reads attacker.certificate.
func (d *fileDecoder) certificate(n *yaml.Node) (certSpec, *FileError) {
	const path = "attacker.certificate"
	m, err := d.mapping(n, path, fileCertKeys)
	if err != nil {
		return certSpec{}, err
	}
	src, _, err := d.oneOf(m, "source", true, "certificate source", certSources)
	if err != nil {
		return certSpec{}, err
	}
	s := certSpec{source: certSource(slices.Index(certSources, src))}
	// Keys that make no sense for the source.
	forbidden := map[certSource][]string{
		certSelfSigned: {"issuer", "from", "revoked"},
		certForged:     {"from"},
		certOwn:        {"from"},
		certStolen:     {"issuer", "names", "valid_from", "valid_for", "eku", "key"},
	}[s.source]
	for _, key := range m.order {
		if slices.Contains(forbidden, key) {
			why := map[string]string{
				"issuer":  "a self-signed certificate has no issuer",
				"from":    "from names whose certificate is stolen; use source stolen",
				"revoked": "a self-signed certificate has no CA to revoke it",
			}[key]
			if s.source == certStolen {
				why = "a stolen certificate is the holder's as issued; only from and revoked apply"
			}
			return certSpec{}, d.errAt(m.keys[key], fieldPath(path, key), "not allowed with source %s: %s", src, why)
		}
	}
	issuer, _, err := d.oneOf(m, "issuer", s.source == certForged, "issuer", issuerKeys())
	if err != nil {
		return certSpec{}, err
	}
	s.issuer = issuer
	if s.names, err = d.certNames(m); err != nil {
		return certSpec{}, err
	}
	if s.holder, _, err = d.oneOf(m, "from", s.source == certStolen, "certificate holder", certHolders); err != nil {
		return certSpec{}, err
	}
	if err := d.validity(m, &s); err != nil {
		return certSpec{}, err
	}
	ekus, enodes, err := d.list(m, "eku", "[serverAuth]")
	if err != nil {
		return certSpec{}, err
	}
	if ekus != nil {
		valid := make([]string, len(ekuNames))
		for i, e := range ekuNames {
			valid[i] = e.name
		}
		s.ekus = []x509.ExtKeyUsage{}
		for i, e := range ekus {
			j := slices.Index(valid, e)
			if j < 0 {
				return certSpec{}, d.errAt(enodes[i], fieldPath(path, "eku"), "unknown extended key usage %q; valid: %s%s", e, joinComma(valid), didYouMean(e, valid))
			}
			s.ekus = append(s.ekus, ekuNames[j].eku)
		}
	}
	if err := d.certKey(m, &s); err != nil {
		return certSpec{}, err
	}
	if s.revoked, err = d.boolean(m, "revoked"); err != nil {
		return certSpec{}, err
	}
	if err := d.certOptions(m, &s); err != nil {
		return certSpec{}, err
	}
	return s, nil
}

// validity reads valid_from and valid_for.
func (d *fileDecoder) validity(m *mapping, s *certSpec) *FileError {
	for _, key := range []string{"valid_from", "valid_for"} {
		v, vn, err := d.str(m, key, false, `a duration such as "-1h", "720h" or "30d"`)
		if err != nil {
			return err
		}
		if vn == nil {
			continue
		}
		dur, perr := parseFileDuration(v)
		if perr != "" {
			return d.errAt(vn, fieldPath(m.path, key), "%q is not a duration: %s; write e.g. \"-1h\", \"720h\", \"30d\" (d = 24h, y = 365d)", v, perr)
		}
		s.dated = true
		if key == "valid_from" {
			s.validFrom = dur
		} else {
			if dur <= 0 {
				return d.errAt(vn, fieldPath(m.path, key), "%q must be positive: how long the certificate is valid from valid_from", v)
			}
			s.validFor = dur
		}
	}
	return nil
}

// parseFileDuration parses a Go duration, or a whole number of days
// ("30d") or years ("2y", 365 days each), with an optional sign. It
// returns a reason when s is not one.
func parseFileDuration(s string) (time.Duration, string) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, "it is empty"
	}
	if unit := t[len(t)-1]; unit == 'd' || unit == 'y' {
		n, err := strconv.ParseInt(t[:len(t)-1], 10, 32)
		if err != nil || n > 1000*365 || n < -1000*365 {
			return 0, "want a whole number before " + string(unit)
		}
		day := 24 * time.Hour
		if unit == 'y' {
			day *= 365
		}
		return time.Duration(n) * day, ""
	}
	dur, err := time.ParseDuration(t)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "time: ")
		if strings.HasPrefix(msg, "invalid duration") {
			return 0, "want a number and a unit"
		}
		return 0, msg
	}
	return dur, ""
}

// defenses reads the defenses mapping into a change of the hardened
// defaults (nil when there is none).
func (d *fileDecoder) defenses(top *mapping) (func(*lab.Defenses), *FileError) {
	if !top.has("defenses") {
		return nil, nil
	}
	switches := lab.Switches()
	names := lab.DefenseNames()
	m, err := d.mapping(top.values["defenses"], "defenses", names)
	if err != nil {
		return nil, err
	}
	type change struct {
		sw lab.DefenseSwitch
		v  string
	}
	var changes []change
	for _, key := range m.order {
		sw := switches[slices.Index(names, key)]
		v, err := d.switchValue(resolve(m.values[key]), m.keys[key], fieldPath("defenses", key), sw.Values)
		if err != nil {
			return nil, err
		}
		changes = append(changes, change{sw, v})
	}
	if len(changes) == 0 {
		return nil, nil
	}
	return func(d *lab.Defenses) {
		for _, c := range changes {
			_ = c.sw.Set(d, c.v) // a value of the switch's Values, checked above
		}
	}, nil
}

// labels derives the labels of a file scenario that lists none.
func (a fileAttack) labels(defenses func(*lab.Defenses)) []lab.Label {
	if out, ok := a.labelsOf(defenses); ok {
		return out
	}
	var out []lab.Label
	add := func(l lab.Label) {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	var cert *certSpec
	if a.dns != nil {
		add(lab.LabelDNS)
		add(lab.LabelMITM)
		add(lab.LabelTLS)
		cert = &a.dns.cert
	} else {
		p := a.mitm
		add(lab.LabelMITM)
		if p.position == positionARP {
			add(lab.LabelARP)
		}
		if p.mode == modeStrip {
			add(lab.LabelPlaintext)
		} else {
			add(lab.LabelTLS)
		}
		if p.usesCert() {
			cert = &p.cert
		}
		if p.blockPKI {
			add(lab.LabelRevocation)
		}
	}
	if cert != nil && cert.source != certSelfSigned {
		add(lab.LabelPKI)
	}
	if cert != nil && cert.revoked {
		add(lab.LabelRevocation)
	}
	if len(lab.Hardened().With(defenses).Diff(lab.Hardened())) > 0 {
		add(lab.LabelMisconfig)
	}
	add(lab.LabelSIP)
	return out
}

// scenario declares the attack as a lab scenario, through the catalog's
// params.
func (a fileAttack) scenario(name, summary, story string, labels []lab.Label, expected lab.Verdict, defenses func(*lab.Defenses)) lab.Scenario {
	h := header{name: name, summary: summary, story: story, labels: labels, expected: expected, defenses: defenses}
	if s, ok := a.scenarioOf(h); ok {
		return s
	}
	if a.dns != nil {
		p := *a.dns
		p.header = h
		return p.scenario()
	}
	p := *a.mitm
	p.header = h
	return p.scenario()
}
