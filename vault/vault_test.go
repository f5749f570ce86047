package vault_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/vault"
)

func TestSealAndOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, vault.KeySize)
	family := "0193f3a2-8c1e-7d2a-9b4f-1c2d3e4f5a6b"
	sealed := vault.Seal(key, family, "Anna Przykładowa")
	assert.True(t, vault.IsSealed(sealed))
	assert.NotContains(t, sealed, "Anna")
	assert.NotEqual(t, sealed, vault.Seal(key, family, "Anna Przykładowa"), "a fresh nonce each time")
	got, err := vault.Open(key, family, sealed)
	require.NoError(t, err)
	assert.Equal(t, "Anna Przykładowa", got)

	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, vault.SealedPrefix))
	require.NoError(t, err)
	raw[len(raw)-1] ^= 1
	tampered := vault.SealedPrefix + base64.RawStdEncoding.EncodeToString(raw)
	tests := []struct {
		name   string
		key    []byte
		family string
		value  string
		want   error
	}{
		{"an altered ciphertext", key, family, tampered, vault.ErrAuth},
		{"another family's value", key, "other", sealed, vault.ErrAuth},
		{"another key", bytes.Repeat([]byte{8}, vault.KeySize), family, sealed, vault.ErrAuth},
		{"a value without the prefix", key, family, "Anna", vault.ErrMalformed},
		{"a value that is not base64", key, family, vault.SealedPrefix + "!!!", vault.ErrMalformed},
		{"a value too short", key, family, vault.SealedPrefix + "AAAA", vault.ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := vault.Open(tt.key, tt.family, tt.value)
			require.ErrorIs(t, err, tt.want)
			assert.Empty(t, pt)
		})
	}
}

func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, vault.KeySize)
	f.Add(vault.Seal(key, "f", "x"))
	f.Add(vault.SealedPrefix)
	f.Add("enc:v1:" + base64.RawStdEncoding.EncodeToString(make([]byte, 40)))
	f.Fuzz(func(t *testing.T, s string) {
		pt, err := vault.Open(key, "f", s)
		if err != nil {
			if !errors.Is(err, vault.ErrAuth) && !errors.Is(err, vault.ErrMalformed) {
				t.Fatalf("unexpected error %v", err)
			}
			if pt != "" {
				t.Fatal("plaintext with an error")
			}
		}
	})
}

func TestMasterKeys(t *testing.T) {
	k, text := vault.NewMasterKey()
	parsed, err := vault.ParseMasterKey(" " + text + "\n")
	require.NoError(t, err)
	assert.Equal(t, k.ID(), parsed.ID())
	raw, _ := base64.StdEncoding.DecodeString(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)))
	_, err = vault.ParseMasterKey(base64.StdEncoding.EncodeToString(raw))
	require.NoError(t, err)

	for _, bad := range []string{"", "abc", strings.Repeat("z", 64), base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		_, err := vault.ParseMasterKey(bad)
		assert.ErrorIs(t, err, vault.ErrMasterKey, bad)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	_, err = vault.LoadMasterKey(path, "")
	require.ErrorIs(t, err, vault.ErrMasterKey, "a key readable by others is refused")
	require.NoError(t, os.Chmod(path, 0o600))
	fromFile, err := vault.LoadMasterKey(path, "")
	require.NoError(t, err)
	assert.Equal(t, k.ID(), fromFile.ID())

	t.Setenv("KOOP_TEST_KEY", text)
	fromEnv, err := vault.LoadMasterKey("", "KOOP_TEST_KEY")
	require.NoError(t, err)
	assert.Equal(t, k.ID(), fromEnv.ID())
	_, err = vault.LoadMasterKey("", "KOOP_TEST_KEY_UNSET")
	require.ErrorIs(t, err, vault.ErrMasterKey)
	_, err = vault.LoadMasterKey(filepath.Join(dir, "missing"), "")
	require.ErrorIs(t, err, vault.ErrMasterKey)
}

func openKeyring(t *testing.T, dir string, master vault.MasterKey) (*eventstore.Store, *vault.Keyring) {
	t.Helper()
	s, err := eventstore.Open(context.Background(), eventstore.Options{DataDir: dir})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	k, err := vault.OpenKeyring(context.Background(), s.JetStream(), master, 1)
	require.NoError(t, err)
	t.Cleanup(k.Close)
	return s, k
}

// wrappedValue returns the wrapped key stored for a family, as it sits in
// the bucket's files.
func wrappedValue(t *testing.T, s *eventstore.Store, family string) string {
	t.Helper()
	kv, err := s.JetStream().KeyValue(context.Background(), vault.Bucket)
	require.NoError(t, err)
	e, err := kv.Get(context.Background(), "family."+family)
	require.NoError(t, err)
	var v struct{ Wrapped string }
	require.NoError(t, json.Unmarshal(e.Value(), &v))
	require.NotEmpty(t, v.Wrapped)
	return v.Wrapped
}

func grepDir(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var hits []string
	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err // directories, and the link to the batches' staging in memory
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			hits = append(hits, path)
		}
		return nil
	}))
	return hits
}

func TestKeyringCreatesErasesAndRotates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	master, _ := vault.NewMasterKey()
	s, k := openKeyring(t, dir, master)

	a, b := "0193f3a2-0000-7000-8000-00000000000a", "0193f3a2-0000-7000-8000-00000000000b"
	_, err := k.DataKey(ctx, a, false)
	require.ErrorIs(t, err, vault.ErrErased, "no key without create")
	ka, err := k.DataKey(ctx, a, true)
	require.NoError(t, err)
	again, err := k.DataKey(ctx, a, false)
	require.NoError(t, err)
	assert.Equal(t, ka, again)
	kb, err := k.DataKey(ctx, b, true)
	require.NoError(t, err)
	assert.NotEqual(t, ka, kb)

	// Another engine with the same master key reads the same keys; with
	// another master key it cannot.
	other, _ := vault.NewMasterKey()
	k2, err := vault.OpenKeyring(ctx, s.JetStream(), other, 1)
	require.NoError(t, err)
	defer k2.Close()
	_, err = k2.DataKey(ctx, a, false)
	require.ErrorIs(t, err, vault.ErrMasterKey)
	assert.NotContains(t, err.Error(), string(ka))

	// Erasure destroys the key: gone from the bucket and from its files.
	wrapped := wrappedValue(t, s, a)
	require.NotEmpty(t, grepDir(t, dir, []byte(wrapped)), "the wrapped key is on disk before erasure")
	erased, err := k.Erase(ctx, a)
	require.NoError(t, err)
	assert.True(t, erased)
	_, err = k.DataKey(ctx, a, true)
	require.ErrorIs(t, err, vault.ErrErased, "an erased family gets no new key")
	erased, err = k.Erase(ctx, a)
	require.NoError(t, err)
	assert.False(t, erased, "erasing twice is a no-op")
	assert.Empty(t, grepDir(t, dir, []byte(wrapped)), "the wrapped key is overwritten on disk")

	// Rotation re-wraps the remaining keys; the old master key no longer opens them.
	next, _ := vault.NewMasterKey()
	n, err := k.Rotate(ctx, master, next)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = k.Rotate(ctx, master, next)
	require.NoError(t, err)
	assert.Zero(t, n, "a second rotation has nothing left to do")
	k3, err := vault.OpenKeyring(ctx, s.JetStream(), next, 1)
	require.NoError(t, err)
	defer k3.Close()
	rotated, err := k3.DataKey(ctx, b, false)
	require.NoError(t, err)
	assert.Equal(t, kb, rotated, "the same data key, re-wrapped")
	k4, err := vault.OpenKeyring(ctx, s.JetStream(), master, 1)
	require.NoError(t, err)
	defer k4.Close()
	_, err = k4.DataKey(ctx, b, false)
	require.ErrorIs(t, err, vault.ErrMasterKey)
}

func TestBlobsAreSealedAndBoundToTheirName(t *testing.T) {
	ctx := context.Background()
	master, _ := vault.NewMasterKey()
	_, k := openKeyring(t, t.TempDir(), master)
	sealed, err := k.SealBlob(ctx, "checkpoint/a", []byte(`{"name":"Anna Przykładowa"}`))
	require.NoError(t, err)
	assert.NotContains(t, string(sealed), "Anna")
	got, err := k.OpenBlob(ctx, "checkpoint/a", sealed)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"Anna Przykładowa"}`, string(got))
	_, err = k.OpenBlob(ctx, "checkpoint/b", sealed)
	assert.ErrorIs(t, err, vault.ErrAuth, "a blob is bound to its name")
	_, err = k.OpenBlob(ctx, "checkpoint/a", []byte(`{"plain":true}`))
	assert.ErrorIs(t, err, vault.ErrMalformed)
}

func TestPseudonymsAreStableAndKeyed(t *testing.T) {
	ctx := context.Background()
	master, _ := vault.NewMasterKey()
	dir := t.TempDir()
	s, k := openKeyring(t, dir, master)
	a, b := "0193f3a2-0000-7000-8000-00000000000a", "0193f3a2-0000-7000-8000-00000000000b"
	pa, err := k.Pseudonym(ctx, a)
	require.NoError(t, err)
	assert.Regexp(t, `^R-[a-z2-7]{12}$`, pa)
	assert.NotContains(t, pa, a[:8])
	pb, err := k.Pseudonym(ctx, b)
	require.NoError(t, err)
	assert.NotEqual(t, pa, pb)

	// Another engine on the same store, and erasure, change nothing.
	k2, err := vault.OpenKeyring(ctx, s.JetStream(), master, 1)
	require.NoError(t, err)
	defer k2.Close()
	_, err = k.DataKey(ctx, a, true)
	require.NoError(t, err)
	_, err = k.Erase(ctx, a)
	require.NoError(t, err)
	again, err := k2.Pseudonym(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, pa, again)
}
