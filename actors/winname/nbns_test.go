package winname_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/tlslab/tlslab/actors/winname"
)

// The query a Windows B node broadcasts for FILESERV<00>, byte by byte
// (RFC 1002 4.2.12; first-level encoding per RFC 1001 14.1).
const fileservQueryHex = "abcd" + "0110" + "0001" + "0000" + "0000" + "0000" +
	"20" + "4547454a454d45464644454646434647434143414341434143414341434141" + "41" + "00" +
	"0020" + "0001"

func TestNBNSQueryWire(t *testing.T) {
	name, ok := winname.NetBIOSNameFor("fileserv", winname.SuffixWorkstation)
	if !ok {
		t.Fatal("fileserv does not fit a NetBIOS name")
	}
	got, err := winname.NewNBNSQuery(0xabcd, name).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString(fileservQueryHex)
	if !bytes.Equal(got, want) {
		t.Fatalf("query:\n got %x\nwant %x", got, want)
	}
	if s := name.String(); s != "FILESERV<00>" {
		t.Errorf("name.String() = %q", s)
	}
	p, err := winname.ParseNBNS(got)
	if err != nil {
		t.Fatal(err)
	}
	want2 := &winname.NBNSPacket{ID: 0xabcd, Flags: winname.NBNSFlagRecursion | winname.NBNSFlagBroadcast,
		Questions: []winname.NBNSQuestion{{Name: name, Type: winname.NBNSTypeNB, Class: winname.NBNSClassIN}}}
	if !reflect.DeepEqual(p, want2) {
		t.Errorf("parsed %+v, want %+v", p, want2)
	}
}

func TestNBNSPositiveResponseRoundTrip(t *testing.T) {
	name := winname.NetBIOSName{Name: "FILESERV", Suffix: winname.SuffixFileServer, Scope: "corp.example"}
	q := winname.NewNBNSQuery(7, name)
	resp := winname.NewNBNSPositiveResponse(q, netip.MustParseAddr("10.0.0.20"), winname.DefaultNBNSTTL)
	wire, err := resp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// header: ID 7, flags R|AA|RD = 0x8500, no question, one answer
	if h := hex.EncodeToString(wire[:12]); h != "000785000000000100000000" {
		t.Errorf("header %s", h)
	}
	// the record ends with TTL 300000, RDLENGTH 6, NB_FLAGS 0, 10.0.0.20
	if tail := hex.EncodeToString(wire[len(wire)-16:]); tail != "00200001"+"000493e0"+"0006"+"0000"+"0a000014" {
		t.Errorf("record tail %s", tail)
	}
	p, err := winname.ParseNBNS(wire)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, resp) {
		t.Errorf("parsed %+v, want %+v", p, resp)
	}
	if !p.Response() || p.Opcode() != 0 || p.Rcode() != 0 {
		t.Errorf("Response %v Opcode %d Rcode %d", p.Response(), p.Opcode(), p.Rcode())
	}
}

func TestNetBIOSNameFor(t *testing.T) {
	for _, tc := range []struct {
		host string
		want string // "" when it does not fit
	}{
		{"fileserv", "FILESERV<20>"},
		{"FileServ.", "FILESERV<20>"},
		{"wpad", "WPAD<20>"},
		{"exactly15chars_", "EXACTLY15CHARS_<20>"},
		{"sixteen_chars_xx", ""},
		{"fileserv.contoso.com", ""},
		{"", ""},
		{"two words", ""},
	} {
		n, ok := winname.NetBIOSNameFor(tc.host, winname.SuffixFileServer)
		got := ""
		if ok {
			got = n.String()
		}
		if got != tc.want {
			t.Errorf("NetBIOSNameFor(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func TestParseNBNSRejects(t *testing.T) {
	good, _ := hex.DecodeString(fileservQueryHex)
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"short header":      good[:11],
		"truncated name":    good[:30],
		"bad letter":        mutate(func(b []byte) []byte { b[13] = 'Z'; return b }),
		"label not 32":      mutate(func(b []byte) []byte { b[12] = 31; return b }),
		"trailing bytes":    append(bytes.Clone(good), 0),
		"missing qtype":     good[:len(good)-2],
		"additional record": mutate(func(b []byte) []byte { b[11] = 1; return b }),
		"compression ptr":   mutate(func(b []byte) []byte { b[45] = 0xc0; return b }),
	} {
		if _, err := winname.ParseNBNS(b); !errors.Is(err, winname.ErrNBNSMalformed) {
			t.Errorf("%s: err = %v, want ErrNBNSMalformed", name, err)
		}
	}
	if _, err := (&winname.NBNSPacket{Questions: []winname.NBNSQuestion{{Name: winname.NetBIOSName{Name: "SIXTEEN_CHARS_XX"}}}}).Marshal(); err == nil {
		t.Error("Marshal accepted a 16-character name")
	}
}
