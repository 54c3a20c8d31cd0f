package scenarios

import "github.com/tlslab/tlslab/lab"

// federationFamily returns the scenarios of this family.
func federationFamily() []lab.Scenario { return nil }
