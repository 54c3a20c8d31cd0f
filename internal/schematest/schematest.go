// Package schematest validates JSON documents the tools write against the
// JSON Schemas (draft 2020-12) published in docs/schema, so tests check real
// output, not a hand-written copy of the format.
package schematest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema files in docs/schema, by the document they describe.
const (
	Results  = "results.schema.json"  // tlslab run --format json
	Matrix   = "matrix.schema.json"   // tlslab matrix --format json
	Baseline = "baseline.schema.json" // --update-baseline files
)

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// Validate fails t unless data is one JSON document valid against the
// schema docs/schema/name; the message names the schema, every violation
// with its JSON pointer, and the document.
func Validate(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := Check(name, data); err != nil {
		t.Errorf("%v\ndocument:\n%s", err, data)
	}
}

// Check is Validate returning the problem as an error: a schema that
// cannot be found or compiled, data that is not JSON, or the violations.
func Check(name string, data []byte) error {
	sch, err := schema(name)
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("invalid against docs/schema/%s: %v", name, err)
	}
	return nil
}

// schema compiles docs/schema/name once.
func schema(name string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[name]; ok {
		return s, nil
	}
	dir, err := schemaDir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(path, doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, err := c.Compile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	compiled[name] = s
	return s, nil
}

// schemaDir is docs/schema of the module that holds the working directory:
// the first ancestor with a go.mod.
func schemaDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "docs", "schema"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: cannot find docs/schema")
		}
		dir = parent
	}
}
