package projections

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// Stages of a family's case, in the order of the model's lifecycle.
const (
	StageOpened              = "opened"                // otwarta sprawa
	StageDiagnosisInProgress = "diagnosis_in_progress" // diagnoza w toku
	StageDiagnosed           = "diagnosed"             // diagnoza zakończona
	StageContractDrafted     = "contract_drafted"      // projekt kontraktu
	StageContractInForce     = "contract_in_force"     // kontrakt w realizacji
	StageContractEnded       = "contract_ended"        // kontrakt zakończony
	StageClosed              = "closed"                // sprawa zamknięta
)

// FamilyStages lists the stages in lifecycle order.
var FamilyStages = []string{StageOpened, StageDiagnosisInProgress, StageDiagnosed, StageContractDrafted, StageContractInForce, StageContractEnded, StageClosed}

// ConsentView is a consent with whether it holds on the plan's date.
type ConsentView struct {
	domain.ConsentGiven
	Withdrawn   bool        `json:"withdrawn"`
	WithdrawnOn domain.Date `json:"withdrawn_on,omitzero"`
	Active      bool        `json:"active"`
}

// AreaView is the diagnosis of one need area: its highest severity and
// every sector's input.
type AreaView struct {
	Area     domain.NeedArea                 `json:"area"`
	Severity domain.Severity                 `json:"severity"`
	Inputs   []domain.DiagnosisInputRecorded `json:"inputs"`
}

// DiagnosisView is the diagnosis of needs (diagnoza potrzeb).
type DiagnosisView struct {
	Areas       []AreaView  `json:"areas"`
	Completed   bool        `json:"completed"`
	CompletedOn domain.Date `json:"completed_on,omitzero"`
	Summary     string      `json:"summary,omitempty" personal:"true"`
}

// ActionView is an action of the contract with its status.
type ActionView struct {
	domain.Action
	Status   domain.ActionStatus `json:"status"`
	StatusOn domain.Date         `json:"status_on,omitzero"`
	Note     string              `json:"note,omitempty" personal:"true"`
	Overdue  bool                `json:"overdue"`
}

// SectorActions are the actions one sector (or the client) took on.
type SectorActions struct {
	Party   domain.PartyKind `json:"party"`
	Sector  domain.Sector    `json:"sector,omitempty"`
	Actions []ActionView     `json:"actions"`
}

// GoalView is a goal with its achievement at the latest review.
type GoalView struct {
	domain.Goal
	Achievement domain.Achievement `json:"achievement,omitempty"`
}

// Amendment is a recorded amendment (aneks) of the contract.
type Amendment struct {
	Version  int         `json:"version"`
	Changes  string      `json:"changes" personal:"true"`
	SignedOn domain.Date `json:"signed_on"`
	Reason   string      `json:"reason,omitempty" personal:"true"`
}

// ContractView is the family's current social contract (kontrakt socjalny).
type ContractView struct {
	Version           int                       `json:"version"`
	Status            string                    `json:"status"` // draft, in_force, ended
	Variant           domain.ContractVariant    `json:"variant"`
	Assessment        domain.Assessment         `json:"assessment"`
	MainGoal          string                    `json:"main_goal" personal:"true"`
	Goals             []GoalView                `json:"goals"`
	Actions           []ActionView              `json:"actions"`
	ActionsBySector   []SectorActions           `json:"actions_by_sector"`
	ClientDuties      string                    `json:"client_duties" personal:"true"`
	CoordinatorDuties string                    `json:"coordinator_duties" personal:"true"`
	StartDate         domain.Date               `json:"start_date"`
	EndDate           domain.Date               `json:"end_date"`
	SignedOn          domain.Date               `json:"signed_on,omitzero"`
	EndedOn           domain.Date               `json:"ended_on,omitzero"`
	Ending            domain.Ending             `json:"ending,omitempty"`
	Sanction          string                    `json:"sanction,omitempty" personal:"true"`
	Reviews           []domain.ContractReviewed `json:"reviews"`
	Amendments        []Amendment               `json:"amendments"`
}

// ReferralView is a referral to a basket service.
type ReferralView struct {
	domain.ReferralRequested
	Status    domain.ReferralStatus `json:"status"`
	UpdatedOn domain.Date           `json:"updated_on"`
	Reason    string                `json:"reason,omitempty" personal:"true"`
}

// Deadline is an upcoming or overdue action, for plans and caseloads.
type Deadline struct {
	FamilyID    string              `json:"family_id"`
	ActionID    string              `json:"action_id"`
	Description string              `json:"description"`
	Deadline    domain.Date         `json:"deadline"`
	Status      domain.ActionStatus `json:"status"`
	Party       domain.PartyKind    `json:"party"`
	Institution string              `json:"institution_id,omitempty"`
	Sector      domain.Sector       `json:"sector,omitempty"`
}

// PlanView is a family's cross-sector support plan: everything a
// coordinator needs to see at a glance.
type PlanView struct {
	ID            string                       `json:"id"`
	PartnershipID string                       `json:"partnership_id"`
	Status        string                       `json:"status"` // open, closed
	Stage         string                       `json:"stage"`
	Erased        bool                         `json:"erased"`
	Outcome       domain.Outcome               `json:"outcome,omitempty"`
	OpenedOn      domain.Date                  `json:"opened_on"`
	ClosedOn      domain.Date                  `json:"closed_on,omitzero"`
	Reopened      int                          `json:"reopened"`
	Household     []domain.Person              `json:"household"`
	Address       string                       `json:"address" personal:"true"`
	Phone         string                       `json:"phone,omitempty" personal:"true"`
	Referral      domain.ReferralSource        `json:"referral"`
	Coordinator   domain.TeamMember            `json:"coordinator"`
	Consents      []ConsentView                `json:"consents"`
	LegalBases    []domain.LegalBasisRecorded  `json:"legal_bases"`
	Diagnosis     DiagnosisView                `json:"diagnosis"`
	TeamFormedOn  domain.Date                  `json:"team_formed_on,omitzero"`
	Team          []domain.TeamMember          `json:"team"`
	TeamMeetings  []domain.TeamMeetingRecorded `json:"team_meetings"`
	Referrals     []ReferralView               `json:"referrals"`
	Contract      *ContractView                `json:"contract"`
	NextDeadlines []Deadline                   `json:"next_deadlines"`
	Overdue       []Deadline                   `json:"overdue"`
	AsOf          domain.Date                  `json:"as_of"`
	Version       int64                        `json:"version"`
}

// family is the stored state of one family's plan; the views computed as
// of a date are derived from it.
type family struct {
	ID            string                       `json:"id"`
	PartnershipID string                       `json:"partnership_id"`
	Closed        bool                         `json:"closed"`
	Erased        bool                         `json:"erased"`
	ErasedOn      domain.Date                  `json:"erased_on,omitzero"`
	Outcome       domain.Outcome               `json:"outcome,omitempty"`
	OpenedOn      domain.Date                  `json:"opened_on"`
	ClosedOn      domain.Date                  `json:"closed_on,omitzero"`
	Reopened      int                          `json:"reopened"`
	Opened        domain.FamilyCaseOpened      `json:"opened"`
	Consents      []ConsentView                `json:"consents"`
	LegalBases    []domain.LegalBasisRecorded  `json:"legal_bases"`
	Diagnosis     DiagnosisView                `json:"diagnosis"`
	TeamFormedOn  domain.Date                  `json:"team_formed_on,omitzero"`
	Team          []domain.TeamMember          `json:"team"`
	TeamMeetings  []domain.TeamMeetingRecorded `json:"team_meetings"`
	Referrals     []ReferralView               `json:"referrals"`
	Contract      *ContractView                `json:"contract"`
	Version       int64                        `json:"version"`
}

// Families is the read model of every family's support plan, with the
// caseloads of workers and institutions derived from it.
type Families struct {
	mu   sync.RWMutex
	byID map[string]*family
}

// NewFamilies returns an empty read model.
func NewFamilies() *Families { return &Families{byID: map[string]*family{}} }

// Name implements Projection.
func (*Families) Name() string { return "families" }

var familyEvents = map[string]bool{}

func init() {
	for _, e := range []domain.Event{domain.FamilyCaseOpened{}, domain.ConsentGiven{}, domain.ConsentWithdrawn{}, domain.LegalBasisRecorded{},
		domain.DiagnosisInputRecorded{}, domain.DiagnosisCompleted{}, domain.TeamFormed{}, domain.TeamMemberJoined{}, domain.TeamMemberLeft{},
		domain.TeamMeetingRecorded{}, domain.TeamDissolved{}, domain.ReferralRequested{}, domain.ReferralAccepted{}, domain.ReferralDeclined{},
		domain.ReferralCompleted{}, domain.ContractDrafted{}, domain.ContractSigned{}, domain.ContractAmended{}, domain.ActionStarted{},
		domain.ActionCompleted{}, domain.ActionMissed{}, domain.ContractReviewed{}, domain.ContractExtended{}, domain.ContractEnded{},
		domain.CaseClosed{}, domain.CaseReopened{}, domain.FamilyErased{}} {
		familyEvents[e.EventType()] = true
	}
}

// Handles implements Projection.
func (*Families) Handles(t string) bool { return familyEvents[t] }

// Apply implements Projection.
func (p *Families) Apply(env domain.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.byID[env.AggregateID]
	if f != nil && env.AggregateVersion <= f.Version {
		return nil // applied before
	}
	if e, ok := env.Payload.(domain.FamilyCaseOpened); ok {
		p.byID[env.AggregateID] = &family{ID: env.AggregateID, PartnershipID: e.PartnershipID, OpenedOn: e.OpenedOn, Opened: e,
			Consents: []ConsentView{}, LegalBases: []domain.LegalBasisRecorded{}, Diagnosis: DiagnosisView{Areas: []AreaView{}},
			Team: []domain.TeamMember{}, TeamMeetings: []domain.TeamMeetingRecorded{}, Referrals: []ReferralView{}, Version: env.AggregateVersion}
		return nil
	}
	if f == nil {
		return nil
	}
	f.apply(env)
	f.Version = env.AggregateVersion
	return nil
}

func (f *family) apply(env domain.Envelope) {
	switch e := env.Payload.(type) {
	case domain.ConsentGiven:
		f.Consents = append(f.Consents, ConsentView{ConsentGiven: e})
	case domain.ConsentWithdrawn:
		for i := range f.Consents {
			if f.Consents[i].ConsentID == e.ConsentID {
				f.Consents[i].Withdrawn, f.Consents[i].WithdrawnOn = true, e.WithdrawnOn
			}
		}
	case domain.LegalBasisRecorded:
		f.LegalBases = append(f.LegalBases, e)
	case domain.DiagnosisInputRecorded:
		i := slices.IndexFunc(f.Diagnosis.Areas, func(a AreaView) bool { return a.Area == e.Area })
		if i < 0 {
			f.Diagnosis.Areas = append(f.Diagnosis.Areas, AreaView{Area: e.Area})
			slices.SortStableFunc(f.Diagnosis.Areas, func(a, b AreaView) int { return cmp.Compare(areaIndex(a.Area), areaIndex(b.Area)) })
			i = slices.IndexFunc(f.Diagnosis.Areas, func(a AreaView) bool { return a.Area == e.Area })
		}
		a := &f.Diagnosis.Areas[i]
		a.Inputs = append(a.Inputs, e)
		if severityIndex(e.Severity) > severityIndex(a.Severity) {
			a.Severity = e.Severity
		}
	case domain.DiagnosisCompleted:
		f.Diagnosis.Completed, f.Diagnosis.CompletedOn, f.Diagnosis.Summary = true, e.Date, e.Summary
	case domain.TeamFormed:
		f.TeamFormedOn, f.Team = e.Date, slices.Clone(e.Members)
	case domain.TeamMemberJoined:
		f.Team = append(f.Team, e.Member)
	case domain.TeamMemberLeft:
		f.Team = slices.DeleteFunc(f.Team, func(m domain.TeamMember) bool { return m.WorkerID == e.WorkerID })
	case domain.TeamMeetingRecorded:
		f.TeamMeetings = append(f.TeamMeetings, e)
	case domain.TeamDissolved:
		f.Team, f.TeamFormedOn = []domain.TeamMember{}, domain.Date{}
	case domain.ReferralRequested:
		f.Referrals = append(f.Referrals, ReferralView{ReferralRequested: e, Status: domain.ReferralRequestedStatus, UpdatedOn: e.Date})
	case domain.ReferralAccepted:
		f.referral(e.ReferralID, domain.ReferralAcceptedStatus, e.Date, "")
	case domain.ReferralDeclined:
		f.referral(e.ReferralID, domain.ReferralDeclinedStatus, e.Date, env.Reason)
	case domain.ReferralCompleted:
		f.referral(e.ReferralID, domain.ReferralCompletedStatus, e.Date, "")
	case domain.ContractDrafted:
		f.Contract = newContractView(e.Version, e.Terms, nil)
	case domain.ContractSigned:
		if f.Contract != nil {
			f.Contract.Status, f.Contract.SignedOn = "in_force", e.Date
		}
	case domain.ContractAmended:
		if c := f.Contract; c != nil {
			n := newContractView(e.Version, e.Terms, c)
			n.Status, n.SignedOn, n.Reviews = c.Status, c.SignedOn, c.Reviews
			n.Amendments = append(slices.Clone(c.Amendments), Amendment{Version: e.Version, Changes: e.Changes, SignedOn: e.SignedOn, Reason: env.Reason})
			f.Contract = n
		}
	case domain.ActionStarted:
		f.action(e.ActionID, domain.ActionStatusStarted, e.Date, e.Note)
	case domain.ActionCompleted:
		f.action(e.ActionID, domain.ActionStatusCompleted, e.Date, e.Note)
	case domain.ActionMissed:
		f.action(e.ActionID, domain.ActionStatusMissed, e.Date, e.Note)
	case domain.ContractReviewed:
		if c := f.Contract; c != nil {
			c.Reviews = append(c.Reviews, e)
			for _, g := range e.Goals {
				for i := range c.Goals {
					if c.Goals[i].ID == g.GoalID {
						c.Goals[i].Achievement = g.Achievement
					}
				}
			}
		}
	case domain.ContractExtended:
		if f.Contract != nil {
			f.Contract.EndDate = e.EndDate
		}
	case domain.ContractEnded:
		if c := f.Contract; c != nil {
			c.Status, c.EndedOn, c.Ending, c.Sanction = "ended", e.Date, e.Ending, e.Sanction
		}
	case domain.CaseClosed:
		f.Closed, f.ClosedOn, f.Outcome = true, e.Date, e.Outcome
	case domain.FamilyErased:
		// The key is destroyed: what this model holds must read as a
		// rebuild from the stream would.
		domain.Scrub(f)
		f.Erased, f.ErasedOn = true, e.Date
	case domain.CaseReopened:
		f.Closed, f.ClosedOn, f.Outcome = false, domain.Date{}, ""
		f.Reopened++
		f.Diagnosis, f.Contract = DiagnosisView{Areas: []AreaView{}}, nil
	}
}

func newContractView(version int, t domain.ContractTerms, before *ContractView) *ContractView {
	c := &ContractView{Version: version, Status: "draft", Variant: t.Variant, Assessment: t.Assessment, MainGoal: t.MainGoal,
		ClientDuties: t.ClientDuties, CoordinatorDuties: t.CoordinatorDuties, StartDate: t.StartDate, EndDate: t.EndDate,
		Reviews: []domain.ContractReviewed{}, Amendments: []Amendment{}}
	for _, g := range t.Goals {
		gv := GoalView{Goal: g}
		if before != nil {
			if i := slices.IndexFunc(before.Goals, func(o GoalView) bool { return o.ID == g.ID }); i >= 0 {
				gv.Achievement = before.Goals[i].Achievement
			}
		}
		c.Goals = append(c.Goals, gv)
	}
	for _, a := range t.Actions {
		av := ActionView{Action: a, Status: domain.ActionStatusPlanned}
		if before != nil {
			if i := slices.IndexFunc(before.Actions, func(o ActionView) bool { return o.ID == a.ID }); i >= 0 {
				av.Status, av.StatusOn, av.Note = before.Actions[i].Status, before.Actions[i].StatusOn, before.Actions[i].Note
			}
		}
		c.Actions = append(c.Actions, av)
	}
	return c
}

func (f *family) referral(id string, s domain.ReferralStatus, d domain.Date, reason string) {
	for i := range f.Referrals {
		if f.Referrals[i].ReferralID == id {
			f.Referrals[i].Status, f.Referrals[i].UpdatedOn, f.Referrals[i].Reason = s, d, reason
		}
	}
}

func (f *family) action(id string, s domain.ActionStatus, d domain.Date, note string) {
	if f.Contract == nil {
		return
	}
	for i := range f.Contract.Actions {
		if f.Contract.Actions[i].ID == id {
			f.Contract.Actions[i].Status, f.Contract.Actions[i].StatusOn, f.Contract.Actions[i].Note = s, d, note
		}
	}
}

func areaIndex(a domain.NeedArea) int     { return slices.Index(domain.NeedAreas, a) }
func severityIndex(s domain.Severity) int { return slices.Index(domain.Severities, s) }

// stage returns where the case stands in the lifecycle.
func (f *family) stage() string {
	switch {
	case f.Closed:
		return StageClosed
	case f.Contract != nil && f.Contract.Status == "ended":
		return StageContractEnded
	case f.Contract != nil && f.Contract.Status == "in_force":
		return StageContractInForce
	case f.Contract != nil:
		return StageContractDrafted
	case f.Diagnosis.Completed:
		return StageDiagnosed
	case len(f.Diagnosis.Areas) > 0:
		return StageDiagnosisInProgress
	}
	return StageOpened
}

// open reports whether an action is still to be done.
func open(s domain.ActionStatus) bool {
	return s == domain.ActionStatusPlanned || s == domain.ActionStatusStarted
}

// deadlines returns the open actions of a contract in force: overdue ones
// (deadline before asOf) and upcoming ones, each by deadline.
func (f *family) deadlines(asOf domain.Date) (overdue, next []Deadline) {
	overdue, next = []Deadline{}, []Deadline{}
	if f.Closed || f.Contract == nil || f.Contract.Status != "in_force" {
		return overdue, next
	}
	for _, a := range f.Contract.Actions {
		if !open(a.Status) {
			continue
		}
		d := Deadline{FamilyID: f.ID, ActionID: a.ID, Description: a.Description, Deadline: a.Deadline, Status: a.Status,
			Party: a.Responsible.Kind, Institution: a.Responsible.InstitutionID, Sector: a.Responsible.Sector}
		if a.Deadline.Before(asOf) {
			overdue = append(overdue, d)
		} else {
			next = append(next, d)
		}
	}
	byDeadline := func(a, b Deadline) int {
		return cmp.Or(a.Deadline.Time().Compare(b.Deadline.Time()), cmp.Compare(a.ActionID, b.ActionID))
	}
	slices.SortFunc(overdue, byDeadline)
	slices.SortFunc(next, byDeadline)
	return overdue, next
}

// plan computes the view of f as of a day.
func (f *family) plan(asOf domain.Date) PlanView {
	v := PlanView{ID: f.ID, PartnershipID: f.PartnershipID, Status: "open", Stage: f.stage(), Erased: f.Erased, Outcome: f.Outcome,
		OpenedOn: f.OpenedOn, ClosedOn: f.ClosedOn, Reopened: f.Reopened, Household: slices.Clone(f.Opened.Household),
		Address: f.Opened.Address, Phone: f.Opened.Phone, Referral: f.Opened.Referral, Coordinator: f.Opened.Coordinator,
		LegalBases: slices.Clone(f.LegalBases), Diagnosis: f.Diagnosis, TeamFormedOn: f.TeamFormedOn, Team: slices.Clone(f.Team),
		TeamMeetings: slices.Clone(f.TeamMeetings), Referrals: slices.Clone(f.Referrals), AsOf: asOf, Version: f.Version}
	if f.Closed {
		v.Status = "closed"
	}
	v.Diagnosis.Areas = slices.Clone(f.Diagnosis.Areas)
	v.Consents = make([]ConsentView, len(f.Consents))
	for i, c := range f.Consents {
		dc := domain.Consent{ConsentGiven: c.ConsentGiven, Withdrawn: c.Withdrawn, WithdrawnOn: c.WithdrawnOn}
		c.Active = dc.ActiveOn(asOf)
		v.Consents[i] = c
	}
	if f.Contract != nil {
		c := *f.Contract
		c.Actions = slices.Clone(f.Contract.Actions)
		for i := range c.Actions {
			c.Actions[i].Overdue = c.Status == "in_force" && !f.Closed && open(c.Actions[i].Status) && c.Actions[i].Deadline.Before(asOf)
		}
		c.ActionsBySector = bySector(c.Actions)
		v.Contract = &c
	}
	var next []Deadline
	v.Overdue, next = f.deadlines(asOf)
	v.NextDeadlines = next[:min(len(next), 5)]
	return v
}

// bySector groups actions by who carries them out: the client, the
// coordinator's sector, then each institution's sector in domain order.
func bySector(actions []ActionView) []SectorActions {
	out := []SectorActions{}
	add := func(kind domain.PartyKind, sector domain.Sector) {
		g := SectorActions{Party: kind, Sector: sector, Actions: []ActionView{}}
		for _, a := range actions {
			if a.Responsible.Kind == kind && (kind == domain.PartyClient || a.Responsible.Sector == sector) {
				g.Actions = append(g.Actions, a)
			}
		}
		if len(g.Actions) > 0 {
			out = append(out, g)
		}
	}
	add(domain.PartyClient, "")
	for _, s := range domain.Sectors {
		add(domain.PartyCoordinator, s)
	}
	for _, s := range domain.Sectors {
		add(domain.PartyInstitution, s)
	}
	return out
}

// Plan returns the support plan of a family as of a day.
func (p *Families) Plan(id string, asOf domain.Date) (PlanView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	f, ok := p.byID[id]
	if !ok {
		return PlanView{}, false
	}
	return f.plan(asOf), true
}

// FamilySummary is one line of the family list.
type FamilySummary struct {
	ID             string      `json:"id"`
	PartnershipID  string      `json:"partnership_id"`
	Applicant      string      `json:"applicant"`
	Members        int         `json:"members"`
	Status         string      `json:"status"`
	Stage          string      `json:"stage"`
	Erased         bool        `json:"erased"`
	CoordinatorID  string      `json:"coordinator_id"`
	Coordinator    string      `json:"coordinator"`
	OpenedOn       domain.Date `json:"opened_on"`
	TeamSize       int         `json:"team_size"`
	OverdueActions int         `json:"overdue_actions"`
	NextDeadline   domain.Date `json:"next_deadline,omitzero"`
	Version        int64       `json:"version"`
}

// FamilyFilter narrows List; zero fields do not filter.
type FamilyFilter struct {
	PartnershipID string
	Status        string // open, closed
	Stage         string
	CoordinatorID string // worker id
	WorkerID      string // on the current team
	InstitutionID string // with a worker on the current team
	Overdue       *bool
}

func (f *family) summary(asOf domain.Date) FamilySummary {
	s := FamilySummary{ID: f.ID, PartnershipID: f.PartnershipID, Members: len(f.Opened.Household), Status: "open", Stage: f.stage(), Erased: f.Erased,
		CoordinatorID: f.Opened.Coordinator.WorkerID, Coordinator: f.Opened.Coordinator.Name, OpenedOn: f.OpenedOn, TeamSize: len(f.Team), Version: f.Version}
	if f.Closed {
		s.Status = "closed"
	}
	for _, m := range f.Opened.Household {
		if m.Relation == domain.RelationApplicant {
			s.Applicant = m.Name
		}
	}
	overdue, next := f.deadlines(asOf)
	s.OverdueActions = len(overdue)
	if len(next) > 0 {
		s.NextDeadline = next[0].Deadline
	}
	return s
}

func (flt FamilyFilter) match(f *family, s FamilySummary) bool {
	return (flt.PartnershipID == "" || f.PartnershipID == flt.PartnershipID) &&
		(flt.Status == "" || s.Status == flt.Status) &&
		(flt.Stage == "" || s.Stage == flt.Stage) &&
		(flt.CoordinatorID == "" || s.CoordinatorID == flt.CoordinatorID) &&
		(flt.WorkerID == "" || slices.ContainsFunc(f.Team, func(m domain.TeamMember) bool { return m.WorkerID == flt.WorkerID })) &&
		(flt.InstitutionID == "" || slices.ContainsFunc(f.Team, func(m domain.TeamMember) bool { return m.InstitutionID == flt.InstitutionID })) &&
		(flt.Overdue == nil || (s.OverdueActions > 0) == *flt.Overdue)
}

// List returns the families passing the filter as of a day, by opening
// date then id.
func (p *Families) List(flt FamilyFilter, asOf domain.Date) []FamilySummary {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := []FamilySummary{}
	for _, f := range p.byID {
		if s := f.summary(asOf); flt.match(f, s) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b FamilySummary) int {
		return cmp.Or(a.OpenedOn.Time().Compare(b.OpenedOn.Time()), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Caseload is what a worker or institution has on its plate: the open
// families whose team it is on, and the actions due, overdue first.
type Caseload struct {
	Families []FamilySummary `json:"families"`
	Overdue  []Deadline      `json:"overdue"`
	Upcoming []Deadline      `json:"upcoming"`
	AsOf     domain.Date     `json:"as_of"`
}

// WorkerCaseload returns the caseload of a worker: families they
// coordinate or whose team they are on, and the actions of their
// institution (or, for the coordinator, the coordinator's actions).
func (p *Families) WorkerCaseload(workerID string, asOf domain.Date) Caseload {
	return p.caseload(asOf, func(f *family) (bool, func(Deadline) bool) {
		i := slices.IndexFunc(f.Team, func(m domain.TeamMember) bool { return m.WorkerID == workerID })
		coordinator := f.Opened.Coordinator.WorkerID == workerID
		if i < 0 && !coordinator {
			return false, nil
		}
		inst := f.Opened.Coordinator.InstitutionID
		if i >= 0 {
			inst = f.Team[i].InstitutionID
		}
		return true, func(d Deadline) bool {
			return (coordinator && d.Party == domain.PartyCoordinator) || (d.Party == domain.PartyInstitution && d.Institution == inst)
		}
	})
}

// InstitutionCaseload returns the caseload of an institution.
func (p *Families) InstitutionCaseload(institutionID string, asOf domain.Date) Caseload {
	return p.caseload(asOf, func(f *family) (bool, func(Deadline) bool) {
		coordinating := f.Opened.Coordinator.InstitutionID == institutionID
		if !coordinating && !slices.ContainsFunc(f.Team, func(m domain.TeamMember) bool { return m.InstitutionID == institutionID }) {
			return false, nil
		}
		return true, func(d Deadline) bool {
			return (coordinating && d.Party == domain.PartyCoordinator) || (d.Party == domain.PartyInstitution && d.Institution == institutionID)
		}
	})
}

func (p *Families) caseload(asOf domain.Date, pick func(*family) (bool, func(Deadline) bool)) Caseload {
	p.mu.RLock()
	defer p.mu.RUnlock()
	c := Caseload{Families: []FamilySummary{}, Overdue: []Deadline{}, Upcoming: []Deadline{}, AsOf: asOf}
	for _, f := range p.byID {
		if f.Closed {
			continue
		}
		ok, mine := pick(f)
		if !ok {
			continue
		}
		c.Families = append(c.Families, f.summary(asOf))
		overdue, next := f.deadlines(asOf)
		c.Overdue = append(c.Overdue, slices.DeleteFunc(overdue, func(d Deadline) bool { return !mine(d) })...)
		c.Upcoming = append(c.Upcoming, slices.DeleteFunc(next, func(d Deadline) bool { return !mine(d) })...)
	}
	byDeadline := func(a, b Deadline) int {
		return cmp.Or(a.Deadline.Time().Compare(b.Deadline.Time()), cmp.Compare(a.FamilyID, b.FamilyID), cmp.Compare(a.ActionID, b.ActionID))
	}
	slices.SortFunc(c.Overdue, byDeadline)
	slices.SortFunc(c.Upcoming, byDeadline)
	slices.SortFunc(c.Families, func(a, b FamilySummary) int {
		return cmp.Or(a.OpenedOn.Time().Compare(b.OpenedOn.Time()), cmp.Compare(a.ID, b.ID))
	})
	return c
}

// StagesByPartnership counts a partnership's families by stage.
func (p *Families) StagesByPartnership(partnershipID string) map[string]int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := map[string]int{}
	for _, s := range FamilyStages {
		out[s] = 0
	}
	for _, f := range p.byID {
		if f.PartnershipID == partnershipID {
			out[f.stage()]++
		}
	}
	return out
}

// Due is a closed family whose retention period has passed.
type Due struct {
	FamilyID      string      `json:"family_id"`
	InstitutionID string      `json:"institution_id"` // the coordinating institution
	ClosedOn      domain.Date `json:"closed_on"`
	Days          int         `json:"retention_days"`
	DueOn         domain.Date `json:"due_on"`
}

// RetentionDue lists the closed, not yet erased families whose
// coordinating institution's retention (days, by institution id) has
// passed on asOf.
func (p *Families) RetentionDue(retention map[string]int, asOf domain.Date) []Due {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := []Due{}
	for _, f := range p.byID {
		inst := f.Opened.Coordinator.InstitutionID
		days := retention[inst]
		if !f.Closed || f.Erased || days == 0 {
			continue
		}
		due := domain.NewDate(f.ClosedOn.Time().Year(), f.ClosedOn.Time().Month(), f.ClosedOn.Time().Day()+days)
		if !asOf.Before(due) {
			out = append(out, Due{FamilyID: f.ID, InstitutionID: inst, ClosedOn: f.ClosedOn, Days: days, DueOn: due})
		}
	}
	slices.SortFunc(out, func(a, b Due) int {
		return cmp.Or(a.DueOn.Time().Compare(b.DueOn.Time()), cmp.Compare(a.FamilyID, b.FamilyID))
	})
	return out
}

// Erased returns the ids of erased families, so that the engine can make
// sure their keys are destroyed too.
func (p *Families) Erased() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []string
	for id, f := range p.byID {
		if f.Erased {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Today returns the current day in Poland, the as-of date of live views.
func Today(now time.Time) domain.Date {
	t := now.In(Warsaw)
	return domain.NewDate(t.Year(), t.Month(), t.Day())
}

// Warsaw is the time zone of the model's days.
var Warsaw = domain.Warsaw

// Snapshot implements Projection.
func (p *Families) Snapshot() ([]byte, error) { return snapshot(&p.mu, p.byID) }

// Restore implements Projection.
func (p *Families) Restore(b []byte) error { return restore(&p.mu, &p.byID, b) }

// FamilyScope is what access control needs to know of a family: who leads
// it, who is on its team, and what its consents cover.
type FamilyScope struct {
	PartnershipID string
	Coordinator   domain.TeamMember
	Team          map[string]string // worker id → institution id
	Erased        bool
	family        domain.Family
}

// Covered reports whether the family's data of a category may be shared
// with an institution on day d (its consents and legal bases, by the
// domain's rule).
func (s FamilyScope) Covered(institutionID string, c domain.DataCategory, d domain.Date) bool {
	return s.family.Covered(institutionID, c, d)
}

// Scope returns the access facts of a family.
func (p *Families) Scope(id string) (FamilyScope, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	f, ok := p.byID[id]
	if !ok {
		return FamilyScope{}, false
	}
	s := FamilyScope{PartnershipID: f.PartnershipID, Coordinator: f.Opened.Coordinator, Team: map[string]string{}, Erased: f.Erased,
		family: domain.Family{Coordinator: f.Opened.Coordinator, Consents: map[string]*domain.Consent{}, Legal: slices.Clone(f.LegalBases)}}
	for _, m := range f.Team {
		s.Team[m.WorkerID] = m.InstitutionID
	}
	for _, c := range f.Consents {
		s.family.Consents[c.ConsentID] = &domain.Consent{ConsentGiven: c.ConsentGiven, Withdrawn: c.Withdrawn, WithdrawnOn: c.WithdrawnOn}
	}
	return s, true
}

// AreaCategory is the data category that covers a need area of the
// diagnosis, for showing a team member only what the consent covers.
func AreaCategory(a domain.NeedArea) domain.DataCategory {
	switch a {
	case domain.AreaHousing:
		return domain.DataHousing
	case domain.AreaIncome:
		return domain.DataIncome
	case domain.AreaEmployment:
		return domain.DataEmployment
	case domain.AreaHealth, domain.AreaDisability:
		return domain.DataHealth
	case domain.AreaAddiction:
		return domain.DataAddiction
	case domain.AreaViolence:
		return domain.DataViolence
	case domain.AreaEducation:
		return domain.DataEducation
	case domain.AreaJustice:
		return domain.DataJustice
	}
	return domain.DataBasic // parenting and childcare
}
