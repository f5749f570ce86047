package domain_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// famDay returns a day of 2024, the year the family cases of these tests
// live in.
func famDay(m time.Month, d int) domain.Date { return domain.NewDate(2024, m, d) }

// famPESEL returns a valid PESEL for a birth date and a four-digit serial:
// the month carries the century, the last digit is the check digit.
func famPESEL(born domain.Date, serial string) string {
	y, m, d := born.Time().Date()
	month := int(m) + map[int]int{18: 80, 19: 0, 20: 20, 21: 40, 22: 60}[y/100]
	return famCheckDigit(fmt.Sprintf("%02d%02d%02d%s", y%100, month, d, serial))
}

// famCheckDigit appends the PESEL check digit to ten digits.
func famCheckDigit(s string) string {
	sum := 0
	for i, w := range []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3} {
		sum += w * int(s[i]-'0')
	}
	return s + strconv.Itoa((10-sum%10)%10)
}

// famWorker is a worker of the fixture as a task team shows them.
type famWorker struct {
	id, institution, name, position string
}

// famFix is a family case in the making: a handler on a fresh memStore;
// the institutions of a county with their workers; a partnership (PZK)
// led by MOPS and co-led by PCPR, joined by a school and the labour office,
// with a basket of services; and the family's case opened with the MOPS
// social worker as coordinator. Ids derive from names, so failures are
// readable and runs repeatable.
type famFix struct {
	tb    testing.TB
	store *memStore
	h     *domain.Handler
	n     int // commands run, to derive distinct ids

	pzk, family string

	// Institutions: mops leads, pcpr co-leads, school and pup are members,
	// outsider is registered but not a member, ghost was never registered.
	mops, pcpr, school, pup, outsider, ghost string
	names                                    map[string]string
	sectors                                  map[string]domain.Sector

	// Workers.
	coordinator, pcprWorker, pedagogue, pupWorker, outsiderWorker string
	workers                                                       map[string]famWorker

	// Household members.
	applicant, child string
	household        []domain.Person

	// Basket services: welfare of MOPS, counselling of PCPR, tutoring of
	// the school, training of PUP, and a PUP service already withdrawn.
	welfare, counselling, tutoring, training, withdrawn string

	// Consents given by famFix.consents, by institution.
	consentIDs map[string]string
}

func newFamFix(tb testing.TB) *famFix {
	tb.Helper()
	store := newMemStore()
	id := func(kind, name string) string { return domain.IDFromKey("family-test/" + kind + "/" + name) }
	f := &famFix{
		tb: tb, store: store,
		h:      &domain.Handler{Store: store, Now: store.now, Cache: domain.NewCache(0)},
		pzk:    id("partnership", "pzk"),
		family: id("family", "kowalscy"),

		mops: id("institution", "mops"), pcpr: id("institution", "pcpr"), school: id("institution", "school"),
		pup: id("institution", "pup"), outsider: id("institution", "hospital"), ghost: id("institution", "ghost"),

		coordinator: id("worker", "coordinator"), pcprWorker: id("worker", "pcpr"), pedagogue: id("worker", "pedagogue"),
		pupWorker: id("worker", "pup"), outsiderWorker: id("worker", "hospital"),

		applicant: id("person", "jan"), child: id("person", "piotr"),

		welfare: id("service", "welfare"), counselling: id("service", "counselling"), tutoring: id("service", "tutoring"),
		training: id("service", "training"), withdrawn: id("service", "withdrawn"),
		consentIDs: map[string]string{},
	}
	f.names = map[string]string{f.mops: "MOPS Kraków", f.pcpr: "PCPR Kraków", f.school: "Szkoła Podstawowa nr 1",
		f.pup: "PUP Kraków", f.outsider: "Szpital Miejski"}
	f.sectors = map[string]domain.Sector{f.mops: domain.SectorSocialAssistance, f.pcpr: domain.SectorFamilySupport,
		f.school: domain.SectorEducation, f.pup: domain.SectorLabour, f.outsider: domain.SectorHealth}
	for _, inst := range []string{f.mops, f.pcpr, f.school, f.pup, f.outsider} {
		f.must(domain.RegisterInstitution{InstitutionID: inst, Name: f.names[inst], Sector: f.sectors[inst], Municipality: "Kraków", County: "Kraków"})
	}
	f.workers = map[string]famWorker{}
	for _, w := range []famWorker{
		{f.coordinator, f.mops, "Anna Nowak", "pracownik socjalny"},
		{f.pcprWorker, f.pcpr, "Ewa Wiśniewska", "koordynator pieczy zastępczej"},
		{f.pedagogue, f.school, "Marta Zielińska", "pedagog szkolny"},
		{f.pupWorker, f.pup, "Tomasz Lewandowski", "doradca zawodowy"},
		{f.outsiderWorker, f.outsider, "Jerzy Kamiński", "psycholog"},
	} {
		f.workers[w.id] = w
		f.must(domain.RegisterWorker{InstitutionID: w.institution, WorkerID: w.id, Name: w.name, Position: w.position})
	}
	f.must(domain.InitiatePartnership{PartnershipID: f.pzk, Name: "PZK Kraków", Municipality: "Kraków", County: "Kraków",
		Date: famDay(time.January, 10), Place: "MOPS", LeaderID: f.mops, CoLeaderID: f.pcpr})
	for _, inst := range []string{f.school, f.pup} {
		f.must(domain.JoinPartnership{PartnershipID: f.pzk, InstitutionID: inst, Date: famDay(time.January, 15)})
	}
	for _, s := range []struct{ id, inst, name string }{
		{f.welfare, f.mops, "zasiłek celowy"},
		{f.counselling, f.pcpr, "poradnictwo rodzinne"},
		{f.tutoring, f.school, "zajęcia wyrównawcze"},
		{f.training, f.pup, "szkolenie zawodowe"},
		{f.withdrawn, f.pup, "staż (zakończony)"},
	} {
		f.must(domain.OfferService{PartnershipID: f.pzk, ServiceID: s.id, InstitutionID: s.inst, Name: s.name})
	}
	f.must(domain.WithdrawService{PartnershipID: f.pzk, ServiceID: f.withdrawn})

	jan, piotr := domain.NewDate(1984, time.June, 15), domain.NewDate(2012, time.September, 3)
	f.household = []domain.Person{
		{PersonID: f.applicant, Name: "Jan Kowalski", BirthDate: jan, PESEL: famPESEL(jan, "0123"), Relation: domain.RelationApplicant},
		{PersonID: f.child, Name: "Piotr Kowalski", BirthDate: piotr, PESEL: famPESEL(piotr, "4567"), Relation: domain.RelationChild},
	}
	f.must(f.openCmd())
	return f
}

// meta is the meta of a command of the coordinator, with a reason.
func (f *famFix) meta(reason string) domain.Meta {
	return domain.Meta{
		CommandID: domain.NewID(),
		Actor:     domain.Actor{UserID: "anna.nowak", Role: domain.RoleCoordinator, InstitutionID: f.mops},
		Reason:    reason,
	}
}

// must runs cmd with a reason and fails the test if it is refused.
func (f *famFix) must(cmd domain.Command) domain.Result {
	f.tb.Helper()
	f.n++
	res, err := f.h.Execute(context.Background(), cmd, f.meta("uzasadnienie decyzji"), domain.AnyVersion)
	require.NoError(f.tb, err, "%T", cmd)
	return res
}

// id derives a fresh identifier for something the fixture creates.
func (f *famFix) id(what string) string {
	f.n++
	return domain.IDFromKey(fmt.Sprintf("family-test/%s/%d", what, f.n))
}

// state loads the family case.
func (f *famFix) state() *domain.Family {
	f.tb.Helper()
	s, err := domain.Load(context.Background(), f.store, domain.AggregateFamily, f.family)
	require.NoError(f.tb, err)
	assertCachedAsLoaded(f.tb, f.h.Cache, s)
	return s.(*domain.Family)
}

// member is the task team member a worker of the fixture becomes.
func (f *famFix) member(worker string) domain.TeamMember {
	w := f.workers[worker]
	return domain.TeamMember{WorkerID: w.id, InstitutionID: w.institution, Name: w.name, Position: w.position,
		Institution: f.names[w.institution], Sector: f.sectors[w.institution]}
}

func (f *famFix) ref(worker string) domain.WorkerRef {
	return domain.WorkerRef{WorkerID: worker, InstitutionID: f.workers[worker].institution}
}

// Commands with the fixture's defaults; cases change what they test.

func (f *famFix) openCmd() domain.OpenFamilyCase {
	return domain.OpenFamilyCase{FamilyID: f.family, PartnershipID: f.pzk, Household: append([]domain.Person(nil), f.household...),
		Address: "ul. Długa 1, Kraków", Phone: "+48 600 000 000",
		Referral:    domain.ReferralSource{InstitutionID: f.school, Reason: "częste nieobecności syna w szkole"},
		Coordinator: f.ref(f.coordinator), OpenedOn: famDay(time.February, 1)}
}

func (f *famFix) consentCmd(inst string, categories ...domain.DataCategory) domain.GiveConsent {
	if len(categories) == 0 {
		categories = []domain.DataCategory{domain.DataBasic}
	}
	return domain.GiveConsent{FamilyID: f.family, ConsentID: f.id("consent"), InstitutionID: inst, Categories: categories,
		Purpose: "współpraca w zespole zadaniowym", LegalBasis: "art. 6 ust. 1 lit. a RODO", GivenBy: f.applicant, GivenOn: famDay(time.February, 5)}
}

func (f *famFix) legalBasisCmd(inst string) domain.RecordLegalBasis {
	return domain.RecordLegalBasis{FamilyID: f.family, InstitutionID: inst, Categories: []domain.DataCategory{domain.DataBasic},
		LegalBasis: "postanowienie sądu rodzinnego", RecordedOn: famDay(time.February, 6)}
}

func (f *famFix) inputCmd(worker string) domain.RecordDiagnosisInput {
	return domain.RecordDiagnosisInput{FamilyID: f.family, Area: domain.AreaEmployment, Severity: domain.SeverityHigh,
		Needs: "stała praca", Strengths: "doświadczenie w budownictwie", WorkerID: worker, InstitutionID: f.workers[worker].institution,
		Date: famDay(time.February, 10)}
}

func (f *famFix) completeCmd() domain.CompleteDiagnosis {
	return domain.CompleteDiagnosis{FamilyID: f.family, Date: famDay(time.February, 20), Summary: "bezrobocie i trudności szkolne syna"}
}

func (f *famFix) formTeamCmd(workers ...string) domain.FormTeam {
	c := domain.FormTeam{FamilyID: f.family, Date: famDay(time.February, 21)}
	for _, w := range workers {
		c.Members = append(c.Members, f.ref(w))
	}
	return c
}

func (f *famFix) addCmd(worker string, on domain.Date) domain.AddTeamMember {
	return domain.AddTeamMember{FamilyID: f.family, WorkerRef: f.ref(worker), Date: on}
}

func (f *famFix) removeCmd(worker string) domain.RemoveTeamMember {
	return domain.RemoveTeamMember{FamilyID: f.family, WorkerID: worker, Date: famDay(time.April, 1)}
}

func (f *famFix) meetingCmd(attendees ...string) domain.RecordTeamMeeting {
	return domain.RecordTeamMeeting{FamilyID: f.family, MeetingID: f.id("team-meeting"), Date: famDay(time.February, 22),
		Attendees: attendees, Decisions: []string{"skierować na szkolenie"}}
}

func (f *famFix) referralCmd(service string) domain.RequestReferral {
	return domain.RequestReferral{FamilyID: f.family, ReferralID: f.id("referral"), ServiceID: service, Date: famDay(time.March, 5)}
}

func (f *famFix) updateReferralCmd(referral string, status domain.ReferralStatus) domain.UpdateReferral {
	return domain.UpdateReferral{FamilyID: f.family, ReferralID: referral, Status: status, Date: famDay(time.March, 10)}
}

func (f *famFix) draftCmd() domain.DraftContract {
	return domain.DraftContract{FamilyID: f.family, ContractTerms: domain.ContractTerms{
		Variant:    domain.VariantA,
		Assessment: domain.Assessment{Causes: "długotrwałe bezrobocie", Strengths: "motywacja do zmiany"},
		MainGoal:   "usamodzielnienie rodziny",
		Goals:      []domain.Goal{{ID: "g1", Description: "podjęcie pracy"}, {ID: "g2", Description: "regularna nauka syna"}},
		Actions: []domain.Action{
			{ID: "a1", GoalID: "g1", Description: "udział w szkoleniu zawodowym", Responsible: domain.Party{Kind: domain.PartyClient}, Deadline: famDay(time.May, 31)},
			{ID: "a2", GoalID: "g2", Description: "zajęcia wyrównawcze", Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: f.school},
				Deadline: famDay(time.June, 30), ServiceID: f.tutoring},
			{ID: "a3", GoalID: "g1", Description: "monitoring sytuacji", Responsible: domain.Party{Kind: domain.PartyCoordinator}, Deadline: famDay(time.August, 31)},
		},
		ClientDuties: "udział w szkoleniu", CoordinatorDuties: "wsparcie i monitoring",
		StartDate: famDay(time.March, 1), EndDate: famDay(time.August, 31),
	}}
}

// drafted is the terms the default draft records: sectors filled in from
// the team.
func (f *famFix) drafted() domain.ContractTerms {
	t := f.draftCmd().ContractTerms
	t.Actions[1].Responsible.Sector = domain.SectorEducation
	t.Actions[2].Responsible.Sector = domain.SectorSocialAssistance
	return t
}

func (f *famFix) signCmd() domain.SignContract {
	return domain.SignContract{FamilyID: f.family, Date: famDay(time.March, 1), ClientID: f.applicant}
}

func (f *famFix) actionCmd(action string, status domain.ActionStatus) domain.UpdateAction {
	return domain.UpdateAction{FamilyID: f.family, ActionID: action, Status: status, Date: famDay(time.April, 15)}
}

func (f *famFix) endCmd() domain.EndContract {
	return domain.EndContract{FamilyID: f.family, Date: famDay(time.August, 31), Ending: domain.EndingGoalsMet}
}

func (f *famFix) closeCmd() domain.CloseCase {
	return domain.CloseCase{FamilyID: f.family, Date: famDay(time.September, 5), Outcome: domain.OutcomeGoalsAchieved}
}

// Stages of the case, for the history a case meets.

// consents records the family's consent to share basic data with PCPR,
// the school and the labour office.
func (f *famFix) consents() {
	f.tb.Helper()
	for _, inst := range []string{f.pcpr, f.school, f.pup} {
		c := f.consentCmd(inst)
		f.consentIDs[inst] = c.ConsentID
		f.must(c)
	}
}

// diagnosed records the consents, the inputs of MOPS and the school, and
// completes the diagnosis.
func (f *famFix) diagnosed() {
	f.tb.Helper()
	f.consents()
	f.must(f.inputCmd(f.coordinator))
	f.must(f.inputCmd(f.pedagogue))
	f.must(f.completeCmd())
}

// teamed forms the team of the coordinator, the pedagogue and the PCPR
// worker (the consents must be given).
func (f *famFix) teamed() {
	f.tb.Helper()
	f.must(f.formTeamCmd(f.pedagogue, f.pcprWorker))
}

// coordinatorTeam forms the team of the coordinator alone.
func (f *famFix) coordinatorTeam() { f.tb.Helper(); f.must(f.formTeamCmd()) }

// earlyTeam forms the team of the coordinator alone on the day the case
// opened, before any consent.
func (f *famFix) earlyTeam() {
	f.tb.Helper()
	c := f.formTeamCmd()
	c.Date = famDay(time.February, 1)
	f.must(c)
}

// inForce brings the case to a signed contract.
func (f *famFix) inForce() {
	f.tb.Helper()
	f.diagnosed()
	f.teamed()
	f.must(f.draftCmd())
	f.must(f.signCmd())
}

// closed brings the case to its close after the contract ended.
func (f *famFix) closed() {
	f.tb.Helper()
	f.inForce()
	f.must(f.endCmd())
	f.must(f.closeCmd())
}

// famCase is one command on the family fixture: the history it meets
// (given), the command (when), and either what it records on the aggregate
// it addresses (want, check) or the error it is refused with.
type famCase struct {
	name   string
	given  func(f *famFix)
	when   func(f *famFix) domain.Command
	reason string // the Meta.Reason of the command

	want  func(f *famFix) []domain.Event                        // the exact events
	check func(t *testing.T, f *famFix, envs []domain.Envelope) // further checks

	err   *domain.Error // the sentinel the error must match
	kind  error         // ErrInvalid, ErrNotFound or ErrConflict
	field string        // the Field of the *domain.Error
}

// runFamCases runs each case on a fresh fixture through Handler.Execute.
// On success: the events, all of one append, with the command's meta. On
// failure: the sentinel, the kind, the field, and that nothing was
// appended anywhere.
func runFamCases(t *testing.T, tests []famCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFamFix(t)
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
			require.True(t, tt.want != nil || tt.check != nil, "a succeeding case says what it records")
			envs := f.store.envelopes(t, aggregate, id)[history:]
			require.NotEmpty(t, envs)
			if tt.want != nil {
				assert.Equal(t, tt.want(f), payloads(envs))
			}
			if tt.check != nil {
				tt.check(t, f, envs)
			}
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

func TestFamilyPESEL(t *testing.T) {
	born1944 := domain.NewDate(1944, time.May, 14)
	tests := []struct {
		name  string
		pesel string
		ok    bool
	}{
		{"a PESEL of 1944 from the documentation", "44051401359", true},
		{"a computed PESEL of the 20th century", famPESEL(born1944, "0135"), true},
		{"a computed PESEL of the 21st century", famPESEL(domain.NewDate(2012, time.September, 3), "4567"), true},
		{"a computed PESEL of the 19th century", famPESEL(domain.NewDate(1899, time.December, 31), "0001"), true},
		{"a PESEL with a wrong check digit", "44051401358", false},
		{"a PESEL of ten digits", "4405140135", false},
		{"a PESEL with a letter", "44051401A59", false},
		{"a PESEL of 30 February with a valid check digit", famCheckDigit("4402300135"), false},
		{"a PESEL of a thirteenth month with a valid check digit", famCheckDigit("4413140135"), false},
	}

	assert.Equal(t, "44051401359", famPESEL(born1944, "0135"), "the helper computes the documented PESEL")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.CheckPESEL("pesel", tt.pesel)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, domain.ErrInvalidField)
			assert.ErrorIs(t, err, domain.ErrInvalid)
			var de *domain.Error
			if assert.ErrorAs(t, err, &de) {
				assert.Equal(t, "pesel", de.Field)
			}
		})
	}
}

func TestFamilyOpenCase(t *testing.T) {
	withHousehold := func(change func(f *famFix, h []domain.Person) []domain.Person) func(f *famFix) domain.Command {
		return func(f *famFix) domain.Command {
			c := f.openCmd()
			c.FamilyID = domain.IDFromKey("family-test/family/another")
			c.Household = change(f, c.Household)
			return c
		}
	}
	another := func(change func(f *famFix, c *domain.OpenFamilyCase)) func(f *famFix) domain.Command {
		return func(f *famFix) domain.Command {
			c := f.openCmd()
			c.FamilyID = domain.IDFromKey("family-test/family/another")
			change(f, &c)
			return c
		}
	}
	opened := func(change func(f *famFix, e *domain.FamilyCaseOpened)) func(f *famFix) []domain.Event {
		return func(f *famFix) []domain.Event {
			c := f.openCmd()
			e := domain.FamilyCaseOpened{PartnershipID: f.pzk, Household: c.Household, Address: c.Address, Phone: c.Phone,
				Referral: c.Referral, Coordinator: f.member(f.coordinator), OpenedOn: c.OpenedOn}
			if change != nil {
				change(f, &e)
			}
			return []domain.Event{e}
		}
	}
	grandmother := domain.Person{PersonID: domain.IDFromKey("family-test/person/zofia"), Name: "Zofia Kowalska",
		BirthDate: domain.NewDate(1944, time.May, 14), PESEL: "44051401359", Relation: domain.RelationParent}

	runFamCases(t, []famCase{
		{
			name: "open a case with the leader's social worker as coordinator",
			when: another(func(*famFix, *domain.OpenFamilyCase) {}),
			want: opened(nil),
		},
		{
			name: "open a case with a worker of the co-leader as coordinator",
			when: another(func(f *famFix, c *domain.OpenFamilyCase) { c.Coordinator = f.ref(f.pcprWorker) }),
			want: opened(func(f *famFix, e *domain.FamilyCaseOpened) { e.Coordinator = f.member(f.pcprWorker) }),
		},
		{
			name: "open a case with a valid PESEL of 1944 in the household",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person { return append(h, grandmother) }),
			want: opened(func(_ *famFix, e *domain.FamilyCaseOpened) { e.Household = append(e.Household, grandmother) }),
		},
		{
			name: "open a case of people without PESEL",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[0].PESEL, h[1].PESEL = "", ""
				return h
			}),
			want: opened(func(_ *famFix, e *domain.FamilyCaseOpened) { e.Household[0].PESEL, e.Household[1].PESEL = "", "" }),
		},
		{
			name: "open a case of a child born on the day of opening",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[1].BirthDate, h[1].PESEL = famDay(time.February, 1), famPESEL(famDay(time.February, 1), "0002")
				return h
			}),
			want: opened(func(_ *famFix, e *domain.FamilyCaseOpened) {
				e.Household[1].BirthDate, e.Household[1].PESEL = famDay(time.February, 1), famPESEL(famDay(time.February, 1), "0002")
			}),
		},
		{
			name: "open a case in a partnership that does not exist",
			when: another(func(_ *famFix, c *domain.OpenFamilyCase) {
				c.PartnershipID = domain.IDFromKey("family-test/partnership/none")
			}),
			err: domain.ErrPartnershipNotFound, kind: domain.ErrNotFound, field: "partnership_id",
		},
		{
			name: "open a case with a coordinator at a member that neither leads nor co-leads",
			when: another(func(f *famFix, c *domain.OpenFamilyCase) { c.Coordinator = f.ref(f.pedagogue) }),
			err:  domain.ErrCoordinatorInstitution, kind: domain.ErrConflict, field: "coordinator.institution_id",
		},
		{
			name: "open a case with a coordinator at an institution outside the partnership",
			when: another(func(f *famFix, c *domain.OpenFamilyCase) { c.Coordinator = f.ref(f.outsiderWorker) }),
			err:  domain.ErrCoordinatorInstitution, kind: domain.ErrConflict, field: "coordinator.institution_id",
		},
		{
			name: "open a case with a coordinator who does not work at the leader",
			when: another(func(f *famFix, c *domain.OpenFamilyCase) {
				c.Coordinator = domain.WorkerRef{WorkerID: f.pedagogue, InstitutionID: f.mops}
			}),
			err: domain.ErrWorkerNotFound, kind: domain.ErrNotFound, field: "coordinator.worker_id",
		},
		{
			name: "open a case referred by an institution that does not exist",
			when: another(func(f *famFix, c *domain.OpenFamilyCase) { c.Referral.InstitutionID = f.ghost }),
			err:  domain.ErrInstitutionNotFound, kind: domain.ErrNotFound, field: "referral.institution_id",
		},
		{
			name: "open a case that is already open",
			when: func(f *famFix) domain.Command { return f.openCmd() },
			err:  domain.ErrAlreadyExists, kind: domain.ErrConflict, field: "",
		},
		{
			name: "open a case without a household",
			when: withHousehold(func(*famFix, []domain.Person) []domain.Person { return nil }),
			err:  domain.ErrRequired, kind: domain.ErrInvalid, field: "household",
		},
		{
			name: "open a case without an applicant",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[0].Relation = domain.RelationPartner
				return h
			}),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "household",
		},
		{
			name: "open a case with two applicants",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[1].Relation = domain.RelationApplicant
				return h
			}),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "household",
		},
		{
			name: "open a case listing a person twice",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[1].PersonID = h[0].PersonID
				return h
			}),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "household[1].person_id",
		},
		{
			name: "open a case with a PESEL whose check digit is wrong",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				last := (h[0].PESEL[10]-'0'+1)%10 + '0'
				h[0].PESEL = h[0].PESEL[:10] + string(rune(last))
				return h
			}),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "household[0].pesel",
		},
		{
			name: "open a case with a PESEL whose birth date is not the person's",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[1].PESEL = famPESEL(domain.NewDate(2012, time.September, 4), "4567")
				return h
			}),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "household[1].pesel",
		},
		{
			name: "open a case with a PESEL of the right day in another century",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[1].PESEL = famPESEL(domain.NewDate(1912, time.September, 3), "4567")
				return h
			}),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "household[1].pesel",
		},
		{
			name: "open a case with a person born after the opening",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[1].BirthDate, h[1].PESEL = famDay(time.February, 2), ""
				return h
			}),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "household[1].birth_date",
		},
		{
			name: "open a case with a person born before 1900",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[0].BirthDate, h[0].PESEL = domain.NewDate(1899, time.December, 31), ""
				return h
			}),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "household[0].birth_date",
		},
		{
			name: "open a case with a relation that does not exist",
			when: withHousehold(func(_ *famFix, h []domain.Person) []domain.Person {
				h[1].Relation = "cousin"
				return h
			}),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "household[1].relation",
		},
		{
			name: "open a case without an opening date",
			when: another(func(_ *famFix, c *domain.OpenFamilyCase) { c.OpenedOn = domain.Date{} }),
			err:  domain.ErrRequired, kind: domain.ErrInvalid, field: "opened_on",
		},
		{
			name: "open a case without the reason of the referral",
			when: another(func(_ *famFix, c *domain.OpenFamilyCase) { c.Referral.Reason = " " }),
			err:  domain.ErrRequired, kind: domain.ErrInvalid, field: "referral.reason",
		},
	})
}

func TestFamilyConsent(t *testing.T) {
	withdraw := func(f *famFix) domain.Command {
		return domain.WithdrawConsent{FamilyID: f.family, ConsentID: f.consentIDs[f.school], WithdrawnOn: famDay(time.March, 1)}
	}
	runFamCases(t, []famCase{
		{
			name: "give consent to share basic and education data with the school",
			when: func(f *famFix) domain.Command {
				c := f.consentCmd(f.school, domain.DataBasic, domain.DataEducation)
				c.ConsentID = domain.IDFromKey("family-test/consent/school")
				c.ExpiresOn = famDay(time.December, 31)
				return c
			},
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.ConsentGiven{ConsentID: domain.IDFromKey("family-test/consent/school"), InstitutionID: f.school,
					Categories: []domain.DataCategory{domain.DataBasic, domain.DataEducation}, Purpose: "współpraca w zespole zadaniowym",
					LegalBasis: "art. 6 ust. 1 lit. a RODO", GivenBy: f.applicant, GivenOn: famDay(time.February, 5), ExpiresOn: famDay(time.December, 31)}}
			},
		},
		{
			name: "give consent to an institution outside the partnership",
			when: func(f *famFix) domain.Command { return f.consentCmd(f.outsider) },
			check: func(t *testing.T, _ *famFix, envs []domain.Envelope) {
				assert.Equal(t, "ConsentGiven", envs[0].Type)
			},
		},
		{
			name: "give consent in the name of a person outside the household",
			when: func(f *famFix) domain.Command {
				c := f.consentCmd(f.school)
				c.GivenBy = domain.IDFromKey("family-test/person/neighbour")
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "given_by",
		},
		{
			name: "give consent to an institution that does not exist",
			when: func(f *famFix) domain.Command { return f.consentCmd(f.ghost) },
			err:  domain.ErrInstitutionNotFound, kind: domain.ErrNotFound, field: "institution_id",
		},
		{
			name: "give consent that expires on the day it is given",
			when: func(f *famFix) domain.Command {
				c := f.consentCmd(f.school)
				c.ExpiresOn = c.GivenOn
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "expires_on",
		},
		{
			name: "give consent without a data category",
			when: func(f *famFix) domain.Command {
				c := f.consentCmd(f.school)
				c.Categories = nil
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "categories",
		},
		{
			name: "give consent to an unknown data category",
			when: func(f *famFix) domain.Command { return f.consentCmd(f.school, domain.DataBasic, "dna") },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "categories[1]",
		},
		{
			name: "give consent on a case that was never opened",
			when: func(f *famFix) domain.Command {
				c := f.consentCmd(f.school)
				c.FamilyID = domain.IDFromKey("family-test/family/none")
				return c
			},
			err: domain.ErrFamilyNotFound, kind: domain.ErrNotFound, field: "",
		},
		{
			name:  "withdraw a consent",
			given: func(f *famFix) { f.consents() },
			when:  withdraw,
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.ConsentWithdrawn{ConsentID: f.consentIDs[f.school], WithdrawnOn: famDay(time.March, 1)}}
			},
		},
		{
			name: "withdraw a consent that was never given",
			when: func(f *famFix) domain.Command {
				return domain.WithdrawConsent{FamilyID: f.family, ConsentID: domain.IDFromKey("family-test/consent/none"), WithdrawnOn: famDay(time.March, 1)}
			},
			err: domain.ErrConsentNotFound, kind: domain.ErrNotFound, field: "",
		},
		{
			name: "withdraw a consent twice",
			given: func(f *famFix) {
				f.consents()
				f.must(withdraw(f))
			},
			when: withdraw,
			err:  domain.ErrConsentNotFound, kind: domain.ErrNotFound, field: "",
		},
		{
			name: "record a legal basis without a reason",
			when: func(f *famFix) domain.Command { return f.legalBasisCmd(f.outsider) },
			err:  domain.ErrRequired, kind: domain.ErrInvalid, field: "reason",
		},
		{
			name:   "record a legal basis with a reason",
			when:   func(f *famFix) domain.Command { return f.legalBasisCmd(f.pup) },
			reason: "postanowienie sądu z 2024-02-06",
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.LegalBasisRecorded{InstitutionID: f.pup, Categories: []domain.DataCategory{domain.DataBasic},
					LegalBasis: "postanowienie sądu rodzinnego", RecordedOn: famDay(time.February, 6)}}
			},
		},
		{
			name:   "record a legal basis for an institution that does not exist",
			when:   func(f *famFix) domain.Command { return f.legalBasisCmd(f.ghost) },
			reason: "postanowienie sądu",
			err:    domain.ErrInstitutionNotFound, kind: domain.ErrNotFound, field: "institution_id",
		},
	})
}

func TestFamilyDiagnosis(t *testing.T) {
	runFamCases(t, []famCase{
		{
			name: "record the input of the coordinator's institution without any consent",
			when: func(f *famFix) domain.Command { return f.inputCmd(f.coordinator) },
			want: func(f *famFix) []domain.Event {
				c := f.inputCmd(f.coordinator)
				return []domain.Event{domain.DiagnosisInputRecorded{Area: c.Area, Severity: c.Severity, Needs: c.Needs, Strengths: c.Strengths,
					WorkerID: f.coordinator, InstitutionID: f.mops, Sector: domain.SectorSocialAssistance, Date: c.Date}}
			},
		},
		{
			name:  "record the input of a member the family consented to",
			given: func(f *famFix) { f.consents() },
			when:  func(f *famFix) domain.Command { return f.inputCmd(f.pedagogue) },
			check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
				e := envs[0].Payload.(domain.DiagnosisInputRecorded)
				assert.Equal(t, domain.SectorEducation, e.Sector)
				assert.Equal(t, f.pedagogue, e.WorkerID)
			},
		},
		{
			name:  "record the input of a member covered by a legal basis",
			given: func(f *famFix) { f.must(f.legalBasisCmd(f.pup)) },
			when:  func(f *famFix) domain.Command { return f.inputCmd(f.pupWorker) },
			check: func(t *testing.T, _ *famFix, envs []domain.Envelope) {
				assert.Equal(t, domain.SectorLabour, envs[0].Payload.(domain.DiagnosisInputRecorded).Sector)
			},
		},
		{
			name:  "record the input of a worker of an institution outside the partnership",
			given: func(f *famFix) { f.must(f.consentCmd(f.outsider)) },
			when:  func(f *famFix) domain.Command { return f.inputCmd(f.outsiderWorker) },
			err:   domain.ErrNotMember, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name: "record the input of a member without consent",
			when: func(f *famFix) domain.Command { return f.inputCmd(f.pedagogue) },
			err:  domain.ErrNoConsent, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "record the input of a member whose consent leaves out basic data",
			given: func(f *famFix) { f.must(f.consentCmd(f.school, domain.DataEducation)) },
			when:  func(f *famFix) domain.Command { return f.inputCmd(f.pedagogue) },
			err:   domain.ErrNoConsent, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "record the input before the consent was given",
			given: func(f *famFix) { f.consents() },
			when: func(f *famFix) domain.Command {
				c := f.inputCmd(f.pedagogue)
				c.Date = famDay(time.February, 4)
				return c
			},
			err: domain.ErrNoConsent, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name: "record the input of a worker who does not work at the institution",
			when: func(f *famFix) domain.Command {
				c := f.inputCmd(f.coordinator)
				c.WorkerID = f.pedagogue
				return c
			},
			err: domain.ErrWorkerNotFound, kind: domain.ErrNotFound, field: "worker_id",
		},
		{
			name: "record the input of an unknown need area",
			when: func(f *famFix) domain.Command {
				c := f.inputCmd(f.coordinator)
				c.Area = "astrology"
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "area",
		},
		{
			name: "complete the diagnosis without any input",
			when: func(f *famFix) domain.Command { return f.completeCmd() },
			err:  domain.ErrDiagnosisEmpty, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "complete the diagnosis",
			given: func(f *famFix) { f.must(f.inputCmd(f.coordinator)) },
			when:  func(f *famFix) domain.Command { return f.completeCmd() },
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.DiagnosisCompleted{Date: famDay(time.February, 20), Summary: "bezrobocie i trudności szkolne syna"}}
			},
		},
		{
			name:  "complete the diagnosis twice",
			given: func(f *famFix) { f.diagnosed() },
			when:  func(f *famFix) domain.Command { return f.completeCmd() },
			err:   domain.ErrDiagnosisCompleted, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "record input after the diagnosis is completed",
			given: func(f *famFix) { f.diagnosed() },
			when:  func(f *famFix) domain.Command { return f.inputCmd(f.coordinator) },
			err:   domain.ErrDiagnosisCompleted, kind: domain.ErrConflict, field: "",
		},
		{
			name: "record input on a case that was never opened",
			when: func(f *famFix) domain.Command {
				c := f.inputCmd(f.coordinator)
				c.FamilyID = domain.IDFromKey("family-test/family/none")
				return c
			},
			err: domain.ErrFamilyNotFound, kind: domain.ErrNotFound, field: "",
		},
	})
}

func TestFamilyTeam(t *testing.T) {
	// expiring: the school's consent holds until 2024-03-31; the team
	// is the coordinator alone.
	expiring := func(f *famFix) {
		c := f.consentCmd(f.school)
		c.ExpiresOn = famDay(time.March, 31)
		f.must(c)
		f.coordinatorTeam()
	}
	// withdrawn: the school's consent is withdrawn from 2024-03-15.
	withdrawn := func(f *famFix) {
		c := f.consentCmd(f.school)
		f.must(c)
		f.must(domain.WithdrawConsent{FamilyID: f.family, ConsentID: c.ConsentID, WithdrawnOn: famDay(time.March, 15)})
		f.coordinatorTeam()
	}
	teamOf := func(t *testing.T, f *famFix, workers ...string) {
		t.Helper()
		var want []domain.TeamMember
		for _, w := range workers {
			want = append(want, f.member(w))
		}
		assert.Equal(t, want, f.state().Team)
	}

	runFamCases(t, []famCase{
		{
			name:  "form the team with workers of members the family consented to",
			given: func(f *famFix) { f.consents() },
			when:  func(f *famFix) domain.Command { return f.formTeamCmd(f.pedagogue, f.pcprWorker) },
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.TeamFormed{Date: famDay(time.February, 21),
					Members: []domain.TeamMember{f.member(f.coordinator), f.member(f.pedagogue), f.member(f.pcprWorker)}}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				teamOf(t, f, f.coordinator, f.pedagogue, f.pcprWorker)
				assert.True(t, f.state().TeamFormed)
			},
		},
		{
			name: "form the team of the coordinator alone",
			when: func(f *famFix) domain.Command { return f.formTeamCmd() },
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.TeamFormed{Date: famDay(time.February, 21), Members: []domain.TeamMember{f.member(f.coordinator)}}}
			},
		},
		{
			name:  "form the team listing the coordinator after another member",
			given: func(f *famFix) { f.consents() },
			when:  func(f *famFix) domain.Command { return f.formTeamCmd(f.pupWorker, f.coordinator) },
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.TeamFormed{Date: famDay(time.February, 21),
					Members: []domain.TeamMember{f.member(f.coordinator), f.member(f.pupWorker)}}}
			},
		},
		{
			name:  "form the team with a worker of an institution outside the partnership",
			given: func(f *famFix) { f.consents(); f.must(f.consentCmd(f.outsider)) },
			when:  func(f *famFix) domain.Command { return f.formTeamCmd(f.pedagogue, f.outsiderWorker) },
			err:   domain.ErrNotMember, kind: domain.ErrConflict, field: "members[1].institution_id",
		},
		{
			name: "form the team with a member the family has not consented to",
			when: func(f *famFix) domain.Command { return f.formTeamCmd(f.pedagogue) },
			err:  domain.ErrNoConsent, kind: domain.ErrConflict, field: "members[0].institution_id",
		},
		{
			name: "form the team after the consent expired",
			given: func(f *famFix) {
				c := f.consentCmd(f.school)
				c.ExpiresOn = famDay(time.March, 31)
				f.must(c)
			},
			when: func(f *famFix) domain.Command {
				c := f.formTeamCmd(f.pedagogue)
				c.Date = famDay(time.April, 1)
				return c
			},
			err: domain.ErrNoConsent, kind: domain.ErrConflict, field: "members[0].institution_id",
		},
		{
			name:  "form the team with a worker who does not work at the institution",
			given: func(f *famFix) { f.consents() },
			when: func(f *famFix) domain.Command {
				c := f.formTeamCmd()
				c.Members = []domain.WorkerRef{{WorkerID: f.pupWorker, InstitutionID: f.school}}
				return c
			},
			err: domain.ErrWorkerNotFound, kind: domain.ErrNotFound, field: "members[0].worker_id",
		},
		{
			name:  "form the team listing a worker twice",
			given: func(f *famFix) { f.consents() },
			when:  func(f *famFix) domain.Command { return f.formTeamCmd(f.pedagogue, f.pedagogue) },
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "members[1].worker_id",
		},
		{
			name:  "form the team twice",
			given: func(f *famFix) { f.consents(); f.teamed() },
			when:  func(f *famFix) domain.Command { return f.formTeamCmd(f.pupWorker) },
			err:   domain.ErrTeamExists, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "add a member before the team is formed",
			given: func(f *famFix) { f.consents() },
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pupWorker, famDay(time.March, 1)) },
			err:   domain.ErrNoTeam, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "add a member",
			given: func(f *famFix) { f.consents(); f.teamed() },
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pupWorker, famDay(time.March, 1)) },
			want:  joinedOf(func(f *famFix) string { return f.pupWorker }, famDay(time.March, 1)),
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				teamOf(t, f, f.coordinator, f.pedagogue, f.pcprWorker, f.pupWorker)
			},
		},
		{
			name:  "add a member who is already on the team",
			given: func(f *famFix) { f.consents(); f.teamed() },
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pedagogue, famDay(time.March, 1)) },
			err:   domain.ErrAlreadyOnTeam, kind: domain.ErrConflict, field: "worker_id",
		},
		{
			name:  "add the coordinator again",
			given: func(f *famFix) { f.consents(); f.teamed() },
			when:  func(f *famFix) domain.Command { return f.addCmd(f.coordinator, famDay(time.March, 1)) },
			err:   domain.ErrAlreadyOnTeam, kind: domain.ErrConflict, field: "worker_id",
		},
		{
			name:  "add a worker of an institution outside the partnership",
			given: func(f *famFix) { f.consents(); f.teamed(); f.must(f.consentCmd(f.outsider)) },
			when:  func(f *famFix) domain.Command { return f.addCmd(f.outsiderWorker, famDay(time.March, 1)) },
			err:   domain.ErrNotMember, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "add a worker of a member the family has not consented to",
			given: func(f *famFix) { f.coordinatorTeam() },
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pupWorker, famDay(time.March, 1)) },
			err:   domain.ErrNoConsent, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "add a worker on the last day of the consent",
			given: expiring,
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pedagogue, famDay(time.March, 31)) },
			want:  joinedOf(func(f *famFix) string { return f.pedagogue }, famDay(time.March, 31)),
		},
		{
			name:  "add a worker the day after the consent expired",
			given: expiring,
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pedagogue, famDay(time.April, 1)) },
			err:   domain.ErrNoConsent, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "add a worker the day before the consent was withdrawn",
			given: withdrawn,
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pedagogue, famDay(time.March, 14)) },
			want:  joinedOf(func(f *famFix) string { return f.pedagogue }, famDay(time.March, 14)),
		},
		{
			name:  "add a worker on the day the consent was withdrawn",
			given: withdrawn,
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pedagogue, famDay(time.March, 15)) },
			err:   domain.ErrNoConsent, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "add a worker after the consent was withdrawn",
			given: withdrawn,
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pedagogue, famDay(time.June, 1)) },
			err:   domain.ErrNoConsent, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "add a worker before the consent was given",
			given: func(f *famFix) { f.earlyTeam(); f.must(f.consentCmd(f.school)) },
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pedagogue, famDay(time.February, 4)) },
			err:   domain.ErrNoConsent, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:  "add a worker of a member covered by a legal basis",
			given: func(f *famFix) { f.earlyTeam(); f.must(f.legalBasisCmd(f.pup)) },
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pupWorker, famDay(time.February, 6)) },
			want:  joinedOf(func(f *famFix) string { return f.pupWorker }, famDay(time.February, 6)),
		},
		{
			name:  "add a worker before the legal basis was recorded",
			given: func(f *famFix) { f.earlyTeam(); f.must(f.legalBasisCmd(f.pup)) },
			when:  func(f *famFix) domain.Command { return f.addCmd(f.pupWorker, famDay(time.February, 5)) },
			err:   domain.ErrNoConsent, kind: domain.ErrConflict, field: "institution_id",
		},
		{
			name:   "remove a member with a reason",
			given:  func(f *famFix) { f.consents(); f.teamed() },
			when:   func(f *famFix) domain.Command { return f.removeCmd(f.pcprWorker) },
			reason: "zmiana pracy",
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.TeamMemberLeft{WorkerID: f.pcprWorker, Date: famDay(time.April, 1)}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				teamOf(t, f, f.coordinator, f.pedagogue)
			},
		},
		{
			name:  "remove a member without a reason",
			given: func(f *famFix) { f.consents(); f.teamed() },
			when:  func(f *famFix) domain.Command { return f.removeCmd(f.pcprWorker) },
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "reason",
		},
		{
			name:   "remove the coordinator",
			given:  func(f *famFix) { f.consents(); f.teamed() },
			when:   func(f *famFix) domain.Command { return f.removeCmd(f.coordinator) },
			reason: "urlop",
			err:    domain.ErrCoordinatorCannotLeave, kind: domain.ErrConflict, field: "worker_id",
		},
		{
			name:   "remove a worker who is not on the team",
			given:  func(f *famFix) { f.consents(); f.teamed() },
			when:   func(f *famFix) domain.Command { return f.removeCmd(f.pupWorker) },
			reason: "pomyłka",
			err:    domain.ErrNotOnTeam, kind: domain.ErrConflict, field: "worker_id",
		},
		{
			name: "add a member again after they left",
			given: func(f *famFix) {
				f.consents()
				f.teamed()
				f.must(f.removeCmd(f.pcprWorker))
			},
			when: func(f *famFix) domain.Command { return f.addCmd(f.pcprWorker, famDay(time.May, 1)) },
			want: joinedOf(func(f *famFix) string { return f.pcprWorker }, famDay(time.May, 1)),
		},
		{
			name:  "record a meeting of team members",
			given: func(f *famFix) { f.consents(); f.teamed() },
			when: func(f *famFix) domain.Command {
				c := f.meetingCmd(f.coordinator, f.pedagogue)
				c.MeetingID = domain.IDFromKey("family-test/team-meeting/first")
				return c
			},
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.TeamMeetingRecorded{MeetingID: domain.IDFromKey("family-test/team-meeting/first"), Date: famDay(time.February, 22),
					Attendees: []string{f.coordinator, f.pedagogue}, Decisions: []string{"skierować na szkolenie"}}}
			},
		},
		{
			name:  "record a meeting with an attendee who is not on the team",
			given: func(f *famFix) { f.consents(); f.teamed() },
			when:  func(f *famFix) domain.Command { return f.meetingCmd(f.coordinator, f.pedagogue, f.pupWorker) },
			err:   domain.ErrNotOnTeam, kind: domain.ErrConflict, field: "attendees[2]",
		},
		{
			name:  "record a meeting with a worker of an institution outside the partnership",
			given: func(f *famFix) { f.consents(); f.teamed() },
			when:  func(f *famFix) domain.Command { return f.meetingCmd(f.outsiderWorker, f.coordinator) },
			err:   domain.ErrNotOnTeam, kind: domain.ErrConflict, field: "attendees[0]",
		},
		{
			name: "record a meeting with a member who has left",
			given: func(f *famFix) {
				f.consents()
				f.teamed()
				f.must(f.removeCmd(f.pcprWorker))
			},
			when: func(f *famFix) domain.Command { return f.meetingCmd(f.coordinator, f.pcprWorker) },
			err:  domain.ErrNotOnTeam, kind: domain.ErrConflict, field: "attendees[1]",
		},
		{
			name: "record a meeting before the team is formed",
			when: func(f *famFix) domain.Command { return f.meetingCmd(f.coordinator) },
			err:  domain.ErrNoTeam, kind: domain.ErrConflict, field: "",
		},
	})
}

// joinedOf is the TeamMemberJoined of a worker of the fixture.
func joinedOf(worker func(f *famFix) string, on domain.Date) func(f *famFix) []domain.Event {
	return func(f *famFix) []domain.Event {
		return []domain.Event{domain.TeamMemberJoined{Member: f.member(worker(f)), Date: on}}
	}
}

// refer refers the family to a service and returns the referral's id.
func (f *famFix) refer(service string) string {
	f.tb.Helper()
	c := f.referralCmd(service)
	f.must(c)
	return c.ReferralID
}

// referred refers the family to the labour office's training (the
// consents given) and moves the referral through the statuses given.
func (f *famFix) referred(statuses ...domain.ReferralStatus) string {
	f.tb.Helper()
	f.consents()
	id := f.refer(f.training)
	for _, s := range statuses {
		f.must(f.updateReferralCmd(id, s))
	}
	return id
}

func TestFamilyReferral(t *testing.T) {
	fixed := domain.IDFromKey("family-test/referral/fixed")
	// update moves the referral of the given history to a status.
	update := func(status domain.ReferralStatus, history ...domain.ReferralStatus) (func(*famFix), func(*famFix) domain.Command) {
		var id string
		return func(f *famFix) { id = f.referred(history...) },
			func(f *famFix) domain.Command { return f.updateReferralCmd(id, status) }
	}
	accept, acceptCmd := update(domain.ReferralAcceptedStatus)
	decline, declineCmd := update(domain.ReferralDeclinedStatus)
	declineNoReason, declineNoReasonCmd := update(domain.ReferralDeclinedStatus)
	complete, completeCmd := update(domain.ReferralCompletedStatus, domain.ReferralAcceptedStatus)
	completeRequested, completeRequestedCmd := update(domain.ReferralCompletedStatus)
	acceptAccepted, acceptAcceptedCmd := update(domain.ReferralAcceptedStatus, domain.ReferralAcceptedStatus)
	declineAccepted, declineAcceptedCmd := update(domain.ReferralDeclinedStatus, domain.ReferralAcceptedStatus)
	acceptDeclined, acceptDeclinedCmd := update(domain.ReferralAcceptedStatus, domain.ReferralDeclinedStatus)
	acceptCompleted, acceptCompletedCmd := update(domain.ReferralAcceptedStatus, domain.ReferralAcceptedStatus, domain.ReferralCompletedStatus)
	completeCompleted, completeCompletedCmd := update(domain.ReferralCompletedStatus, domain.ReferralAcceptedStatus, domain.ReferralCompletedStatus)
	completeDeclined, completeDeclinedCmd := update(domain.ReferralCompletedStatus, domain.ReferralDeclinedStatus)
	requested, requestedCmd := update(domain.ReferralRequestedStatus)

	statusOf := func(t *testing.T, f *famFix, status domain.ReferralStatus) {
		t.Helper()
		st := f.state()
		require.Len(t, st.Referrals, 1)
		for _, r := range st.Referrals {
			assert.Equal(t, status, r.Status)
		}
	}

	runFamCases(t, []famCase{
		{
			name:  "refer the family to a service of a member the family consented to",
			given: func(f *famFix) { f.consents() },
			when: func(f *famFix) domain.Command {
				c := f.referralCmd(f.training)
				c.ReferralID, c.Note = fixed, "pilne"
				return c
			},
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.ReferralRequested{ReferralID: fixed, ServiceID: f.training, ServiceName: "szkolenie zawodowe",
					InstitutionID: f.pup, Date: famDay(time.March, 5), Note: "pilne"}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) { statusOf(t, f, domain.ReferralRequestedStatus) },
		},
		{
			name: "refer the family to a service of the coordinator's institution without any consent",
			when: func(f *famFix) domain.Command { return f.referralCmd(f.welfare) },
			check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
				assert.Equal(t, f.mops, envs[0].Payload.(domain.ReferralRequested).InstitutionID)
			},
		},
		{
			name:  "refer the family to a service of a member covered by a legal basis",
			given: func(f *famFix) { f.must(f.legalBasisCmd(f.pup)) },
			when:  func(f *famFix) domain.Command { return f.referralCmd(f.training) },
			check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
				assert.Equal(t, f.training, envs[0].Payload.(domain.ReferralRequested).ServiceID)
			},
		},
		{
			name:  "refer the family to another service while a referral is active",
			given: func(f *famFix) { f.referred(domain.ReferralAcceptedStatus) },
			when:  func(f *famFix) domain.Command { return f.referralCmd(f.counselling) },
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) { assert.Len(t, f.state().Referrals, 2) },
		},
		{
			name:  "refer the family to a service that is not in the basket",
			given: func(f *famFix) { f.consents() },
			when:  func(f *famFix) domain.Command { return f.referralCmd(domain.IDFromKey("family-test/service/none")) },
			err:   domain.ErrServiceNotFound, kind: domain.ErrNotFound, field: "service_id",
		},
		{
			name:  "refer the family to a withdrawn service",
			given: func(f *famFix) { f.consents() },
			when:  func(f *famFix) domain.Command { return f.referralCmd(f.withdrawn) },
			err:   domain.ErrServiceNotFound, kind: domain.ErrNotFound, field: "service_id",
		},
		{
			name: "refer the family without consent for the institution providing the service",
			when: func(f *famFix) domain.Command { return f.referralCmd(f.training) },
			err:  domain.ErrNoConsent, kind: domain.ErrConflict, field: "service_id",
		},
		{
			name: "refer the family after the consent was withdrawn",
			given: func(f *famFix) {
				f.consents()
				f.must(domain.WithdrawConsent{FamilyID: f.family, ConsentID: f.consentIDs[f.pup], WithdrawnOn: famDay(time.March, 1)})
			},
			when: func(f *famFix) domain.Command { return f.referralCmd(f.training) },
			err:  domain.ErrNoConsent, kind: domain.ErrConflict, field: "service_id",
		},
		{
			name:  "refer the family again while the first referral is requested",
			given: func(f *famFix) { f.referred() },
			when:  func(f *famFix) domain.Command { return f.referralCmd(f.training) },
			err:   domain.ErrAlreadyExists, kind: domain.ErrConflict, field: "service_id",
		},
		{
			name:  "refer the family again while the first referral is accepted",
			given: func(f *famFix) { f.referred(domain.ReferralAcceptedStatus) },
			when:  func(f *famFix) domain.Command { return f.referralCmd(f.training) },
			err:   domain.ErrAlreadyExists, kind: domain.ErrConflict, field: "service_id",
		},
		{
			name:  "refer the family again after the first referral was declined",
			given: func(f *famFix) { f.referred(domain.ReferralDeclinedStatus) },
			when:  func(f *famFix) domain.Command { return f.referralCmd(f.training) },
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) { assert.Len(t, f.state().Referrals, 2) },
		},
		{
			name:  "refer the family again after the first referral was completed",
			given: func(f *famFix) { f.referred(domain.ReferralAcceptedStatus, domain.ReferralCompletedStatus) },
			when:  func(f *famFix) domain.Command { return f.referralCmd(f.training) },
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) { assert.Len(t, f.state().Referrals, 2) },
		},
		{
			name:  "accept a requested referral",
			given: accept,
			when:  acceptCmd,
			check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
				assert.Equal(t, "ReferralAccepted", envs[0].Type)
				statusOf(t, f, domain.ReferralAcceptedStatus)
			},
		},
		{
			name:   "decline a requested referral with a reason",
			given:  decline,
			when:   declineCmd,
			reason: "brak miejsc",
			check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
				assert.Equal(t, "ReferralDeclined", envs[0].Type)
				statusOf(t, f, domain.ReferralDeclinedStatus)
			},
		},
		{
			name:  "decline a requested referral without a reason",
			given: declineNoReason,
			when:  declineNoReasonCmd,
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "reason",
		},
		{
			name:  "complete an accepted referral",
			given: complete,
			when:  completeCmd,
			check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
				c := completeCmd(f).(domain.UpdateReferral)
				assert.Equal(t, []domain.Event{domain.ReferralCompleted{ReferralID: c.ReferralID, Date: c.Date}}, payloads(envs))
				statusOf(t, f, domain.ReferralCompletedStatus)
			},
		},
		{
			name: "complete a requested referral", given: completeRequested, when: completeRequestedCmd,
			err: domain.ErrReferralTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "accept an accepted referral", given: acceptAccepted, when: acceptAcceptedCmd,
			err: domain.ErrReferralTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "decline an accepted referral", given: declineAccepted, when: declineAcceptedCmd, reason: "rezygnacja",
			err: domain.ErrReferralTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "accept a declined referral", given: acceptDeclined, when: acceptDeclinedCmd,
			err: domain.ErrReferralTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "complete a declined referral", given: completeDeclined, when: completeDeclinedCmd,
			err: domain.ErrReferralTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "accept a completed referral", given: acceptCompleted, when: acceptCompletedCmd,
			err: domain.ErrReferralTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "complete a completed referral", given: completeCompleted, when: completeCompletedCmd,
			err: domain.ErrReferralTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "move a referral back to requested", given: requested, when: requestedCmd,
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "status",
		},
		{
			name: "update a referral that does not exist",
			when: func(f *famFix) domain.Command { return f.updateReferralCmd(fixed, domain.ReferralAcceptedStatus) },
			err:  domain.ErrReferralNotFound, kind: domain.ErrNotFound, field: "",
		},
	})
}

func TestFamilyContractDraft(t *testing.T) {
	prepared := func(f *famFix) { f.consents(); f.teamed() }
	draftWith := func(change func(f *famFix, c *domain.DraftContract)) func(f *famFix) domain.Command {
		return func(f *famFix) domain.Command {
			c := f.draftCmd()
			c.Goals = append([]domain.Goal(nil), c.Goals...)
			c.Actions = append([]domain.Action(nil), c.Actions...)
			change(f, &c)
			return c
		}
	}
	autoID := regexp.MustCompile(`^a[0-9]+-[0-9a-f]{8}$`)

	runFamCases(t, []famCase{
		{
			name:  "draft a contract",
			given: prepared,
			when:  func(f *famFix) domain.Command { return f.draftCmd() },
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.ContractDrafted{Version: 1, Terms: f.drafted()}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				c := f.state().Contract
				require.NotNil(t, c)
				assert.Equal(t, 1, c.Version)
				assert.False(t, c.Signed)
				assert.Equal(t, map[string]domain.ActionStatus{"a1": domain.ActionStatusPlanned, "a2": domain.ActionStatusPlanned, "a3": domain.ActionStatusPlanned}, c.Actions)
			},
		},
		{
			name:  "draft a contract whose actions have no ids",
			given: prepared,
			when: draftWith(func(_ *famFix, c *domain.DraftContract) {
				for i := range c.Actions {
					c.Actions[i].ID = ""
				}
			}),
			check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
				e := envs[0].Payload.(domain.ContractDrafted)
				seen := map[string]bool{}
				for _, a := range e.Terms.Actions {
					assert.Regexp(t, autoID, a.ID)
					assert.False(t, seen[a.ID], "action id %s is unique", a.ID)
					seen[a.ID] = true
				}
				assert.Len(t, f.state().Contract.Actions, 3)
			},
		},
		{
			name: "draft a contract of client actions before the team is formed",
			when: draftWith(func(_ *famFix, c *domain.DraftContract) { c.Actions = c.Actions[:1] }),
			check: func(t *testing.T, _ *famFix, envs []domain.Envelope) {
				assert.Equal(t, 1, envs[0].Payload.(domain.ContractDrafted).Version)
			},
		},
		{
			name:  "draft a contract again: the new draft replaces the old one with the next version",
			given: func(f *famFix) { prepared(f); f.must(f.draftCmd()) },
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.Actions = c.Actions[:1] }),
			want: func(f *famFix) []domain.Event {
				t := f.drafted()
				t.Actions = t.Actions[:1]
				return []domain.Event{domain.ContractDrafted{Version: 2, Terms: t}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				st := f.state()
				assert.Equal(t, 2, st.Contract.Version)
				assert.Equal(t, 2, st.Versions)
				assert.Equal(t, map[string]domain.ActionStatus{"a1": domain.ActionStatusPlanned}, st.Contract.Actions)
			},
		},
		{
			name:  "draft an action for an institution not on the team",
			given: prepared,
			when: draftWith(func(f *famFix, c *domain.DraftContract) {
				c.Actions[1].Responsible.InstitutionID, c.Actions[1].ServiceID = f.pup, f.training
			}),
			err: domain.ErrInstitutionNotOnTeam, kind: domain.ErrConflict, field: "actions[1].responsible.institution_id",
		},
		{
			name:  "draft an action for an institution whose worker left the team",
			given: func(f *famFix) { prepared(f); f.must(f.removeCmd(f.pedagogue)) },
			when:  func(f *famFix) domain.Command { return f.draftCmd() },
			err:   domain.ErrInstitutionNotOnTeam, kind: domain.ErrConflict, field: "actions[1].responsible.institution_id",
		},
		{
			name:  "draft an action whose deadline is after the contract's end",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.Actions[2].Deadline = famDay(time.September, 1) }),
			err:   domain.ErrDeadlineOutsideContract, kind: domain.ErrInvalid, field: "actions[2].deadline",
		},
		{
			name:  "draft an action whose deadline is before the contract's start",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.Actions[0].Deadline = famDay(time.February, 29) }),
			err:   domain.ErrDeadlineOutsideContract, kind: domain.ErrInvalid, field: "actions[0].deadline",
		},
		{
			name:  "draft an action for a goal that is not in the contract",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.Actions[0].GoalID = "g9" }),
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "actions[0].goal_id",
		},
		{
			name:  "draft an action that names no goal",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.Actions[1].GoalID = "" }),
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "actions[1].goal_id",
		},
		{
			name:  "draft a goal without an id",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.Goals[1].ID = "" }),
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "goals[1].id",
		},
		{
			name:  "draft a contract without goals",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.Goals = nil }),
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "goals",
		},
		{
			name:  "draft a contract that ends before it starts",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.EndDate = famDay(time.February, 1) }),
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "end_date",
		},
		{
			name:  "draft an action with a withdrawn service",
			given: prepared,
			when:  draftWith(func(f *famFix, c *domain.DraftContract) { c.Actions[0].ServiceID = f.withdrawn }),
			err:   domain.ErrServiceNotFound, kind: domain.ErrNotFound, field: "actions[0].service_id",
		},
		{
			name:  "draft an action with a service that is not in the basket",
			given: prepared,
			when: draftWith(func(_ *famFix, c *domain.DraftContract) {
				c.Actions[1].ServiceID = domain.IDFromKey("family-test/service/none")
			}),
			err: domain.ErrServiceNotFound, kind: domain.ErrNotFound, field: "actions[1].service_id",
		},
		{
			name:  "draft a contract with changes when none is in force",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.Changes = "zmiana terminu" }),
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "changes",
		},
		{
			name:  "draft a contract with a signing date when none is in force",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.SignedOn = famDay(time.March, 1) }),
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "changes",
		},
		{
			name:  "draft an action with a sector of its own",
			given: prepared,
			when:  draftWith(func(_ *famFix, c *domain.DraftContract) { c.Actions[1].Responsible.Sector = domain.SectorHealth }),
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "actions[1].responsible.sector",
		},
	})
}

func TestFamilyContractSignAndAmend(t *testing.T) {
	amendCmd := func(f *famFix) domain.DraftContract {
		c := f.draftCmd()
		c.Actions = []domain.Action{c.Actions[0], c.Actions[1],
			{ID: "a4", GoalID: "g2", Description: "kontrola frekwencji", Responsible: domain.Party{Kind: domain.PartyClient}, Deadline: famDay(time.July, 31)}}
		c.Actions[1].Deadline = famDay(time.July, 15)
		c.Changes, c.SignedOn = "zajęcia wyrównawcze przedłużone, nowe działanie a4", famDay(time.May, 1)
		return c
	}
	amended := func(f *famFix) domain.ContractTerms {
		t := amendCmd(f).ContractTerms
		t.Actions[1].Responsible.Sector = domain.SectorEducation
		return t
	}
	progressed := func(f *famFix) {
		f.inForce()
		f.must(f.actionCmd("a1", domain.ActionStatusStarted))
		f.must(f.actionCmd("a2", domain.ActionStatusCompleted))
		f.must(f.actionCmd("a3", domain.ActionStatusMissed))
	}

	runFamCases(t, []famCase{
		{
			name:  "sign the draft",
			given: func(f *famFix) { f.diagnosed(); f.teamed(); f.must(f.draftCmd()) },
			when:  func(f *famFix) domain.Command { return f.signCmd() },
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.ContractSigned{Version: 1, Date: famDay(time.March, 1), ClientID: f.applicant}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				c := f.state().Contract
				assert.True(t, c.InForce())
				assert.Equal(t, famDay(time.March, 1), c.SignedOn)
			},
		},
		{
			name:  "sign before the diagnosis is completed",
			given: func(f *famFix) { f.consents(); f.must(f.inputCmd(f.coordinator)); f.teamed(); f.must(f.draftCmd()) },
			when:  func(f *famFix) domain.Command { return f.signCmd() },
			err:   domain.ErrDiagnosisNotCompleted, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "sign without a draft",
			given: func(f *famFix) { f.diagnosed() },
			when:  func(f *famFix) domain.Command { return f.signCmd() },
			err:   domain.ErrNoContract, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "sign by someone who is not in the household",
			given: func(f *famFix) { f.diagnosed(); f.teamed(); f.must(f.draftCmd()) },
			when: func(f *famFix) domain.Command {
				c := f.signCmd()
				c.ClientID = domain.IDFromKey("family-test/person/neighbour")
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "client_id",
		},
		{
			name:  "sign twice",
			given: func(f *famFix) { f.inForce() },
			when:  func(f *famFix) domain.Command { return f.signCmd() },
			err:   domain.ErrNoContract, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "sign a contract that has ended",
			given: func(f *famFix) { f.inForce(); f.must(f.endCmd()) },
			when:  func(f *famFix) domain.Command { return f.signCmd() },
			err:   domain.ErrNoContract, kind: domain.ErrConflict, field: "",
		},
		{
			name:   "draft while the contract is signed, without changes, signing date or reason",
			given:  func(f *famFix) { f.inForce() },
			when:   func(f *famFix) domain.Command { return f.draftCmd() },
			reason: "",
			err:    domain.ErrRequired, kind: domain.ErrInvalid, field: "changes",
		},
		{
			name:  "amend without the changes",
			given: func(f *famFix) { f.inForce() },
			when: func(f *famFix) domain.Command {
				c := amendCmd(f)
				c.Changes = ""
				return c
			},
			reason: "zmiana sytuacji",
			err:    domain.ErrRequired, kind: domain.ErrInvalid, field: "changes",
		},
		{
			name:  "amend without the signing date",
			given: func(f *famFix) { f.inForce() },
			when: func(f *famFix) domain.Command {
				c := amendCmd(f)
				c.SignedOn = domain.Date{}
				return c
			},
			reason: "zmiana sytuacji",
			err:    domain.ErrRequired, kind: domain.ErrInvalid, field: "signed_on",
		},
		{
			name:  "amend without a reason",
			given: func(f *famFix) { f.inForce() },
			when:  func(f *famFix) domain.Command { return amendCmd(f) },
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "reason",
		},
		{
			name:   "amend with an action for an institution not on the team",
			given:  func(f *famFix) { f.inForce() },
			reason: "zmiana sytuacji",
			when: func(f *famFix) domain.Command {
				c := amendCmd(f)
				c.Actions[2].Responsible = domain.Party{Kind: domain.PartyInstitution, InstitutionID: f.pup}
				return c
			},
			err: domain.ErrInstitutionNotOnTeam, kind: domain.ErrConflict, field: "actions[2].responsible.institution_id",
		},
		{
			name:   "amend a signed contract: the next version, kept actions keep their status",
			given:  progressed,
			when:   func(f *famFix) domain.Command { return amendCmd(f) },
			reason: "zmiana sytuacji rodziny",
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.ContractAmended{Version: 2, Terms: amended(f),
					Changes: "zajęcia wyrównawcze przedłużone, nowe działanie a4", SignedOn: famDay(time.May, 1)}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				st := f.state()
				c := st.Contract
				assert.Equal(t, 2, c.Version)
				assert.Equal(t, 2, st.Versions)
				assert.True(t, c.InForce(), "an amendment keeps the contract in force")
				assert.Equal(t, famDay(time.March, 1), c.SignedOn, "the contract's signing date stays")
				assert.Equal(t, amended(f), c.Terms)
				assert.Equal(t, map[string]domain.ActionStatus{
					"a1": domain.ActionStatusStarted,
					"a2": domain.ActionStatusCompleted,
					"a4": domain.ActionStatusPlanned,
				}, c.Actions)
			},
		},
		{
			name:   "amend an amended contract",
			given:  func(f *famFix) { progressed(f); f.must(amendCmd(f)) },
			when:   func(f *famFix) domain.Command { return amendCmd(f) },
			reason: "kolejny aneks",
			check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
				assert.Equal(t, 3, envs[0].Payload.(domain.ContractAmended).Version)
				assert.Equal(t, domain.ActionStatusStarted, f.state().Contract.Actions["a1"])
			},
		},
	})
}

func TestFamilyContractActions(t *testing.T) {
	// after brings the contract in force and moves action a1 through the
	// statuses given.
	after := func(statuses ...domain.ActionStatus) func(f *famFix) {
		return func(f *famFix) {
			f.inForce()
			for _, s := range statuses {
				f.must(f.actionCmd("a1", s))
			}
		}
	}
	moved := func(status domain.ActionStatus) func(t *testing.T, f *famFix, envs []domain.Envelope) {
		return func(t *testing.T, f *famFix, _ []domain.Envelope) {
			assert.Equal(t, status, f.state().Contract.Actions["a1"])
		}
	}
	a1 := func(status domain.ActionStatus) func(f *famFix) domain.Command {
		return func(f *famFix) domain.Command { return f.actionCmd("a1", status) }
	}
	note := func(f *famFix) domain.Command {
		c := f.actionCmd("a1", domain.ActionStatusStarted)
		c.Note = "zapisany na kurs"
		return c
	}

	runFamCases(t, []famCase{
		{
			name: "start a planned action", given: after(), when: note,
			want: func(*famFix) []domain.Event {
				return []domain.Event{domain.ActionStarted{ActionID: "a1", Date: famDay(time.April, 15), Note: "zapisany na kurs"}}
			},
			check: moved(domain.ActionStatusStarted),
		},
		{
			name: "complete a started action", given: after(domain.ActionStatusStarted), when: a1(domain.ActionStatusCompleted),
			want: func(*famFix) []domain.Event {
				return []domain.Event{domain.ActionCompleted{ActionID: "a1", Date: famDay(time.April, 15)}}
			},
			check: moved(domain.ActionStatusCompleted),
		},
		{
			name: "complete a planned action", given: after(), when: a1(domain.ActionStatusCompleted),
			check: moved(domain.ActionStatusCompleted),
		},
		{
			name: "miss a planned action", given: after(), when: a1(domain.ActionStatusMissed),
			want: func(*famFix) []domain.Event {
				return []domain.Event{domain.ActionMissed{ActionID: "a1", Date: famDay(time.April, 15)}}
			},
			check: moved(domain.ActionStatusMissed),
		},
		{
			name: "miss a started action", given: after(domain.ActionStatusStarted), when: a1(domain.ActionStatusMissed),
			check: moved(domain.ActionStatusMissed),
		},
		{
			name: "start a completed action", given: after(domain.ActionStatusCompleted), when: a1(domain.ActionStatusStarted),
			err: domain.ErrActionTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "start a started action", given: after(domain.ActionStatusStarted), when: a1(domain.ActionStatusStarted),
			err: domain.ErrActionTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "complete a completed action", given: after(domain.ActionStatusCompleted), when: a1(domain.ActionStatusCompleted),
			err: domain.ErrActionTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "complete a missed action", given: after(domain.ActionStatusMissed), when: a1(domain.ActionStatusCompleted),
			err: domain.ErrActionTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "miss a completed action", given: after(domain.ActionStatusCompleted), when: a1(domain.ActionStatusMissed),
			err: domain.ErrActionTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "start a missed action", given: after(domain.ActionStatusMissed), when: a1(domain.ActionStatusStarted),
			err: domain.ErrActionTransition, kind: domain.ErrConflict, field: "status",
		},
		{
			name: "move an action back to planned", given: after(domain.ActionStatusStarted), when: a1(domain.ActionStatusPlanned),
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "status",
		},
		{
			name: "start an action that is not in the contract", given: after(),
			when: func(f *famFix) domain.Command { return f.actionCmd("a9", domain.ActionStatusStarted) },
			err:  domain.ErrActionNotFound, kind: domain.ErrNotFound, field: "",
		},
		{
			name:  "start an action of an unsigned draft",
			given: func(f *famFix) { f.diagnosed(); f.teamed(); f.must(f.draftCmd()) },
			when:  a1(domain.ActionStatusStarted),
			err:   domain.ErrNoContract, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "start an action of a contract that has ended",
			given: func(f *famFix) { f.inForce(); f.must(f.endCmd()) },
			when:  a1(domain.ActionStatusStarted),
			err:   domain.ErrNoContract, kind: domain.ErrConflict, field: "",
		},
		{
			name: "start an action that an amendment removed",
			given: func(f *famFix) {
				f.inForce()
				c := f.draftCmd()
				c.Actions = c.Actions[1:]
				c.Changes, c.SignedOn = "bez a1", famDay(time.April, 1)
				f.must(c)
			},
			when: a1(domain.ActionStatusStarted),
			err:  domain.ErrActionNotFound, kind: domain.ErrNotFound, field: "",
		},
	})
}

func TestFamilyContractReviewExtendEnd(t *testing.T) {
	review := func(f *famFix) domain.ReviewContract {
		return domain.ReviewContract{FamilyID: f.family, Date: famDay(time.May, 15), Notes: "postępy",
			Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.PartiallyAchieved}, {GoalID: "g2", Achievement: domain.Achieved}}}
	}
	extend := func(f *famFix, to domain.Date) domain.Command {
		return domain.ExtendContract{FamilyID: f.family, EndDate: to}
	}
	end := func(change func(c *domain.EndContract)) func(f *famFix) domain.Command {
		return func(f *famFix) domain.Command {
			c := f.endCmd()
			change(&c)
			return c
		}
	}
	inForce := func(f *famFix) { f.inForce() }

	runFamCases(t, []famCase{
		{
			name: "review the contract", given: inForce,
			when: func(f *famFix) domain.Command { return review(f) },
			want: func(f *famFix) []domain.Event {
				r := review(f)
				return []domain.Event{domain.ContractReviewed{Date: r.Date, Goals: r.Goals, Notes: r.Notes}}
			},
		},
		{
			name: "review a goal that is not in the contract", given: inForce,
			when: func(f *famFix) domain.Command {
				r := review(f)
				r.Goals[1].GoalID = "g9"
				return r
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "goals[1].goal_id",
		},
		{
			name: "review with an unknown achievement", given: inForce,
			when: func(f *famFix) domain.Command {
				r := review(f)
				r.Goals[0].Achievement = "perfect"
				return r
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "goals[0].achievement",
		},
		{
			name:  "review an unsigned draft",
			given: func(f *famFix) { f.diagnosed(); f.teamed(); f.must(f.draftCmd()) },
			when:  func(f *famFix) domain.Command { return review(f) },
			err:   domain.ErrNoContract, kind: domain.ErrConflict, field: "",
		},
		{
			name: "extend the contract", given: inForce,
			when: func(f *famFix) domain.Command { return extend(f, famDay(time.October, 31)) },
			want: func(*famFix) []domain.Event {
				return []domain.Event{domain.ContractExtended{EndDate: famDay(time.October, 31)}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				assert.Equal(t, famDay(time.October, 31), f.state().Contract.Terms.EndDate)
			},
		},
		{
			name: "extend the contract to an earlier date", given: inForce,
			when: func(f *famFix) domain.Command { return extend(f, famDay(time.July, 31)) },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "end_date",
		},
		{
			name: "extend the contract to its current end date", given: inForce,
			when: func(f *famFix) domain.Command { return extend(f, famDay(time.August, 31)) },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "end_date",
		},
		{
			name:  "extend when no contract is in force",
			given: func(f *famFix) { f.diagnosed() },
			when:  func(f *famFix) domain.Command { return extend(f, famDay(time.October, 31)) },
			err:   domain.ErrNoContract, kind: domain.ErrConflict, field: "",
		},
		{
			name: "end the contract with its goals met", given: inForce,
			when: end(func(*domain.EndContract) {}),
			want: func(*famFix) []domain.Event {
				return []domain.Event{domain.ContractEnded{Date: famDay(time.August, 31), Ending: domain.EndingGoalsMet}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				c := f.state().Contract
				assert.True(t, c.Ended)
				assert.False(t, c.InForce())
			},
		},
		{
			name: "end the contract on the day it was signed", given: inForce,
			when:  end(func(c *domain.EndContract) { c.Date, c.Ending = famDay(time.March, 1), domain.EndingClientWithdrew }),
			check: func(t *testing.T, _ *famFix, envs []domain.Envelope) { assert.Equal(t, "ContractEnded", envs[0].Type) },
		},
		{
			name: "end the contract because the client broke it, without a sanction", given: inForce,
			when: end(func(c *domain.EndContract) { c.Ending = domain.EndingClientBroke }),
			err:  domain.ErrRequired, kind: domain.ErrInvalid, field: "sanction",
		},
		{
			name: "end the contract because the client broke it, with a sanction", given: inForce,
			when: end(func(c *domain.EndContract) {
				c.Ending, c.Sanction = domain.EndingClientBroke, "odmowa zasiłku celowego"
			}),
			want: func(*famFix) []domain.Event {
				return []domain.Event{domain.ContractEnded{Date: famDay(time.August, 31), Ending: domain.EndingClientBroke, Sanction: "odmowa zasiłku celowego"}}
			},
		},
		{
			name: "end the contract before the day it was signed", given: inForce,
			when: end(func(c *domain.EndContract) { c.Date = famDay(time.February, 29) }),
			err:  domain.ErrDateOutOfOrder, kind: domain.ErrInvalid, field: "date",
		},
		{
			name: "end the contract with an unknown ending", given: inForce,
			when: end(func(c *domain.EndContract) { c.Ending = "vanished" }),
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "ending",
		},
		{
			name:  "end the contract twice",
			given: func(f *famFix) { f.inForce(); f.must(f.endCmd()) },
			when:  end(func(*domain.EndContract) {}),
			err:   domain.ErrNoContract, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "end an unsigned draft",
			given: func(f *famFix) { f.diagnosed(); f.teamed(); f.must(f.draftCmd()) },
			when:  end(func(*domain.EndContract) {}),
			err:   domain.ErrNoContract, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "draft a new contract after the previous one ended",
			given: func(f *famFix) { f.inForce(); f.must(f.endCmd()) },
			when:  func(f *famFix) domain.Command { return f.draftCmd() },
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.ContractDrafted{Version: 2, Terms: f.drafted()}}
			},
		},
	})
}

func TestFamilyClose(t *testing.T) {
	reopen := func(f *famFix) domain.Command {
		return domain.ReopenCase{FamilyID: f.family, Date: famDay(time.October, 1)}
	}
	tests := []famCase{
		{
			name:  "close the case while the contract is in force",
			given: func(f *famFix) { f.inForce() },
			when:  func(f *famFix) domain.Command { return f.closeCmd() },
			err:   domain.ErrContractInForce, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "close the case after the contract ended: the team is dissolved in the same append",
			given: func(f *famFix) { f.inForce(); f.must(f.endCmd()) },
			when:  func(f *famFix) domain.Command { return f.closeCmd() },
			want: func(*famFix) []domain.Event {
				return []domain.Event{
					domain.CaseClosed{Date: famDay(time.September, 5), Outcome: domain.OutcomeGoalsAchieved},
					domain.TeamDissolved{Date: famDay(time.September, 5)},
				}
			},
			check: func(t *testing.T, f *famFix, envs []domain.Envelope) {
				require.Len(t, envs, 2)
				assert.Equal(t, envs[0].Sequence, envs[1].Sequence, "one message, one stream sequence")
				assert.Equal(t, envs[0].CommandID, envs[1].CommandID)
				assert.Equal(t, envs[0].AggregateVersion+1, envs[1].AggregateVersion)
				st := f.state()
				assert.True(t, st.Closed)
				assert.False(t, st.TeamFormed)
				assert.Empty(t, st.Team)
			},
		},
		{
			name:  "close the case before any team was formed",
			given: func(f *famFix) { f.diagnosed() },
			when: func(f *famFix) domain.Command {
				c := f.closeCmd()
				c.Outcome = domain.OutcomeMovedAway
				return c
			},
			want: func(*famFix) []domain.Event {
				return []domain.Event{domain.CaseClosed{Date: famDay(time.September, 5), Outcome: domain.OutcomeMovedAway}}
			},
		},
		{
			name:  "close the case with an unsigned draft",
			given: func(f *famFix) { f.diagnosed(); f.teamed(); f.must(f.draftCmd()) },
			when:  func(f *famFix) domain.Command { return f.closeCmd() },
			check: func(t *testing.T, _ *famFix, envs []domain.Envelope) {
				assert.Equal(t, []string{"CaseClosed", "TeamDissolved"}, []string{envs[0].Type, envs[1].Type})
			},
		},
		{
			name: "close the case with an unknown outcome",
			when: func(f *famFix) domain.Command {
				c := f.closeCmd()
				c.Outcome = "lost"
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "outcome",
		},
		{
			name:  "open a closed case again",
			given: func(f *famFix) { f.closed() },
			when:  func(f *famFix) domain.Command { return f.openCmd() },
			err:   domain.ErrAlreadyExists, kind: domain.ErrConflict, field: "",
		},
		{
			name:  "reopen a closed case without a reason",
			given: func(f *famFix) { f.closed() },
			when:  reopen,
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "reason",
		},
		{
			name:   "reopen a case that is open",
			given:  func(f *famFix) { f.inForce() },
			when:   reopen,
			reason: "ponowny wniosek",
			err:    domain.ErrCaseOpen, kind: domain.ErrConflict, field: "",
		},
		{
			name:   "reopen a case that was reopened",
			given:  func(f *famFix) { f.closed(); f.must(reopen(f)) },
			when:   reopen,
			reason: "ponowny wniosek",
			err:    domain.ErrCaseOpen, kind: domain.ErrConflict, field: "",
		},
		{
			name: "reopen a case that was never opened",
			when: func(*famFix) domain.Command {
				return domain.ReopenCase{FamilyID: domain.IDFromKey("family-test/family/none"), Date: famDay(time.October, 1)}
			},
			reason: "ponowny wniosek",
			err:    domain.ErrFamilyNotFound, kind: domain.ErrNotFound, field: "",
		},
		{
			name:   "reopen a closed case with a reason: a new round begins",
			given:  func(f *famFix) { f.closed() },
			when:   reopen,
			reason: "ponowny wniosek rodziny",
			want: func(*famFix) []domain.Event {
				return []domain.Event{domain.CaseReopened{Date: famDay(time.October, 1)}}
			},
			check: func(t *testing.T, f *famFix, _ []domain.Envelope) {
				st := f.state()
				assert.False(t, st.Closed)
				assert.False(t, st.Diagnosed)
				assert.Zero(t, st.Inputs)
				assert.Nil(t, st.Contract)
				assert.False(t, st.TeamFormed)
				assert.Equal(t, 1, st.Versions, "contract versions go on counting")
				assert.Len(t, st.Consents, 3, "consents outlive the round")
			},
		},
	}

	// Every command but ReopenCase is refused on a closed case.
	onClosed := []struct {
		what string
		cmd  func(f *famFix) domain.Command
	}{
		{"give consent", func(f *famFix) domain.Command { return f.consentCmd(f.outsider) }},
		{"withdraw consent", func(f *famFix) domain.Command {
			return domain.WithdrawConsent{FamilyID: f.family, ConsentID: f.consentIDs[f.pup], WithdrawnOn: famDay(time.October, 1)}
		}},
		{"record a legal basis", func(f *famFix) domain.Command { return f.legalBasisCmd(f.outsider) }},
		{"record diagnosis input", func(f *famFix) domain.Command { return f.inputCmd(f.coordinator) }},
		{"complete the diagnosis", func(f *famFix) domain.Command { return f.completeCmd() }},
		{"form the team", func(f *famFix) domain.Command { return f.formTeamCmd() }},
		{"add a team member", func(f *famFix) domain.Command { return f.addCmd(f.pupWorker, famDay(time.October, 1)) }},
		{"remove a team member", func(f *famFix) domain.Command { return f.removeCmd(f.pedagogue) }},
		{"record a team meeting", func(f *famFix) domain.Command { return f.meetingCmd(f.coordinator) }},
		{"request a referral", func(f *famFix) domain.Command { return f.referralCmd(f.welfare) }},
		{"update a referral", func(f *famFix) domain.Command {
			return f.updateReferralCmd(domain.IDFromKey("family-test/referral/any"), domain.ReferralAcceptedStatus)
		}},
		{"draft a contract", func(f *famFix) domain.Command { return f.draftCmd() }},
		{"sign the contract", func(f *famFix) domain.Command { return f.signCmd() }},
		{"update an action", func(f *famFix) domain.Command { return f.actionCmd("a1", domain.ActionStatusStarted) }},
		{"review the contract", func(f *famFix) domain.Command {
			return domain.ReviewContract{FamilyID: f.family, Date: famDay(time.October, 1),
				Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.Achieved}}}
		}},
		{"extend the contract", func(f *famFix) domain.Command {
			return domain.ExtendContract{FamilyID: f.family, EndDate: famDay(time.December, 31)}
		}},
		{"end the contract", func(f *famFix) domain.Command { return f.endCmd() }},
		{"close the case", func(f *famFix) domain.Command { return f.closeCmd() }},
	}
	for _, c := range onClosed {
		tests = append(tests, famCase{
			name:   c.what + " on a closed case",
			given:  func(f *famFix) { f.closed() },
			when:   c.cmd,
			reason: "uzasadnienie",
			err:    domain.ErrCaseClosed, kind: domain.ErrConflict, field: "",
		})
	}
	runFamCases(t, tests)
}

// TestFamilyLifecycle walks one family through two rounds of support:
// open, consent, diagnosis, team, referral, contract, amendment, end,
// close; then reopen and a new diagnosis, team and contract.
func TestFamilyLifecycle(t *testing.T) {
	f := newFamFix(t)
	ctx := context.Background()
	refused := func(cmd domain.Command, reason string, sentinel *domain.Error) {
		t.Helper()
		before := f.store.total()
		_, err := f.h.Execute(ctx, cmd, f.meta(reason), domain.AnyVersion)
		require.ErrorIs(t, err, sentinel)
		require.Equal(t, before, f.store.total(), "a refused command appends nothing")
	}

	st := f.state()
	assert.True(t, st.Exists())
	assert.Equal(t, f.pzk, st.PartnershipID)
	assert.Equal(t, f.member(f.coordinator), st.Coordinator)
	assert.Equal(t, f.household, st.Household)

	// Round one.
	f.diagnosed()
	f.teamed()
	training := f.refer(f.training)
	f.must(f.updateReferralCmd(training, domain.ReferralAcceptedStatus))
	f.must(f.draftCmd())
	f.must(f.signCmd())
	f.must(f.actionCmd("a1", domain.ActionStatusStarted))
	refused(f.closeCmd(), "", domain.ErrContractInForce)
	f.must(f.updateReferralCmd(training, domain.ReferralCompletedStatus))
	f.must(f.actionCmd("a1", domain.ActionStatusCompleted))
	f.must(f.endCmd())
	res := f.must(f.closeCmd())
	envs := f.store.envelopes(t, domain.AggregateFamily, f.family)
	last := envs[len(envs)-2:]
	assert.Equal(t, []string{"CaseClosed", "TeamDissolved"}, []string{last[0].Type, last[1].Type})
	assert.Equal(t, []uint64{res.Sequence, res.Sequence}, []uint64{last[0].Sequence, last[1].Sequence})
	assert.Equal(t, last[1].AggregateVersion, res.Version)
	refused(f.inputCmd(f.coordinator), "", domain.ErrCaseClosed)

	// Round two.
	refused(domain.ReopenCase{FamilyID: f.family, Date: famDay(time.October, 1)}, "", domain.ErrRequired)
	f.must(domain.ReopenCase{FamilyID: f.family, Date: famDay(time.October, 1)})
	second := func(d domain.Date) domain.Date { return domain.NewDate(2025, d.Time().Month(), d.Time().Day()) }
	draft := f.draftCmd()
	draft.StartDate, draft.EndDate = second(draft.StartDate), second(draft.EndDate)
	for i := range draft.Actions {
		draft.Actions[i].Deadline = second(draft.Actions[i].Deadline)
	}
	refused(draft, "", domain.ErrInstitutionNotOnTeam) // the team was dissolved
	refused(f.completeCmd(), "", domain.ErrDiagnosisEmpty)
	input := f.inputCmd(f.pedagogue) // the consent of round one still holds
	input.Date = famDay(time.October, 2)
	f.must(input)
	form := f.formTeamCmd(f.pedagogue)
	form.Date = famDay(time.October, 3)
	f.must(form)
	f.must(draft)
	refused(domain.SignContract{FamilyID: f.family, Date: second(famDay(time.March, 1)), ClientID: f.applicant}, "", domain.ErrDiagnosisNotCompleted)
	f.must(domain.CompleteDiagnosis{FamilyID: f.family, Date: famDay(time.October, 10)})
	f.must(domain.SignContract{FamilyID: f.family, Date: second(famDay(time.March, 1)), ClientID: f.applicant})
	f.must(f.referralCmd(f.counselling))
	refused(f.referralCmd(f.counselling), "", domain.ErrAlreadyExists)

	st = f.state()
	assert.False(t, st.Closed)
	assert.True(t, st.Diagnosed)
	assert.Equal(t, 1, st.Inputs)
	assert.True(t, st.Contract.InForce())
	assert.Equal(t, 2, st.Contract.Version, "the contract of the second round is version 2")
	assert.Equal(t, map[string]domain.ActionStatus{"a1": domain.ActionStatusPlanned, "a2": domain.ActionStatusPlanned, "a3": domain.ActionStatusPlanned},
		st.Contract.Actions, "actions of the new contract start planned")
	assert.Equal(t, []domain.TeamMember{f.member(f.coordinator), f.member(f.pedagogue)}, st.Team)
	assert.Len(t, st.Referrals, 2)

	var types []string
	for _, env := range f.store.envelopes(t, domain.AggregateFamily, f.family) {
		types = append(types, env.Type)
	}
	assert.Equal(t, []string{
		"FamilyCaseOpened", "ConsentGiven", "ConsentGiven", "ConsentGiven",
		"DiagnosisInputRecorded", "DiagnosisInputRecorded", "DiagnosisCompleted", "TeamFormed",
		"ReferralRequested", "ReferralAccepted", "ContractDrafted", "ContractSigned", "ActionStarted",
		"ReferralCompleted", "ActionCompleted", "ContractEnded", "CaseClosed", "TeamDissolved",
		"CaseReopened", "DiagnosisInputRecorded", "TeamFormed", "ContractDrafted", "DiagnosisCompleted",
		"ContractSigned", "ReferralRequested",
	}, types)
}

// TestFamilyStaffSupport records forms of support for the staff of the
// family's partnership.
func TestFamilyStaffSupport(t *testing.T) {
	support := func(change func(f *famFix, c *domain.RecordStaffSupport)) func(f *famFix) domain.Command {
		return func(f *famFix) domain.Command {
			c := domain.RecordStaffSupport{PartnershipID: f.pzk, ActivityID: domain.IDFromKey("family-test/staff-support/1"),
				Kind: domain.SupportTraining, Date: famDay(time.April, 10), Topic: "praca z rodziną w kryzysie",
				Institutions: []string{f.mops, f.school}, Workers: []string{f.coordinator, f.pedagogue}, Hours: 6}
			change(f, &c)
			return c
		}
	}
	runFamCases(t, []famCase{
		{
			name: "record a cross-sector training of member institutions",
			when: support(func(*famFix, *domain.RecordStaffSupport) {}),
			want: func(f *famFix) []domain.Event {
				return []domain.Event{domain.StaffSupportRecorded{ActivityID: domain.IDFromKey("family-test/staff-support/1"),
					Kind: domain.SupportTraining, Date: famDay(time.April, 10), Topic: "praca z rodziną w kryzysie",
					Institutions: []string{f.mops, f.school}, Workers: []string{f.coordinator, f.pedagogue}, Hours: 6}}
			},
		},
		{
			name: "record staff support with an institution outside the partnership",
			when: support(func(f *famFix, c *domain.RecordStaffSupport) { c.Institutions = []string{f.outsider, f.mops} }),
			err:  domain.ErrNotMember, kind: domain.ErrConflict, field: "institutions[0]",
		},
		{
			name: "record staff support with a member and then a non-member",
			when: support(func(f *famFix, c *domain.RecordStaffSupport) { c.Institutions = []string{f.mops, f.ghost} }),
			err:  domain.ErrNotMember, kind: domain.ErrConflict, field: "institutions[1]",
		},
		{
			name: "record staff support before the partnership was initiated",
			when: support(func(_ *famFix, c *domain.RecordStaffSupport) { c.Date = famDay(time.January, 9) }),
			err:  domain.ErrDateBeforeInitiation, kind: domain.ErrInvalid, field: "date",
		},
		{
			name: "record staff support without institutions",
			when: support(func(_ *famFix, c *domain.RecordStaffSupport) { c.Institutions = nil }),
			err:  domain.ErrRequired, kind: domain.ErrInvalid, field: "institutions",
		},
		{
			name: "record staff support of an unknown kind",
			when: support(func(_ *famFix, c *domain.RecordStaffSupport) { c.Kind = "party" }),
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "kind",
		},
		{
			name: "record staff support in a partnership that does not exist",
			when: support(func(_ *famFix, c *domain.RecordStaffSupport) {
				c.PartnershipID = domain.IDFromKey("family-test/partnership/none")
			}),
			err: domain.ErrPartnershipNotFound, kind: domain.ErrNotFound, field: "",
		},
	})
}
