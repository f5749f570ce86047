package domain

import (
	"errors"
	"fmt"
)

// Kinds of failure. Every error the domain returns wraps exactly one of them,
// so callers (the API above all) map errors to answers with errors.Is and
// never by reading message text.
var (
	// ErrInvalid marks a command or value that can never succeed as given.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound marks a reference to an aggregate that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a command that contradicts the current state, or an
	// append whose expected version is stale.
	ErrConflict = errors.New("conflict")
	// ErrUnauthorized marks a request without valid credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden marks an actor that may not do what it asked.
	ErrForbidden = errors.New("forbidden")
)

// Error is a failure with a stable machine-readable code, the input field it
// concerns (if any) and a human message. Its Kind is one of the Err* kinds
// above; errors.Is(err, ErrConflict) holds for an Error of that kind.
//
// Two Errors match under errors.Is when their codes are equal, so the
// package-level values such as ErrAlreadyMember serve as sentinels even
// after With has given them a field and message of their own.
type Error struct {
	Kind    error  // one of ErrInvalid, ErrNotFound, ErrConflict, ErrUnauthorized, ErrForbidden
	Code    string // stable identifier, e.g. "already_member"
	Field   string // JSON name of the offending input field, if any
	Message string // what went wrong, for a person
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Unwrap returns the kind, so errors.Is(err, ErrInvalid) works.
func (e *Error) Unwrap() error { return e.Kind }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// With returns a copy of e about field with the given message.
func (e *Error) With(field, format string, args ...any) *Error {
	c := *e
	c.Field = field
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

func newError(kind error, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Invalid returns an ErrInvalid error with code "invalid_field" about field.
func Invalid(field, format string, args ...any) *Error {
	return ErrInvalidField.With(field, format, args...)
}

// Sentinel errors of the invariants. Compare with errors.Is.
var (
	ErrInvalidField          = newError(ErrInvalid, "invalid_field", "invalid value")
	ErrRequired              = newError(ErrInvalid, "required", "is required")
	ErrUnknownEventType      = newError(ErrInvalid, "unknown_event_type", "unknown event type")
	ErrInstitutionNotFound   = newError(ErrNotFound, "institution_not_found", "institution not found")
	ErrPartnershipNotFound   = newError(ErrNotFound, "partnership_not_found", "partnership not found")
	ErrUserNotFound          = newError(ErrNotFound, "user_not_found", "user not found")
	ErrAlreadyExists         = newError(ErrConflict, "already_exists", "already exists")
	ErrAlreadyMember         = newError(ErrConflict, "already_member", "institution is already a member")
	ErrNotMember             = newError(ErrConflict, "not_member", "institution is not a member")
	ErrLeaderCannotLeave     = newError(ErrConflict, "leader_cannot_leave", "the leader cannot leave the partnership")
	ErrAlreadyFormalized     = newError(ErrConflict, "already_formalized", "partnership is already formalised")
	ErrFormalizeNeedsSectors = newError(ErrConflict, "formalize_needs_sectors", "a formalised partnership needs its leader and at least one other sector")
	ErrServiceNotFound       = newError(ErrNotFound, "service_not_found", "service not found in the basket")
	ErrServiceExists         = newError(ErrConflict, "service_exists", "service is already in the basket")
	ErrWorkerExists          = newError(ErrConflict, "worker_exists", "worker is already registered")
	ErrTokenNotFound         = newError(ErrNotFound, "token_not_found", "token not found")
	ErrUserDisabled          = newError(ErrConflict, "user_disabled", "the user is disabled")
	ErrUserEnabled           = newError(ErrConflict, "user_enabled", "the user is not disabled")
	ErrNoLogin               = newError(ErrConflict, "no_login", "the user has no login")
	ErrLoginAssigned         = newError(ErrConflict, "login_assigned", "the user has a login already")
	ErrNoPassword            = newError(ErrConflict, "no_password", "the user has not set a password")
	ErrVersionConflict       = newError(ErrConflict, "version_conflict", "the aggregate has changed since the expected version")
	ErrDateBeforeInitiation  = newError(ErrInvalid, "date_before_initiation", "date is before the partnership was initiated")
	ErrDateInFuture          = newError(ErrInvalid, "date_in_future", "the business time is in the future")
	ErrDateOutOfOrder        = newError(ErrInvalid, "date_out_of_order", "the step's date is before a step it depends on")
)

// IsKind reports the kind of err: one of the Err* kinds, or nil when err
// carries none of them.
func IsKind(err error) error {
	for _, k := range []error{ErrInvalid, ErrNotFound, ErrConflict, ErrUnauthorized, ErrForbidden} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

// Sentinel errors of the family case. Compare with errors.Is.
var (
	ErrFamilyNotFound          = newError(ErrNotFound, "family_not_found", "family case not found")
	ErrWorkerNotFound          = newError(ErrNotFound, "worker_not_found", "worker not found at the institution")
	ErrFamilyErased            = newError(ErrConflict, "family_erased", "the family's personal data was erased")
	ErrCaseClosed              = newError(ErrConflict, "case_closed", "the case is closed; only reopening is possible")
	ErrCaseOpen                = newError(ErrConflict, "case_open", "the case is open")
	ErrCoordinatorInstitution  = newError(ErrConflict, "coordinator_institution", "the coordinator must work at the partnership's leader or co-leader")
	ErrNoConsent               = newError(ErrConflict, "no_consent", "no consent or legal basis covers sharing the family's data with the institution")
	ErrConsentNotFound         = newError(ErrNotFound, "consent_not_found", "no such active consent")
	ErrDiagnosisCompleted      = newError(ErrConflict, "diagnosis_completed", "the diagnosis is already completed")
	ErrDiagnosisEmpty          = newError(ErrConflict, "diagnosis_empty", "the diagnosis has no input yet")
	ErrDiagnosisNotCompleted   = newError(ErrConflict, "diagnosis_not_completed", "the diagnosis of needs is not completed")
	ErrTeamExists              = newError(ErrConflict, "team_exists", "the task team is already formed")
	ErrNoTeam                  = newError(ErrConflict, "no_team", "the task team is not formed")
	ErrAlreadyOnTeam           = newError(ErrConflict, "already_on_team", "the worker is already on the task team")
	ErrNotOnTeam               = newError(ErrConflict, "not_on_team", "the worker is not on the task team")
	ErrInstitutionNotOnTeam    = newError(ErrConflict, "institution_not_on_team", "no worker of the institution is on the task team")
	ErrCoordinatorCannotLeave  = newError(ErrConflict, "coordinator_cannot_leave", "the coordinator cannot leave the task team")
	ErrReferralNotFound        = newError(ErrNotFound, "referral_not_found", "referral not found")
	ErrReferralTransition      = newError(ErrConflict, "referral_transition", "the referral cannot move to that status")
	ErrNoContract              = newError(ErrConflict, "no_contract", "there is no contract in that state")
	ErrContractSigned          = newError(ErrConflict, "contract_signed", "the contract is signed; amend it instead")
	ErrContractInForce         = newError(ErrConflict, "contract_in_force", "the contract is in force; end it first")
	ErrActionNotFound          = newError(ErrNotFound, "action_not_found", "action not found in the contract")
	ErrActionTransition        = newError(ErrConflict, "action_transition", "the action cannot move to that status")
	ErrInputNotFound           = newError(ErrNotFound, "input_not_found", "diagnosis input not found")
	ErrDeadlineOutsideContract = newError(ErrInvalid, "deadline_outside_contract", "the deadline is outside the contract's period")
)
