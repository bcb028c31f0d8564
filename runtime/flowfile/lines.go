package flowfile

import (
	"fmt"
	"strings"
)

// maxEditDistance bounds the Myers search; past it the differing middle of
// two texts is treated as replaced wholesale, which keeps huge unrelated
// inputs (and fuzzing) from taking quadratic memory.
const maxEditDistance = 2000

// matchLines returns, for each line of a, the index of the line of b it is
// paired with in a longest common subsequence, or -1.
func matchLines(a, b []string) []int {
	m := make([]int, len(a))
	for i := range m {
		m[i] = -1
	}
	// Common prefix and suffix first: most edits touch a few lines.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		m[pre] = pre
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		m[len(a)-1-suf] = len(b) - 1 - suf
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma) == 0 || len(mb) == 0 {
		return m
	}
	// Lines become small integers so the inner loop compares ints.
	ids := map[string]int{}
	intern := func(ls []string) []int {
		out := make([]int, len(ls))
		for i, l := range ls {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	for _, p := range myers(intern(ma), intern(mb)) {
		m[pre+p[0]] = pre + p[1]
	}
	return m
}

// myers is Myers' O(ND) shortest edit script; it returns the matched pairs.
func myers(a, b []int) [][2]int {
	n, m := len(a), len(b)
	maxD := n + m
	if maxD > maxEditDistance {
		maxD = maxEditDistance
	}
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	found := false
	for d := 0; d <= maxD && !found; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		return nil
	}
	var pairs [][2]int
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		tv := trace[d] // v as it was before step d, indexed from k = -d-1
		at := func(k int) int { return tv[k+d+1] }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			pairs = append(pairs, [2]int{x, y})
		}
		x, y = prevX, prevY
	}
	for x > 0 && y > 0 {
		x--
		y--
		pairs = append(pairs, [2]int{x, y})
	}
	for i, j := 0, len(pairs)-1; i < j; i, j = i+1, j-1 {
		pairs[i], pairs[j] = pairs[j], pairs[i]
	}
	return pairs
}

type lineOp struct {
	kind byte // ' ', '-', '+'
	text string
	a, b int // line indexes (of a for ' ' and '-', of b for '+')
}

func lineOps(a, b []string) []lineOp {
	m := matchLines(a, b)
	var ops []lineOp
	j := 0
	for i := range a {
		if m[i] < 0 {
			ops = append(ops, lineOp{kind: '-', text: a[i], a: i, b: j})
			continue
		}
		for ; j < m[i]; j++ {
			ops = append(ops, lineOp{kind: '+', text: b[j], a: i, b: j})
		}
		ops = append(ops, lineOp{kind: ' ', text: a[i], a: i, b: j})
		j++
	}
	for ; j < len(b); j++ {
		ops = append(ops, lineOp{kind: '+', text: b[j], a: len(a), b: j})
	}
	return ops
}

// splitLines splits text on \n; joining the result with \n gives the text
// back exactly, so a trailing newline shows as a last empty line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// UnifiedDiff returns a unified line diff (hunks only, no file header) of
// two texts with the given lines of context, or "" when they are equal.
func UnifiedDiff(a, b string, context int) string {
	if a == b {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	ops := lineOps(al, bl)
	var out strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk runs from context lines before the first change to context
		// lines after the last change that is within 2*context of the next.
		start := i - context
		if start < 0 {
			start = 0
		}
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end += min(context, run-end)
				break
			}
			end = run
		}
		var aStart, bStart, aN, bN int
		aStart, bStart = -1, -1
		for _, op := range ops[start:end] {
			switch op.kind {
			case ' ':
				if aStart < 0 {
					aStart, bStart = op.a, op.b
				}
				aN++
				bN++
			case '-':
				if aStart < 0 {
					aStart, bStart = op.a, op.b
				}
				aN++
			case '+':
				if aStart < 0 {
					aStart, bStart = op.a, op.b
				}
				bN++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aN), hunkRange(bStart, bN))
		for _, op := range ops[start:end] {
			out.WriteByte(op.kind)
			out.WriteString(op.text)
			out.WriteByte('\n')
		}
		i = end
	}
	return out.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// MergeLines is a three-way line merge (diff3): changes of ours and theirs
// to different regions of base are both applied. ok is false when both
// change the same region differently.
func MergeLines(base, ours, theirs string) (merged string, ok bool) {
	switch {
	case ours == theirs, theirs == base:
		return ours, true
	case ours == base:
		return theirs, true
	}
	bl, ol, tl := splitLines(base), splitLines(ours), splitLines(theirs)
	mo, mt := matchLines(bl, ol), matchLines(bl, tl)
	var out []string
	i, a, b := 0, 0, 0
	for {
		// Stable run: base lines kept at the same place on both sides.
		for i < len(bl) && mo[i] == a && mt[i] == b {
			out = append(out, bl[i])
			i, a, b = i+1, a+1, b+1
		}
		if i == len(bl) && a == len(ol) && b == len(tl) {
			break
		}
		// The next base line both sides kept ends the unstable chunk.
		k := i
		for k < len(bl) && (mo[k] < 0 || mt[k] < 0) {
			k++
		}
		ea, eb := len(ol), len(tl)
		if k < len(bl) {
			ea, eb = mo[k], mt[k]
		}
		bc, oc, tc := bl[i:k], ol[a:ea], tl[b:eb]
		switch {
		case equalLines(oc, bc):
			out = append(out, tc...)
		case equalLines(tc, bc), equalLines(oc, tc):
			out = append(out, oc...)
		default:
			return "", false
		}
		i, a, b = k, ea, eb
		if k == len(bl) {
			break
		}
	}
	return strings.Join(out, "\n"), true
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
