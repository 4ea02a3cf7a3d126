package memory_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

func TestWorkingBudgetEvictsToolResultsFirst(t *testing.T) {
	m, _, _ := newMem(t, memory.Options{MaxWorkingTokens: 100})
	w := m.Working("s1")
	// 40 bytes of ASCII = 10 tokens each.
	msg := func(i int) string { return fmt.Sprintf("message %02d %s", i, strings.Repeat("m", 29)) }
	for i := range 3 {
		if err := w.AddMessage("user", msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.CacheResult("read_file", `{"path":"a.go"}`, strings.Repeat("r", 120)) // 4+4+30 = 38 tokens
	w.CacheResult("read_file", `{"path":"b.go"}`, strings.Repeat("r", 120))
	used, budget := w.Tokens()
	if used != 30+38+38 || budget != 100 {
		// 106 > 100: one result must already be gone.
		if _, ok := w.Result("read_file", `{"path":"a.go"}`); ok {
			t.Fatalf("over budget (%d/%d) and the oldest tool result is still cached", used, budget)
		}
	}
	if _, ok := w.Result("read_file", `{"path":"b.go"}`); !ok {
		t.Error("the newest tool result was evicted before the oldest")
	}
	if got := len(w.Messages()); got != 3 {
		t.Errorf("messages were evicted while a tool result could go: %d left", got)
	}
	// Now messages push the remaining result out, then the oldest messages.
	for i := 3; i < 12; i++ {
		if err := w.AddMessage("assistant", msg(i)); err != nil {
			t.Fatal(err)
		}
		if used, _ := w.Tokens(); used > 100 {
			t.Fatalf("after message %d: %d tokens, over the budget of 100", i, used)
		}
	}
	if _, ok := w.Result("read_file", `{"path":"b.go"}`); ok {
		t.Error("a tool result survived while messages were evicted")
	}
	msgs := w.Messages()
	if len(msgs) != 10 || msgs[len(msgs)-1].Text != msg(11) || msgs[0].Text != msg(2) {
		t.Errorf("kept %d messages, first %q, last %q; want the 10 newest", len(msgs), msgs[0].Text, msgs[len(msgs)-1].Text)
	}
	if w.Evicted() != 2+2 {
		t.Errorf("Evicted = %d, want 2 tool results and 2 messages", w.Evicted())
	}
}

func TestWorkingCutsAnOversizedLastMessage(t *testing.T) {
	m, _, _ := newMem(t, memory.Options{MaxWorkingTokens: 50})
	w := m.Working("s1")
	w.SetTask("fix the build") // 4 tokens
	if err := w.AddMessage("tool", strings.Repeat("x", 4000)); err != nil {
		t.Fatal(err)
	}
	used, _ := w.Tokens()
	msgs := w.Messages()
	if used > 50 || len(msgs) != 1 || msgs[0].Text == "" || !strings.HasSuffix(msgs[0].Text, "…") {
		t.Errorf("a 1000-token message in a 50-token budget: %d tokens used, messages %d, text %.20q", used, len(msgs), msgs[0].Text)
	}
	if w.Task() != "fix the build" {
		t.Errorf("the task was lost: %q", w.Task())
	}
}

func TestWorkingRedactsSecrets(t *testing.T) {
	m, _, _ := newMem(t, memory.Options{})
	w := m.Working("s1")
	secret := githubToken
	if err := w.AddMessage("user", "my token is "+secret); err != nil {
		t.Fatal(err)
	}
	w.CacheResult("exec", "env", "GITHUB_TOKEN="+secret)
	w.SetTask("rotate " + secret)
	res, _ := w.Result("exec", "env")
	for _, got := range []string{w.Messages()[0].Text, res, w.Task()} {
		if strings.Contains(got, secret) || !strings.Contains(got, "[REDACTED:") {
			t.Errorf("working memory holds %q", got)
		}
	}
}

func TestWorkingFilesAndCache(t *testing.T) {
	m, _, _ := newMem(t, memory.Options{})
	w := m.Working("s1")
	w.OpenFile("a.go")
	w.OpenFile("b.go")
	w.OpenFile("a.go")
	w.CloseFile("b.go")
	if got := w.Files(); !slices.Equal(got, []string{"a.go"}) {
		t.Errorf("Files = %q", got)
	}
	w.CacheResult("exec", "ls", "one")
	w.CacheResult("exec", "ls", "two")
	if got, ok := w.Result("exec", "ls"); !ok || got != "two" {
		t.Errorf("Result = %q, %v; want the replacement", got, ok)
	}
	if _, ok := w.Result("exec", "pwd"); ok {
		t.Error("a call never cached was found")
	}
	if err := w.AddMessage("", "x"); memory.Code(err) != "memory.invalid" {
		t.Errorf("an empty role: %v", err)
	}
}

func TestWorkingIdleResetAndEnd(t *testing.T) {
	m, c, _ := newMem(t, memory.Options{IdleReset: time.Hour})
	w := m.Working("s1")
	w.SetTask("first task")
	c.Advance(59 * time.Minute)
	if got := m.Working("s1"); got != w || got.Task() != "first task" {
		t.Fatal("a session active within the idle limit lost its working memory")
	}
	c.Advance(61 * time.Minute)
	if got := m.Working("s1"); got == w || got.Task() != "" {
		t.Error("a session idle past the limit kept its working memory")
	}
	m.Working("s1").SetTask("second task")
	if err := m.EndSession(context.Background(), "s1"); err != nil {
		t.Fatal(err)
	}
	if m.Sessions() != 0 || m.Working("s1").Task() != "" {
		t.Error("EndSession did not clear the working memory")
	}
}

func TestWorkingMaxSessions(t *testing.T) {
	m, c, _ := newMem(t, memory.Options{MaxSessions: 3})
	for _, id := range []string{"a", "b", "c"} {
		m.Working(id).SetTask("task " + id)
		c.Advance(time.Minute)
	}
	m.Working("a").SetTask("task a again") // a is now the most recent
	c.Advance(time.Minute)
	m.Working("d")
	if m.Sessions() != 3 {
		t.Fatalf("%d sessions, want the bound 3", m.Sessions())
	}
	if m.Working("a").Task() != "task a again" || m.Working("c").Task() != "task c" {
		t.Error("an active session was dropped instead of the least recently active one")
	}
}

func TestStartSessionScopes(t *testing.T) {
	m, _, _ := newMem(t, memory.Options{Scope: memory.ScopePerChannelPeer})
	w, err := m.StartSession(memory.Session{ID: "s1", Peer: "alice", Channel: "telegram"})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Scope(); got != "channel:telegram/peer:alice" {
		t.Errorf("scope = %q", got)
	}
	if _, err := m.StartSession(memory.Session{ID: "s1", Peer: "bob", Channel: "telegram"}); memory.Code(err) != "memory.invalid" {
		t.Errorf("moving a session to another peer: %v", err)
	}
	if _, err := m.StartSession(memory.Session{ID: "s2", Channel: "telegram"}); memory.Code(err) != "memory.unbound_session" {
		t.Errorf("a session without a peer: %v", err)
	}
	// Working alone leaves a per-peer session unbound until StartSession.
	if got := m.Working("s3").Scope(); got != "" {
		t.Errorf("an unbound session has scope %q", got)
	}
	w3, err := m.StartSession(memory.Session{ID: "s3", Peer: "carol", Channel: "slack"})
	if err != nil || w3 != m.Working("s3") || w3.Scope() != "channel:slack/peer:carol" {
		t.Errorf("StartSession did not bind the existing working memory: %v", err)
	}
}

func TestScope(t *testing.T) {
	tests := []struct {
		mode string
		s    memory.Session
		want string
		code string
	}{
		{memory.ScopeMain, memory.Session{Peer: "alice"}, "main", ""},
		{memory.ScopePerPeer, memory.Session{Peer: "alice", Channel: "x"}, "peer:alice", ""},
		{memory.ScopePerChannelPeer, memory.Session{Peer: "alice", Channel: "discord"}, "channel:discord/peer:alice", ""},
		{memory.ScopePerPeer, memory.Session{}, "", "memory.unbound_session"},
		{memory.ScopePerChannelPeer, memory.Session{Peer: "alice"}, "", "memory.unbound_session"},
		{memory.ScopePerChannelPeer, memory.Session{Peer: "alice", Channel: "a/peer:bob"}, "", "memory.invalid"},
		{memory.ScopePerPeer, memory.Session{Peer: "al ice"}, "", "memory.invalid"},
		{"per-user", memory.Session{Peer: "alice"}, "", "memory.invalid"},
	}
	for _, tt := range tests {
		got, err := memory.Scope(tt.mode, tt.s)
		if got != tt.want || memory.Code(err) != tt.code {
			t.Errorf("Scope(%q, %+v) = %q, %v; want %q, code %q", tt.mode, tt.s, got, err, tt.want, tt.code)
		}
	}
}

func TestIdleResetKeepsTheScope(t *testing.T) {
	m, c, _ := newMem(t, memory.Options{Scope: memory.ScopePerPeer, IdleReset: time.Hour})
	ctx := context.Background()
	w := must(m.StartSession(memory.Session{ID: "s1", Peer: "alice"}))
	w.SetTask("old task")
	c.Advance(2 * time.Hour)
	fresh := m.Working("s1")
	if fresh.Task() != "" || fresh.Scope() != "peer:alice" {
		t.Errorf("after the idle reset: task %q, scope %q", fresh.Task(), fresh.Scope())
	}
	if _, err := m.InjectContext(ctx, "s1", 100); err != nil {
		t.Errorf("a session reset for idleness lost its scope: %v", err)
	}
}
