package scenarios

import (
	"slices"
	"strconv"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The eavesdrop families in a scenario file: position tap, a passive tap
// on a segment (attacker.segment) while alice writes to `to`, holding the
// private keys attacker.stolen_key lists. One message (the default) runs
// as eavesdropAttackParams; messages: 2 runs the office family
// (eavesdropParams: two sessions, fe01 serving plaintext on 5060 only
// when the run's tls-only is off), which takes no other change.

// fileSegments are the segments a tap may sit on.
var fileSegments = []string{"contoso-lan", "internet"}

// fileStolenKeys are the servers whose private keys a tap may hold.
var fileStolenKeys = []string{"fe01", "fe02", "fabrikam-edge01"}

// tapAttack reads a position tap attacker.
func (d *fileDecoder) tapAttack(top, m *mapping, hosts fileHosts) (fileAttack, *FileError) {
	const what = "position tap (a passive eavesdropper)"
	if err := d.only(m, what, "position", "segment", "stolen_key"); err != nil {
		return fileAttack{}, err
	}
	if err := d.onlyTop(top, what, "to", "messages", "hosts"); err != nil {
		return fileAttack{}, err
	}
	segment, segNode, err := d.oneOf(m, "segment", false, "segment", fileSegments)
	if err != nil {
		return fileAttack{}, err
	}
	if segNode == nil {
		segment = "contoso-lan"
	}
	to, toNode, err := d.recipient(top, "dave@contoso.com")
	if err != nil {
		return fileAttack{}, err
	}
	if segment == "internet" && to != "carol@fabrikam.com" {
		return fileAttack{}, d.errAt(orNode(toNode, segNode), "to", "only alice's messages to carol@fabrikam.com cross the internet segment (federation); write to: carol@fabrikam.com, or tap contoso-lan")
	}
	stolen, stolenNodes, err := d.list(m, "stolen_key", "[fe01]")
	if err != nil {
		return fileAttack{}, err
	}
	for i, s := range stolen {
		if !slices.Contains(fileStolenKeys, s) {
			return fileAttack{}, d.errAt(stolenNodes[i], "attacker.stolen_key", "unknown server %q; valid: %s%s", s, joinComma(fileStolenKeys), didYouMean(s, fileStolenKeys))
		}
		if slices.Index(stolen, s) != i {
			return fileAttack{}, d.errAt(stolenNodes[i], "attacker.stolen_key", "%s is listed twice", s)
		}
	}
	messages, err := d.messages(top)
	if err != nil {
		return fileAttack{}, err
	}
	if messages == 2 {
		// The office family: the tls-only switch alone decides.
		for _, bad := range []struct {
			set bool
			why string
		}{
			{segment != "contoso-lan", "segment contoso-lan"},
			{to != "dave@contoso.com", "to dave@contoso.com"},
			{stolen != nil, "no stolen_key"},
			{!hosts.empty(), "no hosts changes"},
		} {
			if bad.set {
				return fileAttack{}, d.errAt(top.keys["messages"], "messages", "two messages is the office eavesdrop (eavesdrop/tls), whose transport follows tls-only alone: it takes %s", bad.why)
			}
		}
		return fileAttack{office: &eavesdropParams{}}, nil
	}
	// The tap re-keys listeners itself (key), rather than the topology.
	keys := hosts.keys
	hosts.keys = nil
	p := &eavesdropAttackParams{topology: hosts.merge(contoso.Config{}), segment: segment, to: to, home: homeOf(to)}
	for _, host := range fileHostOrder {
		k, ok := keys[host]
		switch {
		case !ok || k == pki.KeyECDSAP256:
		case k != pki.KeyRSA2048 || !slices.Contains(fileStolenKeys, host):
			return fileAttack{}, d.errAt(hosts.nodes[host], "hosts."+host+".key", "position tap re-keys only fe01, fe02 and fabrikam-edge01, and only with rsa-2048 (on TLS 1.2, preferring static RSA key exchange where allowed)")
		}
	}
	if err := d.refuseHosts(hosts, what, func(host string) string {
		if host == "alice" && hosts.trustMallory {
			return "alice's trust store plays no part in a passive tap"
		}
		return ""
	}); err != nil {
		return fileAttack{}, err
	}
	rsa := func(host string) bool { return keys[host] == pki.KeyRSA2048 }
	switch {
	case hosts.fe01NoTLS && rsa("fe01"):
		return fileAttack{}, d.errAt(hosts.nodes["fe01"], "hosts.fe01", "fe01 is either re-keyed with RSA (key) or without TLS (tls: off), not both")
	case hosts.fe01NoTLS:
		p.fe01 = fe01NoTLS
	case rsa("fe01"):
		p.fe01 = fe01RSA
	}
	p.stolenKey = slices.Contains(stolen, "fe01")
	// fe02's and fabrikam-edge01's re-keying gives the tap their key: the
	// family couples the two.
	for _, host := range []string{"fe02", "fabrikam-edge01"} {
		if rsa(host) != slices.Contains(stolen, host) {
			n := hosts.nodes[host]
			if n == nil {
				n = stolenNodes[slices.Index(stolen, host)]
			}
			return fileAttack{}, d.errAt(n, "hosts."+host, "the tap holds %s's key exactly when %s is re-keyed with RSA: give both hosts.%s.key rsa-2048 and stolen_key [%s], or neither", host, host, host, host)
		}
	}
	p.rsaFE02, p.rsaFabrikamEdge = rsa("fe02"), rsa("fabrikam-edge01")
	if p.rsaFE02 && p.home != "fe02" {
		return fileAttack{}, d.errAt(hosts.nodes["fe02"], "hosts.fe02", "fe02's MTLS listener carries only alice's messages to bob@contoso.com; write to: bob@contoso.com")
	}
	if p.rsaFabrikamEdge && p.home != "fabrikam-fe01" {
		return fileAttack{}, d.errAt(hosts.nodes["fabrikam-edge01"], "hosts.fabrikam-edge01", "fabrikam-edge01 carries only alice's messages to carol@fabrikam.com; write to: carol@fabrikam.com")
	}
	return fileAttack{tap: p}, nil
}

// messages reads messages: how many instant messages alice sends, 1 (the
// default) or 2.
func (d *fileDecoder) messages(top *mapping) (int, *FileError) {
	v, vn, err := d.str(top, "messages", false, "1 or 2")
	if err != nil || vn == nil {
		return 1, err
	}
	n, cerr := strconv.Atoi(v)
	if cerr != nil || n < 1 || n > 2 {
		return 0, d.errAt(vn, "messages", "got %s; want 1 (one message, one session) or 2 (the office eavesdrop: two sessions)", describeNode(vn))
	}
	return n, nil
}
