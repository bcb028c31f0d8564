package kafka

import "sync"

// window keeps the in-flight offsets of one partition in the order read, so
// that only the highest contiguous finished offset is committed: a message
// finished early never lets an earlier unfinished one be skipped.
type window struct {
	mu     sync.Mutex
	queue  []*slot
	head   int // queue[:head] is finished and marked
	failed bool
	mark   func(next int64)
}

type slot struct {
	offset int64
	done   bool
}

func (w *window) add(offset int64) *slot {
	s := &slot{offset: offset}
	w.mu.Lock()
	w.queue = append(w.queue, s)
	w.mu.Unlock()
	return s
}

// done records that s finished. A failure freezes the partition's commits
// for the rest of the session, so the failed record is read again.
func (w *window) done(s *slot, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.failed = true
	}
	s.done = true
	if w.failed {
		return
	}
	i := w.head
	for i < len(w.queue) && w.queue[i].done {
		i++
	}
	if i == w.head {
		return
	}
	next := w.queue[i-1].offset + 1
	// Finished slots are dropped by moving head, and the queue is moved
	// down only once most of it is finished: copying it on every message
	// cost as much as the rest of the node.
	clear(w.queue[w.head:i])
	w.head = i
	switch {
	case w.head == len(w.queue):
		w.queue, w.head = w.queue[:0], 0
	case w.head >= 1024 && 2*w.head >= len(w.queue):
		n := copy(w.queue, w.queue[w.head:])
		clear(w.queue[n:])
		w.queue, w.head = w.queue[:n], 0
	}
	w.mark(next)
}
