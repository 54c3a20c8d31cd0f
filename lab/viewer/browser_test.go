package viewer_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/viewer"
	"github.com/tlslab/tlslab/scenarios"
)

// chromiumPath finds Debian's chromium: skipped without it, except in CI
// (CI=true), where .ci/run installs it and its absence fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs Debian's chromium")
	}
	t.Skip("chromium is not installed (apt-get install chromium); the browser tests need it")
	return ""
}

// artifactDir is where a test leaves its pages and screenshots:
// $TLSLAB_ARTIFACTS/viewer/<test> when set, else a temporary directory.
// The path is logged.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if root := os.Getenv("TLSLAB_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, "viewer", t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("artifacts in %s", dir)
	return dir
}

// browser is a headless chromium that records every URL a page requests.
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	urls []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.WindowSize(1600, 1200),
		chromedp.Flag("disable-gpu", true))
	// A test that hangs in the browser fails after a minute instead.
	deadline, cancelDeadline := context.WithTimeout(context.Background(), time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc(); cancelDeadline() })
	b := &browser{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		var u string
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			u = e.Request.URL
		case network.EventRequestWillBeSent:
			u = e.Request.URL
		default:
			return
		}
		b.mu.Lock()
		b.urls = append(b.urls, u)
		b.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("watching chromium's requests: %v", err)
	}
	return b
}

func (b *browser) run(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// value runs one action and returns its value.
func value[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// onlyLocal requires every URL the pages requested to be a file: or data:
// URL, or one of origin's ("" for none): the pages load nothing else.
func (b *browser) onlyLocal(t *testing.T, origin string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.urls) == 0 {
		t.Fatal("no request was seen: the network was not watched")
	}
	for _, u := range b.urls {
		local := strings.HasPrefix(u, "file:") || strings.HasPrefix(u, "data:") || (origin != "" && strings.HasPrefix(u, origin+"/"))
		if !local {
			t.Errorf("the page requested %s: an external resource", u)
		}
	}
}

// screenshot saves what the window shows as name and the whole page as
// name with "-full" before its extension.
func screenshot(t *testing.T, b *browser, dir, name string) {
	t.Helper()
	full := strings.TrimSuffix(name, ".png") + "-full.png"
	for file, shot := range map[string]chromedp.Action[[]byte]{name: chromedp.CaptureScreenshot(), full: chromedp.FullScreenshot(100)} {
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, value(t, b, shot), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", path)
	}
}

func record(t *testing.T, name string, r lab.Runner, dir string) *viewer.Recording {
	t.Helper()
	s, err := scenarios.Catalog().Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := viewer.Record(context.Background(), r, s, dir)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func writeFile(t *testing.T, path string, write func(f *os.File) error) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func fileURL(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

// eventIndex is the index of the first event whose text starts with prefix.
func eventIndex(t *testing.T, rec *viewer.Recording, prefix string) int {
	t.Helper()
	for i, e := range rec.Events {
		if strings.HasPrefix(e.Text, prefix) {
			return i
		}
	}
	t.Fatalf("no event starts with %q", prefix)
	return -1
}

func TestPageInBrowser(t *testing.T) {
	b := newBrowser(t)
	dir := artifactDir(t)
	rec := record(t, "mitm/self-signed", lab.Runner{Seed: 11}, dir)
	page := filepath.Join(dir, viewer.PageFile(rec.Scenario.Name))
	writeFile(t, page, func(f *os.File) error { return viewer.WritePage(f, viewer.NewPage(rec, dir)) })
	index := filepath.Join(dir, "index.html")
	writeFile(t, index, func(f *os.File) error {
		return viewer.WriteIndex(f, viewer.NewIndex("tlslab run", []lab.Result{rec.Result}, viewer.PageFile))
	})

	b.run(t, chromedp.Navigate(fileURL(index)), chromedp.Click(chromedp.CSS(`a[href="mitm-self-signed.html"]`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.ladder`)))
	if arrows := value(t, b, chromedp.Evaluate[int](`document.querySelectorAll("svg.ladder .arrow").length`)); arrows != len(rec.Events) {
		t.Errorf("the ladder has %d arrows, want one per timeline event: %d", arrows, len(rec.Events))
	}

	// Clicking the ClientHello shows its bytes, annotated.
	hello := fmt.Sprintf("e%d", eventIndex(t, rec, "TLS ClientHello")+1)
	b.run(t, chromedp.Click(chromedp.CSS("#"+hello)), chromedp.WaitVisible(chromedp.CSS("#d-"+hello)))
	detail := value(t, b, chromedp.Text(chromedp.CSS("#d-"+hello)))
	for _, want := range []string{"record type", "22 (handshake)", "handshake type", "1 (ClientHello)", "cipher suites",
		"TLS_AES_128_GCM_SHA256", `SNI "pool01.contoso.com"`, "TLS 1.3", "0x0301 (TLS 1.0"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the ClientHello's detail lacks %q:\n%s", want, detail)
		}
	}
	screenshot(t, b, dir, "page-clienthello.png")

	// From the keyboard: Enter on the certificate shows it, decrypted with
	// the server's handshake secret; ArrowDown moves to the next arrow.
	ci := eventIndex(t, rec, "TLS Certificate (decrypted)")
	cert, next := fmt.Sprintf("e%d", ci+1), fmt.Sprintf("e%d", ci+2)
	b.run(t, chromedp.Focus(chromedp.CSS("#"+cert)), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#d-"+cert)))
	detail = value(t, b, chromedp.Text(chromedp.CSS("#d-"+cert)))
	for _, want := range []string{"decrypted with SERVER_HANDSHAKE_TRAFFIC_SECRET", "11 (Certificate)",
		"subject CN=pool01.contoso.com, issuer CN=pool01.contoso.com"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the Certificate's detail lacks %q:\n%s", want, detail)
		}
	}
	b.run(t, chromedp.KeyEvent(kb.ArrowDown), chromedp.WaitVisible(chromedp.CSS("#d-"+next)))
	if sel := value(t, b, chromedp.Evaluate[string](`document.querySelector("svg.ladder .arrow.selected").id`)); sel != next {
		t.Errorf("after ArrowDown the selected arrow is %q, want %q", sel, next)
	}
	screenshot(t, b, dir, "page-keyboard.png")
	b.onlyLocal(t, "")
}

func TestComparePageInBrowser(t *testing.T) {
	b := newBrowser(t)
	dir := artifactDir(t)
	declared := record(t, "mitm/self-signed", lab.Runner{Seed: 5}, dir)
	s := declared.Scenario
	s.Name += "-changed" // its capture and key log beside the declared run's
	changed, err := viewer.Record(context.Background(), lab.Runner{Seed: 5, Override: func(d *lab.Defenses) { d.ChainValidation = false }}, s, dir)
	if err != nil {
		t.Fatal(err)
	}
	changed.Scenario = declared.Scenario
	c := viewer.NewComparison(declared, changed, "chain-validation=off", dir)
	if !c.Differ() {
		t.Fatal("the runs with and without chain validation do not differ")
	}
	i, j := viewer.FirstDifference(declared.Events, changed.Events)
	page := filepath.Join(dir, "compare.html")
	writeFile(t, page, func(f *os.File) error { return viewer.WriteCompare(f, c) })

	b.run(t, chromedp.Navigate(fileURL(page)), chromedp.WaitVisible(chromedp.CSS(`#b-ladder`)))
	differs := value(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".arrow.differs")).map(a => a.id)`))
	want := []string{fmt.Sprintf("a-e%d", i+1), fmt.Sprintf("b-e%d", j+1)}
	if strings.Join(differs, " ") != strings.Join(want, " ") {
		t.Errorf("highlighted %v, want the first difference on each side %v", differs, want)
	}
	left := value(t, b, chromedp.TextContent(chromedp.CSS("#a-"+c.FirstLeft)))
	if !strings.Contains(left, "FIRST DIFFERENCE") || !strings.Contains(left, "certificate presented") {
		t.Errorf("the left run's first difference reads %q; want the certificate alice refused, marked", left)
	}
	// The two first differences face each other on one row.
	ly := value(t, b, chromedp.Evaluate[string](`document.querySelector("#a-`+c.FirstLeft+` .hit").getAttribute("y")`))
	ry := value(t, b, chromedp.Evaluate[string](`document.querySelector("#b-`+c.FirstRight+` .hit").getAttribute("y")`))
	if ly != ry {
		t.Errorf("the first differences sit at y %s and %s; want one row", ly, ry)
	}
	b.run(t, chromedp.Click(chromedp.CSS("#b-"+c.FirstRight)), chromedp.WaitVisible(chromedp.CSS("#b-d-"+c.FirstRight)))
	screenshot(t, b, dir, "compare.png")
	b.onlyLocal(t, "")
}

func TestServeInBrowser(t *testing.T) {
	b := newBrowser(t)
	dir := artifactDir(t)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = viewer.NewServer(viewer.ServerConfig{
		Catalog: scenarios.Catalog(), Dir: t.TempDir(), Host: srv.Listener.Addr().String(), Runner: lab.Runner{Seed: 3},
	})
	srv.Start()
	defer srv.Close()

	b.run(t, chromedp.Navigate(srv.URL+"/"), chromedp.Click(chromedp.CSS(`a[href="/scenario?name=mitm%2fself-signed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#run`)), chromedp.Click(chromedp.CSS(`#run`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.ladder`)))
	if badge := value(t, b, chromedp.Text(chromedp.CSS(`.verdict .badge`))); badge != "HELD (CHAIN-VALIDATION)" {
		t.Errorf("as declared the verdict shows %q, want HELD (CHAIN-VALIDATION)", badge)
	}
	screenshot(t, b, dir, "serve-declared.png")

	// Switch chain validation off, run again from the keyboard.
	b.run(t, chromedp.SetValue(chromedp.CSS(`#sw-chain-validation`), "off"),
		chromedp.Focus(chromedp.CSS(`#run`)), chromedp.KeyEvent(kb.Enter),
		// The new page marks the switch changed beside it (the old page's
		// help text names the mark too, so wait for it at the switch).
		chromedp.WaitVisible(chromedp.Search(`//label[select[@id="sw-chain-validation"]]/b[contains(text(), "changed")]`)))
	badge := value(t, b, chromedp.Text(chromedp.CSS(`.verdict .badge`)))
	sw := value(t, b, chromedp.Value(chromedp.CSS(`#sw-chain-validation`)))
	if badge != "BROKEN" || sw != "off" {
		t.Errorf("with chain-validation off the verdict shows %q and the switch %q; want BROKEN and off", badge, sw)
	}
	screenshot(t, b, dir, "serve-changed.png")
	b.onlyLocal(t, srv.URL)
}
