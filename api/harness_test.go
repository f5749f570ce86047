package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/credentials"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
	"github.com/kooperacje/kooperacje/vault"
)

// testAPI is the whole API over real HTTP, on a real embedded JetStream in
// a temporary directory, with one user and token for every role. As in
// production, the store seals personal data with a keyring under a fresh
// master key.
type testAPI struct {
	t            *testing.T
	store        *eventstore.Store
	keys         *vault.Keyring
	access       *eventstore.AccessLog
	creds        *credentials.Store
	runner       *projections.Runner
	handler      *domain.Handler
	institutions *projections.Institutions
	partnerships *projections.Partnerships
	users        *projections.Users
	families     *projections.Families
	indicators   *projections.Indicators
	api          *api.Server
	server       *httptest.Server
	// tokens and userIDs by role: admin, animator, coordinator, worker,
	// evaluator, auditor.
	tokens  map[domain.Role]string
	userIDs map[domain.Role]string
}

// newTestAPI starts the engine and the API. configure, if given, adjusts
// the API's configuration before it is built (a short MaxWait, say).
func newTestAPI(t *testing.T, configure ...func(*api.Config)) *testAPI {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	store, err := eventstore.Open(ctx, eventstore.Options{DataDir: t.TempDir(), Listen: eventstore.ListenOff})
	require.NoError(t, err)
	t.Cleanup(store.Close)
	// Personal data is sealed from the first append on, as serve does.
	master, _ := vault.NewMasterKey()
	keys, err := vault.OpenKeyring(ctx, store.JetStream(), master, 1)
	require.NoError(t, err)
	t.Cleanup(keys.Close)
	store.Protect(keys)

	ta := &testAPI{
		t:            t,
		store:        store,
		keys:         keys,
		handler:      &domain.Handler{Store: store, Cache: domain.NewCache(0)}, // as serve has it
		institutions: projections.NewInstitutions(),
		partnerships: projections.NewPartnerships(),
		users:        projections.NewUsers(),
		families:     projections.NewFamilies(),
		indicators:   projections.NewIndicators(nil),
		tokens:       map[domain.Role]string{},
		userIDs:      map[domain.Role]string{},
	}
	ta.runner = projections.NewRunner(store, "test", nil, ta.institutions, ta.partnerships, ta.users, ta.families, ta.indicators)
	ta.runner.OnApplied(func(_ uint64, envs []domain.Envelope) { ta.handler.Cache.Observe(envs) })
	require.NoError(t, ta.runner.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ta.runner.Stop(ctx)
	})

	var last uint64
	for _, role := range domain.Roles {
		uid := domain.NewID()
		system := domain.Meta{Actor: domain.Actor{UserID: uid, Role: domain.RoleSystem}, Reason: "test user"}
		_, err := ta.handler.Execute(ctx, domain.RegisterUser{UserID: uid, Name: "Test " + string(role), Role: role}, system, 0)
		require.NoError(t, err)
		token, hash := api.NewToken()
		res, err := ta.handler.Execute(ctx, domain.IssueToken{UserID: uid, TokenID: domain.NewID(), Hash: hash}, system, domain.AnyVersion)
		require.NoError(t, err)
		ta.tokens[role], ta.userIDs[role] = token, uid
		last = res.Sequence
	}
	require.NoError(t, ta.runner.WaitFor(ctx, last))
	ta.access, err = store.OpenAccessLog(ctx, 0)
	require.NoError(t, err)
	ta.creds, err = credentials.Open(ctx, store.JetStream(), 1, 12*time.Hour, credentials.DefaultParams)
	require.NoError(t, err)

	cfg := api.Config{
		Handler:      ta.handler,
		Runner:       ta.runner,
		Institutions: ta.institutions,
		Partnerships: ta.partnerships,
		Users:        ta.users,
		Families:     ta.families,
		Indicators:   ta.indicators,
		Events:       store,
		Keys:         keys,
		Access:       ta.access,
		Store:        store,
		Credentials:  ta.creds,
	}
	for _, c := range configure {
		c(&cfg)
	}
	ta.api = api.New(cfg)
	// The HTTP server as serve builds it: its header limit and timeouts.
	ta.server = httptest.NewUnstartedServer(nil)
	ta.server.Config = api.NewHTTPServer(ta.api)
	ta.server.Start()
	t.Cleanup(ta.server.Close)
	return ta
}

// response is an answer of the API: its status, headers, raw body and the
// body decoded as a JSON object (nil when it is not one).
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// rawBody is a request body sent as is, not encoded as JSON.
type rawBody string

// do sends a request. body is nil (no body), a rawBody (sent as is) or a
// value encoded as JSON; a body is sent as application/json unless headers
// say otherwise (a header given as "" is removed). An empty token sends no
// Authorization header.
func (ta *testAPI) do(method, path, token string, headers map[string]string, body any) response {
	ta.t.Helper()
	r, err := ta.send(method, path, token, headers, body)
	require.NoError(ta.t, err, "%s %s", method, path)
	return r
}

// send is do for other goroutines than the test's: it returns its error
// instead of failing the test.
func (ta *testAPI) send(method, path, token string, headers map[string]string, body any) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd = strings.NewReader(string(b))
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, ta.server.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := ta.server.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r, nil
}

// admin sends a request as the admin, without extra headers.
func (ta *testAPI) admin(method, path string, body any) response {
	ta.t.Helper()
	return ta.do(method, path, ta.tokens[domain.RoleAdmin], nil, body)
}

// command sends a command as the admin, requires the status and returns
// the command's answer once the read models have applied it (see settle).
func (ta *testAPI) command(method, path string, body any, status int) api.CommandResponse {
	ta.t.Helper()
	r := ta.admin(method, path, body)
	require.Equal(ta.t, status, r.status, "%s %s: %s", method, path, r.raw)
	var cr api.CommandResponse
	require.NoError(ta.t, json.Unmarshal(r.raw, &cr))
	require.NotEmpty(ta.t, cr.ID)
	require.NotZero(ta.t, cr.Sequence)
	ta.settle(cr.Sequence)
	return cr
}

// settle waits until the read models have applied seq. Access control
// decides a command on a family from the read models, which a command
// cannot ask to catch up (no ?min_seq on commands): a command sent right
// after the one that opened the family may otherwise find no family.
func (ta *testAPI) settle(seq uint64) {
	ta.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(ta.t, ta.runner.WaitFor(ctx, seq))
}

// read GETs path as the admin once the read models reached seq, requires
// 200 and decodes the body into v.
func (ta *testAPI) read(path string, seq uint64, v any) response {
	ta.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	r := ta.admin(http.MethodGet, path+sep+"min_seq="+strconv.FormatUint(seq, 10), nil)
	require.Equal(ta.t, http.StatusOK, r.status, "GET %s: %s", path, r.raw)
	if v != nil {
		require.NoError(ta.t, json.Unmarshal(r.raw, v))
	}
	return r
}

// lastSeq returns the stream's last sequence.
func (ta *testAPI) lastSeq() uint64 {
	ta.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	seq, err := ta.store.LastSequence(ctx)
	require.NoError(ta.t, err)
	return seq
}

// institution registers an institution and returns its id.
func (ta *testAPI) institution(name string, sector domain.Sector) string {
	ta.t.Helper()
	return ta.command(http.MethodPost, "/api/v1/institutions", map[string]any{
		"name": name, "sector": sector, "municipality": "Gmina Testowa", "county": "powiat testowy",
	}, http.StatusCreated).ID
}

// partnership initiates a partnership led by leader on 2024-03-01 and
// returns its answer.
func (ta *testAPI) partnership(name, leader string) api.CommandResponse {
	ta.t.Helper()
	return ta.command(http.MethodPost, "/api/v1/partnerships", map[string]any{
		"name": name, "municipality": "Gmina Testowa", "county": "powiat testowy",
		"date": "2024-03-01", "place": "Urząd Gminy", "leader_id": leader,
	}, http.StatusCreated)
}

// join makes an institution a member of a partnership.
func (ta *testAPI) join(partnership, institution string) api.CommandResponse {
	ta.t.Helper()
	return ta.command(http.MethodPost, "/api/v1/partnerships/"+partnership+"/members",
		map[string]any{"institution_id": institution, "date": "2024-04-02"}, http.StatusCreated)
}

// requireProblem requires r to be an application/problem+json answer with
// the status, code and field given (field "" requires no field).
func requireProblem(t *testing.T, r response, status int, code, field string) {
	t.Helper()
	require.Equal(t, status, r.status, "answer: %s", r.raw)
	assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	require.NotNil(t, r.body, "a problem is a JSON object: %s", r.raw)
	assert.EqualValues(t, status, r.body["status"])
	assert.NotEmpty(t, r.body["title"])
	assert.NotEmpty(t, r.body["type"])
	assert.Equal(t, code, r.body["code"], "code of %s", r.raw)
	if field == "" {
		assert.Nil(t, r.body["field"], "field of %s", r.raw)
	} else {
		assert.Equal(t, field, r.body["field"], "field of %s", r.raw)
	}
}

// etag returns the ETag the API gives version v.
func etag(v int64) string { return fmt.Sprintf("%q", strconv.FormatInt(v, 10)) }
