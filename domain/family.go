package domain

import (
	"fmt"
	"slices"
)

// Consent is a consent as the family aggregate knows it.
type Consent struct {
	ConsentGiven
	Withdrawn   bool `json:"withdrawn"`
	WithdrawnOn Date `json:"withdrawn_on,omitzero"`
}

// ActiveOn reports whether the consent holds on day d.
func (c *Consent) ActiveOn(d Date) bool {
	if c.Withdrawn && !d.Before(c.WithdrawnOn) {
		return false
	}
	if !c.ExpiresOn.IsZero() && c.ExpiresOn.Before(d) {
		return false
	}
	return !d.Before(c.GivenOn)
}

// Referral is a referral as the family aggregate knows it.
type Referral struct {
	ReferralRequested
	Status    ReferralStatus `json:"status"`
	UpdatedOn Date           `json:"updated_on,omitzero"` // the day of its last answer
}

// ContractState is the family's current social contract.
type ContractState struct {
	Version  int                     `json:"version"`
	Terms    ContractTerms           `json:"terms"`
	Signed   bool                    `json:"signed"`
	SignedOn Date                    `json:"signed_on,omitzero"`
	Ended    bool                    `json:"ended"`
	Actions  map[string]ActionStatus `json:"actions"`
	// DraftedOn is the day of the draft when it named one; AmendedOn the
	// signing of the last amendment; ActionsOn the day of each action's
	// last change of status.
	DraftedOn Date            `json:"drafted_on,omitzero"`
	AmendedOn Date            `json:"amended_on,omitzero"`
	ActionsOn map[string]Date `json:"actions_on,omitempty"`
}

// LastOn returns the day of the contract's latest dated step.
func (c *ContractState) LastOn() Date {
	last := later(later(c.DraftedOn, c.SignedOn), c.AmendedOn)
	for _, d := range c.ActionsOn {
		last = later(last, d)
	}
	return last
}

// later returns the later of two days.
func later(a, b Date) Date {
	if a.Before(b) {
		return b
	}
	return a
}

// InForce reports whether the contract is signed and not ended.
func (c *ContractState) InForce() bool { return c != nil && c.Signed && !c.Ended }

// Family is the aggregate of one family's case: its household, consents,
// diagnosis, task team, referrals and social contract. One aggregate per
// family (household), not per person: the model's diagnosis, team and
// contract concern the family as a whole (docs/decisions).
type Family struct {
	ID            string
	Version       int64
	PartnershipID string
	Household     []Person
	Coordinator   TeamMember
	OpenedOn      Date
	Closed        bool
	ClosedOn      Date
	Erased        bool
	Consents      map[string]*Consent
	Legal         []LegalBasisRecorded
	Inputs        int
	Diagnosed     bool
	TeamFormed    bool
	Team          []TeamMember
	Referrals     map[string]*Referral
	Contract      *ContractState
	Versions      int // contract versions so far

	// The days the order of steps is checked against (docs/lifecycle.md),
	// rebuilt from the events' dates.
	RoundOn      Date            // the case opened, or last reopened
	LastInputOn  Date            // the latest diagnosis input of the round
	DiagnosedOn  Date            // the diagnosis completed
	TeamFormedOn Date            // the task team formed
	JoinedOn     map[string]Date // worker id: the day they joined the team
	LastOn       Date            // the latest dated step of the case
}

// Exists reports whether the case has been opened.
func (f *Family) Exists() bool { return f.Version > 0 }

// Evolve implements State.
func (f *Family) Evolve(env Envelope) error {
	if f.Consents == nil {
		f.Consents, f.Referrals, f.JoinedOn = map[string]*Consent{}, map[string]*Referral{}, map[string]Date{}
	}
	switch e := env.Payload.(type) {
	case FamilyCaseOpened:
		f.ID, f.PartnershipID, f.Household, f.Coordinator, f.OpenedOn = env.AggregateID, e.PartnershipID, e.Household, e.Coordinator, e.OpenedOn
		f.RoundOn = e.OpenedOn
		f.step(e.OpenedOn)
	case ConsentGiven:
		f.Consents[e.ConsentID] = &Consent{ConsentGiven: e}
		f.step(e.GivenOn)
	case ConsentWithdrawn:
		if c := f.Consents[e.ConsentID]; c != nil {
			c.Withdrawn, c.WithdrawnOn = true, e.WithdrawnOn
		}
		f.step(e.WithdrawnOn)
	case LegalBasisRecorded:
		f.Legal = append(f.Legal, e)
		f.step(e.RecordedOn)
	case DiagnosisInputRecorded:
		f.Inputs++
		f.LastInputOn = later(f.LastInputOn, e.Date)
		f.step(e.Date)
	case DiagnosisCompleted:
		f.Diagnosed, f.DiagnosedOn = true, e.Date
		f.step(e.Date)
	case TeamFormed:
		f.TeamFormed, f.Team, f.TeamFormedOn = true, slices.Clone(e.Members), e.Date
		for _, m := range e.Members {
			f.JoinedOn[m.WorkerID] = e.Date
		}
		f.step(e.Date)
	case TeamMemberJoined:
		f.Team = append(f.Team, e.Member)
		f.JoinedOn[e.Member.WorkerID] = e.Date
		f.step(e.Date)
	case TeamMemberLeft:
		f.Team = slices.DeleteFunc(f.Team, func(m TeamMember) bool { return m.WorkerID == e.WorkerID })
		delete(f.JoinedOn, e.WorkerID)
		f.step(e.Date)
	case TeamMeetingRecorded:
		f.step(e.Date)
	case TeamDissolved:
		f.TeamFormed, f.Team = false, nil
		clear(f.JoinedOn)
		f.step(e.Date)
	case ReferralRequested:
		f.Referrals[e.ReferralID] = &Referral{ReferralRequested: e, Status: ReferralRequestedStatus}
		f.step(e.Date)
	case ReferralAccepted:
		f.setReferral(e.ReferralID, ReferralAcceptedStatus, e.Date)
	case ReferralDeclined:
		f.setReferral(e.ReferralID, ReferralDeclinedStatus, e.Date)
	case ReferralCompleted:
		f.setReferral(e.ReferralID, ReferralCompletedStatus, e.Date)
	case ContractDrafted:
		f.Versions = e.Version
		f.Contract = &ContractState{Version: e.Version, Terms: e.Terms, Actions: planned(e.Terms, nil), DraftedOn: e.Date, ActionsOn: map[string]Date{}}
		f.step(e.Date)
	case ContractSigned:
		if f.Contract != nil {
			f.Contract.Signed, f.Contract.SignedOn = true, e.Date
		}
		f.step(e.Date)
	case ContractAmended:
		f.Versions = e.Version
		if f.Contract != nil {
			f.Contract.Version, f.Contract.Terms, f.Contract.Actions = e.Version, e.Terms, planned(e.Terms, f.Contract.Actions)
			f.Contract.AmendedOn = later(f.Contract.AmendedOn, e.SignedOn)
		}
		f.step(e.SignedOn)
	case ActionStarted:
		f.setAction(e.ActionID, ActionStatusStarted, e.Date)
	case ActionCompleted:
		f.setAction(e.ActionID, ActionStatusCompleted, e.Date)
	case ActionMissed:
		f.setAction(e.ActionID, ActionStatusMissed, e.Date)
	case ContractReviewed:
		f.step(e.Date)
	case ContractExtended:
		if f.Contract != nil {
			f.Contract.Terms.EndDate = e.EndDate
		}
	case ContractEnded:
		if f.Contract != nil {
			f.Contract.Ended = true
		}
		f.step(e.Date)
	case CaseClosed:
		f.Closed, f.ClosedOn = true, e.Date
		f.step(e.Date)
	case FamilyErased:
		f.Erased = true
	case CaseReopened:
		// A reopened case starts a new round: a new diagnosis, team and
		// contract; the history stays in the events.
		f.Closed, f.Diagnosed, f.Inputs, f.Contract = false, false, 0, nil
		f.RoundOn, f.LastInputOn, f.DiagnosedOn = e.Date, Date{}, Date{}
		f.step(e.Date)
	default:
		return fmt.Errorf("family %s: %w", env.AggregateID, unexpected(env))
	}
	f.Version = env.AggregateVersion
	return nil
}

// planned returns the statuses of a contract's actions: those kept from an
// earlier version keep theirs, new ones are planned.
func planned(t ContractTerms, before map[string]ActionStatus) map[string]ActionStatus {
	out := make(map[string]ActionStatus, len(t.Actions))
	for _, a := range t.Actions {
		out[a.ID] = ActionStatusPlanned
		if s, ok := before[a.ID]; ok {
			out[a.ID] = s
		}
	}
	return out
}

// step records the day of a step, so that later steps are not dated
// before it.
func (f *Family) step(d Date) { f.LastOn = later(f.LastOn, d) }

func (f *Family) setReferral(id string, s ReferralStatus, d Date) {
	if r := f.Referrals[id]; r != nil {
		r.Status, r.UpdatedOn = s, d
	}
	f.step(d)
}

func (f *Family) setAction(id string, s ActionStatus, d Date) {
	if f.Contract != nil {
		f.Contract.Actions[id] = s
		if f.Contract.ActionsOn == nil {
			f.Contract.ActionsOn = map[string]Date{}
		}
		f.Contract.ActionsOn[id] = d
	}
	f.step(d)
}

// OnTeam returns the team member with the worker id.
func (f *Family) OnTeam(workerID string) (TeamMember, bool) {
	i := slices.IndexFunc(f.Team, func(m TeamMember) bool { return m.WorkerID == workerID })
	if i < 0 {
		return TeamMember{}, false
	}
	return f.Team[i], true
}

// InstitutionOnTeam reports whether a worker of the institution is on the
// team.
func (f *Family) InstitutionOnTeam(institutionID string) bool {
	return slices.ContainsFunc(f.Team, func(m TeamMember) bool { return m.InstitutionID == institutionID })
}

// Covered reports whether the family's data of a category may be shared
// with an institution on day d: the coordinator's institution runs the
// case by statute; others need an active consent or a recorded legal basis
// covering the category.
func (f *Family) Covered(institutionID string, category DataCategory, d Date) bool {
	if institutionID == f.Coordinator.InstitutionID {
		return true
	}
	for _, c := range f.Consents {
		if c.InstitutionID == institutionID && slices.Contains(c.Categories, category) && c.ActiveOn(d) {
			return true
		}
	}
	for _, l := range f.Legal {
		if l.InstitutionID == institutionID && slices.Contains(l.Categories, category) && !d.Before(l.RecordedOn) {
			return true
		}
	}
	return false
}

// HasPerson reports whether the person is a member of the household.
func (f *Family) HasPerson(id string) bool {
	return slices.ContainsFunc(f.Household, func(p Person) bool { return p.PersonID == id })
}
