package api

import (
	"net/http"
	"strings"
	"time"
)

// MaxHeaderBytes bounds the headers of a request, its request line
// included: a request with more is answered 431 by net/http before any
// handler runs.
const MaxHeaderBytes = 64 << 10

// NewHTTPServer returns the HTTP server of handler as kooperacje serve
// runs it, and as the API's tests run it: headers capped at
// MaxHeaderBytes, timeouts for slow clients, every answer hardened
// (Harden). The caller sets Addr or serves on a listener of its own.
func NewHTTPServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           Harden(handler),
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // the event streams lift it for themselves
		IdleTimeout:       2 * time.Minute,
	}
}

// Harden wraps h so that every answer, an error or a 404 too, carries
// the headers of securityHeaders, and a path with a "." or ".." segment or
// an empty one ("//") answers a 404 problem instead of reaching h (where
// http.ServeMux would redirect it to its cleaned form).
func Harden(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if guard(w, r) {
			h.ServeHTTP(w, r)
		}
	})
}

// securityHeaders are set on every answer: the browser takes a JSON
// answer for nothing but JSON, shows no answer inside a frame (of another
// site or its own), and runs nothing from an answer of the API. A page
// replaces the Content-Security-Policy with its own, which also forbids
// frames (web).
var securityHeaders = [][2]string{
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
	{"Referrer-Policy", "no-referrer"},
}

// guard sets the security headers and answers a path that is not in its
// clean form itself; it reports whether the request may go on.
func guard(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	for _, kv := range securityHeaders {
		h.Set(kv[0], kv[1])
	}
	if cleanPath(r.URL.Path) {
		return true
	}
	writeProblem(w, Problem{Status: http.StatusNotFound, Code: "no_route", Instance: r.URL.Path,
		Detail: `no such resource: a path may not hold "." or ".." segments or empty ones ("//")`})
	return false
}

// cleanPath reports whether p starts with "/" and has no ".", ".." or
// empty segment (a trailing "/" is allowed).
func cleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if s == "." || s == ".." || (s == "" && i < len(segs)-1) {
			return false
		}
	}
	return true
}
