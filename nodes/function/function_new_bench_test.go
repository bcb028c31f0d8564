package function

import "testing"

// BenchmarkFunctionNew is the cost of one function node at deploy: a flow
// with hundreds of them deploys in hundreds of these.
func BenchmarkFunctionNew(b *testing.B) {
	spec := `{"id":"f","type":"function","func":"msg.payload = msg.payload * 2;\nreturn msg;","outputs":1}`
	for b.Loop() {
		build(b, "function", spec)
	}
}
