package lab_test

import (
	"context"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
)

// Env.Recorded is true exactly when the run's frames are recorded: a
// pcapng was asked for, or the run is observed (a timeline).
func TestEnvRecorded(t *testing.T) {
	var got bool
	s := lab.Scenario{Name: "test/recorded", Summary: "x", Expected: lab.Passed, Run: func(ctx context.Context, env *lab.Env) error {
		got = env.Recorded()
		return nil
	}}
	for _, tc := range []struct {
		name string
		run  func()
		want bool
	}{
		{"plain", func() { lab.Runner{}.Run(context.Background(), s) }, false},
		{"pcap", func() { lab.Runner{PcapDir: t.TempDir()}.Run(context.Background(), s) }, true},
		{"timeline", func() { timeline.Record(context.Background(), lab.Runner{}, s) }, true},
	} {
		got = !tc.want
		tc.run()
		if got != tc.want {
			t.Errorf("%s: Recorded() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
