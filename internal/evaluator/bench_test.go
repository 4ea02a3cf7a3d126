package evaluator

import (
	"testing"
	"time"
)

// BenchmarkProfile100k computes the profile of 100,000 realistic events
// (five agents, two hundred sessions, a week): the budget is 100 ms.
func BenchmarkProfile100k(b *testing.B) {
	events := genEvents(100_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		p := ProfileOf(events, Options{})
		if p.All.Counts.Events != 100_000 {
			b.Fatalf("counted %d events", p.All.Counts.Events)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/profile")
}

// BenchmarkIngest is the cost of keeping a profile current, per event.
func BenchmarkIngest(b *testing.B) {
	events := genEvents(100_000, 2)
	a := newAggregator(Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := events[i%len(events)]
		// Keep time moving forward across passes over the events.
		e.Time = e.Time.Add(time.Duration(i/len(events)) * 7 * 24 * time.Hour)
		if err := a.Ingest(e); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAggregatorProfile is the cost of reading a current profile
// out of an aggregator holding 100,000 events.
func BenchmarkAggregatorProfile(b *testing.B) {
	a := newAggregator(Options{})
	for _, e := range genEvents(100_000, 3) {
		if err := a.Ingest(e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Profile(time.Time{})
	}
}

func BenchmarkDrift(b *testing.B) {
	events := genEvents(100_000, 4)
	base := BaselineOf(events, "agent-1", time.Time{}, ago(24*time.Hour))
	recent := BaselineOf(events, "agent-1", ago(24*time.Hour), time.Time{})
	b.ReportAllocs()
	for b.Loop() {
		Drift(base, recent)
	}
}
