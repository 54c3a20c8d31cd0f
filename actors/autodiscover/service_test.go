package autodiscover_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/autodiscover"
)

func TestServiceAnswers(t *testing.T) {
	h := service(t, "pool01.contoso.com")
	for _, tc := range []struct {
		method, url  string
		wantCode     int
		wantLocation string
	}{
		{"GET", "http://lyncdiscoverinternal.contoso.com/autodiscover/autodiscoverservice.svc/root", 200, "Internal"},
		{"GET", "https://lyncdiscover.contoso.com/Autodiscover/AutodiscoverService.svc/root/", 200, "External"},
		{"POST", "http://lyncdiscover.contoso.com/autodiscover/autodiscoverservice.svc/root", 405, ""},
		{"GET", "http://lyncdiscover.contoso.com/other", 404, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.url, nil))
		if rec.Code != tc.wantCode {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.url, rec.Code, tc.wantCode)
			continue
		}
		if tc.wantCode != http.StatusOK {
			continue
		}
		var root autodiscover.Root
		if err := json.Unmarshal(rec.Body.Bytes(), &root); err != nil {
			t.Fatal(err)
		}
		if root.AccessLocation != tc.wantLocation || root.SipServerInternalAccess.FQDN != "pool01.contoso.com" ||
			root.SipServerExternalAccess.Port != 443 || root.Links["xframe"].Href != "https://pool01.contoso.com/Autodiscover/XFrame/XFrame.html" {
			t.Errorf("%s: %s", tc.url, rec.Body)
		}
	}
	if _, err := autodiscover.NewService(autodiscover.ServiceConfig{SIPDomain: "contoso.com"}); err == nil {
		t.Error("NewService with no pool succeeded")
	}
}

// The user resource the root links answers the pools too; the service
// asks nobody to authenticate (deployments wrap it), and the path is
// matched without regard to case, as IIS does.
func TestServiceUserResource(t *testing.T) {
	svc, err := autodiscover.NewService(autodiscover.ServiceConfig{SIPDomain: "contoso.com", WebServices: "webint.contoso.com",
		Internal: autodiscover.PoolAccess{FQDN: "pool01.contoso.com", Port: 5061}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	svc.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://webint.contoso.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=contoso.com", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" ||
		strings.TrimSpace(rec.Body.String()) != `{"SipServerInternalAccess":{"fqdn":"pool01.contoso.com","port":5061}}` {
		t.Errorf("user resource: %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if autodiscover.UserPath != autodiscover.RootPath+"/oauth/user" {
		t.Errorf("UserPath %q", autodiscover.UserPath)
	}
}
