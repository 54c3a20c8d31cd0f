package scenarios

import "github.com/tlslab/tlslab/lab"

// mtlsFamily returns the scenarios of this family.
func mtlsFamily() []lab.Scenario { return nil }
