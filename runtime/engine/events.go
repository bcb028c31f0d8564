package engine

import (
	"sync"

	"github.com/sluicehq/sluice/runtime/node"
)

// Event is something the editor or an operator may want to see: a node's
// status, a debug message, a deploy.
type Event struct {
	Kind   string       `json:"kind"` // status | debug | deploy | ...
	ID     string       `json:"id,omitempty"`
	Status *node.Status `json:"status,omitempty"`
	Data   any          `json:"data,omitempty"`
}

type events struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Event)
}

func newEvents() *events { return &events{subs: map[int]func(Event){}} }

func (ev *events) subscribe(fn func(Event)) func() {
	ev.mu.Lock()
	id := ev.next
	ev.next++
	ev.subs[id] = fn
	ev.mu.Unlock()
	return func() {
		ev.mu.Lock()
		delete(ev.subs, id)
		ev.mu.Unlock()
	}
}

// publish calls subscribers synchronously; they must not block (the editor
// side queues and drops for slow clients).
func (ev *events) publish(e Event) {
	ev.mu.RLock()
	defer ev.mu.RUnlock()
	for _, fn := range ev.subs {
		fn(e)
	}
}
