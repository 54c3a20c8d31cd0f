package scenarios

import (
	"slices"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The baseline family in a scenario file: no attacker key. alice writes
// to `to` through the preset as hosts: and federation: change it
// (baselineParams). Expected passed proves the canary arrives (the
// delivery baselines); expected held proves the model refuses an
// untrusted peer, which the topology changes declare:
//
//   - hosts.edge01.trust_remove [fabrikam-root] with to carol@fabrikam.com:
//     Fabrikam's Edge, whose root edge01 lacks (refuseUntrustedPartner);
//   - hosts.fe99.insider with to bob@contoso.com: fe99 relaying a forged
//     MESSAGE to fe02 (refuseInsider);
//   - hosts.fe01.revoked with to dave@contoso.com: fe01 serving its
//     revoked certificate to alice (refuseRevoked).

// baselineForm reads a scenario file without an attacker.
func (d *fileDecoder) baselineForm(top *mapping, expected lab.Verdict, expectedNode *yaml.Node, hosts fileHosts) (fileAttack, *FileError) {
	const what = "a scenario without an attacker (a baseline)"
	if err := d.onlyTop(top, what, "to", "federation", "hosts"); err != nil {
		return fileAttack{}, err
	}
	if v, vn, err := d.oneOf(top, "victim", false, "victim", fileVictims); err != nil {
		return fileAttack{}, err
	} else if vn != nil && v != "alice" {
		return fileAttack{}, d.errAt(vn, "victim", "%s has alice write; leave victim out or write alice", what)
	}
	if top.has("server") {
		return fileAttack{}, d.errAt(top.keys["server"], "server", "%s targets no server: alice's recipient (to) decides the path", what)
	}
	if err := d.refuseHosts(hosts, what, topologyOnly(hosts)); err != nil {
		return fileAttack{}, err
	}
	to, _, err := d.recipient(top, "")
	if err != nil {
		return fileAttack{}, err
	}
	cfg, err := d.federationMode(top, hosts.merge(contoso.Config{}))
	if err != nil {
		return fileAttack{}, err
	}
	p := &baselineParams{topology: cfg, to: to, path: recipientPath(to)}
	switch expected {
	case lab.Passed:
		p.play = deliver
		return fileAttack{baseline: p}, nil
	case lab.Broken:
		return fileAttack{}, d.errAt(expectedNode, "expected", "%s is passed or held; a broken expectation needs an attacker", what)
	}
	_, insider := hosts.nodes["fe99"]
	revoked := slices.ContainsFunc(cfg.Revoked, func(r contoso.Revocation) bool { return r.Cert == "fe01" })
	switch {
	case cfg.ContosoEdgeOmitsFabrikamRoot && to == "carol@fabrikam.com":
		p.play, p.attacker = refuseUntrustedPartner, baselineUntrustedPartner.attacker
	case insider && to == "bob@contoso.com":
		p.play, p.attacker = refuseInsider, baselineInsider.attacker
	case revoked && to == "dave@contoso.com":
		p.play, p.attacker = refuseRevoked, baselineRevoked.attacker
	default:
		return fileAttack{}, d.errAt(expectedNode, "expected", "%s expected held needs the untrusted peer it refuses: "+
			"hosts.edge01.trust_remove [fabrikam-root] with to carol@fabrikam.com, hosts.fe99.insider with to bob@contoso.com, "+
			"or hosts.fe01.revoked with to dave@contoso.com", what)
	}
	return fileAttack{baseline: p}, nil
}
