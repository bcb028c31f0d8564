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
