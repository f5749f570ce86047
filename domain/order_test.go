package domain_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// recorded checks that a step was recorded, as one event.
func recorded(t *testing.T, _ *famFix, envs []domain.Envelope) { assert.Len(t, envs, 1) }

// TestFamilyStepsInOrder has a row per rule of docs/lifecycle.md's dates:
// a step is not dated before the steps it depends on. The fixture's case
// opened on 2024-02-01 in a partnership initiated on 2024-01-10; consents
// on 02-05, inputs on 02-10, the diagnosis completed on 02-20, the team
// formed on 02-21, the contract signed on 03-01; the handler's clock reads
// 2025-05-06.
func TestFamilyStepsInOrder(t *testing.T) {
	out := domain.ErrDateOutOfOrder
	inv := domain.ErrInvalid
	withdraw := func(on domain.Date) func(f *famFix) domain.Command {
		return func(f *famFix) domain.Command {
			return domain.WithdrawConsent{FamilyID: f.family, ConsentID: f.consentIDs[f.school], WithdrawnOn: on}
		}
	}
	referred := func(f *famFix) string {
		f.consents()
		c := f.referralCmd(f.tutoring)
		f.must(c)
		return c.ReferralID
	}
	var referral string
	tests := []famCase{
		{name: "a case is opened in 2099",
			when: func(f *famFix) domain.Command {
				c := f.openCmd()
				c.FamilyID, c.OpenedOn = f.id("family"), domain.NewDate(2099, 1, 1)
				return c
			}, err: domain.ErrDateInFuture, kind: inv, field: "opened_on"},
		{name: "a case is opened before the partnership was initiated",
			when: func(f *famFix) domain.Command {
				c := f.openCmd()
				c.FamilyID, c.OpenedOn = f.id("family"), famDay(time.January, 9)
				return c
			}, err: domain.ErrDateBeforeInitiation, kind: inv, field: "opened_on"},
		{name: "a consent is given before the case was opened",
			when: func(f *famFix) domain.Command {
				c := f.consentCmd(f.school)
				c.GivenOn = famDay(time.January, 31)
				return c
			}, err: out, kind: inv, field: "given_on"},
		{name: "a consent is withdrawn before it was given", given: func(f *famFix) { f.consents() },
			when: withdraw(famDay(time.February, 4)), err: out, kind: inv, field: "withdrawn_on"},
		{name: "a consent is withdrawn on the day it was given", given: func(f *famFix) { f.consents() },
			when: withdraw(famDay(time.February, 5)), check: recorded},
		{name: "a legal basis is recorded before the case was opened",
			when: func(f *famFix) domain.Command {
				c := f.legalBasisCmd(f.pup)
				c.RecordedOn = famDay(time.January, 20)
				return c
			}, reason: "postanowienie sądu", err: out, kind: inv, field: "recorded_on"},
		{name: "a diagnosis input is dated before the case was opened",
			when: func(f *famFix) domain.Command {
				c := f.inputCmd(f.coordinator)
				c.Date = famDay(time.January, 31)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "the diagnosis is completed before its latest input", given: func(f *famFix) { f.consents(); f.must(f.inputCmd(f.coordinator)) },
			when: func(f *famFix) domain.Command {
				c := f.completeCmd()
				c.Date = famDay(time.February, 9)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "the diagnosis is completed on the day of its latest input", given: func(f *famFix) { f.consents(); f.must(f.inputCmd(f.coordinator)) },
			when: func(f *famFix) domain.Command {
				c := f.completeCmd()
				c.Date = famDay(time.February, 10)
				return c
			}, check: recorded},
		{name: "the team is formed before the case was opened",
			when: func(f *famFix) domain.Command {
				c := f.formTeamCmd()
				c.Date = famDay(time.January, 31)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "a member joins before the team was formed", given: func(f *famFix) { f.consents(); f.coordinatorTeam() },
			when: func(f *famFix) domain.Command { return f.addCmd(f.pedagogue, famDay(time.February, 20)) }, err: out, kind: inv, field: "date"},
		{name: "a member leaves the team before joining it",
			given: func(f *famFix) {
				f.consents()
				f.coordinatorTeam()
				f.must(f.addCmd(f.pedagogue, famDay(time.March, 1)))
			},
			when: func(f *famFix) domain.Command {
				c := f.removeCmd(f.pedagogue)
				c.Date = famDay(time.February, 25)
				return c
			}, reason: "zmiana pedagoga", err: out, kind: inv, field: "date"},
		{name: "a team meeting is dated before the team was formed", given: func(f *famFix) { f.consents(); f.teamed() },
			when: func(f *famFix) domain.Command {
				c := f.meetingCmd(f.coordinator)
				c.Date = famDay(time.February, 20)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "a team meeting is attended by a member who joined after it",
			given: func(f *famFix) {
				f.consents()
				f.coordinatorTeam()
				f.must(f.addCmd(f.pedagogue, famDay(time.March, 1)))
			},
			when: func(f *famFix) domain.Command { return f.meetingCmd(f.coordinator, f.pedagogue) }, err: out, kind: inv, field: "attendees[1]"},
		{name: "a referral is requested before the case was opened",
			when: func(f *famFix) domain.Command {
				c := f.referralCmd(f.welfare)
				c.Date = famDay(time.January, 31)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "a referral is accepted before it was requested", given: func(f *famFix) { referral = referred(f) },
			when: func(f *famFix) domain.Command {
				c := f.updateReferralCmd(referral, domain.ReferralAcceptedStatus)
				c.Date = famDay(time.March, 4)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "a referral is declined before it was requested", given: func(f *famFix) { referral = referred(f) },
			when: func(f *famFix) domain.Command {
				c := f.updateReferralCmd(referral, domain.ReferralDeclinedStatus)
				c.Date = famDay(time.March, 4)
				return c
			}, reason: "brak miejsc", err: out, kind: inv, field: "date"},
		{name: "a referral is completed before it was accepted",
			given: func(f *famFix) {
				referral = referred(f)
				f.must(f.updateReferralCmd(referral, domain.ReferralAcceptedStatus))
			},
			when: func(f *famFix) domain.Command {
				c := f.updateReferralCmd(referral, domain.ReferralCompletedStatus)
				c.Date = famDay(time.March, 9)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "a contract starts before the case was opened", given: func(f *famFix) { f.diagnosed(); f.teamed() },
			when: func(f *famFix) domain.Command {
				c := f.draftCmd()
				c.StartDate = famDay(time.January, 31)
				return c
			}, err: out, kind: inv, field: "start_date"},
		{name: "a contract is drafted on a day before the case was opened", given: func(f *famFix) { f.diagnosed(); f.teamed() },
			when: func(f *famFix) domain.Command {
				c := f.draftCmd()
				c.Date = famDay(time.January, 31)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "a contract is signed before it was drafted",
			given: func(f *famFix) {
				f.diagnosed()
				f.teamed()
				c := f.draftCmd()
				c.Date = famDay(time.March, 2)
				f.must(c)
			},
			when: func(f *famFix) domain.Command { return f.signCmd() }, err: out, kind: inv, field: "date"},
		{name: "a contract is signed before the diagnosis was completed", given: func(f *famFix) { f.diagnosed(); f.teamed(); f.must(f.draftCmd()) },
			when: func(f *famFix) domain.Command {
				c := f.signCmd()
				c.Date = famDay(time.February, 19)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "an action is updated before the contract was signed", given: func(f *famFix) { f.inForce() },
			when: func(f *famFix) domain.Command {
				c := f.actionCmd("a1", domain.ActionStatusStarted)
				c.Date = famDay(time.February, 28)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "an action is completed before it was started",
			given: func(f *famFix) { f.inForce(); f.must(f.actionCmd("a1", domain.ActionStatusStarted)) },
			when: func(f *famFix) domain.Command {
				c := f.actionCmd("a1", domain.ActionStatusCompleted)
				c.Date = famDay(time.April, 14)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "the contract is reviewed before it was signed", given: func(f *famFix) { f.inForce() },
			when: func(f *famFix) domain.Command {
				return domain.ReviewContract{FamilyID: f.family, Date: famDay(time.February, 28), Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.Achieved}}}
			}, err: out, kind: inv, field: "date"},
		{name: "an amendment is signed before the contract was", given: func(f *famFix) { f.inForce() },
			when: func(f *famFix) domain.Command {
				c := f.draftCmd()
				c.Changes, c.SignedOn = "nowy cel", famDay(time.February, 28)
				return c
			}, reason: "nowe potrzeby", err: out, kind: inv, field: "signed_on"},
		{name: "the contract ends before its latest step",
			given: func(f *famFix) { f.inForce(); f.must(f.actionCmd("a1", domain.ActionStatusStarted)) },
			when: func(f *famFix) domain.Command {
				c := f.endCmd()
				c.Date = famDay(time.April, 14)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "the case is closed before its latest step", given: func(f *famFix) { f.consents() },
			when: func(f *famFix) domain.Command {
				c := f.closeCmd()
				c.Date = famDay(time.February, 4)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "the case is reopened before it was closed", given: func(f *famFix) { f.closed() },
			when: func(f *famFix) domain.Command {
				return domain.ReopenCase{FamilyID: f.family, Date: famDay(time.September, 4)}
			}, reason: "nowe zgłoszenie", err: out, kind: inv, field: "date"},
		{name: "a reopened case's diagnosis input is dated before the reopening",
			given: func(f *famFix) {
				f.closed()
				require.NoError(f.tb, firstErrOf(f.h.Execute(context.Background(), domain.ReopenCase{FamilyID: f.family, Date: famDay(time.September, 10)},
					f.meta("nowe zgłoszenie"), domain.AnyVersion)))
			},
			when: func(f *famFix) domain.Command {
				c := f.inputCmd(f.coordinator)
				c.Date = famDay(time.September, 9)
				return c
			}, err: out, kind: inv, field: "date"},
		{name: "a member leaves the partnership before joining it",
			when: func(f *famFix) domain.Command {
				return domain.LeavePartnership{PartnershipID: f.pzk, InstitutionID: f.pup, Date: famDay(time.January, 12)}
			}, reason: "reorganizacja", err: out, kind: inv, field: "date"},
		{name: "a partnership meeting is attended by an institution that joined after it",
			when: func(f *famFix) domain.Command {
				return domain.RecordMeeting{PartnershipID: f.pzk, MeetingID: f.id("meeting"), Kind: domain.MeetingRegular, Date: famDay(time.January, 12),
					Place: "MOPS", Attendees: []string{f.mops, f.school}}
			}, err: out, kind: inv, field: "attendees[1]"},
		{name: "staff support is recorded for an institution before it joined",
			when: func(f *famFix) domain.Command {
				return domain.RecordStaffSupport{PartnershipID: f.pzk, ActivityID: f.id("activity"), Kind: domain.SupportTraining, Date: famDay(time.January, 12),
					Topic: "współpraca", Institutions: []string{f.pup}, Hours: 4}
			}, err: out, kind: inv, field: "institutions[0]"},
		{name: "an amendment names a day of drafting besides its signing", given: func(f *famFix) { f.inForce() },
			when: func(f *famFix) domain.Command {
				c := f.draftCmd()
				c.Changes, c.SignedOn, c.Date = "nowy cel", famDay(time.March, 20), famDay(time.March, 19)
				return c
			}, reason: "nowe potrzeby", err: domain.ErrInvalidField, kind: inv, field: "date"},
		{name: "a step is dated the day after the clock's day",
			when: func(f *famFix) domain.Command {
				c := f.closeCmd()
				c.Date = domain.NewDate(2025, time.May, 7)
				return c
			}, err: domain.ErrDateInFuture, kind: inv, field: "date"},
		{name: "a step is dated on the clock's day", when: func(f *famFix) domain.Command {
			c := f.closeCmd()
			c.Date = domain.NewDate(2025, time.May, 6)
			return c
		}, check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
			require.Len(t, envs, 1)
			assert.Equal(t, f.store.now().UTC(), envs[0].OccurredAt, "never later than the clock: noon has not come yet")
		}},
	}
	runFamCases(t, tests)
}

func firstErrOf(_ domain.Result, err error) error { return err }

func TestBusinessTime(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2025, time.May, 6, 7, 8, 9, 0, time.UTC)
	day := func(d int) domain.Date { return domain.NewDate(2024, time.February, d) }
	tests := []struct {
		name     string
		cmd      func(f *famFix) domain.Command
		occurred time.Time
		want     time.Time // the stored occurred_at, when accepted
		field    string    // the field named, when refused
		err      *domain.Error
	}{
		{name: "a step without occurred_at happens at noon in Poland on its date",
			cmd:  func(f *famFix) domain.Command { return f.consentCmd(f.school) },
			want: time.Date(2024, time.February, 5, 11, 0, 0, 0, time.UTC)},
		{name: "a step in summer time happens at noon in Poland too",
			cmd: func(f *famFix) domain.Command {
				c := f.consentCmd(f.school)
				c.GivenOn = domain.NewDate(2024, time.July, 1)
				return c
			},
			want: time.Date(2024, time.July, 1, 10, 0, 0, 0, time.UTC)},
		{name: "an occurred_at on the step's day in Poland is kept",
			cmd:      func(f *famFix) domain.Command { return f.consentCmd(f.school) },
			occurred: time.Date(2024, time.February, 4, 23, 30, 0, 0, time.UTC),
			want:     time.Date(2024, time.February, 4, 23, 30, 0, 0, time.UTC)},
		{name: "an occurred_at on the day before the step's day in Poland is refused",
			cmd:      func(f *famFix) domain.Command { return f.consentCmd(f.school) },
			occurred: time.Date(2024, time.February, 4, 22, 30, 0, 0, time.UTC),
			field:    "occurred_at", err: domain.ErrInvalidField},
		{name: "an occurred_at in year 9999 is refused",
			cmd:      func(f *famFix) domain.Command { return f.meetingCmd(f.coordinator) },
			occurred: time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC),
			field:    "occurred_at", err: domain.ErrDateInFuture},
		{name: "an occurred_at within the clock's tolerance is kept",
			cmd: func(f *famFix) domain.Command {
				return domain.ExtendContract{FamilyID: f.family, EndDate: domain.NewDate(2024, 12, 31)}
			},
			occurred: clock.Add(domain.ClockTolerance - time.Second),
			field:    "", err: domain.ErrNoContract},
		{name: "an occurred_at beyond the clock's tolerance is refused",
			cmd: func(f *famFix) domain.Command {
				return domain.ExtendContract{FamilyID: f.family, EndDate: domain.NewDate(2024, 12, 31)}
			},
			occurred: clock.Add(domain.ClockTolerance + time.Second),
			field:    "occurred_at", err: domain.ErrDateInFuture},
		{name: "an occurred_at before 1990 is refused",
			cmd: func(f *famFix) domain.Command {
				return domain.ExtendContract{FamilyID: f.family, EndDate: domain.NewDate(2024, 12, 31)}
			},
			occurred: time.Date(1989, time.December, 31, 12, 0, 0, 0, time.UTC),
			field:    "occurred_at", err: domain.ErrInvalidField},
		{name: "an occurred_at before the case was opened is refused for a step without a date",
			cmd: func(f *famFix) domain.Command {
				return domain.ExtendContract{FamilyID: f.family, EndDate: domain.NewDate(2024, 12, 31)}
			},
			occurred: day(1).Time().Add(-2 * time.Hour), // 23:00 in Poland on the day before
			field:    "occurred_at", err: domain.ErrDateOutOfOrder},
		{name: "a worker registered before their institution is refused",
			cmd: func(f *famFix) domain.Command {
				return domain.RegisterWorker{InstitutionID: f.school, WorkerID: f.id("worker"), Name: "Jan Nowy", Position: "pedagog"}
			},
			occurred: time.Date(2024, time.January, 1, 12, 0, 0, 0, time.UTC),
			field:    "occurred_at", err: domain.ErrDateOutOfOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFamFix(t)
			f.h.Now = func() time.Time { return clock }
			cmd := tt.cmd(f)
			aggregate, id := cmd.Target()
			before := f.store.total()
			meta := f.meta("")
			meta.OccurredAt = tt.occurred
			_, err := f.h.Execute(ctx, cmd, meta, domain.AnyVersion)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				var de *domain.Error
				require.ErrorAs(t, err, &de)
				assert.Equal(t, tt.field, de.Field, "%v", err)
				assert.Equal(t, before, f.store.total(), "a refused command appends nothing")
				return
			}
			require.NoError(t, err)
			envs := f.store.envelopes(t, aggregate, id)
			assert.Equal(t, tt.want, envs[len(envs)-1].OccurredAt)
		})
	}
}
