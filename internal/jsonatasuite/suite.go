// Package jsonatasuite reads jsonata's own language-neutral test suite
// (../shared/jsonata-test-suite, see its TESTSUITE.md) for the native
// evaluator's and the reference library's tests.
package jsonatasuite

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
)

// Dir is where the suite lives: ../shared next to the repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "jsonata-test-suite")
}

// Case is one test case.
type Case struct {
	Name      string // group/file, with #i for a file holding a list
	Expr      string
	ExprFile  bool // the expression came from a separate file
	Input     any  // msg.Undefined when the case has no input
	Bindings  map[string]any
	Result    any
	HasResult bool
	Undefined bool // undefinedResult
	Unordered bool
	Code      string // the expected error's code
	Token     string
	Timelimit time.Duration
	Depth     int
}

// Load reads every case of the given groups (all groups when none). It
// skips the test when the suite is not there.
func Load(tb testing.TB, groups ...string) []Case {
	tb.Helper()
	dir := Dir()
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("jsonata test suite not found at %s", dir)
	}
	if len(groups) == 0 {
		dirs, err := os.ReadDir(filepath.Join(dir, "groups"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, d := range dirs {
			groups = append(groups, d.Name())
		}
	}
	datasets := map[string]any{}
	var out []Case
	for _, g := range groups {
		files, err := filepath.Glob(filepath.Join(dir, "groups", g, "*.json"))
		if err != nil {
			tb.Fatal(err)
		}
		sort.Strings(files)
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			v, err := msg.Unmarshal(escapeLoneSurrogates(raw))
			if err != nil {
				tb.Fatalf("%s: %v", f, err)
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
				out = append(out, caseOf(tb, dir, name, filepath.Dir(f), c.(*msg.Object), datasets))
			}
		}
	}
	return out
}

func caseOf(tb testing.TB, suite, name, dir string, o *msg.Object, datasets map[string]any) Case {
	sc := Case{Name: name}
	if e, ok := o.Value("expr").(string); ok {
		sc.Expr = e
	} else if f, ok := o.Value("expr-file").(string); ok {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			tb.Fatal(err)
		}
		sc.Expr, sc.ExprFile = string(raw), true
	}
	if d, ok := o.Get("data"); ok {
		sc.Input = d
	} else if ds, ok := o.Value("dataset").(string); ok {
		if _, seen := datasets[ds]; !seen {
			raw, err := os.ReadFile(filepath.Join(suite, "datasets", ds+".json"))
			if err != nil {
				tb.Fatal(err)
			}
			v, err := msg.Unmarshal(raw)
			if err != nil {
				tb.Fatal(err)
			}
			datasets[ds] = v
		}
		sc.Input = datasets[ds]
	} else {
		sc.Input = msg.Undefined{}
	}
	if b, ok := o.Value("bindings").(*msg.Object); ok && b.Len() > 0 {
		sc.Bindings = map[string]any{}
		for _, k := range b.Keys() {
			sc.Bindings[k] = b.Value(k)
		}
	}
	if tl, ok := o.Value("timelimit").(float64); ok {
		sc.Timelimit = time.Duration(tl) * time.Millisecond
	}
	if d, ok := o.Value("depth").(float64); ok {
		sc.Depth = int(d)
	}
	sc.Result, sc.HasResult = o.Get("result")
	sc.Undefined, _ = o.Value("undefinedResult").(bool)
	sc.Unordered, _ = o.Value("unordered").(bool)
	sc.Code, _ = o.Value("code").(string)
	sc.Token, _ = o.Value("token").(string)
	if e, ok := o.Value("error").(*msg.Object); ok {
		sc.Code, _ = e.Value("code").(string)
	}
	return sc
}

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
