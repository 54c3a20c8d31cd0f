package netsimtest

import (
	"os"
	"testing"

	"github.com/tlslab/tlslab/netsim"
)

// CaptureToFile captures seg into a new pcapng file at path until the
// test's cleanup, which closes the capture and the file. Call it before
// registering the World's Close with t.Cleanup: cleanups run last first,
// so the capture then closes once nothing can write to it any more.
func CaptureToFile(t testing.TB, seg *netsim.Segment, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := netsim.NewCapture(f)
	if err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := c.AttachSegment(seg); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		f.Close()
	})
}
