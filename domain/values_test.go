package domain_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

func TestDateUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    domain.Date
		wantErr string // part of the error message; "" for none
	}{
		{name: "a day", json: `"2024-03-01"`, want: domain.NewDate(2024, time.March, 1)},
		{name: "a leap day", json: `"2024-02-29"`, want: domain.NewDate(2024, time.February, 29)},
		{name: "the last day of a century", json: `"2100-12-31"`, want: domain.NewDate(2100, time.December, 31)},
		{name: "null is no date", json: `null`, want: domain.Date{}},
		{name: "the 30th of February", json: `"2019-02-30"`, wantErr: `"2019-02-30"`},
		{name: "the 29th of February of a common year", json: `"2023-02-29"`, wantErr: "YYYY-MM-DD"},
		{name: "the 31st of April", json: `"2024-04-31"`, wantErr: "YYYY-MM-DD"},
		{name: "the thirteenth month", json: `"2024-13-01"`, wantErr: "YYYY-MM-DD"},
		{name: "the day zero", json: `"2024-03-00"`, wantErr: "YYYY-MM-DD"},
		{name: "a day without leading zeros", json: `"2024-3-1"`, wantErr: "YYYY-MM-DD"},
		{name: "a day written the Polish way", json: `"01.03.2024"`, wantErr: "YYYY-MM-DD"},
		{name: "a timestamp", json: `"2024-03-01T00:00:00Z"`, wantErr: "YYYY-MM-DD"},
		{name: "a day with a trailing space", json: `"2024-03-01 "`, wantErr: "YYYY-MM-DD"},
		{name: "an empty string", json: `""`, wantErr: "YYYY-MM-DD"},
		{name: "a number", json: `20240301`, wantErr: "must be a string"},
		{name: "a boolean", json: `true`, wantErr: "must be a string"},
		{name: "an object", json: `{"date":"2024-03-01"}`, wantErr: "must be a string"},
		{name: "an array", json: `["2024-03-01"]`, wantErr: "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := domain.NewDate(2000, time.January, 1) // overwritten on success
			err := d.UnmarshalJSON([]byte(tt.json))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, domain.NewDate(2000, time.January, 1), d, "a failed decode leaves the date alone")

				var doc struct {
					Date domain.Date `json:"date"`
				}
				assert.Error(t, json.Unmarshal([]byte(`{"date":`+tt.json+`}`), &doc), "inside a document too")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, d)
		})
	}
}

func TestDateMarshalJSON(t *testing.T) {
	type doc struct {
		Date domain.Date `json:"date"`
		Opt  domain.Date `json:"opt,omitzero"`
	}
	b, err := json.Marshal(doc{Date: domain.NewDate(2024, time.March, 1)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"date":"2024-03-01"}`, string(b))

	b, err = json.Marshal(doc{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"date":null}`, string(b), "the zero date is null, and omitzero leaves it out")

	for _, d := range []domain.Date{
		domain.NewDate(1990, time.January, 1), domain.NewDate(2024, time.February, 29),
		domain.NewDate(2100, time.December, 31), {},
	} {
		b, err := json.Marshal(d)
		require.NoError(t, err)
		var back domain.Date
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, d, back, "round trip of %s", b)
	}
}

func TestDate(t *testing.T) {
	d := domain.NewDate(2024, time.March, 1)
	assert.Equal(t, "2024-03-01", d.String())
	assert.Equal(t, "", domain.Date{}.String())
	assert.True(t, domain.Date{}.IsZero())
	assert.False(t, d.IsZero())
	assert.Equal(t, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), d.Time())
	assert.True(t, domain.NewDate(2024, time.February, 29).Before(d))
	assert.False(t, d.Before(d), "a day is not before itself")
	assert.False(t, d.Before(domain.NewDate(2024, time.February, 29)))

	p, err := domain.ParseDate("2024-03-01")
	require.NoError(t, err)
	assert.Equal(t, d, p)
	_, err = domain.ParseDate("2019-02-30")
	assert.ErrorContains(t, err, `"2019-02-30"`)
}

// The first day of year 1 is what Go calls the zero time, so ParseDate
// returns a Date that claims to be unset.
func TestParseDateOfTheFirstDayOfYearOne(t *testing.T) {
	d, err := domain.ParseDate("0001-01-01")
	if err == nil {
		assert.False(t, d.IsZero())
		assert.Equal(t, "0001-01-01", d.String())
	}
}

// FuzzParseDate checks that ParseDate never panics and that a date it
// accepts formats back to exactly its input, in text and in JSON.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"2024-03-01", "2024-02-29", "2019-02-30", "2023-02-29", "1990-01-01", "2100-12-31",
		"0000-01-01", "0001-01-01", "9999-12-31", "2024-3-1", "2024-03-1", "", " 2024-03-01",
		"2024-03-01T00:00:00Z", "+2024-03-01", "-2024-03-01", "２０２４-03-01", "2024-03-01\x00", "2024/03/01",
		"1900-02-29", "2000-02-29", "1800-01-01", "2200-12-31", "1799-12-31", "2201-01-01", "2024-00-10", "2024-13-01",
		"2024-04-31", "2024-04-00", "2024-0a-01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := domain.ParseDate(s)
		if err != nil {
			assert.True(t, d.IsZero(), "a refused date is unset")
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", s), "the error quotes the input")
			var j domain.Date
			b, merr := json.Marshal(s)
			require.NoError(t, merr)
			assert.Error(t, j.UnmarshalJSON(b), "JSON refuses it too")
			return
		}
		require.Equal(t, s, d.String())
		tm := d.Time()
		assert.Equal(t, time.UTC, tm.Location())
		assert.Zero(t, tm.Hour()*3600+tm.Minute()*60+tm.Second()+tm.Nanosecond(), "a date is midnight")

		b, err := json.Marshal(d)
		require.NoError(t, err)
		require.Equal(t, `"`+s+`"`, string(b))
		var back domain.Date
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, d, back)
	})
}

func TestSector(t *testing.T) {
	want := []domain.Sector{"social_assistance", "family_support", "labour", "education", "health",
		"justice", "police", "housing", "ngo", "other"}
	assert.Equal(t, want, domain.Sectors, "the sectors of DESIGN.md §6, in their fixed order")
	for _, s := range domain.Sectors {
		assert.True(t, s.Valid(), s)
	}
	for _, s := range []domain.Sector{"", "Labour", "labour ", "welfare", "social assistance"} {
		assert.False(t, s.Valid(), "%q", s)
	}
}

func TestRole(t *testing.T) {
	assert.ElementsMatch(t, []domain.Role{domain.RoleAdmin, domain.RoleAnimator, domain.RoleCoordinator,
		domain.RoleWorker, domain.RoleEvaluator, domain.RoleAuditor}, domain.Roles)
	for _, r := range domain.Roles {
		assert.True(t, r.Valid(), r)
	}
	for _, r := range []domain.Role{"", "ADMIN", "root", domain.RoleSystem} {
		assert.False(t, r.Valid(), "%q cannot be given to a user", r)
	}
}

func TestMeetingKind(t *testing.T) {
	assert.ElementsMatch(t, []domain.MeetingKind{"initiating", "formalising", "regular", "consultation"}, domain.MeetingKinds)
	for _, k := range domain.MeetingKinds {
		assert.True(t, k.Valid(), k)
	}
	for _, k := range []domain.MeetingKind{"", "Regular", "formalizing", "zzk"} {
		assert.False(t, k.Valid(), "%q", k)
	}
}

// Free text is checked the same way in every command; these cases go
// through RegisterInstitution (a name: at most 300 characters) and
// JoinPartnership (powers: at most 4000).
func TestTextLimits(t *testing.T) {
	institution := func(name string) domain.Command {
		return domain.RegisterInstitution{InstitutionID: domain.NewID(), Name: name, Sector: domain.SectorHealth,
			Municipality: "Kraków", County: "Kraków"}
	}
	powers := func(text string) domain.Command {
		return domain.JoinPartnership{PartnershipID: domain.NewID(), InstitutionID: domain.NewID(), Date: initiatedOn, Powers: text}
	}
	tests := []struct {
		name    string
		cmd     domain.Command
		err     *domain.Error // nil: valid
		field   string
		message string
	}{
		{name: "a name of 300 characters", cmd: institution(strings.Repeat("a", 300))},
		{name: "a name of 300 Polish letters, 600 bytes", cmd: institution(strings.Repeat("ż", 300))},
		{name: "a name of 301 characters", cmd: institution(strings.Repeat("ą", 301)),
			err: domain.ErrInvalidField, field: "name", message: "is 301 characters long; at most 300 are allowed"},
		{name: "a name with surrounding spaces", cmd: institution("  Szpital Specjalistyczny im. L. Rydygiera  ")},
		{name: "a name of blanks", cmd: institution(" \t\n"), err: domain.ErrRequired, field: "name"},
		{name: "a name of zero-width spaces", cmd: institution("\u200b\u200b"), err: domain.ErrRequired, field: "name"},
		{name: "a name of a zero-width joiner and non-joiner", cmd: institution("\u200c\u200d"), err: domain.ErrRequired, field: "name"},
		{name: "a name of a word joiner, a byte-order mark and a soft hyphen", cmd: institution("\u2060\ufeff\u00ad"), err: domain.ErrRequired, field: "name"},
		{name: "a name of no-break, ideographic and thin spaces", cmd: institution("\u00a0\u3000\u2009\u202f"), err: domain.ErrRequired, field: "name"},
		{name: "a name of a Hangul filler and a variation selector", cmd: institution("\u3164\ufe0f"), err: domain.ErrRequired, field: "name"},
		{name: "a name with a zero-width joiner between letters", cmd: institution("Poradnia\u200dRodzinna")},
		{name: "a name with a no-break space", cmd: institution("MOPS\u00a0Sieradz")},
		{name: "a name on two lines", cmd: institution("MOPS\nSieradz"), err: domain.ErrInvalidField, field: "name", message: "one line"},
		{name: "a name holding a tab", cmd: institution("MOPS\tSieradz"), err: domain.ErrInvalidField, field: "name", message: "one line"},
		{name: "a name holding a carriage return", cmd: institution("MOPS\r"), err: domain.ErrInvalidField, field: "name", message: "one line"},
		{name: "a name holding a line separator", cmd: institution("MOPS\u2028Sieradz"), err: domain.ErrInvalidField, field: "name", message: "one line"},
		{name: "a name holding a NUL", cmd: institution("MOPS\x00"), err: domain.ErrInvalidField, field: "name", message: "control character"},
		{name: "a name holding an escape", cmd: institution("\x1b[31mMOPS"), err: domain.ErrInvalidField, field: "name", message: "control character"},
		{name: "a name holding a bell", cmd: institution("MO\aPS"), err: domain.ErrInvalidField, field: "name", message: "control character"},
		{name: "a name that is not UTF-8", cmd: institution("MOPS \xff"), err: domain.ErrInvalidField, field: "name", message: "UTF-8"},
		{name: "a name with a truncated letter", cmd: institution("Krak\xc3"), err: domain.ErrInvalidField, field: "name", message: "UTF-8"},
		{name: "a name of Latin-1 bytes", cmd: institution("Wroc\xb3aw"), err: domain.ErrInvalidField, field: "name", message: "UTF-8"},
		{name: "powers of 4000 characters", cmd: powers(strings.Repeat("x", 4000))},
		{name: "powers of 4001 characters", cmd: powers(strings.Repeat("x", 4001)),
			err: domain.ErrInvalidField, field: "powers", message: "at most 4000"},
		{name: "powers on several lines with tabs", cmd: powers("1.\tkierowanie na szkolenia\r\n2.\tporadnictwo\n")},
		{name: "powers that may be left out", cmd: powers("")},
		{name: "powers of invisible characters only, which may be left out", cmd: powers("\u200b")},
		{name: "powers holding a NUL", cmd: powers("art. 1\x00"), err: domain.ErrInvalidField, field: "powers", message: "control character (U+0000)"},
		{name: "a date in 1990", cmd: domain.FormalizePartnership{PartnershipID: domain.NewID(), Date: domain.NewDate(1990, time.January, 1)}},
		{name: "a date in 2100", cmd: domain.FormalizePartnership{PartnershipID: domain.NewID(), Date: domain.NewDate(2100, time.December, 31)}},
		{name: "a date in 1989", cmd: domain.FormalizePartnership{PartnershipID: domain.NewID(), Date: domain.NewDate(1989, time.December, 31)},
			err: domain.ErrInvalidField, field: "date", message: "1989"},
		{name: "a date in 2101", cmd: domain.FormalizePartnership{PartnershipID: domain.NewID(), Date: domain.NewDate(2101, time.January, 1)},
			err: domain.ErrInvalidField, field: "date"},
		{name: "100 target groups", cmd: domain.OfferService{ServiceID: domain.NewID(), InstitutionID: domain.NewID(), Name: "staże",
			TargetGroups: slices.Repeat([]string{"bezrobotni"}, 100)}},
		{name: "101 target groups", cmd: domain.OfferService{ServiceID: domain.NewID(), InstitutionID: domain.NewID(), Name: "staże",
			TargetGroups: slices.Repeat([]string{"bezrobotni"}, 101)}, err: domain.ErrInvalidField, field: "target_groups", message: "101 items"},
		{name: "a target group of 301 characters", cmd: domain.OfferService{ServiceID: domain.NewID(), InstitutionID: domain.NewID(), Name: "staże",
			TargetGroups: []string{"a", strings.Repeat("b", 301)}}, err: domain.ErrInvalidField, field: "target_groups[1]"},
		{name: "a capacity of a million", cmd: domain.OfferService{ServiceID: domain.NewID(), InstitutionID: domain.NewID(), Name: "staże", Capacity: 1_000_000}},
		{name: "a capacity above a million", cmd: domain.OfferService{ServiceID: domain.NewID(), InstitutionID: domain.NewID(), Name: "staże", Capacity: 1_000_001},
			err: domain.ErrInvalidField, field: "capacity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cmd.Validate()
			if tt.err == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			require.ErrorIs(t, err, domain.ErrInvalid)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.field, de.Field)
			assert.Contains(t, de.Message, tt.message)
		})
	}
}

// The doc comment of checkText promises "no control characters other than
// newlines and tabs"; DEL and the C1 controls are control characters too.
func TestTextRefusesAllControlCharacters(t *testing.T) {
	for _, name := range []string{"MOPS\x7f", "MOPS\u0085", "MOPS\u009b31m"} {
		err := domain.RegisterInstitution{InstitutionID: domain.NewID(), Name: name, Sector: domain.SectorHealth,
			Municipality: "Kraków", County: "Kraków"}.Validate()
		assert.ErrorIs(t, err, domain.ErrInvalidField, "%q", name)
	}
}

// FuzzTextRules holds checkText to its rules through a one-line text (an
// institution's name, at most 300 characters) and a free text (a
// partnership member's powers, at most 4000): what is accepted is valid
// UTF-8 within its length, holds no control character (a one-line text
// not even a line break or a tab), and shows something when required.
func FuzzTextRules(f *testing.F) {
	for _, s := range []string{
		"MOPS Sieradz", "", " ", "\u200b", "\u200b\u200c\u200d\u2060\ufeff\u00ad", "\u00a0\u3000\u2009", "\u3164", "\ufe0f",
		"MOPS\x00", "MOPS\x1b[2J", "MOPS\x7f", "MOPS\u0085", "MOPS\nSieradz", "MOPS\tSieradz", "MOPS\r", "MOPS\u2028",
		"Wroc\xb3aw", "Krak\xc3", "\xed\xa0\x80", "Zofia\u200dNowak", "\U0001F600", strings.Repeat("ż", 301),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name := domain.RegisterInstitution{InstitutionID: domain.NewID(), Name: s, Sector: domain.SectorHealth,
			Municipality: "Kraków", County: "Kraków"}.Validate()
		powers := domain.JoinPartnership{PartnershipID: domain.NewID(), InstitutionID: domain.NewID(), Date: initiatedOn, Powers: s}.Validate()
		for _, tt := range []struct {
			err       error
			max       int
			multiline bool
			required  bool
		}{{name, 300, false, true}, {powers, 4000, true, false}} {
			if tt.err != nil {
				var de *domain.Error
				require.ErrorAs(t, tt.err, &de)
				require.ErrorIs(t, tt.err, domain.ErrInvalid)
				assert.NotEmpty(t, de.Field)
				continue
			}
			require.True(t, utf8.ValidString(s), "%q", s)
			require.LessOrEqual(t, utf8.RuneCountInString(s), tt.max)
			visible := false
			for _, r := range s {
				lineBreak := r == '\n' || r == '\t' || r == '\r' || r == '\u2028' || r == '\u2029'
				require.False(t, lineBreak && !tt.multiline, "%q is one line", s)
				require.False(t, !lineBreak && (unicode.IsControl(r)), "%q holds a control character", s)
				if unicode.In(r, unicode.Letter, unicode.Number, unicode.Punct, unicode.Symbol, unicode.Co) && !strings.ContainsRune("\u115f\u1160\u3164\uffa0\u2800", r) {
					visible = true
				}
			}
			if tt.required {
				require.True(t, visible, "%q shows nothing, yet is accepted as a name", s)
			}
		}
	})
}
