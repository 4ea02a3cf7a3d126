package memory

import (
	"fmt"
	"strings"
	"unicode"
)

// Session identifies a conversation and who it is with.
type Session struct {
	// ID is the host's session key.
	ID string
	// Peer is the user the agent talks to; Channel the surface (a chat
	// network, a workspace). Both are needed by the per-peer scopes.
	Peer, Channel string
}

// Scope returns the memory scope of s under mode: "main" for ScopeMain
// (every session shares one memory), "peer:<peer>" for ScopePerPeer (a
// user's memory follows them across channels) and
// "channel:<channel>/peer:<peer>" for ScopePerChannelPeer. A per-peer
// mode without the peer (or channel) it needs is an error: falling back
// to "main" would share one user's memory with everyone.
func Scope(mode string, s Session) (string, error) {
	switch mode {
	case ScopeMain, "":
		return ScopeMain, nil
	case ScopePerPeer:
		if err := scopePart("peer", s.Peer); err != nil {
			return "", err
		}
		return "peer:" + s.Peer, nil
	case ScopePerChannelPeer:
		if err := scopePart("peer", s.Peer); err != nil {
			return "", err
		}
		if err := scopePart("channel", s.Channel); err != nil {
			return "", err
		}
		return "channel:" + s.Channel + "/peer:" + s.Peer, nil
	}
	return "", invalid("scope mode %q: use %q, %q or %q", mode, ScopeMain, ScopePerPeer, ScopePerChannelPeer)
}

func scopePart(what, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%w: the %s is empty; per-peer scopes need it", ErrUnboundSession, what)
	case len(v) > maxKeyBytes:
		return invalid("%s %.20q…: at most %d bytes", what, v, maxKeyBytes)
	case strings.ContainsFunc(v, isSeparator):
		return invalid("%s %q: no spaces, slashes or control characters", what, v)
	}
	return nil
}

// validKey checks the subject of a keyed memory (a preference name, a
// project name, a glossary term): one line, no ':' or '|' (which would
// change its meaning when MEMORY.md is read back), bounded.
func validKey(what, k string) error {
	switch {
	case strings.TrimSpace(k) == "":
		return invalid("the %s is empty", what)
	case len(k) > maxKeyBytes:
		return fmt.Errorf("%w: the %s is %d bytes, at most %d", ErrTooLarge, what, len(k), maxKeyBytes)
	case strings.ContainsAny(k, ":|") || strings.ContainsFunc(k, unicode.IsControl):
		return invalid("the %s %q has ':', '|' or a control character", what, k)
	}
	return nil
}
