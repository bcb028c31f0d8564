package core

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
	"github.com/sluicehq/sluice/runtime/typed"
)

func init() {
	node.Register(&node.Spec{
		Type: "inject", Category: "common", Color: "#a6bbcf", Icon: "inject.svg",
		Inputs: 0, Outputs: 1,
		Props: []node.Prop{
			{Name: "name", Kind: node.KindString},
			{Name: "props", Kind: node.KindArray, Default: []any{msg.ObjectOf("p", "payload"), msg.ObjectOf("p", "topic", "vt", "str")}},
			{Name: "repeat", Kind: node.KindNumber, Default: "", Label: "repeat every (seconds)"},
			{Name: "crontab", Kind: node.KindString, Default: ""},
			{Name: "once", Kind: node.KindBool, Default: false},
			{Name: "onceDelay", Kind: node.KindNumber, Default: 0.1},
			{Name: "topic", Kind: node.KindString, Default: ""},
			{Name: "payload", Default: ""},
			{Name: "payloadType", Kind: node.KindString, Default: "date"},
		},
		Help: "Injects a message into a flow: when its button is pressed, once after deploy, at a regular interval or on a cron schedule. " +
			"Each entry of `props` sets one message property from a typed value (string, number, boolean, JSON, buffer, timestamp, JSONata, env, flow/global context).",
		New: newInject,
	})
}

type injectProp struct {
	path    []msg.PathPart
	name    string
	val     *typed.Input
	jsonata bool
}

type inject struct {
	props     []injectProp
	repeat    time.Duration
	sched     cron.Schedule
	once      bool
	onceDelay time.Duration

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// cronParser takes Node-RED's crontab strings: five fields, or six with
// seconds first, plus descriptors such as @hourly.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func newInject(cfg *node.Config) (node.Node, error) {
	n := &inject{}
	raw, _ := cfg.Get("props").([]any)
	if raw == nil {
		// Flows from before Node-RED 1.1 carry payload and topic directly.
		raw = []any{
			msg.ObjectOf("p", "payload", "v", cfg.Get("payload"), "vt", cfg.Get("payloadType")),
			msg.ObjectOf("p", "topic", "v", cfg.Get("topic"), "vt", "str"),
		}
	}
	for i, r := range raw {
		o, ok := r.(*msg.Object)
		if !ok {
			return nil, node.BadProp(fmt.Sprintf("props[%d]", i), r, "must be an object {p, v, vt}")
		}
		p := msg.ToString(o.Value("p"))
		if p == "" {
			continue
		}
		v, hasV := o.Get("v")
		vt, _ := o.Value("vt").(string)
		if p == "payload" && !hasV {
			v = cfg.Get("payload")
			vt, _ = cfg.Get("payloadType").(string)
		} else if p == "topic" && vt == "str" && !hasV {
			v = cfg.Get("topic")
		}
		if vt == "" {
			vt = "str"
		}
		if v == nil {
			v = ""
		}
		path, err := msg.ParsePath(p)
		if err != nil {
			return nil, node.BadProp(fmt.Sprintf("props[%d].p", i), p, "%v", err)
		}
		in, err := typed.Prepare(vt, v)
		if err != nil {
			return nil, node.BadProp(fmt.Sprintf("props[%d].v", i), v, "%v", err)
		}
		n.props = append(n.props, injectProp{path: path, name: p, val: in, jsonata: vt == "jsonata"})
	}
	if rs := strings.TrimSpace(cfg.Str("repeat")); rs != "" {
		secs, err := cfg.Num("repeat", 0)
		if err != nil {
			return nil, err
		}
		if secs > 2147483 {
			return nil, node.BadProp("repeat", cfg.Get("repeat"), "interval too large (max 2147483 seconds)")
		}
		if secs > 0 {
			n.repeat = time.Duration(secs * float64(time.Second))
		}
	}
	if ct := strings.TrimSpace(cfg.Str("crontab")); ct != "" && n.repeat == 0 {
		s, err := cronParser.Parse(ct)
		if err != nil {
			return nil, node.BadProp("crontab", ct, "invalid crontab: %v", err)
		}
		n.sched = s
	}
	n.once = cfg.Bool("once", false)
	d, err := cfg.Num("onceDelay", 0.1)
	if err != nil {
		return nil, err
	}
	if d == 0 {
		d = 0.1
	}
	n.onceDelay = time.Duration(d * float64(time.Second))
	return n, nil
}

func (n *inject) Start(c node.Ctx) error {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	fire := func() bool {
		if err := c.Acquire(ctx); err != nil {
			return false
		}
		// No _msgid yet: Node-RED gives one when the message is sent, so it
		// comes after the injected properties.
		c.Inject(msg.Wrap(msg.NewObject(4)))
		return true
	}
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if n.once {
			if !wait(n.onceDelay) || !fire() {
				return
			}
		}
		switch {
		case n.repeat > 0:
			tick := time.NewTicker(n.repeat)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					if !fire() {
						return
					}
				case <-ctx.Done():
					return
				}
			}
		case n.sched != nil:
			for {
				now := time.Now()
				if !wait(n.sched.Next(now).Sub(now)) || !fire() {
					return
				}
			}
		}
	}()
	return nil
}

// Input sets the configured properties on the message (a button press or a
// wired message), then sends it.
func (n *inject) Input(c node.Ctx, m *msg.Msg) error {
	var errs []string
	for _, p := range n.props {
		v, err := p.val.Eval(c, m)
		if err != nil {
			if p.jsonata {
				errs = append(errs, "Invalid JSONata expression: "+err.Error())
			} else {
				errs = append(errs, err.Error())
			}
			continue
		}
		if _, err := msg.SetPath(m.Object, p.path, v, true); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	c.Send(m)
	return nil
}

func (n *inject) Close(ctx context.Context, removed bool) error {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	return nil
}
