package scenarios

import (
	"maps"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab/contoso"
)

// A scenario file's hosts: mapping changes the contoso preset per host,
// in the terms of contoso.Config and of the families' own re-keying
// switches, so a file declares what the catalog's Go params declare:
//
//	hosts:
//	  fe01: {revoked: true}               # contoso.Config.Revoked
//	  edge01: {trust_remove: [fabrikam-root]}
//	  fe99: {insider: true}               # contoso.Config.Insiders
//	  alice: {revocation: soft-fail}      # contoso.Config.RevocationModes
//
// Which keys a host takes is fixed by what the preset and the families
// can change (fileHostKeys); which family takes which change is decided
// by fileAttack.applyHosts.

// fileHostKeys lists, per host of the preset, the keys its entry takes.
var fileHostKeys = map[string][]string{
	"alice":           {"trust_add", "revocation"},
	"fe01":            {"revoked", "key", "tls", "revocation"},
	"fe02":            {"revoked", "key", "revocation"},
	"edge01":          {"revoked", "key", "trust_remove", "revocation"},
	"fabrikam-fe01":   {"revoked", "key", "revocation"},
	"fabrikam-edge01": {"revoked", "key", "trust_remove", "revocation"},
	"fe99":            {"insider"},
}

// fileHostOrder is fileHostKeys' hosts in the order messages list them.
var fileHostOrder = []string{"alice", "fe01", "fe02", "edge01", "fabrikam-fe01", "fabrikam-edge01", "fe99"}

// fileTrustChanges lists, per host, the roots its trust store may gain
// (trust_add) or lose (trust_remove).
var fileTrustChanges = map[string][]string{
	"alice":           {issuerMallory},
	"edge01":          {"fabrikam-root"},
	"fabrikam-edge01": {"contoso-root"},
}

// fileHostCerts are the certificates of the topology a host's key:
// changes (contoso.Config.KeyTypes): an Edge's internal and external ones.
var fileHostCerts = map[string][]string{
	"fe01":            {"fe01"},
	"fe02":            {"fe02"},
	"edge01":          {"edge01", "edge01-external"},
	"fabrikam-fe01":   {"fabrikam-fe01"},
	"fabrikam-edge01": {"fabrikam-edge01", "fabrikam-edge01-external"},
}

// fileHosts is what a hosts: mapping declares; the zero value changes
// nothing.
type fileHosts struct {
	// cfg holds the changes contoso.Config expresses: revocations, the
	// Edges' omitted roots, insiders.
	cfg contoso.Config
	// trustMallory: Mallory Root CA in alice's trust store.
	trustMallory bool
	// keys are the key types hosts: names, by host. Position tap
	// re-keys a listener with RSA instead (eavesdropAttackParams); the
	// other forms issue the host's certificates with them
	// (contoso.Config.KeyTypes).
	keys map[string]pki.KeyType
	// fe01NoTLS: fe01's TLS listener is down.
	fe01NoTLS bool
	// node is the hosts: value, for messages; nodes the per-host entries.
	node  *yaml.Node
	nodes map[string]*yaml.Node
}

// empty reports whether h changes nothing.
func (h fileHosts) empty() bool { return h.node == nil }

// hosts reads the optional hosts: mapping.
func (d *fileDecoder) hosts(top *mapping) (fileHosts, *FileError) {
	var h fileHosts
	if !top.has("hosts") {
		return h, nil
	}
	m, err := d.mapping(top.values["hosts"], "hosts", fileHostOrder)
	if err != nil {
		return h, err
	}
	h.node, h.nodes = m.node, map[string]*yaml.Node{}
	for _, host := range m.order {
		path := fieldPath("hosts", host)
		e, err := d.mapping(m.values[host], path, fileHostKeys[host])
		if err != nil {
			return h, err
		}
		h.nodes[host] = m.keys[host]
		if len(e.order) == 0 {
			return h, d.errAt(m.keys[host], path, "no change; give one of %s, or leave %s out", joinComma(fileHostKeys[host]), host)
		}
		if err := d.hostEntry(e, host, &h); err != nil {
			return h, err
		}
	}
	return h, nil
}

// hostEntry reads one host's changes into h.
func (d *fileDecoder) hostEntry(e *mapping, host string, h *fileHosts) *FileError {
	revoked, err := d.boolean(e, "revoked")
	if err != nil {
		return err
	}
	if revoked {
		h.cfg.Revoked = append(h.cfg.Revoked, contoso.Revocation{Cert: host, Reason: pki.ReasonKeyCompromise})
	}
	keyNames := make([]string, len(keyTypes))
	for i, k := range keyTypes {
		keyNames[i] = k.name
	}
	key, kn, err := d.oneOf(e, "key", false, "key type", keyNames)
	if err != nil {
		return err
	}
	if kn != nil {
		if h.keys == nil {
			h.keys = map[string]pki.KeyType{}
		}
		h.keys[host] = keyTypes[slices.Index(keyNames, key)].key
	}
	tlsState, tn, err := d.str(e, "tls", false, "on or off")
	if err != nil {
		return err
	}
	if tn != nil {
		if tn.ShortTag() == "!!bool" {
			tlsState = map[bool]string{true: "on", false: "off"}[tlsState == "true"]
		}
		if tlsState != "on" && tlsState != "off" {
			return d.errAt(tn, fieldPath(e.path, "tls"), "got %s; want on or off%s", describeNode(tn), didYouMean(tlsState, []string{"on", "off"}))
		}
		h.fe01NoTLS = tlsState == "off"
	}
	for _, k := range []string{"trust_add", "trust_remove"} {
		roots, nodes, err := d.list(e, k, "["+strings.Join(fileTrustChanges[host], ", ")+"]")
		if err != nil {
			return err
		}
		if roots != nil && len(roots) == 0 {
			return d.errAt(e.values[k], fieldPath(e.path, k), "empty list; name the roots, or leave %s out", k)
		}
		for i, r := range roots {
			if !slices.Contains(fileTrustChanges[host], r) {
				what := map[string]string{"trust_add": "can gain", "trust_remove": "can lose"}[k]
				return d.errAt(nodes[i], fieldPath(e.path, k), "%s's trust store %s only %s; got %q", host, what, joinComma(fileTrustChanges[host]), r)
			}
		}
		switch {
		case len(roots) == 0:
		case host == "alice":
			h.trustMallory = true
		case host == "edge01":
			h.cfg.ContosoEdgeOmitsFabrikamRoot = true
		case host == "fabrikam-edge01":
			h.cfg.FabrikamEdgeOmitsContosoRoot = true
		}
	}
	mode, mn, err := d.str(e, "revocation", false, "hard-fail, soft-fail or off")
	if err != nil {
		return err
	}
	if mn != nil {
		if mn.ShortTag() == "!!bool" && mode == "false" {
			mode = "off"
		}
		m, perr := pki.ParseRevocationMode(mode)
		if perr != nil {
			valid := []string{"hard-fail", "soft-fail", "off"}
			return d.errAt(mn, fieldPath(e.path, "revocation"), "got %s; want %s%s", describeNode(mn), orList(valid), didYouMean(mode, valid))
		}
		if h.cfg.RevocationModes == nil {
			h.cfg.RevocationModes = map[string]pki.RevocationMode{}
		}
		h.cfg.RevocationModes[host] = m
	}
	insider, err := d.boolean(e, "insider")
	if err != nil {
		return err
	}
	if e.has("insider") && !insider {
		return d.errAt(e.values["insider"], fieldPath(e.path, "insider"), "fe99 exists only as an insider; write insider: true, or leave fe99 out")
	}
	if insider {
		h.cfg.Insiders = append(h.cfg.Insiders, mtlsInsider)
	}
	return nil
}

// merge returns cfg with h's contoso.Config changes added.
func (h fileHosts) merge(cfg contoso.Config) contoso.Config {
	cfg.Revoked = append(slices.Clone(cfg.Revoked), h.cfg.Revoked...)
	cfg.Insiders = append(slices.Clone(cfg.Insiders), h.cfg.Insiders...)
	if len(h.keys) > 0 {
		cfg.KeyTypes = maps.Clone(cfg.KeyTypes)
		if cfg.KeyTypes == nil {
			cfg.KeyTypes = map[string]pki.KeyType{}
		}
		for host, k := range h.keys {
			for _, cert := range fileHostCerts[host] {
				cfg.KeyTypes[cert] = k
			}
		}
	}
	if len(h.cfg.RevocationModes) > 0 {
		cfg.RevocationModes = maps.Clone(cfg.RevocationModes)
		if cfg.RevocationModes == nil {
			cfg.RevocationModes = map[string]pki.RevocationMode{}
		}
		maps.Copy(cfg.RevocationModes, h.cfg.RevocationModes)
	}
	cfg.ContosoEdgeOmitsFabrikamRoot = cfg.ContosoEdgeOmitsFabrikamRoot || h.cfg.ContosoEdgeOmitsFabrikamRoot
	cfg.FabrikamEdgeOmitsContosoRoot = cfg.FabrikamEdgeOmitsContosoRoot || h.cfg.FabrikamEdgeOmitsContosoRoot
	return cfg
}

// refuse is the error for a host change a family cannot make: the first
// host entry that makes one of the changes the family does not take.
func (d *fileDecoder) refuseHosts(h fileHosts, family string, allowed func(host string) string) *FileError {
	for _, host := range fileHostOrder {
		n, ok := h.nodes[host]
		if !ok {
			continue
		}
		if why := allowed(host); why != "" {
			return d.errAt(n, fieldPath("hosts", host), "%s: %s", family, why)
		}
	}
	return nil
}
