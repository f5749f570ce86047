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
	Status ReferralStatus `json:"status"`
}

// ContractState is the family's current social contract.
type ContractState struct {
	Version  int                     `json:"version"`
	Terms    ContractTerms           `json:"terms"`
	Signed   bool                    `json:"signed"`
	SignedOn Date                    `json:"signed_on,omitzero"`
	Ended    bool                    `json:"ended"`
	Actions  map[string]ActionStatus `json:"actions"`
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
	Inputs        int                               // inputs of the current diagnosis that count
	Recorded      map[string]DiagnosisInputRecorded // those inputs, by id
	Diagnosed     bool
	TeamFormed    bool
	Team          []TeamMember
	Referrals     map[string]*Referral
	Contract      *ContractState
	Versions      int // contract versions so far
}

// Exists reports whether the case has been opened.
func (f *Family) Exists() bool { return f.Version > 0 }

// Evolve implements State.
func (f *Family) Evolve(env Envelope) error {
	if f.Consents == nil {
		f.Consents, f.Referrals = map[string]*Consent{}, map[string]*Referral{}
	}
	switch e := env.Payload.(type) {
	case FamilyCaseOpened:
		f.ID, f.PartnershipID, f.Household, f.Coordinator, f.OpenedOn = env.AggregateID, e.PartnershipID, e.Household, e.Coordinator, e.OpenedOn
	case ConsentGiven:
		f.Consents[e.ConsentID] = &Consent{ConsentGiven: e}
	case ConsentWithdrawn:
		if c := f.Consents[e.ConsentID]; c != nil {
			c.Withdrawn, c.WithdrawnOn = true, e.WithdrawnOn
		}
	case LegalBasisRecorded:
		f.Legal = append(f.Legal, e)
	case DiagnosisInputRecorded:
		if f.Recorded == nil {
			f.Recorded = map[string]DiagnosisInputRecorded{}
		}
		f.Recorded[InputIDOf(env, e)] = e
		f.Inputs++
	case DiagnosisInputCorrected:
		if in, ok := f.Recorded[e.InputID]; ok {
			in.Severity, in.Needs, in.Strengths, in.Resources, in.Barriers = e.Severity, e.Needs, e.Strengths, e.Resources, e.Barriers
			f.Recorded[e.InputID] = in
		}
	case DiagnosisInputWithdrawn:
		if _, ok := f.Recorded[e.InputID]; ok {
			delete(f.Recorded, e.InputID)
			f.Inputs--
		}
	case DiagnosisCompleted:
		f.Diagnosed = true
	case TeamFormed:
		f.TeamFormed, f.Team = true, slices.Clone(e.Members)
	case TeamMemberJoined:
		f.Team = append(f.Team, e.Member)
	case TeamMemberLeft:
		f.Team = slices.DeleteFunc(f.Team, func(m TeamMember) bool { return m.WorkerID == e.WorkerID })
	case TeamMeetingRecorded:
	case TeamDissolved:
		f.TeamFormed, f.Team = false, nil
	case ReferralRequested:
		f.Referrals[e.ReferralID] = &Referral{ReferralRequested: e, Status: ReferralRequestedStatus}
	case ReferralAccepted:
		f.setReferral(e.ReferralID, ReferralAcceptedStatus)
	case ReferralDeclined:
		f.setReferral(e.ReferralID, ReferralDeclinedStatus)
	case ReferralCompleted:
		f.setReferral(e.ReferralID, ReferralCompletedStatus)
	case ContractDrafted:
		f.Versions = e.Version
		f.Contract = &ContractState{Version: e.Version, Terms: e.Terms, Actions: planned(e.Terms, nil)}
	case ContractSigned:
		if f.Contract != nil {
			f.Contract.Signed, f.Contract.SignedOn = true, e.Date
		}
	case ContractAmended:
		f.Versions = e.Version
		if f.Contract != nil {
			f.Contract.Version, f.Contract.Terms, f.Contract.Actions = e.Version, e.Terms, planned(e.Terms, f.Contract.Actions)
		}
	case ActionStarted:
		f.setAction(e.ActionID, ActionStatusStarted)
	case ActionCompleted:
		f.setAction(e.ActionID, ActionStatusCompleted)
	case ActionMissed:
		f.setAction(e.ActionID, ActionStatusMissed)
	case ActionWithdrawn:
		f.setAction(e.ActionID, ActionStatusWithdrawn)
	case ContractReviewed:
	case ContractExtended:
		if f.Contract != nil {
			f.Contract.Terms.EndDate = e.EndDate
		}
	case ContractEnded:
		if f.Contract != nil {
			f.Contract.Ended = true
		}
	case CaseClosed:
		f.Closed, f.ClosedOn = true, e.Date
	case FamilyErased:
		f.Erased = true
	case CaseReopened:
		// A reopened case starts a new round: a new diagnosis, team and
		// contract; the history stays in the events.
		f.Closed, f.Diagnosed, f.Inputs, f.Recorded, f.Contract = false, false, 0, nil, nil
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

func (f *Family) setReferral(id string, s ReferralStatus) {
	if r := f.Referrals[id]; r != nil {
		r.Status = s
	}
}

func (f *Family) setAction(id string, s ActionStatus) {
	if f.Contract != nil {
		f.Contract.Actions[id] = s
	}
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
