package audit

import (
	"bytes"
	"crypto/ed25519"
	"sync"
	"testing"
)

var (
	fuzzOnce   sync.Once
	fuzzExport []byte
	fuzzPub    ed25519.PublicKey
)

// fuzzFixture is a small signed export shared by the fuzz targets.
func fuzzFixture(t testing.TB) ([]byte, ed25519.PublicKey) {
	fuzzOnce.Do(func() {
		s := newMemStore()
		key := mustKey(t.(*testing.T))
		fill(t.(*testing.T), s, key, 6, 3)
		var buf bytes.Buffer
		if _, err := Export(t.Context(), s, &buf, t0.AddDate(-1, 0, 0)); err != nil {
			panic(err)
		}
		fuzzExport, fuzzPub = buf.Bytes(), key.Public()
	})
	return fuzzExport, fuzzPub
}

// FuzzVerifyFile feeds arbitrary files to the verifier: it must never
// panic and must never call a file intact unless it is the untouched
// export.
func FuzzVerifyFile(f *testing.F) {
	f.Add([]byte(`{"v":1,"seq":1}` + "\n"))
	f.Add([]byte(`{"v":1,"type":"checkpoint","seq":1,"hash":"x","time":"t","reason":"interval"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		good, pub := fuzzFixture(t)
		rep, err := VerifyFile(bytes.NewReader(data), pub)
		if err == nil && rep.OK() && rep.Events > 0 && !bytes.Equal(bytes.TrimSpace(data), bytes.TrimSpace(good)) {
			// Only a prefix of the genuine export (cut at a checkpoint)
			// may verify.
			if !bytes.HasPrefix(good, bytes.TrimSpace(data)) {
				t.Fatalf("a file that is not a prefix of the genuine export verified: %q", data)
			}
		}
	})
}

// FuzzTamper changes one byte of a genuine export: the change must be
// caught.
func FuzzTamper(f *testing.F) {
	f.Add(uint16(10), byte('x'))
	f.Add(uint16(300), byte('0'))
	f.Fuzz(func(t *testing.T, pos uint16, b byte) {
		good, pub := fuzzFixture(t)
		i := int(pos) % len(good)
		if good[i] == b || i == len(good)-1 {
			return
		}
		m := append([]byte(nil), good...)
		m[i] = b
		rep, err := VerifyFile(bytes.NewReader(m), pub)
		if err == nil && rep.OK() {
			t.Fatalf("byte %d changed from %q to %q went unnoticed", i, good[i], b)
		}
	})
}
