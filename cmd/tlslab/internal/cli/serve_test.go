package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestServeRefusesOtherAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", "localhost:8080", "[::1]:8080", "10.0.0.1:80", ":8080"} {
		t.Run(addr, func(t *testing.T) {
			o := run(withWire(), "serve", "--addr", addr)
			usage("tlslab help serve", "serve listens on 127.0.0.1 only", "--addr \""+addr+"\"")(t, o)
		})
	}
	usage("tlslab help serve", `invalid --addr "127.0.0.1"`)(t, run(withWire(), "serve", "--addr", "127.0.0.1"))
}

// serveForTest starts 'tlslab serve' on a free port and returns its base
// URL and a function that stops it and returns its exit code.
func serveForTest(t *testing.T, args ...string) (base string, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	var stderr strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), outW, &stderr, Lab{Catalog: withWire()})
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed no address: %v (exit %d, stderr %s)", err, <-code, stderr.String())
	}
	go io.Copy(io.Discard, outR)
	const prefix = "tlslab: serving "
	if !strings.HasPrefix(line, prefix) {
		cancel()
		t.Fatalf("serve's first line %q does not start with %q", line, prefix)
	}
	base = strings.TrimSuffix(strings.Fields(strings.TrimPrefix(line, prefix))[0], "/")
	return base, func() (int, string) { cancel(); return <-code, stderr.String() }
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// serve answers on 127.0.0.1, runs a scenario with the switches given,
// and stops cleanly when its context ends (TestMain checks for leaks).
func TestServe(t *testing.T) {
	base, stop := serveForTest(t)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("serving %q, want http://127.0.0.1:PORT", base)
	}
	code, body := get(t, base+"/")
	if code != http.StatusOK || !strings.Contains(body, `href="/scenario?name=baseline%2farp"`) {
		t.Errorf("GET /: %d, want 200 and a link to baseline/arp:\n%.400s", code, body)
	}
	code, body = get(t, base+"/run?name=baseline/arp&arp-policy=static-only")
	if code != http.StatusOK || !strings.Contains(body, ">PASSED<") || !strings.Contains(body, `<option value="static-only" selected>`) {
		t.Errorf("GET /run: %d, want 200, PASSED and the switch as set:\n%.400s", code, body)
	}
	if code, _ := get(t, base+"/run?name=baseline/arp&arp-policy=sometimes"); code != http.StatusBadRequest {
		t.Errorf("a bad switch value: %d, want 400", code)
	}
	if code, _ := get(t, base+"/run?name=nope"); code != http.StatusNotFound {
		t.Errorf("an unknown scenario: %d, want 404", code)
	}
	if exit, stderr := stop(); exit != ExitOK || !strings.Contains(stderr, "tlslab: stopped serving") {
		t.Errorf("stopping serve: exit %d, stderr %q; want 0 and 'stopped serving'", exit, stderr)
	}
}
