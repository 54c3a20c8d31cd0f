package winname_test

import (
	"errors"
	"net/netip"
	"testing"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/winname"
)

var (
	fileservAddr = netip.MustParseAddr("10.0.0.20")
	attackerAddr = netip.MustParseAddr("10.0.0.66")
)

func newResponder(t *testing.T, cfg winname.ResponderConfig) *winname.Responder {
	t.Helper()
	r, err := winname.NewResponder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func llmnrQueryWire(t *testing.T, name string, qtype uint16, edit func(*miekg.Msg)) []byte {
	t.Helper()
	m := winname.NewLLMNRQuery(0x1234, name)
	m.Question[0].Qtype = qtype
	if edit != nil {
		edit(m)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAnswerLLMNR(t *testing.T) {
	own := newResponder(t, winname.ResponderConfig{Name: "fileserv", Addr: fileservAddr})
	poisoner := newResponder(t, winname.ResponderConfig{Addr: attackerAddr, Policy: winname.AnswerEveryName})
	for _, tc := range []struct {
		desc  string
		r     *winname.Responder
		query []byte
		want  netip.Addr // invalid: no answer
	}{
		{"own name", own, llmnrQueryWire(t, "fileserv", miekg.TypeA, nil), fileservAddr},
		{"own name, other case", own, llmnrQueryWire(t, "FILESERV", miekg.TypeA, nil), fileservAddr},
		{"own name, ANY", own, llmnrQueryWire(t, "fileserv", miekg.TypeANY, nil), fileservAddr},
		{"other name", own, llmnrQueryWire(t, "wpad", miekg.TypeA, nil), netip.Addr{}},
		{"AAAA", own, llmnrQueryWire(t, "fileserv", miekg.TypeAAAA, nil), netip.Addr{}},
		{"a response", own, llmnrQueryWire(t, "fileserv", miekg.TypeA, func(m *miekg.Msg) { m.Response = true }), netip.Addr{}},
		{"opcode 1", own, llmnrQueryWire(t, "fileserv", miekg.TypeA, func(m *miekg.Msg) { m.Opcode = 1 }), netip.Addr{}},
		{"garbage", own, []byte{1, 2, 3}, netip.Addr{}},
		{"poisoner, any name", poisoner, llmnrQueryWire(t, "wpad", miekg.TypeA, nil), attackerAddr},
		{"poisoner, FQDN", poisoner, llmnrQueryWire(t, "fileserv.contoso.com", miekg.TypeA, nil), attackerAddr},
	} {
		resp, name, ok := tc.r.AnswerLLMNR(tc.query)
		if ok != tc.want.IsValid() {
			t.Errorf("%s: answered %v, want %v", tc.desc, ok, tc.want.IsValid())
			continue
		}
		if !ok {
			continue
		}
		m := new(miekg.Msg)
		if err := m.Unpack(resp); err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		q := new(miekg.Msg)
		_ = q.Unpack(tc.query)
		if !m.Response || m.Id != 0x1234 || m.Authoritative || m.RecursionDesired || len(m.Question) != 1 ||
			m.Question[0] != q.Question[0] || len(m.Answer) != 1 {
			t.Errorf("%s: response\n%v", tc.desc, m)
			continue
		}
		a, _ := m.Answer[0].(*miekg.A)
		if a == nil || a.A.String() != tc.want.String() || a.Hdr.Ttl != winname.DefaultLLMNRTTL || a.Hdr.Name != q.Question[0].Name {
			t.Errorf("%s: answer %v, want %v", tc.desc, m.Answer[0], tc.want)
		}
		if name != q.Question[0].Name[:len(q.Question[0].Name)-1] {
			t.Errorf("%s: name %q", tc.desc, name)
		}
	}
}

func TestAnswerNBNS(t *testing.T) {
	own := newResponder(t, winname.ResponderConfig{Name: "fileserv", Addr: fileservAddr})
	poisoner := newResponder(t, winname.ResponderConfig{Addr: attackerAddr, Policy: winname.AnswerEveryName})
	query := func(name string, suffix byte, edit func(*winname.NBNSPacket)) []byte {
		p := winname.NewNBNSQuery(0x4242, winname.NetBIOSName{Name: name, Suffix: suffix})
		if edit != nil {
			edit(p)
		}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		desc  string
		r     *winname.Responder
		query []byte
		want  netip.Addr
	}{
		{"own name <00>", own, query("FILESERV", 0x00, nil), fileservAddr},
		{"own name <20>", own, query("FILESERV", 0x20, nil), fileservAddr},
		{"own name <1c> (a domain group)", own, query("FILESERV", 0x1c, nil), netip.Addr{}},
		{"other name", own, query("WPAD", 0x00, nil), netip.Addr{}},
		{"NBSTAT", own, query("FILESERV", 0x00, func(p *winname.NBNSPacket) { p.Questions[0].Type = winname.NBNSTypeNBSTAT }), netip.Addr{}},
		{"a response", own, query("FILESERV", 0x00, func(p *winname.NBNSPacket) { p.Flags |= winname.NBNSFlagResponse }), netip.Addr{}},
		{"registration opcode", own, query("FILESERV", 0x00, func(p *winname.NBNSPacket) { p.Flags |= 5 << 11 }), netip.Addr{}},
		{"poisoner, any name", poisoner, query("WPAD", 0x00, nil), attackerAddr},
		{"poisoner, <1c>", poisoner, query("CONTOSO", 0x1c, nil), attackerAddr},
	} {
		resp, name, ok := tc.r.AnswerNBNS(tc.query)
		if ok != tc.want.IsValid() {
			t.Errorf("%s: answered %v, want %v", tc.desc, ok, tc.want.IsValid())
			continue
		}
		if !ok {
			continue
		}
		p, err := winname.ParseNBNS(resp)
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		q, _ := winname.ParseNBNS(tc.query)
		if p.ID != 0x4242 || p.Flags != 0x8500 || len(p.Questions) != 0 || len(p.Answers) != 1 {
			t.Errorf("%s: response %+v", tc.desc, p)
			continue
		}
		a := p.Answers[0]
		if a.Name != q.Questions[0].Name || name != a.Name || len(a.Addrs) != 1 || a.Addrs[0] != tc.want || a.TTL != winname.DefaultNBNSTTL {
			t.Errorf("%s: answer %+v, want %v for %v", tc.desc, a, tc.want, q.Questions[0].Name)
		}
	}
}

func TestNewResponderRejects(t *testing.T) {
	var ce *winname.ConfigError
	for _, cfg := range []winname.ResponderConfig{
		{Name: "fileserv"}, // no address
		{Addr: fileservAddr},
		{Name: "fileserv", Addr: netip.MustParseAddr("::1")},
		{Name: "fileserv", Addr: fileservAddr, Policy: 7},
	} {
		if _, err := winname.NewResponder(cfg); !errors.As(err, &ce) {
			t.Errorf("NewResponder(%+v) = %v, want a *ConfigError", cfg, err)
		}
	}
}
