// Package web serves the dashboards: pages under / for the animators,
// coordinators, workers, auditors and evaluators. A page is a shell the
// browser fills in by reading the JSON API with the user's session (a
// cookie set when they sign in with their login and password), so it
// shows exactly what the API lets that user see; it refreshes itself when
// the API's event stream (GET /api/v1/stream) says the read models moved.
// Everything is embedded in the binary: no CDN, no build step.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Pages are the paths the shell answers; the script renders the page the
// path names. docs/dashboards.md describes each.
var Pages = []string{
	"/",
	"/login",
	"/setup",
	"/password",
	"/families",
	"/families/{id}",
	"/partnerships/{id}",
	"/caseload",
	"/tasks",
	"/evaluation",
}

// contentSecurityPolicy lets a page load only its own scripts, styles and
// API: an injected script could not run, nor send a token elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler returns the pages and their assets. Paths it does not know
// answer 404 with a page saying so.
func Handler() http.Handler {
	mux := http.NewServeMux()
	shell, err := assets.ReadFile("assets/index.html")
	if err != nil {
		panic("web: the embedded shell is missing: " + err.Error()) // a broken build, not a runtime condition
	}
	notFound, err := assets.ReadFile("assets/404.html")
	if err != nil {
		panic("web: the embedded 404 page is missing: " + err.Error())
	}
	page := func(body []byte, status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			secure(w)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(status)
			if r.Method != http.MethodHead {
				_, _ = w.Write(body)
			}
		}
	}
	for _, p := range Pages {
		pattern := "GET " + p
		if p == "/" {
			pattern = "GET /{$}"
		}
		mux.Handle(pattern, page(shell, http.StatusOK))
	}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic("web: " + err.Error())
	}
	files := http.StripPrefix("/assets/", http.FileServerFS(static))
	mux.Handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		// Assets change with the binary: revalidate, cheap with the
		// embedded files' stable modification time.
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
	mux.Handle("/", page(notFound, http.StatusNotFound))
	return mux
}

// secure sets the headers every page and asset carries.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}
