package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"path"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/kooperacje/kooperacje/domain"
)

// fuzzCommands are the command types the decoder is fuzzed with: flat,
// nested in lists and objects, with an embedded struct.
var fuzzCommands = []func() any{
	func() any { return new(domain.RegisterInstitution) },
	func() any { return new(domain.OpenFamilyCase) },
	func() any { return new(domain.DraftContract) },
	func() any { return new(domain.AddTeamMember) },
}

// FuzzDecodeCommand holds decodeCommand to the rules of docs/api.md: what
// it accepts, encoding/json/v2 (case-sensitive names, no name twice, valid
// UTF-8, unknown members refused) decodes to the same command, and no
// string in it holds a control character other than a line break or a
// tab. What it refuses is an ErrInvalid.
func FuzzDecodeCommand(f *testing.F) {
	seeds := []string{
		`{"name":"MOPS","sector":"social_assistance","municipality":"Sieradz","county":"sieradzki"}`,
		`{"nAmE":"MOPS","sector":"social_assistance"}`,
		`{"NAME":"MOPS"}`,
		`{"name":"MOPS","name":"PCPR"}`,
		`{"name":"MOPS \ud800"}`,
		`{"name":"\udc00\ud800"}`,
		`{"name":"\ud83d\ude00"}`,
		"{\"name\":\"Wroc\xb3aw\"}",
		"{\"na\xffme\":1}",
		`{"name":"MOPS\u0000"}`,
		`{"name":"MOPS\u001b[2J"}`,
		`{"name":"\u200b\u200d\ufeff"}`,
		`{"name":"MOPS","reason":"powód\u0000"}`,
		`{"name":"MOPS","reason":"a\r\nb\tc","occurred_at":"2024-05-06T10:00:00Z"}`,
		`{"partnership_id":"x","household":[{"person_id":"p","name":"Anna","zz":1}]}`,
		`{"household":[{"Name":"Anna"}],"coordinator":{"Worker_ID":"w"}}`,
		`{"coordinator":{"worker_id":"w","worker_id":"v"}}`,
		`{"referral":{"reason":"\u0085"}}`,
		`{"variant":"B","goals":[{"id":"g1","description":"x"}],"actions":[{"responsible":{"kind":"client","zz":1}}]}`,
		`{"main_goal":"x","MAIN_GOAL":"y"}`,
		`{"worker_id":"w","institution_id":"i","date":"2024-05-06"}`,
		`{"Worker_id":"w"}`,
		`{"date":"2024-05-06\u0000"}`,
		`{}`, `null`, `[]`, `{"name":`,
	}
	for i, s := range seeds {
		for t := range fuzzCommands {
			if i%len(fuzzCommands) == t || i < 14 {
				f.Add(uint8(t), []byte(s))
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		newCmd := fuzzCommands[int(which)%len(fuzzCommands)]
		cmd := newCmd()
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		ef, err := decodeCommand(httptest.NewRecorder(), r, cmd)
		if err != nil {
			if statusOf(err) != http.StatusBadRequest && !errors.Is(err, errTooLarge) {
				t.Fatalf("refused with %v, not an invalid input", err)
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted a body that is not UTF-8: %q", body)
		}
		var members map[string]jsontext.Value
		if err := jsonv2.Unmarshal(body, &members); err != nil {
			t.Fatalf("accepted %q, which encoding/json/v2 refuses: %v", body, err)
		}
		delete(members, "reason")
		delete(members, "occurred_at")
		rest, err := jsonv2.Marshal(members)
		if err != nil {
			t.Fatal(err)
		}
		strict := newCmd()
		if err := jsonv2.Unmarshal(rest, strict, jsonv2.RejectUnknownMembers(true)); err != nil {
			t.Fatalf("accepted %q, which encoding/json/v2 refuses: %v", body, err)
		}
		if !reflect.DeepEqual(cmd, strict) {
			t.Fatalf("%q decodes to %+v, encoding/json/v2 decodes it to %+v", body, cmd, strict)
		}
		var tree any
		if err := jsonv2.Unmarshal(body, &tree); err != nil {
			t.Fatal(err)
		}
		if s, ok := controlString(tree); ok {
			t.Fatalf("accepted %q with the string %q", body, s)
		}
		if _, bad := controlChar(ef.Reason); bad {
			t.Fatalf("accepted the reason %q", ef.Reason)
		}
	})
}

// controlString returns a string of v, a member name or a value, that
// holds a control character other than a line break or a tab.
func controlString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		_, bad := controlChar(v)
		return v, bad
	case []any:
		for _, e := range v {
			if s, ok := controlString(e); ok {
				return s, true
			}
		}
	case map[string]any:
		for k, e := range v {
			if _, bad := controlChar(k); bad {
				return k, true
			}
			if s, ok := controlString(e); ok {
				return s, true
			}
		}
	}
	return "", false
}

// FuzzCleanPath holds cleanPath to path.Clean: a path passes exactly when
// it is absolute and already clean, but for a trailing slash, so that no
// route is reached by a second spelling and http.ServeMux never redirects.
func FuzzCleanPath(f *testing.F) {
	for _, p := range []string{"/", "/api/v1/me", "/api/v1/families/../x", "/api/v1//me", "/./healthz", "/..", "/assets/",
		"/families/x/", "", "api", "/a/.", "/a/..b", "/a/b..", "/...", "//", "/a/./b"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		clean := path.Clean(p)
		want := strings.HasPrefix(p, "/") && (clean == p || (clean != "/" && clean+"/" == p))
		if got := cleanPath(p); got != want {
			t.Fatalf("cleanPath(%q) = %v, path.Clean gives %q", p, got, clean)
		}
	})
}
