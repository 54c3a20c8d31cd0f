package lab

import (
	"fmt"
	"strings"
	"sync"
)

// Label tags a scenario so people can select families of scenarios across
// names (tlslab run --label mitm). Only the labels in [KnownLabels] are valid;
// [ParseLabel] and [Catalog.Validate] enforce that.
type Label string

// The checked list of labels; [Label.Doc] says what each one means. Add new
// ones here and in labelDocs.
const (
	LabelBaseline   Label = "baseline"
	LabelEavesdrop  Label = "eavesdrop"
	LabelMITM       Label = "mitm"
	LabelARP        Label = "arp"
	LabelDNS        Label = "dns"
	LabelTLS        Label = "tls"
	LabelMTLS       Label = "mtls"
	LabelPlaintext  Label = "plaintext"
	LabelPKI        Label = "pki"
	LabelRevocation Label = "revocation"
	LabelFederation Label = "federation"
	LabelMisconfig  Label = "misconfig"
	LabelSIP        Label = "sip"
	LabelBridge     Label = "bridge"
	LabelDiscovery  Label = "discovery"
)

var labelDocs = []struct {
	label Label
	doc   string
}{
	{LabelBaseline, "no attacker, or the hardened configuration working as intended"},
	{LabelEavesdrop, "a passive listener on the path"},
	{LabelMITM, "an active attacker relaying or impersonating"},
	{LabelARP, "attacks through ARP spoofing on a LAN segment"},
	{LabelDNS, "attacks through DNS answers (rogue server, spoofing)"},
	{LabelTLS, "client to server TLS"},
	{LabelMTLS, "server to server mutual TLS"},
	{LabelPlaintext, "traffic or a fallback without TLS"},
	{LabelPKI, "certificates, CAs, mis-issuance, stolen keys"},
	{LabelRevocation, "CRL / OCSP checking"},
	{LabelFederation, "traffic between partner domains"},
	{LabelMisconfig, "a defense switched off or misconfigured"},
	{LabelSIP, "SIP signalling: REGISTER and MESSAGE through pools and Edges"},
	{LabelDiscovery, "how a Windows client finds its pool and proxy (DHCP, autodiscover, SRV, LLMNR/NBT-NS, WPAD) and the NTLM it answers"},
	{LabelBridge, "real TLS programs (OpenSSL, GnuTLS) over a loopback bridge; opt-in: run by name or --label bridge"},
}

// labelsMu guards labelDocs against RegisterLabel.
var labelsMu sync.RWMutex

// RegisterLabel adds l, described by doc (one line, not empty), to the
// checked list, for catalogs outside tlslab's own (see lab/labtest's
// RunCatalog). Registering a known label again with the same doc does
// nothing; with another doc, or an empty label or doc, it is an error.
func RegisterLabel(l Label, doc string) error {
	if l == "" || strings.TrimSpace(doc) == "" || l != Label(strings.ToLower(strings.TrimSpace(string(l)))) {
		return fmt.Errorf("lab: label %q: a label is lower case without spaces around it, with a one-line doc", l)
	}
	labelsMu.Lock()
	defer labelsMu.Unlock()
	for _, d := range labelDocs {
		if d.label == l {
			if d.doc != doc {
				return fmt.Errorf("lab: label %q is registered as %q", l, d.doc)
			}
			return nil
		}
	}
	labelDocs = append(labelDocs, struct {
		label Label
		doc   string
	}{l, doc})
	return nil
}

// KnownLabels returns every valid label in a stable order. The slice is a
// fresh copy; callers may modify it.
func KnownLabels() []Label {
	labelsMu.RLock()
	defer labelsMu.RUnlock()
	out := make([]Label, len(labelDocs))
	for i, d := range labelDocs {
		out[i] = d.label
	}
	return out
}

// Doc returns a one-line description of a known label, or "" for an unknown one.
func (l Label) Doc() string {
	labelsMu.RLock()
	defer labelsMu.RUnlock()
	for _, d := range labelDocs {
		if d.label == l {
			return d.doc
		}
	}
	return ""
}

// OptIn reports whether scenarios labelled l run only when picked by name
// or by this label (see Catalog.Select): bridge, whose scenarios need real
// programs (openssl, gnutls-cli) a machine may not have. A default run,
// the matrix and the stored baselines leave them out.
func (l Label) OptIn() bool { return l == LabelBridge }

// Known reports whether l is in the checked list.
func (l Label) Known() bool { return l.Doc() != "" }

// UnknownLabelError is returned by [ParseLabel] for a string that is not a
// known label. Its message lists the valid labels.
type UnknownLabelError struct {
	Label string
}

func (e *UnknownLabelError) Error() string {
	return fmt.Sprintf("lab: unknown label %q; valid labels: %s", e.Label, labelList())
}

func labelList() string {
	names := make([]string, len(labelDocs))
	for i, d := range labelDocs {
		names[i] = string(d.label)
	}
	return strings.Join(names, ", ")
}

// ParseLabel returns the label named s (surrounding spaces and case ignored),
// or an *UnknownLabelError naming the valid ones.
func ParseLabel(s string) (Label, error) {
	l := Label(strings.ToLower(strings.TrimSpace(s)))
	if !l.Known() {
		return "", &UnknownLabelError{Label: s}
	}
	return l, nil
}
