package tcpstream

import (
	"net/netip"
	"testing"
)

func TestKeyOfSharedByBothDirections(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.2:49152")
	b := netip.MustParseAddrPort("10.0.0.5:443")
	ka, da := KeyOf(a, b)
	kb, db := KeyOf(b, a)
	if ka != kb || da != 0 || db != 1 {
		t.Fatalf("KeyOf(a,b) = %v %d, KeyOf(b,a) = %v %d", ka, da, kb, db)
	}
	if ka.Sender(da) != a || ka.Sender(db) != b {
		t.Errorf("Sender: %v %v", ka.Sender(da), ka.Sender(db))
	}
}
