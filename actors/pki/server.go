package pki

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/crypto/ocsp"
)

// DefaultOCSPPath is where a RevocationServer always answers OCSP, besides
// the paths of its CAs' OCSP URLs.
const DefaultOCSPPath = "/ocsp"

// Media types of the revocation protocols (RFC 5280 section 4.2.1.13,
// RFC 6960 appendix A).
const (
	ContentTypeCRL          = "application/pkix-crl"
	ContentTypeOCSPRequest  = "application/ocsp-request"
	ContentTypeOCSPResponse = "application/ocsp-response"
)

// maxOCSPRequest bounds an OCSP request body; real ones are ~100 bytes.
const maxOCSPRequest = 64 << 10

// RevocationServer is an http.Handler publishing the revocation status of
// one or more CAs, as the "pki.contoso.com" host of an enterprise would:
//
//   - GET at the path of a CA's CRLURL returns the CA's current CRL
//     (see CA.CRL), Content-Type application/pkix-crl.
//   - OCSP (RFC 6960 appendix A) at DefaultOCSPPath and at the path of
//     every CA's OCSPURL: POST with the DER request as body, or GET with
//     the base64 request appended to the path. The CA named by the
//     request's issuer hashes answers, signing the response itself; a
//     request for a CA the server does not serve gets the "unauthorized"
//     error response, an unparsable one "malformedRequest", both with
//     HTTP 200 as responders do.
//
// Anything else is 404 (405 for a wrong method). The Host header is not
// checked. A RevocationServer is immutable after NewRevocationServer and
// safe for concurrent use; serve it inside the simulation with
// http.Server{Handler: s}.Serve(listener) on a netsim listener.
type RevocationServer struct {
	cas       []*CA
	crls      map[string]*CA // URL path -> CA
	ocspPaths []string       // without trailing slash, "" for the root
}

var _ http.Handler = (*RevocationServer)(nil)

// NewRevocationServer returns a server for cas. It fails when cas is empty,
// holds nil or the same CA twice, or two CAs publish CRLs at the same path.
func NewRevocationServer(cas ...*CA) (*RevocationServer, error) {
	if len(cas) == 0 {
		return nil, errors.New("pki: NewRevocationServer: no CAs to serve")
	}
	s := &RevocationServer{crls: make(map[string]*CA), ocspPaths: []string{DefaultOCSPPath}}
	for i, ca := range cas {
		if ca == nil {
			return nil, fmt.Errorf("pki: NewRevocationServer: CA %d is nil", i)
		}
		if slices.Contains(s.cas, ca) {
			return nil, fmt.Errorf("pki: NewRevocationServer: %s given twice", ca.name)
		}
		s.cas = append(s.cas, ca)
		if ca.crlURL != "" {
			p := urlPath(ca.crlURL)
			if other, dup := s.crls[p]; dup {
				return nil, fmt.Errorf("pki: NewRevocationServer: %s and %s both publish their CRL at %s", other.name, ca.name, p)
			}
			s.crls[p] = ca
		}
		if ca.ocspURL != "" {
			if p := strings.TrimSuffix(urlPath(ca.ocspURL), "/"); !slices.Contains(s.ocspPaths, p) {
				s.ocspPaths = append(s.ocspPaths, p)
			}
		}
	}
	return s, nil
}

// urlPath is the path of an http URL validated by checkHTTPURL, "/" when
// empty.
func urlPath(raw string) string {
	u, _ := url.Parse(raw)
	if u.Path == "" {
		return "/"
	}
	return u.Path
}

// ServeHTTP answers CRL and OCSP requests as described on RevocationServer.
func (s *RevocationServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if ca, ok := s.crls[p]; ok {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "CRLs are fetched with GET", http.StatusMethodNotAllowed)
			return
		}
		der, err := ca.CRL()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ContentTypeCRL)
		w.Write(der)
		return
	}
	for _, op := range s.ocspPaths {
		switch {
		case r.Method == http.MethodPost && (p == op || p == op+"/"):
			body, err := io.ReadAll(io.LimitReader(r.Body, maxOCSPRequest+1))
			if err != nil || len(body) > maxOCSPRequest {
				s.writeOCSP(w, ocsp.MalformedRequestErrorResponse)
				return
			}
			s.writeOCSP(w, s.answerOCSP(body))
			return
		case r.Method == http.MethodGet && strings.HasPrefix(p, op+"/") && len(p) > len(op)+1:
			der, err := decodeOCSPGet(p[len(op)+1:])
			if err != nil {
				s.writeOCSP(w, ocsp.MalformedRequestErrorResponse)
				return
			}
			s.writeOCSP(w, s.answerOCSP(der))
			return
		case p == op || p == op+"/":
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "OCSP requests are POSTed, or sent with GET as /path/<base64 request>", http.StatusMethodNotAllowed)
			return
		}
	}
	http.NotFound(w, r)
}

// decodeOCSPGet decodes the base64 request of an OCSP GET (RFC 6960
// appendix A.1); clients also use the URL-safe alphabet or drop padding.
func decodeOCSPGet(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if der, err := enc.DecodeString(s); err == nil {
			return der, nil
		}
	}
	return nil, errors.New("not base64")
}

// answerOCSP returns the DER response to a DER request.
func (s *RevocationServer) answerOCSP(der []byte) []byte {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse
	}
	for _, ca := range s.cas {
		if ca.isIssuerOf(req) {
			resp, err := ca.ocspResponse(req.SerialNumber, req.HashAlgorithm)
			if err != nil {
				return ocsp.InternalErrorErrorResponse
			}
			return resp
		}
	}
	return ocsp.UnauthorizedErrorResponse
}

func (s *RevocationServer) writeOCSP(w http.ResponseWriter, der []byte) {
	w.Header().Set("Content-Type", ContentTypeOCSPResponse)
	w.Write(der)
}
