//go:build race

package main

// raceEnabled skips allocation counts, which the race detector changes.
const raceEnabled = true
