package scenarios

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

// TestScenarios is the package's one Ginkgo suite: every catalog scenario run
// through lab.Runner (scenarios_test.go), defenses flipped to show that
// verdicts follow evidence, and the captures checked with tshark
// (tshark_test.go). It runs under plain 'go test' and under 'ginkgo -p'.
func TestScenarios(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Scenarios Suite")
}

// Every spec must leave no goroutine behind: a scenario stops its actors
// before Run returns, and the Runner closes the World.
var _ = BeforeEach(func() {
	before := goleak.IgnoreCurrent()
	DeferCleanup(func() {
		// Under `ginkgo -p` Ginkgo's own output interceptor restarts a
		// copying goroutine between specs; it is not the scenario's.
		goleak.VerifyNone(GinkgoT(), before,
			goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal.(*genericOutputInterceptor).ResumeIntercepting.func1.1"))
	})
})
