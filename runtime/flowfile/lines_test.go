package flowfile

import (
	"math/rand"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	a := "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10"
	b := "l1\nl2\nl3\nl4 changed\nl5\nl6\nl7\nl8\nl9\nl10\nl11"
	got := UnifiedDiff(a, b, 3)
	// Changes 6 lines apart (twice the context) share one hunk, as in GNU diff.
	want := "@@ -1,10 +1,11 @@\n l1\n l2\n l3\n-l4\n+l4 changed\n l5\n l6\n l7\n l8\n l9\n l10\n+l11\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if UnifiedDiff(a, a, 3) != "" {
		t.Fatal("equal texts must give no diff")
	}
	if got := UnifiedDiff("", "x", 3); got != "@@ -0,0 +1 @@\n+x\n" {
		t.Fatalf("add to empty: %q", got)
	}
}

func TestUnifiedDiffHunksDoNotOverlap(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12"
	b := "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12"
	got := UnifiedDiff(a, b, 3)
	if strings.Count(got, "@@ -") != 2 {
		t.Fatalf("want two hunks:\n%s", got)
	}
	if strings.Count(got, " 5\n") != 1 || strings.Count(got, " 8\n") != 1 || strings.Contains(got, " 6\n") {
		t.Fatalf("a context line printed twice:\n%s", got)
	}
}

// The matching must be a common subsequence (increasing, equal lines) and
// as long as the classic dynamic-programming LCS.
func TestMatchLinesIsLongestCommonSubsequence(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 500; n++ {
		a := randLines(r, r.Intn(30))
		b := randLines(r, r.Intn(30))
		m := matchLines(a, b)
		last, count := -1, 0
		for i, j := range m {
			if j < 0 {
				continue
			}
			if j <= last || a[i] != b[j] {
				t.Fatalf("bad match %v for\n%q\n%q", m, a, b)
			}
			last = j
			count++
		}
		if want := lcsLen(a, b); count != want {
			t.Fatalf("match of %d lines, LCS is %d:\n%q\n%q", count, want, a, b)
		}
	}
}

func randLines(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a' + r.Intn(4)))
	}
	return out
}

func lcsLen(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func TestMergeLines(t *testing.T) {
	base := "a\nb\nc\nd\ne\nf"
	for _, c := range []struct {
		name, ours, theirs, want string
		ok                       bool
	}{
		{"different lines", "A\nb\nc\nd\ne\nf", "a\nb\nc\nd\ne\nF", "A\nb\nc\nd\ne\nF", true},
		{"insert and delete apart", "a\nb\nnew\nc\nd\ne\nf", "a\nb\nc\nd\nf", "a\nb\nnew\nc\nd\nf", true},
		{"same edit", "a\nB\nc\nd\ne\nf", "a\nB\nc\nd\ne\nf", "a\nB\nc\nd\ne\nf", true},
		{"same line differently", "a\nB1\nc\nd\ne\nf", "a\nB2\nc\nd\ne\nf", "", false},
		{"insert at the same place", "a\nx\nb\nc\nd\ne\nf", "a\ny\nb\nc\nd\ne\nf", "", false},
		{"append both", base + "\nx", base + "\ny", "", false},
		{"one side only", base, "a\nb\nc\nd\ne\nf\ng", "a\nb\nc\nd\ne\nf\ng", true},
	} {
		got, ok := MergeLines(base, c.ours, c.theirs)
		if ok != c.ok || got != c.want {
			t.Errorf("%s: got %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// Edits to separate regions always merge to the result of applying both.
func TestMergeLinesRandomSeparateEdits(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for n := 0; n < 300; n++ {
		size := 8 + r.Intn(20)
		base := make([]string, size)
		for i := range base {
			base[i] = "line " + string(rune('A'+i))
		}
		cut := 2 + r.Intn(size-4) // ours edits lines < cut-1, theirs lines > cut
		edit := func(lines []string, lo, hi int, tag string) []string {
			out := append([]string(nil), lines...)
			i := lo + r.Intn(hi-lo)
			switch r.Intn(3) {
			case 0:
				out[i] = tag + out[i]
			case 1:
				out = append(out[:i], out[i+1:]...)
			default:
				out = append(out[:i+1], append([]string{tag}, out[i+1:]...)...)
			}
			return out
		}
		ours := edit(base, 0, cut-1, "ours ")
		theirs := edit(base, cut+1, size, "theirs ")
		// Applying theirs' edit to ours: both are positional edits on
		// disjoint regions separated by the untouched line at cut.
		got, ok := MergeLines(strings.Join(base, "\n"), strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
		if !ok {
			t.Fatalf("conflict merging\nbase %q\nours %q\ntheirs %q", base, ours, theirs)
		}
		for _, l := range append(ours, theirs...) {
			if strings.HasPrefix(l, "ours ") || strings.HasPrefix(l, "theirs ") {
				if !strings.Contains(got, l) {
					t.Fatalf("merge lost %q: %q", l, got)
				}
			}
		}
		if !strings.Contains(got, base[cut]) {
			t.Fatalf("merge lost the untouched line %q", base[cut])
		}
	}
}
