// Package report writes lab results for people and machines.
//
// Runs of scenarios ([]lab.Result) are written as an aligned table
// ([WriteTable]), JSON ([WriteJSON]), JUnit XML for CI test reporters
// ([WriteJUnit]) or a Markdown training handout ([WriteMarkdown]); a
// catalog as a listing ([WriteList]); one scenario before it runs, with
// its declared topology and defenses ([WriteShow]). A defense matrix
// (matrix.Result) is written as a terminal table ([WriteMatrixTable]),
// Markdown ([WriteMatrixMarkdown]) or JSON ([WriteMatrixJSON]).
//
//	results := lab.Runner{}.RunAll(ctx, picked)
//	report.WriteTable(os.Stdout, results)
//
// Every writer is a pure function of its arguments: it reads the results
// and scenarios it is given and decides nothing, so the same input gives
// the same bytes. Verdicts, decisive defenses and outcomes are those of
// lab.Result (Outcome, ExpectedOutcome, MainEvidence, StoppedBy) and the
// matrix's findings; text from scenarios and evidence is escaped for the
// format, never interpreted. JSON lists are [] when empty, never null, and
// strings are not HTML-escaped. Each writer returns the first write error.
//
// The JSON documents' field names and the layouts of the other formats are
// the contract (the CLI and the repository's goldens rely on them); the Go
// types behind them are not exported.
package report
