package suggest_test

import (
	"slices"
	"testing"

	"github.com/tlslab/tlslab/internal/suggest"
)

func TestLevenshtein(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"flaw", "lawn", 2},
		{"eavesdrop/tsl", "eavesdrop/tls", 2},
		{"mitm", "mitm", 0},
		{"héllo", "hello", 1}, // runes, not bytes
	}
	for _, tt := range tests {
		if got := suggest.Levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := suggest.Levenshtein(tt.b, tt.a); got != tt.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

var names = []string{"eavesdrop/tls", "eavesdrop/plaintext", "mitm/arp-tls", "mitm/dns-hijack"}

func TestClosest(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want []string
	}{
		{"eavesdrop/tsl", 2, []string{"eavesdrop/tls", "eavesdrop/plaintext"}},
		{"dns-hijack", 1, []string{"mitm/dns-hijack"}},
		{"tls", 1, []string{"eavesdrop/tls"}},
		{"mitm/arp", 1, []string{"mitm/arp-tls"}},
		{"anything", 0, []string{}},
	}
	for _, tt := range tests {
		if got := suggest.Closest(tt.name, names, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("Closest(%q, %d) = %q, want %q", tt.name, tt.n, got, tt.want)
		}
	}
}

func TestTypo(t *testing.T) {
	keys := []string{"terminate", "name", "stopped_by", "run"}
	tests := []struct {
		got, want string
		ok        bool
	}{
		{"terminat", "terminate", true},
		{"Nmae", "name", true}, // case is ignored
		{"stoped-by", "stopped_by", true},
		{"rnu", "run", true},
		{"xyz", "", false}, // three edits from "run", more than two
		{"", "", false},
		{"completely-different", "", false},
	}
	for _, tt := range tests {
		if got, ok := suggest.Typo(tt.got, keys); got != tt.want || ok != tt.ok {
			t.Errorf("Typo(%q) = %q, %v; want %q, %v", tt.got, got, ok, tt.want, tt.ok)
		}
	}
}
