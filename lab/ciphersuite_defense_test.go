package lab_test

import (
	"crypto/tls"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// A refused suite is credited to the switch that leaves it out, and to
// none when no switch ever allows it.
func TestCipherSuiteDefense(t *testing.T) {
	tests := []struct {
		suite uint16
		want  string
	}{
		{tls.TLS_RSA_WITH_AES_128_CBC_SHA, lab.DefenseForwardSecrecyOnly},
		{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, lab.DefenseForwardSecrecyOnly},
		{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, lab.DefenseMinTLSVersion},
		{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, ""},
		{tls.TLS_RSA_WITH_RC4_128_SHA, ""},
		{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ""}, // always allowed: never refused
	}
	for _, tt := range tests {
		got, ok := lab.CipherSuiteDefense(tt.suite)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: %q, %v; want %q", tls.CipherSuiteName(tt.suite), got, ok, tt.want)
		}
	}
}
