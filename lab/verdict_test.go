package lab_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

func TestDecide(t *testing.T) {
	comp := []lab.Compromise{{Kind: lab.CompromiseCanary, Actor: "mallory", Line: "mallory: 1 of 1 canary in 5 B"}}
	tests := []struct {
		name        string
		err         error
		compromises []lab.Compromise
		want        lab.Verdict
	}{
		{"nothing observed", nil, nil, lab.Held},
		{"compromise", nil, comp, lab.Broken},
		{"error wins over compromise", errors.New("boom"), comp, lab.Error},
		{"error alone", errors.New("boom"), nil, lab.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lab.Decide(tt.err, tt.compromises); got != tt.want {
				t.Errorf("Decide = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		observed, expected lab.Verdict
		want               bool
	}{
		{lab.Held, lab.Held, true},
		{lab.Broken, lab.Broken, true},
		{lab.Held, lab.Broken, false},
		{lab.Broken, lab.Held, false},
		{lab.Error, lab.Error, false},
		{lab.Error, lab.Held, false},
	}
	for _, tt := range tests {
		if got := lab.Matches(tt.observed, tt.expected); got != tt.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tt.observed, tt.expected, got, tt.want)
		}
	}
}

// The expectation never feeds the verdict: a scenario that expects "broken"
// but observes no compromise is held, and the mismatch is reported.
func TestExpectationDoesNotFeedVerdict(t *testing.T) {
	s := lab.Scenario{
		Name:     "eavesdrop/claims-broken",
		Summary:  "expects broken, observes nothing",
		Expected: lab.Broken,
		Run: func(ctx context.Context, env *lab.Env) error {
			env.NewCanary("alice")
			env.Evidence.CanariesObtained("mallory", 0, 1, "0 B of captured TCP payload")
			return nil
		},
	}
	res := lab.Runner{}.Run(context.Background(), s)
	if res.Verdict != lab.Held || res.OK {
		t.Fatalf("verdict %q ok=%v, want held ok=false (err %v)", res.Verdict, res.OK, res.Err)
	}
	if res.Expected != lab.Broken {
		t.Errorf("Expected = %q, want broken", res.Expected)
	}
}
