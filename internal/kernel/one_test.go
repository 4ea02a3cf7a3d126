package kernel

import (
	"context"
	"os"
	"testing"
)

func BenchmarkOne(b *testing.B) {
	k := newTestKernel(b, Options{})
	r := exec(os.Getenv("CMD"))
	for b.Loop() {
		k.Decide(context.Background(), r)
	}
}
