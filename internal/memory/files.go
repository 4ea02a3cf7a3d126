package memory

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Files EndSession writes in Options.Dir.
const (
	memoryFile      = "MEMORY.md"
	memoryFileOrig  = "MEMORY.md.orig" // the user's own file, kept once before the first rewrite
	dailyLogDir     = "memory"
	maxDailyLog     = 8 << 20
	maxFileSection  = 500 // memories per section of MEMORY.md
	maxFileDecision = 50
	markerPrefix    = "<!-- sentinel-memory sha256="
	markerSuffix    = " written by Sentinel when a session ends; edits under these headings are imported at the next -->"
)

// The headings EndSession writes; ImportMarkdown reads each back as the
// same kind.
const (
	headPreferences = "## ⚙️ Preferences"
	headFacts       = "## 👤 Facts"
	headRules       = "## 🤖 Rules"
	headProjects    = "## 📦 Projects"
	headDecisions   = "## 💡 Key decisions"
	headGlossary    = "## 📖 Glossary"
)

// writeMemoryFile brings Dir/MEMORY.md up to date with the main scope. If
// the file was edited since Sentinel wrote it (or Sentinel never did),
// it is imported first, so that no edit under the known headings is
// lost; a file Sentinel did not write is also kept as MEMORY.md.orig.
// A file that cannot be read or imported is not overwritten.
func (m *Memory) writeMemoryFile(ctx context.Context) error {
	m.fileMu.Lock()
	defer m.fileMu.Unlock()
	if err := os.MkdirAll(m.opt.Dir, 0o700); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	path := filepath.Join(m.opt.Dir, memoryFile)
	data, exists, err := readBounded(path, maxImportBytes)
	if err != nil {
		return fmt.Errorf("memory: reading %s (not overwritten): %w", path, err)
	}
	if exists {
		ours, intact := checkMarker(data)
		if !ours {
			orig := filepath.Join(m.opt.Dir, memoryFileOrig)
			if _, err := os.Lstat(orig); errors.Is(err, fs.ErrNotExist) {
				if err := writeAtomic(orig, data, 0o600); err != nil {
					return fmt.Errorf("memory: keeping %s: %w", orig, err)
				}
			}
		}
		if !intact {
			rep, err := m.ImportMarkdown(ctx, bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("memory: importing the edits in %s (not overwritten): %w", path, err)
			}
			if rep.Added+rep.Updated > 0 {
				m.opt.Logger.Info("memory: imported edits of MEMORY.md", "added", rep.Added, "updated", rep.Updated, "skipped", rep.Skipped)
			}
		}
	}
	content, err := m.renderMemoryFile(ctx)
	if err != nil {
		return err
	}
	return writeAtomic(path, []byte(content), 0o600)
}

// checkMarker reports whether data carries Sentinel's marker line and
// whether the text after it is unchanged since it was written.
func checkMarker(data []byte) (ours, intact bool) {
	i := bytes.Index(data, []byte(markerPrefix))
	if i < 0 {
		return false, false
	}
	end := bytes.IndexByte(data[i:], '\n')
	if end < 0 {
		return true, false
	}
	line, body := data[i:i+end], data[i+end+1:]
	hexSum, _, _ := bytes.Cut(line[len(markerPrefix):], []byte(" "))
	sum := sha256.Sum256(body)
	return true, string(hexSum) == hex.EncodeToString(sum[:])
}

// renderMemoryFile writes the trusted main-scope memory as MEMORY.md.
// Untrusted memories are left out: hosts inject this file into the
// agent's prompt as instructions.
func (m *Memory) renderMemoryFile(ctx context.Context) (string, error) {
	now := m.now()
	var prefs, facts, rules, projects, terms []Record
	err := m.each(ctx, Query{Layer: LayerSemantic, Scope: ScopeMain, Agent: m.opt.Agent, MaxLevel: -1}, func(r *Record) error {
		if !m.fileWorthy(r) {
			return nil
		}
		switch r.Kind {
		case KindPreference:
			prefs = append(prefs, *r)
		case KindFact:
			facts = append(facts, *r)
		case KindRule:
			if m.liveConfidence(r, now) >= m.opt.MinRuleConfidence {
				rules = append(rules, *r)
			}
		case KindProject:
			projects = append(projects, *r)
		case KindGlossary:
			terms = append(terms, *r)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("memory: reading semantic memory: %w", err)
	}
	decisions, err := m.store.SearchMemory(ctx, Query{Layer: LayerEpisodic, Kind: EventDecision, Scope: ScopeMain,
		Agent: m.opt.Agent, MaxLevel: -1, Limit: maxFileDecision})
	if err != nil {
		return "", fmt.Errorf("memory: reading decisions: %w", err)
	}
	decisions = slices.DeleteFunc(decisions, func(r Record) bool { return !m.fileWorthy(&r) })

	byKey := func(a, b Record) int { return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.ID, b.ID)) }
	slices.SortFunc(prefs, byKey)
	slices.SortFunc(projects, byKey)
	slices.SortFunc(terms, byKey)
	slices.SortFunc(facts, func(a, b Record) int {
		return cmp.Or(cmpFloatDesc(a.Importance, b.Importance), a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
	slices.SortFunc(rules, func(a, b Record) int {
		return cmp.Or(cmpFloatDesc(m.liveConfidence(&a, now), m.liveConfidence(&b, now)), strings.Compare(a.ID, b.ID))
	})
	slices.SortFunc(decisions, func(a, b Record) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})

	var b strings.Builder
	section := func(heading string, rs []Record, line func(*Record)) {
		if len(rs) == 0 {
			return
		}
		b.WriteString("\n" + heading + "\n\n")
		for i := range rs[:min(len(rs), maxFileSection)] {
			line(&rs[i])
		}
	}
	section(headPreferences, prefs, func(r *Record) { b.WriteString("- " + r.Key + ": " + oneLine(r.Text) + "\n") })
	section(headFacts, facts, func(r *Record) { b.WriteString("- " + oneLine(r.Text) + "\n") })
	section(headRules, rules, func(r *Record) { b.WriteString("- " + oneLine(r.Text) + "\n") })
	section(headProjects, projects, func(r *Record) {
		if r != &projects[0] {
			b.WriteString("\n")
		}
		b.WriteString("### " + r.Key + "\n\n")
		for l := range strings.Lines(r.Text) {
			b.WriteString("- " + oneLine(l) + "\n")
		}
	})
	section(headDecisions, decisions, func(r *Record) {
		b.WriteString("- " + r.Created.Format(time.DateOnly) + ": " + oneLine(r.Text) + "\n")
	})
	section(headGlossary, terms, func(r *Record) { b.WriteString("- " + r.Key + ": " + oneLine(r.Text) + "\n") })

	body := b.String()
	sum := sha256.Sum256([]byte(body))
	return "# MEMORY.md\n\n" + markerPrefix + hex.EncodeToString(sum[:]) + markerSuffix + "\n" + body, nil
}

// fileWorthy reports whether a record may be written where hosts read it
// as instructions: trusted, and not flagged now.
func (m *Memory) fileWorthy(r *Record) bool {
	if !r.Source.Trusted {
		return false
	}
	flagged, _ := m.flaggedBy(r.Text)
	return !flagged
}

// appendDailyLog adds a session's entry to Dir/memory/YYYY-MM-DD.md.
func (m *Memory) appendDailyLog(session, scope, task, summary string, messages int) error {
	m.fileMu.Lock()
	defer m.fileMu.Unlock()
	now := m.now()
	dir := filepath.Join(m.opt.Dir, dailyLogDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	path := filepath.Join(dir, now.Format(time.DateOnly)+".md")
	data, exists, err := readBounded(path, maxDailyLog)
	if err != nil {
		return fmt.Errorf("memory: reading the daily log: %w", err)
	}
	if !exists {
		data = []byte("# " + now.Format(time.DateOnly) + "\n")
	}
	var e strings.Builder
	e.WriteString("\n## " + now.Format("15:04") + " session " + oneLine(session) + " (" + scope + ")\n\n")
	if task != "" {
		e.WriteString("- Task: " + oneLine(task) + "\n")
	}
	e.WriteString("- Summary: " + oneLine(summary) + "\n")
	e.WriteString("- Messages: " + strconv.Itoa(messages) + "\n")
	if len(data)+e.Len() > maxDailyLog {
		return fmt.Errorf("%w: the daily log %s has reached %d bytes", ErrLimit, path, maxDailyLog)
	}
	return writeAtomic(path, append(data, e.String()...), 0o600)
}

// readBounded reads a regular file of at most max bytes; a missing file
// is not an error (exists is false). A symbolic link is refused: the
// directory may be the agent's, and a link could make Sentinel read (and
// import) a file elsewhere.
func readBounded(path string, max int64) (data []byte, exists bool, err error) {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !info.Mode().IsRegular() {
		return nil, true, fmt.Errorf("%w: %s is not a regular file", ErrInvalid, path)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, true, err
	}
	if int64(len(data)) > max {
		return nil, true, fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, path, max)
	}
	return data, true, nil
}

// writeAtomic replaces path with data: a reader sees the old file or the
// new one, never a part.
func writeAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("memory: writing %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // the rename is durable once the directory is
		d.Close()
	}
	return nil
}

func cmpFloatDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
