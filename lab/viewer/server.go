package viewer

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tlslab/tlslab/lab"
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Catalog is what the server offers to browse and run.
	Catalog lab.Catalog
	// Files are scenario files, by the name they were given, with their
	// contents, shown as they are; their scenarios are in Catalog.
	Files []ScenarioFile
	// Runner runs each scenario; its PcapDir, KeyLogDir and Override are
	// replaced per run.
	Runner lab.Runner
	// Dir receives each run's capture and key log, one subdirectory per
	// run; it must exist. The server removes nothing: the caller owns Dir.
	Dir string
	// Host, when not "", is the only Host header the server answers
	// ("127.0.0.1:8080"), so a page elsewhere cannot reach it through a
	// name that resolves to the loopback address (DNS rebinding).
	Host string
}

// ScenarioFile is one scenario file the server shows.
type ScenarioFile struct {
	Name     string // the path it was given as
	Scenario string // the name of the scenario it defines
	Text     string
}

// Server serves the catalog for a class: a list of the scenarios and
// scenario files, and for each scenario a form of defense switches that
// runs it and shows its page (see Page) with the form above, so a switch
// changed and run again shows the verdict change. Every page is
// self-contained, as the files WritePage writes; the capture and key log
// of a run are served from Dir. Server is an http.Handler, safe for
// concurrent use; each request runs at most one scenario, in the
// request's goroutine, canceled with the request.
type Server struct {
	cfg  ServerConfig
	mu   sync.Mutex
	runs int // runs started, numbering their directories
}

// NewServer returns a Server for cfg.
func NewServer(cfg ServerConfig) *Server { return &Server{cfg: cfg} }

// ServeHTTP answers GET / (the catalog), /scenario?name=N (its form),
// /run?name=N&SWITCH=VALUE... (a run's page), /file?name=F (a scenario
// file) and /artifacts/RUN/FILE (a run's capture or key log).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Host != "" && r.Host != s.cfg.Host {
		http.Error(w, "tlslab serve answers only "+s.cfg.Host, http.StatusMisdirectedRequest)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "only GET", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case r.URL.Path == "/":
		s.catalog(w)
	case r.URL.Path == "/scenario":
		s.scenario(w, r, false)
	case r.URL.Path == "/run":
		s.scenario(w, r, true)
	case r.URL.Path == "/file":
		s.file(w, r)
	case strings.HasPrefix(r.URL.Path, "/artifacts/"):
		s.artifact(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Controls is the form above a served page: the scenario's defense
// switches, each set as the run had it, and a run button.
type Controls struct {
	Scenario string
	Switches []SwitchControl
	Ran      bool // the page below is a run with these settings
}

// SwitchControl is one switch of the form.
type SwitchControl struct {
	Name, Doc string
	Values    []string
	Value     string // as set for the run
	Declared  string // as the scenario declares it
}

// Changed reports a switch set away from the scenario's declaration.
func (c SwitchControl) Changed() bool { return c.Value != c.Declared }

type catalogView struct {
	Title     string
	Scenarios []lab.Scenario
	Files     []ScenarioFile
}

func (s *Server) catalog(w http.ResponseWriter) {
	s.render(w, "catalog", catalogView{Title: "tlslab — the catalog", Scenarios: s.cfg.Catalog, Files: s.cfg.Files})
}

func (s *Server) scenario(w http.ResponseWriter, r *http.Request, run bool) {
	q := r.URL.Query()
	sc, err := s.cfg.Catalog.Lookup(q.Get("name"))
	if err != nil {
		http.Error(w, strings.TrimPrefix(err.Error(), "lab: "), http.StatusNotFound)
		return
	}
	declared := sc.DefensesFor()
	d := declared
	ctl := &Controls{Scenario: sc.Name, Ran: run}
	for _, sw := range lab.Switches() {
		if v := q.Get(sw.Name); v != "" {
			if err := sw.Set(&d, v); err != nil {
				http.Error(w, strings.TrimPrefix(err.Error(), "lab: "), http.StatusBadRequest)
				return
			}
		}
	}
	for _, sw := range lab.Switches() {
		ctl.Switches = append(ctl.Switches, SwitchControl{Name: sw.Name, Doc: sw.Doc, Values: sw.Values, Value: sw.Value(d), Declared: sw.Value(declared)})
	}
	if !run {
		s.render(w, "page", &Page{Title: sc.Name + " — tlslab", Scenario: sc.Name, Summary: sc.Summary, Story: sc.Story, Attacker: sc.Attacker, Index: "/", Controls: ctl})
		return
	}
	page, err := s.run(r.Context(), sc, d)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	page.Controls = ctl
	s.render(w, "page", page)
}

// run runs sc with defenses d into a directory of its own.
func (s *Server) run(ctx context.Context, sc lab.Scenario, d lab.Defenses) (*Page, error) {
	s.mu.Lock()
	s.runs++
	n := s.runs
	s.mu.Unlock()
	sub := fmt.Sprintf("run-%d", n)
	dir := filepath.Join(s.cfg.Dir, sub)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("viewer: %w", err)
	}
	r := s.cfg.Runner
	r.Override = func(x *lab.Defenses) { *x = d }
	rec, err := Record(ctx, r, sc, dir)
	if err != nil {
		return nil, err
	}
	page := NewPage(rec, dir)
	for _, l := range []*string{&page.Pcap, &page.KeyLog} {
		if *l != "" {
			*l = "/artifacts/" + sub + "/" + *l
		}
	}
	page.Index = "/"
	return page, nil
}

func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	for _, f := range s.cfg.Files {
		if f.Name == name {
			s.render(w, "file", struct {
				Title string
				File  ScenarioFile
			}{f.Name + " — tlslab", f})
			return
		}
	}
	http.NotFound(w, r)
}

// artifact serves /artifacts/run-N/FILE from Dir, nothing else.
func (s *Server) artifact(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/artifacts/")
	sub, file, ok := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(sub, "run-") || file == "" || strings.ContainsAny(file, `/\`) || strings.HasPrefix(file, ".") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", file))
	http.ServeFile(w, r, filepath.Join(s.cfg.Dir, sub, file))
}

func (s *Server) render(w http.ResponseWriter, name string, data any) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'self'")
	w.Write(b.Bytes())
}
