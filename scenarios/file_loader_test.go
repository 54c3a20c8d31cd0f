package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tlslab/tlslab/lab"
)

// A syntax error is reported where it is, not where the YAML library
// places it (the line before the enclosing mapping's, often a comment).
func TestFileSyntaxErrorPosition(t *testing.T) {
	comments := strings.Repeat("# a comment\n", 4)
	body := "name: training/x\nsummary: y\nattacker:\n  position: arp\n" + strings.Repeat("  # more\n", 20)
	for _, tc := range []struct {
		name, data string
		want       string
		libLine    int // the line the library's own message names (0: none)
	}{
		{"bad indentation after comments", comments + body + " expected: held\n",
			"x.yaml:29:2: invalid YAML: did not find expected key", 4},
		{"mapping value on a continuation line", comments + body + "  mode: terminate\n   certificate: x\n",
			"x.yaml:30:15: invalid YAML: mapping values are not allowed in this context", 30},
		{"character that starts no token", comments + body + "  mode: @x\n",
			"x.yaml:29:9: invalid YAML: found character that cannot start any token", 29},
		{"unclosed flow mapping", comments + body + "  certificate: {source: forged\nexpected: held\n",
			"x.yaml:29: invalid YAML: did not find expected ',' or '}' (a '{' on this line or above is not closed, or its entries are not separated by ',')", 28},
		{"unclosed quote", comments + "name: training/x\nsummary: 'y\nexpected: held\n",
			"x.yaml:6:10: invalid YAML: found unexpected end of stream (a quoted string that starts here is not closed)", 6},
		{"non-ASCII before the problem", "name: training/x\nsummary: {«été»: @x}\n",
			"x.yaml:2:18: invalid YAML: found character that cannot start any token", 2},
		{"unknown anchor", comments + "name: training/x\nsummary: *s\n",
			"x.yaml:6:10: invalid YAML: unknown anchor 's' referenced", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("x.yaml", []byte(tc.data))
			var fe *FileError
			if !errors.As(err, &fe) || fe.Error() != tc.want {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
			var n yaml.Node
			libLine, _ := splitYAMLError(yaml.Unmarshal([]byte(tc.data), &n))
			if libLine != tc.libLine {
				t.Errorf("the library names line %d, want %d (the case no longer shows what it did)", libLine, tc.libLine)
			}
		})
	}
}

// A syntax error at the end of a file of MaxScenarioFileSize-like length
// is found within the parse budget.
func TestFileSyntaxErrorLongFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: training/x\nstory: |\n")
	for b.Len() < 1<<20-100 {
		b.WriteString("  a line of the story that goes on\n")
	}
	lines := strings.Count(b.String(), "\n")
	b.WriteString("summary: y\n mode: x\n")
	_, err := ParseFile("x.yaml", []byte(b.String()))
	want := fmt.Sprintf("x.yaml:%d:6: invalid YAML: mapping values are not allowed in this context", lines+2)
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// boolFile is a scenario whose attacker is trusted_by_victim: TRUSTED and
// whose defense tls-only is TLSONLY.
func boolFile(trusted, tlsOnly string) string {
	return `name: training/bools
summary: x
attacker:
  position: arp
  certificate: {source: forged, issuer: mallory-root}
  trusted_by_victim: ` + trusted + `
defenses:
  tls-only: ` + tlsOnly + `
expected: broken
`
}

// Every boolean spelling is read where a boolean is expected; the field's
// own words silently, the YAML 1.1 ones with a note naming the word to
// write.
func TestFileBooleans(t *testing.T) {
	for _, tc := range []struct {
		trusted, tlsOnly string
		wantTrusted      bool
		wantTLSOnly      string
		notes            []string
	}{
		{"true", "on", true, "on", nil},
		{"True", "off", true, "off", nil},
		{`"TRUE"`, "false", true, "off", nil},
		{"yes", "no", true, "off", []string{
			`b.yaml:6:22: attacker.trusted_by_victim: "yes" read as true; write true ("yes" is a YAML 1.1 boolean)`,
			`b.yaml:8:13: defenses.tls-only: "no" read as off; write off ("no" is a YAML 1.1 boolean)`}},
		{"on", "Y", true, "on", []string{
			`b.yaml:6:22: attacker.trusted_by_victim: "on" read as true; write true ("on" is a YAML 1.1 boolean)`,
			`b.yaml:8:13: defenses.tls-only: "Y" read as on; write on ("Y" is a YAML 1.1 boolean)`}},
		{"OFF", "N", false, "off", []string{
			`b.yaml:6:22: attacker.trusted_by_victim: "OFF" read as false; write false ("OFF" is a YAML 1.1 boolean)`,
			`b.yaml:8:13: defenses.tls-only: "N" read as off; write off ("N" is a YAML 1.1 boolean)`}},
	} {
		t.Run(tc.trusted+"/"+tc.tlsOnly, func(t *testing.T) {
			s, notes, err := ParseFileNotes("b.yaml", []byte(boolFile(tc.trusted, tc.tlsOnly)))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range notes {
				got = append(got, n.String())
			}
			if !slices.Equal(got, tc.notes) {
				t.Errorf("notes\n got %q\nwant %q", got, tc.notes)
			}
			sw, _ := lab.SwitchNamed(lab.DefenseTLSOnly)
			if v := sw.Value(s.DefensesFor()); v != tc.wantTLSOnly {
				t.Errorf("tls-only %s, want %s", v, tc.wantTLSOnly)
			}
			// trusted_by_victim puts Mallory Root CA in alice's store,
			// which the scenario's description says.
			if trusted := strings.Contains(s.Story+s.Attacker, "trust"); trusted != tc.wantTrusted {
				t.Errorf("trusted %v, want %v (attacker %q)", trusted, tc.wantTrusted, s.Attacker)
			}
		})
	}
}

// renameFile is a scenario file that writes trusted and hostname-checking
// for trusted_by_victim and hostname-check.
const renameFile = `name: training/renamed
summary: x
attacker:
  position: arp
  certificate: {source: forged, issuer: mallory-root, valid_until: 30d}
  trusted: true
defenses:
  hostname-checking: off
expected: broken
`

// testRenamed is a rename table for the tests: no key has been renamed in
// the format yet.
var testRenamed = map[string]string{
	"attacker.trusted":                 "trusted_by_victim",
	"attacker.certificate.valid_until": "valid_for",
	"defenses.hostname-checking":       "hostname-check",
	"attacker.not_a_key":               "no_such_key", // a bad entry reads as unknown
}

// A renamed key is read under its new name, with a deprecation note naming
// the file, line, old and new name.
func TestFileRenamed(t *testing.T) {
	s, notes, err := parseFile("old.yaml", []byte(renameFile), testRenamed)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range notes {
		got = append(got, n.String())
	}
	want := []string{
		`old.yaml:5:55: attacker.certificate.valid_until: deprecated key "valid_until", renamed "valid_for"; read as attacker.certificate.valid_for (rename it in the file)`,
		`old.yaml:6:3: attacker.trusted: deprecated key "trusted", renamed "trusted_by_victim"; read as attacker.trusted_by_victim (rename it in the file)`,
		`old.yaml:8:3: defenses.hostname-checking: deprecated key "hostname-checking", renamed "hostname-check"; read as defenses.hostname-check (rename it in the file)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("notes\n got %q\nwant %q", got, want)
	}
	if diff := s.DefensesFor().Diff(lab.Hardened()); !slices.Equal(diff, []string{"hostname-check: on -> off"}) {
		t.Errorf("defenses changed %q, want hostname-check off", diff)
	}
	if !strings.Contains(s.Story+s.Attacker, "trust") {
		t.Errorf("attacker %q: trusted was not read as trusted_by_victim", s.Attacker)
	}
	// The same file is refused without the renames.
	_, err = ParseFile("old.yaml", []byte(renameFile))
	if err == nil || !strings.HasPrefix(err.Error(), `old.yaml:8:3: defenses.hostname-checking: unknown key "hostname-checking"`) {
		t.Errorf("without renames: got %v", err)
	}
}

// Writing a key under both its names is an error, whichever comes first;
// a rename to a key the mapping does not have is no rename.
func TestFileRenamedConflicts(t *testing.T) {
	for _, tc := range []struct{ name, attacker, want string }{
		{"old after new", "  trusted_by_victim: true\n  trusted: true\n",
			`c.yaml:7:3: attacker.trusted: "trusted" is the old name of "trusted_by_victim", which is already set on line 6; remove this one`},
		{"new after old", "  trusted: true\n  trusted_by_victim: true\n",
			`c.yaml:7:3: attacker.trusted_by_victim: already set on line 6 under its old name "trusted"; remove that one`},
		{"bad table entry", "  not_a_key: true\n",
			`c.yaml:6:3: attacker.not_a_key: unknown key "not_a_key"; valid keys here: ` + joinComma(fileAttackKeys) + ` (did you mean "stolen_key"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := "name: training/c\nsummary: x\nattacker:\n  position: arp\n  certificate: {source: forged, issuer: mallory-root}\n" + tc.attacker + "expected: broken\n"
			_, notes, err := parseFile("c.yaml", []byte(data), testRenamed)
			if err == nil || err.Error() != tc.want || notes != nil {
				t.Errorf("got %v, notes %v\nwant %s", err, notes, tc.want)
			}
		})
	}
}

// Every entry of fileRenamed renames an old key, no longer valid, to a key
// of the same mapping.
func TestFileRenamedTable(t *testing.T) {
	keys := map[string][]string{
		"": fileKeys, "attacker": fileAttackKeys, "attacker.certificate": fileCertKeys, "defenses": lab.DefenseNames(),
	}
	for old, renamed := range fileRenamed {
		parent, key := "", old
		if i := strings.LastIndex(old, "."); i >= 0 {
			parent, key = old[:i], old[i+1:]
		}
		known, ok := keys[parent]
		switch {
		case !ok:
			t.Errorf("fileRenamed[%q]: mapping %q is not one this test knows; add its keys to the test", old, parent)
		case slices.Contains(known, key):
			t.Errorf("fileRenamed[%q]: %q is still a key of %q", old, key, parent)
		case !slices.Contains(known, renamed):
			t.Errorf("fileRenamed[%q] = %q, which is not a key of %q (%s)", old, renamed, parent, joinComma(known))
		}
	}
}

// ParseFile gives the scenario ParseFileNotes gives, without the notes.
func TestFileParseFileDropsNotes(t *testing.T) {
	data := []byte(boolFile("yes", "on"))
	s1, err1 := ParseFile("b.yaml", data)
	s2, notes, err2 := ParseFileNotes("b.yaml", data)
	if err1 != nil || err2 != nil || len(notes) != 1 || s1.Name != s2.Name || s1.Attacker != s2.Attacker {
		t.Fatalf("ParseFile %v, ParseFileNotes %v with %d notes", err1, err2, len(notes))
	}
}
