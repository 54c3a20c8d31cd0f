package dns_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: Server.Serve
// and World.Close promise that everything they started has stopped.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
