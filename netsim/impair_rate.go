package netsim

import (
	"sync"
	"time"
)

// rateQueue models a link of limited bandwidth: frames are transmitted one
// after another, each taking its size divided by the rate, and wait in a
// FIFO queue of bounded length while the link is busy.
type rateQueue struct {
	rate  int64 // bytes per second
	limit int   // frames that may wait besides the one being transmitted

	mu   sync.Mutex
	busy time.Time // when the link finishes the last admitted frame
	// done holds the finish times of admitted frames, oldest first;
	// done[head:] are still queued or being transmitted.
	done []time.Time
	head int
}

// admit queues a frame of size bytes reaching the link at t. It returns how
// long after t the frame has been fully transmitted, or false when the
// queue is full and the frame is dropped.
func (q *rateQueue) admit(t time.Time, size int) (time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.head < len(q.done) && !q.done[q.head].After(t) {
		q.head++
	}
	if q.head == len(q.done) {
		q.done, q.head = q.done[:0], 0
	} else if q.head >= 64 && q.head*2 >= len(q.done) {
		n := copy(q.done, q.done[q.head:])
		q.done, q.head = q.done[:n], 0
	}
	if len(q.done)-q.head > q.limit {
		return 0, false
	}
	start := t
	if q.busy.After(t) {
		start = q.busy
	}
	q.busy = start.Add(time.Duration(int64(size) * int64(time.Second) / q.rate))
	q.done = append(q.done, q.busy)
	return q.busy.Sub(t), true
}
