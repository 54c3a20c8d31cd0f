package autodiscover_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
