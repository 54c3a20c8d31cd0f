package tlswire_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: the
// conversations' handshakes and the simulated networks they run on must
// all end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
