package kafka

import (
	"errors"
	"testing"
)

func TestWindowMarksContiguous(t *testing.T) {
	var marks []int64
	w := &window{mark: func(n int64) { marks = append(marks, n) }}
	s := []*slot{w.add(10), w.add(11), w.add(12), w.add(13)}
	w.done(s[2], nil)
	if len(marks) != 0 {
		t.Fatalf("marked %v before offset 10 was done", marks)
	}
	w.done(s[0], nil)
	w.done(s[1], nil)
	if len(marks) != 2 || marks[0] != 11 || marks[1] != 13 {
		t.Fatalf("marks %v, want [11 13] (next offsets after 10, then 12)", marks)
	}
	w.done(s[3], errors.New("boom"))
	s5 := w.add(14)
	w.done(s5, nil)
	if len(marks) != 2 {
		t.Fatalf("marked %v past a failed record", marks)
	}
}

// Many records finished in and out of order: every offset is marked once
// its predecessors are, whatever the queue's compaction does.
func TestWindowLong(t *testing.T) {
	var last int64 = -1
	w := &window{mark: func(n int64) {
		if n <= last {
			t.Fatalf("mark %d after %d", n, last)
		}
		last = n
	}}
	const n = 10000
	slots := make([]*slot, 0, 3)
	for off := range int64(n) {
		slots = append(slots, w.add(off))
		if len(slots) == 3 {
			// Finish the third before the first two.
			w.done(slots[2], nil)
			w.done(slots[0], nil)
			w.done(slots[1], nil)
			slots = slots[:0]
		}
	}
	for _, s := range slots {
		w.done(s, nil)
	}
	if last != n {
		t.Fatalf("last mark %d, want %d", last, n)
	}
	if len(w.queue) != 0 || w.head != 0 {
		t.Fatalf("queue %d head %d after everything finished", len(w.queue), w.head)
	}
}
