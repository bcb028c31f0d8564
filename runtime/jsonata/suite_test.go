package jsonata

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/internal/jsonatasuite"
	"github.com/sluicehq/sluice/runtime/msg"
)

// suiteSkips are the cases not run, with the reason (none at present).
var suiteSkips = map[string]string{}

// run checks one case; it returns a description of the mismatch, "" when
// it passes.
func runCase(sc jsonatasuite.Case) (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprintf("panic: %v", r)
		}
	}()
	e, err := Compile(sc.Expr)
	var res any
	if err == nil {
		if sc.Timelimit > 0 || sc.Depth > 0 {
			e = e.WithOptions(Options{Timeout: sc.Timelimit, MaxDepth: sc.Depth})
		}
		res, err = e.Eval(msg.Clone(sc.Input), sc.Bindings)
	}
	switch {
	case sc.Code != "":
		var je *Error
		if !errors.As(err, &je) {
			return "want error " + sc.Code + ", got " + describe(res, err)
		}
		code := je.Code
		// The suite's runner reports its own depth and time guards as U1001.
		if sc.Code == "U1001" && (code == "D1011" || code == "D1012") {
			code = "U1001"
		}
		if code != sc.Code {
			return "want error " + sc.Code + ", got " + je.Code + " " + je.Message
		}
		if sc.Token != "" && je.Token != sc.Token {
			return "want token " + sc.Token + ", got " + je.Token
		}
	case sc.Undefined:
		if err != nil || !msg.IsUndefined(res) {
			return "want undefined, got " + describe(res, err)
		}
	case sc.HasResult:
		if err != nil {
			return "want " + string(msg.Marshal(sc.Result)) + ", got " + describe(res, err)
		}
		if sc.Unordered {
			if !sameMembers(res, sc.Result) {
				return "want (any order) " + string(msg.Marshal(sc.Result)) + ", got " + describe(res, err)
			}
		} else if !msg.Equal(res, sc.Result) {
			return "want " + string(msg.Marshal(sc.Result)) + ", got " + describe(res, err)
		}
	}
	return ""
}

func sameMembers(got, want any) bool {
	g, ok1 := got.([]any)
	w, ok2 := want.([]any)
	if !ok1 || !ok2 || len(g) != len(w) {
		return msg.Equal(got, want)
	}
	used := make([]bool, len(w))
	for _, gv := range g {
		found := false
		for i, wv := range w {
			if !used[i] && msg.Equal(gv, wv) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func describe(v any, err error) string {
	if err != nil {
		var je *Error
		if errors.As(err, &je) {
			return "error " + je.Code + " " + je.Message
		}
		return "error " + err.Error()
	}
	if msg.IsUndefined(v) {
		return "undefined"
	}
	return string(msg.Marshal(v))
}

// TestJSONataSuite runs every case of jsonata's test suite.
func TestJSONataSuite(t *testing.T) {
	cases := jsonatasuite.Load(t)
	if len(cases) < 1600 {
		t.Fatalf("only %d cases loaded", len(cases))
	}
	passed, failed, skipped := 0, 0, 0
	for _, sc := range cases {
		if why, skip := suiteSkips[sc.Name]; skip {
			skipped++
			t.Logf("skip %s: %s", sc.Name, why)
			continue
		}
		if d := runCase(sc); d != "" {
			failed++
			t.Errorf("%s: %s\n\texpr: %s", sc.Name, d, sc.Expr)
			continue
		}
		passed++
	}
	if testing.Verbose() {
		fmt.Printf("jsonata-suite: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	}
}
