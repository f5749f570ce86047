package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
)

// The living families: besides the story of 2019–2021 (demo_families.go),
// the demo writes a few invented families whose cases run up to the day
// the demo is first loaded into a data directory, its anchor. Their dates
// are days before the anchor (and deadlines and contract end dates days
// after it), so that on that day the pages look like a working
// partnership: cases opened through the last years up to a few weeks ago,
// contracts in force with actions due this month and the next weeks, a few
// overdue, referrals awaiting an answer, recent team meetings and a case
// closed a few days ago.
//
// The anchor is not stored apart: it is read back from the first living
// family's opening, which is written first and lies a fixed number of days
// before the anchor (demoLivingFamilies[0].openedAgo). So a later load of
// the same data directory, on any day, finds the same anchor and, with
// command ids derived from the families' keys, writes nothing new; a fresh
// data directory gets today as its anchor. Everything is generated from a
// fixed seed, so two anchors give the same families shifted in time.

// demoNow is the clock whose day (in Poland) becomes the anchor of a fresh
// data directory; tests set it.
var demoNow = time.Now

// demoLivingKind is how far a living family has come by the anchor.
type demoLivingKind int

const (
	livingOpened    demoLivingKind = iota // consents given
	livingDiagnosis                       // diagnosis in progress
	livingTeam                            // task team formed, referrals awaiting an answer
	livingInForce                         // contract in force
	livingClosed                          // contract ended with its goals met, case closed
)

// demoLivingFamily is one living family: its partnership, its story (a
// demoProfiles key), its coordinator (an index into the partnership's
// coordinators), how far it has come and how many days before the anchor
// its case opened.
type demoLivingFamily struct {
	partnership string
	profile     string
	coordinator int
	kind        demoLivingKind
	openedAgo   int
}

// demoLivingFamilies are the living families; most are in Sieradz, led by
// the demo coordinator (coordinator 0, Marta Testowa), with the demo
// pedagogue on the teams of the families whose children go to school.
// The first one dates the anchor: keep it first and keep its openedAgo.
var demoLivingFamilies = []demoLivingFamily{
	{"pzk-sieradz", "bezrobocie", 0, livingInForce, 200},
	{"pzk-sieradz", "opieka", 0, livingInForce, 130},
	{"pzk-sieradz", "uzaleznienie", 0, livingInForce, 320},
	{"pzk-sieradz", "przemoc", 0, livingInForce, 95},
	{"pzk-sieradz", "niepelnosprawnosc", 1, livingInForce, 430},
	{"pzk-sieradz", "zdrowie", 0, livingTeam, 45},
	{"pzk-sieradz", "opieka", 0, livingDiagnosis, 18},
	{"pzk-sieradz", "bezrobocie", 2, livingOpened, 9},
	{"pzk-sieradz", "uzaleznienie", 0, livingClosed, 410},
	{"pzk-sieradz", "przemoc", 0, livingClosed, 760},
	{"pzk-piotrkow", "zdrowie", 0, livingInForce, 150},
	{"pzk-piotrkow", "przemoc", 1, livingTeam, 40},
	{"pzk-radomsko", "uzaleznienie", 0, livingInForce, 180},
	{"pzk-radomsko", "zdrowie", 1, livingDiagnosis, 25},
	{"pzk-zdw", "niepelnosprawnosc", 0, livingInForce, 240},
	{"pzk-zdw", "przemoc", 1, livingOpened, 12},
}

// demoLivingKey is the key of the n-th living family (from 0), from which
// its ids and its commands' ids derive.
func demoLivingKey(n int) string {
	return fmt.Sprintf("living/%s/%02d", demoLivingFamilies[n].partnership, n+1)
}

// demoAnchor is the anchor of the living families in a data directory:
// read back from the first living family's opening when it is recorded,
// else today in Poland.
func demoAnchor(ctx context.Context, store domain.Store, now time.Time) (domain.Date, error) {
	envs, err := store.Load(ctx, domain.AggregateFamily, demoID("family", demoLivingKey(0)))
	if err != nil {
		return domain.Date{}, fmt.Errorf("demo anchor: %w", err)
	}
	for _, e := range envs {
		if o, ok := e.Payload.(domain.FamilyCaseOpened); ok {
			return addDays(o.OpenedOn, demoLivingFamilies[0].openedAgo), nil
		}
	}
	return api.DefaultAsOf(now), nil
}

// loadDemoLiving writes the living families, dated from the anchor of the
// data directory. A family whose last command is recorded already is
// skipped, as in loadDemoFamilies.
func loadDemoLiving(ctx context.Context, store domain.Store, run demoRunAs, now time.Time) error {
	anchor, err := demoAnchor(ctx, store, now)
	if err != nil {
		return err
	}
	fams, err := demoLivingSteps(anchor)
	if err != nil {
		return err
	}
	for n, steps := range fams {
		key := demoLivingKey(n)
		envs, err := store.Load(ctx, domain.AggregateFamily, demoID("family", key))
		if err != nil {
			return fmt.Errorf("demo family %s: %w", key, err)
		}
		lastID := demoID("command", "family/"+key+"/"+steps[len(steps)-1].key)
		if slices.ContainsFunc(envs, func(e domain.Envelope) bool { return e.CommandID == lastID }) {
			continue
		}
		for j, s := range steps {
			occurred := s.date.Time().Add(9*time.Hour + time.Duration(j)*time.Minute)
			if err := run("family/"+key+"/"+s.key, demoActor(s.by), s.cmd, occurred, s.reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoLivingSteps generates the living families' histories for an anchor,
// each in the order of its business dates, none on or after the anchor.
func demoLivingSteps(anchor domain.Date) ([][]demoStep, error) {
	g := &demoGen{r: rand.New(rand.NewPCG(2024, 1206)), names: map[string]bool{}, endings: map[int]int{}}
	for _, w := range demoWorkers {
		g.names[w.name] = true // no one in a family shares a worker's name
	}
	var out [][]demoStep
	for n, lf := range demoLivingFamilies {
		i := slices.IndexFunc(demoPartnerships, func(p demoPartnership) bool { return p.slug == lf.partnership })
		j := slices.IndexFunc(demoProfiles, func(p demoProfile) bool { return p.key == lf.profile })
		if i < 0 || j < 0 {
			return nil, fmt.Errorf("demo living family %d: no partnership %s or profile %s", n+1, lf.partnership, lf.profile)
		}
		steps := g.living(demoPartnerships[i], demoLivingKey(n), n, demoProfiles[j], lf, anchor)
		slices.SortStableFunc(steps, func(a, b demoStep) int { return a.date.Time().Compare(b.date.Time()) })
		opened := addDays(anchor, -lf.openedAgo)
		for _, s := range steps {
			if s.date.Before(opened) || !s.date.Before(anchor) {
				return nil, fmt.Errorf("demo living family %s: %s on %s is outside %s – the day before %s", demoLivingKey(n), s.key, s.date, opened, anchor)
			}
		}
		out = append(out, steps)
	}
	return out, nil
}

// living generates the history of the n-th living family up to the day
// before the anchor.
func (g *demoGen) living(p demoPartnership, key string, n int, prof demoProfile, lf demoLivingFamily, anchor domain.Date) []demoStep {
	pool := demoPools[p.slug]
	fid := demoID("family", key)
	coord := pool.coordinators[lf.coordinator%len(pool.coordinators)]
	coordRef := demoMember{slot: coord}.ref()
	var members []demoMember
	for k, role := range demoAvailable(prof, pool) {
		slots := pool.roles[role]
		slot := slots[(n+k)%len(slots)]
		if role == "szkola" {
			slot = slots[0] // the demo pedagogue, who signs in
		}
		members = append(members, demoMember{role: role, slot: slot})
	}
	var steps []demoStep
	var terms domain.ContractTerms
	add := func(d domain.Date, k string, cmd domain.Command, reason string) {
		if c, ok := cmd.(domain.DraftContract); ok {
			terms = c.ContractTerms
		}
		steps = append(steps, demoStep{date: d, key: k, cmd: cmd, reason: reason, by: takenBy(key, cmd, coord, pool.assistant, members, terms)})
	}
	day := func(ago int) domain.Date { return addDays(anchor, -ago) }
	opened := day(lf.openedAgo)

	// The household, as in demo_families.go.
	surname := demoSurnames[g.r.IntN(len(demoSurnames))]
	female := prof.female || g.r.IntN(3) > 0
	given := demoMaleNames
	if female {
		given = demoFemaleNames
	}
	age := g.days(26, 44)
	applicant := domain.Person{PersonID: demoID("person", key, "1"), Name: g.person(female, surname, given), BirthDate: g.birth(opened, age), Relation: domain.RelationApplicant}
	household := []domain.Person{applicant}
	if prof.partner || (!prof.single && g.r.IntN(2) == 0) {
		pgiven := demoFemaleNames
		if female {
			pgiven = demoMaleNames
		}
		household = append(household, domain.Person{PersonID: demoID("person", key, "2"), Name: g.person(!female, surname, pgiven),
			BirthDate: g.birth(opened, age+g.days(-3, 4)), Relation: domain.RelationSpouse})
	}
	for c := range max(1, prof.minChildren) + g.r.IntN(2) {
		girl := g.r.IntN(2) == 0
		names := demoBoys
		if girl {
			names = demoGirls
		}
		household = append(household, domain.Person{PersonID: demoID("person", key, fmt.Sprint(c+3)), Name: g.person(girl, surname, names),
			BirthDate: g.birth(opened, g.days(7, 14)-3*c), Relation: domain.RelationChild})
	}
	referrer := demoID("institution", p.leader)
	for _, role := range slices.Backward(prof.referrers) {
		if i := slices.IndexFunc(members, func(m demoMember) bool { return m.role == role }); i >= 0 {
			referrer = demoID("institution", members[i].slot.inst)
		}
	}
	address := fmt.Sprintf("%s %d/%d, %s", g.pick(demoStreets), g.days(1, 60), g.days(1, 40), p.municipality)
	add(opened, "open", domain.OpenFamilyCase{FamilyID: fid, PartnershipID: demoID("partnership", p.slug), Household: household, Address: address,
		Referral: domain.ReferralSource{InstitutionID: referrer, Reason: prof.referral}, Coordinator: coordRef, OpenedOn: opened},
		"przyjęcie rodziny do wsparcia w modelu Kooperacje 3D")

	// Consents for the whole cooperation; the probation officer works on
	// the court's order.
	cons := addDays(opened, 2)
	demoConsents(add, fid, key, coord, members, applicant.PersonID, cons, domain.Date{})
	if lf.kind == livingOpened {
		return steps
	}

	// The diagnosis: the coordinator's view and each sector's, two days apart.
	inputs := members
	if lf.kind == livingDiagnosis {
		inputs = members[:min(len(members), 1)]
	}
	last := addDays(cons, 2)
	add(last, "input/coordinator", domain.RecordDiagnosisInput{FamilyID: fid, Area: domain.AreaIncome, Severity: g.severity(),
		Needs: "Niewystarczający dochód rodziny; korzystanie ze świadczeń pomocy społecznej.", Strengths: "Rodzina współpracuje z pracownikiem socjalnym.",
		WorkerID: coordRef.WorkerID, InstitutionID: coordRef.InstitutionID, Date: last}, "wywiad środowiskowy i diagnoza potrzeb")
	for i, m := range inputs {
		last = addDays(last, 2)
		role := demoRoles[m.role]
		ref := m.ref()
		add(last, fmt.Sprintf("input/%d", i+1), domain.RecordDiagnosisInput{FamilyID: fid, Area: role.area, Severity: g.severity(), Needs: role.needs,
			Strengths: role.strengths, WorkerID: ref.WorkerID, InstitutionID: ref.InstitutionID, Date: last}, "wkład sektora do diagnozy potrzeb")
	}
	if lf.kind == livingDiagnosis {
		return steps
	}
	diagnosed := addDays(last, 3)
	add(diagnosed, "diagnosis", domain.CompleteDiagnosis{FamilyID: fid, Date: diagnosed, Summary: prof.summary}, "diagnoza potrzeb zakończona")

	// The task team and its first meeting.
	formed := addDays(diagnosed, 3)
	team := []domain.WorkerRef{}
	attendees := []string{coordRef.WorkerID}
	for _, m := range members {
		ref := m.ref()
		if !slices.ContainsFunc(team, func(o domain.WorkerRef) bool { return o.WorkerID == ref.WorkerID }) {
			team = append(team, ref)
			attendees = append(attendees, ref.WorkerID)
		}
	}
	add(formed, "team", domain.FormTeam{FamilyID: fid, Date: formed, Members: team}, "powołanie Zadaniowego Zespołu Kooperacyjnego")
	met := addDays(formed, 2)
	add(met, "meeting/1", domain.RecordTeamMeeting{FamilyID: fid, MeetingID: demoID("team-meeting", key, "1"), Date: met, Attendees: attendees,
		Decisions: []string{"Przyjęcie wyników diagnozy potrzeb", "Podział zadań między kooperantów"},
		NextSteps: []string{"Przygotowanie projektu kontraktu socjalnego z rodziną"}}, "protokół spotkania ZZK")

	// Referrals to up to three of the team's basket services: before a
	// contract, all awaiting an answer; with a contract in force, the
	// first taken up (and, in a case long under way, completed), the
	// others sent a few days before the anchor and awaiting an answer, so
	// the institutions' task lists have work; a closed case's all taken up.
	var services []demoSlot
	for _, m := range members {
		if demoRoles[m.role].refer && m.slot.service != "" && !slices.Contains(services, m.slot) {
			services = append(services, m.slot)
		}
	}
	for i, s := range services[:min(len(services), 3)] {
		rid := demoID("referral", key, s.inst, s.service)
		k := fmt.Sprintf("referral/%d", i+1)
		requested := addDays(met, 2)
		awaiting := lf.kind == livingTeam || (lf.kind == livingInForce && i > 0)
		if awaiting {
			requested = maxDate(requested, day(2+(n+i)%6))
		}
		add(requested, k+"/request", domain.RequestReferral{FamilyID: fid, ReferralID: rid, ServiceID: demoID("service", p.slug, s.inst, s.service),
			Date: requested, Note: "Skierowanie uzgodnione na spotkaniu ZZK"}, "skierowanie do usługi z lokalnego koszyka usług")
		if awaiting {
			continue
		}
		add(addDays(requested, 4), k+"/accept", domain.UpdateReferral{FamilyID: fid, ReferralID: rid, Status: domain.ReferralAcceptedStatus, Date: addDays(requested, 4)},
			"przyjęcie rodziny do usługi")
		if done := addDays(requested, 75); done.Before(day(1)) {
			add(done, k+"/complete", domain.UpdateReferral{FamilyID: fid, ReferralID: rid, Status: domain.ReferralCompletedStatus, Date: done}, "usługa zrealizowana")
		}
	}
	recent := day(3 + n%9)
	if lf.kind == livingTeam {
		add(recent, "meeting/recent", domain.RecordTeamMeeting{FamilyID: fid, MeetingID: demoID("team-meeting", key, "recent"), Date: recent, Attendees: attendees,
			Decisions: []string{"Omówienie skierowań do usług z koszyka"}, NextSteps: []string{"Przygotowanie projektu kontraktu socjalnego z rodziną"}},
			"protokół spotkania ZZK")
		return steps
	}

	// The social contract, signed a few days after the first meeting; in
	// force, it ends two to six months after the anchor; a closed case's
	// ran about a year and ended three weeks before the anchor at the
	// latest, the case closed eight days after.
	drafted := addDays(met, 5)
	signed := addDays(drafted, 2)
	end := addDays(anchor, 60+30*(n%5))
	if lf.kind == livingClosed {
		end = addDays(opened, min(lf.openedAgo-20, 390))
	}
	terms = domain.ContractTerms{Variant: prof.variant, Assessment: prof.assessment, MainGoal: prof.mainGoal, ClientDuties: prof.clientDuties,
		CoordinatorDuties: "Udzielanie wsparcia i poradnictwa, koordynacja działań kooperantów, monitorowanie realizacji kontraktu " +
			"i spotkania z rodziną nie rzadziej niż raz w miesiącu.",
		StartDate: signed, EndDate: end}
	for i, goal := range prof.goals {
		terms.Goals = append(terms.Goals, domain.Goal{ID: fmt.Sprintf("g%d", i+1), Description: goal})
	}
	terms.Actions = append(terms.Actions, domain.Action{GoalID: prof.clientGoal, Description: prof.clientAction, Responsible: domain.Party{Kind: domain.PartyClient}})
	for i, m := range members {
		role := demoRoles[m.role]
		a := domain.Action{GoalID: fmt.Sprintf("g%d", i%2+1), Description: role.action, Area: role.area,
			Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: demoID("institution", m.slot.inst)}}
		if m.slot.service != "" {
			a.ServiceID = demoID("service", p.slug, m.slot.inst, m.slot.service)
		}
		terms.Actions = append(terms.Actions, a)
	}
	terms.Actions = append(terms.Actions, domain.Action{GoalID: "g2", Description: "Pomoc w uzyskaniu świadczeń i monitorowanie realizacji kontraktu",
		Responsible: domain.Party{Kind: domain.PartyCoordinator}})
	// Deadlines: in force, the client's action is done (its deadline three
	// weeks or more ago); the coordinator's is due within a week (the
	// first family's on the anchor itself, so that some action is due
	// this month whatever the day); the team's first action is under way
	// and due in one to three weeks, the second overdue by a few days in
	// every other family (else due within a week), the others planned for
	// the weeks after. A closed case's were all due before its end.
	const (
		done = iota
		dueSoon
		overdue
		underway
		planned
	)
	status := make([]int, len(terms.Actions))
	for i := range terms.Actions {
		a := &terms.Actions[i]
		a.ID = fmt.Sprintf("a%d", i+1)
		if lf.kind == livingClosed {
			a.Deadline = addDays(signed, (i+1)*daysBetween(signed, end)/(len(terms.Actions)+1))
			continue
		}
		switch k := i - 1; {
		case i == 0:
			status[i], a.Deadline = done, day(20+7*(n%3))
		case i == len(terms.Actions)-1:
			status[i], a.Deadline = dueSoon, addDays(anchor, n%7)
		case k == 0:
			status[i], a.Deadline = underway, addDays(anchor, 7+n%10)
		case k == 1 && n%2 == 0:
			status[i], a.Deadline = overdue, day(2+n%6)
		case k == 1:
			status[i], a.Deadline = dueSoon, addDays(anchor, 3+n%4)
		default:
			status[i], a.Deadline = planned, addDays(anchor, 21+n%15+10*(k-2))
		}
		a.Deadline = minDate(maxDate(a.Deadline, addDays(signed, 1)), end)
	}
	add(drafted, "contract/draft", domain.DraftContract{FamilyID: fid, ContractTerms: terms}, "projekt kontraktu socjalnego uzgodniony w ZZK")
	add(signed, "contract/sign", domain.SignContract{FamilyID: fid, Date: signed, ClientID: applicant.PersonID}, "podpisanie kontraktu socjalnego")

	// A review after three months, with the team's meeting before it.
	if reviewed := addDays(signed, 90); reviewed.Before(minDate(day(25), addDays(end, -10))) {
		add(addDays(reviewed, -3), "meeting/2", domain.RecordTeamMeeting{FamilyID: fid, MeetingID: demoID("team-meeting", key, "2"),
			Date: addDays(reviewed, -3), Attendees: attendees, Decisions: []string{"Ocena realizacji działań kontraktu"},
			NextSteps: []string{"Przegląd kontraktu z rodziną"}}, "protokół spotkania ZZK")
		add(reviewed, "contract/review/1", domain.ReviewContract{FamilyID: fid, Date: reviewed,
			Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.PartiallyAchieved}, {GoalID: "g2", Achievement: domain.PartiallyAchieved}},
			Notes: "Przegląd kontraktu: część działań zrealizowana, rodzina współpracuje z zespołem."}, "okresowy przegląd kontraktu")
	}

	// Progress on the actions.
	for i, a := range terms.Actions {
		k := "action/" + a.ID
		start := addDays(signed, 1)
		switch {
		case lf.kind == livingClosed || status[i] == done:
			d := maxDate(start, addDays(a.Deadline, -3))
			if a.Responsible.Kind == domain.PartyInstitution && daysBetween(start, d) > 10 {
				s := addDays(start, 5)
				add(s, k+"/start", domain.UpdateAction{FamilyID: fid, ActionID: a.ID, Status: domain.ActionStatusStarted, Date: s}, "postęp kontraktu")
			}
			add(d, k+"/complete", domain.UpdateAction{FamilyID: fid, ActionID: a.ID, Status: domain.ActionStatusCompleted, Date: d, Note: "Działanie zrealizowane."}, "postęp kontraktu")
		case status[i] == underway || (status[i] == overdue && n%3 == 0):
			d := maxDate(start, day(10+n%5))
			add(d, k+"/start", domain.UpdateAction{FamilyID: fid, ActionID: a.ID, Status: domain.ActionStatusStarted, Date: d, Note: "Rozpoczęto realizację działania."}, "postęp kontraktu")
		}
	}

	if lf.kind == livingInForce {
		add(recent, "meeting/recent", domain.RecordTeamMeeting{FamilyID: fid, MeetingID: demoID("team-meeting", key, "recent"), Date: recent, Attendees: attendees,
			Decisions: []string{"Omówienie postępów w realizacji kontraktu", "Ustalenie działań na najbliższe tygodnie"},
			NextSteps: []string{"Kontakt koordynatora z rodziną przed najbliższym terminem działań"}}, "protokół spotkania ZZK")
		return steps
	}

	// The closed case: the final review, the end with the goals met, the
	// closing.
	add(addDays(end, -4), "contract/review/final", domain.ReviewContract{FamilyID: fid, Date: addDays(end, -4),
		Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.Achieved}, {GoalID: "g2", Achievement: domain.Achieved}},
		Notes: "Przegląd końcowy: cele kontraktu osiągnięte."}, "przegląd końcowy kontraktu")
	add(end, "contract/end", domain.EndContract{FamilyID: fid, Date: end, Ending: endGoalsMet.ending}, endGoalsMet.reason)
	add(addDays(end, 8), "close", domain.CloseCase{FamilyID: fid, Date: addDays(end, 8), Outcome: endGoalsMet.outcome}, endGoalsMet.close)
	return steps
}
