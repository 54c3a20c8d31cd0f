package sip_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: Close
// promises that nothing a server started outlives it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
