package dhcp_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: Server.Serve
// and Acquire promise that everything they started has stopped.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
