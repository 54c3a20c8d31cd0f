package netsim

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestParseImpairSpec(t *testing.T) {
	tests := []struct {
		spec string
		want []ImpairRule
	}{
		{"", nil},
		{" ; ", nil},
		{"loss=2%,reorder=1%,delay=2ms", []ImpairRule{{Impairment: Impairment{Loss: 0.02, Reorder: 0.01, Delay: 2 * time.Millisecond}}}},
		{"host=mallory,loss=100%", []ImpairRule{{Host: "mallory", Impairment: Impairment{Loss: 1}}}},
		{"Segment=wan, RATE=1mbit , queue=50", []ImpairRule{{Segment: "wan", Impairment: Impairment{Rate: 125_000, QueueLimit: 50}}}},
		{"delay=5ms;host=db,partition;", []ImpairRule{
			{Impairment: Impairment{Delay: 5 * time.Millisecond}},
			{Host: "db", Impairment: Impairment{Partition: true}},
		}},
		{"duplicate=0.5,corrupt=0.1%,jitter=1.5s,partition=false", []ImpairRule{{Impairment: Impairment{Duplicate: 0.5, Corrupt: 0.001, Jitter: 1500 * time.Millisecond}}}},
		{"rate=100kbit", []ImpairRule{{Impairment: Impairment{Rate: 12_500}}}},
		{"rate=10kB/s", []ImpairRule{{Impairment: Impairment{Rate: 10_000}}}},
		{"rate=2.5MB/s", []ImpairRule{{Impairment: Impairment{Rate: 2_500_000}}}},
		{"rate=1gbit", []ImpairRule{{Impairment: Impairment{Rate: 125_000_000}}}},
		{"rate=64bit", []ImpairRule{{Impairment: Impairment{Rate: 8}}}},
		{"rate=0", []ImpairRule{{}}},
		{"host=a,none", []ImpairRule{{Host: "a"}}},
	}
	for _, tt := range tests {
		got, err := ParseImpairSpec(tt.spec)
		if err != nil {
			t.Errorf("ParseImpairSpec(%q): %v", tt.spec, err)
			continue
		}
		if !reflect.DeepEqual(got.Rules, tt.want) {
			t.Errorf("ParseImpairSpec(%q) = %+v, want %+v", tt.spec, got.Rules, tt.want)
		}
		again, err := ParseImpairSpec(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("%q read back from %q as %+v, %v", tt.spec, got.String(), again, err)
		}
	}
}

func TestParseImpairSpecErrors(t *testing.T) {
	tests := []struct {
		spec    string
		column  int
		item    string
		problem string
	}{
		{"loss=2%,dealy=2ms", 9, "dealy=2ms", `unknown key "dealy"`},
		{"loss=150%", 1, "loss=150%", "[0%, 100%]"},
		{"loss=1.5", 1, "loss=1.5", "[0, 1]"},
		{"loss=lots", 1, "loss=lots", "percentage"},
		{"delay=5ms; host=x, jitter=-1ms", 20, "jitter=-1ms", "negative"},
		{"delay=2xs", 1, "delay=2xs", "duration"},
		{"rate=1mbps", 1, "rate=1mbps", "unit"},
		{"rate=4bit", 1, "rate=4bit", "one byte"},
		{"queue=-1", 1, "queue=-1", "negative"},
		{"queue=many", 1, "queue=many", "number of frames"},
		{"host=a,segment=b", 8, "segment=b", "one target"},
		{"host=", 1, "host=", "needs a name"},
		{"loss", 1, "loss", "needs a value"},
		{"loss=1%,,delay=1ms", 9, "", "empty item"},
		{"loss=1%,loss=2%", 9, "loss=2%", "twice"},
		{"partition=maybe", 1, "partition=maybe", "true or false"},
		{"none=1", 1, "none=1", "no value"},
	}
	for _, tt := range tests {
		_, err := ParseImpairSpec(tt.spec)
		var se *ImpairSpecError
		if !errors.As(err, &se) {
			t.Errorf("ParseImpairSpec(%q): %v, want an *ImpairSpecError", tt.spec, err)
			continue
		}
		if se.Offset+1 != tt.column || se.Item != tt.item || !strings.Contains(se.Problem, tt.problem) {
			t.Errorf("ParseImpairSpec(%q): column %d item %q problem %q, want column %d item %q problem with %q",
				tt.spec, se.Offset+1, se.Item, se.Problem, tt.column, tt.item, tt.problem)
		}
		if msg := err.Error(); !strings.Contains(msg, "valid keys: host, segment, loss") {
			t.Errorf("error %q does not list the valid keys", msg)
		}
	}
}

// TestImpairSpecApply: a parsed spec reaches every segment, a named
// segment, and a host created after it was applied.
func TestImpairSpecApply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := NewWorld(Config{Seed: 1})
		defer w.Close()
		lan := w.NewSegment("lan", SegmentConfig{})
		spec, err := ParseImpairSpec("loss=2%,delay=2ms; segment=wan,rate=1mbit; host=mallory,loss=100%")
		must(t, err)
		must(t, spec.Apply(w))
		wan := w.NewSegment("wan", SegmentConfig{})
		mallory := w.NewHost("mallory", HostConfig{})
		n, err := mallory.AddNIC(lan, NICConfig{Addr: mustPrefix("10.0.0.66/24")})
		must(t, err)
		if got, want := lan.Impairment(), (Impairment{Loss: 0.02, Delay: 2 * time.Millisecond}); got != want {
			t.Errorf("lan: %v, want %v", got, want)
		}
		if got, want := wan.Impairment(), (Impairment{Rate: 125_000}); got != want {
			t.Errorf("wan: %v, want %v", got, want)
		}
		if got, want := n.Impairment(), (Impairment{Loss: 1}); got != want {
			t.Errorf("mallory: %v, want %v", got, want)
		}
	})
}

func ExampleParseImpairSpec() {
	spec, err := ParseImpairSpec("loss=2%,reorder=1%,delay=2ms; host=mallory,loss=100%; segment=wan,rate=1mbit,queue=50")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range spec.Rules {
		fmt.Println(r)
	}
	w := NewWorld(Config{Seed: 1})
	defer w.Close()
	if err := spec.Apply(w); err != nil {
		fmt.Println(err)
	}
	_, err = ParseImpairSpec("loss=2%,dealy=2ms")
	fmt.Println(err)
	// Output:
	// loss=2%,delay=2ms,reorder=1%
	// host=mallory,loss=100%
	// segment=wan,rate=125000B/s,queue=50
	// netsim: impairment spec "loss=2%,dealy=2ms": at column 9, "dealy=2ms": unknown key "dealy" (valid keys: host, segment, loss, delay, jitter, reorder, duplicate, corrupt, rate, queue, partition, none)
}
