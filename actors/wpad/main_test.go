package wpad_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: Proxy.Serve
// promises that everything it started has stopped when it returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
