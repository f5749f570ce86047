package domain_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// openAt replaces, in a decoded JSON tree, the strings at path (as
// PersonalFields gives it) with what fn returns.
func openAt(node any, path []string, fn func(string) any) any {
	if len(path) == 0 {
		if s, ok := node.(string); ok && s != "" {
			return fn(s)
		}
		return node
	}
	switch n := node.(type) {
	case map[string]any:
		if c, ok := n[path[0]]; ok {
			n[path[0]] = openAt(c, path[1:], fn)
		}
	case []any:
		for i := range n {
			n[i] = openAt(n[i], path[1:], fn)
		}
	}
	return node
}

// DecodeEventOpening opens, on the typed event, exactly the values that
// PersonalFields names in the JSON payload, for every event type: texts
// and dates, dates that read as unset too.
func TestDecodeEventOpeningOpensThePersonalData(t *testing.T) {
	for _, unset := range []bool{false, true} {
		t.Run(map[bool]string{false: "dates opened", true: "dates unset"}[unset], func(t *testing.T) { testOpening(t, unset) })
	}
}

func testOpening(t *testing.T, unset bool) {
	open := func(s string, date bool) string {
		switch {
		case date && unset:
			return ""
		case date:
			return "1999-12-31"
		}
		return "otwarte<" + s + ">"
	}
	for _, typ := range domain.EventTypes() {
		t.Run(typ, func(t *testing.T) {
			b, err := domain.EncodeEvent(sample(t, typ))
			require.NoError(t, err)
			var tree any
			require.NoError(t, json.Unmarshal(b, &tree))
			for _, f := range domain.PersonalFields(typ) {
				tree = openAt(tree, f.Path, func(s string) any {
					if o := open(s, f.Date); o != "" {
						return o
					}
					return nil
				})
			}
			opened, err := json.Marshal(tree)
			require.NoError(t, err)
			want, err := domain.DecodeEvent(typ, 1, opened)
			require.NoError(t, err)

			var seen int
			got, err := domain.DecodeEventOpening(typ, 1, b, func(s string, date bool) (string, error) { seen++; return open(s, date), nil })
			require.NoError(t, err)
			assert.Equal(t, want, got)
			if seen == 0 {
				plain, err := domain.DecodeEvent(typ, 1, b)
				require.NoError(t, err)
				assert.Equal(t, plain, got, "no personal texts: nothing changes")
			}
		})
	}
}

func TestDecodeEventOpeningReportsWhatOpenFails(t *testing.T) {
	failed := errors.New("no key")
	b, err := domain.EncodeEvent(domain.TeamMeetingRecorded{MeetingID: "m", Date: domain.NewDate(2024, 3, 1), Decisions: []string{"enc:x"}})
	require.NoError(t, err)
	ev, err := domain.DecodeEventOpening("TeamMeetingRecorded", 1, b, func(string, bool) (string, error) { return "", failed })
	assert.Nil(t, ev)
	require.ErrorIs(t, err, failed)
	assert.NotErrorIs(t, err, domain.ErrInvalid, "a key that fails is not a payload that is wrong")

	// A payload that is wrong is that, whatever open would say.
	_, err = domain.DecodeEventOpening("TeamMeetingRecorded", 1, []byte(`{"decisions":["a"],"colour":1}`), func(string, bool) (string, error) { return "", failed })
	require.ErrorIs(t, err, domain.ErrInvalid)
}
