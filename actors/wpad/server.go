package wpad

import (
	"net/http"
	"net/netip"
	"slices"
	"sync"
)

// DefaultPaths are the paths a PACServer answers by default: wpad.dat is
// what WPAD clients ask for, proxy.pac what configured clients often do.
var DefaultPaths = []string{"/wpad.dat", "/proxy.pac"}

// PACServerConfig declares a PAC file server.
type PACServerConfig struct {
	// Script is the PAC file served, as is (it is not compiled: a rogue
	// server may serve anything). Required.
	Script string
	// Paths are the paths answered; nil means DefaultPaths.
	Paths []string
}

// Fetch is one PAC file request a PACServer answered.
type Fetch struct {
	// From is the client's address and port.
	From netip.AddrPort
	// Host is the Host header asked ("wpad.contoso.com", or "wpad" after
	// LLMNR or NBT-NS).
	Host string
	// Path is the path asked.
	Path string
}

// PACServer is an http.Handler serving a PAC file with Content-Type
// application/x-ns-proxy-autoconfig, and recording who fetched it. It is
// safe for concurrent use.
type PACServer struct {
	cfg PACServerConfig

	mu      sync.Mutex
	fetches []Fetch // guarded by mu
}

var _ http.Handler = (*PACServer)(nil)

// NewPACServer returns the server for cfg; it fails with a *ConfigError
// when Script is empty.
func NewPACServer(cfg PACServerConfig) (*PACServer, error) {
	if cfg.Script == "" {
		return nil, &ConfigError{What: "PAC server", Problem: "PACServerConfig.Script is empty: give the PAC file to serve"}
	}
	if cfg.Paths == nil {
		cfg.Paths = DefaultPaths
	}
	cfg.Paths = slices.Clone(cfg.Paths)
	return &PACServer{cfg: cfg}, nil
}

// ServeHTTP answers GET and HEAD of the configured paths with the script
// (200), other paths with 404, other methods with 405. Each answered GET
// or HEAD is recorded.
func (s *PACServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !slices.Contains(s.cfg.Paths, r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	from, _ := netip.ParseAddrPort(r.RemoteAddr)
	s.mu.Lock()
	s.fetches = append(s.fetches, Fetch{From: from, Host: r.Host, Path: r.URL.Path})
	s.mu.Unlock()
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write([]byte(s.cfg.Script))
	}
}

// Fetches returns a copy of the requests answered so far, in order.
func (s *PACServer) Fetches() []Fetch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.fetches)
}
