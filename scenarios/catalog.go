// Package scenarios is tlslab's catalog: every attack the lab knows, one file
// per family, all registered in [Catalog].
//
// A family is a set of scenarios that share one attack and one topology and
// differ in the defenses in force, e.g. "eavesdrop/tls" and
// "eavesdrop/plaintext". Each family file declares its scenarios as a small
// unexported params struct: the shared header (header.go: name, labels,
// texts, expected outcome, defenses) and the family's own fields, with the
// family's attacker text for handouts beside it. header.scenario turns one
// into a lab.Scenario, so a test can run the same body with a defense
// flipped and see the verdict follow the evidence.
//
// The baseline family (baseline.go, baseline_refusals.go) runs on lab's
// "contoso" topology preset with every defense on: four scenarios prove a
// canary travels end to end (client to pool, Front End to Front End over
// MTLS, federation with a partner CA and with a public CA), three that the
// model refuses what it must (a partner whose root is not imported, an MTLS
// peer outside the topology, a revoked server certificate). sipnotes.go
// turns what the SIP servers recorded into evidence lines. Every family
// runs on that preset; eavesdrop_tap.go turns what a passive tap captured
// into evidence for both eavesdrop families.
package scenarios

import "github.com/tlslab/tlslab/lab"

// Catalog returns every scenario, in the order the CLI lists them. Each call
// returns a fresh slice; callers may modify it.
func Catalog() lab.Catalog {
	var c lab.Catalog
	c = append(c, baselineFamily()...)
	c = append(c, eavesdropFamily()...)
	c = append(c, eavesdropAttackFamily()...)
	c = append(c, mitmFamily()...)
	c = append(c, mtlsFamily()...)
	c = append(c, dnsFamily()...)
	c = append(c, federationFamily()...)
	c = append(c, discoveryFamily()...)
	c = append(c, bridgeFamily(c)...)
	return c
}
