package credentials_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/credentials"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// fast are cheap parameters for tests of everything but the cost.
var fast = credentials.Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

// openStore opens the buckets on a real embedded JetStream.
func openStore(t *testing.T) *credentials.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	es, err := eventstore.Open(ctx, eventstore.Options{DataDir: t.TempDir(), Listen: eventstore.ListenOff})
	require.NoError(t, err)
	t.Cleanup(es.Close)
	s, err := credentials.Open(ctx, es.JetStream(), 1, 12*time.Hour, fast)
	require.NoError(t, err)
	return s
}

func TestHashAndVerify(t *testing.T) {
	h, err := credentials.HashPassword("zielona łąka nad Wartą", credentials.DefaultParams)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	tests := []struct {
		name     string
		password string
		params   credentials.Params
		ok       bool
		stale    bool
	}{
		{"the right password verifies", "zielona łąka nad Wartą", credentials.DefaultParams, true, false},
		{"a wrong password does not", "zielona łąka nad Wartą!", credentials.DefaultParams, false, false},
		{"a hash of older parameters verifies and is stale", "zielona łąka nad Wartą", fast, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, stale, err := credentials.VerifyPassword(tt.password, h, tt.params)
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.stale, stale)
		})
	}
	_, _, err = credentials.VerifyPassword("x", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", fast)
	assert.ErrorIs(t, err, credentials.ErrMalformedHash)
}

func TestPasswordRules(t *testing.T) {
	tests := []struct {
		name, password string
		ok             bool
	}{
		{"a long phrase is accepted", "zielona łąka nad Wartą", true},
		{"an empty password is refused", "", false},
		{"nine characters are too few", "abcdefgh1", false},
		{"257 characters are too many", strings.Repeat("ab", 128) + "c", false},
		{"one character repeated is refused", "aaaaaaaaaaaa", false},
		{"the login inside the password is refused", "xmarta.testowa1", false},
		{"a well-known password is refused", "Qwertyuiop", false},
		{"a control character is refused", "zielona\x00łąka nad", false},
		{"invalid UTF-8 is refused", "zielona \xff łąka nad", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := credentials.CheckPassword("password", tt.password, "marta.testowa")
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "password", de.Field)
			assert.ErrorIs(t, err, domain.ErrInvalid)
		})
	}
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	th := credentials.NewThrottle(5, 15*time.Minute)
	for range 4 {
		th.Fail("marta", now)
		require.Zero(t, th.Wait("marta", now), "the first four failures cost nothing")
	}
	th.Fail("marta", now)
	assert.Equal(t, time.Second, th.Wait("marta", now), "after the fifth failure the next attempt waits a second")
	now = now.Add(time.Second)
	th.Fail("marta", now)
	assert.Equal(t, 2*time.Second, th.Wait("marta", now), "then twice as long")
	assert.Zero(t, th.Wait("piotr", now), "another key is not held up")
	for range 40 {
		th.Fail("marta", now)
	}
	assert.Equal(t, 15*time.Minute, th.Wait("marta", now), "at most the longest delay")
	th.Succeed("marta")
	assert.Zero(t, th.Wait("marta", now), "a success forgets the failures")
}

func TestLoginsAndSetupLinks(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	marta, piotr := domain.NewID(), domain.NewID()
	require.NoError(t, s.ReserveLogin(ctx, "marta", marta))
	require.NoError(t, s.ReserveLogin(ctx, "marta", marta), "a retry by the same user")
	assert.ErrorIs(t, s.ReserveLogin(ctx, "marta", piotr), credentials.ErrLoginTaken)

	first, err := s.IssueSetup(ctx, marta, now.Add(72*time.Hour))
	require.NoError(t, err)
	second, err := s.IssueSetup(ctx, marta, now.Add(72*time.Hour))
	require.NoError(t, err)
	_, err = s.FindSetup(ctx, first, now)
	assert.ErrorIs(t, err, credentials.ErrSetupLinkInvalid, "a newer link replaces the first")
	_, err = s.FindSetup(ctx, second, now.Add(72*time.Hour))
	assert.ErrorIs(t, err, credentials.ErrSetupLinkExpired)

	link, err := s.FindSetup(ctx, second, now)
	require.NoError(t, err)
	assert.Equal(t, "marta", link.Login)
	// Two uses of one link at once: one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = s.UseSetup(ctx, link, "zielona łąka nad Wartą", now) })
	}
	wg.Wait()
	assert.True(t, (errs[0] == nil) != (errs[1] == nil), "exactly one use succeeds: %v", errs)
	assert.True(t, errors.Is(errs[0], credentials.ErrSetupLinkInvalid) || errors.Is(errs[1], credentials.ErrSetupLinkInvalid))
	_, err = s.FindSetup(ctx, second, now)
	assert.ErrorIs(t, err, credentials.ErrSetupLinkInvalid, "a used link is gone")

	uid, ok, err := s.Verify(ctx, "marta", "zielona łąka nad Wartą")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, marta, uid)
	for _, c := range [][2]string{{"marta", "zielona łąka nad Wartą!"}, {"nikt", "zielona łąka nad Wartą"}, {"", ""}} {
		_, ok, err := s.Verify(ctx, c[0], c[1])
		require.NoError(t, err)
		assert.False(t, ok, "%q", c)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	policy := credentials.SessionPolicy{Idle: 30 * time.Minute, MaxAge: 12 * time.Hour, Touch: time.Minute}
	uid := domain.NewID()
	cookie, sess, err := s.CreateSession(ctx, uid, "192.0.2.1", "test", now)
	require.NoError(t, err)
	assert.NotContains(t, sess.ID, strings.SplitN(cookie, ".", 2)[1], "only the hash is kept")

	tests := []struct {
		name   string
		cookie string
		at     time.Time
		ok     bool
	}{
		{"a fresh session holds", cookie, now.Add(time.Minute), true},
		{"used again within the idle time it holds", cookie, now.Add(29 * time.Minute), true},
		{"a mangled cookie is no session", cookie + "x", now, false},
		{"another user's id with the secret is no session", domain.NewID() + "." + strings.SplitN(cookie, ".", 2)[1], now, false},
		{"idle for longer than the idle time it has expired", cookie, now.Add(60 * time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Session(ctx, tt.cookie, tt.at, policy)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, credentials.ErrNoSession)
			}
		})
	}

	a, _, err := s.CreateSession(ctx, uid, "", "", now)
	require.NoError(t, err)
	b, bs, err := s.CreateSession(ctx, uid, "", "", now)
	require.NoError(t, err)
	list, err := s.Sessions(ctx, uid, now, policy)
	require.NoError(t, err)
	assert.Len(t, list, 2, "the expired one is gone")
	n, err := s.EndSessions(ctx, uid, bs.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = s.Session(ctx, a, now, policy)
	assert.ErrorIs(t, err, credentials.ErrNoSession)
	_, err = s.Session(ctx, b, now, policy)
	assert.NoError(t, err, "the session kept")
	require.NoError(t, s.EndSession(ctx, uid, bs.ID))
	assert.ErrorIs(t, s.EndSession(ctx, uid, bs.ID), credentials.ErrSessionNotFound)
	_, err = s.Session(ctx, b, now, policy)
	assert.ErrorIs(t, err, credentials.ErrNoSession)
}
