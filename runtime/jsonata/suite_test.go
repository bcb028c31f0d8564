package jsonata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// suiteDir is jsonata's own test suite, as language-neutral JSON files
// (see its TESTSUITE.md).
const suiteDir = "../../../shared/jsonata-test-suite"

// suiteSkips are the cases not run, with the reason (none at present).
var suiteSkips = map[string]string{}

// escapeLoneSurrogates rewrites a lone surrogate escape in an "expr" line of
// a case file as an escape for the JSONata lexer (\uD800): a Go string
// cannot hold the character itself, which JSON decoding would replace
// with U+FFFD, but the lexer keeps an escaped one.
func escapeLoneSurrogates(raw []byte) []byte {
	lines := strings.Split(string(raw), "\n")
	isHexDigit := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	}
	surrogate := func(s string, i int) (hi, lo bool) {
		if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
			return false, false
		}
		for j := i + 2; j < i+6; j++ {
			if !isHexDigit(s[j]) {
				return false, false
			}
		}
		c := strings.ToUpper(s[i+2 : i+4])
		return c >= "D8" && c <= "DB", c >= "DC" && c <= "DF"
	}
	for n, line := range lines {
		if !strings.Contains(line, `"expr"`) {
			continue
		}
		var b strings.Builder
		for i := 0; i < len(line); i++ {
			if line[i] == '\\' && i+1 < len(line) && line[i+1] == '\\' {
				b.WriteString(line[i : i+2])
				i++
				continue
			}
			hi, lo := surrogate(line, i)
			if hi {
				if _, nextLo := surrogate(line, i+6); nextLo {
					b.WriteString(line[i : i+12])
					i += 11
					continue
				}
			}
			if hi || lo {
				b.WriteString("\\")
			}
			b.WriteByte(line[i])
		}
		lines[n] = b.String()
	}
	return []byte(strings.Join(lines, "\n"))
}

type suiteCase struct {
	name      string
	expr      string
	input     any
	bindings  map[string]any
	result    any
	hasResult bool
	undefined bool
	unordered bool
	code      string
	token     string
	timelimit time.Duration
	depth     int
}

func loadSuite(t testing.TB) []suiteCase {
	t.Helper()
	if _, err := os.Stat(suiteDir); err != nil {
		t.Skipf("jsonata test suite not found at %s", suiteDir)
	}
	dirs, err := os.ReadDir(filepath.Join(suiteDir, "groups"))
	if err != nil {
		t.Fatal(err)
	}
	datasets := map[string]any{}
	var out []suiteCase
	for _, d := range dirs {
		g := d.Name()
		files, _ := filepath.Glob(filepath.Join(suiteDir, "groups", g, "*.json"))
		sort.Strings(files)
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v, err := msg.Unmarshal(escapeLoneSurrogates(raw))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			base := g + "/" + strings.TrimSuffix(filepath.Base(f), ".json")
			list, isList := v.([]any)
			if !isList {
				list = []any{v}
			}
			for i, c := range list {
				name := base
				if isList {
					name = fmt.Sprintf("%s#%d", base, i)
				}
				out = append(out, suiteCaseOf(t, name, filepath.Dir(f), c.(*msg.Object), datasets))
			}
		}
	}
	return out
}

func suiteCaseOf(t testing.TB, name, dir string, o *msg.Object, datasets map[string]any) suiteCase {
	sc := suiteCase{name: name}
	if e, ok := o.Value("expr").(string); ok {
		sc.expr = e
	} else if f, ok := o.Value("expr-file").(string); ok {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		sc.expr = string(raw)
	}
	if d, ok := o.Get("data"); ok {
		sc.input = d
	} else if ds, ok := o.Value("dataset").(string); ok {
		if _, seen := datasets[ds]; !seen {
			raw, err := os.ReadFile(filepath.Join(suiteDir, "datasets", ds+".json"))
			if err != nil {
				t.Fatal(err)
			}
			v, err := msg.Unmarshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			datasets[ds] = v
		}
		sc.input = datasets[ds]
	} else {
		sc.input = msg.Undefined{}
	}
	if b, ok := o.Value("bindings").(*msg.Object); ok && b.Len() > 0 {
		sc.bindings = map[string]any{}
		for _, k := range b.Keys() {
			sc.bindings[k] = b.Value(k)
		}
	}
	if tl, ok := o.Value("timelimit").(float64); ok {
		sc.timelimit = time.Duration(tl) * time.Millisecond
	}
	if d, ok := o.Value("depth").(float64); ok {
		sc.depth = int(d)
	}
	sc.result, sc.hasResult = o.Get("result")
	sc.undefined, _ = o.Value("undefinedResult").(bool)
	sc.unordered, _ = o.Value("unordered").(bool)
	sc.code, _ = o.Value("code").(string)
	sc.token, _ = o.Value("token").(string)
	if e, ok := o.Value("error").(*msg.Object); ok {
		sc.code, _ = e.Value("code").(string)
	}
	return sc
}

// run checks one case; it returns a description of the mismatch, "" when
// it passes.
func (sc suiteCase) run() (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprintf("panic: %v", r)
		}
	}()
	e, err := Compile(sc.expr)
	var res any
	if err == nil {
		if sc.timelimit > 0 || sc.depth > 0 {
			e = e.WithOptions(Options{Timeout: sc.timelimit, MaxDepth: sc.depth})
		}
		res, err = e.Eval(msg.Clone(sc.input), sc.bindings)
	}
	switch {
	case sc.code != "":
		var je *Error
		if !errors.As(err, &je) {
			return "want error " + sc.code + ", got " + describe(res, err)
		}
		code := je.Code
		// The suite's runner reports its own depth and time guards as U1001.
		if sc.code == "U1001" && (code == "D1011" || code == "D1012") {
			code = "U1001"
		}
		if code != sc.code {
			return "want error " + sc.code + ", got " + je.Code + " " + je.Message
		}
		if sc.token != "" && je.Token != sc.token {
			return "want token " + sc.token + ", got " + je.Token
		}
	case sc.undefined:
		if err != nil || !msg.IsUndefined(res) {
			return "want undefined, got " + describe(res, err)
		}
	case sc.hasResult:
		if err != nil {
			return "want " + string(msg.Marshal(sc.result)) + ", got " + describe(res, err)
		}
		if sc.unordered {
			if !sameMembers(res, sc.result) {
				return "want (any order) " + string(msg.Marshal(sc.result)) + ", got " + describe(res, err)
			}
		} else if !msg.Equal(res, sc.result) {
			return "want " + string(msg.Marshal(sc.result)) + ", got " + describe(res, err)
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
	cases := loadSuite(t)
	if len(cases) < 1600 {
		t.Fatalf("only %d cases loaded", len(cases))
	}
	passed, failed, skipped := 0, 0, 0
	for _, sc := range cases {
		if why, skip := suiteSkips[sc.name]; skip {
			skipped++
			t.Logf("skip %s: %s", sc.name, why)
			continue
		}
		if d := sc.run(); d != "" {
			failed++
			t.Errorf("%s: %s\n\texpr: %s", sc.name, d, sc.expr)
			continue
		}
		passed++
	}
	if testing.Verbose() {
		fmt.Printf("jsonata-suite: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	}
}
