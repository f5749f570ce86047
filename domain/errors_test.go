package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// The kind of each sentinel decides the API's answer (409, 404, 422…); a
// sentinel that changes kind changes the API.
func TestSentinelKinds(t *testing.T) {
	tests := []struct {
		err  *domain.Error
		kind error
	}{
		{domain.ErrInvalidField, domain.ErrInvalid},
		{domain.ErrRequired, domain.ErrInvalid},
		{domain.ErrUnknownEventType, domain.ErrInvalid},
		{domain.ErrInstitutionNotFound, domain.ErrNotFound},
		{domain.ErrPartnershipNotFound, domain.ErrNotFound},
		{domain.ErrUserNotFound, domain.ErrNotFound},
		{domain.ErrServiceNotFound, domain.ErrNotFound},
		{domain.ErrTokenNotFound, domain.ErrNotFound},
		{domain.ErrAlreadyExists, domain.ErrConflict},
		{domain.ErrAlreadyMember, domain.ErrConflict},
		{domain.ErrNotMember, domain.ErrConflict},
		{domain.ErrLeaderCannotLeave, domain.ErrConflict},
		{domain.ErrAlreadyFormalized, domain.ErrConflict},
		{domain.ErrFormalizeNeedsSectors, domain.ErrConflict},
		{domain.ErrServiceExists, domain.ErrConflict},
		{domain.ErrWorkerExists, domain.ErrConflict},
		{domain.ErrVersionConflict, domain.ErrConflict},
		{domain.ErrDateBeforeInitiation, domain.ErrInvalid},
	}
	codes := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.err.Code, func(t *testing.T) {
			assert.Equal(t, tt.kind, domain.IsKind(tt.err))
			assert.ErrorIs(t, tt.err, tt.kind)
			assert.NotEmpty(t, tt.err.Message)
			assert.Empty(t, tt.err.Field, "a sentinel is about no field")
			assert.False(t, codes[tt.err.Code], "code %q is used twice", tt.err.Code)
			codes[tt.err.Code] = true
		})
	}
}

func TestError(t *testing.T) {
	t.Run("an error names its field before its message", func(t *testing.T) {
		assert.Equal(t, "institution_id: institution x is already a member",
			domain.ErrAlreadyMember.With("institution_id", "institution %s is already a member", "x").Error())
		assert.Equal(t, "partnership p does not exist", domain.ErrPartnershipNotFound.With("", "partnership %s does not exist", "p").Error())
	})

	t.Run("With copies the sentinel and keeps its code and kind", func(t *testing.T) {
		e := domain.ErrNotMember.With("attendees[3]", "not %s", "here")
		assert.Equal(t, "not_member", e.Code)
		assert.Equal(t, domain.ErrConflict, e.Kind)
		assert.Equal(t, "attendees[3]", e.Field)
		assert.Equal(t, "not here", e.Message)
		assert.Empty(t, domain.ErrNotMember.Field, "the sentinel itself is unchanged")
		assert.Equal(t, "institution is not a member", domain.ErrNotMember.Message)
	})

	t.Run("errors match by code, through wrapping", func(t *testing.T) {
		err := fmt.Errorf("append partnership p: %w", domain.ErrVersionConflict.With("If-Match", "stale"))
		assert.ErrorIs(t, err, domain.ErrVersionConflict)
		assert.ErrorIs(t, err, domain.ErrConflict)
		assert.NotErrorIs(t, err, domain.ErrAlreadyMember, "same kind, other code")
		assert.NotErrorIs(t, err, domain.ErrInvalid)
		var de *domain.Error
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "If-Match", de.Field)
	})

	t.Run("Invalid is an invalid field", func(t *testing.T) {
		err := domain.Invalid("capacity", "must be between %d and %d", 0, 10)
		assert.ErrorIs(t, err, domain.ErrInvalidField)
		assert.NotErrorIs(t, err, domain.ErrRequired)
		assert.Equal(t, "capacity: must be between 0 and 10", err.Error())
	})

	t.Run("an error of another code does not match a plain kind's error", func(t *testing.T) {
		custom := &domain.Error{Kind: domain.ErrForbidden, Code: "outside_team", Message: "not on the family's team"}
		assert.Equal(t, domain.ErrForbidden, domain.IsKind(custom))
		assert.ErrorIs(t, custom, domain.ErrForbidden)
		assert.NotErrorIs(t, custom, domain.ErrUnauthorized)
		assert.Equal(t, domain.ErrUnauthorized, domain.IsKind(fmt.Errorf("auth: %w", domain.ErrUnauthorized)))
	})

	t.Run("an error of no kind has no kind", func(t *testing.T) {
		assert.Nil(t, domain.IsKind(nil))
		assert.Nil(t, domain.IsKind(errors.New("disk full")))
	})
}
