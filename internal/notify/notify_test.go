package notify_test

import (
	"sync"
	"testing"

	"github.com/tlslab/tlslab/internal/notify"
)

func TestSignalWakesEveryWaiterOnce(t *testing.T) {
	var s notify.Signal
	first, second := s.Next(), s.Next()
	if first != second {
		t.Fatal("two Next calls before a Broadcast gave different channels")
	}
	select {
	case <-first:
		t.Fatal("closed before any Broadcast")
	default:
	}
	s.Broadcast()
	<-first // closed
	after := s.Next()
	select {
	case <-after:
		t.Fatal("a Next taken after the Broadcast is already closed")
	default:
	}
	s.Broadcast()
	<-after
}

func TestSignalNoLostWakeup(t *testing.T) {
	var s notify.Signal
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			next := s.Next()
			mu.Lock()
			got := n
			mu.Unlock()
			if got == 100 {
				return
			}
			<-next
		}
	}()
	for range 100 {
		mu.Lock()
		n++
		mu.Unlock()
		s.Broadcast()
	}
	<-done
}
