package scenarios

import (
	"slices"
)

// distrustedRoots reads distrusted: the CAs on the enterprise
// distrust list, by issuer key (the preset's CAs and mallory-root). The
// MITM and DNS positions take it; at a MITM position mallory-root needs
// her CA in the run.
func (d *fileDecoder) distrustedRoots(top *mapping, a *fileAttack) *FileError {
	const key = "distrusted"
	names, nodes, err := d.list(top, key, "[mallory-root]")
	if err != nil || names == nil {
		return err
	}
	if len(names) == 0 {
		return d.errAt(top.values[key], key, "empty list; list the CAs the enterprise distrusts, e.g. [mallory-root], or leave distrusted out")
	}
	if a.mitm == nil && a.dns == nil {
		return d.errAt(top.keys[key], key, "this attack does not take it; a MITM or DNS position (arp, gateway, rogue-dns, dns-on-path, dns-blind) does")
	}
	valid := issuerKeys()
	var out []string
	for i, n := range names {
		switch {
		case !slices.Contains(valid, n):
			return d.errAt(nodes[i], key, "unknown CA %q; valid: %s%s", n, joinComma(valid), didYouMean(n, valid))
		case slices.Contains(out, n):
			return d.errAt(nodes[i], key, "%q is listed twice", n)
		case n == issuerMallory && a.mitm != nil && !a.mitm.malloryCA():
			return d.errAt(nodes[i], key, "mallory runs no CA in this scenario; mallory-root exists only with trusted_by_victim or a certificate from issuer mallory-root")
		}
		out = append(out, n)
	}
	if a.dns != nil {
		// At the DNS positions mallory's CA is always in the run (the
		// topology's attacker CA, or her own with trusted_by_victim).
		a.dns.distrusted = out
		return nil
	}
	a.mitm.distrusted = out
	return nil
}
