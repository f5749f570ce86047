package projections

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// Indicators is the evaluation read model of the cooperation model: what
// the evaluators at the regional centre compare between partnerships and
// over time, at the three levels (institution, worker, client). Families
// are held under a pseudonym only (never their id or any personal field),
// so neither its snapshot nor its Report can name a family. Every
// indicator is defined in docs/evaluation.md.
type Indicators struct {
	pseudonym func(familyID string) string

	mu    sync.RWMutex
	st    indState
	pseud map[string]string // family id → pseudonym, a cache kept out of the snapshot
}

// indState is the whole state; its JSON is the snapshot (maps encode with
// sorted keys, so equal states give equal bytes).
type indState struct {
	Partnerships map[string]*indPartnership `json:"partnerships"` // by partnership id
	Families     map[string]*indFamily      `json:"families"`     // by pseudonym
	LastDay      domain.Date                `json:"last_day,omitzero"`
}

type indPartnership struct {
	Name         string                             `json:"name"`
	Municipality string                             `json:"municipality"`
	County       string                             `json:"county"`
	InitiatedOn  domain.Date                        `json:"initiated_on"`
	FormalizedOn domain.Date                        `json:"formalized_on,omitzero"`
	Members      map[string]indMember               `json:"members"`  // by institution id
	Services     map[string]indService              `json:"services"` // by service id
	Meetings     map[domain.MeetingKind]int         `json:"meetings"`
	MembersLeft  int                                `json:"members_left"`
	Support      map[domain.SupportKind]*indSupport `json:"support,omitempty"` // staff support by form
	Version      int64                              `json:"version"`
}

// indSupport is the staff support of one form in one partnership.
type indSupport struct {
	Activities   int      `json:"activities"`
	Hours        float64  `json:"hours"`
	Workers      []string `json:"workers"`      // distinct participants, sorted
	Institutions []string `json:"institutions"` // distinct, sorted
}

// addSorted adds v to the sorted set s.
func addSorted(s []string, v string) []string {
	if i, found := slices.BinarySearch(s, v); !found {
		s = slices.Insert(s, i, v)
	}
	return s
}

type indMember struct {
	Sector domain.Sector `json:"sector"`
	Left   bool          `json:"left,omitempty"`
}

type indService struct {
	Sector    domain.Sector `json:"sector"`
	Withdrawn bool          `json:"withdrawn,omitempty"`
}

type indFamily struct {
	PartnershipID string                 `json:"partnership_id"`
	OpenedOn      domain.Date            `json:"opened_on"`
	DiagnosedOn   domain.Date            `json:"diagnosed_on,omitzero"` // first completed diagnosis
	SignedOn      domain.Date            `json:"signed_on,omitzero"`    // first signed contract
	Closed        bool                   `json:"closed,omitempty"`
	Reopened      int                    `json:"reopened,omitempty"`
	Teams         []indTeam              `json:"teams"`     // every team formed, the last one current unless dissolved
	TeamOn        bool                   `json:"team_on"`   // the last team is still in place
	Contracts     []indContract          `json:"contracts"` // every contract drafted, one per case episode
	Endings       map[domain.Ending]int  `json:"endings,omitempty"`
	Outcomes      map[domain.Outcome]int `json:"outcomes,omitempty"`
	Version       int64                  `json:"version"`
}

type indTeam struct {
	FormedOn      domain.Date     `json:"formed_on"`
	EndedOn       domain.Date     `json:"ended_on,omitzero"` // dissolved (or the case closed); zero while in place
	SizeAtForming int             `json:"size_at_forming"`
	Institutions  []string        `json:"institutions"` // distinct, sorted, over the team's life
	Sectors       []domain.Sector `json:"sectors"`      // distinct, sorted, over the team's life
	Meetings      int             `json:"meetings"`
	Workers       []string        `json:"workers,omitempty"` // distinct members over the team's life, sorted
}

type indContract struct {
	Signed  bool                          `json:"signed,omitempty"`
	Ended   bool                          `json:"ended,omitempty"`
	Actions []indAction                   `json:"actions"`
	Goals   map[string]domain.Achievement `json:"goals"` // goal id → achievement at its latest review ("" none yet)
}

type indAction struct {
	ID       string              `json:"id"`
	Sector   string              `json:"sector"` // the responsible party's sector, or "client"
	Deadline domain.Date         `json:"deadline"`
	Status   domain.ActionStatus `json:"status"`
}

// NewIndicators returns an empty evaluation model; pseudonym turns a
// family id into the key the model holds it under (never the id itself).
// nil uses an unkeyed hash of the id, good for tests only: production
// passes the keyring's keyed pseudonym.
func NewIndicators(pseudonym func(familyID string) string) *Indicators {
	if pseudonym == nil {
		pseudonym = func(id string) string {
			h := sha256.Sum256([]byte("family\x00" + id))
			return "H-" + hex.EncodeToString(h[:8])
		}
	}
	return &Indicators{pseudonym: pseudonym, st: newIndState(), pseud: map[string]string{}}
}

func newIndState() indState {
	return indState{Partnerships: map[string]*indPartnership{}, Families: map[string]*indFamily{}}
}

// Name implements Projection.
func (*Indicators) Name() string { return "indicators" }

// NeedsPersonal implements PersonalData: the evaluation counts and
// pseudonymises; it holds no personal data.
func (*Indicators) NeedsPersonal() bool { return false }

// Handles implements Projection.
func (*Indicators) Handles(t string) bool {
	return familyEvents[t] || partnershipEvents[t] || t == domain.StaffSupportRecorded{}.EventType()
}

func (p *Indicators) pseudonymOf(id string) string {
	if s, ok := p.pseud[id]; ok {
		return s
	}
	s := p.pseudonym(id)
	p.pseud[id] = s
	return s
}

// Apply implements Projection.
func (p *Indicators) Apply(env domain.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if at := businessTime(env); !at.IsZero() && p.st.LastDay.Before(Today(at)) {
		p.st.LastDay = Today(at)
	}
	switch env.AggregateType {
	case domain.AggregatePartnership:
		p.applyPartnership(env)
	case domain.AggregateFamily:
		p.applyFamily(env)
	}
	return nil
}

func (p *Indicators) applyPartnership(env domain.Envelope) {
	v := p.st.Partnerships[env.AggregateID]
	if v != nil && env.AggregateVersion <= v.Version {
		return // applied before
	}
	if e, ok := env.Payload.(domain.PartnershipInitiated); ok {
		p.st.Partnerships[env.AggregateID] = &indPartnership{Name: e.Name, Municipality: e.Municipality, County: e.County, InitiatedOn: e.Date,
			Members: map[string]indMember{}, Services: map[string]indService{}, Meetings: map[domain.MeetingKind]int{},
			Support: map[domain.SupportKind]*indSupport{}, Version: env.AggregateVersion}
		return
	}
	if v == nil {
		return
	}
	switch e := env.Payload.(type) {
	case domain.MemberJoined:
		v.Members[e.InstitutionID] = indMember{Sector: e.Sector}
	case domain.MemberLeft:
		if m, ok := v.Members[e.InstitutionID]; ok && !m.Left {
			m.Left = true
			v.Members[e.InstitutionID] = m
			v.MembersLeft++
		}
	case domain.ServiceOffered:
		v.Services[e.ServiceID] = indService{Sector: e.Sector}
	case domain.ServiceWithdrawn:
		if s, ok := v.Services[e.ServiceID]; ok {
			s.Withdrawn = true
			v.Services[e.ServiceID] = s
		}
	case domain.MeetingRecorded:
		v.Meetings[e.Kind]++
	case domain.PartnershipFormalized:
		if v.FormalizedOn.IsZero() {
			v.FormalizedOn = e.Date
		}
	case domain.StaffSupportRecorded:
		if v.Support == nil {
			v.Support = map[domain.SupportKind]*indSupport{}
		}
		s := v.Support[e.Kind]
		if s == nil {
			s = &indSupport{Workers: []string{}, Institutions: []string{}}
			v.Support[e.Kind] = s
		}
		s.Activities++
		s.Hours += e.Hours
		for _, w := range e.Workers {
			s.Workers = addSorted(s.Workers, w)
		}
		for _, i := range e.Institutions {
			s.Institutions = addSorted(s.Institutions, i)
		}
	}
	v.Version = env.AggregateVersion
}

func (p *Indicators) applyFamily(env domain.Envelope) {
	key := p.pseudonymOf(env.AggregateID)
	f := p.st.Families[key]
	if f != nil && env.AggregateVersion <= f.Version {
		return // applied before
	}
	if e, ok := env.Payload.(domain.FamilyCaseOpened); ok {
		p.st.Families[key] = &indFamily{PartnershipID: e.PartnershipID, OpenedOn: e.OpenedOn, Teams: []indTeam{}, Contracts: []indContract{}, Version: env.AggregateVersion}
		return
	}
	if f == nil {
		return
	}
	f.apply(env)
	f.Version = env.AggregateVersion
}

func (f *indFamily) team() *indTeam {
	if !f.TeamOn || len(f.Teams) == 0 {
		return nil
	}
	return &f.Teams[len(f.Teams)-1]
}

// endTeam records the end of the latest team, if it has none yet.
func (f *indFamily) endTeam(on domain.Date) {
	if n := len(f.Teams); n > 0 && f.Teams[n-1].EndedOn.IsZero() {
		f.Teams[n-1].EndedOn = on
	}
}

// exposureDays is how many whole days the team was in place by the
// cut-off day: from its forming date to its end date or the cut-off,
// whichever is earlier (the end day itself not counted, as every duration
// here), never negative. A team of an old snapshot without a forming date
// counts none.
func (t indTeam) exposureDays(asOf domain.Date) int {
	if t.FormedOn.IsZero() {
		return 0
	}
	end := asOf
	if !t.EndedOn.IsZero() && t.EndedOn.Before(end) {
		end = t.EndedOn
	}
	return max(0, days(t.FormedOn, end))
}

func (t *indTeam) add(m domain.TeamMember) {
	t.Workers = addSorted(t.Workers, m.WorkerID)
	if i, found := slices.BinarySearch(t.Institutions, m.InstitutionID); !found {
		t.Institutions = slices.Insert(t.Institutions, i, m.InstitutionID)
	}
	if i, found := slices.BinarySearch(t.Sectors, m.Sector); !found {
		t.Sectors = slices.Insert(t.Sectors, i, m.Sector)
	}
}

func (f *indFamily) contract() *indContract {
	if len(f.Contracts) == 0 {
		return nil
	}
	return &f.Contracts[len(f.Contracts)-1]
}

func actionsOf(t domain.ContractTerms, before []indAction) []indAction {
	out := make([]indAction, 0, len(t.Actions))
	for _, a := range t.Actions {
		sector := string(a.Responsible.Sector)
		if a.Responsible.Kind == domain.PartyClient {
			sector = "client"
		} else if sector == "" {
			sector = "unknown"
		}
		ia := indAction{ID: a.ID, Sector: sector, Deadline: a.Deadline, Status: domain.ActionStatusPlanned}
		if i := slices.IndexFunc(before, func(o indAction) bool { return o.ID == a.ID }); i >= 0 {
			ia.Status = before[i].Status
		}
		out = append(out, ia)
	}
	return out
}

func goalsOf(t domain.ContractTerms, before map[string]domain.Achievement) map[string]domain.Achievement {
	out := map[string]domain.Achievement{}
	for _, g := range t.Goals {
		out[g.ID] = before[g.ID]
	}
	return out
}

func (f *indFamily) apply(env domain.Envelope) {
	switch e := env.Payload.(type) {
	case domain.DiagnosisCompleted:
		if f.DiagnosedOn.IsZero() {
			f.DiagnosedOn = e.Date
		}
	case domain.TeamFormed:
		f.endTeam(e.Date) // a team formed again replaces one never dissolved
		t := indTeam{FormedOn: e.Date, SizeAtForming: len(e.Members), Institutions: []string{}, Sectors: []domain.Sector{}}
		for _, m := range e.Members {
			t.add(m)
		}
		f.Teams, f.TeamOn = append(f.Teams, t), true
	case domain.TeamMemberJoined:
		if t := f.team(); t != nil {
			t.add(e.Member)
		}
	case domain.TeamMeetingRecorded:
		if t := f.team(); t != nil {
			t.Meetings++
		}
	case domain.TeamDissolved:
		f.endTeam(e.Date)
		f.TeamOn = false
	case domain.ContractDrafted:
		c := f.contract()
		if c == nil || c.Ended {
			f.Contracts = append(f.Contracts, indContract{Actions: actionsOf(e.Terms, nil), Goals: goalsOf(e.Terms, nil)})
			return
		}
		// A new draft replaces the terms, as the support plan does.
		c.Actions, c.Goals = actionsOf(e.Terms, nil), goalsOf(e.Terms, nil)
	case domain.ContractAmended:
		if c := f.contract(); c != nil {
			c.Actions, c.Goals = actionsOf(e.Terms, c.Actions), goalsOf(e.Terms, c.Goals)
		}
	case domain.ContractSigned:
		if c := f.contract(); c != nil {
			c.Signed = true
		}
		if f.SignedOn.IsZero() {
			f.SignedOn = e.Date
		}
	case domain.ActionStarted:
		f.action(e.ActionID, domain.ActionStatusStarted)
	case domain.ActionCompleted:
		f.action(e.ActionID, domain.ActionStatusCompleted)
	case domain.ActionMissed:
		f.action(e.ActionID, domain.ActionStatusMissed)
	case domain.ActionWithdrawn:
		f.action(e.ActionID, domain.ActionStatusWithdrawn)
	case domain.ContractReviewed:
		if c := f.contract(); c != nil {
			for _, g := range e.Goals {
				if _, ok := c.Goals[g.GoalID]; ok {
					c.Goals[g.GoalID] = g.Achievement
				}
			}
		}
	case domain.ContractEnded:
		if c := f.contract(); c != nil {
			c.Ended = true
		}
		if f.Endings == nil {
			f.Endings = map[domain.Ending]int{}
		}
		f.Endings[e.Ending]++
	case domain.CaseClosed:
		f.endTeam(e.Date) // the engine also records TeamDissolved on the same day
		f.Closed, f.TeamOn = true, false
		if f.Outcomes == nil {
			f.Outcomes = map[domain.Outcome]int{}
		}
		f.Outcomes[e.Outcome]++
	case domain.CaseReopened:
		f.Closed = false
		f.Reopened++
		// The support plan starts over: a later contract is a new one.
		if c := f.contract(); c != nil {
			c.Ended = true
		}
	}
}

func (f *indFamily) action(id string, s domain.ActionStatus) {
	if c := f.contract(); c != nil {
		for i := range c.Actions {
			if c.Actions[i].ID == id {
				c.Actions[i].Status = s
			}
		}
	}
}

// Snapshot implements Projection.
func (p *Indicators) Snapshot() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return json.Marshal(p.st)
}

// Restore implements Projection.
func (p *Indicators) Restore(b []byte) error {
	st := newIndState()
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("restore indicators: %w", err)
	}
	if st.Partnerships == nil {
		st.Partnerships = map[string]*indPartnership{}
	}
	if st.Families == nil {
		st.Families = map[string]*indFamily{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st, p.pseud = st, map[string]string{}
	return nil
}

// LastDay returns the latest business day of any event applied, the day
// of Report(Date{}). The overview and the evaluation do not use it: they
// stand at the end of today by default (docs/decisions/0013).
func (p *Indicators) LastDay() domain.Date {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.st.LastDay
}

// Distribution summarises a list of day counts. Quartiles are computed by
// linear interpolation between the closest ranks of the sorted values
// (the method of spreadsheets' QUARTILE.INC): the p-quantile of n sorted
// values x[0..n-1] is x[h] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) with h = p·(n−1).
type Distribution struct {
	N      int      `json:"n"`
	Min    *float64 `json:"min"`
	Q1     *float64 `json:"q1"`
	Median *float64 `json:"median"`
	Q3     *float64 `json:"q3"`
	Max    *float64 `json:"max"`
}

// Quantile returns the p-quantile (0 ≤ p ≤ 1) of sorted values by linear
// interpolation between closest ranks; NaN for no values.
func Quantile(sorted []int, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := p * float64(len(sorted)-1)
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return float64(sorted[len(sorted)-1])
	}
	return float64(sorted[lo]) + (h-float64(lo))*float64(sorted[lo+1]-sorted[lo])
}

func distribution(vs []int) Distribution {
	d := Distribution{N: len(vs)}
	if len(vs) == 0 {
		return d
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	q := func(p float64) *float64 { v := round2(Quantile(s, p)); return &v }
	d.Min, d.Q1, d.Median, d.Q3, d.Max = q(0), q(0.25), q(0.5), q(0.75), q(1)
	return d
}

// Mean is an average with how many values it is over; Value is null for
// none.
type Mean struct {
	N     int      `json:"n"`
	Value *float64 `json:"value"`
}

func mean(vs []int) Mean {
	m := Mean{N: len(vs)}
	if len(vs) == 0 {
		return m
	}
	sum := 0
	for _, v := range vs {
		sum += v
	}
	x := round2(float64(sum) / float64(len(vs)))
	m.Value = &x
	return m
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// days returns the whole days from a to b.
func days(a, b domain.Date) int { return int(math.Round(b.Time().Sub(a.Time()).Hours() / 24)) }

// ActionCounts are the actions of contracts by status as of the cut-off.
type ActionCounts struct {
	Completed int `json:"completed"`
	Missed    int `json:"missed"`
	Overdue   int `json:"overdue"`
	Open      int `json:"open"` // planned or started, not overdue
}

// InstitutionLevel are the indicators of the partnership team (PZK).
type InstitutionLevel struct {
	MembersBySector     map[string]int `json:"members_by_sector"`
	Members             int            `json:"members"`
	SectorCoverage      int            `json:"sector_coverage"`
	ServicesBySector    map[string]int `json:"services_by_sector"`
	Services            int            `json:"services"`
	MeetingsByKind      map[string]int `json:"meetings_by_kind"`
	Meetings            int            `json:"meetings"`
	Formalized          int            `json:"formalized"`
	DaysToFormalisation Distribution   `json:"days_to_formalisation"`
	MembersLeft         int            `json:"members_left"`
}

// SupportForm is the staff support of one form: activities, their hours,
// and the distinct workers and institutions that took part.
type SupportForm struct {
	Activities   int     `json:"activities"`
	Hours        float64 `json:"hours"`
	Participants int     `json:"participants"`
	Institutions int     `json:"institutions"`
}

// StaffSupportLevel are the indicators of the support for staff (the six
// forms of domain.SupportKinds) and how far it reached the task teams.
type StaffSupportLevel struct {
	ByForm map[string]SupportForm `json:"support_by_form"`
	// All forms together; a worker or institution in several forms counts
	// once.
	Activities   int     `json:"support_activities"`
	Hours        float64 `json:"support_hours"`
	Participants int     `json:"support_participants"`
	Institutions int     `json:"support_institutions"`
	// TeamMembers are the distinct workers who were ever on a task team
	// (ZZK) of the group's families by the cut-off; Trained those of them
	// who took part in at least one cross-sector training of the group's
	// partnerships; TrainedShare is Trained / TeamMembers in per cent (2
	// decimals), null without team members.
	TeamMembers  int      `json:"team_members"`
	Trained      int      `json:"team_members_trained"`
	TrainedShare *float64 `json:"team_members_trained_share"`
}

// WorkerLevel are the indicators of the task teams (ZZK).
type WorkerLevel struct {
	TeamsFormed         int  `json:"teams_formed"`
	TeamSizeAtForming   Mean `json:"team_size_at_forming"`
	InstitutionsPerTeam Mean `json:"institutions_per_team"`
	SectorsPerTeam      Mean `json:"sectors_per_team"`
	TeamMeetings        int  `json:"team_meetings"`
	// TeamFamilyMonths is the time families had a team in place by the
	// cut-off, in months of DaysPerMonth days (rounded to 2 decimals).
	TeamFamilyMonths float64 `json:"team_family_months"`
	// TeamMeetingsPerFamilyMonth is TeamMeetings / TeamFamilyMonths, from
	// the unrounded months, rounded to 2 decimals; null when no family had
	// a team in place for a day.
	TeamMeetingsPerFamilyMonth *float64 `json:"team_meetings_per_family_month"`
}

// DaysPerMonth is the length of the mean Gregorian month (365.25 / 12
// days), the unit of family-months.
const DaysPerMonth = 30.4375

// ClientLevel are the indicators of families' support.
type ClientLevel struct {
	FamiliesEnrolled   int                     `json:"families_enrolled"`
	FamiliesOpen       int                     `json:"families_open"`
	DaysToDiagnosis    Distribution            `json:"days_to_diagnosis"`
	DaysToContract     Distribution            `json:"days_to_contract"`
	ContractsSigned    int                     `json:"contracts_signed"`
	SectorsPerContract Mean                    `json:"sectors_per_contract"`
	ActionsBySector    map[string]ActionCounts `json:"actions_by_sector"`
	Actions            ActionCounts            `json:"actions"`
	GoalsByAchievement map[string]int          `json:"goals_by_achievement"`
	ContractEndings    map[string]int          `json:"contract_endings"`
	CaseOutcomes       map[string]int          `json:"case_outcomes"`
	Reopenings         int                     `json:"reopenings"`
}

// IndicatorGroup are the indicators of one partnership, or of all.
type IndicatorGroup struct {
	PartnershipID string            `json:"partnership_id,omitempty"`
	Name          string            `json:"name"`
	Municipality  string            `json:"municipality,omitempty"`
	County        string            `json:"county,omitempty"`
	Institution   InstitutionLevel  `json:"institution"`
	Worker        WorkerLevel       `json:"worker"`
	Client        ClientLevel       `json:"client"`
	StaffSupport  StaffSupportLevel `json:"staff_support"`
}

// IndicatorReport is the evaluation as of a day: every partnership, by
// municipality then id, and all together.
type IndicatorReport struct {
	AsOf         domain.Date      `json:"as_of"`
	Partnerships []IndicatorGroup `json:"partnerships"`
	Overall      IndicatorGroup   `json:"overall"`
}

// acc gathers the raw values of one group before they are summarised.
type acc struct {
	membersBySector, servicesBySector, meetings       map[string]int
	support                                           map[string]*supportAcc
	supportWorkers, supportInst, teamWorkers, trained map[string]bool
	sectors                                           map[string]bool
	formalisation                                     []int
	formalized, left                                  int
	teams, teamMeetings, teamDays                     int
	teamSize, teamInst, teamSect                      []int
	families, open, signed, reopenings                int
	toDiagnosis, toContract, contractSectors          []int
	actions                                           map[string]ActionCounts
	goals, endings, outcomes                          map[string]int
}

func newAcc() *acc {
	return &acc{membersBySector: map[string]int{}, servicesBySector: map[string]int{}, meetings: map[string]int{}, support: map[string]*supportAcc{},
		supportWorkers: map[string]bool{}, supportInst: map[string]bool{}, teamWorkers: map[string]bool{}, trained: map[string]bool{},
		sectors: map[string]bool{}, actions: map[string]ActionCounts{}, goals: map[string]int{}, endings: map[string]int{}, outcomes: map[string]int{}}
}

func (a *acc) addPartnership(v *indPartnership) {
	for _, m := range v.Members {
		if !m.Left {
			a.membersBySector[string(m.Sector)]++
			a.sectors[string(m.Sector)] = true
		}
	}
	for _, s := range v.Services {
		if !s.Withdrawn {
			a.servicesBySector[string(s.Sector)]++
		}
	}
	for k, n := range v.Meetings {
		a.meetings[string(k)] += n
	}
	for k, s := range v.Support {
		f := a.form(string(k))
		f.activities += s.Activities
		f.hours += s.Hours
		for _, w := range s.Workers {
			f.workers[w], a.supportWorkers[w] = true, true
			if k == domain.SupportTraining {
				a.trained[w] = true
			}
		}
		for _, i := range s.Institutions {
			f.inst[i], a.supportInst[i] = true, true
		}
	}
	a.left += v.MembersLeft
	if !v.FormalizedOn.IsZero() {
		a.formalized++
		a.formalisation = append(a.formalisation, days(v.InitiatedOn, v.FormalizedOn))
	}
}

func (a *acc) addFamily(f *indFamily, asOf domain.Date) {
	a.families++
	if !f.Closed {
		a.open++
	}
	a.reopenings += f.Reopened
	if !f.DiagnosedOn.IsZero() {
		a.toDiagnosis = append(a.toDiagnosis, days(f.OpenedOn, f.DiagnosedOn))
	}
	if !f.SignedOn.IsZero() {
		a.toContract = append(a.toContract, days(f.OpenedOn, f.SignedOn))
	}
	for _, t := range f.Teams {
		a.teams++
		a.teamMeetings += t.Meetings
		a.teamDays += t.exposureDays(asOf)
		a.teamSize = append(a.teamSize, t.SizeAtForming)
		a.teamInst = append(a.teamInst, len(t.Institutions))
		a.teamSect = append(a.teamSect, len(t.Sectors))
		for _, w := range t.Workers {
			a.teamWorkers[w] = true
		}
	}
	for i, c := range f.Contracts {
		if !c.Signed {
			continue
		}
		a.signed++
		inForce := i == len(f.Contracts)-1 && !c.Ended && !f.Closed
		sectors := map[string]bool{}
		for _, x := range c.Actions {
			if x.Status == domain.ActionStatusWithdrawn {
				continue // taken back: neither done nor due
			}
			if x.Sector != "client" {
				sectors[x.Sector] = true
			}
			n := a.actions[x.Sector]
			switch {
			case x.Status == domain.ActionStatusCompleted:
				n.Completed++
			case x.Status == domain.ActionStatusMissed:
				n.Missed++
			case inForce && x.Deadline.Before(asOf):
				n.Overdue++
			default:
				n.Open++
			}
			a.actions[x.Sector] = n
		}
		a.contractSectors = append(a.contractSectors, len(sectors))
		for _, g := range c.Goals {
			if g != "" {
				a.goals[string(g)]++
			}
		}
	}
	for k, n := range f.Endings {
		a.endings[string(k)] += n
	}
	for k, n := range f.Outcomes {
		a.outcomes[string(k)] += n
	}
}

func (a *acc) merge(b *acc) {
	addMap := func(dst, src map[string]int) {
		for k, n := range src {
			dst[k] += n
		}
	}
	addMap(a.membersBySector, b.membersBySector)
	addMap(a.servicesBySector, b.servicesBySector)
	addMap(a.meetings, b.meetings)
	for k, s := range b.support {
		f := a.form(k)
		f.activities += s.activities
		f.hours += s.hours
		maps.Copy(f.workers, s.workers)
		maps.Copy(f.inst, s.inst)
	}
	for _, m := range [][2]map[string]bool{{a.supportWorkers, b.supportWorkers}, {a.supportInst, b.supportInst}, {a.teamWorkers, b.teamWorkers}, {a.trained, b.trained}} {
		maps.Copy(m[0], m[1])
	}
	addMap(a.goals, b.goals)
	addMap(a.endings, b.endings)
	addMap(a.outcomes, b.outcomes)
	for k := range b.sectors {
		a.sectors[k] = true
	}
	for k, n := range b.actions {
		m := a.actions[k]
		m.Completed, m.Missed, m.Overdue, m.Open = m.Completed+n.Completed, m.Missed+n.Missed, m.Overdue+n.Overdue, m.Open+n.Open
		a.actions[k] = m
	}
	a.formalisation = append(a.formalisation, b.formalisation...)
	a.formalized, a.left = a.formalized+b.formalized, a.left+b.left
	a.teams, a.teamMeetings, a.teamDays = a.teams+b.teams, a.teamMeetings+b.teamMeetings, a.teamDays+b.teamDays
	a.teamSize, a.teamInst, a.teamSect = append(a.teamSize, b.teamSize...), append(a.teamInst, b.teamInst...), append(a.teamSect, b.teamSect...)
	a.families, a.open, a.signed, a.reopenings = a.families+b.families, a.open+b.open, a.signed+b.signed, a.reopenings+b.reopenings
	a.toDiagnosis, a.toContract = append(a.toDiagnosis, b.toDiagnosis...), append(a.toContract, b.toContract...)
	a.contractSectors = append(a.contractSectors, b.contractSectors...)
}

// supportAcc gathers one form of staff support.
type supportAcc struct {
	activities    int
	hours         float64
	workers, inst map[string]bool
}

func (a *acc) form(k string) *supportAcc {
	if a.support[k] == nil {
		a.support[k] = &supportAcc{workers: map[string]bool{}, inst: map[string]bool{}}
	}
	return a.support[k]
}

func (a *acc) staffSupport() StaffSupportLevel {
	l := StaffSupportLevel{ByForm: map[string]SupportForm{}, Participants: len(a.supportWorkers), Institutions: len(a.supportInst),
		TeamMembers: len(a.teamWorkers)}
	hours := 0.0
	for _, k := range slices.Sorted(maps.Keys(a.support)) { // one order of the float sum
		s := a.support[k]
		l.ByForm[k] = SupportForm{Activities: s.activities, Hours: round2(s.hours), Participants: len(s.workers), Institutions: len(s.inst)}
		l.Activities += s.activities
		hours += s.hours
	}
	l.Hours = round2(hours)
	for w := range a.teamWorkers {
		if a.trained[w] {
			l.Trained++
		}
	}
	if l.TeamMembers > 0 {
		v := round2(100 * float64(l.Trained) / float64(l.TeamMembers))
		l.TrainedShare = &v
	}
	return l
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (a *acc) group() IndicatorGroup {
	g := IndicatorGroup{
		Institution: InstitutionLevel{MembersBySector: a.membersBySector, Members: sum(a.membersBySector), SectorCoverage: len(a.sectors),
			ServicesBySector: a.servicesBySector, Services: sum(a.servicesBySector), MeetingsByKind: a.meetings, Meetings: sum(a.meetings),
			Formalized: a.formalized, DaysToFormalisation: distribution(a.formalisation), MembersLeft: a.left},
		Worker: WorkerLevel{TeamsFormed: a.teams, TeamSizeAtForming: mean(a.teamSize), InstitutionsPerTeam: mean(a.teamInst),
			SectorsPerTeam: mean(a.teamSect), TeamMeetings: a.teamMeetings, TeamFamilyMonths: round2(float64(a.teamDays) / DaysPerMonth)},
		Client: ClientLevel{FamiliesEnrolled: a.families, FamiliesOpen: a.open, DaysToDiagnosis: distribution(a.toDiagnosis),
			DaysToContract: distribution(a.toContract), ContractsSigned: a.signed, SectorsPerContract: mean(a.contractSectors),
			ActionsBySector: a.actions, GoalsByAchievement: a.goals, ContractEndings: a.endings, CaseOutcomes: a.outcomes, Reopenings: a.reopenings},
	}
	if a.teamDays > 0 {
		v := round2(float64(a.teamMeetings) / (float64(a.teamDays) / DaysPerMonth))
		g.Worker.TeamMeetingsPerFamilyMonth = &v
	}
	g.StaffSupport = a.staffSupport()
	for _, n := range a.actions {
		t := &g.Client.Actions
		t.Completed, t.Missed, t.Overdue, t.Open = t.Completed+n.Completed, t.Missed+n.Missed, t.Overdue+n.Overdue, t.Open+n.Open
	}
	return g
}

// Grouping says how a report groups the partnerships.
type Grouping string

// The groupings of a report.
const (
	// ByPartnership: one group per partnership, that is per municipality
	// (each PZK is a municipality's).
	ByPartnership Grouping = "partnership"
	// ByCounty: the partnerships of one county (powiat) together, for
	// comparing counties; a group's PartnershipID is empty and its County
	// and Name are the county's.
	ByCounty Grouping = "county"
)

// Groupings lists the groupings a report takes.
var Groupings = []Grouping{ByPartnership, ByCounty}

// Report computes the indicators as of a day (the day that decides which
// open actions are overdue; the zero Date means LastDay, but callers pass
// api.DefaultAsOf, today), one group per partnership.
func (p *Indicators) Report(asOf domain.Date) IndicatorReport {
	return p.ReportBy(asOf, ByPartnership)
}

// ReportBy computes the indicators as of a day, grouped as by says (an
// unknown grouping groups by partnership).
func (p *Indicators) ReportBy(asOf domain.Date, by Grouping) IndicatorReport {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if asOf.IsZero() {
		asOf = p.st.LastDay
	}
	accs := map[string]*acc{}
	get := func(id string) *acc {
		if accs[id] == nil {
			accs[id] = newAcc()
		}
		return accs[id]
	}
	for id, v := range p.st.Partnerships {
		get(id).addPartnership(v)
	}
	for _, f := range p.st.Families {
		get(f.PartnershipID).addFamily(f, asOf)
	}
	ids := make([]string, 0, len(accs))
	for id := range accs {
		ids = append(ids, id)
	}
	meta := func(id string) (string, string, string) {
		if v := p.st.Partnerships[id]; v != nil {
			return v.Name, v.Municipality, v.County
		}
		return "", "", ""
	}
	slices.SortFunc(ids, func(a, b string) int {
		_, ma, _ := meta(a)
		_, mb, _ := meta(b)
		return cmp.Or(cmp.Compare(ma, mb), cmp.Compare(a, b))
	})
	all := newAcc()
	r := IndicatorReport{AsOf: asOf, Partnerships: make([]IndicatorGroup, 0, len(ids))}
	counties := map[string]*acc{}
	var names []string
	for _, id := range ids {
		all.merge(accs[id])
		if by == ByCounty {
			_, _, county := meta(id)
			if counties[county] == nil {
				counties[county] = newAcc()
				names = append(names, county)
			}
			counties[county].merge(accs[id])
			continue
		}
		g := accs[id].group()
		g.PartnershipID = id
		g.Name, g.Municipality, g.County = meta(id)
		r.Partnerships = append(r.Partnerships, g)
	}
	slices.Sort(names)
	for _, county := range names {
		g := counties[county].group()
		g.Name, g.County = "powiat "+county, county
		r.Partnerships = append(r.Partnerships, g)
	}
	r.Overall = all.group()
	r.Overall.Name = "overall"
	return r
}

// businessTime returns an event's business time, but never later than
// when it was recorded: nothing happens after it is written down, and an
// older engine let a business time in the far future in (year 9999), which
// would stretch every duration to the end of time (docs/decisions/0011).
func businessTime(env domain.Envelope) time.Time {
	if !env.RecordedAt.IsZero() && env.OccurredAt.After(env.RecordedAt) {
		return env.RecordedAt
	}
	return env.OccurredAt
}
