package scenarios

import "github.com/tlslab/tlslab/lab"

// dnsFamily returns the scenarios of this family.
func dnsFamily() []lab.Scenario { return nil }
