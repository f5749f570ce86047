package domain_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// day returns a day of 2024, the year the partnerships of these tests live in.
func day(m time.Month, d int) domain.Date { return domain.NewDate(2024, m, d) }

// initiatedOn is the day every partnership of these tests is initiated.
var initiatedOn = day(time.March, 1)

// pzk is a partnership team in the making: a handler on a fresh memStore,
// the institutions of a county already registered, and helpers that run
// the commands of the model on them. Institution ids derive from their
// names, so that failures are readable and runs repeatable.
type pzk struct {
	tb    testing.TB
	store *memStore
	h     *domain.Handler
	id    string // the partnership

	mops   string // social assistance, the leader
	ops    string // social assistance too, another municipality's centre
	pcpr   string // family support, the usual co-leader
	pup    string // labour office
	school string // education
	ghost  string // never registered
}

func newPZK(tb testing.TB) *pzk {
	tb.Helper()
	store := newMemStore()
	f := &pzk{
		tb: tb, store: store,
		h:      &domain.Handler{Store: store, Now: store.now, Cache: domain.NewCache(0)},
		id:     domain.IDFromKey("pzk/kraków"),
		mops:   domain.IDFromKey("institution/mops"),
		ops:    domain.IDFromKey("institution/ops"),
		pcpr:   domain.IDFromKey("institution/pcpr"),
		pup:    domain.IDFromKey("institution/pup"),
		school: domain.IDFromKey("institution/school"),
		ghost:  domain.IDFromKey("institution/ghost"),
	}
	for _, inst := range []domain.RegisterInstitution{
		{InstitutionID: f.mops, Name: "MOPS Kraków", Sector: domain.SectorSocialAssistance},
		{InstitutionID: f.ops, Name: "GOPS Zielonki", Sector: domain.SectorSocialAssistance},
		{InstitutionID: f.pcpr, Name: "PCPR Kraków", Sector: domain.SectorFamilySupport},
		{InstitutionID: f.pup, Name: "PUP Kraków", Sector: domain.SectorLabour},
		{InstitutionID: f.school, Name: "Szkoła Podstawowa nr 1", Sector: domain.SectorEducation},
	} {
		inst.Municipality, inst.County = "Kraków", "Kraków"
		f.must(inst)
	}
	return f
}

// meta is the meta of a command of the partnership's animator.
func (f *pzk) meta(reason string) domain.Meta {
	return domain.Meta{
		CommandID: domain.NewID(),
		Actor:     domain.Actor{UserID: "animator", Role: domain.RoleAnimator, InstitutionID: f.mops},
		Reason:    reason,
	}
}

// must runs cmd and fails the test if it is refused.
func (f *pzk) must(cmd domain.Command) domain.Result {
	f.tb.Helper()
	res, err := f.h.Execute(context.Background(), cmd, f.meta("zmiana składu zespołu"), domain.AnyVersion)
	require.NoError(f.tb, err)
	return res
}

func (f *pzk) initiateCmd(coLeader string) domain.InitiatePartnership {
	return domain.InitiatePartnership{PartnershipID: f.id, Name: "PZK Kraków", Municipality: "Kraków", County: "Kraków",
		Date: initiatedOn, Place: "MOPS, ul. Józefińska 14", LeaderID: f.mops, CoLeaderID: coLeader}
}

func (f *pzk) joinCmd(inst string) domain.JoinPartnership {
	return domain.JoinPartnership{PartnershipID: f.id, InstitutionID: inst, Date: day(time.April, 1),
		Signatory: "Dyrektor", Powers: "kierowanie na szkolenia", Resources: "doradca zawodowy"}
}

// service returns the id of a service of the basket by a short name.
func (f *pzk) service(name string) string { return domain.IDFromKey("service/" + name) }

func (f *pzk) offerCmd(name, inst string) domain.OfferService {
	return domain.OfferService{PartnershipID: f.id, ServiceID: f.service(name), InstitutionID: inst, Name: name,
		Description: "opis", TargetGroups: []string{"bezrobotni"}, Capacity: 10, Access: "skierowanie"}
}

func (f *pzk) withdrawCmd(name string) domain.WithdrawService {
	return domain.WithdrawService{PartnershipID: f.id, ServiceID: f.service(name)}
}

func (f *pzk) meetingCmd(attendees ...string) domain.RecordMeeting {
	return domain.RecordMeeting{PartnershipID: f.id, MeetingID: domain.IDFromKey("meeting"), Kind: domain.MeetingRegular,
		Date: day(time.May, 1), Place: "MOPS", Attendees: attendees, Guests: []string{"radna"}, Decisions: []string{"powołać ZZK"}}
}

func (f *pzk) formalizeCmd() domain.FormalizePartnership {
	return domain.FormalizePartnership{PartnershipID: f.id, Date: day(time.June, 1), Place: "Urząd Miasta"}
}

func (f *pzk) leaveCmd(inst string) domain.LeavePartnership {
	return domain.LeavePartnership{PartnershipID: f.id, InstitutionID: inst, Date: day(time.July, 1)}
}

func (f *pzk) initiate(coLeader string) { f.tb.Helper(); f.must(f.initiateCmd(coLeader)) }
func (f *pzk) join(inst string)         { f.tb.Helper(); f.must(f.joinCmd(inst)) }
func (f *pzk) offer(name, inst string)  { f.tb.Helper(); f.must(f.offerCmd(name, inst)) }
func (f *pzk) withdraw(name string)     { f.tb.Helper(); f.must(f.withdrawCmd(name)) }
func (f *pzk) leave(inst string)        { f.tb.Helper(); f.must(f.leaveCmd(inst)) }

// state loads the partnership.
func (f *pzk) state() *domain.Partnership {
	f.tb.Helper()
	s, err := domain.Load(context.Background(), f.store, domain.AggregatePartnership, f.id)
	require.NoError(f.tb, err)
	assertCachedAsLoaded(f.tb, f.h.Cache, s)
	return s.(*domain.Partnership)
}

// joined is the MemberJoined an institution of the fixture records.
func (f *pzk) joined(inst string, date domain.Date, withDeclaration bool) domain.MemberJoined {
	names := map[string]domain.MemberJoined{
		f.mops:   {Name: "MOPS Kraków", Sector: domain.SectorSocialAssistance},
		f.ops:    {Name: "GOPS Zielonki", Sector: domain.SectorSocialAssistance},
		f.pcpr:   {Name: "PCPR Kraków", Sector: domain.SectorFamilySupport},
		f.pup:    {Name: "PUP Kraków", Sector: domain.SectorLabour},
		f.school: {Name: "Szkoła Podstawowa nr 1", Sector: domain.SectorEducation},
	}
	e := names[inst]
	e.InstitutionID, e.Date = inst, date
	if withDeclaration {
		e.Signatory, e.Powers, e.Resources = "Dyrektor", "kierowanie na szkolenia", "doradca zawodowy"
	}
	return e
}

func payloads(envs []domain.Envelope) []domain.Event {
	out := make([]domain.Event, len(envs))
	for i, env := range envs {
		out[i] = env.Payload
	}
	return out
}

// cmdCase is one command: the history it meets (given), the command (when),
// and either the events it records on the aggregate it addresses or the
// error it is refused with.
type cmdCase struct {
	name   string
	given  func(f *pzk)
	when   func(f *pzk) domain.Command
	reason string // the Meta.Reason of the command

	want func(f *pzk) []domain.Event

	err   *domain.Error // the sentinel the error must match
	kind  error         // ErrInvalid, ErrNotFound or ErrConflict
	field string        // the Field of the *domain.Error
}

// requireRefused checks a refused command: the sentinel, the kind, the
// field, a message, and no result.
func requireRefused(t *testing.T, res domain.Result, err error, want *domain.Error, kind error, field string) {
	t.Helper()
	require.Error(t, err)
	require.NotNil(t, kind, "a failing case names its kind")
	assert.ErrorIs(t, err, want)
	assert.ErrorIs(t, err, kind)
	assert.Equal(t, kind, domain.IsKind(err))
	var de *domain.Error
	if assert.ErrorAs(t, err, &de) {
		assert.Equal(t, field, de.Field, "field of %v", err)
		assert.NotEmpty(t, de.Message)
	}
	assert.Zero(t, res)
}

// runCases runs each case on a fresh newPZK fixture through Handler.Execute
// and checks the outcome: on success the exact events, all in one append;
// on failure the sentinel, the kind, the field, and that nothing was
// appended anywhere.
func runCases(t *testing.T, tests []cmdCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPZK(t)
			if tt.given != nil {
				tt.given(f)
			}
			cmd := tt.when(f)
			aggregate, id := cmd.Target()
			before := f.store.total()
			history := len(f.store.envelopes(t, aggregate, id))
			meta := f.meta(tt.reason)

			res, err := f.h.Execute(context.Background(), cmd, meta, domain.AnyVersion)

			if tt.err != nil {
				requireRefused(t, res, err, tt.err, tt.kind, tt.field)
				assert.Equal(t, before, f.store.total(), "a refused command appends nothing")
				return
			}
			require.NoError(t, err)
			require.NotNil(t, tt.want, "a succeeding case names its events")
			envs := f.store.envelopes(t, aggregate, id)[history:]
			assert.Equal(t, tt.want(f), payloads(envs))
			assert.Equal(t, before+len(envs), f.store.total(), "only the addressed aggregate changed")
			assert.False(t, res.Duplicate)
			assert.Equal(t, aggregate, res.AggregateType)
			assert.Equal(t, id, res.AggregateID)
			assert.Equal(t, int64(history+len(envs)), res.Version)
			for _, env := range envs {
				assert.Equal(t, res.Sequence, env.Sequence, "all events of a command are one append")
				assert.Equal(t, meta.CommandID, env.CommandID)
				assert.Equal(t, tt.reason, env.Reason)
				assert.Equal(t, meta.Actor, env.Actor)
			}
		})
	}
}

func TestInitiatePartnership(t *testing.T) {
	runCases(t, []cmdCase{
		{
			name: "the leader alone initiates a partnership and becomes its member",
			when: func(f *pzk) domain.Command { return f.initiateCmd("") },
			want: func(f *pzk) []domain.Event {
				return []domain.Event{
					domain.PartnershipInitiated{Name: "PZK Kraków", Municipality: "Kraków", County: "Kraków", Date: initiatedOn,
						Place: "MOPS, ul. Józefińska 14", LeaderID: f.mops},
					f.joined(f.mops, initiatedOn, false),
				}
			},
		},
		{
			name: "the leader and the co-leader become members in the same append",
			when: func(f *pzk) domain.Command { return f.initiateCmd(f.pcpr) },
			want: func(f *pzk) []domain.Event {
				return []domain.Event{
					domain.PartnershipInitiated{Name: "PZK Kraków", Municipality: "Kraków", County: "Kraków", Date: initiatedOn,
						Place: "MOPS, ul. Józefińska 14", LeaderID: f.mops, CoLeaderID: f.pcpr},
					f.joined(f.mops, initiatedOn, false),
					f.joined(f.pcpr, initiatedOn, false),
				}
			},
		},
		{
			name:  "a partnership is initiated twice",
			given: func(f *pzk) { f.initiate("") },
			when:  func(f *pzk) domain.Command { return f.initiateCmd(f.pcpr) },
			err:   domain.ErrAlreadyExists, kind: domain.ErrConflict,
		},
		{
			name: "the leader is an unknown institution",
			when: func(f *pzk) domain.Command {
				c := f.initiateCmd(f.pcpr)
				c.LeaderID = f.ghost
				return c
			},
			err: domain.ErrInstitutionNotFound, kind: domain.ErrNotFound, field: "leader_id",
		},
		{
			name: "the co-leader is an unknown institution",
			when: func(f *pzk) domain.Command { return f.initiateCmd(f.ghost) },
			err:  domain.ErrInstitutionNotFound, kind: domain.ErrNotFound, field: "co_leader_id",
		},
		{
			name: "the co-leader is the leader",
			when: func(f *pzk) domain.Command { return f.initiateCmd(f.mops) },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "co_leader_id",
		},
		{
			name: "the leader id is not an identifier",
			when: func(f *pzk) domain.Command {
				c := f.initiateCmd("")
				c.LeaderID = "MOPS"
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "leader_id",
		},
		{
			name: "the leader is not named",
			when: func(f *pzk) domain.Command {
				c := f.initiateCmd("")
				c.LeaderID = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "leader_id",
		},
		{
			name: "the co-leader id is in upper case",
			when: func(f *pzk) domain.Command { return f.initiateCmd(strings.ToUpper(f.pcpr)) },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "co_leader_id",
		},
		{
			name: "the partnership has no name",
			when: func(f *pzk) domain.Command {
				c := f.initiateCmd("")
				c.Name = " "
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "name",
		},
		{
			name: "the partnership has no date",
			when: func(f *pzk) domain.Command {
				c := f.initiateCmd("")
				c.Date = domain.Date{}
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "date",
		},
		{
			name: "the partnership is dated before 1990",
			when: func(f *pzk) domain.Command {
				c := f.initiateCmd("")
				c.Date = domain.NewDate(1989, time.December, 31)
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "date",
		},
		{
			name: "the partnership id is not an identifier",
			when: func(f *pzk) domain.Command {
				c := f.initiateCmd("")
				c.PartnershipID = "pzk-krakow"
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "id",
		},
	})
}

func TestJoinPartnership(t *testing.T) {
	runCases(t, []cmdCase{
		{
			name:  "an institution joins with its name and sector of the day",
			given: func(f *pzk) { f.initiate("") },
			when:  func(f *pzk) domain.Command { return f.joinCmd(f.pup) },
			want:  func(f *pzk) []domain.Event { return []domain.Event{f.joined(f.pup, day(time.April, 1), true)} },
		},
		{
			name:  "an institution joins on the day of initiation",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.joinCmd(f.pup)
				c.Date = initiatedOn
				return c
			},
			want: func(f *pzk) []domain.Event { return []domain.Event{f.joined(f.pup, initiatedOn, true)} },
		},
		{
			name:  "an institution joins twice",
			given: func(f *pzk) { f.initiate(""); f.join(f.pup) },
			when:  func(f *pzk) domain.Command { return f.joinCmd(f.pup) },
			err:   domain.ErrAlreadyMember, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "the co-leader joins the partnership it co-leads",
			given: func(f *pzk) { f.initiate(f.pcpr) },
			when:  func(f *pzk) domain.Command { return f.joinCmd(f.pcpr) },
			err:   domain.ErrAlreadyMember, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "an institution rejoins after leaving",
			given: func(f *pzk) { f.initiate(""); f.join(f.pup); f.leave(f.pup) },
			when: func(f *pzk) domain.Command {
				c := f.joinCmd(f.pup)
				c.Date = day(time.August, 1)
				return c
			},
			want: func(f *pzk) []domain.Event { return []domain.Event{f.joined(f.pup, day(time.August, 1), true)} },
		},
		{
			name:  "an institution joins before the partnership was initiated",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.joinCmd(f.pup)
				c.Date = day(time.February, 29)
				return c
			},
			err: domain.ErrDateBeforeInitiation, kind: domain.ErrInvalid, field: "date",
		},
		{
			name:  "an unknown institution joins",
			given: func(f *pzk) { f.initiate("") },
			when:  func(f *pzk) domain.Command { return f.joinCmd(f.ghost) },
			err:   domain.ErrInstitutionNotFound, kind: domain.ErrNotFound, field: "institution_id",
		},
		{
			name: "an institution joins a partnership that was never initiated",
			when: func(f *pzk) domain.Command { return f.joinCmd(f.pup) },
			err:  domain.ErrPartnershipNotFound, kind: domain.ErrNotFound,
		},
		{
			name:  "an institution joins without a date",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.joinCmd(f.pup)
				c.Date = domain.Date{}
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "date",
		},
		{
			name:  "an institution presents powers longer than allowed",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.joinCmd(f.pup)
				c.Powers = strings.Repeat("p", 4001)
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "powers",
		},
	})
}

func TestOfferService(t *testing.T) {
	offered := func(f *pzk, name, inst string, sector domain.Sector) domain.ServiceOffered {
		return domain.ServiceOffered{ServiceID: f.service(name), InstitutionID: inst, Name: name, Sector: sector,
			Description: "opis", TargetGroups: []string{"bezrobotni"}, Capacity: 10, Access: "skierowanie"}
	}
	runCases(t, []cmdCase{
		{
			name:  "a member offers a service in its own sector by default",
			given: func(f *pzk) { f.initiate(""); f.join(f.pup) },
			when:  func(f *pzk) domain.Command { return f.offerCmd("doradztwo zawodowe", f.pup) },
			want: func(f *pzk) []domain.Event {
				return []domain.Event{offered(f, "doradztwo zawodowe", f.pup, domain.SectorLabour)}
			},
		},
		{
			name:  "a member offers a service of another sector",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.offerCmd("asystent rodziny", f.mops)
				c.Sector = domain.SectorFamilySupport
				return c
			},
			want: func(f *pzk) []domain.Event {
				return []domain.Event{offered(f, "asystent rodziny", f.mops, domain.SectorFamilySupport)}
			},
		},
		{
			name:  "an institution that is not a member offers a service",
			given: func(f *pzk) { f.initiate("") },
			when:  func(f *pzk) domain.Command { return f.offerCmd("doradztwo zawodowe", f.pup) },
			err:   domain.ErrNotMember, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "a former member offers a service",
			given: func(f *pzk) { f.initiate(""); f.join(f.pup); f.leave(f.pup) },
			when:  func(f *pzk) domain.Command { return f.offerCmd("doradztwo zawodowe", f.pup) },
			err:   domain.ErrNotMember, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "a service is offered twice",
			given: func(f *pzk) { f.initiate(""); f.offer("asystent rodziny", f.mops) },
			when:  func(f *pzk) domain.Command { return f.offerCmd("asystent rodziny", f.mops) },
			err:   domain.ErrServiceExists, kind: domain.ErrConflict, field: "service_id",
		},
		{
			name:  "a service is offered in a sector that does not exist",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.offerCmd("asystent rodziny", f.mops)
				c.Sector = "welfare"
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "sector",
		},
		{
			name:  "a service is offered with a negative capacity",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.offerCmd("asystent rodziny", f.mops)
				c.Capacity = -1
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "capacity",
		},
		{
			name:  "a service is offered for an empty target group",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.offerCmd("asystent rodziny", f.mops)
				c.TargetGroups = []string{"rodziny", ""}
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "target_groups[1]",
		},
		{
			name:  "a service is offered without a name",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.offerCmd("asystent rodziny", f.mops)
				c.Name = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "name",
		},
	})
}

func TestWithdrawService(t *testing.T) {
	runCases(t, []cmdCase{
		{
			name:  "a service is withdrawn",
			given: func(f *pzk) { f.initiate(""); f.offer("asystent rodziny", f.mops) },
			when:  func(f *pzk) domain.Command { return f.withdrawCmd("asystent rodziny") },
			want: func(f *pzk) []domain.Event {
				return []domain.Event{domain.ServiceWithdrawn{ServiceID: f.service("asystent rodziny")}}
			},
		},
		{
			name:  "a service that was never offered is withdrawn",
			given: func(f *pzk) { f.initiate("") },
			when:  func(f *pzk) domain.Command { return f.withdrawCmd("asystent rodziny") },
			err:   domain.ErrServiceNotFound, kind: domain.ErrNotFound, field: "",
		},
		{
			name:  "a service is withdrawn twice",
			given: func(f *pzk) { f.initiate(""); f.offer("asystent rodziny", f.mops); f.withdraw("asystent rodziny") },
			when:  func(f *pzk) domain.Command { return f.withdrawCmd("asystent rodziny") },
			err:   domain.ErrServiceNotFound, kind: domain.ErrNotFound, field: "",
		},
		{
			name:  "a service id that is not an identifier is withdrawn",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				return domain.WithdrawService{PartnershipID: f.id, ServiceID: "asystent"}
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "service_id",
		},
		{
			name: "a service is withdrawn from a partnership that was never initiated",
			when: func(f *pzk) domain.Command { return f.withdrawCmd("asystent rodziny") },
			err:  domain.ErrPartnershipNotFound, kind: domain.ErrNotFound,
		},
	})
}

func TestRecordMeeting(t *testing.T) {
	runCases(t, []cmdCase{
		{
			name:  "a meeting of members is recorded",
			given: func(f *pzk) { f.initiate(f.pcpr); f.join(f.pup) },
			when:  func(f *pzk) domain.Command { return f.meetingCmd(f.mops, f.pcpr, f.pup) },
			want: func(f *pzk) []domain.Event {
				return []domain.Event{domain.MeetingRecorded{MeetingID: domain.IDFromKey("meeting"), Kind: domain.MeetingRegular,
					Date: day(time.May, 1), Place: "MOPS", Attendees: []string{f.mops, f.pcpr, f.pup},
					Guests: []string{"radna"}, Decisions: []string{"powołać ZZK"}}}
			},
		},
		{
			name:  "an institution that is not a member attends",
			given: func(f *pzk) { f.initiate(f.pcpr) },
			when:  func(f *pzk) domain.Command { return f.meetingCmd(f.mops, f.pup, f.pcpr) },
			err:   domain.ErrNotMember, kind: domain.ErrConflict, field: "attendees[1]",
		},
		{
			name:  "an unregistered institution attends",
			given: func(f *pzk) { f.initiate(f.pcpr) },
			when:  func(f *pzk) domain.Command { return f.meetingCmd(f.mops, f.pcpr, f.ghost) },
			err:   domain.ErrNotMember, kind: domain.ErrConflict, field: "attendees[2]",
		},
		{
			name:  "a former member attends",
			given: func(f *pzk) { f.initiate(""); f.join(f.pup); f.leave(f.pup) },
			when:  func(f *pzk) domain.Command { return f.meetingCmd(f.pup, f.mops) },
			err:   domain.ErrNotMember, kind: domain.ErrConflict, field: "attendees[0]",
		},
		{
			name:  "an attendee is listed twice",
			given: func(f *pzk) { f.initiate(f.pcpr) },
			when:  func(f *pzk) domain.Command { return f.meetingCmd(f.mops, f.pcpr, f.mops) },
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "attendees[2]",
		},
		{
			name:  "a meeting has no attendees",
			given: func(f *pzk) { f.initiate("") },
			when:  func(f *pzk) domain.Command { return f.meetingCmd() },
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "attendees",
		},
		{
			name:  "an attendee is not an identifier",
			given: func(f *pzk) { f.initiate("") },
			when:  func(f *pzk) domain.Command { return f.meetingCmd(f.mops, "PUP") },
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "attendees[1]",
		},
		{
			name:  "a meeting of an unknown kind",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.meetingCmd(f.mops)
				c.Kind = "party"
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "kind",
		},
		{
			name:  "a meeting of no kind",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.meetingCmd(f.mops)
				c.Kind = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "kind",
		},
		{
			name:  "a meeting without a place",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.meetingCmd(f.mops)
				c.Place = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "place",
		},
		{
			name:  "a meeting with an empty decision",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.meetingCmd(f.mops)
				c.Decisions = []string{"\t"}
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "decisions[0]",
		},
		{
			name:  "a meeting before the partnership was initiated",
			given: func(f *pzk) { f.initiate("") },
			when: func(f *pzk) domain.Command {
				c := f.meetingCmd(f.mops)
				c.Date = day(time.January, 15)
				return c
			},
			err: domain.ErrDateBeforeInitiation, kind: domain.ErrInvalid, field: "date",
		},
		{
			name: "a meeting of a partnership that was never initiated",
			when: func(f *pzk) domain.Command { return f.meetingCmd(f.mops) },
			err:  domain.ErrPartnershipNotFound, kind: domain.ErrNotFound,
		},
	})
}

func TestFormalizePartnership(t *testing.T) {
	formalized := func(*pzk) []domain.Event {
		return []domain.Event{domain.PartnershipFormalized{Date: day(time.June, 1), Place: "Urząd Miasta"}}
	}
	runCases(t, []cmdCase{
		{
			name:  "the leader alone formalises the partnership",
			given: func(f *pzk) { f.initiate("") },
			when:  func(f *pzk) domain.Command { return f.formalizeCmd() },
			err:   domain.ErrFormalizeNeedsSectors, kind: domain.ErrConflict,
		},
		{
			name:  "a partnership of one sector is formalised",
			given: func(f *pzk) { f.initiate(""); f.join(f.ops) },
			when:  func(f *pzk) domain.Command { return f.formalizeCmd() },
			err:   domain.ErrFormalizeNeedsSectors, kind: domain.ErrConflict,
		},
		{
			name:  "a partnership is formalised once another sector has joined",
			given: func(f *pzk) { f.initiate(""); f.join(f.ops); f.join(f.pup) },
			when:  func(f *pzk) domain.Command { return f.formalizeCmd() },
			want:  formalized,
		},
		{
			name:  "a partnership with a co-leader of another sector is formalised",
			given: func(f *pzk) { f.initiate(f.pcpr) },
			when:  func(f *pzk) domain.Command { return f.formalizeCmd() },
			want:  formalized,
		},
		{
			name:  "a partnership is formalised after its only other sector has left",
			given: func(f *pzk) { f.initiate(""); f.join(f.pup); f.leave(f.pup) },
			when:  func(f *pzk) domain.Command { return f.formalizeCmd() },
			err:   domain.ErrFormalizeNeedsSectors, kind: domain.ErrConflict,
		},
		{
			name:  "a partnership is formalised twice",
			given: func(f *pzk) { f.initiate(f.pcpr); f.must(f.formalizeCmd()) },
			when:  func(f *pzk) domain.Command { return f.formalizeCmd() },
			err:   domain.ErrAlreadyFormalized, kind: domain.ErrConflict,
		},
		{
			name:  "a partnership is formalised before it was initiated",
			given: func(f *pzk) { f.initiate(f.pcpr) },
			when: func(f *pzk) domain.Command {
				c := f.formalizeCmd()
				c.Date = day(time.February, 1)
				return c
			},
			err: domain.ErrDateBeforeInitiation, kind: domain.ErrInvalid, field: "date",
		},
		{
			name:  "a partnership is formalised without a date",
			given: func(f *pzk) { f.initiate(f.pcpr) },
			when: func(f *pzk) domain.Command {
				c := f.formalizeCmd()
				c.Date = domain.Date{}
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "date",
		},
		{
			name: "a partnership that was never initiated is formalised",
			when: func(f *pzk) domain.Command { return f.formalizeCmd() },
			err:  domain.ErrPartnershipNotFound, kind: domain.ErrNotFound,
		},
	})
}

func TestLeavePartnership(t *testing.T) {
	const reason = "zakończenie realizacji projektu"
	runCases(t, []cmdCase{
		{
			name:   "a member leaves",
			given:  func(f *pzk) { f.initiate(""); f.join(f.pup) },
			when:   func(f *pzk) domain.Command { return f.leaveCmd(f.pup) },
			reason: reason,
			want: func(f *pzk) []domain.Event {
				return []domain.Event{domain.MemberLeft{InstitutionID: f.pup, Date: day(time.July, 1)}}
			},
		},
		{
			name:   "the co-leader leaves",
			given:  func(f *pzk) { f.initiate(f.pcpr) },
			when:   func(f *pzk) domain.Command { return f.leaveCmd(f.pcpr) },
			reason: reason,
			want: func(f *pzk) []domain.Event {
				return []domain.Event{domain.MemberLeft{InstitutionID: f.pcpr, Date: day(time.July, 1)}}
			},
		},
		{
			name:   "the leader leaves",
			given:  func(f *pzk) { f.initiate(f.pcpr) },
			when:   func(f *pzk) domain.Command { return f.leaveCmd(f.mops) },
			reason: reason,
			err:    domain.ErrLeaderCannotLeave, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name: "leaving withdraws the member's active services in the same append",
			given: func(f *pzk) {
				f.initiate("")
				f.join(f.pup)
				f.join(f.school)
				f.offer("doradztwo zawodowe", f.pup)
				f.offer("pedagog szkolny", f.school)
				f.offer("staże", f.pup)
				f.offer("klub pracy", f.pup)
				f.withdraw("klub pracy")
			},
			when:   func(f *pzk) domain.Command { return f.leaveCmd(f.pup) },
			reason: reason,
			want: func(f *pzk) []domain.Event {
				services := []string{f.service("doradztwo zawodowe"), f.service("staże")}
				slices.Sort(services) // withdrawn in the order of their ids
				return []domain.Event{
					domain.MemberLeft{InstitutionID: f.pup, Date: day(time.July, 1)},
					domain.ServiceWithdrawn{ServiceID: services[0]},
					domain.ServiceWithdrawn{ServiceID: services[1]},
				}
			},
		},
		{
			name:  "a member leaves without a reason",
			given: func(f *pzk) { f.initiate(""); f.join(f.pup) },
			when:  func(f *pzk) domain.Command { return f.leaveCmd(f.pup) },
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "reason",
		},
		{
			name:   "a member leaves with a reason of blanks",
			given:  func(f *pzk) { f.initiate(""); f.join(f.pup) },
			when:   func(f *pzk) domain.Command { return f.leaveCmd(f.pup) },
			reason: " \n\t ",
			err:    domain.ErrRequired, kind: domain.ErrInvalid, field: "reason",
		},
		{
			name:   "a member leaves with a reason holding a control character",
			given:  func(f *pzk) { f.initiate(""); f.join(f.pup) },
			when:   func(f *pzk) domain.Command { return f.leaveCmd(f.pup) },
			reason: "koniec\x00",
			err:    domain.ErrInvalidField, kind: domain.ErrInvalid, field: "reason",
		},
		{
			name:   "an institution that never joined leaves",
			given:  func(f *pzk) { f.initiate("") },
			when:   func(f *pzk) domain.Command { return f.leaveCmd(f.pup) },
			reason: reason,
			err:    domain.ErrNotMember, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:   "a member leaves twice",
			given:  func(f *pzk) { f.initiate(""); f.join(f.pup); f.leave(f.pup) },
			when:   func(f *pzk) domain.Command { return f.leaveCmd(f.pup) },
			reason: reason,
			err:    domain.ErrNotMember, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "a member leaves before the partnership was initiated",
			given: func(f *pzk) { f.initiate(""); f.join(f.pup) },
			when: func(f *pzk) domain.Command {
				c := f.leaveCmd(f.pup)
				c.Date = day(time.January, 1)
				return c
			},
			reason: reason,
			err:    domain.ErrDateBeforeInitiation, kind: domain.ErrInvalid, field: "date",
		},
		{
			name:   "a member id that is not an identifier leaves",
			given:  func(f *pzk) { f.initiate("") },
			when:   func(f *pzk) domain.Command { return f.leaveCmd("PUP") },
			reason: reason,
			err:    domain.ErrInvalidField, kind: domain.ErrInvalid, field: "institution_id",
		},
	})
}

// TestPartnershipState follows a partnership through its life and checks
// the state its events fold into.
func TestPartnershipState(t *testing.T) {
	f := newPZK(t)
	f.initiate(f.pcpr)
	f.join(f.pup)
	f.join(f.school)
	f.offer("doradztwo zawodowe", f.pup)
	f.offer("pedagog szkolny", f.school)
	f.must(f.meetingCmd(f.mops, f.pup))
	f.must(f.formalizeCmd())
	_, err := f.h.Execute(context.Background(), f.leaveCmd(f.pup), f.meta("reorganizacja urzędu"), domain.AnyVersion)
	require.NoError(t, err)

	p := f.state()
	assert.True(t, p.Exists())
	assert.Equal(t, f.id, p.ID)
	assert.Equal(t, int64(11), p.Version, "3 initiating, 2 joins, 2 offers, meeting, formalisation, leaving with 1 withdrawal")
	assert.Equal(t, "PZK Kraków", p.Initiated.Name)
	assert.Equal(t, f.mops, p.Initiated.LeaderID)
	assert.Len(t, p.Members, 4)
	for _, inst := range []string{f.mops, f.pcpr, f.school} {
		assert.True(t, p.IsMember(inst), inst)
	}
	assert.False(t, p.IsMember(f.pup))
	assert.False(t, p.IsMember(f.ghost))
	left := p.Members[f.pup]
	require.NotNil(t, left)
	assert.True(t, left.Left)
	assert.Equal(t, day(time.July, 1), left.LeftOn)
	assert.Equal(t, "reorganizacja urzędu", left.LeaveReason)
	assert.Equal(t, domain.SectorLabour, left.Sector)
	assert.Equal(t, day(time.April, 1), left.JoinedOn)
	assert.True(t, p.Services[f.service("doradztwo zawodowe")].Withdrawn)
	assert.False(t, p.Services[f.service("pedagog szkolny")].Withdrawn)
	assert.Equal(t, 1, p.Meetings)
	require.NotNil(t, p.Formalized)
	assert.Equal(t, day(time.June, 1), p.Formalized.Date)

	// A member that rejoins is a member again; its services stay withdrawn.
	f.join(f.pup)
	p = f.state()
	assert.True(t, p.IsMember(f.pup))
	assert.Empty(t, p.Members[f.pup].LeaveReason)
	assert.True(t, p.Services[f.service("doradztwo zawodowe")].Withdrawn)
}

// Decide must not change the state it decides on.
func TestPartnershipDecideLeavesStateAlone(t *testing.T) {
	f := newPZK(t)
	f.initiate(f.pcpr)
	f.join(f.pup)
	f.offer("doradztwo zawodowe", f.pup)
	f.offer("staże", f.pup)

	commands := []domain.Command{
		f.leaveCmd(f.pup),
		f.offerCmd("klub pracy", f.pup),
		f.withdrawCmd("staże"),
		f.meetingCmd(f.mops, f.pup),
		f.formalizeCmd(),
		f.leaveCmd(f.mops),
		f.joinCmd(f.school),
		f.joinCmd(f.pup),
		f.initiateCmd(""),
	}
	for _, cmd := range commands {
		p := f.state()
		events, err := p.Decide(cmd, f.meta("powód"), memFacts{f.store})
		if err == nil {
			assert.NotEmpty(t, events, "%T", cmd)
		}
		assert.Equal(t, f.state(), p, "%T changed the state", cmd)
	}
}

// memFacts answers domain.Facts from a memStore, for calling Decide
// without a Handler.
type memFacts struct{ store *memStore }

func (m memFacts) Institution(id string) (*domain.Institution, error) {
	s, err := domain.Load(context.Background(), m.store, domain.AggregateInstitution, id)
	if err != nil {
		return nil, err
	}
	if inst := s.(*domain.Institution); inst.Exists() {
		return inst, nil
	}
	return nil, domain.ErrInstitutionNotFound.With("", "institution %s does not exist", id)
}

func (m memFacts) Partnership(id string) (*domain.Partnership, error) {
	s, err := domain.Load(context.Background(), m.store, domain.AggregatePartnership, id)
	if err != nil {
		return nil, err
	}
	if p := s.(*domain.Partnership); p.Exists() {
		return p, nil
	}
	return nil, domain.ErrPartnershipNotFound.With("", "partnership %s does not exist", id)
}

// stubFacts answers every question about an institution with inst or err.
type stubFacts struct {
	inst *domain.Institution
	err  error
	asks []string // the institutions asked about
}

func (s *stubFacts) Institution(id string) (*domain.Institution, error) {
	s.asks = append(s.asks, id)
	return s.inst, s.err
}

func (s *stubFacts) Partnership(id string) (*domain.Partnership, error) {
	return nil, domain.ErrPartnershipNotFound.With("", "partnership %s does not exist", id)
}

// A decision takes other aggregates' state from its Facts, at the time of
// deciding.
func TestPartnershipDecideConsultsFacts(t *testing.T) {
	f := newPZK(t)
	f.initiate("")
	meta := f.meta("")

	t.Run("a joining institution's name and sector are the facts' of the day", func(t *testing.T) {
		facts := &stubFacts{inst: &domain.Institution{ID: f.pup, Version: 2, Name: "Centrum Aktywizacji Zawodowej", Sector: domain.SectorLabour}}
		events, err := f.state().Decide(f.joinCmd(f.pup), meta, facts)
		require.NoError(t, err)
		want := f.joined(f.pup, day(time.April, 1), true)
		want.Name = "Centrum Aktywizacji Zawodowej"
		assert.Equal(t, []domain.Event{want}, events)
		assert.Equal(t, []string{f.pup}, facts.asks)
	})

	t.Run("a missing institution is named by the command's field", func(t *testing.T) {
		facts := &stubFacts{err: domain.ErrInstitutionNotFound.With("", "gone")}
		_, err := f.state().Decide(f.joinCmd(f.pup), meta, facts)
		require.ErrorIs(t, err, domain.ErrInstitutionNotFound)
		var de *domain.Error
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "institution_id", de.Field)
	})

	t.Run("a failure to learn the facts is passed on", func(t *testing.T) {
		down := errors.New("nats: timeout")
		_, err := f.state().Decide(f.joinCmd(f.pup), meta, &stubFacts{err: down})
		require.ErrorIs(t, err, down)
		_, err = (&domain.Partnership{}).Decide(f.initiateCmd(""), meta, &stubFacts{err: down})
		require.ErrorIs(t, err, down)
	})

	t.Run("a refusal on the partnership's own state asks no facts", func(t *testing.T) {
		facts := &stubFacts{err: errors.New("not to be asked")}
		_, err := f.state().Decide(f.joinCmd(f.mops), meta, facts)
		require.ErrorIs(t, err, domain.ErrAlreadyMember)
		_, err = f.state().Decide(f.initiateCmd(f.pcpr), meta, facts)
		require.ErrorIs(t, err, domain.ErrAlreadyExists)
		assert.Empty(t, facts.asks)
	})
}

// An aggregate refuses to load an event it does not know, rather than
// deciding on a state it cannot see fully.
func TestPartnershipRefusesUnknownEvents(t *testing.T) {
	f := newPZK(t)
	f.initiate("")
	f.store.putRaw(domain.AggregatePartnership, f.id, "MemberTeleported", 1, `{"institution_id":"x"}`)

	_, err := domain.Load(context.Background(), f.store, domain.AggregatePartnership, f.id)
	require.ErrorIs(t, err, domain.ErrUnknownEventType)

	before := f.store.total()
	_, err = f.h.Execute(context.Background(), f.joinCmd(f.pup), f.meta(""), domain.AnyVersion)
	require.ErrorIs(t, err, domain.ErrUnknownEventType)
	assert.Equal(t, before, f.store.total())
}

// An event of another aggregate in a partnership's history is refused.
func TestPartnershipRefusesForeignEvents(t *testing.T) {
	f := newPZK(t)
	f.initiate("")
	f.store.putRaw(domain.AggregatePartnership, f.id, "TokenRevoked", 1, `{"token_id":"x"}`)

	_, err := domain.Load(context.Background(), f.store, domain.AggregatePartnership, f.id)
	require.ErrorIs(t, err, domain.ErrInvalid)
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "type", de.Field)
}
