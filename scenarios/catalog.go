// Package scenarios is tlslab's catalog: every attack the lab knows, one file
// per family, all registered in [Catalog].
//
// A family is a set of scenarios that share one attack and one topology and
// differ in the defenses in force, e.g. "eavesdrop/tls" and
// "eavesdrop/plaintext". Each family file declares its defenses as a small
// unexported params struct and builds its scenarios from it, so a test can run
// the same body with a defense flipped and see the verdict follow the evidence.
//
// Topology and PKI pieces that several families share (the Contoso office LAN,
// the enterprise CA) live in contoso.go.
package scenarios

import "github.com/tlslab/tlslab/lab"

// Catalog returns every scenario, in the order the CLI lists them. Each call
// returns a fresh slice; callers may modify it.
func Catalog() lab.Catalog {
	var c lab.Catalog
	c = append(c, eavesdropFamily()...)
	return c
}
