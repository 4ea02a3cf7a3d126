package hook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// HookTimeout is the timeout, in seconds, Sentinel's entries ask Claude
// Code for. The hook answers well within it (its own deadline is shorter)
// because a hook that times out lets the call run.
const HookTimeout = 30

// MaxSettings bounds the settings file Install and Uninstall read.
const MaxSettings = 4 << 20

// installed lists the events Sentinel's entries are registered for and
// whether the event takes a tool-name matcher.
var installed = []struct {
	event   string
	matcher bool
}{
	{EventPreToolUse, true},
	{EventPostToolUse, true},
	{EventUserPromptSubmit, false},
}

// What a Change did.
const (
	ChangeAdded     = "added"
	ChangeUpdated   = "updated"
	ChangeUnchanged = "unchanged"
	ChangeRemoved   = "removed"
	ChangeAbsent    = "absent"
)

// Change is what an edit did to one event's entries.
type Change struct {
	Event  string
	Action string // one of the Change* constants
}

// changed reports whether any change modifies the file.
func changed(cs []Change) bool {
	for _, c := range cs {
		if c.Action != ChangeUnchanged && c.Action != ChangeAbsent {
			return true
		}
	}
	return false
}

// CommandFor returns the hook command for the sentinel binary at exe,
// quoted for the shell Claude Code runs it with.
func CommandFor(exe string) string { return shellQuote(exe) + " hook claude-code" }

// RemoteCommandFor returns the hook command for the sentinel binary at exe
// asking the server at server.
func RemoteCommandFor(exe, server string) string {
	return CommandFor(exe) + " --server " + shellQuote(server)
}

// ThinCommandFor returns the hook command for the sentinel-hook binary at
// exe asking the server at server.
func ThinCommandFor(exe, server string) string {
	return shellQuote(exe) + " claude-code --server " + shellQuote(server)
}

// LocalCommandFor returns the hook command for the sentinel-hook binary at
// exe asking this user's on-demand local server (see RunLocal).
func LocalCommandFor(exe string) string {
	return shellQuote(exe) + " claude-code --local"
}

func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:@%+=,-", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// IsSentinelCommand reports whether a hook command runs Sentinel's Claude
// Code hook: "hook claude-code" after a program whose name contains
// "sentinel" (/usr/local/bin/sentinel, go run ./cmd/sentinel, …), or
// "claude-code" right after a program whose name contains "sentinel-hook".
func IsSentinelCommand(cmd string) bool {
	f := strings.Fields(cmd)
	name := func(w string) string { return strings.ToLower(filepath.Base(strings.Trim(w, `'"`))) }
	for i := 0; i+1 < len(f); i++ {
		if f[i+1] != "claude-code" {
			continue
		}
		if strings.Contains(name(f[i]), "sentinel-hook") {
			return true
		}
		if f[i] != "hook" {
			continue
		}
		for _, w := range f[:i] {
			if strings.Contains(name(w), "sentinel") {
				return true
			}
		}
	}
	return false
}

// parseSettings reads a settings file's content; empty content is an
// empty object.
func parseSettings(data []byte) (*object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return newObject(), nil
	}
	v, err := parseOrdered(data)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	root, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("the settings are %s; want a JSON object", typeOf(v))
	}
	return root, nil
}

func typeOf(v any) string {
	switch v.(type) {
	case *object:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// hooksOf returns the settings' "hooks" object, making it when create is
// set.
func hooksOf(root *object, create bool) (*object, error) {
	v, ok := root.get("hooks")
	if !ok {
		if !create {
			return nil, nil
		}
		h := newObject()
		root.set("hooks", h)
		return h, nil
	}
	h, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("\"hooks\" is %s; want an object mapping event names to lists of entries", typeOf(v))
	}
	return h, nil
}

func eventList(hooks *object, event string) ([]any, error) {
	v, ok := hooks.get(event)
	if !ok {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("\"hooks\".%q is %s; want a list of entries", event, typeOf(v))
	}
	return l, nil
}

// ours reports whether a hook entry is Sentinel's: a command hook running
// cmd or Sentinel's Claude Code hook.
func ours(h any, cmd string) bool {
	o, ok := h.(*object)
	if !ok {
		return false
	}
	if t, _ := o.vals["type"].(string); t != "command" {
		return false
	}
	c, _ := o.vals["command"].(string)
	return cmd != "" && c == cmd || IsSentinelCommand(c)
}

// entryHooks returns a group's "hooks" list, or false when the group does
// not have the expected shape (such groups are left alone).
func entryHooks(g any) (*object, []any, bool) {
	o, ok := g.(*object)
	if !ok {
		return nil, nil, false
	}
	l, ok := o.vals["hooks"].([]any)
	return o, l, ok
}

// removeOurs drops Sentinel's hooks from a list of groups, and groups
// that only held them. It returns the new list and how many it removed.
func removeOurs(list []any, cmd string) ([]any, int) {
	out := make([]any, 0, len(list))
	n := 0
	for _, g := range list {
		o, hs, ok := entryHooks(g)
		if !ok {
			out = append(out, g)
			continue
		}
		kept := make([]any, 0, len(hs))
		for _, h := range hs {
			if ours(h, cmd) {
				n++
				continue
			}
			kept = append(kept, h)
		}
		if len(kept) == 0 && len(hs) > 0 {
			continue
		}
		o.set("hooks", kept)
		out = append(out, g)
	}
	return out, n
}

// upToDate reports whether list holds exactly one Sentinel hook and it is
// the wanted one.
func upToDate(list []any, cmd string, matcher bool) bool {
	found := 0
	good := false
	for _, g := range list {
		o, hs, ok := entryHooks(g)
		if !ok {
			continue
		}
		for _, h := range hs {
			if !ours(h, cmd) {
				continue
			}
			found++
			ho := h.(*object)
			c, _ := ho.vals["command"].(string)
			t, _ := ho.vals["timeout"].(json.Number)
			m, hasM := o.vals["matcher"].(string)
			good = c == cmd && t.String() == fmt.Sprint(HookTimeout) && (!matcher || hasM && m == "*")
		}
	}
	return found == 1 && good
}

func entry(cmd string, matcher bool) *object {
	h := newObject()
	h.set("type", "command")
	h.set("command", cmd)
	h.set("timeout", json.Number(fmt.Sprint(HookTimeout)))
	g := newObject()
	if matcher {
		g.set("matcher", "*")
	}
	g.set("hooks", []any{h})
	return g
}

// Install returns data with Sentinel's hook entries (PreToolUse and
// PostToolUse for every tool, and UserPromptSubmit) running cmd, and what
// it changed. Every other key and hook is kept, in its order. An older
// Sentinel entry (another path to the binary) is replaced; when the
// entries are already there, the content is returned unchanged.
func Install(data []byte, cmd string) ([]byte, []Change, error) {
	if strings.TrimSpace(cmd) == "" {
		return nil, nil, errors.New("the hook command is empty")
	}
	root, err := parseSettings(data)
	if err != nil {
		return nil, nil, err
	}
	hooks, err := hooksOf(root, true)
	if err != nil {
		return nil, nil, err
	}
	var cs []Change
	for _, ev := range installed {
		list, err := eventList(hooks, ev.event)
		if err != nil {
			return nil, nil, err
		}
		if upToDate(list, cmd, ev.matcher) {
			cs = append(cs, Change{ev.event, ChangeUnchanged})
			continue
		}
		list, n := removeOurs(list, cmd)
		hooks.set(ev.event, append(list, entry(cmd, ev.matcher)))
		act := ChangeAdded
		if n > 0 {
			act = ChangeUpdated
		}
		cs = append(cs, Change{ev.event, act})
	}
	if !changed(cs) {
		return data, cs, nil
	}
	out, err := encodeOrdered(root)
	return out, cs, err
}

// Uninstall returns data without Sentinel's hook entries (those running
// cmd, when given, and any running Sentinel's Claude Code hook). Event
// lists and the "hooks" object that only held them go too.
func Uninstall(data []byte, cmd string) ([]byte, []Change, error) {
	root, err := parseSettings(data)
	if err != nil {
		return nil, nil, err
	}
	hooks, err := hooksOf(root, false)
	if err != nil {
		return nil, nil, err
	}
	var cs []Change
	for _, ev := range installed {
		if hooks == nil {
			cs = append(cs, Change{ev.event, ChangeAbsent})
			continue
		}
		list, err := eventList(hooks, ev.event)
		if err != nil {
			return nil, nil, err
		}
		list, n := removeOurs(list, cmd)
		switch {
		case n == 0:
			cs = append(cs, Change{ev.event, ChangeAbsent})
			continue
		case len(list) == 0:
			hooks.del(ev.event)
		default:
			hooks.set(ev.event, list)
		}
		cs = append(cs, Change{ev.event, ChangeRemoved})
	}
	if !changed(cs) {
		return data, cs, nil
	}
	if len(hooks.keys) == 0 {
		root.del("hooks")
	}
	out, err := encodeOrdered(root)
	return out, cs, err
}

// FileOptions control InstallFile and UninstallFile.
type FileOptions struct {
	// DryRun computes the new content without writing anything.
	DryRun bool
	// Now names the backup (default time.Now).
	Now func() time.Time
}

// FileResult is what an edit of a settings file did.
type FileResult struct {
	// Path is the file edited (a symlink's target).
	Path    string
	Changed bool
	// Backup is the copy of the old file, when one was written.
	Backup  string
	Changes []Change
	// Content is the file's new content (also in a dry run).
	Content []byte
}

// InstallFile adds Sentinel's entries to the settings file at path (see
// Install). A file that is not valid JSON is refused and left as it is.
// Before a change the old file is copied to PATH.bak-TIMESTAMP; the new
// one replaces it atomically with the same mode. A missing file is
// created with mode 0600.
func InstallFile(path, cmd string, opts FileOptions) (FileResult, error) {
	return editFile(path, opts, func(b []byte) ([]byte, []Change, error) { return Install(b, cmd) })
}

// UninstallFile removes Sentinel's entries from the settings file at path
// (see Uninstall), the same way InstallFile adds them. A missing file is
// not an error: there is nothing to remove.
func UninstallFile(path, cmd string, opts FileOptions) (FileResult, error) {
	return editFile(path, opts, func(b []byte) ([]byte, []Change, error) { return Uninstall(b, cmd) })
}

func editFile(path string, opts FileOptions, edit func([]byte) ([]byte, []Change, error)) (FileResult, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	target := path
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// Write through a symlink (a dotfiles checkout) rather than
		// replace the link with a file.
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return FileResult{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	res := FileResult{Path: target}
	var data []byte
	mode := fs.FileMode(0o600)
	exists := false
	switch fi, err := os.Stat(target); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return res, err
	case !fi.Mode().IsRegular():
		return res, fmt.Errorf("%s is not a regular file", target)
	case fi.Size() > MaxSettings:
		return res, fmt.Errorf("%s is %d bytes; a settings file this large is refused (limit %d)", target, fi.Size(), MaxSettings)
	default:
		exists, mode = true, fi.Mode().Perm()
		if data, err = os.ReadFile(target); err != nil {
			return res, err
		}
	}
	out, cs, err := edit(data)
	if err != nil {
		return res, fmt.Errorf("%s: %v; the file is left unchanged, fix it by hand and run again", target, err)
	}
	res.Changes, res.Changed, res.Content = cs, changed(cs), out
	if !res.Changed || opts.DryRun {
		return res, nil
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, err
	}
	if exists {
		if res.Backup, err = backup(target, data, mode, opts.Now()); err != nil {
			return res, fmt.Errorf("backing up %s: %w; nothing was changed", target, err)
		}
	}
	if err := writeAtomic(target, out, mode); err != nil {
		return res, fmt.Errorf("writing %s: %w", target, err)
	}
	return res, nil
}

// backup writes data next to path as path.bak-TIMESTAMP, never over an
// existing file.
func backup(path string, data []byte, mode fs.FileMode, now time.Time) (string, error) {
	base := path + ".bak-" + now.UTC().Format("20060102T150405Z")
	for i := 1; i <= 100; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, werr := f.Write(data)
		if err := f.Sync(); werr == nil {
			werr = err
		}
		if err := f.Close(); werr == nil {
			werr = err
		}
		if werr != nil {
			os.Remove(name)
			return "", werr
		}
		return name, nil
	}
	return "", fmt.Errorf("too many backups named %s*", base)
}

// writeAtomic replaces path with data through a temporary file in the
// same directory, so that a reader sees the old file or the new one.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
