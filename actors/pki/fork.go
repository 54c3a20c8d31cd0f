package pki

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Fork returns a CA with ca's identity — its name, certificate, key, chain,
// revocation URLs and validity periods — and a copy of its records of what
// it issued and revoked, reading time from clock. From then on the two are
// apart: what one issues, revokes or publishes the other never sees. It lets
// one built hierarchy, whose keys and certificates cost most of its making,
// serve many simulations, each with its own clock and its own changes.
//
// parent is the fork of ca's parent, nil for a root; it must hold the
// certificate that ca's parent holds. Fork a hierarchy from its root down.
// A nil clock keeps ca's. The fork shares ca's source of serial numbers.
func (ca *CA) Fork(clock func() time.Time, parent *CA) (*CA, error) {
	switch {
	case ca.parent == nil && parent != nil:
		return nil, fmt.Errorf("pki: fork of root %q given a parent", ca.name)
	case ca.parent != nil && parent == nil:
		return nil, fmt.Errorf("pki: fork of %q needs the fork of its parent %q", ca.name, ca.parent.name)
	case ca.parent != nil && !parent.cert.Equal(ca.parent.cert):
		return nil, fmt.Errorf("pki: fork of %q given parent %q, which is not its issuer %q", ca.name, parent.name, ca.parent.name)
	}
	if clock == nil {
		clock = ca.clock
	}
	if clock == nil {
		return nil, errors.New("pki: fork without a clock")
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return &CA{
		name:         ca.name,
		cert:         ca.cert,
		der:          ca.der,
		key:          ca.key,
		parent:       parent,
		chain:        ca.chain,
		clock:        clock,
		serials:      ca.serials,
		crlURL:       ca.crlURL,
		ocspURL:      ca.ocspURL,
		crlValidity:  ca.crlValidity,
		ocspValidity: ca.ocspValidity,
		issued:       maps.Clone(ca.issued),
		revoked:      maps.Clone(ca.revoked),
		order:        slices.Clone(ca.order),
		crlNumber:    ca.crlNumber,
	}, nil
}
