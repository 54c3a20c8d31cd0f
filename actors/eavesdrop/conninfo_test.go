package eavesdrop_test

import (
	"testing"

	"github.com/tlslab/tlslab/actors/eavesdrop"
)

// TestConnInfoOnlyTLS: the tap claims a connection carried only TLS
// records when, and only when, every byte it captured of it lies in one.
func TestConnInfoOnlyTLS(t *testing.T) {
	// record is a TLS record of type typ with an n-byte body.
	record := func(typ byte, n int) []byte {
		return append([]byte{typ, 3, 3, byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	hello := record(22, 40)
	appData := record(23, 30)
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	for _, tt := range []struct {
		name         string
		client, serv []byte
		drop         int // drop the client's segment at this index (a gap); -1 none
		max          int // Config.MaxStreamBytes
		onlyTLS      bool
	}{
		{name: "records both ways", client: cat(hello, appData), serv: cat(record(22, 60), appData), drop: -1, onlyTLS: true},
		{name: "last record cut off where the capture ends", client: cat(hello, appData[:12]), serv: appData, drop: -1, onlyTLS: true},
		{name: "plaintext after the records", client: cat(hello, []byte("MSG canary\n")), serv: appData, drop: -1},
		{name: "plaintext only", client: []byte("MSG canary\n"), serv: []byte("OK\n"), drop: -1},
		{name: "client's first record is not a handshake", client: appData, serv: appData, drop: -1},
		{name: "server sends a stray byte", client: hello, serv: cat(appData, []byte{0}), drop: -1},
		{name: "bytes behind a gap", client: cat(hello, appData, appData), serv: appData, drop: 1},
		{name: "more than MaxStreamBytes", client: cat(hello, appData), serv: appData, drop: -1, max: 50},
		{name: "the client sent nothing", serv: cat(hello, appData), drop: -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTCPConn(alice, pool, 100, 5000)
			tc.mss = 40
			segs := tc.handshake()
			cs := tc.send(true, tt.client)
			if tt.drop >= 0 {
				cs = append(cs[:tt.drop:tt.drop], cs[tt.drop+1:]...)
			}
			segs = append(segs, cs...)
			segs = append(segs, tc.send(false, tt.serv)...)
			e := eavesdrop.New(eavesdrop.Config{MaxStreamBytes: tt.max})
			for _, f := range frames(t, segs) {
				e.ObserveFrame(epoch, f)
			}
			r := e.Report(nil)
			if len(r.Conns) != 1 {
				t.Fatalf("Conns = %+v, want one", r.Conns)
			}
			got := r.Conns[0]
			if got.OnlyTLS != tt.onlyTLS {
				t.Errorf("OnlyTLS = %v, want %v", got.OnlyTLS, tt.onlyTLS)
			}
			if got.Client != alice || got.Server != pool || got.Frames != len(segs) || got.PayloadBytes != r.PayloadBytes {
				t.Errorf("conn %v -> %v, %d frames, %d B; want %v -> %v, %d frames, %d B",
					got.Client, got.Server, got.Frames, got.PayloadBytes, alice, pool, len(segs), r.PayloadBytes)
			}
			if (got.TLS != nil) != (len(r.TLS) == 1) || got.TLS != nil && got.TLS.Client != r.TLS[0].Client {
				t.Errorf("TLS = %+v, Report.TLS = %+v", got.TLS, r.TLS)
			}
		})
	}
}
