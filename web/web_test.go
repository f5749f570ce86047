package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/web"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestPagesAndAssets(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	t.Cleanup(srv.Close)

	cases := []struct {
		path        string
		status      int
		contentType string
		contains    string
	}{
		{"/", http.StatusOK, "text/html; charset=utf-8", `<script type="module" src="/assets/app.js">`},
		{"/login", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"/setup", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"/password", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"/families", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"/families/0192f0c4-0000-7000-8000-000000000001", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"/partnerships/0192f0c4-0000-7000-8000-000000000002", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"/caseload", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"/tasks", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"/evaluation", http.StatusOK, "text/html; charset=utf-8", `<main id="main"`},
		{"/assets/app.js", http.StatusOK, "text/javascript; charset=utf-8", "import { t, lang"},
		{"/assets/i18n.js", http.StatusOK, "text/javascript; charset=utf-8", "'nav.overview': 'Przegląd'"},
		{"/assets/charts.js", http.StatusOK, "text/javascript; charset=utf-8", "export function barChart"},
		{"/assets/app.css", http.StatusOK, "text/css; charset=utf-8", ".tiles"},
		{"/assets/icon.svg", http.StatusOK, "image/svg+xml", "<svg"},
		{"/no-such-page", http.StatusNotFound, "text/html; charset=utf-8", "Nie ma takiej strony"},
		{"/families/a/b", http.StatusNotFound, "text/html; charset=utf-8", "Nie ma takiej strony"},
		{"/assets/missing.js", http.StatusNotFound, "text/plain; charset=utf-8", "404"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, body := get(t, srv.URL+c.path)
			assert.Equal(t, c.status, resp.StatusCode)
			assert.Equal(t, c.contentType, resp.Header.Get("Content-Type"))
			assert.Contains(t, body, c.contains)
			csp := resp.Header.Get("Content-Security-Policy")
			assert.Contains(t, csp, "script-src 'self'", "no inline or foreign script may run")
			assert.Contains(t, csp, "connect-src 'self'", "a token cannot be sent elsewhere")
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
		})
	}
}

// TestPagesLoadNothingFromElsewhere keeps the pages self-contained: no
// CDN, no web font, nothing that needs the network beyond the engine.
func TestPagesLoadNothingFromElsewhere(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	t.Cleanup(srv.Close)
	for _, path := range []string{"/", "/assets/app.js", "/assets/i18n.js", "/assets/charts.js", "/assets/app.css", "/assets/404.html"} {
		_, body := get(t, srv.URL+path)
		for _, bad := range []string{"http://", "https://", "//cdn", "innerHTML ="} {
			if bad == "http://" && strings.Contains(body, "http://www.w3.org/2000/svg") {
				body = strings.ReplaceAll(body, "http://www.w3.org/2000/svg", "")
			}
			assert.NotContains(t, body, bad, path)
		}
	}
}

func TestEveryPagePathIsServed(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	t.Cleanup(srv.Close)
	for _, p := range web.Pages {
		path := strings.ReplaceAll(p, "{id}", "x")
		resp, body := get(t, srv.URL+path)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, body, `src="/assets/app.js"`, path)
	}
}
