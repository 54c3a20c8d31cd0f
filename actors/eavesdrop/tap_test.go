package eavesdrop_test

import (
	"github.com/tlslab/tlslab/actors/eavesdrop"
	"github.com/tlslab/tlslab/netsim"
)

var _ netsim.Tap = (*eavesdrop.Eavesdropper)(nil)
