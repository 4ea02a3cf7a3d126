package snapshot

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// TestConcurrentTakes runs Takes of shared and own files from several
// goroutines while GC runs: every Take succeeds, records its own
// content, and every snapshot left references objects that are there.
func TestConcurrentTakes(t *testing.T) {
	s := newStore(t, Options{})
	ws := t.TempDir()
	write(t, filepath.Join(ws, "shared.txt"), "shared by all", 0o644)
	const workers, rounds = 6, 5
	var wg sync.WaitGroup
	done := make(chan struct{})
	var gcErr error
	var gcRuns int
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for {
			select {
			case <-done:
				return
			default:
			}
			// Age 0: only unreferenced objects and abandoned temporary
			// files may go, never what a Take under way is writing.
			if _, err := s.GC(bg, 0); err != nil {
				gcErr = err
				return
			}
			gcRuns++
		}
	}()
	for w := range workers {
		wg.Go(func() {
			own := fmt.Sprintf("own-%d.txt", w)
			for r := range rounds {
				content := fmt.Sprintf("worker %d round %d", w, r)
				write(t, filepath.Join(ws, own), content, 0o644)
				snap, err := s.Take(bg, fmt.Sprintf("d_%d_%d", w, r), ws, []string{"shared.txt", own})
				if err != nil {
					t.Errorf("Take: %v", err)
					return
				}
				if got := snap.Files[0]; got.Path != own || got.SHA256 != sha(content) || !got.Stored {
					t.Errorf("Take recorded %+v; want %s with %q", got, own, content)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	<-gcDone
	if gcErr != nil {
		t.Fatalf("GC: %v", gcErr)
	}
	if n := checkStore(t, s); n != workers*rounds {
		t.Errorf("%d snapshots; want %d", n, workers*rounds)
	}
	if n := objectCount(t, s); n != workers*rounds+1 {
		t.Errorf("%d objects; want %d (one per content)", n, workers*rounds+1)
	}
	t.Logf("GC ran %d times during the Takes", gcRuns)
}

// TestTwoProcesses shares one store between this process and a child
// taking snapshots and collecting garbage at the same time.
func TestTwoProcesses(t *testing.T) {
	if os.Getenv("SNAPSHOT_CHILD_STORE") != "" {
		t.Skip("the child runs TestChildProcess only")
	}
	s := newStore(t, Options{})
	ws := t.TempDir()
	write(t, filepath.Join(ws, "shared.txt"), "shared", 0o644)
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SNAPSHOT_CHILD_STORE="+s.dir, "SNAPSHOT_CHILD_WS="+ws)
	out := make(chan []byte, 1)
	errc := make(chan error, 1)
	go func() {
		b, err := cmd.CombinedOutput()
		out <- b
		errc <- err
	}()
	takeAndCollect(t, s, ws, "parent")
	if err := <-errc; err != nil {
		t.Fatalf("child: %v\n%s", err, <-out)
	}
	if n := checkStore(t, s); n != 2*childRounds {
		t.Errorf("%d snapshots; want %d", n, 2*childRounds)
	}
}

const childRounds = 15

func TestChildProcess(t *testing.T) {
	dir, ws := os.Getenv("SNAPSHOT_CHILD_STORE"), os.Getenv("SNAPSHOT_CHILD_WS")
	if dir == "" {
		t.Skip("run by TestTwoProcesses")
	}
	s, err := Open(dir, Options{NoGit: true})
	must(t, err)
	takeAndCollect(t, s, ws, "child")
}

func takeAndCollect(t *testing.T, s *Store, ws, who string) {
	ctx := context.Background()
	for r := range childRounds {
		name := fmt.Sprintf("%s-%d.txt", who, r)
		write(t, filepath.Join(ws, name), name, 0o644)
		if _, err := s.Take(ctx, who+"_"+fmt.Sprint(r), ws, []string{"shared.txt", name}); err != nil {
			t.Fatalf("%s Take: %v", who, err)
		}
		if r%3 == 0 {
			if _, err := s.GC(ctx, 0); err != nil {
				t.Fatalf("%s GC: %v", who, err)
			}
		}
	}
}
