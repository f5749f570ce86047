package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
)

func TestServeCacheEntriesFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    int
		wantErr bool
	}{
		{name: "a cache of the default size unless told", args: nil, want: domain.DefaultCacheEntries},
		{name: "a cache of the given size", args: []string{"--cache-entries", "50"}, want: 50},
		{name: "no cache with 0", args: []string{"--cache-entries", "0"}, want: 0},
		{name: "a negative size is refused", args: []string{"--cache-entries", "-1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseServe(append([]string{"--demo", "--data", t.TempDir()}, tt.args...), io.Discard)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.cacheEntries)
		})
	}
}

// A family erased by another process on the same store (`kooperacje
// forget`, or another serve) leaves serve's cache once the stream brings
// its FamilyErased, with no command of serve on the family.
func TestServeCacheForgetsFamiliesErasedElsewhere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	y, m, d := time.Now().Date()
	today := domain.NewDate(y, m, d)
	c := serveConfig{storeConfig: storeConfig{data: t.TempDir(), natsListen: eventstore.ListenOff, stream: eventstore.DefaultStream, instance: "test", demo: true},
		cacheEntries: 100}
	require.NoError(t, c.validate())
	log := slog.New(slog.DiscardHandler)
	e, err := startEngine(ctx, c, log)
	require.NoError(t, err)
	defer e.close(context.Background(), log)
	require.NotNil(t, e.handler.Cache)
	require.NoError(t, loadDemo(ctx, e.handler, c.data))
	require.NoError(t, e.catchUp(ctx))

	open := e.families.List(projections.FamilyFilter{Status: "open"}, today)
	require.NotEmpty(t, open)
	family := open[0].ID
	// A refused command still leaves the family in the cache.
	_, err = e.handler.Execute(ctx, domain.ReopenCase{FamilyID: family, Date: today},
		domain.Meta{Actor: domain.Actor{UserID: "test", Role: domain.RoleAdmin}, Reason: "próba wznowienia otwartej sprawy"}, domain.AnyVersion)
	require.ErrorIs(t, err, domain.ErrCaseOpen)
	_, cached := e.handler.Cache.Cached(domain.AggregateFamily, family)
	require.True(t, cached)

	forget := &domain.Handler{Store: e.store} // another process's handler
	erased, err := eraseFamily(ctx, forget, e.keys, family, "art. 17 RODO", "wniosek osoby", today,
		domain.Actor{UserID: "cli", Role: domain.RoleAdmin})
	require.NoError(t, err)
	require.True(t, erased)
	require.NoError(t, e.catchUp(ctx))

	_, cached = e.handler.Cache.Cached(domain.AggregateFamily, family)
	assert.False(t, cached, "serve's cache keeps no state of the erased family")
	assert.Equal(t, uint64(1), e.handler.Cache.Stats().Erasures)
}
