package domain

import (
	"errors"
	"fmt"
	"slices"
)

// WorkerRef names a worker and the institution they act for.
type WorkerRef struct {
	WorkerID      string `json:"worker_id"`
	InstitutionID string `json:"institution_id"`
}

func (w WorkerRef) validate(field string) error {
	return firstErr(checkID(field+".worker_id", w.WorkerID), checkID(field+".institution_id", w.InstitutionID))
}

// OpenFamilyCase asks to open a family's case within a partnership.
type OpenFamilyCase struct {
	FamilyID      string         `json:"-"`
	PartnershipID string         `json:"partnership_id"`
	Household     []Person       `json:"household"`
	Address       string         `json:"address"`
	Phone         string         `json:"phone,omitempty"`
	Referral      ReferralSource `json:"referral"`
	Coordinator   WorkerRef      `json:"coordinator"`
	OpenedOn      Date           `json:"opened_on"`
}

// GiveConsent asks to record a consent.
type GiveConsent struct {
	FamilyID      string         `json:"-"`
	ConsentID     string         `json:"-"`
	InstitutionID string         `json:"institution_id"`
	Categories    []DataCategory `json:"categories"`
	Purpose       string         `json:"purpose"`
	LegalBasis    string         `json:"legal_basis"`
	GivenBy       string         `json:"given_by"`
	GivenOn       Date           `json:"given_on"`
	ExpiresOn     Date           `json:"expires_on,omitzero"`
}

// WithdrawConsent asks to record the withdrawal of a consent.
type WithdrawConsent struct {
	FamilyID    string `json:"-"`
	ConsentID   string `json:"-"`
	WithdrawnOn Date   `json:"withdrawn_on"`
}

// RecordLegalBasis asks to record sharing on a legal basis other than
// consent; the reason is required.
type RecordLegalBasis struct {
	FamilyID      string         `json:"-"`
	InstitutionID string         `json:"institution_id"`
	Categories    []DataCategory `json:"categories"`
	LegalBasis    string         `json:"legal_basis"`
	RecordedOn    Date           `json:"recorded_on"`
}

// RecordDiagnosisInput asks to record one sector's input to the diagnosis.
type RecordDiagnosisInput struct {
	FamilyID      string   `json:"-"`
	Area          NeedArea `json:"area"`
	Severity      Severity `json:"severity"`
	Needs         string   `json:"needs"`
	Strengths     string   `json:"strengths,omitempty"`
	Resources     string   `json:"resources,omitempty"`
	Barriers      string   `json:"barriers,omitempty"`
	WorkerID      string   `json:"worker_id"`
	InstitutionID string   `json:"institution_id"`
	Date          Date     `json:"date"`
}

// CorrectDiagnosisInput asks to correct a diagnosis input's severity and
// texts; the reason is required. The area is not corrected: withdraw the
// input and record a new one.
type CorrectDiagnosisInput struct {
	FamilyID  string   `json:"-"`
	InputID   string   `json:"-"`
	Severity  Severity `json:"severity"`
	Needs     string   `json:"needs"`
	Strengths string   `json:"strengths,omitempty"`
	Resources string   `json:"resources,omitempty"`
	Barriers  string   `json:"barriers,omitempty"`
	Date      Date     `json:"date"`
}

// WithdrawDiagnosisInput asks to withdraw a diagnosis input recorded by
// mistake; the reason is required.
type WithdrawDiagnosisInput struct {
	FamilyID string `json:"-"`
	InputID  string `json:"-"`
	Date     Date   `json:"date"`
}

// CompleteDiagnosis asks to mark the diagnosis complete.
type CompleteDiagnosis struct {
	FamilyID string `json:"-"`
	Date     Date   `json:"date"`
	Summary  string `json:"summary,omitempty"`
}

// FormTeam asks to form the task team; the coordinator joins by right.
type FormTeam struct {
	FamilyID string      `json:"-"`
	Date     Date        `json:"date"`
	Members  []WorkerRef `json:"members"`
}

// AddTeamMember asks to add a worker to the task team.
type AddTeamMember struct {
	FamilyID string `json:"-"`
	WorkerRef
	Date Date `json:"date"`
}

// RemoveTeamMember asks to record a worker leaving the team; the reason is
// required.
type RemoveTeamMember struct {
	FamilyID string `json:"-"`
	WorkerID string `json:"-"`
	Date     Date   `json:"date"`
}

// RecordTeamMeeting asks to record a meeting of the task team.
type RecordTeamMeeting struct {
	FamilyID  string   `json:"-"`
	MeetingID string   `json:"-"`
	Date      Date     `json:"date"`
	Attendees []string `json:"attendees"`
	Decisions []string `json:"decisions,omitempty"`
	NextSteps []string `json:"next_steps,omitempty"`
}

// RequestReferral asks to refer the family to a basket service.
type RequestReferral struct {
	FamilyID   string `json:"-"`
	ReferralID string `json:"-"`
	ServiceID  string `json:"service_id"`
	Date       Date   `json:"date"`
	Note       string `json:"note,omitempty"`
}

// UpdateReferral asks to move a referral to accepted, declined or
// completed.
type UpdateReferral struct {
	FamilyID   string         `json:"-"`
	ReferralID string         `json:"-"`
	Status     ReferralStatus `json:"status"`
	Date       Date           `json:"date"`
}

// DraftContract asks to draft the social contract or, when one is in
// force, to amend it (then Changes and SignedOn are required, and a
// reason).
type DraftContract struct {
	FamilyID string `json:"-"`
	ContractTerms
	Changes  string `json:"changes,omitempty"`
	SignedOn Date   `json:"signed_on,omitzero"`
	// Date is the day of drafting (optional): the business date of a
	// draft, which the signing may not precede.
	Date Date `json:"date,omitzero"`
}

// SignContract asks to record the signing of the drafted contract.
type SignContract struct {
	FamilyID string `json:"-"`
	Date     Date   `json:"date"`
	ClientID string `json:"client_id"`
}

// UpdateAction asks to move an action to started, completed or missed.
type UpdateAction struct {
	FamilyID string       `json:"-"`
	ActionID string       `json:"-"`
	Status   ActionStatus `json:"status"`
	Date     Date         `json:"date"`
	Note     string       `json:"note,omitempty"`
}

// WithdrawAction asks to withdraw an action of the contract that is not
// done yet; the reason is required.
type WithdrawAction struct {
	FamilyID string `json:"-"`
	ActionID string `json:"-"`
	Date     Date   `json:"date"`
}

// ReviewContract asks to record a review of the contract.
type ReviewContract struct {
	FamilyID string       `json:"-"`
	Date     Date         `json:"date"`
	Goals    []GoalReview `json:"goals"`
	Notes    string       `json:"notes,omitempty"`
}

// ExtendContract asks to move the contract's end date later.
type ExtendContract struct {
	FamilyID string `json:"-"`
	EndDate  Date   `json:"end_date"`
}

// EndContract asks to end the contract.
type EndContract struct {
	FamilyID string `json:"-"`
	Date     Date   `json:"date"`
	Ending   Ending `json:"ending"`
	Sanction string `json:"sanction,omitempty"`
}

// CloseCase asks to close the case with an outcome.
type CloseCase struct {
	FamilyID string  `json:"-"`
	Date     Date    `json:"date"`
	Outcome  Outcome `json:"outcome"`
}

// ReopenCase asks to reopen a closed case; the reason is required.
type ReopenCase struct {
	FamilyID string `json:"-"`
	Date     Date   `json:"date"`
}

// EraseFamily asks to erase a family's personal data; the legal basis and
// a reason are required.
type EraseFamily struct {
	FamilyID   string `json:"-"`
	LegalBasis string `json:"legal_basis"`
	Date       Date   `json:"date"`
}

// Target implements Command.
func (c EraseFamily) Target() (string, string) { return AggregateFamily, c.FamilyID }

// Validate implements Command.
func (c EraseFamily) Validate() error {
	return firstErr(checkText("legal_basis", c.LegalBasis, true, maxName), checkDate("date", c.Date, true))
}

// SetFamily implements FamilyCommand.
func (c *EraseFamily) SetFamily(id string) { c.FamilyID = id }

// Target implements Command.
func (c OpenFamilyCase) Target() (string, string)       { return AggregateFamily, c.FamilyID }
func (c GiveConsent) Target() (string, string)          { return AggregateFamily, c.FamilyID }
func (c WithdrawConsent) Target() (string, string)      { return AggregateFamily, c.FamilyID }
func (c RecordLegalBasis) Target() (string, string)     { return AggregateFamily, c.FamilyID }
func (c RecordDiagnosisInput) Target() (string, string) { return AggregateFamily, c.FamilyID }
func (c CompleteDiagnosis) Target() (string, string)    { return AggregateFamily, c.FamilyID }

// Target implements Command.
func (c CorrectDiagnosisInput) Target() (string, string) { return AggregateFamily, c.FamilyID }

// Target implements Command.
func (c WithdrawDiagnosisInput) Target() (string, string) { return AggregateFamily, c.FamilyID }

// Target implements Command.
func (c WithdrawAction) Target() (string, string) { return AggregateFamily, c.FamilyID }

func (c FormTeam) Target() (string, string)          { return AggregateFamily, c.FamilyID }
func (c AddTeamMember) Target() (string, string)     { return AggregateFamily, c.FamilyID }
func (c RemoveTeamMember) Target() (string, string)  { return AggregateFamily, c.FamilyID }
func (c RecordTeamMeeting) Target() (string, string) { return AggregateFamily, c.FamilyID }
func (c RequestReferral) Target() (string, string)   { return AggregateFamily, c.FamilyID }
func (c UpdateReferral) Target() (string, string)    { return AggregateFamily, c.FamilyID }
func (c DraftContract) Target() (string, string)     { return AggregateFamily, c.FamilyID }
func (c SignContract) Target() (string, string)      { return AggregateFamily, c.FamilyID }
func (c UpdateAction) Target() (string, string)      { return AggregateFamily, c.FamilyID }
func (c ReviewContract) Target() (string, string)    { return AggregateFamily, c.FamilyID }
func (c ExtendContract) Target() (string, string)    { return AggregateFamily, c.FamilyID }
func (c EndContract) Target() (string, string)       { return AggregateFamily, c.FamilyID }
func (c CloseCase) Target() (string, string)         { return AggregateFamily, c.FamilyID }
func (c ReopenCase) Target() (string, string)        { return AggregateFamily, c.FamilyID }

// FamilyCommand is a command addressed to a family case; SetFamily names
// the case (from the request's path).
type FamilyCommand interface {
	Command
	SetFamily(id string)
}

// SetFamily implements FamilyCommand.
func (c *OpenFamilyCase) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *GiveConsent) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *WithdrawConsent) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *RecordLegalBasis) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *RecordDiagnosisInput) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *CompleteDiagnosis) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *CorrectDiagnosisInput) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *WithdrawDiagnosisInput) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *WithdrawAction) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *FormTeam) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *AddTeamMember) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *RemoveTeamMember) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *RecordTeamMeeting) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *RequestReferral) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *UpdateReferral) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *DraftContract) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *SignContract) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *UpdateAction) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *ReviewContract) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *ExtendContract) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *EndContract) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *CloseCase) SetFamily(id string) { c.FamilyID = id }

// SetFamily implements FamilyCommand.
func (c *ReopenCase) SetFamily(id string) { c.FamilyID = id }

// Validate implements Command.
func (c OpenFamilyCase) Validate() error {
	if err := firstErr(checkID("partnership_id", c.PartnershipID), checkDate("opened_on", c.OpenedOn, true),
		checkText("address", c.Address, true, maxName), checkText("phone", c.Phone, false, 40),
		checkID("referral.institution_id", c.Referral.InstitutionID), checkText("referral.reason", c.Referral.Reason, true, maxText),
		c.Coordinator.validate("coordinator")); err != nil {
		return err
	}
	if len(c.Household) == 0 {
		return ErrRequired.With("household", "at least one household member is required")
	}
	if len(c.Household) > 30 {
		return Invalid("household", "has %d members; at most 30 are allowed", len(c.Household))
	}
	applicants := 0
	seen := map[string]bool{}
	for i, p := range c.Household {
		f := fmt.Sprintf("household[%d]", i)
		if err := firstErr(checkID(f+".person_id", p.PersonID), checkText(f+".name", p.Name, true, maxName),
			checkBirthDate(f+".birth_date", p.BirthDate), Relations.check(f+".relation", p.Relation, true)); err != nil {
			return err
		}
		if seen[p.PersonID] {
			return Invalid(f+".person_id", "person %s is listed twice", p.PersonID)
		}
		seen[p.PersonID] = true
		if p.PESEL != "" {
			if err := CheckPESEL(f+".pesel", p.PESEL); err != nil {
				return err
			}
			d := make([]int, 11)
			for j, ch := range p.PESEL {
				d[j] = int(ch - '0')
			}
			if born, _ := peselBirthDate(d); born != p.BirthDate {
				return Invalid(f+".pesel", "the PESEL encodes the birth date %s, not %s", born, p.BirthDate)
			}
		}
		if p.OpenedAfter(c.OpenedOn) {
			return Invalid(f+".birth_date", "is after the case was opened")
		}
		if p.Relation == RelationApplicant {
			applicants++
		}
	}
	if applicants != 1 {
		return Invalid("household", "exactly one member must have the relation \"applicant\", not %d", applicants)
	}
	return nil
}

// OpenedAfter reports whether the person was born after day d.
func (p Person) OpenedAfter(d Date) bool { return d.Before(p.BirthDate) }

// Validate implements Command.
func (c GiveConsent) Validate() error {
	if err := firstErr(checkID("consent_id", c.ConsentID), checkID("institution_id", c.InstitutionID), checkCategories("categories", c.Categories),
		checkText("purpose", c.Purpose, true, maxText), checkText("legal_basis", c.LegalBasis, true, maxName),
		checkID("given_by", c.GivenBy), checkDate("given_on", c.GivenOn, true), checkDate("expires_on", c.ExpiresOn, false)); err != nil {
		return err
	}
	if !c.ExpiresOn.IsZero() && !c.GivenOn.Before(c.ExpiresOn) {
		return Invalid("expires_on", "must be after given_on")
	}
	return nil
}

func checkCategories(field string, cs []DataCategory) error {
	if len(cs) == 0 {
		return ErrRequired.With(field, "at least one data category is required; use %v", []DataCategory(DataCategories))
	}
	for i, c := range cs {
		if err := DataCategories.check(fmt.Sprintf("%s[%d]", field, i), c, true); err != nil {
			return err
		}
		if slices.Index(cs, c) != i {
			return Invalid(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", c)
		}
	}
	return nil
}

// Validate implements Command.
func (c WithdrawConsent) Validate() error {
	return firstErr(checkID("consent_id", c.ConsentID), checkDate("withdrawn_on", c.WithdrawnOn, true))
}

// Validate implements Command.
func (c RecordLegalBasis) Validate() error {
	return firstErr(checkID("institution_id", c.InstitutionID), checkCategories("categories", c.Categories),
		checkText("legal_basis", c.LegalBasis, true, maxName), checkDate("recorded_on", c.RecordedOn, true))
}

// Validate implements Command.
func (c RecordDiagnosisInput) Validate() error {
	return firstErr(NeedAreas.check("area", c.Area, true), Severities.check("severity", c.Severity, true),
		checkText("needs", c.Needs, true, maxText), checkText("strengths", c.Strengths, false, maxText),
		checkText("resources", c.Resources, false, maxText), checkText("barriers", c.Barriers, false, maxText),
		checkID("worker_id", c.WorkerID), checkID("institution_id", c.InstitutionID), checkDate("date", c.Date, true))
}

// Validate implements Command.
func (c CorrectDiagnosisInput) Validate() error {
	return firstErr(checkID("input_id", c.InputID), Severities.check("severity", c.Severity, true),
		checkText("needs", c.Needs, true, maxText), checkText("strengths", c.Strengths, false, maxText),
		checkText("resources", c.Resources, false, maxText), checkText("barriers", c.Barriers, false, maxText),
		checkDate("date", c.Date, true))
}

// Validate implements Command.
func (c WithdrawDiagnosisInput) Validate() error {
	return firstErr(checkID("input_id", c.InputID), checkDate("date", c.Date, true))
}

// Validate implements Command.
func (c WithdrawAction) Validate() error {
	return firstErr(checkKey("action_id", c.ActionID, true), checkDate("date", c.Date, true))
}

// Validate implements Command.
func (c CompleteDiagnosis) Validate() error {
	return firstErr(checkDate("date", c.Date, true), checkText("summary", c.Summary, false, maxText))
}

// Validate implements Command.
func (c FormTeam) Validate() error {
	if err := checkDate("date", c.Date, true); err != nil {
		return err
	}
	if len(c.Members) > 50 {
		return Invalid("members", "has %d members; at most 50 are allowed", len(c.Members))
	}
	for i, m := range c.Members {
		f := fmt.Sprintf("members[%d]", i)
		if err := m.validate(f); err != nil {
			return err
		}
		if slices.IndexFunc(c.Members, func(o WorkerRef) bool { return o.WorkerID == m.WorkerID }) != i {
			return Invalid(f+".worker_id", "worker %s is listed twice", m.WorkerID)
		}
	}
	return nil
}

// Validate implements Command.
func (c AddTeamMember) Validate() error {
	return firstErr(checkID("worker_id", c.WorkerID), checkID("institution_id", c.InstitutionID), checkDate("date", c.Date, true))
}

// Validate implements Command.
func (c RemoveTeamMember) Validate() error {
	return firstErr(checkID("worker_id", c.WorkerID), checkDate("date", c.Date, true))
}

// Validate implements Command.
func (c RecordTeamMeeting) Validate() error {
	if err := firstErr(checkID("meeting_id", c.MeetingID), checkDate("date", c.Date, true)); err != nil {
		return err
	}
	if len(c.Attendees) == 0 {
		return ErrRequired.With("attendees", "at least one attending team member is required")
	}
	for i, a := range c.Attendees {
		f := fmt.Sprintf("attendees[%d]", i)
		if err := checkID(f, a); err != nil {
			return err
		}
		if slices.Index(c.Attendees, a) != i {
			return Invalid(f, "worker %s is listed twice", a)
		}
	}
	return firstErr(checkList("decisions", c.Decisions, maxText), checkList("next_steps", c.NextSteps, maxText))
}

// Validate implements Command.
func (c RequestReferral) Validate() error {
	return firstErr(checkID("referral_id", c.ReferralID), checkID("service_id", c.ServiceID), checkDate("date", c.Date, true), checkText("note", c.Note, false, maxText))
}

// Validate implements Command.
func (c UpdateReferral) Validate() error {
	allowed := oneOf[ReferralStatus]{ReferralAcceptedStatus, ReferralDeclinedStatus, ReferralCompletedStatus}
	return firstErr(checkID("referral_id", c.ReferralID), allowed.check("status", c.Status, true), checkDate("date", c.Date, true))
}

// Validate implements Command.
func (c DraftContract) Validate() error {
	t := c.ContractTerms
	if err := firstErr(ContractVariants.check("variant", t.Variant, true), checkText("assessment.causes", t.Assessment.Causes, true, maxText),
		checkText("assessment.strengths", t.Assessment.Strengths, false, maxText), checkText("assessment.resources", t.Assessment.Resources, false, maxText),
		checkText("assessment.barriers", t.Assessment.Barriers, false, maxText), checkText("main_goal", t.MainGoal, true, maxText),
		checkText("client_duties", t.ClientDuties, true, maxText), checkText("coordinator_duties", t.CoordinatorDuties, true, maxText),
		checkDate("start_date", t.StartDate, true), checkDate("end_date", t.EndDate, true),
		checkText("changes", c.Changes, false, maxText), checkDate("signed_on", c.SignedOn, false), checkDate("date", c.Date, false)); err != nil {
		return err
	}
	if !t.StartDate.Before(t.EndDate) {
		return Invalid("end_date", "must be after start_date")
	}
	if len(t.Goals) == 0 {
		return ErrRequired.With("goals", "at least one specific goal is required")
	}
	if len(t.Goals) > 50 || len(t.Actions) > 200 {
		return Invalid("actions", "a contract holds at most 50 goals and 200 actions")
	}
	for i, g := range t.Goals {
		f := fmt.Sprintf("goals[%d]", i)
		if err := firstErr(checkKey(f+".id", g.ID, true), checkText(f+".description", g.Description, true, maxText), NeedAreas.check(f+".area", g.Area, false)); err != nil {
			return err
		}
		if slices.IndexFunc(t.Goals, func(o Goal) bool { return o.ID == g.ID }) != i {
			return Invalid(f+".id", "goal %s is listed twice", g.ID)
		}
	}
	if len(t.Actions) == 0 {
		return ErrRequired.With("actions", "at least one action is required")
	}
	for i, a := range t.Actions {
		f := fmt.Sprintf("actions[%d]", i)
		if err := firstErr(checkKey(f+".id", a.ID, false), checkText(f+".description", a.Description, true, maxText),
			PartyKinds.check(f+".responsible.kind", a.Responsible.Kind, true), checkDate(f+".deadline", a.Deadline, true),
			checkOptionalID(f+".service_id", a.ServiceID), NeedAreas.check(f+".area", a.Area, false)); err != nil {
			return err
		}
		if a.ID != "" && slices.IndexFunc(t.Actions, func(o Action) bool { return o.ID == a.ID }) != i {
			return Invalid(f+".id", "action %s is listed twice", a.ID)
		}
		if a.Responsible.Kind == PartyInstitution {
			if err := checkID(f+".responsible.institution_id", a.Responsible.InstitutionID); err != nil {
				return err
			}
		} else if a.Responsible.InstitutionID != "" {
			return Invalid(f+".responsible.institution_id", "is only for kind \"institution\"")
		}
		if a.Responsible.Sector != "" {
			return Invalid(f+".responsible.sector", "is filled in from the task team; leave it out")
		}
		if a.Deadline.Before(t.StartDate) || t.EndDate.Before(a.Deadline) {
			return ErrDeadlineOutsideContract.With(f+".deadline", "%s is outside the contract's period %s – %s", a.Deadline, t.StartDate, t.EndDate)
		}
		if err := checkGoalRef(f+".goal_id", a.GoalID, t.Goals); err != nil {
			return err
		}
	}
	return nil
}

// checkGoalRef checks that an action names a goal of the contract.
func checkGoalRef(field, ref string, goals []Goal) error {
	if ref == "" {
		return ErrRequired.With(field, "is required: the id of one of the contract's goals")
	}
	if slices.ContainsFunc(goals, func(g Goal) bool { return g.ID == ref }) {
		return nil
	}
	return Invalid(field, "%q is not a goal of this contract", ref)
}

// checkKey validates the id of a goal or action: chosen by the client, 1–64
// letters, digits, '-' or '_', unique within the contract.
func checkKey(field, k string, required bool) error {
	if k == "" {
		if required {
			return ErrRequired.With(field, "is required (e.g. \"g1\"), so that actions can name their goal")
		}
		return nil
	}
	if len(k) > 64 {
		return Invalid(field, "is longer than 64 characters")
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return Invalid(field, "%q may hold letters, digits, '-' and '_' only", k)
		}
	}
	return nil
}

func checkOptionalID(field, id string) error {
	if id == "" {
		return nil
	}
	return checkID(field, id)
}

// Validate implements Command.
func (c SignContract) Validate() error {
	return firstErr(checkDate("date", c.Date, true), checkID("client_id", c.ClientID))
}

// Validate implements Command.
func (c UpdateAction) Validate() error {
	allowed := oneOf[ActionStatus]{ActionStatusStarted, ActionStatusCompleted, ActionStatusMissed}
	return firstErr(checkKey("action_id", c.ActionID, true), allowed.check("status", c.Status, true),
		checkDate("date", c.Date, true), checkText("note", c.Note, false, maxText))
}

// Validate implements Command.
func (c ReviewContract) Validate() error {
	if err := firstErr(checkDate("date", c.Date, true), checkText("notes", c.Notes, false, maxText)); err != nil {
		return err
	}
	if len(c.Goals) == 0 {
		return ErrRequired.With("goals", "review at least one goal")
	}
	for i, g := range c.Goals {
		f := fmt.Sprintf("goals[%d]", i)
		if err := firstErr(checkKey(f+".goal_id", g.GoalID, true), Achievements.check(f+".achievement", g.Achievement, true)); err != nil {
			return err
		}
	}
	return nil
}

// Validate implements Command.
func (c ExtendContract) Validate() error { return checkDate("end_date", c.EndDate, true) }

// Validate implements Command.
func (c EndContract) Validate() error {
	if err := firstErr(checkDate("date", c.Date, true), Endings.check("ending", c.Ending, true), checkText("sanction", c.Sanction, false, maxText)); err != nil {
		return err
	}
	if c.Ending == EndingClientBroke && c.Sanction == "" {
		return ErrRequired.With("sanction", "when the client broke the contract, note the sanction")
	}
	return nil
}

// Validate implements Command.
func (c CloseCase) Validate() error {
	return firstErr(checkDate("date", c.Date, true), Outcomes.check("outcome", c.Outcome, true))
}

// Validate implements Command.
func (c ReopenCase) Validate() error { return checkDate("date", c.Date, true) }

// member returns a worker of a current member institution of the family's
// partnership as a team member, or the error naming field.
func member(facts Facts, partnershipID string, ref WorkerRef, field string) (TeamMember, error) {
	p, err := facts.Partnership(partnershipID)
	if err != nil {
		return TeamMember{}, err
	}
	if !p.IsMember(ref.InstitutionID) {
		return TeamMember{}, ErrNotMember.With(field+"institution_id", "institution %s is not a member of the family's partnership", ref.InstitutionID)
	}
	inst, err := facts.Institution(ref.InstitutionID)
	if err != nil {
		return TeamMember{}, err
	}
	i := slices.IndexFunc(inst.Workers, func(w Worker) bool { return w.ID == ref.WorkerID })
	if i < 0 {
		return TeamMember{}, ErrWorkerNotFound.With(field+"worker_id", "worker %s does not work at %s", ref.WorkerID, inst.Name)
	}
	w := inst.Workers[i]
	return TeamMember{WorkerID: w.ID, InstitutionID: inst.ID, Name: w.Name, Position: w.Position, Institution: inst.Name, Sector: inst.Sector}, nil
}

// Decide implements State.
func (f *Family) Decide(cmd Command, meta Meta, facts Facts) ([]Event, error) {
	_, id := cmd.Target()
	if open, ok := cmd.(OpenFamilyCase); ok {
		return f.open(open, facts)
	}
	if !f.Exists() {
		return nil, ErrFamilyNotFound.With("", "family case %s does not exist", id)
	}
	if f.Erased {
		if _, ok := cmd.(EraseFamily); ok {
			return nil, ErrFamilyErased.With("", "family %s was erased already; nothing more to do", id)
		}
		return nil, ErrFamilyErased.With("", "family %s was erased; nothing can be recorded for it", id)
	}
	if erase, ok := cmd.(EraseFamily); ok {
		if err := checkText("reason", meta.Reason, true, maxText); err != nil {
			return nil, err
		}
		return []Event{FamilyErased{LegalBasis: erase.LegalBasis, Date: erase.Date}}, nil
	}
	if reopen, ok := cmd.(ReopenCase); ok {
		if !f.Closed {
			return nil, ErrCaseOpen.With("", "the case is open; there is nothing to reopen")
		}
		if err := checkText("reason", meta.Reason, true, maxText); err != nil {
			return nil, err
		}
		if err := orderedAfter("date", reopen.Date, f.ClosedOn, "the case was closed"); err != nil {
			return nil, err
		}
		return []Event{CaseReopened{Date: reopen.Date}}, nil
	}
	if f.Closed {
		return nil, ErrCaseClosed.With("", "the case of family %s is closed; reopen it first", id)
	}
	switch c := cmd.(type) {
	case GiveConsent:
		if !f.HasPerson(c.GivenBy) {
			return nil, Invalid("given_by", "person %s is not in the household", c.GivenBy)
		}
		if f.Consents[c.ConsentID] != nil {
			return nil, ErrAlreadyExists.With("consent_id", "consent %s is already recorded", c.ConsentID)
		}
		if _, err := institutionRef(facts, "institution_id", c.InstitutionID); err != nil {
			return nil, err
		}
		e := ConsentGiven{ConsentID: c.ConsentID, InstitutionID: c.InstitutionID, Categories: c.Categories, Purpose: c.Purpose,
			LegalBasis: c.LegalBasis, GivenBy: c.GivenBy, GivenOn: c.GivenOn, ExpiresOn: c.ExpiresOn}
		return []Event{e}, nil
	case WithdrawConsent:
		con := f.Consents[c.ConsentID]
		if con == nil || con.Withdrawn {
			return nil, ErrConsentNotFound.With("", "consent %s is not an active consent of this family", c.ConsentID)
		}
		if err := orderedAfter("withdrawn_on", c.WithdrawnOn, con.GivenOn, "the consent was given"); err != nil {
			return nil, err
		}
		return []Event{ConsentWithdrawn{ConsentID: c.ConsentID, WithdrawnOn: c.WithdrawnOn}}, nil
	case RecordLegalBasis:
		if err := checkText("reason", meta.Reason, true, maxText); err != nil {
			return nil, err
		}
		if _, err := institutionRef(facts, "institution_id", c.InstitutionID); err != nil {
			return nil, err
		}
		return []Event{LegalBasisRecorded{InstitutionID: c.InstitutionID, Categories: c.Categories, LegalBasis: c.LegalBasis, RecordedOn: c.RecordedOn}}, nil
	case RecordDiagnosisInput:
		return f.diagnosisInput(c, meta, facts)
	case CorrectDiagnosisInput:
		if err := f.takeBackInput(c.InputID, c.Date, meta); err != nil {
			return nil, err
		}
		return []Event{DiagnosisInputCorrected{InputID: c.InputID, Severity: c.Severity, Needs: c.Needs, Strengths: c.Strengths,
			Resources: c.Resources, Barriers: c.Barriers, Date: c.Date}}, nil
	case WithdrawDiagnosisInput:
		if err := f.takeBackInput(c.InputID, c.Date, meta); err != nil {
			return nil, err
		}
		return []Event{DiagnosisInputWithdrawn{InputID: c.InputID, Date: c.Date}}, nil
	case WithdrawAction:
		if !f.Contract.InForce() {
			return nil, ErrNoContract.With("", "there is no contract in force; a draft is changed by drafting it again")
		}
		st, ok := f.Contract.Actions[c.ActionID]
		if !ok {
			return nil, ErrActionNotFound.With("", "action %s is not in the contract", c.ActionID)
		}
		if st != ActionStatusPlanned && st != ActionStatusStarted {
			return nil, ErrActionTransition.With("", "a %s action cannot be withdrawn", st)
		}
		if err := firstErr(orderedAfter("date", c.Date, f.Contract.SignedOn, "the contract was signed"),
			orderedAfter("date", c.Date, f.Contract.ActionsOn[c.ActionID], "the action's last change of status")); err != nil {
			return nil, err
		}
		if err := checkText("reason", meta.Reason, true, maxText); err != nil {
			return nil, err
		}
		return []Event{ActionWithdrawn{ActionID: c.ActionID, Date: c.Date}}, nil
	case CompleteDiagnosis:
		if f.Diagnosed {
			return nil, ErrDiagnosisCompleted.With("", "the diagnosis is already completed")
		}
		if f.Inputs == 0 {
			return nil, ErrDiagnosisEmpty.With("", "record at least one sector's input before completing the diagnosis")
		}
		if err := firstErr(orderedAfter("date", c.Date, f.RoundOn, "the case was opened (or reopened)"),
			orderedAfter("date", c.Date, f.LastInputOn, "the diagnosis' latest input")); err != nil {
			return nil, err
		}
		return []Event{DiagnosisCompleted{Date: c.Date, Summary: c.Summary}}, nil
	case FormTeam:
		return f.formTeam(c, facts)
	case AddTeamMember:
		if !f.TeamFormed {
			return nil, ErrNoTeam.With("", "form the task team first")
		}
		if _, on := f.OnTeam(c.WorkerID); on {
			return nil, ErrAlreadyOnTeam.With("worker_id", "worker %s is already on the task team", c.WorkerID)
		}
		if err := orderedAfter("date", c.Date, f.TeamFormedOn, "the task team was formed"); err != nil {
			return nil, err
		}
		m, err := f.teamMember(c.WorkerRef, "", c.Date, facts)
		if err != nil {
			return nil, err
		}
		return []Event{TeamMemberJoined{Member: m, Date: c.Date}}, nil
	case RemoveTeamMember:
		if _, on := f.OnTeam(c.WorkerID); !on {
			return nil, ErrNotOnTeam.With("worker_id", "worker %s is not on the task team", c.WorkerID)
		}
		if c.WorkerID == f.Coordinator.WorkerID {
			return nil, ErrCoordinatorCannotLeave.With("worker_id", "the coordinator leads the team and cannot leave it")
		}
		if err := orderedAfter("date", c.Date, f.JoinedOn[c.WorkerID], "the worker joined the task team"); err != nil {
			return nil, err
		}
		if err := checkText("reason", meta.Reason, true, maxText); err != nil {
			return nil, err
		}
		return []Event{TeamMemberLeft{WorkerID: c.WorkerID, Date: c.Date}}, nil
	case RecordTeamMeeting:
		if !f.TeamFormed {
			return nil, ErrNoTeam.With("", "form the task team first")
		}
		if err := orderedAfter("date", c.Date, f.TeamFormedOn, "the task team was formed"); err != nil {
			return nil, err
		}
		for i, a := range c.Attendees {
			if _, on := f.OnTeam(a); !on {
				return nil, ErrNotOnTeam.With(fmt.Sprintf("attendees[%d]", i), "worker %s is not on the task team", a)
			}
			if joined := f.JoinedOn[a]; c.Date.Before(joined) {
				return nil, ErrDateOutOfOrder.With(fmt.Sprintf("attendees[%d]", i), "worker %s joined the task team on %s, after the meeting on %s", a, joined, c.Date)
			}
		}
		return []Event{TeamMeetingRecorded{MeetingID: c.MeetingID, Date: c.Date, Attendees: c.Attendees, Decisions: c.Decisions, NextSteps: c.NextSteps}}, nil
	case RequestReferral:
		return f.requestReferral(c, facts)
	case UpdateReferral:
		r := f.Referrals[c.ReferralID]
		if r == nil {
			return nil, ErrReferralNotFound.With("", "referral %s does not exist", c.ReferralID)
		}
		if err := firstErr(orderedAfter("date", c.Date, r.Date, "the referral was requested"),
			orderedAfter("date", c.Date, r.UpdatedOn, "the referral's last answer")); err != nil {
			return nil, err
		}
		switch {
		case r.Status == ReferralRequestedStatus && c.Status == ReferralAcceptedStatus:
			return []Event{ReferralAccepted{ReferralID: c.ReferralID, Date: c.Date}}, nil
		case r.Status == ReferralRequestedStatus && c.Status == ReferralDeclinedStatus:
			if err := checkText("reason", meta.Reason, true, maxText); err != nil {
				return nil, err
			}
			return []Event{ReferralDeclined{ReferralID: c.ReferralID, Date: c.Date}}, nil
		case r.Status == ReferralAcceptedStatus && c.Status == ReferralCompletedStatus:
			return []Event{ReferralCompleted{ReferralID: c.ReferralID, Date: c.Date}}, nil
		}
		return nil, ErrReferralTransition.With("status", "a %s referral cannot become %s", r.Status, c.Status)
	case DraftContract:
		return f.draft(c, meta, facts)
	case SignContract:
		if f.Contract == nil || f.Contract.Signed {
			return nil, ErrNoContract.With("", "there is no draft contract to sign")
		}
		if !f.Diagnosed {
			return nil, ErrDiagnosisNotCompleted.With("", "complete the diagnosis of needs before signing the contract")
		}
		if !f.HasPerson(c.ClientID) {
			return nil, Invalid("client_id", "person %s is not in the household", c.ClientID)
		}
		if err := firstErr(orderedAfter("date", c.Date, f.Contract.DraftedOn, "the contract was drafted"),
			orderedAfter("date", c.Date, f.DiagnosedOn, "the diagnosis was completed")); err != nil {
			return nil, err
		}
		return []Event{ContractSigned{Version: f.Contract.Version, Date: c.Date, ClientID: c.ClientID}}, nil
	case UpdateAction:
		return f.updateAction(c)
	case ReviewContract:
		if !f.Contract.InForce() {
			return nil, ErrNoContract.With("", "there is no contract in force to review")
		}
		if err := orderedAfter("date", c.Date, f.Contract.SignedOn, "the contract was signed"); err != nil {
			return nil, err
		}
		for i, g := range c.Goals {
			if !slices.ContainsFunc(f.Contract.Terms.Goals, func(o Goal) bool { return o.ID == g.GoalID }) {
				return nil, Invalid(fmt.Sprintf("goals[%d].goal_id", i), "%s is not a goal of the contract", g.GoalID)
			}
		}
		return []Event{ContractReviewed{Date: c.Date, Goals: c.Goals, Notes: c.Notes}}, nil
	case ExtendContract:
		if !f.Contract.InForce() {
			return nil, ErrNoContract.With("", "there is no contract in force to extend")
		}
		if !f.Contract.Terms.EndDate.Before(c.EndDate) {
			return nil, Invalid("end_date", "must be after the current end date %s", f.Contract.Terms.EndDate)
		}
		return []Event{ContractExtended{EndDate: c.EndDate}}, nil
	case EndContract:
		if !f.Contract.InForce() {
			return nil, ErrNoContract.With("", "there is no contract in force to end")
		}
		if err := firstErr(orderedAfter("date", c.Date, f.Contract.SignedOn, "the contract was signed"),
			orderedAfter("date", c.Date, f.Contract.LastOn(), "the contract's latest step")); err != nil {
			return nil, err
		}
		return []Event{ContractEnded{Date: c.Date, Ending: c.Ending, Sanction: c.Sanction}}, nil
	case CloseCase:
		if err := firstErr(orderedAfter("date", c.Date, f.OpenedOn, "the case was opened"),
			orderedAfter("date", c.Date, f.LastOn, "the case's latest step")); err != nil {
			return nil, err
		}
		if f.Contract.InForce() {
			return nil, ErrContractInForce.With("", "end the social contract before closing the case")
		}
		events := []Event{CaseClosed{Date: c.Date, Outcome: c.Outcome}}
		if f.TeamFormed {
			events = append(events, TeamDissolved{Date: c.Date})
		}
		return events, nil
	}
	return nil, unexpectedCommand(cmd)
}

// takeBackInput checks that an input of the current diagnosis may be
// corrected or withdrawn on day d: it exists, a reason is stated, and d is
// not before the input was recorded.
func (f *Family) takeBackInput(id string, d Date, meta Meta) error {
	in, ok := f.Recorded[id]
	if !ok {
		return ErrInputNotFound.With("", "diagnosis input %s is not an input of the current diagnosis", id)
	}
	return firstErr(checkText("reason", meta.Reason, true, maxText), orderedAfter("date", d, in.Date, "the input was recorded"))
}

func (f *Family) open(c OpenFamilyCase, facts Facts) ([]Event, error) {
	if f.Exists() {
		return nil, ErrAlreadyExists.With("", "family case %s already exists", c.FamilyID)
	}
	p, err := facts.Partnership(c.PartnershipID)
	if errors.Is(err, ErrPartnershipNotFound) {
		return nil, ErrPartnershipNotFound.With("partnership_id", "partnership %s does not exist", c.PartnershipID)
	}
	if err != nil {
		return nil, err
	}
	if c.OpenedOn.Before(p.Initiated.Date) {
		return nil, ErrDateBeforeInitiation.With("opened_on", "%s is before the partnership was initiated on %s", c.OpenedOn, p.Initiated.Date)
	}
	if _, err := institutionRef(facts, "referral.institution_id", c.Referral.InstitutionID); err != nil {
		return nil, err
	}
	if c.Coordinator.InstitutionID != p.Initiated.LeaderID && c.Coordinator.InstitutionID != p.Initiated.CoLeaderID {
		return nil, ErrCoordinatorInstitution.With("coordinator.institution_id", "the coordinator must work at the partnership's leader or co-leader, not at %s", c.Coordinator.InstitutionID)
	}
	coord, err := member(facts, c.PartnershipID, c.Coordinator, "coordinator.")
	if err != nil {
		return nil, err
	}
	return []Event{FamilyCaseOpened{PartnershipID: c.PartnershipID, Household: c.Household, Address: c.Address, Phone: c.Phone,
		Referral: c.Referral, Coordinator: coord, OpenedOn: c.OpenedOn}}, nil
}

// teamMember checks that a worker may join the team on day d: a worker of
// a current member of the partnership whose institution the family's
// consent (or a legal basis) covers.
func (f *Family) teamMember(ref WorkerRef, field string, d Date, facts Facts) (TeamMember, error) {
	m, err := member(facts, f.PartnershipID, ref, field)
	if err != nil {
		return TeamMember{}, err
	}
	if !f.Covered(ref.InstitutionID, DataBasic, d) {
		return TeamMember{}, ErrNoConsent.With(field+"institution_id", "no consent or legal basis covers sharing the family's basic data with %s", m.Institution)
	}
	return m, nil
}

func (f *Family) formTeam(c FormTeam, facts Facts) ([]Event, error) {
	if f.TeamFormed {
		return nil, ErrTeamExists.With("", "the task team is already formed; add or remove members instead")
	}
	if err := orderedAfter("date", c.Date, f.RoundOn, "the case was opened (or reopened)"); err != nil {
		return nil, err
	}
	members := []TeamMember{f.Coordinator}
	for i, ref := range c.Members {
		if ref.WorkerID == f.Coordinator.WorkerID {
			continue // the coordinator is on the team by right
		}
		m, err := f.teamMember(ref, fmt.Sprintf("members[%d].", i), c.Date, facts)
		if err != nil {
			return nil, err
		}
		members = append(members, m)
	}
	return []Event{TeamFormed{Date: c.Date, Members: members}}, nil
}

func (f *Family) diagnosisInput(c RecordDiagnosisInput, meta Meta, facts Facts) ([]Event, error) {
	if f.Diagnosed {
		return nil, ErrDiagnosisCompleted.With("", "the diagnosis is completed; reopen the case for a new one")
	}
	if err := orderedAfter("date", c.Date, f.RoundOn, "the case was opened (or reopened)"); err != nil {
		return nil, err
	}
	m, err := member(facts, f.PartnershipID, WorkerRef{WorkerID: c.WorkerID, InstitutionID: c.InstitutionID}, "")
	if err != nil {
		return nil, err
	}
	if !f.Covered(c.InstitutionID, DataBasic, c.Date) {
		return nil, ErrNoConsent.With("institution_id", "no consent or legal basis covers sharing the family's data with %s", m.Institution)
	}
	if cat := AreaCategory(c.Area); !f.Covered(c.InstitutionID, cat, c.Date) {
		return nil, ErrNoConsent.With("area", "no consent or legal basis of %s covers the data category %s of the area %s on %s", m.Institution, cat, c.Area, c.Date)
	}
	// Derived from the command, so a retried command decides the same.
	id := IDFromKey("diagnosis-input/" + meta.CommandID)
	return []Event{DiagnosisInputRecorded{InputID: id, Area: c.Area, Severity: c.Severity, Needs: c.Needs, Strengths: c.Strengths, Resources: c.Resources,
		Barriers: c.Barriers, WorkerID: c.WorkerID, InstitutionID: c.InstitutionID, Sector: m.Sector, Date: c.Date}}, nil
}

func (f *Family) requestReferral(c RequestReferral, facts Facts) ([]Event, error) {
	if f.Referrals[c.ReferralID] != nil {
		return nil, ErrAlreadyExists.With("referral_id", "referral %s is already recorded", c.ReferralID)
	}
	p, err := facts.Partnership(f.PartnershipID)
	if err != nil {
		return nil, err
	}
	svc := p.Services[c.ServiceID]
	if svc == nil || svc.Withdrawn {
		return nil, ErrServiceNotFound.With("service_id", "service %s is not in the partnership's basket", c.ServiceID)
	}
	if !f.Covered(svc.InstitutionID, DataBasic, c.Date) {
		return nil, ErrNoConsent.With("service_id", "no consent or legal basis covers sharing the family's data with the institution providing %q", svc.Name)
	}
	for _, r := range f.Referrals {
		if r.ServiceID == c.ServiceID && (r.Status == ReferralRequestedStatus || r.Status == ReferralAcceptedStatus) {
			return nil, ErrAlreadyExists.With("service_id", "the family is already referred to %q", svc.Name)
		}
	}
	return []Event{ReferralRequested{ReferralID: c.ReferralID, ServiceID: c.ServiceID, ServiceName: svc.Name,
		InstitutionID: svc.InstitutionID, Date: c.Date, Note: c.Note, Area: svc.Area}}, nil
}

func (f *Family) draft(c DraftContract, meta Meta, facts Facts) ([]Event, error) {
	terms := c.ContractTerms
	terms.Goals = slices.Clone(terms.Goals)
	terms.Actions = slices.Clone(terms.Actions)
	p, err := facts.Partnership(f.PartnershipID)
	if err != nil {
		return nil, err
	}
	for i := range terms.Actions {
		a := &terms.Actions[i]
		field := fmt.Sprintf("actions[%d]", i)
		if a.ID == "" {
			// Derived from the command, so a retried command decides the
			// same; the index keeps ids unique within the contract.
			a.ID = fmt.Sprintf("a%d-%s", i+1, IDFromKey(meta.CommandID)[:8])
		}
		switch a.Responsible.Kind {
		case PartyInstitution:
			j := slices.IndexFunc(f.Team, func(m TeamMember) bool { return m.InstitutionID == a.Responsible.InstitutionID })
			if j < 0 {
				return nil, ErrInstitutionNotOnTeam.With(field+".responsible.institution_id", "no worker of institution %s is on the task team", a.Responsible.InstitutionID)
			}
			a.Responsible.Sector = f.Team[j].Sector
		case PartyCoordinator:
			a.Responsible.Sector = f.Coordinator.Sector
		}
		if a.ServiceID != "" {
			if s := p.Services[a.ServiceID]; s == nil || s.Withdrawn {
				return nil, ErrServiceNotFound.With(field+".service_id", "service %s is not in the partnership's basket", a.ServiceID)
			}
		}
		if a.Area == "" {
			// What the action reveals: its goal's area, else its service's.
			if g := slices.IndexFunc(terms.Goals, func(g Goal) bool { return g.ID == a.GoalID }); g >= 0 {
				a.Area = terms.Goals[g].Area
			}
			if s := p.Services[a.ServiceID]; a.Area == "" && s != nil {
				a.Area = s.Area
			}
		}
	}
	if err := orderedAfter("start_date", terms.StartDate, f.RoundOn, "the case was opened (or reopened)"); err != nil {
		return nil, err
	}
	if f.Contract.InForce() {
		if err := firstErr(checkText("changes", c.Changes, true, maxText), checkDate("signed_on", c.SignedOn, true), checkText("reason", meta.Reason, true, maxText)); err != nil {
			return nil, err
		}
		if !c.Date.IsZero() {
			return nil, Invalid("date", "an amendment is dated by signed_on")
		}
		if err := firstErr(orderedAfter("signed_on", c.SignedOn, f.Contract.SignedOn, "the contract was signed"),
			orderedAfter("signed_on", c.SignedOn, f.Contract.AmendedOn, "the last amendment was signed")); err != nil {
			return nil, err
		}
		return []Event{ContractAmended{Version: f.Versions + 1, Terms: terms, Changes: c.Changes, SignedOn: c.SignedOn}}, nil
	}
	if c.Changes != "" || !c.SignedOn.IsZero() {
		return nil, Invalid("changes", "changes and signed_on are for amending a contract in force; this is a draft")
	}
	return []Event{ContractDrafted{Version: f.Versions + 1, Terms: terms, Date: c.Date}}, nil
}

func (f *Family) updateAction(c UpdateAction) ([]Event, error) {
	if !f.Contract.InForce() {
		return nil, ErrNoContract.With("", "there is no contract in force")
	}
	st, ok := f.Contract.Actions[c.ActionID]
	if !ok {
		return nil, ErrActionNotFound.With("", "action %s is not in the contract", c.ActionID)
	}
	var e Event
	switch {
	case c.Status == ActionStatusStarted && st == ActionStatusPlanned:
		e = ActionStarted{ActionID: c.ActionID, Date: c.Date, Note: c.Note}
	case c.Status == ActionStatusCompleted && (st == ActionStatusPlanned || st == ActionStatusStarted):
		e = ActionCompleted{ActionID: c.ActionID, Date: c.Date, Note: c.Note}
	case c.Status == ActionStatusMissed && (st == ActionStatusPlanned || st == ActionStatusStarted):
		e = ActionMissed{ActionID: c.ActionID, Date: c.Date, Note: c.Note}
	default:
		return nil, ErrActionTransition.With("status", "a %s action cannot become %s", st, c.Status)
	}
	if err := firstErr(orderedAfter("date", c.Date, f.Contract.SignedOn, "the contract was signed"),
		orderedAfter("date", c.Date, f.Contract.ActionsOn[c.ActionID], "the action's last change of status")); err != nil {
		return nil, err
	}
	return []Event{e}, nil
}

// orderedAfter returns ErrDateOutOfOrder naming field when day d is before
// the day of an earlier step it depends on (what says which); a zero
// earlier day (an old event without it) checks nothing.
func orderedAfter(field string, d, earlier Date, what string) error {
	if d.Before(earlier) {
		return ErrDateOutOfOrder.With(field, "%s is before %s on %s", d, what, earlier)
	}
	return nil
}
