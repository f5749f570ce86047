package api_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/credentials"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// openAPILoad reads the document the server embeds.
func openAPILoad(t *testing.T) (raw []byte, doc map[string]any) {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatalf("read openapi.json: %v", err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return raw, doc
}

// openAPIRegisteredRoutes returns the routes the server registers, as "METHOD
// /path/{param}", read from the package's source: every string literal
// passed as the pattern of s.handle, s.mux.Handle or s.mux.HandleFunc. The
// catch-all "/" is left out.
func openAPIRegisteredRoutes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatalf("parse the api package: %v", err)
	}
	var routes []string
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				if fn, ok := n.(*ast.FuncDecl); ok && fn.Recv != nil && fn.Name.Name == "handle" {
					return false // the registration helper itself passes its pattern on
				}
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || !openAPIIsServerOrMux(sel.X) {
					return true
				}
				switch sel.Sel.Name {
				case "handle", "Handle", "HandleFunc":
				default:
					return true
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Errorf("%s: a route pattern that is not a string literal cannot be checked against the OpenAPI document", fset.Position(call.Pos()))
					return true
				}
				pattern, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
				}
				if pattern == "/" {
					return true // the catch-all answering 404 no_route
				}
				method, path, ok := strings.Cut(pattern, " ")
				if !ok || !strings.HasPrefix(path, "/") {
					t.Errorf("%s: route %q has no method: it would answer every method", fset.Position(lit.Pos()), pattern)
					return true
				}
				routes = append(routes, method+" "+openAPIPath(path))
				return true
			})
		}
	}
	slices.Sort(routes)
	if len(routes) == 0 {
		t.Fatal("found no routes in the api package")
	}
	return routes
}

// openAPIIsServerOrMux reports whether x is s or s.mux.
func openAPIIsServerOrMux(x ast.Expr) bool {
	switch e := x.(type) {
	case *ast.Ident:
		return e.Name == "s"
	case *ast.SelectorExpr:
		id, ok := e.X.(*ast.Ident)
		return ok && id.Name == "s" && e.Sel.Name == "mux"
	}
	return false
}

// openAPIPath turns a net/http pattern's path into an OpenAPI path
// template: {name...} becomes {name}, {$} goes.
func openAPIPath(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	return regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\.\.\.\}`).ReplaceAllString(p, "{$1}")
}

var openAPIHTTPMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIOperations returns the document's operations by "METHOD /path".
func openAPIOperations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("the document has no paths")
	}
	ops := map[string]map[string]any{}
	for path, v := range paths {
		item := v.(map[string]any)
		for _, m := range openAPIHTTPMethods {
			if op, ok := item[m].(map[string]any); ok {
				ops[strings.ToUpper(m)+" "+path] = op
			}
		}
	}
	return ops
}

func TestOpenAPIIsVersion31(t *testing.T) {
	_, doc := openAPILoad(t)
	v, _ := doc["openapi"].(string)
	if !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi is %q, want 3.1.x", v)
	}
}

func TestOpenAPIDescribesExactlyTheRegisteredRoutes(t *testing.T) {
	_, doc := openAPILoad(t)
	routes := openAPIRegisteredRoutes(t)
	ops := openAPIOperations(t, doc)
	for _, r := range routes {
		if _, ok := ops[r]; !ok {
			t.Errorf("route %s is registered in the api package but not described in openapi.json", r)
		}
	}
	for op := range ops {
		if !slices.Contains(routes, op) {
			t.Errorf("openapi.json describes %s, which the server does not register", op)
		}
	}
}

func TestOpenAPIOperationsHaveResponsesAndUniqueIDs(t *testing.T) {
	_, doc := openAPILoad(t)
	seen := map[string]string{}
	for name, op := range openAPIOperations(t, doc) {
		if rs, _ := op["responses"].(map[string]any); len(rs) == 0 {
			t.Errorf("%s has no responses", name)
		}
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", name)
		} else if other, dup := seen[id]; dup {
			t.Errorf("operationId %q is used by %s and %s", id, other, name)
		}
		seen[id] = name
	}
}

// openAPIResolve follows a local reference ("#/components/schemas/Problem").
func openAPIResolve(doc map[string]any, ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var node any = doc
	for _, tok := range strings.Split(p, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false
		}
		if node, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return node, true
}

func TestOpenAPIReferencesResolve(t *testing.T) {
	_, doc := openAPILoad(t)
	n := 0
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				n++
				if _, ok := openAPIResolve(doc, ref); !ok {
					t.Errorf("%s: $ref %q does not resolve within the document", where, ref)
				}
			}
			for k, c := range x {
				walk(where+"/"+k, c)
			}
		case []any:
			for i, c := range x {
				walk(where+"/"+strconv.Itoa(i), c)
			}
		}
	}
	walk("#", doc)
	if n == 0 {
		t.Error("the document has no references at all; the walk is broken")
	}
}

func TestOpenAPIPathParametersAreDeclared(t *testing.T) {
	_, doc := openAPILoad(t)
	template := regexp.MustCompile(`\{([^}]+)\}`)
	for path, v := range doc["paths"].(map[string]any) {
		item := v.(map[string]any)
		var want []string
		for _, m := range template.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		slices.Sort(want)
		for _, method := range openAPIHTTPMethods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			var got []string
			for _, list := range []any{item["parameters"], op["parameters"]} {
				ps, _ := list.([]any)
				for _, p := range ps {
					pm := p.(map[string]any)
					if ref, ok := pm["$ref"].(string); ok {
						r, _ := openAPIResolve(doc, ref)
						pm, _ = r.(map[string]any)
					}
					if pm["in"] == "path" {
						got = append(got, pm["name"].(string))
						if pm["required"] != true {
							t.Errorf("%s %s: path parameter %v must be required", method, path, pm["name"])
						}
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s %s: path parameters %v are declared, the template has %v", strings.ToUpper(method), path, got, want)
			}
		}
	}
}

// openAPIJSONNames returns the JSON member names encoding/json gives the fields
// of struct type t, embedded structs flattened.
func openAPIJSONNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = append(out, openAPIJSONNames(ft)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// TestOpenAPISchemasMatchGoTypes keeps the documented members of the
// request and response bodies equal to the JSON members of the Go types
// that read and write them. Command bodies also take the envelope members
// "reason" and "occurred_at" (decode.go).
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	_, doc := openAPILoad(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	commands := map[string]any{
		"RegisterInstitution": domain.RegisterInstitution{}, "RegisterWorker": domain.RegisterWorker{},
		"InitiatePartnership": domain.InitiatePartnership{}, "JoinPartnership": domain.JoinPartnership{},
		"LeavePartnership": domain.LeavePartnership{}, "OfferService": domain.OfferService{},
		"WithdrawService": domain.WithdrawService{}, "RecordMeeting": domain.RecordMeeting{},
		"FormalizePartnership": domain.FormalizePartnership{}, "RecordStaffSupport": domain.RecordStaffSupport{},
		"OpenFamilyCase": domain.OpenFamilyCase{}, "GiveConsent": domain.GiveConsent{},
		"WithdrawConsent": domain.WithdrawConsent{}, "RecordLegalBasis": domain.RecordLegalBasis{},
		"RecordDiagnosisInput": domain.RecordDiagnosisInput{}, "CompleteDiagnosis": domain.CompleteDiagnosis{},
		"FormTeam": domain.FormTeam{}, "AddTeamMember": domain.AddTeamMember{},
		"RemoveTeamMember": domain.RemoveTeamMember{}, "RecordTeamMeeting": domain.RecordTeamMeeting{},
		"RequestReferral": domain.RequestReferral{}, "UpdateReferral": domain.UpdateReferral{},
		"DraftContract": domain.DraftContract{}, "SignContract": domain.SignContract{},
		"UpdateAction": domain.UpdateAction{}, "ReviewContract": domain.ReviewContract{},
		"ExtendContract": domain.ExtendContract{}, "EndContract": domain.EndContract{},
		"CloseCase": domain.CloseCase{}, "ReopenCase": domain.ReopenCase{}, "EraseFamily": domain.EraseFamily{},
		"SetRetention": domain.SetRetention{}, "RegisterUser": domain.RegisterUser{}, "RevokeToken": domain.RevokeToken{},
		// The optional body of POST /api/v1/users/{id}/tokens (users.go).
		// The bodies of signing in (session.go), decoded like commands.
		"AssignLogin": domain.AssignLogin{}, "SignIn": api.SignIn{}, "SetupPassword": api.SetupPassword{}, "PasswordChange": api.PasswordChange{},
		"IssueTokenRequest": struct {
			ExpiresInDays int `json:"expires_in_days"`
		}{},
	}
	others := map[string]any{
		// Parts of command bodies.
		"PersonInput": domain.Person{}, "WorkerRef": domain.WorkerRef{}, "ReferralSource": domain.ReferralSource{},
		"Assessment": domain.Assessment{}, "Goal": domain.Goal{}, "ActionInput": domain.Action{},
		"GoalReview": domain.GoalReview{},
		// Answers.
		"Problem": api.Problem{}, "CommandResponse": api.CommandResponse{}, "EraseResponse": api.EraseResponse{},
		"Principal": api.Principal{}, "Actor": domain.Actor{}, "Worker": domain.Worker{},
		"InstitutionView": projections.InstitutionView{}, "InstitutionList": api.List[projections.InstitutionView]{},
		"PartnershipView": api.PartnershipResponse{}, "PartnershipSummary": projections.PartnershipSummary{},
		"PartnershipList": api.List[projections.PartnershipSummary]{}, "Member": domain.Member{},
		"ServiceView": projections.ServiceView{}, "MeetingView": projections.MeetingView{},
		"FamilySummary": projections.FamilySummary{}, "FamilyList": api.List[projections.FamilySummary]{},
		"PlanView": projections.PlanView{}, "Person": domain.Person{}, "TeamMember": domain.TeamMember{},
		"ConsentView": projections.ConsentView{}, "LegalBasisRecorded": domain.LegalBasisRecorded{},
		"DiagnosisView": projections.DiagnosisView{}, "AreaView": projections.AreaView{},
		"DiagnosisInputRecorded": domain.DiagnosisInputRecorded{}, "TeamMeetingRecorded": domain.TeamMeetingRecorded{},
		"ReferralView": projections.ReferralView{}, "GoalView": projections.GoalView{}, "Party": domain.Party{},
		"ActionView": projections.ActionView{}, "SectorActions": projections.SectorActions{},
		"ContractReviewed": domain.ContractReviewed{}, "Amendment": projections.Amendment{},
		"ContractView": projections.ContractView{}, "Deadline": projections.Deadline{},
		"Caseload": projections.Caseload{}, "Export": api.Export{}, "ExportedEvent": api.ExportedEvent{},
		"Due": projections.Due{}, "DueList": api.List[projections.Due]{},
		"StaffSupportRecorded": domain.StaffSupportRecorded{}, "UserView": api.UserView{}, "TokenView": api.TokenView{},
		"UserList": api.List[api.UserView]{}, "IssuedToken": api.IssuedToken{}, "HistoryEntry": projections.HistoryEntry{},
		"HistoryList": api.List[projections.HistoryEntry]{}, "Access": domain.Access{}, "AccessList": api.List[domain.Access]{},
		"Dashboard": api.Dashboard{}, "DashboardGroup": api.DashboardGroup{},
		"SessionResponse": api.SessionResponse{}, "Session": credentials.Session{}, "SessionList": api.SessionList{},
		"SetupLink": api.SetupLink{}, "SetupDone": api.SetupDone{},
	}
	check := func(name string, v any, envelope bool) {
		s, ok := schemas[name].(map[string]any)
		if !ok {
			t.Errorf("components.schemas has no %s", name)
			return
		}
		want := openAPIJSONNames(reflect.TypeOf(v))
		if envelope {
			want = append(want, "reason", "occurred_at")
		}
		props, _ := s["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s has the members %v; the Go type %T has %v", name, got, v, want)
		}
		if envelope && s["additionalProperties"] != false {
			t.Errorf("schema %s must refuse unknown members, as the decoder does", name)
		}
	}
	for name, v := range commands {
		check(name, v, true)
	}
	for name, v := range others {
		check(name, v, false)
	}
}

func TestOpenAPIIsServedAsEmbedded(t *testing.T) {
	raw, _ := openAPILoad(t)
	srv := httptest.NewServer(api.New(api.Config{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/v1/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, raw) {
		t.Error("the served document differs from api/openapi.json")
	}
}
