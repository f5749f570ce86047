package domain_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// A Handler runs a command against a Store: it loads the aggregate, decides
// and appends. A retried command (same Meta.CommandID) gets its first
// answer back and writes nothing; a command that breaks an invariant gets
// a *domain.Error to test with errors.Is. Here the store is the in-memory
// fake of this package's tests; in the engine it is eventstore.Store.
func ExampleHandler_Execute() {
	ctx := context.Background()
	h := &domain.Handler{Store: newMemStore()}

	// Ids derived from idempotency keys make retried creates address the
	// same aggregate.
	mops := domain.IDFromKey("example/mops")
	pzk := domain.IDFromKey("example/pzk")
	actor := domain.Actor{UserID: "anna", Role: domain.RoleAnimator}

	_, err := h.Execute(ctx, domain.RegisterInstitution{InstitutionID: mops, Name: "MOPS Kraków",
		Sector: domain.SectorSocialAssistance, Municipality: "Kraków", County: "Kraków"},
		domain.Meta{Actor: actor}, domain.AnyVersion)
	if err != nil {
		fmt.Println(err)
		return
	}

	initiate := domain.InitiatePartnership{PartnershipID: pzk, Name: "PZK Kraków", Municipality: "Kraków",
		County: "Kraków", Date: domain.NewDate(2024, time.March, 1), Place: "MOPS", LeaderID: mops}
	meta := domain.Meta{CommandID: domain.IDFromKey("example/initiate"), Actor: actor}

	res, err := h.Execute(ctx, initiate, meta, domain.AnyVersion)
	fmt.Printf("initiated: version %d, duplicate %t, error %v\n", res.Version, res.Duplicate, err)

	res, err = h.Execute(ctx, initiate, meta, domain.AnyVersion) // a retry
	fmt.Printf("retried:   version %d, duplicate %t, error %v\n", res.Version, res.Duplicate, err)

	_, err = h.Execute(ctx, domain.JoinPartnership{PartnershipID: pzk, InstitutionID: mops,
		Date: domain.NewDate(2024, time.April, 1)}, domain.Meta{Actor: actor}, domain.AnyVersion)
	fmt.Println("joined again:", errors.Is(err, domain.ErrAlreadyMember), domain.IsKind(err) == domain.ErrConflict)
	var de *domain.Error
	if errors.As(err, &de) {
		fmt.Println("field:", de.Field)
	}

	// Output:
	// initiated: version 2, duplicate false, error <nil>
	// retried:   version 2, duplicate true, error <nil>
	// joined again: true true
	// field: institution_id
}

// DecodeEvent turns a stored payload back into its event, refusing what
// this engine cannot read faithfully.
func ExampleDecodeEvent() {
	ev, err := domain.DecodeEvent("MemberLeft", 1, []byte(`{"institution_id":"`+domain.IDFromKey("example/pup")+`","date":"2024-07-01"}`))
	fmt.Printf("%T %v %v\n", ev, ev.(domain.MemberLeft).Date, err)

	_, err = domain.DecodeEvent("MemberLeft", 2, []byte(`{}`))
	fmt.Println(err)

	ev, err = domain.DecodeEvent("FamilyTeleported", 1, []byte(`{}`))
	fmt.Printf("%T %v\n", ev, errors.Is(err, domain.ErrUnknownEventType))

	// Output:
	// domain.MemberLeft 2024-07-01 <nil>
	// schema_version: MemberLeft schema version 2 is not supported (this engine knows 1–1)
	// domain.Unknown true
}
