package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/policy"
	"github.com/sentinel-agent/sentinel/internal/sharedpolicy"
)

// PolicyHolder keeps the policy text in force, replaces it (through the
// API, a changed file or SIGHUP) only with a policy that compiles, and
// writes API changes back to the file.
type PolicyHolder struct {
	k    *kernel.Kernel
	path string // "" when the policy lives only in memory (the built-in one)

	mu   sync.Mutex
	src  []byte
	hash string
	p    *policy.Policy

	// shared, when set, is the policy's source of truth (Share): seq is
	// the revision in force, failed the newest revision that would not
	// load here (logged once).
	shared sharedpolicy.Store
	seq    int64
	failed int64
	now    func() time.Time

	// OnReload is told about every reload attempt from the file.
	OnReload func(err error)
}

// ErrBaseHash is returned by Replace when base_hash is not the hash of the
// policy in force.
var ErrBaseHash = errors.New("the policy changed since it was read")

// NewPolicyHolder holds p, read from src at path ("" for none), which k
// decides with.
func NewPolicyHolder(k *kernel.Kernel, path string, src []byte, p *policy.Policy) *PolicyHolder {
	h := &PolicyHolder{k: k, path: path}
	h.set(src, p)
	return h
}

func (h *PolicyHolder) set(src []byte, p *policy.Policy) {
	sum := sha256.Sum256(src)
	h.src, h.p, h.hash = src, p, "sha256:"+hex.EncodeToString(sum[:])
}

// Current returns the policy text in force, its hash and the policy.
func (h *PolicyHolder) Current() ([]byte, string, *policy.Policy) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.src, h.hash, h.p
}

// parse reads a policy text the way policy.Load reads a file.
func parse(name string, src []byte) (*policy.Policy, error) {
	if policy.IsSeedRules(src) {
		return policy.ParseSeedRules(name, src)
	}
	return policy.Parse(name, src)
}

// Replace puts src in force if base is the hash of the policy in force: it
// parses and compiles src (every rule's examples included), stores it as
// the next shared revision (when shared), writes it to the file
// (atomically) and reloads the kernel. by names who asked. Nothing
// changes on error.
func (h *PolicyHolder) Replace(ctx context.Context, base string, src []byte, by string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if base != h.hash {
		return "", ErrBaseHash
	}
	name := "policy"
	if h.path != "" {
		name = filepath.Base(h.path)
	}
	p, err := parse(name, src)
	if err != nil {
		return "", err
	}
	if _, err := policy.Compile(p, policy.Options{TempDir: os.TempDir()}); err != nil {
		return "", err
	}
	if err := h.publish(ctx, src, by); err != nil {
		return "", err
	}
	if h.path != "" {
		if err := writeAtomic(h.path, src); err != nil {
			return "", &fileError{fmt.Errorf("writing %s: %w", h.path, err)}
		}
	}
	if err := h.k.Reload(p); err != nil {
		return "", err
	}
	h.set(src, p)
	return h.hash, nil
}

// fileError is a policy that was fine but could not be written.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// writeAtomic replaces path with data through a temporary file in the
// same directory, keeping the old file's mode.
func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReloadFile re-reads the policy file. A file that did not change is left
// alone; an invalid one is refused and the policy in force stays. It
// reports whether a new policy came into force.
func (h *PolicyHolder) ReloadFile() (bool, error) {
	if h.path == "" {
		return false, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	src, err := os.ReadFile(h.path)
	if err != nil {
		return false, fmt.Errorf("policy file: %w", err)
	}
	if bytes.Equal(src, h.src) {
		return false, nil
	}
	// Parse what was read and compared, not a second read of the file.
	p, err := parse(filepath.Base(h.path), src)
	if err != nil {
		return false, err
	}
	if h.shared != nil {
		// Shared: the edit goes to every replica, so it must compile
		// before it is stored.
		if _, err := policy.Compile(p, policy.Options{TempDir: os.TempDir()}); err != nil {
			return false, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err := h.publish(ctx, src, "file "+filepath.Base(h.path))
		cancel()
		if err != nil {
			return false, err
		}
	}
	if err := h.k.Reload(p); err != nil {
		return false, err
	}
	h.set(src, p)
	return true, nil
}

// Watch reloads the policy file whenever it changes, checking every
// interval, until ctx ends.
func (h *PolicyHolder) Watch(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if h.path == "" {
		return
	}
	reload := func() {
		ok, err := h.ReloadFile()
		if h.OnReload != nil && (ok || err != nil) {
			h.OnReload(err)
		}
		switch {
		case err != nil:
			log.Error("policy file changed but was refused; the previous policy stays in force", "path", h.path, "error", err.Error())
		case ok:
			log.Info("policy reloaded", "path", h.path, "revision", h.k.Revision())
		}
	}
	// Reading once after the first look at the file catches a change
	// made between loading the policy and watching it; an unchanged file
	// costs one read.
	watchFile(ctx, h.path, interval, reload, true)
}

// WatchFile calls fn whenever path's size or modification time changes and
// then holds still for one interval (so that a file caught half-written is
// not read), checking every interval, until ctx ends. Polling works on
// every file system and survives editors that replace the file.
func WatchFile(ctx context.Context, path string, every time.Duration, fn func()) {
	watchFile(ctx, path, every, fn, false)
}

// watchFile is WatchFile; first calls fn once after the first look.
func watchFile(ctx context.Context, path string, every time.Duration, fn func(), first bool) {
	same := func(a, b os.FileInfo) bool {
		return a != nil && b != nil && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
	}
	// acted is the file as fn last saw it; seen as the last poll saw it.
	var acted, seen os.FileInfo
	if fi, err := os.Stat(path); err == nil {
		acted, seen = fi, fi
	}
	if first {
		fn()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(path)
		if err != nil {
			seen = nil
			continue
		}
		if !same(fi, acted) && same(fi, seen) {
			acted = fi
			fn()
		}
		seen = fi
	}
}

// policyAnswer is what GET /v1/policy returns.
func (s *Server) policyAnswer(w http.ResponseWriter, status int) error {
	src, hash, p := s.opts.Policy.Current()
	return writeJSON(w, status, map[string]any{"hash": hash, "revision": p.Revision(), "source": string(src), "policy": p})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	return s.policyAnswer(w, http.StatusOK)
}

// putPolicyRequest replaces the whole policy text.
type putPolicyRequest struct {
	BaseHash string `json:"base_hash"`
	Source   string `json:"source"`
}

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	var req putPolicyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.BaseHash == "" {
		return errorf(http.StatusBadRequest, "request.missing_field", "\"base_hash\" is required: send the hash GET /v1/policy returned")
	}
	return s.replacePolicy(w, r, c, req.BaseHash, []byte(req.Source))
}

func (s *Server) replacePolicy(w http.ResponseWriter, r *http.Request, c auth.Client, base string, src []byte) error {
	_, err := s.opts.Policy.Replace(r.Context(), base, src, c.Name)
	var fe *fileError
	var se *sharedStoreError
	switch {
	case errors.Is(err, ErrBaseHash):
		return errorf(http.StatusConflict, "policy.conflict", "base_hash %q is not the policy in force; GET /v1/policy and apply the change again", base)
	case errors.As(err, &se):
		s.m.storeErrors.WithLabelValues("policy").Inc()
		return errorf(http.StatusServiceUnavailable, "policy.store_unavailable", "the shared policy could not be stored, and the one in force stays: %v", se.err)
	case err != nil:
		if errors.As(err, &fe) {
			return err
		}
		s.m.policyReloads.WithLabelValues("refused").Inc()
		return errorf(http.StatusBadRequest, "policy.invalid", "the policy was refused and the one in force stays: %v", err)
	}
	s.m.policyReloads.WithLabelValues("ok").Inc()
	s.log.Info("policy replaced", "client", c.Name, "revision", s.k.Revision())
	return s.policyAnswer(w, http.StatusOK)
}

// patchPolicyRequest changes part of the policy: Patch is a JSON merge
// patch (RFC 7396) over the policy's JSON form (GET /v1/policy "policy").
type patchPolicyRequest struct {
	BaseHash string          `json:"base_hash"`
	Patch    json.RawMessage `json:"patch"`
}

func (s *Server) patchPolicy(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	var req patchPolicyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.BaseHash == "" {
		return errorf(http.StatusBadRequest, "request.missing_field", "\"base_hash\" is required: send the hash GET /v1/policy returned")
	}
	var patch any
	if err := json.Unmarshal(req.Patch, &patch); err != nil {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"patch\" must be a JSON object (a merge patch): %v", err)
	}
	if _, ok := patch.(map[string]any); !ok {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"patch\" must be a JSON object (a merge patch)")
	}
	src, err := s.patched(patch)
	if err != nil {
		return err
	}
	return s.replacePolicy(w, r, c, req.BaseHash, src)
}

// patched applies a merge patch to the policy in force and returns the
// result as YAML.
func (s *Server) patched(patch any) ([]byte, error) {
	_, _, p := s.opts.Policy.Current()
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	doc = mergePatch(doc, patch)
	return yaml.Marshal(doc)
}

// mergePatch applies an RFC 7396 merge patch.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], v)
	}
	return tm
}
