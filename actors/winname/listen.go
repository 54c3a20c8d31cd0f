package winname

import (
	"net"

	"github.com/tlslab/tlslab/netsim"
)

// Listen opens the two sockets a Responder on h serves: UDP port 5355
// joined to the LLMNR group 224.0.0.252, and UDP port 137 on the wildcard
// address, which receives the subnet's broadcasts. On error nothing stays
// open.
func Listen(h *netsim.Host) (llmnr, nbns net.PacketConn, err error) {
	llmnr, err = h.ListenMulticastUDP(LLMNRGroup, LLMNRPort)
	if err != nil {
		return nil, nil, err
	}
	nbns, err = h.ListenPacket("udp", ":137")
	if err != nil {
		llmnr.Close()
		return nil, nil, err
	}
	return llmnr, nbns, nil
}
