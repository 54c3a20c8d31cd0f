package autodiscover_test

import (
	"fmt"

	"github.com/tlslab/tlslab/actors/autodiscover"
)

// Strict DNS naming accepts only the SIP domain itself and sip.<domain> as
// an SRV target; relaxed naming any name ending with the domain, the
// attacker's included.
func ExampleNamingAllows() {
	for _, target := range []string{"sip.contoso.com", "pool01.contoso.com", "attacker.contoso.com", "sip.fabrikam.com"} {
		fmt.Println(target, autodiscover.NamingAllows(target, "contoso.com", true), autodiscover.NamingAllows(target, "contoso.com", false))
	}
	// Output:
	// sip.contoso.com true true
	// pool01.contoso.com false true
	// attacker.contoso.com false true
	// sip.fabrikam.com false false
}
