package netsimtest

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/tlslab/tlslab/netsim"
)

// AddHost adds a host named name to seg, addressed addr/24, with nic's
// other settings (its Latency, say); it fails t on error.
func AddHost(t testing.TB, seg *netsim.Segment, w *netsim.World, name string, addr netip.Addr, nic netsim.NICConfig) *netsim.Host {
	t.Helper()
	h := w.NewHost(name, netsim.HostConfig{})
	nic.Addr = netip.PrefixFrom(addr, 24)
	if _, err := h.AddNIC(seg, nic); err != nil {
		t.Fatal(err)
	}
	return h
}

// GoServe runs serve until the test ends; its cleanup stops it and checks
// that it returned context.Canceled, naming what in the failure.
func GoServe(t testing.TB, what string, serve func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Serve returned %v, want context.Canceled", what, err)
		}
	})
}
