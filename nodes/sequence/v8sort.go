package sequence

import "sort"

// v8Sort sorts n items as V8's Array.prototype.sort does for short arrays:
// TimSort's run detection followed by binary insertion. With a consistent
// comparator every stable sort agrees; Node-RED's comparators are not
// always consistent (numbers against strings), and then only the same
// algorithm gives the same order. Longer arrays fall back to a stable sort.
// cmp(i, j) compares items i and j (as the comparator's x and y); swap and
// move reorder them.
func v8Sort(n int, cmp func(a, b int) int, perm []int) {
	if n < 2 {
		return
	}
	if n >= 64 {
		sort.SliceStable(perm, func(i, j int) bool { return cmp(perm[i], perm[j]) < 0 })
		return
	}
	// One run covers the whole array below 64 elements.
	run := countAndMakeRun(perm, cmp)
	binaryInsertion(perm, run, cmp)
}

func countAndMakeRun(a []int, cmp func(x, y int) int) int {
	if len(a) == 1 {
		return 1
	}
	run := 2
	desc := cmp(a[1], a[0]) < 0
	prev := a[1]
	for i := 2; i < len(a); i++ {
		order := cmp(a[i], prev)
		if desc && order >= 0 || !desc && order < 0 {
			break
		}
		prev = a[i]
		run++
	}
	if desc {
		for i, j := 0, run-1; i < j; i, j = i+1, j-1 {
			a[i], a[j] = a[j], a[i]
		}
	}
	return run
}

func binaryInsertion(a []int, start int, cmp func(x, y int) int) {
	if start == 0 {
		start = 1
	}
	for ; start < len(a); start++ {
		left, right := 0, start
		pivot := a[start]
		for left < right {
			mid := left + (right-left)>>1
			if cmp(pivot, a[mid]) < 0 {
				right = mid
			} else {
				left = mid + 1
			}
		}
		copy(a[left+1:start+1], a[left:start])
		a[left] = pivot
	}
}

// sortedOrder returns the order V8 would put items in, as indexes.
func sortedOrder(n int, cmp func(i, j int) int) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	v8Sort(n, cmp, perm)
	return perm
}
