package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Mode is how durable an append is when Record returns.
type Mode int

const (
	// Sync: Record returns once the event is committed durably.
	// Concurrent callers share commits (group commit) but each waits for
	// its own.
	Sync Mode = iota
	// Batch: Record queues the event and returns; a writer commits the
	// queue every Window or BatchMax events. Flush waits for everything
	// queued before it.
	Batch
)

// OnFailure is what a batch log does when the store fails or the queue is
// full.
type OnFailure int

const (
	// FailClosed refuses new events (Record errors, so the kernel denies)
	// until the store accepts writes again.
	FailClosed OnFailure = iota
	// BufferAlert keeps queueing in memory up to QueueMax, retries, and
	// calls Alert; only a full queue refuses.
	BufferAlert
)

// Options configure a Log.
type Options struct {
	Mode Mode
	// Window is how long a batch waits for more events (default 5 ms).
	Window time.Duration
	// BatchMax is the most events in one commit (default 1000, at most
	// 10,000).
	BatchMax int
	// QueueMax bounds the events waiting in memory (default 100,000); a
	// Record that finds the queue full waits up to a second for room, then
	// fails.
	QueueMax  int
	OnFailure OnFailure
	// CheckpointEvery signs a checkpoint every N events (default 1000);
	// Close signs one too.
	CheckpointEvery uint64
	// Key signs checkpoints; without one no checkpoints are written.
	Key *Key
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Alert is told about store failures in BufferAlert mode.
	Alert func(error)
	// OnCommit, when set, is told about every commit the writer makes:
	// how many events, how long the store took, and its error.
	OnCommit func(events int, took time.Duration, err error)
}

// ErrUnavailable wraps every error that means the event was not recorded.
var ErrUnavailable = errors.New("audit log unavailable")

// Log appends events to a Store as a hash chain.
type Log struct {
	store Store
	opts  Options

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []item
	failed   error // last commit error (batch)
	closed   bool
	queued   uint64 // events ever queued
	flushNow bool   // a Flush is waiting: commit without waiting for Window
	done     uint64 // events committed (or failed, for sync items)
	lastCk   uint64
	commits  uint64
	head     Head
	wake     chan struct{}
	stopped  chan struct{}
	// unsure is where the last failed batch would have started when its
	// commit failed after sealing: the store may have committed it all
	// the same (a connection lost after COMMIT was sent), and its retry
	// looks there first rather than appending the events twice. Only the
	// writer goroutine uses it.
	unsure struct {
		seq uint64
		id  string
		n   int
	}
}

// maxBatch is the most events in one commit: the most a store's Query
// returns at once.
const maxBatch = 10_000

type item struct {
	ev *Event
	// tail is the event's encoding from "id" on, built by the caller so
	// that the writer only adds the head fields and hashes.
	tail []byte
	t    time.Time
	ack  chan error // sync only
	tick uint64     // queue position
}

// Open starts a log on s.
func Open(ctx context.Context, s Store, opts Options) (*Log, error) {
	if opts.Window <= 0 {
		opts.Window = 5 * time.Millisecond
	}
	if opts.BatchMax <= 0 {
		opts.BatchMax = 1000
	}
	// A retry reads a failed batch back in one query, which stores cap.
	opts.BatchMax = min(opts.BatchMax, maxBatch)
	if opts.QueueMax <= 0 {
		opts.QueueMax = 100_000
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h, err := s.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the chain head: %v", ErrUnavailable, err)
	}
	cks, err := s.Checkpoints(ctx, h.Seq)
	if err != nil {
		return nil, fmt.Errorf("%w: reading checkpoints: %v", ErrUnavailable, err)
	}
	l := &Log{store: s, opts: opts, head: h, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	l.lastCk = h.Seq
	if len(cks) == 0 && h.Seq > 0 {
		l.lastCk = 0 // the tail is unsigned: sign it at the next chance
	}
	l.cond = sync.NewCond(&l.mu)
	go l.run()
	return l, nil
}

// NewID returns a random event ID.
func NewID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "e_" + hex.EncodeToString(b[:])
}

// Record appends ev. It fills ID and Time when empty. In Sync mode it
// returns once the event is durable; in Batch mode once it is queued. An
// error (wrapping ErrUnavailable) means the event is not recorded and the
// caller must fail closed.
func (l *Log) Record(ctx context.Context, ev Event) error {
	if ev.ID == "" {
		ev.ID = NewID()
	}
	var t time.Time
	if ev.Time == "" {
		t = l.opts.Now().UTC()
		ev.Time = FormatTime(t)
	} else {
		var err error
		if t, err = ParseTime(ev.Time); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	if ev.Type == "" {
		ev.Type = TypeDecision
	}
	tail, err := ev.encodeTail()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	it := item{ev: &ev, tail: tail, t: t}
	if l.opts.Mode == Sync {
		it.ack = make(chan error, 1)
	}
	l.mu.Lock()
	if len(l.queue) >= l.opts.QueueMax && !l.closed && l.failed == nil {
		// A burst beyond what the store takes: wait a moment for room (the
		// writer signals after every commit) rather than refuse at once.
		l.waitForRoom(ctx)
	}
	switch {
	case l.closed:
		l.mu.Unlock()
		return fmt.Errorf("%w: the log is closed", ErrUnavailable)
	case l.failed != nil && l.opts.Mode == Batch && l.opts.OnFailure == FailClosed:
		err := l.failed
		l.mu.Unlock()
		return fmt.Errorf("%w: the store failed: %v", ErrUnavailable, err)
	case len(l.queue) >= l.opts.QueueMax:
		l.mu.Unlock()
		return fmt.Errorf("%w: %d events are waiting for the store", ErrUnavailable, len(l.queue))
	}
	l.queued++
	it.tick = l.queued
	l.queue = append(l.queue, it)
	// In batch mode the writer needs waking only to start a window (the
	// first event) or to end one early (a full batch); waking it for
	// every event made it re-check the queue once per event.
	if l.opts.Mode == Sync || len(l.queue) == 1 || len(l.queue) >= l.opts.BatchMax {
		l.signalLocked()
	}
	l.mu.Unlock()
	if it.ack == nil {
		return nil
	}
	select {
	case err := <-it.ack:
		return err
	case <-ctx.Done():
		// The event may still be committed; the caller is not told it was.
		return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
}

// maxQueueWait bounds how long Record waits for room in a full queue.
const maxQueueWait = time.Second

// waitForRoom waits, with l.mu held, until the queue has room, the store
// fails, the log closes, ctx ends or maxQueueWait passes.
func (l *Log) waitForRoom(ctx context.Context) {
	deadline := time.Now().Add(maxQueueWait)
	wake := func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	}
	t := time.AfterFunc(maxQueueWait, wake)
	defer t.Stop()
	stop := context.AfterFunc(ctx, wake)
	defer stop()
	for len(l.queue) >= l.opts.QueueMax && !l.closed && l.failed == nil && ctx.Err() == nil && time.Now().Before(deadline) {
		l.cond.Wait()
	}
}

// Flush waits until every event queued before it is committed, and
// returns the store's error if the commit failed.
func (l *Log) Flush(ctx context.Context) error {
	l.mu.Lock()
	target := l.queued
	l.flushNow = true
	l.signalLocked()
	l.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.done < target {
		if l.failed != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, l.failed)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		l.cond.Wait()
	}
	if l.failed != nil && l.done < l.queued {
		return fmt.Errorf("%w: %v", ErrUnavailable, l.failed)
	}
	return nil
}

// signalLocked wakes the writer; l.mu is held.
func (l *Log) signalLocked() {
	if l.closed {
		return
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Err returns why the log refuses events right now: it is closed, or (in
// batch mode) its last commit failed. nil means it accepts them.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return fmt.Errorf("%w: the log is closed", ErrUnavailable)
	case l.failed != nil:
		return fmt.Errorf("%w: the store failed: %v", ErrUnavailable, l.failed)
	}
	return nil
}

// LogStats is a snapshot of the writer's progress.
type LogStats struct {
	// Queued counts events ever accepted; Done those committed (or
	// answered with an error, in sync mode). Waiting is what is queued
	// now: the log's lag in events.
	Queued, Done uint64
	Waiting      int
	Commits      uint64
	Failing      bool
}

// Stats returns the writer's counters.
func (l *Log) Stats() LogStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LogStats{Queued: l.queued, Done: l.done, Waiting: len(l.queue), Commits: l.commits, Failing: l.failed != nil}
}

// Head returns the end of the chain as this log last wrote or saw it.
func (l *Log) Head() Head {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// Close flushes, signs a shutdown checkpoint, and stops the writer. It does
// not close the store.
func (l *Log) Close(ctx context.Context) error {
	ferr := l.Flush(ctx)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ferr
	}
	l.closed = true
	close(l.wake)
	l.mu.Unlock()
	<-l.stopped
	if ferr != nil {
		return ferr
	}
	return l.checkpoint(ctx, ReasonShutdown, true)
}

// Checkpoint signs a checkpoint at the current head now.
func (l *Log) Checkpoint(ctx context.Context, reason string) error {
	return l.checkpoint(ctx, reason, true)
}

func (l *Log) checkpoint(ctx context.Context, reason string, force bool) error {
	if l.opts.Key == nil {
		return nil
	}
	// A forced checkpoint (close, on demand) signs the chain's true head,
	// which other writers may have moved; an interval one signs the head
	// this log's last commit made, a point of the chain all the same.
	var h Head
	if force {
		var err error
		if h, err = l.store.Head(ctx); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	} else {
		l.mu.Lock()
		h = l.head
		l.mu.Unlock()
	}
	l.mu.Lock()
	if h.Seq == 0 || !force && h.Seq < l.lastCk+l.opts.CheckpointEvery {
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	c := NewCheckpoint(h, l.opts.Now(), reason)
	if err := l.opts.Key.Sign(c); err != nil {
		return err
	}
	body, err := c.Encode()
	if err != nil {
		return err
	}
	if err := l.store.PutCheckpoint(ctx, Checkpoint{Seq: c.Seq, Hash: c.Hash, Body: body}); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil // another writer signed this head first
		}
		return fmt.Errorf("%w: storing a checkpoint: %v", ErrUnavailable, err)
	}
	l.mu.Lock()
	l.lastCk = max(l.lastCk, h.Seq)
	l.mu.Unlock()
	return nil
}

// run is the writer: it takes what is queued (in Batch mode waiting up to
// Window for BatchMax events, unless a Flush asks now), appends it in one
// transaction, and acknowledges.
func (l *Log) run() {
	defer close(l.stopped)
	open := true
	for open {
		_, open = <-l.wake
		for {
			if l.opts.Mode == Batch && open {
				open = l.gather()
			}
			l.mu.Lock()
			l.flushNow = false
			n := min(len(l.queue), l.opts.BatchMax)
			if n == 0 {
				l.mu.Unlock()
				break
			}
			batch := append([]item(nil), l.queue[:n]...)
			l.mu.Unlock()
			start := time.Now()
			landed, err := l.commit(batch)
			if l.opts.OnCommit != nil {
				l.opts.OnCommit(len(batch), time.Since(start), err)
			}
			l.mu.Lock()
			l.commits++
			switch {
			case err == nil || l.opts.Mode == Sync:
				// A failed sync batch is answered with the error; a failed
				// batch-mode batch stays queued and is retried.
				l.queue = l.queue[n:]
				l.done = batch[len(batch)-1].tick
			case landed > 0:
				// The first events were found committed by an earlier
				// attempt: only the rest is retried.
				l.queue = l.queue[landed:]
				l.done = batch[landed-1].tick
			}
			l.failed = err
			l.cond.Broadcast()
			l.mu.Unlock()
			for _, it := range batch {
				if it.ack != nil {
					if err != nil {
						it.ack <- fmt.Errorf("%w: %v", ErrUnavailable, err)
					} else {
						it.ack <- nil
					}
				}
			}
			if err != nil && l.opts.Mode == Batch {
				if l.opts.Alert != nil {
					l.opts.Alert(err)
				}
				if !open {
					return
				}
				time.Sleep(50 * time.Millisecond)
				continue
			}
			if err == nil {
				_ = l.checkpoint(context.Background(), ReasonInterval, false)
			}
		}
	}
}

// gather waits up to Window for the queue to fill to BatchMax; a Flush or
// Close ends the wait early. It returns false once the log is closing.
func (l *Log) gather() bool {
	t := time.NewTimer(l.opts.Window)
	defer t.Stop()
	for {
		l.mu.Lock()
		n, now := len(l.queue), l.flushNow
		l.mu.Unlock()
		if n == 0 || n >= l.opts.BatchMax || now {
			return true
		}
		select {
		case <-t.C:
			return true
		case _, ok := <-l.wake:
			if !ok {
				return false
			}
		}
	}
}

// commit appends batch and reports how many of its first events are
// known committed when it fails (those an earlier attempt committed).
func (l *Log) commit(batch []item) (int, error) {
	ctx := context.Background()
	h, done, err := l.committedBefore(ctx, batch)
	if err != nil {
		return 0, err
	}
	if done > 0 {
		l.mu.Lock()
		l.head = h
		l.mu.Unlock()
		// Events queued since the failed attempt follow it as usual.
		if batch = batch[done:]; len(batch) == 0 {
			return done, nil
		}
	}
	sealedAt := uint64(0)
	h, err = l.store.Append(ctx, func(head Head) ([]Record, error) {
		sealedAt = head.Seq + 1
		recs := make([]Record, 0, len(batch))
		prev := head.Hash
		for i, it := range batch {
			seq := head.Seq + uint64(i) + 1
			body, h := sealTail(seq, prev, it.tail)
			recs = append(recs, it.ev.row(seq, prev, h, it.t, body))
			prev = h
		}
		return recs, nil
	})
	if err != nil {
		if sealedAt > 0 && !errors.Is(err, ErrConflict) {
			l.unsure.seq, l.unsure.id, l.unsure.n = sealedAt, batch[0].ev.ID, len(batch)
		}
		return done, err
	}
	l.mu.Lock()
	l.head = h
	l.mu.Unlock()
	return done, nil
}

// committedBefore reports how many of batch's first events an attempt
// that failed after sealing them committed all the same, and the head they
// left. A batch is one transaction, so it is all or none of the batch that
// failed; the batch retried starts with that one (batch mode keeps failed
// events first in the queue) and may be longer.
func (l *Log) committedBefore(ctx context.Context, batch []item) (Head, int, error) {
	u := l.unsure
	if u.seq == 0 {
		return Head{}, 0, nil
	}
	if batch[0].ev.ID != u.id || len(batch) < u.n {
		l.unsure.seq = 0
		return Head{}, 0, nil
	}
	recs, err := l.store.Query(ctx, Filter{AfterSeq: u.seq - 1, Limit: u.n})
	if err != nil {
		return Head{}, 0, err // still unsure: keep the mark and retry later
	}
	l.unsure.seq = 0
	done := 0
	for done < len(recs) && recs[done].Seq == u.seq+uint64(done) && recs[done].EventID == batch[done].ev.ID {
		done++
	}
	if done == 0 {
		return Head{}, 0, nil
	}
	last := recs[done-1]
	return Head{Seq: last.Seq, Hash: last.Hash}, done, nil
}
