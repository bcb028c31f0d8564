package engine

import (
	"context"
	"sync"
	"sync/atomic"
)

// pressure bounds the messages queued in node inboxes. Sends never block
// (a loop in a flow cannot deadlock); sources wait in Acquire while the
// flows are saturated, so memory stays bounded and nothing is dropped.
type pressure struct {
	limit int64
	low   int64 // sources resume when the queue drains to here
	n     atomic.Int64
	mu    sync.Mutex
	room  chan struct{}
}

func newPressure(limit int) *pressure {
	if limit <= 0 {
		limit = 10000
	}
	return &pressure{limit: int64(limit), low: int64(limit) * 3 / 4, room: make(chan struct{})}
}

func (p *pressure) add() { p.n.Add(1) }

func (p *pressure) sub() {
	if p.n.Add(-1) == p.low {
		p.mu.Lock()
		close(p.room)
		p.room = make(chan struct{})
		p.mu.Unlock()
	}
}

func (p *pressure) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		ch := p.room
		full := p.n.Load() >= p.limit
		p.mu.Unlock()
		if !full {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
