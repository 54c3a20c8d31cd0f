package attacker_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: every
// attacker's Close promises that nothing it started outlives it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
