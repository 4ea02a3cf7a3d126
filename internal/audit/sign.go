package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Checkpoint reasons.
const (
	ReasonInterval = "interval" // every N events
	ReasonShutdown = "shutdown" // the log was closed
	ReasonRotation = "rotation" // the signing key changed: signed by both
	ReasonAnchor   = "anchor"   // retention pruned the events before it
)

// CheckpointBody is a signed statement that the chain up to Seq ends in
// Hash. Its canonical encoding (field order as declared, compact JSON) is
// what stores and exports keep; each signature covers the encoding of the
// body without Signatures, prefixed by checkpointDomain.
type CheckpointBody struct {
	V          int         `json:"v"`
	Type       string      `json:"type"` // always "checkpoint"
	Seq        uint64      `json:"seq"`
	Hash       string      `json:"hash"`
	Time       string      `json:"time"`
	Reason     string      `json:"reason"`
	Signatures []Signature `json:"signatures,omitempty"`
}

// Signature is one Ed25519 signature of a checkpoint.
type Signature struct {
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"` // base64
	Sig       string `json:"sig"`        // base64
}

const checkpointDomain = "sentinel-audit-checkpoint-v1\n"

func (c *CheckpointBody) signedBytes() ([]byte, error) {
	u := *c
	u.Signatures = nil
	b, err := encodeCompact(&u)
	if err != nil {
		return nil, err
	}
	return append([]byte(checkpointDomain), b...), nil
}

// Encode returns the checkpoint's canonical encoding.
func (c *CheckpointBody) Encode() ([]byte, error) { return encodeCompact(c) }

// DecodeCheckpoint reads a checkpoint encoding.
func DecodeCheckpoint(b []byte) (*CheckpointBody, error) {
	var c CheckpointBody
	if err := decodeStrict(b, &c, "a checkpoint"); err != nil {
		return nil, err
	}
	if c.Type != "checkpoint" {
		return nil, fmt.Errorf("audit: not a checkpoint (type %q)", c.Type)
	}
	if c.V < 1 || c.V > Version {
		return nil, fmt.Errorf("audit: checkpoint version %d is not supported", c.V)
	}
	return &c, nil
}

func encodeCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Key is an Ed25519 signing key.
type Key struct {
	priv ed25519.PrivateKey
}

// NewKey makes a random key.
func NewKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("audit: generating a signing key: %w", err)
	}
	return &Key{priv: priv}, nil
}

// Public returns the public key.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// ID is a short stable name for a public key: the first 8 bytes of its
// SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// ID returns the key's ID.
func (k *Key) ID() string { return KeyID(k.Public()) }

// Sign adds k's signature to c.
func (k *Key) Sign(c *CheckpointBody) error {
	msg, err := c.signedBytes()
	if err != nil {
		return err
	}
	c.Signatures = append(c.Signatures, Signature{
		KeyID:     k.ID(),
		PublicKey: base64.StdEncoding.EncodeToString(k.Public()),
		Sig:       base64.StdEncoding.EncodeToString(ed25519.Sign(k.priv, msg)),
	})
	return nil
}

// The key file holds one line: "ed25519:" and the base64 of the 32-byte
// seed. The public key file holds "ed25519:" and the base64 public key.
const keyPrefix = "ed25519:"

// MarshalPrivate renders the key for a key file.
func (k *Key) MarshalPrivate() []byte {
	return []byte(keyPrefix + base64.StdEncoding.EncodeToString(k.priv.Seed()) + "\n")
}

// MarshalPublic renders the public key for sharing with verifiers.
func MarshalPublic(pub ed25519.PublicKey) []byte {
	return []byte(keyPrefix + base64.StdEncoding.EncodeToString(pub) + "\n")
}

// ParsePrivate reads a key file's content.
func ParsePrivate(b []byte) (*Key, error) {
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, keyPrefix) {
		return nil, errors.New(`audit: a signing key must start with "ed25519:" followed by the base64 of a 32-byte seed`)
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(strings.TrimPrefix(s, keyPrefix))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit: the signing key is not the base64 of a %d-byte Ed25519 seed", ed25519.SeedSize)
	}
	return &Key{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// ParsePublic reads a public key ("ed25519:BASE64", or bare base64).
func ParsePublic(b []byte) (ed25519.PublicKey, error) {
	s := strings.TrimPrefix(strings.TrimSpace(string(b)), keyPrefix)
	pub, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("audit: a public key must be \"ed25519:\" and the base64 of %d bytes", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(pub), nil
}

// KeyFileName is the signing key's name in the data dir.
const KeyFileName = "audit.key"

// LoadOrCreateKey reads the signing key at path, creating it (mode 0600,
// its directory 0700) when it does not exist. An existing key file that
// others can read is refused: whoever reads it can forge checkpoints.
// Creation is atomic: the key is written to a temporary file and linked
// into place, so a process racing to create it reads either nothing or a
// whole key.
func LoadOrCreateKey(path string) (*Key, error) {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		if err != nil {
			return nil, fmt.Errorf("audit: reading the signing key: %w", err)
		}
		return LoadKey(path)
	}
	k, err := NewKey()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: creating the key's directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".audit-key-*")
	if err != nil {
		return nil, fmt.Errorf("audit: creating the signing key in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(k.MarshalPrivate())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("audit: writing the signing key %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadKey(path) // another process made it first
		}
		return nil, fmt.Errorf("audit: installing the signing key %s: %w", path, err)
	}
	return k, nil
}

// LoadKey reads an existing signing key file, refusing one that is group-
// or world-readable.
func LoadKey(path string) (*Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("audit: reading the signing key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit: the signing key %s has mode %v; others can read it — run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: reading the signing key: %w", err)
	}
	k, err := ParsePrivate(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// NewCheckpoint makes an unsigned checkpoint for head.
func NewCheckpoint(h Head, t time.Time, reason string) *CheckpointBody {
	return &CheckpointBody{V: Version, Type: "checkpoint", Seq: h.Seq, Hash: h.Hash, Time: FormatTime(t), Reason: reason}
}

// verifySig checks one signature of c against pub.
func verifySig(c *CheckpointBody, s Signature) (ed25519.PublicKey, error) {
	pub, err := ParsePublic([]byte(s.PublicKey))
	if err != nil {
		return nil, err
	}
	if KeyID(pub) != s.KeyID {
		return nil, fmt.Errorf("key id %s does not match its public key", s.KeyID)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(s.Sig)
	if err != nil {
		return nil, fmt.Errorf("signature is not base64")
	}
	msg, err := c.signedBytes()
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return nil, fmt.Errorf("signature by key %s does not verify", s.KeyID)
	}
	return pub, nil
}
