package web

import (
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// commsMessage is one entry of what /comms sends: a JSON array of
// {topic, data}, as Node-RED's editor websocket does.
type commsMessage struct {
	Topic string `json:"topic"`
	Data  any    `json:"data"`
	// raw goes out as a frame of its own ({"auth":"ok"} is not batched).
	raw []byte
}

const (
	// clientQueue is how many messages wait for a slow editor before the
	// newest are dropped; the flows never wait for a browser.
	clientQueue = 1024
	// debugMaxLength truncates long debug strings as Node-RED's setting of
	// the same name does (default 1000).
	debugMaxLength = 1000
	// debugMaxBytes bounds one encoded debug value.
	debugMaxBytes = 64 << 10
	statsEvery    = time.Second
)

// hub fans runtime events out to editor websockets.
type hub struct {
	log     *slog.Logger
	eng     *engine.Engine
	mu      sync.Mutex
	clients map[*client]struct{}
	status  map[string]*node.Status // last status per node, for late joiners
	muted   map[string]bool         // debug nodes switched off from the editor
	stop    chan struct{}
	unsub   func()
}

type client struct {
	out     chan commsMessage
	dropped int
	// token is what the client authenticated with; every action checks it
	// again, so a revoked token stops working at once.
	token string
}

func newHub(eng *engine.Engine, log *slog.Logger) *hub {
	h := &hub{log: log, eng: eng, clients: map[*client]struct{}{}, status: map[string]*node.Status{},
		muted: map[string]bool{}, stop: make(chan struct{})}
	h.unsub = eng.Subscribe(h.onEvent)
	go h.statsLoop()
	return h
}

func (h *hub) close() {
	h.unsub()
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
}

func (h *hub) onEvent(e engine.Event) {
	switch e.Kind {
	case "status":
		h.mu.Lock()
		if e.Status == nil || (e.Status.Text == "" && e.Status.Fill == "" && e.Status.Shape == "") {
			delete(h.status, e.ID)
		} else {
			h.status[e.ID] = e.Status
		}
		h.mu.Unlock()
		h.broadcast(commsMessage{Topic: "status/" + e.ID, Data: statusData(e.Status)})
	case "debug":
		h.mu.Lock()
		muted := h.muted[e.ID]
		h.mu.Unlock()
		if !muted {
			h.broadcast(commsMessage{Topic: "debug", Data: debugData(e.Data)})
		}
	case "deploy":
		// Mutes belong to the replaced flows (the deployed "active"
		// property wins). Stats must not be read here: the engine
		// publishes this event holding its lock.
		h.mu.Lock()
		h.muted = map[string]bool{}
		h.mu.Unlock()
	}
}

// deployed tells the editors which revision now runs.
func (h *hub) deployed(rev string) {
	// Nodes set statuses while starting: keep those of nodes still running
	// and forget the rest.
	running := map[string]bool{}
	for _, st := range h.eng.Stats() {
		running[st.ID] = true
	}
	h.mu.Lock()
	for id := range h.status {
		if !running[id] {
			delete(h.status, id)
		}
	}
	h.mu.Unlock()
	h.broadcast(commsMessage{Topic: "notification/runtime-deploy", Data: map[string]string{"revision": rev}})
}

func (h *hub) setMuted(id string, muted bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if muted {
		h.muted[id] = true
	} else {
		delete(h.muted, id)
	}
}

func statusData(s *node.Status) any {
	if s == nil {
		return map[string]string{}
	}
	return s
}

// debugData turns a debug node's event into JSON-ready data: the value is
// sent as JSON text with a format hint so the sidebar can tell a string
// "5" from the number 5, and oversized values are cut.
func debugData(d any) any {
	o, ok := d.(*msg.Object)
	if !ok {
		return d
	}
	out := map[string]any{}
	for _, k := range o.Keys() {
		if k == "msg" {
			continue
		}
		out[k] = json.RawMessage(msg.Marshal(o.Value(k)))
	}
	v := o.Value("msg")
	format := formatOf(v)
	if s, ok := v.(string); ok {
		if r := []rune(s); len(r) > debugMaxLength {
			v = string(r[:debugMaxLength]) + "..."
			format = "string[" + itoa(len(r)) + "]"
		}
	}
	text := msg.Marshal(v)
	if len(text) > debugMaxBytes {
		text = msg.Marshal(string(text[:debugMaxBytes]) + "...")
		format += " (truncated)"
	}
	if _, undef := v.(msg.Undefined); undef {
		text = []byte("null")
		format = "undefined"
	}
	out["msg"] = json.RawMessage(text)
	out["format"] = format
	return out
}

func formatOf(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string[" + itoa(len([]rune(t))) + "]"
	case []byte:
		return "buffer[" + itoa(len(t)) + "]"
	case []any:
		return "array[" + itoa(len(t)) + "]"
	case *msg.Object:
		return "Object"
	}
	return "Object"
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (h *hub) broadcast(m commsMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.out <- m:
		default:
			c.dropped++
		}
	}
}

// statsLoop pushes every node's counters each second while an editor is
// connected; the editor turns them into rates on nodes and wires.
func (h *hub) statsLoop() {
	t := time.NewTicker(statsEvery)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		n := len(h.clients)
		h.mu.Unlock()
		if n == 0 {
			continue
		}
		h.broadcast(commsMessage{Topic: "stats", Data: statsData(h.eng.Stats())})
	}
}

// statsData is {id: [in, out, errors, queued]}: compact, since it goes out
// every second for every node.
func statsData(st []engine.NodeStats) map[string][4]int64 {
	out := make(map[string][4]int64, len(st))
	for _, s := range st {
		out[s.ID] = [4]int64{s.In, s.Out, s.Errors, int64(s.Queued)}
	}
	return out
}

// writeLoop is the socket's only writer (close frames excepted, which
// gorilla allows from any goroutine).
func (h *hub) writeLoop(conn *websocket.Conn, c *client, done chan struct{}) {
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		var batch []commsMessage
		select {
		case <-done:
			return
		case <-h.stop:
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server stopping"), time.Now().Add(time.Second))
			return
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)); err != nil {
				return
			}
			continue
		case m := <-c.out:
			batch = append(batch, m)
		}
		// Send what queued up meanwhile in the same frame.
	drain:
		for len(batch) < 256 && batch[len(batch)-1].raw == nil {
			select {
			case m := <-c.out:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		var raw []byte
		if last := batch[len(batch)-1]; last.raw != nil {
			raw = last.raw
			batch = batch[:len(batch)-1]
		}
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if len(batch) > 0 {
			if err := conn.WriteJSON(batch); err != nil {
				return
			}
		}
		if raw != nil {
			if err := conn.WriteMessage(websocket.TextMessage, raw); err != nil {
				return
			}
		}
	}
}

// reply queues an answer for one client. Unlike broadcasts it waits a
// little for room: an answer to a deploy must not be dropped.
func (c *client) reply(m commsMessage) {
	select {
	case c.out <- m:
	case <-time.After(5 * time.Second):
		c.dropped++
	}
}
