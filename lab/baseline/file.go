package baseline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/internal/safefile"
	"github.com/tlslab/tlslab/lab"
)

// baselineFormat is the value of the "format" field this version writes and
// reads. Version 1 stored "verdict, service" strings without the defenses
// that stopped an attack; Read refuses it with a message that says
// how to rewrite it.
const (
	baselineFormat   = "tlslab-baseline/2"
	baselineFormatV1 = "tlslab-baseline/1"
)

// MarshalJSON writes the file format documented on Baseline (json.Marshal
// compacts it; Write keeps one cell per line).
func (b Baseline) MarshalJSON() ([]byte, error) {
	return b.file(), nil
}

// file is the baseline file's text: the format, the kind, then the cells
// sorted by name, one per line.
func (b Baseline) file() []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\n  \"format\": %s,\n  \"kind\": %s,\n", jsonString(baselineFormat), jsonString(string(b.Kind)))
	if len(b.Outcomes) == 0 {
		buf.WriteString("  \"outcomes\": {}\n}\n")
		return buf.Bytes()
	}
	buf.WriteString("  \"outcomes\": {\n")
	cells := slices.Sorted(maps.Keys(b.Outcomes))
	for i, name := range cells {
		fmt.Fprintf(&buf, "    %s: %s", jsonString(name), b.Outcomes[name].json())
		if i < len(cells)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("  }\n}\n")
	return buf.Bytes()
}

// json is the cell as one line of the file: {"verdict": "error"} for an
// error, else {"verdict": ..., "stopped_by": [...], "service": ...}.
func (c Cell) json() string {
	if c.Verdict == lab.Error {
		return `{"verdict": "error"}`
	}
	quoted := make([]string, len(c.StoppedBy))
	for i, d := range c.StoppedBy {
		quoted[i] = jsonString(d)
	}
	return fmt.Sprintf(`{"verdict": %s, "stopped_by": [%s], "service": %s}`,
		jsonString(string(c.Verdict)), strings.Join(quoted, ", "), jsonString(string(c.Service)))
}

// jsonString is s as a JSON string, without HTML escaping.
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// Write writes b to path in the format documented on Baseline: one
// cell per line, sorted by cell name. The file (mode 0644) is written
// under a temporary name in path's directory and renamed onto path when
// complete (see internal/safefile): path is either left as it was or
// replaced whole, and a symlink at path is replaced, not followed.
func Write(path string, b Baseline) error {
	if err := safefile.WriteFile(path, b.file(), 0o644); err != nil {
		return fmt.Errorf("writing the baseline: %w", err)
	}
	return nil
}
