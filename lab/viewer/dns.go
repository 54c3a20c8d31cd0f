package viewer

import (
	"fmt"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// dnsUnit annotates a DNS message: header, question and answers.
func dnsUnit(b []byte) (Unit, bool) {
	var m layers.DNS
	if err := m.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return Unit{}, false
	}
	u := Unit{Bytes: b}
	kind := "query"
	if m.QR {
		kind = "answer"
	}
	u.add(0, 2, "DNS transaction ID", fmt.Sprintf("0x%04x (an off-path spoofer must guess it)", m.ID))
	u.add(2, 2, "DNS flags", fmt.Sprintf("%s, opcode %v, rcode %v", kind, m.OpCode, m.ResponseCode))
	u.add(4, 8, "DNS counts", fmt.Sprintf("%d question, %d answer, %d authority, %d additional", m.QDCount, m.ANCount, m.NSCount, m.ARCount))
	var q string
	if len(m.Questions) > 0 {
		q = fmt.Sprintf("%s %v", m.Questions[0].Name, m.Questions[0].Type)
		u.add(12, len(m.Questions[0].Name)+2+4, "DNS question", q)
	}
	var answers []string
	for _, a := range m.Answers {
		answers = append(answers, dnsAnswer(a))
	}
	if len(answers) > 0 {
		off := 12 + len(m.Questions[0].Name) + 2 + 4
		u.add(off, len(b)-off, "DNS answers", strings.Join(answers, "; "))
	}
	u.Title = kind + " " + q
	if m.QR {
		u.Title += ": " + m.ResponseCode.String()
	}
	return u, true
}

func dnsAnswer(a layers.DNSResourceRecord) string {
	switch a.Type {
	case layers.DNSTypeA, layers.DNSTypeAAAA:
		return fmt.Sprintf("%s %v %v", a.Name, a.Type, a.IP)
	case layers.DNSTypeSRV:
		return fmt.Sprintf("%s SRV %d %d %d %s", a.Name, a.SRV.Priority, a.SRV.Weight, a.SRV.Port, a.SRV.Name)
	case layers.DNSTypeCNAME:
		return fmt.Sprintf("%s CNAME %s", a.Name, a.CNAME)
	}
	return fmt.Sprintf("%s %v", a.Name, a.Type)
}
