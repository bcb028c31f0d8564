package flowtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

type expectation struct {
	*Expect
	id string
}

func (x *expectation) ordered() bool { return x.Ordered == nil || *x.Ordered }

// want is how many messages must arrive before the expectation can hold.
func (x *expectation) want() int {
	if x.Count != nil {
		return *x.Count
	}
	return len(x.Messages)
}

// check looks at the messages so far. done: nothing more is awaited;
// fail: the expectation cannot hold any more. final adds the checks that
// need the flow to be quiet (exact counts, unordered matching).
func (x *expectation) check(got []received, final bool, elapsed time.Duration) (done bool, fail string) {
	if x.ordered() {
		for i := 0; i < len(got) && i < len(x.Messages); i++ {
			if why := x.Messages[i].match(got[i].m); why != "" {
				return true, fmt.Sprintf("node %s: message %d: %s\n  got %s", x.Node, i+1, why, clip(string(msg.Marshal(got[i].m)), 300))
			}
		}
	}
	if x.Count != nil && len(got) > *x.Count {
		return true, fmt.Sprintf("node %s: got %d message(s), want %d%s", x.Node, len(got), *x.Count, listMsgs(got))
	}
	if w := time.Duration(x.Within); w > 0 {
		n := x.want()
		if len(got) >= n && n > 0 && got[n-1].at > w {
			return true, fmt.Sprintf("node %s: message %d arrived after %v, want within %v", x.Node, n, got[n-1].at.Round(time.Millisecond), w)
		}
		if len(got) < n && elapsed > w {
			return true, fmt.Sprintf("node %s: %d of %d message(s) arrived within %v%s", x.Node, len(got), n, w, listMsgs(got))
		}
	}
	if len(got) < x.want() {
		return false, ""
	}
	if !final {
		return true, ""
	}
	if !x.ordered() {
		used := make([]bool, len(got))
	next:
		for i, me := range x.Messages {
			var whys []string
			for j, g := range got {
				if used[j] {
					continue
				}
				why := me.match(g.m)
				if why == "" {
					used[j] = true
					continue next
				}
				whys = append(whys, why)
			}
			return true, fmt.Sprintf("node %s: no message matches expectation %d (%s)%s", x.Node, i+1, strings.Join(uniq(whys), "; "), listMsgs(got))
		}
	}
	return true, ""
}

// pending describes what a timed-out expectation still waits for.
func (x *expectation) pending(got []received) string {
	return fmt.Sprintf("node %s: %d message(s) expected, %d received%s", x.Node, x.want(), len(got), listMsgs(got))
}

func listMsgs(got []received) string {
	if len(got) == 0 {
		return ""
	}
	var b strings.Builder
	for i, g := range got {
		if i == 5 {
			fmt.Fprintf(&b, "\n  … %d more", len(got)-5)
			break
		}
		fmt.Fprintf(&b, "\n  received %d (at %v): %s", i+1, g.at.Round(time.Millisecond), clip(string(msg.Marshal(g.m)), 200))
	}
	return b.String()
}

func uniq(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// match returns why m does not match, or "".
func (me *MsgExpect) match(m *msg.Object) string {
	for _, p := range me.props {
		got, ok, err := msg.Get(m, p.path)
		if err != nil || !ok || msg.IsUndefined(got) {
			return fmt.Sprintf("%s: missing, want %s", p.path, msg.Marshal(p.want))
		}
		if !sameJSON(p.want, got) {
			return fmt.Sprintf("%s: got %s, want %s", p.path, clip(string(msg.Marshal(got)), 200), clip(string(msg.Marshal(p.want)), 200))
		}
	}
	if me.expr != nil {
		v, err := me.expr.Eval(nil, msg.Wrap(m))
		if err != nil {
			return fmt.Sprintf("jsonata %q: %v", me.JSONata, err)
		}
		if v != true {
			return fmt.Sprintf("jsonata %q is %s, want true", me.JSONata, msg.Marshal(v))
		}
	}
	return ""
}

// sameJSON compares as JSON values, so a Buffer matches {type: Buffer,
// data: [...]} and a Date its ISO string, as a debug node would show them.
func sameJSON(want, got any) bool {
	if msg.Equal(want, got) {
		return true
	}
	norm, err := msg.Unmarshal(msg.Marshal(got))
	return err == nil && msg.Equal(want, norm)
}

// wait waits until every expectation holds (then for the settle time, to
// catch extra messages), one fails, or the deadline passes.
func (r *run) wait(exps []*expectation, deadline time.Time, timeout, settle time.Duration) []string {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	settleAt := time.Time{}
	for {
		r.mu.Lock()
		if len(r.failures) > 0 {
			fs := append([]string(nil), r.failures...)
			r.mu.Unlock()
			return fs
		}
		allDone := true
		var fails []string
		final := !settleAt.IsZero() && !time.Now().Before(settleAt)
		for _, x := range exps {
			done, fail := x.check(r.got[x.id], final, time.Since(r.start))
			if fail != "" {
				fails = append(fails, fail)
			}
			if !done {
				allDone = false
			}
		}
		var pend []string
		if !allDone && !time.Now().Before(deadline) {
			for _, x := range exps {
				if done, _ := x.check(r.got[x.id], false, 0); !done {
					pend = append(pend, "  "+strings.ReplaceAll(x.pending(r.got[x.id]), "\n", "\n  "))
				}
			}
		}
		r.mu.Unlock()
		switch {
		case len(fails) > 0:
			return fails
		case len(pend) > 0:
			return append([]string{fmt.Sprintf("timed out after %v waiting for:", timeout)}, pend...)
		case allDone && final:
			return nil
		case allDone && settleAt.IsZero():
			settleAt = time.Now().Add(settle)
		case !allDone:
			settleAt = time.Time{}
		}
		select {
		case <-r.notify:
		case <-tick.C:
		}
	}
}
