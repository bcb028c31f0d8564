//go:build race

package kafka

// raceEnabled shrinks the end-to-end bridge runs: the race detector slows
// the in-process Kafka broker several times over.
const raceEnabled = true
