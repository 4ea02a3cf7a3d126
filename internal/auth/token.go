package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math"
)

// TokenPrefix starts every token NewToken makes, so that a leaked one is
// recognisable (and secret scanners can find it).
const TokenPrefix = "snt_"

// MinTokenLen is the shortest token Weak accepts.
const MinTokenLen = 32

// NewToken returns a fresh token, "snt_" and 43 base64url characters of 32
// random bytes, and its hash for the clients file.
func NewToken() (token, hash string, err error) {
	return newToken(rand.Reader)
}

func newToken(r io.Reader) (string, string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", "", fmt.Errorf("cannot read random bytes for a token: %w", err)
	}
	t := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return t, HashToken(t), nil
}

// HashToken returns "sha256:<hex>", the form a token takes in the clients
// file.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Weak returns an error saying why token is too easy to guess, or nil. It is
// a heuristic for tokens people chose themselves; NewToken's always pass.
func Weak(token string) error {
	n := len(token)
	switch {
	case n < MinTokenLen:
		return fmt.Errorf("the token is %d characters long; use at least %d (\"sentinel token new\" makes a random one)", n, MinTokenLen)
	case n > MaxTokenLen:
		return fmt.Errorf("the token is %d bytes long; the server refuses tokens over %d", n, MaxTokenLen)
	case !visibleASCII(token):
		return fmt.Errorf("the token contains a space, a control or a non-ASCII character, which HTTP clients may alter; use printable ASCII")
	}
	var counts [128]int
	distinct := 0
	for i := 0; i < n; i++ {
		if counts[token[i]] == 0 {
			distinct++
		}
		counts[token[i]]++
	}
	if distinct < 8 {
		return fmt.Errorf("the token uses only %d distinct characters; use a random one", distinct)
	}
	if p := period(token); p <= n/2 {
		return fmt.Errorf("the token repeats a %d-character pattern; use a random one", p)
	}
	steps := 0
	for i := 1; i < n; i++ {
		if d := int(token[i]) - int(token[i-1]); d >= -1 && d <= 1 {
			steps++
		}
	}
	if 2*steps >= n-1 {
		return fmt.Errorf("the token is mostly runs of repeated or consecutive characters; use a random one")
	}
	// The character frequencies bound what the token can hold: a guesser
	// who knows them needs about n·H tries in bits.
	bits := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(n)
			bits -= float64(c) * math.Log2(p)
		}
	}
	if bits < 64 {
		return fmt.Errorf("the token carries about %.0f bits of variety; use at least 64 (a random token of 32 characters has over 100)", bits)
	}
	return nil
}

// period is the length of the shortest unit s repeats, the last repetition
// possibly cut short (len(s) if none).
func period(s string) int {
	// The longest proper border b (Knuth–Morris–Pratt prefix function) gives
	// the period n-b.
	n := len(s)
	pi := make([]int, n)
	for i := 1; i < n; i++ {
		k := pi[i-1]
		for k > 0 && s[i] != s[k] {
			k = pi[k-1]
		}
		if s[i] == s[k] {
			k++
		}
		pi[i] = k
	}
	return n - pi[n-1]
}
