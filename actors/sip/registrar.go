package sip

import (
	"maps"
	"slices"
	"strings"
)

// Registrar is the topology's user homing: which Front End serves which
// user, as a Skype for Business pool's user database assigns it. FrontEnds
// use it to deliver or relay; Edges use it to send inbound federated
// messages to the recipient's Front End. It is immutable and safe for
// concurrent use; several servers may share one.
//
// Users are addresses "alice@contoso.com"; Front Ends are FQDNs
// "fe01.contoso.com". Both are matched without regard to case (the user
// part too, as the lab's directories do).
type Registrar struct {
	homes map[string]string
}

// NewRegistrar returns a registrar homing each user (a key of homes) on a
// Front End (its value). homes is copied; nil means no users.
func NewRegistrar(homes map[string]string) *Registrar {
	r := &Registrar{homes: make(map[string]string, len(homes))}
	for user, fe := range homes {
		r.homes[normalizeUser(user)] = normalizeHost(fe)
	}
	return r
}

// Home returns the FQDN of the Front End user is homed on. A nil Registrar
// homes nobody.
func (r *Registrar) Home(user string) (fqdn string, ok bool) {
	if r == nil {
		return "", false
	}
	fqdn, ok = r.homes[normalizeUser(user)]
	return fqdn, ok
}

// Users returns the homed users, sorted.
func (r *Registrar) Users() []string {
	if r == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(r.homes))
}

// normalizeUser lower-cases an address and strips a "sip:" scheme.
func normalizeUser(user string) string {
	user = strings.ToLower(strings.TrimSpace(user))
	user = strings.TrimPrefix(user, "sips:")
	return strings.TrimPrefix(user, "sip:")
}

// normalizeHost lower-cases a DNS name and strips its trailing dot.
func normalizeHost(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// inDomain reports whether host is domain or a name under it.
func inDomain(host, domain string) bool {
	host, domain = normalizeHost(host), normalizeHost(domain)
	return domain != "" && (host == domain || strings.HasSuffix(host, "."+domain))
}

// shortName is the first label of an FQDN: "fe01" for "fe01.contoso.com".
func shortName(fqdn string) string {
	name, _, _ := strings.Cut(normalizeHost(fqdn), ".")
	return name
}

// hasHost reports whether m has a key naming host (case and trailing dot
// ignored).
func hasHost(m map[string]string, host string) bool {
	for k := range m {
		if normalizeHost(k) == normalizeHost(host) {
			return true
		}
	}
	return false
}
