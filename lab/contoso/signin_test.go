package contoso_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// A hardened sign-in with DHCP finds the pool through autodiscover over
// HTTPS, registers with NTLM and delivers; every step is recorded.
func TestSignInHardened(t *testing.T) {
	var steps []string
	s := lab.Scenario{Name: "x/signin", Summary: "s", Expected: lab.Passed,
		Run: func(ctx context.Context, env *lab.Env) error {
			c, err := contoso.Config{Discovery: &contoso.Discovery{}}.Build(ctx, env)
			if err != nil {
				return err
			}
			defer c.Close()
			in := c.SignIn(ctx, contoso.SignInConfig{DHCP: true, To: "dave@contoso.com", Body: "hello"})
			for _, st := range in.Steps() {
				steps = append(steps, st.Phase+": "+st.Text+" ["+st.Defense+"]")
			}
			if in.Err != nil {
				return in.Err
			}
			if n := len(c.FrontEnd("fe01").Deliveries()); n != 1 {
				return fmt.Errorf("fe01 delivered %d", n)
			}
			// NTLM twice, both verified: the web services' user
			// resource, then REGISTER.
			results := c.NTLMResults()
			if len(results) != 2 || results[0].Err != nil || results[1].Err != nil || results[0].User != "alice" || results[1].User != "alice" {
				return fmt.Errorf("NTLM results %+v, want alice verified twice", results)
			}
			for _, want := range []string{
				"dhcp: lease 10.0.0.10/24 from 10.0.0.53: router 10.0.0.1, DNS [10.0.0.53], domain \"contoso.com\", WPAD (option 252) none []",
				"ntlm: answered the NTLM demand of https://webint.contoso.com as CONTOSO\\alice []",
				"web: GET https://webint.contoso.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=contoso.com: 200 OK []",
				"sip: registered with pool01.contoso.com:5061 and sent the message to dave@contoso.com []",
			} {
				if !slices.Contains(steps, want) {
					return fmt.Errorf("no step %q", want)
				}
			}
			in.Record(env.Evidence, false)
			env.Evidence.Delivered("fe01", "delivered")
			return nil
		}}
	res := lab.Runner{}.Run(context.Background(), s)
	t.Log(strings.Join(steps, "\n"))
	if res.Err != nil || res.Verdict != lab.Passed {
		t.Fatalf("%v %v\n%s", res.Verdict, res.Err, strings.Join(res.Evidence, "\n"))
	}
}
