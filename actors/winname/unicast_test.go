package winname_test

import (
	"slices"
	"testing"

	"github.com/tlslab/tlslab/actors/winname"
)

// NetQuerierConfig.Broadcast may name one host: the NBNS query then goes
// to it by unicast (as to a WINS server), and its responder answers.
func TestNBNSUnicastOverNetsim(t *testing.T) {
	l := newLAN(t, lanConfig{})
	fs := respond(t, l.fs, winname.ResponderConfig{Name: "fileserv", Addr: fileservAddr})
	r := l.resolver(t, false, true, winname.NetQuerierConfig{Broadcast: fileservAddr})
	addrs, err := r.LookupNetIP(t.Context(), "ip4", "fileserv")
	if err != nil || len(addrs) != 1 || addrs[0] != fileservAddr {
		t.Fatalf("LookupNetIP = %v, %v", addrs, err)
	}
	want := []string{"DNS fileserv.contoso.com: dns: lookup fileserv.contoso.com: no such host", "NBT-NS FILESERV<00>: [10.0.0.20] from 10.0.0.20:137"}
	if got := stepStrings(r.Steps()); !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
	if a := fs.Answers(); len(a) != 1 || a[0].String() != "NBT-NS answer to "+a[0].To.String()+": FILESERV<00> is 10.0.0.20" || a[0].To.Addr() != clientAddr {
		t.Errorf("answers %v", a)
	}
}
