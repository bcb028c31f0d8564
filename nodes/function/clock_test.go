package function

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestClockOrder(t *testing.T) {
	var mu sync.Mutex
	c := newNodeClock(&mu)
	defer c.Close()
	var got []int
	done := make(chan struct{})
	mu.Lock()
	for i := 0; i < 50; i++ {
		c.After(60*time.Millisecond, func() {
			got = append(got, i)
			if len(got) == 50 {
				close(done)
			}
		})
	}
	// An earlier deadline set later still runs first.
	c.After(time.Millisecond, func() { got = append(got, -1) })
	stopped := c.After(2*time.Millisecond, func() { t.Error("stopped timer ran") })
	stopped.Stop()
	mu.Unlock()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if got[0] != -1 {
		t.Fatalf("first %d", got[0])
	}
	for i := 1; i < len(got); i++ {
		if got[i] != i-1 {
			t.Fatalf("timers ran out of order: %v", got)
		}
	}
}

func TestClockIntervalAndClose(t *testing.T) {
	var mu sync.Mutex
	c := newNodeClock(&mu)
	ticks := make(chan time.Time, 10)
	mu.Lock()
	iv := c.Every(20*time.Millisecond, func() { ticks <- time.Now() })
	mu.Unlock()
	start := time.Now()
	<-ticks
	<-ticks
	if el := time.Since(start); el < 35*time.Millisecond {
		t.Fatalf("two ticks after %s", el)
	}
	mu.Lock()
	iv.Stop()
	mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	if len(ticks) > 1 {
		t.Fatalf("interval ran on after Stop: %d ticks", len(ticks))
	}
	c.Close()
	mu.Lock()
	c.After(time.Millisecond, func() { t.Error("timer ran after Close") })
	mu.Unlock()
	time.Sleep(20 * time.Millisecond)
}

func TestJSDelay(t *testing.T) {
	for _, tc := range []struct {
		ms   float64
		want time.Duration
	}{
		{250, 250 * time.Millisecond},
		{0, time.Millisecond},
		{-5, time.Millisecond},
		{math.NaN(), time.Millisecond},
		{math.Inf(1), time.Millisecond},
		{3e9, time.Millisecond},
		{1.5, 1500 * time.Microsecond},
	} {
		if got := jsDelay(tc.ms, nil); got != tc.want {
			t.Errorf("jsDelay(%v) = %s, want %s", tc.ms, got, tc.want)
		}
	}
}

func TestClockSurvivesPanic(t *testing.T) {
	var mu sync.Mutex
	c := newNodeClock(&mu)
	defer c.Close()
	ran := make(chan struct{})
	mu.Lock()
	c.After(time.Millisecond, func() { panic("boom") })
	c.After(2*time.Millisecond, func() { close(ran) })
	mu.Unlock()
	select {
	case <-ran:
	case <-time.After(2 * time.Second):
		t.Fatal("the clock stopped after a panic")
	}
	mu.Lock() // the lock was released
	mu.Unlock()
}
