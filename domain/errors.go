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
	ErrVersionConflict       = newError(ErrConflict, "version_conflict", "the aggregate has changed since the expected version")
	ErrDateBeforeInitiation  = newError(ErrConflict, "date_before_initiation", "date is before the partnership was initiated")
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
