package scenarios

import "github.com/tlslab/tlslab/lab"

// eavesdropAttackFamily returns the scenarios of this family.
func eavesdropAttackFamily() []lab.Scenario { return nil }
