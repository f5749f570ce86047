package domain

import (
	"time"
)

// Warsaw is the time zone of the model's days: a step dated 2020-03-02
// happened on that day in Poland.
var Warsaw = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Warsaw"); err == nil {
		return l
	}
	return time.FixedZone("CET", 3600)
}()

// DayOf returns the day in Poland of instant t.
func DayOf(t time.Time) Date {
	t = t.In(Warsaw)
	return NewDate(t.Year(), t.Month(), t.Day())
}

// Noon returns 12:00 in Poland on day d: the business time of a step whose
// command names its day but no time of day. Noon, not midnight, so that the
// instant falls on the same day in UTC as in Poland.
func (d Date) Noon() time.Time {
	return time.Date(d.t.Year(), d.t.Month(), d.t.Day(), 12, 0, 0, 0, Warsaw)
}

// Dated is a command that names the day its step was taken (a team
// meeting's date, a consent's given_on). That day is the business time of
// the events it records: their occurred_at defaults to it, and an explicit
// occurred_at must fall on it.
type Dated interface {
	Command
	// BusinessDate returns the field holding the step's day and the day;
	// a zero day when this command carries none (a draft, not an amendment).
	BusinessDate() (field string, d Date)
}

// EarliestBusinessDay is the first day a business time may fall on: the
// model's institutions keep no records from before it.
var EarliestBusinessDay = NewDate(1990, 1, 1)

// ClockTolerance is how far a business time may lie ahead of the handler's
// clock: the clocks of clients and servers differ by a little.
const ClockTolerance = 5 * time.Minute

// businessTime completes meta.OccurredAt from the command's business date
// and checks it: not before 1990, not in the future beyond ClockTolerance,
// and on the command's day when both are given. It returns the field to
// name when the business time contradicts the aggregate's history.
func businessTime(cmd Command, meta Meta, now time.Time) (Meta, string, error) {
	field, day := "occurred_at", Date{}
	if d, ok := cmd.(Dated); ok {
		if f, v := d.BusinessDate(); !v.IsZero() {
			field, day = f, v
		}
	}
	latest := now.Add(ClockTolerance)
	if !meta.OccurredAt.IsZero() {
		at := meta.OccurredAt
		if DayOf(at).Before(EarliestBusinessDay) {
			return meta, "", Invalid("occurred_at", "%s is before %s; no business time may be earlier", at.UTC().Format(time.RFC3339), EarliestBusinessDay)
		}
		if at.After(latest) {
			return meta, "", ErrDateInFuture.With("occurred_at", "%s is in the future", at.UTC().Format(time.RFC3339))
		}
		if !day.IsZero() && DayOf(at) != day {
			return meta, "", Invalid("occurred_at", "%s falls on %s in Poland, not on the step's %s %s", at.UTC().Format(time.RFC3339), DayOf(at), field, day)
		}
		meta.OccurredAt = at.UTC()
		return meta, field, nil
	}
	if day.IsZero() {
		meta.OccurredAt = now.UTC()
		return meta, field, nil
	}
	if day.Before(EarliestBusinessDay) {
		return meta, "", Invalid(field, "%s is before %s; no business time may be earlier", day, EarliestBusinessDay)
	}
	if DayOf(latest).Before(day) {
		return meta, "", ErrDateInFuture.With(field, "%s is in the future", day)
	}
	// Never later than the moment of recording: a step taken this morning
	// is not dated this noon.
	meta.OccurredAt = day.Noon().UTC()
	if meta.OccurredAt.After(now) {
		meta.OccurredAt = now.UTC()
	}
	return meta, field, nil
}

// beginning is a state that knows the day its history began: no step of
// it may be dated earlier.
type beginning interface {
	// checkBegan returns an error naming field when day d is before the
	// aggregate began, nil otherwise (and when it has not begun).
	checkBegan(field string, d Date) error
}

// decide checks the business time of a command against the aggregate's
// beginning, then lets the state decide.
func decide(state State, cmd Command, meta Meta, field string, facts Facts) ([]Event, error) {
	if b, ok := state.(beginning); ok {
		if err := b.checkBegan(field, DayOf(meta.OccurredAt)); err != nil {
			return nil, err
		}
	}
	return state.Decide(cmd, meta, facts)
}

// BusinessDate implements Dated.
func (c OpenFamilyCase) BusinessDate() (string, Date)       { return "opened_on", c.OpenedOn }
func (c GiveConsent) BusinessDate() (string, Date)          { return "given_on", c.GivenOn }
func (c WithdrawConsent) BusinessDate() (string, Date)      { return "withdrawn_on", c.WithdrawnOn }
func (c RecordLegalBasis) BusinessDate() (string, Date)     { return "recorded_on", c.RecordedOn }
func (c RecordDiagnosisInput) BusinessDate() (string, Date) { return "date", c.Date }
func (c CompleteDiagnosis) BusinessDate() (string, Date)    { return "date", c.Date }
func (c FormTeam) BusinessDate() (string, Date)             { return "date", c.Date }
func (c AddTeamMember) BusinessDate() (string, Date)        { return "date", c.Date }
func (c RemoveTeamMember) BusinessDate() (string, Date)     { return "date", c.Date }
func (c RecordTeamMeeting) BusinessDate() (string, Date)    { return "date", c.Date }
func (c RequestReferral) BusinessDate() (string, Date)      { return "date", c.Date }
func (c UpdateReferral) BusinessDate() (string, Date)       { return "date", c.Date }
func (c DraftContract) BusinessDate() (string, Date) {
	if !c.SignedOn.IsZero() {
		return "signed_on", c.SignedOn
	}
	return "date", c.Date
}
func (c SignContract) BusinessDate() (string, Date)         { return "date", c.Date }
func (c UpdateAction) BusinessDate() (string, Date)         { return "date", c.Date }
func (c ReviewContract) BusinessDate() (string, Date)       { return "date", c.Date }
func (c EndContract) BusinessDate() (string, Date)          { return "date", c.Date }
func (c CloseCase) BusinessDate() (string, Date)            { return "date", c.Date }
func (c ReopenCase) BusinessDate() (string, Date)           { return "date", c.Date }
func (c EraseFamily) BusinessDate() (string, Date)          { return "date", c.Date }
func (c InitiatePartnership) BusinessDate() (string, Date)  { return "date", c.Date }
func (c JoinPartnership) BusinessDate() (string, Date)      { return "date", c.Date }
func (c RecordMeeting) BusinessDate() (string, Date)        { return "date", c.Date }
func (c FormalizePartnership) BusinessDate() (string, Date) { return "date", c.Date }
func (c RecordStaffSupport) BusinessDate() (string, Date)   { return "date", c.Date }
func (c LeavePartnership) BusinessDate() (string, Date)     { return "date", c.Date }

func (f *Family) checkBegan(field string, d Date) error {
	if f.Exists() && d.Before(f.OpenedOn) {
		return ErrDateOutOfOrder.With(field, "%s is before the case was opened on %s", d, f.OpenedOn)
	}
	return nil
}

func (p *Partnership) checkBegan(field string, d Date) error {
	if p.Exists() && d.Before(p.Initiated.Date) {
		return ErrDateBeforeInitiation.With(field, "%s is before the partnership was initiated on %s", d, p.Initiated.Date)
	}
	return nil
}

func (i *Institution) checkBegan(field string, d Date) error {
	if i.Exists() && d.Before(i.RegisteredOn) {
		return ErrDateOutOfOrder.With(field, "%s is before the institution was registered on %s", d, i.RegisteredOn)
	}
	return nil
}
