package netsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ImpairSpec is a textual impairment specification, parsed: rules applied
// in order, so a later rule for the same target replaces an earlier one.
//
// The syntax is rules separated by ';', each a comma-separated list of
// key=value items (spaces around items are ignored):
//
//	loss=2%,reorder=1%,delay=2ms            every segment
//	host=mallory,loss=100%                  the host named mallory
//	segment=wan,rate=1mbit,queue=50         the segment named wan
//	delay=5ms;host=db,partition             two rules
//
// Keys:
//
//	host=NAME       the rule impairs that host's NICs (World.ImpairHost)
//	segment=NAME    the rule impairs that segment (World.ImpairSegment);
//	                with neither, every segment (World.ImpairSegments)
//	loss=P          Impairment.Loss; P is a percentage ("2%", "0.5%") or
//	                a fraction ("0.02"), in [0, 1]
//	reorder=P       Impairment.Reorder
//	duplicate=P     Impairment.Duplicate
//	corrupt=P       Impairment.Corrupt
//	delay=D         Impairment.Delay, a Go duration ("2ms", "1.5s")
//	jitter=D        Impairment.Jitter
//	rate=R          Impairment.Rate: a number with a unit, bits per second
//	                as tc writes them (bit, kbit, mbit, gbit: "100kbit",
//	                "1mbit") or bytes per second (B/s, kB/s, MB/s, GB/s:
//	                "10kB/s"); multiples are decimal (k = 1000); "0" is
//	                unlimited
//	queue=N         Impairment.QueueLimit, in frames
//	partition       Impairment.Partition; also partition=true or false
//	none            nothing: a rule of only a target and none removes the
//	                target's impairment
//
// Keys are case-insensitive, and each may appear once per rule. An empty
// spec has no rules.
type ImpairSpec struct {
	Rules []ImpairRule
}

// ImpairRule impairs one target: the host named Host, the segment named
// Segment, or, when both are empty, every segment. At most one is set.
type ImpairRule struct {
	Host       string
	Segment    string
	Impairment Impairment
}

// ImpairSpecKeys lists the keys an impairment spec may use.
var ImpairSpecKeys = []string{"host", "segment", "loss", "delay", "jitter", "reorder", "duplicate", "corrupt", "rate", "queue", "partition", "none"}

// ImpairSpecError reports what is wrong in an impairment spec, and where.
type ImpairSpecError struct {
	Spec    string // the whole spec
	Offset  int    // byte offset in Spec of the item at fault
	Item    string // the item at fault, e.g. "delay=2xs"
	Key     string // its key, lower-cased, when there is one
	Problem string
}

func (e *ImpairSpecError) Error() string {
	return fmt.Sprintf("netsim: impairment spec %q: at column %d, %q: %s (valid keys: %s)",
		e.Spec, e.Offset+1, e.Item, e.Problem, strings.Join(ImpairSpecKeys, ", "))
}

// ParseImpairSpec parses an impairment specification (see ImpairSpec).
// Its errors are *ImpairSpecError.
func ParseImpairSpec(spec string) (ImpairSpec, error) {
	var out ImpairSpec
	off := 0
	for _, rule := range strings.Split(spec, ";") {
		if strings.TrimSpace(rule) != "" {
			r, err := parseImpairRule(spec, rule, off)
			if err != nil {
				return ImpairSpec{}, err
			}
			out.Rules = append(out.Rules, r)
		}
		off += len(rule) + 1
	}
	return out, nil
}

func parseImpairRule(spec, rule string, off int) (ImpairRule, error) {
	var r ImpairRule
	seen := map[string]bool{}
	for _, raw := range strings.Split(rule, ",") {
		item := strings.TrimSpace(raw)
		pos := off + strings.Index(raw, item)
		if item == "" {
			pos = off
		}
		off += len(raw) + 1
		fail := func(key, format string, args ...any) error {
			return &ImpairSpecError{Spec: spec, Offset: pos, Item: item, Key: key, Problem: fmt.Sprintf(format, args...)}
		}
		if item == "" {
			return r, fail("", "empty item")
		}
		key, value, hasValue := strings.Cut(item, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		if seen[key] {
			return r, fail(key, "%s given twice in one rule", key)
		}
		seen[key] = true
		if !hasValue && key != "partition" && key != "none" {
			if isImpairSpecKey(key) {
				return r, fail(key, "%s needs a value: %s=...", key, key)
			}
			return r, fail(key, "unknown key %q", key)
		}
		var err error
		imp := &r.Impairment
		switch key {
		case "host", "segment":
			if value == "" {
				return r, fail(key, "%s needs a name", key)
			}
			if r.Host != "" || r.Segment != "" {
				return r, fail(key, "a rule has one target, host or segment")
			}
			if key == "host" {
				r.Host = value
			} else {
				r.Segment = value
			}
		case "loss":
			imp.Loss, err = parseProbability(value)
		case "reorder":
			imp.Reorder, err = parseProbability(value)
		case "duplicate":
			imp.Duplicate, err = parseProbability(value)
		case "corrupt":
			imp.Corrupt, err = parseProbability(value)
		case "delay":
			imp.Delay, err = parseSpecDuration(value)
		case "jitter":
			imp.Jitter, err = parseSpecDuration(value)
		case "rate":
			imp.Rate, err = parseRate(value)
		case "queue":
			imp.QueueLimit, err = strconv.Atoi(value)
			if err == nil && imp.QueueLimit < 0 {
				err = fmt.Errorf("must not be negative")
			} else if err != nil {
				err = fmt.Errorf("want a number of frames")
			}
		case "partition":
			imp.Partition = true
			if hasValue {
				imp.Partition, err = parseSpecBool(value)
			}
		case "none":
			if hasValue {
				err = fmt.Errorf("none takes no value")
			}
		default:
			return r, fail(key, "unknown key %q", key)
		}
		if err != nil {
			return r, fail(key, "bad %s %q: %v", key, value, err)
		}
	}
	return r, nil
}

func isImpairSpecKey(key string) bool {
	for _, k := range ImpairSpecKeys {
		if k == key {
			return true
		}
	}
	return false
}

// parseProbability reads "2%" as 0.02 and "0.02" as 0.02.
func parseProbability(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("want a percentage like 2%% or a fraction like 0.02")
	case pct && !(v >= 0 && v <= 100):
		return 0, fmt.Errorf("must be in [0%%, 100%%]")
	case pct:
		return v / 100, nil
	case !(v >= 0 && v <= 1):
		return 0, fmt.Errorf("must be in [0, 1] (or a percentage, with %%)")
	}
	return v, nil
}

func parseSpecDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration like 2ms or 1.5s")
	}
	if d < 0 {
		return 0, fmt.Errorf("must not be negative")
	}
	return d, nil
}

// rateUnits are the units of rate=, lower-cased, in bytes per second; the
// longest suffixes come first so that "kbit" is not read as "bit".
var rateUnits = []struct {
	suffix string
	bytes  float64
}{
	{"gbit", 1e9 / 8}, {"mbit", 1e6 / 8}, {"kbit", 1e3 / 8}, {"bit", 1.0 / 8},
	{"gb/s", 1e9}, {"mb/s", 1e6}, {"kb/s", 1e3}, {"b/s", 1},
}

// parseRate reads a rate with its unit (see ImpairSpec) as bytes per second.
func parseRate(s string) (int64, error) {
	if s == "0" {
		return 0, nil
	}
	lower := strings.ToLower(s)
	for _, u := range rateUnits {
		num, ok := strings.CutSuffix(lower, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || v < 0 {
			break
		}
		b := v * u.bytes
		if b > 1<<62 {
			return 0, fmt.Errorf("too large")
		}
		if v > 0 && b < 1 {
			return 0, fmt.Errorf("below one byte per second")
		}
		return int64(b), nil
	}
	return 0, fmt.Errorf("want a number and a unit: bit, kbit, mbit, gbit (bits per second) or B/s, kB/s, MB/s, GB/s")
}

func parseSpecBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("want true or false")
}

// Apply applies the rules to w in order: World.ImpairHost for a host,
// World.ImpairSegment for a segment, World.ImpairSegments for every
// segment. Targets need not exist yet.
func (s ImpairSpec) Apply(w *World) error {
	for _, r := range s.Rules {
		var err error
		switch {
		case r.Host != "":
			err = w.ImpairHost(r.Host, r.Impairment)
		case r.Segment != "":
			err = w.ImpairSegment(r.Segment, r.Impairment)
		default:
			err = w.ImpairSegments(r.Impairment)
		}
		if err != nil {
			return fmt.Errorf("impairment rule %q: %w", r, err)
		}
	}
	return nil
}

// String returns the spec in the syntax ParseImpairSpec reads.
func (s ImpairSpec) String() string {
	rules := make([]string, len(s.Rules))
	for i, r := range s.Rules {
		rules[i] = r.String()
	}
	return strings.Join(rules, ";")
}

// String returns the rule in the syntax ParseImpairSpec reads.
func (r ImpairRule) String() string {
	imp := r.Impairment.String()
	switch {
	case r.Host != "":
		return "host=" + r.Host + "," + imp
	case r.Segment != "":
		return "segment=" + r.Segment + "," + imp
	}
	return imp
}
