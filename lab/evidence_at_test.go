package lab

import (
	"slices"
	"testing"
	"time"
)

// Evidence.At records facts as Evidence does, in the order recorded, and
// stamps each entry with the event's time beside the recording time.
func TestEvidenceAt(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	e := &Evidence{clock: func() time.Time { return now }}
	start, delivered := now.Add(-3*time.Millisecond), now.Add(-time.Millisecond)
	e.At(start).Reached("mallory", MilestoneInPosition, "intercepted %s", "alice")
	e.Notef("alice", "refused")
	e.At(delivered).Delivered("fe01", "delivered the canary")
	e.At(time.Time{}).Notef("fe01", "no time")

	want := []string{"mallory: intercepted alice", "alice: refused", "fe01: delivered the canary", "fe01: no time"}
	if got := e.Lines(); !slices.Equal(got, want) {
		t.Fatalf("Lines = %q, want %q", got, want)
	}
	entries := e.timedEntries()
	for i, occurred := range []time.Time{start, {}, delivered, {}} {
		if !entries[i].Occurred.Equal(occurred) || !entries[i].At.Equal(now) {
			t.Errorf("entry %d: At %v Occurred %v, want At %v Occurred %v", i, entries[i].At, entries[i].Occurred, now, occurred)
		}
	}
	if m := e.Milestones(); len(m) != 1 || m[0].Milestone != MilestoneInPosition || m[0].Line != want[0] {
		t.Errorf("Milestones = %+v", m)
	}
	if !e.WasDelivered() {
		t.Error("At(...).Delivered did not count as delivered")
	}
}
