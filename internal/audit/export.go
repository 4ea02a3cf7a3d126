package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"time"
)

// Export writes the chain from the store as JSON Lines: each line is an
// event's or a checkpoint's canonical encoding, byte for byte as stored,
// checkpoints right after the event they sign (an anchor before the first
// event). Events before since are left out, with the latest checkpoint
// before them kept as the export's anchor so that the file verifies on
// its own. It returns how many events it wrote.
func Export(ctx context.Context, s Store, w io.Writer, since time.Time) (uint64, error) {
	cks, err := s.Checkpoints(ctx, 0)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var n uint64
	i := 0
	var anchor *Checkpoint
	started := false
	err = s.Scan(ctx, 0, func(r Record) error {
		for i < len(cks) && cks[i].Seq < r.Seq {
			if started {
				if err := writeLine(bw, cks[i].Body); err != nil {
					return err
				}
			} else {
				anchor = &cks[i]
			}
			i++
		}
		if !since.IsZero() && r.Time.Before(since) {
			return nil
		}
		if !started {
			started = true
			if anchor != nil && anchor.Seq == r.Seq-1 {
				if err := writeLine(bw, anchor.Body); err != nil {
					return err
				}
			} else if r.Seq != 1 {
				return fmt.Errorf("audit: cannot export from event %s: no signed checkpoint for event %s to anchor the file (events before it were exported without one); export from an earlier time or run 'sentinel audit verify' first", shortSeq(r.Seq), shortSeq(r.Seq-1))
			}
		}
		n++
		return writeLine(bw, r.Body)
	})
	if err != nil {
		return n, err
	}
	if started {
		for ; i < len(cks); i++ {
			if err := writeLine(bw, cks[i].Body); err != nil {
				return n, err
			}
		}
	}
	return n, bw.Flush()
}

func writeLine(w *bufio.Writer, b []byte) error {
	if bytes.IndexByte(b, '\n') >= 0 {
		return fmt.Errorf("audit: a stored body contains a newline; the store is damaged")
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.WriteByte('\n')
}

// maxLine bounds one exported line.
const maxLine = 8 << 20

// VerifyFile checks an exported JSON Lines file.
func VerifyFile(r io.Reader, trusted ...ed25519.PublicKey) (Report, error) {
	return VerifyFileWith(r, NewVerifier(trusted...))
}

// VerifyFileWith checks an exported JSON Lines file with a configured
// verifier.
func VerifyFileWith(r io.Reader, v *Verifier) (Report, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	line := 0
	for sc.Scan() && !v.Done() {
		line++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		v.Line(line)
		if bytes.Contains(b[:min(len(b), 64)], []byte(`"type":"checkpoint"`)) {
			v.Checkpoint(b)
		} else {
			v.Event(b, 0, "")
		}
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("audit: reading line %d: %w", line+1, err)
	}
	return v.Finish(), nil
}
