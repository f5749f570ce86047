// Package api serves Kooperacje over HTTP: the JSON API under /api/v1
// (bearer-token authentication, RFC 9457 problems, Idempotency-Key and
// If-Match on commands, read-your-writes with ?min_seq), the health and
// readiness probes, Prometheus metrics and the OpenAPI description.
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kooperacje/kooperacje/credentials"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// Store is what the API asks of the event store directly: whether it
// answers, and how far it reaches.
type Store interface {
	Ping(ctx context.Context) error
	LastSequence(ctx context.Context) (uint64, error)
}

// Config is what the API is built from; cmd/kooperacje wires it.
type Config struct {
	Handler      *domain.Handler
	Runner       *projections.Runner
	Institutions *projections.Institutions
	Partnerships *projections.Partnerships
	Users        *projections.Users
	Families     *projections.Families
	// Indicators are the evaluation's indicators kept live, for the
	// dashboard; GET /api/v1/dashboard answers 503 without them.
	Indicators *projections.Indicators
	// Events loads a family's events for the data-subject export.
	Events interface {
		Load(ctx context.Context, aggregate, id string) ([]domain.Envelope, error)
	}
	// Access logs reads of personal data (nil: not logged, for tests of
	// other things).
	Access AccessLog
	// Keys destroys a family's data key when it is erased.
	Keys interface {
		Erase(ctx context.Context, familyID string) (bool, error)
	}
	// Stream is the event stream the evaluation replays (the store), and
	// Pseudonyms turns family ids into the evaluation's pseudonyms (the
	// keyring); GET /api/v1/evaluation answers 503 without them.
	Stream     projections.Source
	Pseudonyms Pseudonyms
	Store      Store
	Logger     *slog.Logger
	// Registry receives the API's metrics; a new one if nil.
	Registry *prometheus.Registry
	// MaxWait bounds how long a query with ?min_seq waits (default 5s).
	MaxWait time.Duration
	Now     func() time.Time
	// Credentials keeps logins, password hashes, set-up links and
	// sessions; without it the sign-in routes answer 503 and only bearer
	// tokens authenticate.
	Credentials *credentials.Store
	// Sessions says how long a session lasts (default
	// credentials.DefaultSessionPolicy).
	Sessions credentials.SessionPolicy
	// SetupLinkTTL is how long a set-up link is valid (default
	// DefaultSetupLinkTTL).
	SetupLinkTTL time.Duration
	// BehindTLSProxy says that a proxy terminates TLS in front of the
	// engine: the session cookie is marked Secure although the request
	// arrives over plain HTTP, and the client's address for throttling is
	// the last one in X-Forwarded-For.
	BehindTLSProxy bool
}

// Server is the HTTP API. It implements http.Handler.
type Server struct {
	Config
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	// closing ends the event streams (CloseStreams).
	closing   chan struct{}
	closeOnce sync.Once
	// dash is the last overview computed, at its read-model position.
	dashMu sync.Mutex
	dash   *Dashboard
	// Sign-in failures, throttled per login and per address.
	loginThrottle, addrThrottle *credentials.Throttle
	// crossOrigin refuses cross-site writes: a page elsewhere cannot
	// use the session cookie to change anything.
	crossOrigin *http.CrossOriginProtection
}

// New returns the API over cfg.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sessions == (credentials.SessionPolicy{}) {
		cfg.Sessions = credentials.DefaultSessionPolicy
	}
	if cfg.SetupLinkTTL == 0 {
		cfg.SetupLinkTTL = DefaultSetupLinkTTL
	}
	s := &Server{Config: cfg, log: cfg.Logger, mux: http.NewServeMux(), closing: make(chan struct{}),
		loginThrottle: credentials.NewThrottle(loginFreeFailures, maxThrottleDelay),
		addrThrottle:  credentials.NewThrottle(addressFreeFailures, maxThrottleDelay),
		crossOrigin:   http.NewCrossOriginProtection()}
	var cache *domain.Cache
	if cfg.Handler != nil {
		cache = cfg.Handler.Cache
	}
	s.metrics = newMetrics(cfg.Registry, cfg.Runner, cache)
	s.routes()
	return s
}

//go:embed openapi.json
var openAPI []byte

func (s *Server) routes() {
	// Open to anyone: probes, metrics, the API's description.
	s.handle("GET /healthz", s.healthz, public)
	s.handle("GET /readyz", s.readyz, public)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	s.handle("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request, _ Principal) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	}, public)

	s.handle("GET /api/v1/me", s.me, anyRole)
	s.handle("POST /api/v1/session", s.signIn, public)
	s.handle("GET /api/v1/session", s.whoAmI, anyRole)
	s.handle("DELETE /api/v1/session", s.signOut, public)
	s.handle("POST /api/v1/password", s.changePassword, anyRole)
	s.handle("POST /api/v1/setup", s.setupPassword, public)

	s.handle("GET /api/v1/institutions", s.listInstitutions, anyRole)
	s.handle("POST /api/v1/institutions", s.registerInstitution, manageInstitutions)
	s.handle("GET /api/v1/institutions/{id}", s.getInstitution, anyRole)
	s.handle("POST /api/v1/workers", s.registerWorker, manageInstitutions)
	s.handle("PUT /api/v1/institutions/{id}/retention", pathCommand(s, false, setRetention), manageInstitutions)
	s.handle("GET /api/v1/retention/due", s.retentionDue, eraseFamilies)

	s.handle("GET /api/v1/partnerships", s.listPartnerships, anyRole)
	s.handle("POST /api/v1/partnerships", s.initiatePartnership, managePartnerships)
	s.handle("GET /api/v1/partnerships/{id}", s.getPartnership, anyRole)
	s.handle("POST /api/v1/partnerships/{id}/members", pathCommand(s, false, setJoin), managePartnerships)
	s.handle("DELETE /api/v1/partnerships/{id}/members/{institutionID}", pathCommand(s, false, setLeave), managePartnerships)
	s.handle("POST /api/v1/partnerships/{id}/services", pathCommand(s, false, setOffer), managePartnerships)
	s.handle("DELETE /api/v1/partnerships/{id}/services/{serviceID}", pathCommand(s, true, setWithdraw), managePartnerships)
	s.handle("POST /api/v1/partnerships/{id}/meetings", pathCommand(s, false, setMeeting), managePartnerships)
	s.handle("POST /api/v1/partnerships/{id}/formalize", pathCommand(s, false, setFormalize), managePartnerships)

	s.handle("POST /api/v1/partnerships/{id}/staff-support", pathCommand(s, false, setStaffSupport), managePartnerships)

	s.handle("GET /api/v1/families", s.listFamilies, readFamilies)
	s.handle("POST /api/v1/families", s.openFamilyCase, writeFamilies)
	s.handle("GET /api/v1/families/{id}/plan", s.familyPlan, readFamilies)
	s.handle("GET /api/v1/families/{id}/history", s.familyHistory, readHistory)
	s.handle("POST /api/v1/families/{id}/consents", pathCommand(s, false, setGiveConsent), writeFamilies)
	s.handle("POST /api/v1/families/{id}/consents/{consentID}/withdraw", pathCommand(s, false, setWithdrawConsent), writeFamilies)
	s.handle("POST /api/v1/families/{id}/legal-bases", pathCommand(s, false, setFamily[domain.RecordLegalBasis]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/diagnosis", pathCommand(s, false, setFamily[domain.RecordDiagnosisInput]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/diagnosis/complete", pathCommand(s, false, setFamily[domain.CompleteDiagnosis]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/diagnosis/{inputID}/correct", pathCommand(s, false, setCorrectInput), writeFamilies)
	s.handle("POST /api/v1/families/{id}/diagnosis/{inputID}/withdraw", pathCommand(s, false, setWithdrawInput), writeFamilies)
	s.handle("POST /api/v1/families/{id}/team", pathCommand(s, false, setFamily[domain.FormTeam]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/team/members", pathCommand(s, false, setFamily[domain.AddTeamMember]), writeFamilies)
	s.handle("DELETE /api/v1/families/{id}/team/members/{workerID}", pathCommand(s, false, setRemoveTeamMember), writeFamilies)
	s.handle("POST /api/v1/families/{id}/team/meetings", pathCommand(s, false, setTeamMeeting), writeFamilies)
	s.handle("POST /api/v1/families/{id}/referrals", pathCommand(s, false, setRequestReferral), writeFamilies)
	s.handle("POST /api/v1/families/{id}/referrals/{referralID}", pathCommand(s, false, setUpdateReferral), writeFamilies)
	s.handle("POST /api/v1/families/{id}/contract", pathCommand(s, false, setFamily[domain.DraftContract]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/contract/sign", pathCommand(s, false, setFamily[domain.SignContract]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/contract/actions/{actionID}", pathCommand(s, false, setUpdateAction), writeFamilies)
	s.handle("POST /api/v1/families/{id}/contract/actions/{actionID}/withdraw", pathCommand(s, false, setWithdrawAction), writeFamilies)
	s.handle("POST /api/v1/families/{id}/contract/review", pathCommand(s, false, setFamily[domain.ReviewContract]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/contract/extend", pathCommand(s, false, setFamily[domain.ExtendContract]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/contract/end", pathCommand(s, false, setFamily[domain.EndContract]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/close", pathCommand(s, false, setFamily[domain.CloseCase]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/reopen", pathCommand(s, false, setFamily[domain.ReopenCase]), writeFamilies)
	s.handle("POST /api/v1/families/{id}/erase", s.eraseFamily, eraseFamilies)
	s.handle("GET /api/v1/families/{id}/export", s.exportFamily, eraseFamilies)
	s.handle("GET /api/v1/access-log", s.accessLog, readAccessLog)
	s.handle("GET /api/v1/users", s.listUsers, manageUsers)
	s.handle("POST /api/v1/users", s.registerUser, manageUsers)
	s.handle("POST /api/v1/users/{id}/tokens", s.issueToken, manageUsers)
	s.handle("DELETE /api/v1/users/{id}/tokens/{tokenID}", s.revokeToken, manageUsers)
	s.handle("PUT /api/v1/users/{id}/login", s.assignLogin, manageUsers)
	s.handle("POST /api/v1/users/{id}/setup-link", s.issueSetupLink, manageUsers)
	s.handle("POST /api/v1/users/{id}/disable", s.disableUser, manageUsers)
	s.handle("POST /api/v1/users/{id}/enable", s.enableUser, manageUsers)
	s.handle("GET /api/v1/users/{id}/sessions", s.userSessions, manageUsers)
	s.handle("DELETE /api/v1/users/{id}/sessions", s.endUserSessions, manageUsers)
	s.handle("DELETE /api/v1/users/{id}/sessions/{sid}", s.endUserSessions, manageUsers)
	s.handle("GET /api/v1/workers/{id}/caseload", s.workerCaseload, readFamilies)
	s.handle("GET /api/v1/institutions/{id}/caseload", s.institutionCaseload, readFamilies)
	s.handle("GET /api/v1/evaluation", s.evaluation, evaluate)
	s.handle("GET /api/v1/evaluation/export.xlsx", s.evaluationExport(true), evaluate)
	s.handle("GET /api/v1/evaluation/export.csv", s.evaluationExport(false), evaluate)
	s.handle("GET /api/v1/dashboard", s.dashboard, anyRole)
	s.handle("GET /api/v1/stream", s.stream, anyRole)

}

// methods a route may take, for the Allow header of a 405.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// ServeHTTP implements http.Handler. A path no route knows answers 404, a
// known path with a method it does not take 405 with Allow, both as
// problems. Every answer carries the headers Harden sets, mounted in
// Harden or not.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !guard(w, r) {
		return
	}
	if err := s.crossOrigin.Check(r); err != nil {
		writeProblem(w, Problem{Status: http.StatusForbidden, Code: "cross_origin", Instance: r.URL.Path,
			Detail: "a write from another site is refused: " + err.Error()})
		return
	}
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: "no_route", Detail: "no such resource: " + r.URL.Path, Instance: r.URL.Path})
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
		Detail: r.Method + " is not allowed here; use " + strings.Join(allow, ", "), Instance: r.URL.Path})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request, _ Principal) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the store answers and the projections are
// running; 503 with the reason otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ Principal) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "store_unavailable", Detail: "event store: " + err.Error()})
		return
	}
	if err := s.Runner.Err(); err != nil {
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "projections_failed", Detail: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "position": s.Runner.Position()})
}
