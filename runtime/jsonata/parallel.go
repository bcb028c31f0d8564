package jsonata

// stamp records when an error was raised, on the evaluation clock.
func (st *state) stamp(err error) error {
	if e, ok := err.(*Error); ok && !e.timed {
		e.timed = true
		e.tick = st.clock
	}
	return err
}

// parallel runs the items of a constructor as jsonata's Promise.all does:
// each starts at the same clock, the constructor ends when the slowest
// does, and the earliest error wins.
type parallel struct {
	st      *state
	start   int64
	end     int64
	err     *Error
	errTick int64
	other   error
}

func (st *state) beginParallel() *parallel {
	return &parallel{st: st, start: st.clock, end: st.clock}
}

// item starts the next item.
func (p *parallel) item() { p.st.clock = p.start }

// done records an item's outcome.
func (p *parallel) done(err error) {
	if p.st.clock > p.end {
		p.end = p.st.clock
	}
	if err == nil {
		return
	}
	e, ok := err.(*Error)
	if !ok || e.Code == "U1001" || (e.Code == "" && e.Err != nil && p.st.ctx != nil && p.st.ctx.Err() != nil) {
		if p.other == nil {
			p.other = err
		}
		return
	}
	if parallelErrorHook != nil {
		parallelErrorHook(e)
	}
	if p.err == nil || e.tick < p.errTick {
		p.err, p.errTick = e, e.tick
	}
}

// parallelErrorHook, in tests, sees every error a constructor's items
// raised: which one jsonata reports depends on its promise scheduling,
// which the clock only approximates.
var parallelErrorHook func(*Error)

func (p *parallel) finish() error {
	p.st.clock = p.end
	if p.other != nil {
		return p.other
	}
	if p.err != nil {
		return p.err
	}
	return nil
}
