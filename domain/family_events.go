package domain

// AggregateFamily is the aggregate type of a family's case.
const AggregateFamily = "family"

// Person is a member of a family's household. Name, birth date, PESEL and
// phone are personal data.
type Person struct {
	PersonID  string   `json:"person_id"`
	Name      string   `json:"name" personal:"true"`
	BirthDate Date     `json:"birth_date" personal:"true"`
	PESEL     string   `json:"pesel,omitempty" personal:"true"`
	Relation  Relation `json:"relation"`
}

// TeamMember is a worker on a family's task team (ZZK), with the
// institution and sector they act for.
type TeamMember struct {
	WorkerID      string `json:"worker_id"`
	InstitutionID string `json:"institution_id"`
	Name          string `json:"name"`
	Position      string `json:"position,omitempty"`
	Institution   string `json:"institution"`
	Sector        Sector `json:"sector"`
}

// Referral source: which institution referred the family, and why.
type ReferralSource struct {
	InstitutionID string `json:"institution_id"`
	Reason        string `json:"reason" personal:"true"`
}

// FamilyCaseOpened records the opening of a family's case within a
// partnership, with its coordinator (pracownik socjalny prowadzący).
type FamilyCaseOpened struct {
	PartnershipID string         `json:"partnership_id"`
	Household     []Person       `json:"household"`
	Address       string         `json:"address" personal:"true"`
	Phone         string         `json:"phone,omitempty" personal:"true"`
	Referral      ReferralSource `json:"referral"`
	Coordinator   TeamMember     `json:"coordinator"`
	OpenedOn      Date           `json:"opened_on"`
}

// ConsentGiven records the family's consent to share data of some
// categories with an institution.
type ConsentGiven struct {
	ConsentID     string         `json:"consent_id"`
	InstitutionID string         `json:"institution_id"`
	Categories    []DataCategory `json:"categories"`
	Purpose       string         `json:"purpose"`
	LegalBasis    string         `json:"legal_basis"`
	GivenBy       string         `json:"given_by"` // person id
	GivenOn       Date           `json:"given_on"`
	ExpiresOn     Date           `json:"expires_on,omitzero"`
}

// ConsentWithdrawn records that a consent no longer holds.
type ConsentWithdrawn struct {
	ConsentID   string `json:"consent_id"`
	WithdrawnOn Date   `json:"withdrawn_on"`
}

// LegalBasisRecorded records that data is shared with an institution on a
// legal basis other than consent (a court order, a statutory duty), with
// the reason in the envelope.
type LegalBasisRecorded struct {
	InstitutionID string         `json:"institution_id"`
	Categories    []DataCategory `json:"categories"`
	LegalBasis    string         `json:"legal_basis"`
	RecordedOn    Date           `json:"recorded_on"`
}

// DiagnosisInputRecorded records one sector's input to the diagnosis of
// needs (diagnoza potrzeb) in one area, by the worker who gave it.
type DiagnosisInputRecorded struct {
	Area          NeedArea `json:"area"`
	Severity      Severity `json:"severity"`
	Needs         string   `json:"needs" personal:"true"`
	Strengths     string   `json:"strengths,omitempty" personal:"true"`
	Resources     string   `json:"resources,omitempty" personal:"true"`
	Barriers      string   `json:"barriers,omitempty" personal:"true"`
	WorkerID      string   `json:"worker_id"`
	InstitutionID string   `json:"institution_id"`
	Sector        Sector   `json:"sector"`
	Date          Date     `json:"date"`
}

// DiagnosisCompleted records that the diagnosis is complete.
type DiagnosisCompleted struct {
	Date    Date   `json:"date"`
	Summary string `json:"summary,omitempty" personal:"true"`
}

// TeamFormed records the forming of the family's task team (ZZK); the
// coordinator is always its first member.
type TeamFormed struct {
	Date    Date         `json:"date"`
	Members []TeamMember `json:"members"`
}

// TeamMemberJoined records a worker joining the task team.
type TeamMemberJoined struct {
	Member TeamMember `json:"member"`
	Date   Date       `json:"date"`
}

// TeamMemberLeft records a worker leaving the task team (reason in the
// envelope).
type TeamMemberLeft struct {
	WorkerID string `json:"worker_id"`
	Date     Date   `json:"date"`
}

// TeamMeetingRecorded records a meeting of the task team.
type TeamMeetingRecorded struct {
	MeetingID string   `json:"meeting_id"`
	Date      Date     `json:"date"`
	Attendees []string `json:"attendees"` // worker ids
	Decisions []string `json:"decisions,omitempty" personal:"true"`
	NextSteps []string `json:"next_steps,omitempty" personal:"true"`
}

// TeamDissolved records the end of the task team.
type TeamDissolved struct {
	Date Date `json:"date"`
}

// ReferralRequested records the referral of the family to a service of the
// partnership's basket.
type ReferralRequested struct {
	ReferralID    string `json:"referral_id"`
	ServiceID     string `json:"service_id"`
	ServiceName   string `json:"service_name"`
	InstitutionID string `json:"institution_id"`
	Date          Date   `json:"date"`
	Note          string `json:"note,omitempty" personal:"true"`
}

// ReferralAccepted records that the institution took the family on.
type ReferralAccepted struct {
	ReferralID string `json:"referral_id"`
	Date       Date   `json:"date"`
}

// ReferralDeclined records that the institution declined (reason in the
// envelope).
type ReferralDeclined struct {
	ReferralID string `json:"referral_id"`
	Date       Date   `json:"date"`
}

// ReferralCompleted records that the service was delivered.
type ReferralCompleted struct {
	ReferralID string `json:"referral_id"`
	Date       Date   `json:"date"`
}

// Assessment is the contract's assessment of the situation.
type Assessment struct {
	Causes    string `json:"causes" personal:"true"`
	Strengths string `json:"strengths,omitempty" personal:"true"`
	Resources string `json:"resources,omitempty" personal:"true"`
	Barriers  string `json:"barriers,omitempty" personal:"true"`
}

// Goal is a specific goal of the contract.
type Goal struct {
	ID          string `json:"id"`
	Description string `json:"description" personal:"true"`
}

// Party is who carries out an action.
type Party struct {
	Kind          PartyKind `json:"kind"`
	InstitutionID string    `json:"institution_id,omitempty"` // for kind institution
	Sector        Sector    `json:"sector,omitempty"`         // filled in from the team
}

// Action is an action of the contract.
type Action struct {
	ID          string `json:"id"`
	GoalID      string `json:"goal_id"`
	Description string `json:"description" personal:"true"`
	Responsible Party  `json:"responsible"`
	Deadline    Date   `json:"deadline"`
	ServiceID   string `json:"service_id,omitempty"`
}

// ContractTerms are the terms of a social contract (kontrakt socjalny),
// after the official template.
type ContractTerms struct {
	Variant           ContractVariant `json:"variant"`
	Assessment        Assessment      `json:"assessment"`
	MainGoal          string          `json:"main_goal" personal:"true"`
	Goals             []Goal          `json:"goals"`
	Actions           []Action        `json:"actions"`
	ClientDuties      string          `json:"client_duties" personal:"true"`
	CoordinatorDuties string          `json:"coordinator_duties" personal:"true"`
	StartDate         Date            `json:"start_date"`
	EndDate           Date            `json:"end_date"`
}

// ContractDrafted records a draft of the contract (each draft is a new
// version).
type ContractDrafted struct {
	Version int           `json:"version"`
	Terms   ContractTerms `json:"terms"`
	Date    Date          `json:"date,omitzero"` // the day of drafting, when the command named it
}

// ContractSigned records the signing by the client and the coordinator.
type ContractSigned struct {
	Version  int    `json:"version"`
	Date     Date   `json:"date"`
	ClientID string `json:"client_id"` // the signing person's id
}

// ContractAmended records an amendment (aneks) signed by both parties: a
// new version in force at once, with what changed (reason in the
// envelope).
type ContractAmended struct {
	Version  int           `json:"version"`
	Terms    ContractTerms `json:"terms"`
	Changes  string        `json:"changes" personal:"true"`
	SignedOn Date          `json:"signed_on"`
}

// ActionStarted records that an action began.
type ActionStarted struct {
	ActionID string `json:"action_id"`
	Date     Date   `json:"date"`
	Note     string `json:"note,omitempty" personal:"true"`
}

// ActionCompleted records that an action was carried out.
type ActionCompleted struct {
	ActionID string `json:"action_id"`
	Date     Date   `json:"date"`
	Note     string `json:"note,omitempty" personal:"true"`
}

// ActionMissed records that an action was not carried out.
type ActionMissed struct {
	ActionID string `json:"action_id"`
	Date     Date   `json:"date"`
	Note     string `json:"note,omitempty" personal:"true"`
}

// GoalReview is the achievement of one goal at a review.
type GoalReview struct {
	GoalID      string      `json:"goal_id"`
	Achievement Achievement `json:"achievement"`
}

// ContractReviewed records a review of the contract.
type ContractReviewed struct {
	Date  Date         `json:"date"`
	Goals []GoalReview `json:"goals"`
	Notes string       `json:"notes,omitempty" personal:"true"`
}

// ContractExtended records a later end date.
type ContractExtended struct {
	EndDate Date `json:"end_date"`
}

// ContractEnded records the end of the contract.
type ContractEnded struct {
	Date     Date   `json:"date"`
	Ending   Ending `json:"ending"`
	Sanction string `json:"sanction,omitempty" personal:"true"` // for client_broke
}

// CaseClosed records the closing of the case with its outcome.
type CaseClosed struct {
	Date    Date    `json:"date"`
	Outcome Outcome `json:"outcome"`
}

// CaseReopened records that a closed case was reopened.
type CaseReopened struct {
	Date Date `json:"date"`
}

// FamilyErased records that the family's personal data was erased (the
// right to be forgotten, or the end of a retention period): its data key is
// destroyed, its personal fields read as erased from then on, and nothing
// more can be recorded for it. Who erased, when, on which legal basis and
// why stay readable.
type FamilyErased struct {
	LegalBasis string `json:"legal_basis"`
	Date       Date   `json:"date"`
}

// StaffSupportRecorded records a form of support for staff of a
// partnership: a cross-sector training, coaching, a cooperation workshop or
// a consultation meeting.
type StaffSupportRecorded struct {
	ActivityID   string      `json:"activity_id"`
	Kind         SupportKind `json:"kind"`
	Date         Date        `json:"date"`
	Topic        string      `json:"topic"`
	Institutions []string    `json:"institutions"`
	Workers      []string    `json:"workers,omitempty"`
	Hours        float64     `json:"hours,omitempty"`
}

// EventType implements Event.
func (FamilyCaseOpened) EventType() string { return "FamilyCaseOpened" }

// EventType implements Event.
func (ConsentGiven) EventType() string { return "ConsentGiven" }

// EventType implements Event.
func (ConsentWithdrawn) EventType() string { return "ConsentWithdrawn" }

// EventType implements Event.
func (LegalBasisRecorded) EventType() string { return "LegalBasisRecorded" }

// EventType implements Event.
func (DiagnosisInputRecorded) EventType() string { return "DiagnosisInputRecorded" }

// EventType implements Event.
func (DiagnosisCompleted) EventType() string { return "DiagnosisCompleted" }

// EventType implements Event.
func (TeamFormed) EventType() string { return "TeamFormed" }

// EventType implements Event.
func (TeamMemberJoined) EventType() string { return "TeamMemberJoined" }

// EventType implements Event.
func (TeamMemberLeft) EventType() string { return "TeamMemberLeft" }

// EventType implements Event.
func (TeamMeetingRecorded) EventType() string { return "TeamMeetingRecorded" }

// EventType implements Event.
func (TeamDissolved) EventType() string { return "TeamDissolved" }

// EventType implements Event.
func (ReferralRequested) EventType() string { return "ReferralRequested" }

// EventType implements Event.
func (ReferralAccepted) EventType() string { return "ReferralAccepted" }

// EventType implements Event.
func (ReferralDeclined) EventType() string { return "ReferralDeclined" }

// EventType implements Event.
func (ReferralCompleted) EventType() string { return "ReferralCompleted" }

// EventType implements Event.
func (ContractDrafted) EventType() string { return "ContractDrafted" }

// EventType implements Event.
func (ContractSigned) EventType() string { return "ContractSigned" }

// EventType implements Event.
func (ContractAmended) EventType() string { return "ContractAmended" }

// EventType implements Event.
func (ActionStarted) EventType() string { return "ActionStarted" }

// EventType implements Event.
func (ActionCompleted) EventType() string { return "ActionCompleted" }

// EventType implements Event.
func (ActionMissed) EventType() string { return "ActionMissed" }

// EventType implements Event.
func (ContractReviewed) EventType() string { return "ContractReviewed" }

// EventType implements Event.
func (ContractExtended) EventType() string { return "ContractExtended" }

// EventType implements Event.
func (ContractEnded) EventType() string { return "ContractEnded" }

// EventType implements Event.
func (CaseClosed) EventType() string { return "CaseClosed" }

// EventType implements Event.
func (CaseReopened) EventType() string { return "CaseReopened" }

// EventType implements Event.
func (FamilyErased) EventType() string { return "FamilyErased" }

// EventType implements Event.
func (StaffSupportRecorded) EventType() string { return "StaffSupportRecorded" }

func init() {
	register[FamilyCaseOpened](AggregateFamily, 1)
	register[ConsentGiven](AggregateFamily, 1)
	register[ConsentWithdrawn](AggregateFamily, 1)
	register[LegalBasisRecorded](AggregateFamily, 1)
	register[DiagnosisInputRecorded](AggregateFamily, 1)
	register[DiagnosisCompleted](AggregateFamily, 1)
	register[TeamFormed](AggregateFamily, 1)
	register[TeamMemberJoined](AggregateFamily, 1)
	register[TeamMemberLeft](AggregateFamily, 1)
	register[TeamMeetingRecorded](AggregateFamily, 1)
	register[TeamDissolved](AggregateFamily, 1)
	register[ReferralRequested](AggregateFamily, 1)
	register[ReferralAccepted](AggregateFamily, 1)
	register[ReferralDeclined](AggregateFamily, 1)
	register[ReferralCompleted](AggregateFamily, 1)
	register[ContractDrafted](AggregateFamily, 1)
	register[ContractSigned](AggregateFamily, 1)
	register[ContractAmended](AggregateFamily, 1)
	register[ActionStarted](AggregateFamily, 1)
	register[ActionCompleted](AggregateFamily, 1)
	register[ActionMissed](AggregateFamily, 1)
	register[ContractReviewed](AggregateFamily, 1)
	register[ContractExtended](AggregateFamily, 1)
	register[ContractEnded](AggregateFamily, 1)
	register[CaseClosed](AggregateFamily, 1)
	register[CaseReopened](AggregateFamily, 1)
	register[StaffSupportRecorded](AggregatePartnership, 1)
	register[FamilyErased](AggregateFamily, 1)
}
