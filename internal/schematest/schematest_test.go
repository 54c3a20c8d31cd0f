package schematest

import (
	"strings"
	"testing"
)

// The schemas compile and reject what the formats forbid: a seed as a
// JSON number, a missing schema_version, an unknown baseline format.
func TestSchemasReject(t *testing.T) {
	for _, tc := range []struct{ schema, doc, want string }{
		{Results, `{"schema_version": "tlslab-results/1", "results": [], "summary": {"total": 0, "matched": 0, "differed": 0, "errors": 0, "ok": true}}`, ""},
		{Results, `{"results": [], "summary": {"total": 0, "matched": 0, "differed": 0, "errors": 0, "ok": true}}`, "schema_version"},
		{Matrix, `{"schema_version": "tlslab-matrix/1", "columns": ["hardened"], "rows": [{"scenario": "a/b", "cells": [{"column": "hardened", "applies": true, "differs": false, "verdict": "held", "outcome": "held (x)", "stopped_by": ["x"], "service": "intact", "main_evidence": "", "seed": 12648410257787539353}]}], "unaffected": [], "errors": 0, "findings": [], "decisive": [], "backups": []}`, "seed"},
		{Baseline, `{"format": "tlslab-baseline/1", "kind": "run", "outcomes": {}}`, "format"},
		{Baseline, `{"format": "tlslab-baseline/2", "kind": "run", "outcomes": {"a/b": {"verdict": "held", "stopped_by": [], "service": "intact"}}}`, ""},
	} {
		err := Check(tc.schema, []byte(tc.doc))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.schema, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one naming %s", tc.schema, err, tc.want)
		}
	}
}
