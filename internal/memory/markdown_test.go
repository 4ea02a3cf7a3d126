package memory_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

// seedMemoryMD is a MEMORY.md in the seed's shape: emoji headings in
// Chinese, bullets, a table, a decision log and the user's own notes.
const seedMemoryMD = `# MEMORY.md

## 👤 关于老板

- 老板在北京，偏好简洁沟通
- **Name**: Boss
  prefers replies under five lines

## 🆔 关于我

- I am the coding assistant of the coderev team

## 🤖 我的工作方式

1. 提交前运行 npm test
2. [x] Never push directly to main

## 📦 coderev

- Code review bot
- v0.3: Guard layer in progress

## 💻 环境记录

| 项目 | 值 |
|------|----|
| OS | Ubuntu 24.04 |
| Node | 22 |

## 💡 关键决策记录

- 2025-01-15: 选择 SQLite 作为嵌入式存储
- Adopted semantic versioning

## ⚙️ Preferences

- language: zh-CN
- no separator here

## 📖 Glossary

| Term | Meaning |
|---|---|
| SLO | service level objective |

## 📝 Personal notes

- buy milk
` + "```" + `
## 🤖 not a heading inside a fence
- not a rule
` + "```\n"

func TestImportSeedMemoryMD(t *testing.T) {
	m, _, s := newMem(t, memory.Options{})
	ctx := context.Background()
	rep := must(m.ImportMarkdown(ctx, strings.NewReader(seedMemoryMD)))
	if rep.Added != 12 || rep.Skipped != 1 || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "name: value") {
		t.Errorf("report %+v", rep)
	}
	texts := func(kind string) []string {
		var out []string
		for _, r := range must(m.Show(ctx, memory.Query{Kind: kind, MaxLevel: -1, Limit: 100})) {
			text := r.Text
			if r.Key != "" {
				text = r.Key + "=" + text
			}
			out = append(out, text)
			if r.Source.Kind != memory.SourceImport || !r.Source.Trusted || r.Scope != "main" {
				t.Errorf("imported %s has source %+v, scope %q", kind, r.Source, r.Scope)
			}
		}
		slices.Sort(out)
		return out
	}
	want := map[string][]string{
		memory.KindFact: {"I am the coding assistant of the coderev team", "Node — 22", "OS — Ubuntu 24.04",
			"**Name**: Boss prefers replies under five lines", "老板在北京，偏好简洁沟通"},
		memory.KindRule:       {"Never push directly to main", "提交前运行 npm test"},
		memory.KindProject:    {"coderev=Code review bot\nv0.3: Guard layer in progress"},
		memory.KindPreference: {"language=zh-CN"},
		memory.KindGlossary:   {"SLO=service level objective"},
		memory.EventDecision:  {"Adopted semantic versioning", "选择 SQLite 作为嵌入式存储"},
	}
	for kind, w := range want {
		slices.Sort(w)
		if got := texts(kind); !slices.Equal(got, w) {
			t.Errorf("%s: got %q, want %q", kind, got, w)
		}
	}
	dated := must(m.Show(ctx, memory.Query{Kind: memory.EventDecision, Text: "SQLite", MaxLevel: -1}))
	if len(dated) != 1 || !dated[0].Created.Equal(time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the dated decision: %+v", dated)
	}
	// Importing again adds nothing and confirms nothing.
	before := must(s.MemoryStats(ctx))
	again := must(m.ImportMarkdown(ctx, strings.NewReader(seedMemoryMD)))
	if again.Added != 0 || again.Updated != 0 || again.Unchanged != 12 {
		t.Errorf("re-import: %+v", again)
	}
	if after := must(s.MemoryStats(ctx)); after.Bytes != before.Bytes || after.Records[memory.LayerSemantic] != before.Records[memory.LayerSemantic] ||
		after.Records[memory.LayerEpisodic] != before.Records[memory.LayerEpisodic] {
		t.Errorf("re-import changed the store: %+v → %+v", before, after)
	}
	for _, r := range must(m.Show(ctx, memory.Query{Kind: memory.KindRule, MaxLevel: -1})) {
		if r.Confirmations != 0 {
			t.Errorf("re-import confirmed %q", r.Text)
		}
	}
}

func TestImportMarkdownBounds(t *testing.T) {
	m, _, _ := newMem(t, memory.Options{})
	ctx := context.Background()
	_, err := m.ImportMarkdown(ctx, strings.NewReader(strings.Repeat("x", 5<<20)))
	wantCode(t, err, "memory.too_large")
	var b strings.Builder
	b.WriteString("## 👤 Facts\n")
	for i := range 10001 {
		b.WriteString("- fact " + strings.Repeat("a", i%7) + string(rune('A'+i%26)) + "\n")
	}
	_, err = m.ImportMarkdown(ctx, strings.NewReader(b.String()))
	wantCode(t, err, "memory.limit")
	// A secret in MEMORY.md is redacted; a line that is only one is skipped.
	rep := must(m.ImportMarkdown(ctx, strings.NewReader("## 👤 Facts\n- deploy key "+githubToken+"\n- "+githubToken+"\n")))
	if rep.Added != 1 || rep.Skipped != 1 {
		t.Errorf("report %+v", rep)
	}
	for _, r := range must(m.Show(ctx, memory.Query{Kind: memory.KindFact, MaxLevel: -1})) {
		if strings.Contains(r.Text, githubToken) {
			t.Errorf("a secret was imported: %q", r.Text)
		}
	}
}

func TestEndSessionWritesFiles(t *testing.T) {
	dir := t.TempDir()
	m, c, _ := newMem(t, memory.Options{Dir: dir})
	ctx := context.Background()
	seedState(t, m)
	must(m.AddFact(ctx, webTool, "untrusted gossip from a web page"))
	w := m.Working("s1")
	w.SetTask("ship v0.3")
	if err := w.AddMessage("user", "Ship it today. The release notes are ready."); err != nil {
		t.Fatal(err)
	}
	if err := m.EndSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	m.Working("s2").SetTask("write docs")
	if err := m.EndSession(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	daily := string(must(os.ReadFile(filepath.Join(dir, "memory", "2025-03-01.md"))))
	if !strings.HasPrefix(daily, "# 2025-03-01\n") || strings.Count(daily, "\n## ") != 2 ||
		!strings.Contains(daily, "## 09:00 session s1 (main)\n\n- Task: ship v0.3\n- Summary: Ship it today. The release notes are ready.\n- Messages: 1\n") ||
		!strings.Contains(daily, "## 10:00 session s2 (main)") {
		t.Errorf("daily log:\n%s", daily)
	}
	file := string(must(os.ReadFile(filepath.Join(dir, "MEMORY.md"))))
	for _, want := range []string{"## ⚙️ Preferences\n\n- language: zh-CN\n- tone: direct, no fluff\n",
		"## 🤖 Rules\n\n- Update CHANGELOG.md before npm publish\n- Compile before running the tests\n",
		"### coderev\n\n- Code review bot; v0.3 adds the Guard layer.\n",
		"- 2025-03-01: Chose SQLite for the embedded store because it needs no server.\n",
		"## 📖 Glossary\n\n- SLO: service level objective\n"} {
		if !strings.Contains(file, want) {
			t.Errorf("MEMORY.md lacks %q:\n%s", want, file)
		}
	}
	if strings.Contains(file, "gossip") {
		t.Error("an untrusted memory was written to MEMORY.md, which hosts read as instructions")
	}
	if info := must(os.Stat(filepath.Join(dir, "MEMORY.md"))); info.Mode().Perm() != 0o600 {
		t.Errorf("MEMORY.md mode %v", info.Mode().Perm())
	}
	// Reading back what was written adds nothing.
	rep := must(m.ImportMarkdown(ctx, strings.NewReader(file)))
	if rep.Added != 0 || rep.Updated != 0 || rep.Skipped != 0 {
		t.Errorf("re-importing MEMORY.md: %+v", rep)
	}
	// No temporary file is left behind.
	for _, d := range []string{dir, filepath.Join(dir, "memory")} {
		for _, e := range must(os.ReadDir(d)) {
			if strings.HasSuffix(e.Name(), ".tmp") {
				t.Errorf("left behind: %s", e.Name())
			}
		}
	}
}

func TestMemoryFileEditsAndForget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "MEMORY.md")
	// The user's own file, with notes Sentinel does not understand.
	own := "# My memory\n\n## 👤 About me\n\n- I like tea\n\n## Random notes\n\nkeep this\n"
	if err := os.WriteFile(path, []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, _ := newMem(t, memory.Options{Dir: dir})
	ctx := context.Background()
	if err := m.EndSession(ctx, "none"); err != nil {
		t.Fatal(err)
	}
	if got := string(must(os.ReadFile(filepath.Join(dir, "MEMORY.md.orig")))); got != own {
		t.Errorf("the user's file was not kept: %q", got)
	}
	if got := string(must(os.ReadFile(path))); !strings.Contains(got, "- I like tea") {
		t.Errorf("the user's fact was not carried over:\n%s", got)
	}
	// An edit to Sentinel's file is imported at the next session end.
	edited := strings.Replace(string(must(os.ReadFile(path))), "- I like tea\n", "- I like tea\n- I work from Lisbon\n", 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.EndSession(ctx, "none"); err != nil {
		t.Fatal(err)
	}
	facts := must(m.Show(ctx, memory.Query{Kind: memory.KindFact, MaxLevel: -1}))
	if len(facts) != 2 {
		t.Fatalf("facts after the edit: %+v", facts)
	}
	// Forgetting sticks: the file is rewritten and not read back.
	var lisbon string
	for _, f := range facts {
		if strings.Contains(f.Text, "Lisbon") {
			lisbon = f.ID
		}
	}
	if err := m.Forget(ctx, lisbon); err != nil {
		t.Fatal(err)
	}
	if err := m.EndSession(ctx, "none"); err != nil {
		t.Fatal(err)
	}
	if got := string(must(os.ReadFile(path))); strings.Contains(got, "Lisbon") {
		t.Errorf("a forgotten fact came back:\n%s", got)
	}
	if got := must(m.Show(ctx, memory.Query{Kind: memory.KindFact, MaxLevel: -1})); len(got) != 1 {
		t.Errorf("facts after Forget: %+v", got)
	}
	// The original is kept once, not overwritten by later runs.
	if got := string(must(os.ReadFile(filepath.Join(dir, "MEMORY.md.orig")))); got != own {
		t.Error("MEMORY.md.orig was overwritten")
	}
}

func TestMemoryFileSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere.md")
	if err := os.WriteFile(target, []byte("## 👤 Facts\n- from elsewhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "MEMORY.md")); err != nil {
		t.Fatal(err)
	}
	m, _, _ := newMem(t, memory.Options{Dir: dir})
	ctx := context.Background()
	if err := m.EndSession(ctx, "s"); err == nil {
		t.Error("EndSession followed a symlinked MEMORY.md")
	}
	if got := must(m.Show(ctx, memory.Query{Kind: memory.KindFact, MaxLevel: -1})); len(got) != 0 {
		t.Errorf("imported through the link: %+v", got)
	}
	if got := string(must(os.ReadFile(target))); got != "## 👤 Facts\n- from elsewhere\n" {
		t.Errorf("the link's target was changed: %q", got)
	}
}
