// Package scenarios is tlslab's catalog of scenarios.
package scenarios

import "github.com/tlslab/tlslab/lab"

// Catalog returns every scenario, in the order the CLI lists them.
func Catalog() lab.Catalog { return nil }
