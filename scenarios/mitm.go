package scenarios

import "github.com/tlslab/tlslab/lab"

// mitmFamily returns the scenarios of this family.
func mitmFamily() []lab.Scenario { return nil }
