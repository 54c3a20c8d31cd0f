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

// At(...).Refused records a refusal as Refused does, at the event's time,
// and tells the capture notes.
func TestEvidenceAtRefused(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	var heard []Refusal
	e := &Evidence{clock: func() time.Time { return now }, refused: func(r Refusal) { heard = append(heard, r) }}
	at := now.Add(-2 * time.Millisecond)
	e.At(at).Refused("contoso-lan switch", DefenseDHCPSnooping, "dropped a DHCP server message from %s", "10.0.0.66")
	want := Refusal{Defense: DefenseDHCPSnooping, Host: "contoso-lan switch", Reason: "dropped a DHCP server message from 10.0.0.66",
		Line: "contoso-lan switch: dropped a DHCP server message from 10.0.0.66"}
	if r := e.Refusals(); len(r) != 1 || r[0] != want || len(heard) != 1 || heard[0] != want {
		t.Fatalf("Refusals %+v, heard %+v; want %+v", r, heard, want)
	}
	if entries := e.timedEntries(); !entries[0].Occurred.Equal(at) {
		t.Errorf("Occurred %v, want %v", entries[0].Occurred, at)
	}
	defer func() {
		if recover() == nil {
			t.Error("a refusal by an unknown defense did not panic")
		}
	}()
	e.At(at).Refused("alice", "firewall", "no")
}

// A credential obtained is a compromise of its own kind, and breaks.
func TestCredentialObtained(t *testing.T) {
	e := &Evidence{}
	e.CredentialObtained("mallory", "alice", "the NTLMv2 response verifies with alice's password")
	c := e.Compromises()
	want := Compromise{Kind: CompromiseCredential, Actor: "mallory",
		Line: "mallory: obtained alice's credential: the NTLMv2 response verifies with alice's password"}
	if len(c) != 1 || c[0] != want {
		t.Fatalf("Compromises %+v, want %+v", c, want)
	}
	if j := Decide(nil, Observation{Attack: true, Defenses: Hardened(), Compromises: c}); j.Verdict != Broken {
		t.Errorf("verdict %s, want broken", j.Verdict)
	}
}
