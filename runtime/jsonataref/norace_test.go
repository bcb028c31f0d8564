//go:build !race

package jsonataref

const raceEnabled = false
