package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOpenAI is an OpenAI-compatible chat-completions API: a conversation
// whose user text holds a planned marker gets one `exec` tool call (the
// command planned for the marker); once any role "tool" message is in the
// conversation, and for everything else, it answers with a short final
// text. It speaks both the streaming (SSE) and the plain JSON form.
type fakeOpenAI struct {
	srv *httptest.Server

	mu       sync.Mutex
	commands map[string]string // marker -> exec command
	tools    []string          // the content of every role "tool" message seen, in order
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{commands: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// toolResults returns the tool messages the model was sent so far.
func (f *fakeOpenAI) toolResults() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tools...)
}

func (f *fakeOpenAI) plan(marker, command string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commands[marker] = command
}

type chatRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/models") {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"object":"list","data":[{"id":"e2e-model","object":"model","owned_by":"e2e"}]}`)
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	command, toolRan := "", false
	f.mu.Lock()
	for _, m := range req.Messages {
		switch m.Role {
		case "tool":
			toolRan = true
			f.tools = append(f.tools, string(m.Content))
		case "user":
			for marker, c := range f.commands {
				if strings.Contains(string(m.Content), marker) {
					command = c
				}
			}
		}
	}
	f.mu.Unlock()
	if toolRan {
		command = ""
	}
	id, created := "chatcmpl-e2e", time.Now().Unix()
	var toolCalls []any
	finish := "stop"
	if command != "" {
		args, _ := json.Marshal(map[string]string{"command": command})
		toolCalls = []any{map[string]any{"index": 0, "id": "call_e2e", "type": "function",
			"function": map[string]any{"name": "exec", "arguments": string(args)}}}
		finish = "tool_calls"
	}
	usage := map[string]any{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
	if !req.Stream {
		msg := map[string]any{"role": "assistant", "content": "done"}
		if toolCalls != nil {
			msg = map[string]any{"role": "assistant", "content": nil, "tool_calls": toolCalls}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "object": "chat.completion", "created": created, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}}, "usage": usage})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := func(delta map[string]any, finish any, usage any) {
		c := map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		if usage != nil {
			c["usage"] = usage
		}
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	if toolCalls != nil {
		chunk(map[string]any{"role": "assistant", "content": nil, "tool_calls": toolCalls}, nil, nil)
	} else {
		chunk(map[string]any{"role": "assistant", "content": "done"}, nil, nil)
	}
	chunk(map[string]any{}, finish, usage)
	fmt.Fprint(w, "data: [DONE]\n\n")
}
