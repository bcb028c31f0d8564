//go:build race

package jsonataref

// The race detector slows goja about tenfold; the suite then runs a sample.
const raceEnabled = true
