package memory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Bounds of a MEMORY.md import.
const (
	maxImportBytes = 4 << 20
	maxImportItems = 10000
	maxProblems    = 20
)

// mdItem is one memory found in a MEMORY.md file.
type mdItem struct {
	kind string // a semantic kind, or EventDecision
	key  string
	text string
	line int
	date time.Time
}

// mdSection maps a heading to a kind of memory by words it contains, in
// the seed's file (👤 关于老板, 🤖 我的工作方式, 📦 coderev, 💻 环境记录,
// 💡 关键决策记录) and in the file EndSession writes. The first match
// wins, so the more specific words come first.
var mdSection = []struct {
	kind  string
	words []string
}{
	{EventDecision, []string{"💡", "决策", "decision"}},
	{KindRule, []string{"🤖", "工作方式", "规则", "how i work", "working style", "rules"}},
	{KindProject, []string{"📦", "项目", "project"}},
	{KindPreference, []string{"⚙", "偏好", "preference"}},
	{KindGlossary, []string{"📖", "术语", "glossary"}},
	{KindFact, []string{"👤", "🆔", "💻", "关于", "环境", "事实", "about", "environment", "facts", "user"}},
}

func classifyHeading(title string) string {
	lower := strings.ToLower(title)
	for _, s := range mdSection {
		for _, w := range s.words {
			if strings.Contains(lower, w) {
				return s.kind
			}
		}
	}
	return ""
}

// projectName is a project heading's name: "📦 coderev" → "coderev";
// "📦 Projects" → "" (the projects are named below it).
func projectName(title string) string {
	name := strings.TrimFunc(title, func(r rune) bool { return r > 0x2000 && !isCJK(r) || r == ' ' || r == '\ufe0f' })
	for _, w := range []string{"projects", "project", "项目"} {
		if strings.EqualFold(name, w) {
			return ""
		}
		if len(name) > len(w) && strings.EqualFold(name[:len(w)], w) && (name[len(w)] == ' ' || name[len(w)] == ':') {
			name = strings.TrimLeft(name[len(w):], " :")
		}
	}
	return strings.TrimSpace(name)
}

var (
	headingRe   = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	bulletRe    = regexp.MustCompile(`^(\s*)(?:[-*+]|\d{1,3}[.)])\s+(.*)$`)
	checkboxRe  = regexp.MustCompile(`^\[[ xX]\]\s+`)
	tableRe     = regexp.MustCompile(`^\s*\|(.*)\|\s*$`)
	tableSepRe  = regexp.MustCompile(`^\s*\|?(\s*:?-{2,}:?\s*\|)+\s*(:?-{2,}:?\s*)?\|?\s*$`)
	datePrefix  = regexp.MustCompile(`^\**(\d{4}-\d{2}-\d{2})\**\s*[:：—–-]?\s*(.*)$`)
	keyValueSep = regexp.MustCompile(`\s*(?:[:：=]|\s[—–-]\s)\s*`)
)

// parseMemoryMarkdown finds the bullets and table rows under the known
// headings. Problems name the line and why it was skipped.
func parseMemoryMarkdown(data string) (items []mdItem, problems []string, skipped int) {
	type frame struct {
		level      int
		kind, name string
	}
	var stack []frame
	current := func() frame {
		if len(stack) == 0 {
			return frame{}
		}
		return stack[len(stack)-1]
	}
	problem := func(line int, format string, args ...any) {
		skipped++
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
		}
	}
	var fence string
	inComment := false
	tableRow := 0
	var header *mdItem
	last := -1 // index of the item a continuation line extends
	n := 0
	for raw := range strings.Lines(data) {
		n++
		line := strings.TrimRight(raw, "\r\n")
		trimmed := strings.TrimSpace(line)
		switch {
		case fence != "":
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			fence = trimmed[:3]
			last = -1
			continue
		case inComment:
			inComment = !strings.Contains(line, "-->")
			continue
		case strings.HasPrefix(trimmed, "<!--"):
			inComment = !strings.Contains(trimmed, "-->")
			continue
		}
		if !tableRe.MatchString(line) {
			if header != nil && current().kind != "" {
				items = append(items, *header) // a first row without a separator is data
			}
			header, tableRow = nil, 0
		}
		if m := headingRe.FindStringSubmatch(line); m != nil {
			level, title := len(m[1]), m[2]
			for len(stack) > 0 && stack[len(stack)-1].level >= level {
				stack = stack[:len(stack)-1]
			}
			f := frame{level: level, kind: classifyHeading(title)}
			parent := current()
			switch {
			case parent.kind == KindProject && parent.name == "":
				// Under "📦 Projects", a heading names a project.
				f.kind, f.name = KindProject, projectName(title)
				if f.name == "" {
					f.name = strings.TrimSpace(title)
				}
			case f.kind == KindProject:
				f.name = projectName(title)
			case f.kind == "" && parent.kind != "":
				f.kind, f.name = parent.kind, parent.name
				if parent.kind == KindProject {
					f.name = strings.TrimSpace(title)
				}
			}
			stack = append(stack, f)
			last = -1
			continue
		}
		sec := current()
		if trimmed == "" {
			continue
		}
		if sec.kind == "" {
			continue // not a memory section: notes of the user's own
		}
		if m := tableRe.FindStringSubmatch(line); m != nil {
			last = -1
			if tableSepRe.MatchString(line) {
				if tableRow == 1 {
					header = nil // the first row was the table's header
				}
				tableRow++
				continue
			}
			var cells []string
			for c := range strings.SplitSeq(m[1], "|") {
				if c = strings.TrimSpace(c); c != "" {
					cells = append(cells, c)
				}
			}
			tableRow++
			if len(cells) == 0 {
				continue
			}
			it := tableItem(sec.kind, sec.name, cells, n)
			if tableRow == 1 {
				header = &it
				continue
			}
			items = append(items, it)
			continue
		}
		if m := bulletRe.FindStringSubmatch(line); m != nil {
			text := checkboxRe.ReplaceAllString(strings.TrimSpace(m[2]), "")
			if text == "" {
				continue
			}
			items = append(items, mdItem{kind: sec.kind, key: sec.name, text: text, line: n})
			last = len(items) - 1
			continue
		}
		if last >= 0 && (strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "\t")) {
			items[last].text += " " + trimmed // a bullet's continuation line
			continue
		}
		problem(n, "not a bullet or table row under a %s heading", sec.kind)
	}
	if header != nil && current().kind != "" {
		items = append(items, *header)
	}
	return items, problems, skipped
}

func tableItem(kind, name string, cells []string, line int) mdItem {
	it := mdItem{kind: kind, key: name, line: line}
	if (keyed(kind) && name == "") && len(cells) >= 2 {
		it.key, it.text = cells[0], strings.Join(cells[1:], " — ")
		it.key = strings.Trim(it.key, "*_` ")
		return it
	}
	it.text = strings.Join(cells, " — ")
	return it
}

// resolve turns a parsed item into what is stored: a key and value split
// for preferences, terms and unnamed projects, a date for decisions.
func (it *mdItem) resolve() error {
	switch {
	case it.kind == EventDecision:
		if m := datePrefix.FindStringSubmatch(it.text); m != nil && m[2] != "" {
			if d, err := time.Parse(time.DateOnly, m[1]); err == nil {
				it.date, it.text = d, m[2]
			}
		}
	case keyed(it.kind) && it.key == "":
		loc := keyValueSep.FindStringIndex(it.text)
		if loc == nil || loc[0] == 0 {
			return fmt.Errorf("line %d: a %s needs \"name: value\"", it.line, it.kind)
		}
		it.key = strings.Trim(it.text[:loc[0]], "*_` ")
		it.text = it.text[loc[1]:]
	}
	return nil
}

// ImportReport says what ImportMarkdown did.
type ImportReport struct {
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Flagged counts memories the injection check flagged: they are
	// stored untrusted, never as instructions.
	Flagged int `json:"flagged"`
	// Skipped counts lines that could not be read as a memory; Problems
	// names the first 20 (line number and reason).
	Skipped  int      `json:"skipped"`
	Problems []string `json:"problems,omitempty"`
}

// ImportMarkdown imports a MEMORY.md file into the main scope: bullets and
// table rows under the seed's headings become facts (👤 about the user,
// 🆔 about me, 💻 environment), rules (🤖 how I work), project contexts
// (📦 <project>), preferences, glossary terms and decision events (💡 key
// decisions). Other headings are the user's own notes and are left
// alone. Importing the same file again adds nothing: every memory is
// keyed by its content (or its subject), and a re-import is not counted
// as a confirmation. The source is Source{Kind: import, Trusted: true};
// every line is scanned like any other write.
func (m *Memory) ImportMarkdown(ctx context.Context, r io.Reader) (ImportReport, error) {
	if m.err != nil {
		return ImportReport{}, m.err
	}
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return ImportReport{}, fmt.Errorf("memory: reading the markdown: %w", err)
	}
	if len(data) > maxImportBytes {
		return ImportReport{}, fmt.Errorf("%w: the markdown is over %d bytes", ErrTooLarge, maxImportBytes)
	}
	items, problems, skipped := parseMemoryMarkdown(string(data))
	rep := ImportReport{Skipped: skipped, Problems: problems}
	if len(items) > maxImportItems {
		return rep, fmt.Errorf("%w: %d memories in the markdown, at most %d", ErrLimit, len(items), maxImportItems)
	}
	skip := func(err error) {
		rep.Skipped++
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, err.Error())
		}
	}
	// A named project's bullets are one context, in order.
	var writes []mdItem
	projects := map[string]int{}
	for _, it := range items {
		if err := it.resolve(); err != nil {
			skip(err)
			continue
		}
		if it.kind == KindProject {
			if i, ok := projects[it.key]; ok {
				writes[i].text += "\n" + it.text
				continue
			}
			projects[it.key] = len(writes)
		}
		writes = append(writes, it)
	}
	src := Source{Kind: SourceImport, Trusted: true}
	for _, it := range writes {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var res writeResult
		var rec Record
		var err error
		if it.kind == EventDecision {
			rec, res, err = m.importDecision(ctx, it)
		} else {
			rec, res, err = m.putSemantic(ctx, semanticWrite{kind: it.kind, key: it.key, text: it.text, src: src, multiLine: it.kind == KindProject})
		}
		switch {
		case Code(err) == "":
			if err != nil {
				return rep, err // the store failed: stop, the import can be run again
			}
		case errors.Is(err, ErrLimit):
			return rep, err
		default:
			skip(fmt.Errorf("line %d: %w", it.line, err))
			continue
		}
		switch res {
		case resultAdded:
			rep.Added++
		case resultUpdated, resultConfirmed:
			rep.Updated++
		default:
			rep.Unchanged++
		}
		if res != resultUnchanged && !rec.Source.Trusted {
			rep.Flagged++
		}
	}
	return rep, nil
}

// importDecision records a decision unless the same decision is already
// remembered (imported before, or written to MEMORY.md from this memory).
func (m *Memory) importDecision(ctx context.Context, it mdItem) (Record, writeResult, error) {
	s, err := m.scan("decision", it.text, m.opt.MaxTextBytes, false)
	if err != nil {
		return Record{}, 0, err
	}
	id := recordID("e", m.opt.Agent, ScopeMain, EventDecision, "import", s.text)
	if r, err := m.store.GetMemory(ctx, id); err == nil {
		return r, resultUnchanged, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Record{}, 0, err
	}
	words := queryWords(s.text, 8)
	rs, err := m.store.SearchMemory(ctx, Query{Text: strings.Join(words, " "), Layer: LayerEpisodic, Kind: EventDecision,
		Scope: ScopeMain, Agent: m.opt.Agent, MaxLevel: -1, Limit: 50})
	if err != nil {
		return Record{}, 0, err
	}
	for _, r := range rs {
		if oneLine(r.Text) == s.text || oneLine(r.Summary) == s.text || oneLine(r.OneLine) == s.text {
			return r, resultUnchanged, nil
		}
	}
	at := it.date
	if at.IsZero() || at.After(m.now()) {
		at = m.now()
	}
	r, err := m.remember(ctx, id, Event{Type: EventDecision, Text: it.text, Time: at,
		Source: Source{Kind: SourceImport, Trusted: true}}, ScopeMain, true)
	return r, resultAdded, err
}
