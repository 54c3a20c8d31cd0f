package autodiscover

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
)

// RootPath is the path of the autodiscover root resource, as clients ask
// for it (IIS matches it case-insensitively, and so does Service).
const RootPath = "/autodiscover/autodiscoverservice.svc/root"

// Host name prefixes of the autodiscover service.
const (
	// InternalPrefix is the label internal clients ask first.
	InternalPrefix = "lyncdiscoverinternal"
	// ExternalPrefix is the label external clients (and internal ones
	// after the internal name failed) ask.
	ExternalPrefix = "lyncdiscover"
)

// WebNames returns the names a web certificate for the autodiscover
// service of domain must carry: lyncdiscoverinternal.<domain> and
// lyncdiscover.<domain>.
func WebNames(domain string) []string {
	d := normalize(domain)
	return []string{InternalPrefix + "." + d, ExternalPrefix + "." + d}
}

// PoolAccess is where clients reach a SIP pool.
type PoolAccess struct {
	// FQDN is the pool's (or Edge's) name, e.g. "pool01.contoso.com".
	FQDN string `json:"fqdn"`
	// Port is its SIP/TLS port, 5061 for a pool, 443 for an Edge.
	Port uint16 `json:"port"`
}

// Link is a HAL link of the root resource.
type Link struct {
	Href string `json:"href"`
}

// Root is the JSON document the root resource returns. Links is what
// Lync's service returns without authentication. The access fields are
// what Lync returns in the user resource (the XML elements
// SipServerInternalAccess and SipServerExternalAccess) after the client
// authenticated to the "user" link; this lab puts them in the root answer
// so that one unauthenticated GET carries the pool, which is exactly what
// an attacker answering the GET controls either way.
type Root struct {
	// AccessLocation is "Internal" or "External": which name the client
	// asked (lyncdiscoverinternal or not).
	AccessLocation string `json:"AccessLocation"`
	// Links holds "self", "user" and "xframe".
	Links map[string]Link `json:"_links"`
	// SipServerInternalAccess is the pool for internal clients.
	SipServerInternalAccess *PoolAccess `json:"SipServerInternalAccess,omitempty"`
	// SipServerExternalAccess is the pool (Edge) for external clients.
	SipServerExternalAccess *PoolAccess `json:"SipServerExternalAccess,omitempty"`
}

// ServiceConfig declares an autodiscover service.
type ServiceConfig struct {
	// SIPDomain is the domain served, e.g. "contoso.com". Required.
	SIPDomain string
	// WebServices is the host of the "user" and "xframe" links (the pool's
	// web services FQDN); empty means Internal.FQDN.
	WebServices string
	// Internal is the pool for internal clients; a zero FQDN leaves
	// SipServerInternalAccess out.
	Internal PoolAccess
	// External is the pool for external clients; a zero FQDN leaves
	// SipServerExternalAccess out.
	External PoolAccess
}

// Service answers the autodiscover root resource. It is safe for
// concurrent use; its configuration is fixed at NewService.
type Service struct {
	cfg ServiceConfig
}

var _ http.Handler = (*Service)(nil)

// NewService returns the service for cfg. It fails with a *ConfigError
// when SIPDomain is empty, or both pools are.
func NewService(cfg ServiceConfig) (*Service, error) {
	if normalize(cfg.SIPDomain) == "" {
		return nil, &ConfigError{What: "service", Problem: "ServiceConfig.SIPDomain is empty: give the SIP domain served, e.g. contoso.com"}
	}
	if cfg.Internal.FQDN == "" && cfg.External.FQDN == "" {
		return nil, &ConfigError{What: "service", Problem: "ServiceConfig has neither Internal nor External pool: clients would learn nothing"}
	}
	if cfg.WebServices == "" {
		cfg.WebServices = cfg.Internal.FQDN
		if cfg.WebServices == "" {
			cfg.WebServices = cfg.External.FQDN
		}
	}
	return &Service{cfg: cfg}, nil
}

// UserPath is the path of the user resource the root's "user" link names.
// Lync asks the client to authenticate there; the lab's deployments put
// NTLM in front of it (ntlm.Server.Wrap), the Service itself does not.
const UserPath = RootPath + "/oauth/user"

// serveUser answers the user resource: the pools, as JSON.
func (s *Service) serveUser(w http.ResponseWriter, r *http.Request) {
	var doc struct {
		SipServerInternalAccess *PoolAccess `json:"SipServerInternalAccess,omitempty"`
		SipServerExternalAccess *PoolAccess `json:"SipServerExternalAccess,omitempty"`
	}
	doc.SipServerInternalAccess, doc.SipServerExternalAccess = s.pools()
	writeJSON(w, r, doc)
}

// pools returns the configured pools, nil for a zero FQDN.
func (s *Service) pools() (internal, external *PoolAccess) {
	if s.cfg.Internal.FQDN != "" {
		in := s.cfg.Internal
		internal = &in
	}
	if s.cfg.External.FQDN != "" {
		ex := s.cfg.External
		external = &ex
	}
	return internal, external
}

// writeJSON answers doc as uncached JSON (the body only for GET).
func writeJSON(w http.ResponseWriter, r *http.Request, doc any) {
	body, err := json.Marshal(doc)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// ServeHTTP answers GET (and HEAD) of RootPath with the Root document as
// application/json, and of UserPath with the user resource (the pools);
// any other path is 404, any other method 405. The
// document's AccessLocation is "Internal" when the Host header names
// lyncdiscoverinternal.*, "External" otherwise; "self" echoes the scheme
// and host asked.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), UserPath) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.serveUser(w, r)
		return
	}
	if !strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), RootPath) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	location := "External"
	if strings.HasPrefix(strings.ToLower(host), InternalPrefix+".") {
		location = "Internal"
	}
	domain := normalize(s.cfg.SIPDomain)
	web := "https://" + normalize(s.cfg.WebServices)
	doc := Root{
		AccessLocation: location,
		Links: map[string]Link{
			"self":   {Href: scheme + "://" + host + "/Autodiscover/AutodiscoverService.svc/root?originalDomain=" + domain},
			"user":   {Href: web + "/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=" + domain},
			"xframe": {Href: web + "/Autodiscover/XFrame/XFrame.html"},
		},
	}
	doc.SipServerInternalAccess, doc.SipServerExternalAccess = s.pools()
	writeJSON(w, r, doc)
}

// normalize lower-cases a DNS name and drops its trailing dot.
func normalize(name string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
}
