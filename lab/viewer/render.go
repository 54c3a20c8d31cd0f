package viewer

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/tlslab/tlslab/lab"
)

var (
	//go:embed assets/page.tmpl
	pageTemplate string
	//go:embed assets/style.css
	styleCSS string
	//go:embed assets/viewer.js
	viewerJS string
)

// ladderBlock is what the ladder and details templates draw: one run's
// ladder and details, with the prefix of their element ids (two ladders
// share a comparison page) and the id of the details panel.
type ladderBlock struct {
	Prefix, Panel string
	Ladder        Ladder
	Details       []Detail
}

var templates = template.Must(template.New("viewer").Funcs(template.FuncMap{
	"css":   func() template.CSS { return template.CSS(styleCSS) },
	"js":    func() template.JS { return template.JS(viewerJS) },
	"add":   func(a, b int) int { return a + b },
	"sub":   func(a, b int) int { return a - b },
	"upper": strings.ToUpper,
	"join":  strings.Join,
	"clip": func(s string, n int) string {
		if r := []rune(s); len(r) > n {
			return string(r[:n-1]) + "…"
		}
		return s
	},
	"ladderOf": func(prefix, panel string, l Ladder, d []Detail) ladderBlock {
		return ladderBlock{Prefix: prefix, Panel: panel, Ladder: l, Details: d}
	},
}).Parse(pageTemplate))

// WritePage writes p as one self-contained HTML page.
func WritePage(w io.Writer, p *Page) error {
	return templates.ExecuteTemplate(w, "page", p)
}

// Index is the page linking every scenario page of a run.
type Index struct {
	Title   string
	Summary string // "53 matched, 0 differed, 0 errors"
	Rows    []IndexRow
	// Matrix links to the matrix page; "" for none.
	Matrix string
}

// IndexRow is one scenario of an Index.
type IndexRow struct {
	Name, Link                          string
	Verdict, Outcome, Expected, Service string
	Match                               bool
	Main                                string
}

// NewIndex builds the index of results, linking each to link(name).
func NewIndex(title string, results []lab.Result, link func(scenario string) string) *Index {
	ix := &Index{Title: title}
	for _, r := range results {
		ix.Rows = append(ix.Rows, IndexRow{Name: r.Scenario, Link: link(r.Scenario), Verdict: string(r.Verdict),
			Outcome: r.Outcome(), Expected: r.ExpectedOutcome(), Service: string(r.Service), Match: r.OK, Main: r.MainEvidence()})
	}
	s := lab.Summarize(results)
	ix.Summary = fmt.Sprintf("%d matched, %d differed, %d errors", s.Matched, s.Differed, s.Errors)
	return ix
}

// WriteIndex writes ix as one self-contained HTML page.
func WriteIndex(w io.Writer, ix *Index) error {
	return templates.ExecuteTemplate(w, "index", ix)
}

// PageFile is the file name of a scenario's page: "mitm-self-signed.html",
// named as the Runner names its artifacts.
func PageFile(scenario string) string {
	return strings.ReplaceAll(scenario, "/", "-") + ".html"
}
