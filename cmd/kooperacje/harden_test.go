package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/vault"
)

// Serve's HTTP server, pages and API alike: every answer hardened, paths
// that are not in their clean form a 404 problem rather than a redirect,
// request headers capped.
func TestServeHardensEveryAnswer(t *testing.T) {
	_, key := vault.NewMasterKey()
	t.Setenv(MasterKeyEnv, key)
	api, _ := startServe(t, "--data", t.TempDir())
	base := strings.TrimSuffix(api, "/api/v1")
	base = strings.TrimSuffix(base, "/")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(t *testing.T, path string, header http.Header) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, body
	}

	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/", 200}, {"/families/x", 200}, {"/assets/app.js", 200}, {"/no-such-page", 404},
		{"/healthz", 200}, {"/api/v1/me", 401}, {"/api/v1/no-such-route", 404}, {"/metrics", 200},
	} {
		t.Run(tt.path+" carries the security headers", func(t *testing.T) {
			resp, _ := get(t, tt.path, nil)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
			assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		})
	}
	for _, path := range []string{"/families/../x", "/assets/../index.html", "/api/../healthz", "/api/v1/families/%2e%2e/me", "//families", "/families/./x", "/.."} {
		t.Run(path+" answers a 404 problem", func(t *testing.T) {
			resp, body := get(t, path, nil)
			require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", body)
			assert.Empty(t, resp.Header.Get("Location"), "no redirect")
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			var p struct{ Code string }
			require.NoError(t, json.Unmarshal(body, &p))
			assert.Equal(t, "no_route", p.Code)
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		})
	}
	t.Run("a request header of one megabyte is refused with 431", func(t *testing.T) {
		resp, _ := get(t, "/", http.Header{"X-Padding": {strings.Repeat("a", 1<<20)}})
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	})
}
