package attacker

import (
	"net"

	"github.com/tlslab/tlslab/netsim"
)

// The pieces fit the interfaces they are used through.
var (
	_ netsim.Tap   = (*PositionMonitor)(nil)
	_ netsim.Tap   = (*StreamCapture)(nil)
	_ netsim.Tap   = (*KeyEavesdropper)(nil)
	_ Dialer       = (*netsim.Host)(nil)
	_ Dialer       = (*net.Dialer)(nil)
	_ VictimSide   = VictimTLS{}
	_ VictimSide   = VictimPlain{}
	_ VictimSide   = VictimRefuse{}
	_ UpstreamSide = UpstreamTLS{}
	_ UpstreamSide = UpstreamPlain{}
	_ UpstreamSide = SIPResponder{}
)
