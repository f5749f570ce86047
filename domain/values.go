package domain

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Date is a calendar day without time of day or zone, as written on the
// documents of the model (a declaration of accession, a meeting's minutes).
// Its JSON form is "YYYY-MM-DD"; impossible days such as 2019-02-30 are
// rejected when decoding.
type Date struct{ t time.Time }

// NewDate returns the given day.
func NewDate(year int, month time.Month, day int) Date {
	return Date{time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	if d, ok := parseDay(s); ok {
		return d, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	if y := t.Year(); y < 1800 || y > 2200 {
		return Date{}, fmt.Errorf("%q is out of the years 1800–2200", s)
	}
	return Date{t}, nil
}

// parseDay reads a well-formed day of the years 1800–2200, as ParseDate
// accepts it, without time.Parse's cost (every stored event has dates);
// it reports false for anything else, which ParseDate leaves to
// time.Parse and its errors.
func parseDay[S ~string | ~[]byte](s S) (Date, bool) {
	if len(s) != len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	n := 0
	for i := range len(s) {
		if i == 4 || i == 7 {
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			return Date{}, false
		}
		n = n*10 + int(s[i]-'0')
	}
	y, m, d := n/10000, time.Month(n/100%100), n%100
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if m == time.February && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days[1] = 29
	}
	if y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1 || d > days[m-1] {
		return Date{}, false
	}
	return NewDate(y, m, d), true
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Before reports whether d is a day before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return d.t }

// String returns "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// MarshalJSON implements json.Marshaler.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte(`null`), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	if len(b) == len(`"2006-01-02"`) && plainString(b) {
		if p, ok := parseDay(b[1 : len(b)-1]); ok {
			*d = p // what json.Unmarshal and ParseDate give, without their cost
			return nil
		}
	}
	var s string
	if plainString(b) {
		s = string(b[1 : len(b)-1]) // what json.Unmarshal gives, without its cost
	} else if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date must be a string of the form YYYY-MM-DD")
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// plainString reports whether b is a JSON string of printable ASCII
// without escapes: its value is the bytes between the quotes.
func plainString(b []byte) bool {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return false
	}
	for _, c := range b[1 : len(b)-1] {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Sector is one of the policy sectors that cooperate around a family.
type Sector string

// The sectors of DESIGN.md §6.
const (
	SectorSocialAssistance Sector = "social_assistance" // pomoc społeczna
	SectorFamilySupport    Sector = "family_support"    // wspieranie rodziny
	SectorLabour           Sector = "labour"            // rynek pracy
	SectorEducation        Sector = "education"         // edukacja
	SectorHealth           Sector = "health"            // ochrona zdrowia
	SectorJustice          Sector = "justice"           // wymiar sprawiedliwości (kuratela sądowa)
	SectorPolice           Sector = "police"            // policja
	SectorHousing          Sector = "housing"           // mieszkalnictwo
	SectorNGO              Sector = "ngo"               // organizacje pozarządowe
	SectorOther            Sector = "other"             // inne
)

// Sectors lists every sector in a fixed order, for reports and validation.
var Sectors = []Sector{SectorSocialAssistance, SectorFamilySupport, SectorLabour, SectorEducation,
	SectorHealth, SectorJustice, SectorPolice, SectorHousing, SectorNGO, SectorOther}

// Valid reports whether s is one of Sectors.
func (s Sector) Valid() bool {
	for _, v := range Sectors {
		if s == v {
			return true
		}
	}
	return false
}

// Role is what a user may do in the system.
type Role string

// The roles of the model.
const (
	RoleAdmin       Role = "admin"       // runs the installation
	RoleAnimator    Role = "animator"    // animates a partnership (PZK)
	RoleCoordinator Role = "coordinator" // social worker leading families (pracownik socjalny prowadzący)
	RoleWorker      Role = "worker"      // member of task teams (ZZK)
	RoleEvaluator   Role = "evaluator"   // regional centre, pseudonymised aggregates only
	RoleAuditor     Role = "auditor"     // reads histories, edits nothing
	RoleSystem      Role = "system"      // the engine itself (demo loader, bootstrap)
)

// Roles lists the roles a user can be given.
var Roles = []Role{RoleAdmin, RoleAnimator, RoleCoordinator, RoleWorker, RoleEvaluator, RoleAuditor}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Actor is who issued a command: a user, the role they acted in and the
// institution they acted for.
type Actor struct {
	UserID        string `json:"user_id"`
	Role          Role   `json:"role"`
	InstitutionID string `json:"institution_id,omitempty"`
}

// Limits on free text, so that one command cannot carry a novel.
const (
	maxName = 300
	maxText = 4000
)

// checkText validates a text field: required when req (a value of white
// space and invisible characters only counts as missing, see blank), at
// most max runes, valid UTF-8, no control characters. A text of up to
// maxName runes (a name, a place, a position) is one line; a longer one
// (needs, notes, reasons) may hold newlines, carriage returns and tabs.
func checkText(field, v string, req bool, max int) error {
	if blank(v) && req {
		return ErrRequired.With(field, "is required (a value of spaces or invisible characters only counts as none)")
	}
	if !utf8.ValidString(v) {
		return Invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return Invalid(field, "is %d characters long; at most %d are allowed", n, max)
	}
	multiline := max > maxName
	for _, r := range v {
		switch {
		case r == '\n' || r == '\t' || r == '\r' || r == '\u2028' || r == '\u2029':
			if !multiline {
				return Invalid(field, "is one line: it may not hold a line break or a tab (U+%04X)", r)
			}
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return Invalid(field, "contains a control character (U+%04X)", r)
		}
	}
	return nil
}

// blank reports whether s holds nothing a reader would see: no letter,
// digit, punctuation mark or symbol, only white space of any kind
// (including no-break and ideographic spaces), format characters (the
// zero-width spaces and joiners, the word joiner, the byte-order mark, the
// soft hyphen…), combining marks without a letter to sit on, variation
// selectors, unassigned code points, and the fillers that look like a
// letter or symbol but show nothing (Hangul fillers, the blank Braille
// pattern). A required text that is blank is missing.
func blank(s string) bool {
	for _, r := range s {
		if visible(r) {
			return false
		}
	}
	return true
}

// visible reports whether r shows something on its own.
func visible(r rune) bool {
	switch r {
	case '\u115f', '\u1160', '\u3164', '\uffa0', '\u2800':
		return false
	}
	return unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S, unicode.Co)
}

func checkDate(field string, d Date, req bool) error {
	if d.IsZero() {
		if req {
			return ErrRequired.With(field, "is required (YYYY-MM-DD)")
		}
		return nil
	}
	if y := d.t.Year(); y < 1990 || y > 2100 {
		return Invalid(field, "year %d is out of range 1990–2100", y)
	}
	return nil
}

// checkBirthDate validates a birth date: required, not before 1900.
func checkBirthDate(field string, d Date) error {
	if d.IsZero() {
		return ErrRequired.With(field, "is required (YYYY-MM-DD)")
	}
	if y := d.t.Year(); y < 1900 || y > 2100 {
		return Invalid(field, "year %d is out of range 1900–2100", y)
	}
	return nil
}

func checkList(field string, vs []string, max int) error {
	if len(vs) > 100 {
		return Invalid(field, "has %d items; at most 100 are allowed", len(vs))
	}
	for i, v := range vs {
		if err := checkText(fmt.Sprintf("%s[%d]", field, i), v, true, max); err != nil {
			return err
		}
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Access is one read of a family's personal data: who, when, what, under
// which relation to the family. Reads are logged apart from decisions.
type Access struct {
	At            time.Time `json:"at"`
	UserID        string    `json:"user_id"`
	Role          Role      `json:"role"`
	InstitutionID string    `json:"institution_id,omitempty"`
	FamilyID      string    `json:"family_id"`
	What          string    `json:"what"`     // plan, export, history, list, caseload
	Relation      string    `json:"relation"` // admin, coordinator, team, auditor, partnership
	Sequence      uint64    `json:"sequence,omitempty"`
}
