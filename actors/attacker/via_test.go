package attacker_test

import (
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/netsim"
)

// TestDNSSpooferVia: a spoofer hooked on the segment through mallory's NIC
// wins the race as a plain segment hook does, and sees and forges nothing
// once her host is cut off.
func TestDNSSpooferVia(t *testing.T) {
	for _, cut := range []bool{false, true} {
		name := map[bool]string{false: "mallory up", true: "mallory cut off"}[cut]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newDNSLAN(t, 0)
				l.serveZone(t)
				if cut {
					if err := l.w.ImpairHost("mallory", netsim.Impairment{Loss: 1}); err != nil {
						t.Fatal(err)
					}
				}
				sp, err := attacker.NewDNSSpoofer(attacker.DNSSpoofConfig{Forgery: attacker.DNSForgery{A: malloryIP, Names: []string{"pool01.contoso.com"}}})
				if err != nil {
					t.Fatal(err)
				}
				defer sp.AttachSegmentVia(l.lan, l.mNIC)()
				got, err := lookup(t, l.resolver(t, dnsIP, nil), "pool01.contoso.com")
				if err != nil {
					t.Fatal(err)
				}
				want, questions := malloryIP, 1
				if cut {
					want, questions = fe01IP, 0
				}
				if got != want || len(sp.Questions()) != questions {
					t.Errorf("pool01 resolved to %v with %d questions seen, want %v and %d", got, len(sp.Questions()), want, questions)
				}
			})
		})
	}
}
