package domain

import (
	"fmt"
	"slices"
)

// oneOf is a closed set of string values, for validation with a clear
// error that lists the allowed values.
type oneOf[T ~string] []T

func (o oneOf[T]) check(field string, v T, required bool) error {
	if v == "" {
		if required {
			return ErrRequired.With(field, "is required; use one of %v", []T(o))
		}
		return nil
	}
	if !slices.Contains(o, v) {
		return Invalid(field, "%q is not allowed; use one of %v", v, []T(o))
	}
	return nil
}

// DataCategory is a category of personal data a family's consent covers.
type DataCategory string

// Data categories. Basic covers identification and the social situation:
// what every institution on a task team needs.
const (
	DataBasic      DataCategory = "basic"      // dane identyfikacyjne i sytuacja socjalna
	DataHealth     DataCategory = "health"     // zdrowie
	DataAddiction  DataCategory = "addiction"  // uzależnienia
	DataViolence   DataCategory = "violence"   // przemoc
	DataEducation  DataCategory = "education"  // edukacja
	DataEmployment DataCategory = "employment" // zatrudnienie
	DataJustice    DataCategory = "justice"    // sprawy sądowe i karne
	DataHousing    DataCategory = "housing"    // mieszkanie
	DataIncome     DataCategory = "income"     // dochody
)

// DataCategories lists the data categories.
var DataCategories = oneOf[DataCategory]{DataBasic, DataHealth, DataAddiction, DataViolence, DataEducation, DataEmployment, DataJustice, DataHousing, DataIncome}

// NeedArea is an area of the diagnosis of needs (diagnoza potrzeb).
type NeedArea string

// Need areas.
const (
	AreaHousing    NeedArea = "housing"    // mieszkanie
	AreaIncome     NeedArea = "income"     // dochód
	AreaEmployment NeedArea = "employment" // zatrudnienie
	AreaHealth     NeedArea = "health"     // zdrowie
	AreaAddiction  NeedArea = "addiction"  // uzależnienia
	AreaViolence   NeedArea = "violence"   // przemoc
	AreaParenting  NeedArea = "parenting"  // rodzicielstwo i opieka nad dziećmi
	AreaEducation  NeedArea = "education"  // edukacja
	AreaDisability NeedArea = "disability" // niepełnosprawność
	AreaJustice    NeedArea = "justice"    // sprawy sądowe
)

// NeedAreas lists the need areas.
var NeedAreas = oneOf[NeedArea]{AreaHousing, AreaIncome, AreaEmployment, AreaHealth, AreaAddiction, AreaViolence, AreaParenting, AreaEducation, AreaDisability, AreaJustice}

// AreaCategory is the data category a need area reveals: what a consent
// must cover for an institution to record or see the family's data of that
// area.
func AreaCategory(a NeedArea) DataCategory {
	switch a {
	case AreaHousing:
		return DataHousing
	case AreaIncome:
		return DataIncome
	case AreaEmployment:
		return DataEmployment
	case AreaHealth, AreaDisability:
		return DataHealth
	case AreaAddiction:
		return DataAddiction
	case AreaViolence:
		return DataViolence
	case AreaEducation:
		return DataEducation
	case AreaJustice:
		return DataJustice
	}
	return DataBasic // parenting and childcare
}

// Severity is how pressing a need is.
type Severity string

// Severities, from least to most pressing.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists the severities.
var Severities = oneOf[Severity]{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Relation is a household member's relation to the applicant.
type Relation string

// Relations.
const (
	RelationApplicant Relation = "applicant" // wnioskodawca
	RelationSpouse    Relation = "spouse"
	RelationPartner   Relation = "partner"
	RelationChild     Relation = "child"
	RelationParent    Relation = "parent"
	RelationSibling   Relation = "sibling"
	RelationOther     Relation = "other"
)

// Relations lists the relations.
var Relations = oneOf[Relation]{RelationApplicant, RelationSpouse, RelationPartner, RelationChild, RelationParent, RelationSibling, RelationOther}

// ContractVariant is the variant of the official template of the social
// contract (Dz.U. 2010 nr 218 poz. 1439).
type ContractVariant string

// Contract variants.
const (
	VariantA ContractVariant = "A" // rozwiązanie trudnej sytuacji życiowej osoby lub rodziny
	VariantB ContractVariant = "B" // aktywizacja i usamodzielnienie
)

// ContractVariants lists the variants.
var ContractVariants = oneOf[ContractVariant]{VariantA, VariantB}

// PartyKind is who is responsible for an action of the contract.
type PartyKind string

// Party kinds.
const (
	PartyClient      PartyKind = "client"      // the person or family
	PartyCoordinator PartyKind = "coordinator" // the coordinating social worker
	PartyInstitution PartyKind = "institution" // an institution on the task team
)

// PartyKinds lists the party kinds.
var PartyKinds = oneOf[PartyKind]{PartyClient, PartyCoordinator, PartyInstitution}

// ActionStatus is where an action of the contract stands.
type ActionStatus string

// Action statuses.
const (
	ActionStatusPlanned   ActionStatus = "planned"
	ActionStatusStarted   ActionStatus = "started"
	ActionStatusCompleted ActionStatus = "completed"
	ActionStatusMissed    ActionStatus = "missed"
	ActionStatusWithdrawn ActionStatus = "withdrawn" // taken back by the coordinator, with a reason
)

// Achievement is how far a goal was reached at a review.
type Achievement string

// Achievements.
const (
	NotAchieved       Achievement = "not_achieved"
	PartiallyAchieved Achievement = "partially_achieved"
	Achieved          Achievement = "achieved"
)

// Achievements lists the achievements.
var Achievements = oneOf[Achievement]{NotAchieved, PartiallyAchieved, Achieved}

// Ending is why a social contract ended.
type Ending string

// Endings.
const (
	EndingGoalsMet       Ending = "goals_met"       // cele osiągnięte
	EndingClientBroke    Ending = "client_broke"    // niedotrzymanie przez klienta (z sankcją)
	EndingClientWithdrew Ending = "client_withdrew" // rezygnacja klienta
	EndingMovedAway      Ending = "moved_away"      // wyprowadzka
	EndingOther          Ending = "other"
)

// Endings lists the endings.
var Endings = oneOf[Ending]{EndingGoalsMet, EndingClientBroke, EndingClientWithdrew, EndingMovedAway, EndingOther}

// Outcome is how a family's case ended.
type Outcome string

// Outcomes.
const (
	OutcomeGoalsAchieved  Outcome = "goals_achieved"
	OutcomePartlyAchieved Outcome = "partly_achieved"
	OutcomeNotAchieved    Outcome = "not_achieved"
	OutcomeClientWithdrew Outcome = "client_withdrew"
	OutcomeMovedAway      Outcome = "moved_away"
	OutcomeTransferred    Outcome = "transferred"
	OutcomeOther          Outcome = "other"
)

// Outcomes lists the outcomes.
var Outcomes = oneOf[Outcome]{OutcomeGoalsAchieved, OutcomePartlyAchieved, OutcomeNotAchieved, OutcomeClientWithdrew, OutcomeMovedAway, OutcomeTransferred, OutcomeOther}

// ReferralStatus is where a referral to a basket service stands.
type ReferralStatus string

// Referral statuses.
const (
	ReferralRequestedStatus ReferralStatus = "requested"
	ReferralAcceptedStatus  ReferralStatus = "accepted"
	ReferralDeclinedStatus  ReferralStatus = "declined"
	ReferralCompletedStatus ReferralStatus = "completed"
)

// SupportKind is a form of support for staff in the model: the six forms
// the model's texts list.
type SupportKind string

// Support kinds.
const (
	SupportTraining     SupportKind = "training"     // szkolenie międzysektorowe
	SupportCoaching     SupportKind = "coaching"     // coaching
	SupportWorkshop     SupportKind = "workshop"     // warsztaty kooperacyjne
	SupportPZKMeeting   SupportKind = "pzk_meeting"  // spotkanie PZK (jako forma wsparcia kadr)
	SupportZZKMeeting   SupportKind = "zzk_meeting"  // spotkanie ZZK (jako forma wsparcia kadr)
	SupportConsultation SupportKind = "consultation" // spotkanie konsultacyjne
)

// SupportKinds lists the support kinds.
var SupportKinds = oneOf[SupportKind]{SupportTraining, SupportCoaching, SupportWorkshop, SupportPZKMeeting, SupportZZKMeeting, SupportConsultation}

// CheckPESEL validates a PESEL number: eleven digits, a valid check digit
// and a birth date that exists.
func CheckPESEL(field, p string) error {
	if len(p) != 11 {
		return Invalid(field, "a PESEL has 11 digits, this one has %d characters", len(p))
	}
	d := make([]int, 11)
	for i, c := range p {
		if c < '0' || c > '9' {
			return Invalid(field, "a PESEL has digits only")
		}
		d[i] = int(c - '0')
	}
	w := []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i, x := range w {
		sum += x * d[i]
	}
	if (10-sum%10)%10 != d[10] {
		return Invalid(field, "the check digit of this PESEL is wrong")
	}
	if _, err := peselBirthDate(d); err != nil {
		return Invalid(field, "%v", err)
	}
	return nil
}

// peselBirthDate returns the birth date encoded in a PESEL's digits.
func peselBirthDate(d []int) (Date, error) {
	year, month, day := d[0]*10+d[1], d[2]*10+d[3], d[4]*10+d[5]
	century := map[int]int{0: 1900, 2: 2000, 4: 2100, 6: 2200, 8: 1800}[month/20*2]
	year += century
	month %= 20
	s := fmt.Sprintf("%04d-%02d-%02d", year, month, day)
	dt, err := ParseDate(s)
	if err != nil {
		return Date{}, fmt.Errorf("this PESEL encodes the impossible birth date %s", s)
	}
	return dt, nil
}
