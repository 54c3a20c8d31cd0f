// Package notify lets goroutines wait for a change instead of polling for
// it. An actor that records something (a rejection, an ended session, an
// ARP cache entry) calls [Signal.Broadcast]; a waiter takes [Signal.Next]
// before it looks at the state, and if the state is not yet what it waits
// for, waits for that channel to close:
//
//	for {
//		next := sig.Next()
//		if done() {
//			return
//		}
//		<-next // or a deadline
//	}
//
// Taking the channel before looking means no change can slip in between.
package notify

import "sync"

// Signal wakes everyone waiting for the next change. The zero value is
// ready to use; a Signal must not be copied after first use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Next returns a channel that is closed at the next Broadcast.
func (s *Signal) Next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Broadcast wakes every waiter of Next.
func (s *Signal) Broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
