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
func openAt(node any, path []string, fn func(string) string) any {
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

// DecodeEventOpening opens, on the typed event, exactly the texts that
// PersonalFields names in the JSON payload (dates aside), for every event
// type.
func TestDecodeEventOpeningOpensThePersonalTexts(t *testing.T) {
	open := func(s string) string { return "otwarte<" + s + ">" }
	for _, typ := range domain.EventTypes() {
		t.Run(typ, func(t *testing.T) {
			b, err := domain.EncodeEvent(sample(t, typ))
			require.NoError(t, err)
			var tree any
			require.NoError(t, json.Unmarshal(b, &tree))
			for _, f := range domain.PersonalFields(typ) {
				if !f.Date {
					tree = openAt(tree, f.Path, open)
				}
			}
			opened, err := json.Marshal(tree)
			require.NoError(t, err)
			want, err := domain.DecodeEvent(typ, 1, opened)
			require.NoError(t, err)

			var seen int
			got, err := domain.DecodeEventOpening(typ, 1, b, func(s string) (string, error) { seen++; return open(s), nil })
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
	ev, err := domain.DecodeEventOpening("TeamMeetingRecorded", 1, b, func(string) (string, error) { return "", failed })
	assert.Nil(t, ev)
	require.ErrorIs(t, err, failed)
	assert.NotErrorIs(t, err, domain.ErrInvalid, "a key that fails is not a payload that is wrong")

	// A payload that is wrong is that, whatever open would say.
	_, err = domain.DecodeEventOpening("TeamMeetingRecorded", 1, []byte(`{"decisions":["a"],"colour":1}`), func(string) (string, error) { return "", failed })
	require.ErrorIs(t, err, domain.ErrInvalid)
}
