package sip_test

import (
	"reflect"
	"testing"

	"github.com/tlslab/tlslab/actors/sip"
)

// TestParseNTLMAuth reads MS-SIPAE header values as Lync clients and
// servers write them, and refuses what is not NTLM.
func TestParseNTLMAuth(t *testing.T) {
	tests := []struct {
		value   string
		want    sip.NTLMAuth
		wantErr string
	}{{
		value: `NTLM qop="auth", opaque="ACDC123", realm="SIP Communications Service", targetname="fe01.contoso.com", gssapi-data="TlRMTVNTUAABAAAA", version=4`,
		want: sip.NTLMAuth{QoP: "auth", Opaque: "ACDC123", Realm: sip.NTLMRealm, TargetName: "fe01.contoso.com",
			GSSAPIData: []byte("NTLMSSP\x00\x01\x00\x00\x00"), Version: 4},
	}, {
		// Signature parameters of later requests are ignored; names are
		// case-insensitive; tokens need no quotes; escapes are undone.
		value: `ntlm Realm="SIP \"Communications\" Service",crand="2f1a",cnum=1,response="0100",TargetName=fe01.contoso.com`,
		want:  sip.NTLMAuth{Realm: `SIP "Communications" Service`, TargetName: "fe01.contoso.com"},
	}, {
		value:   `Kerberos realm="SIP Communications Service", targetname="sip/fe01.contoso.com", version=4`,
		wantErr: `"Kerberos": not an NTLM credential or challenge`,
	}, {
		value:   `NTLM gssapi-data="not base64!", version=4`,
		wantErr: "gssapi-data is not base64: illegal base64 data at input byte 3",
	}, {
		value:   `NTLM realm="SIP Communications Service`,
		wantErr: "auth parameter realm: unterminated quoted string",
	}, {
		value:   `NTLM version=four`,
		wantErr: `version "four" is not a number`,
	}}
	for _, tt := range tests {
		got, err := sip.ParseNTLMAuth(tt.value)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseNTLMAuth(%s): %+v, %v; want error %q", tt.value, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseNTLMAuth(%s) = %+v, %v; want %+v", tt.value, got, err, tt.want)
		}
		if again, err := sip.ParseNTLMAuth(got.String()); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %s: %+v, %v", got, again, err)
		}
	}
}
