package eventstore

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// treeMapPersonal is how mapPersonal worked before it streamed tokens:
// the payload decoded into a generic tree, walked, encoded again. It is
// the oracle of FuzzMapPersonalAgreesWithTree.
func treeMapPersonal(payload []byte, fields []domain.PersonalField, fn sealFunc) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	var walk func(node any, path []string, date bool) (any, error)
	walk = func(node any, path []string, date bool) (any, error) {
		if len(path) == 0 {
			s, ok := node.(string)
			if !ok || s == "" {
				return node, nil
			}
			return fn(s, date)
		}
		switch n := node.(type) {
		case map[string]any:
			if child, ok := n[path[0]]; ok {
				v, err := walk(child, path[1:], date)
				if err != nil {
					return nil, err
				}
				n[path[0]] = v
			}
		case []any:
			if path[0] != "*" {
				return node, nil
			}
			for i := range n {
				v, err := walk(n[i], path[1:], date)
				if err != nil {
					return nil, err
				}
				n[i] = v
			}
		}
		return node, nil
	}
	for _, f := range fields {
		var err error
		if tree, err = walk(tree, f.Path, f.Date); err != nil {
			return nil, err
		}
	}
	return json.Marshal(tree)
}

// marker seals a text as "enc:" and its text, and erases a date (nil).
func marker(v string, date bool) (any, error) {
	if date {
		return nil, nil
	}
	return SealedPrefix + v, nil
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v), "%s", b)
	return v
}

// The event fixtures of every type, with their personal fields.
func fixtures(f interface{ Add(args ...any) }) error {
	paths, err := filepath.Glob(filepath.Join("..", "domain", "testdata", "events", "*.json"))
	if err != nil {
		return err
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f.Add(strings.SplitN(filepath.Base(p), ".", 2)[0], b)
	}
	return nil
}

func FuzzMapPersonalAgreesWithTree(f *testing.F) {
	require.NoError(f, fixtures(f))
	f.Add("FamilyCaseOpened", []byte(`{"household":[{"name":"A","birth_date":"2010-01-02"},{"name":""},{"name":null},7],"address":"ul. X"}`))
	f.Add("FamilyCaseOpened", []byte(`{"household":{"name":"not a list"},"address":{"x":1},"n":1.50e3}`))
	f.Add("DiagnosisInputRecorded", []byte(`{"needs":"a<b>&c\u2028","needs":"again","strengths":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, eventType string, payload []byte) {
		fields := domain.PersonalFields(eventType)
		if len(fields) == 0 || !json.Valid(payload) || !utf8.Valid(payload) {
			return
		}
		want, werr := treeMapPersonal(payload, fields, marker)
		got, gerr := mapPersonal(eventType, payload, fields, marker)
		if werr != nil {
			return // not a payload encoding/json reads
		}
		require.NoError(t, gerr, "%s", payload)
		require.Equal(t, decodeAny(t, want), decodeAny(t, got), "%s %s", eventType, payload)
	})
}
