package api

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// EraseResponse is the answer to an erasure.
type EraseResponse struct {
	CommandResponse
	KeyDestroyed bool `json:"key_destroyed"`
}

// eraseFamily records the erasure of a family and destroys its data key.
// An erased family answers 409 family_erased, and its key is destroyed
// again if an earlier attempt stopped half-way; a retry with the same
// Idempotency-Key answers as the first time.
func (s *Server) eraseFamily(w http.ResponseWriter, r *http.Request, p Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var cmd domain.EraseFamily
	cr, err := s.readCommand(w, r, &cmd, false)
	if err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	cmd.FamilyID = id
	res, err := s.run(r, p, cr, cmd)
	if err != nil && !errors.Is(err, domain.ErrFamilyErased) {
		s.writeError(w, r, err)
		return
	}
	if _, kerr := s.Keys.Erase(r.Context(), id); kerr != nil {
		s.writeError(w, r, kerr)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The key is destroyed either way; the first answer said so.
	writeJSON(w, http.StatusOK, EraseResponse{CommandResponse: s.commandHeaders(w, res), KeyDestroyed: true})
}

// Export is everything the system holds about a family, for a data
// subject's request of access (GDPR art. 15): the current plan and every
// recorded event, with personal data readable.
type Export struct {
	FamilyID   string               `json:"family_id"`
	ExportedAt time.Time            `json:"exported_at"`
	Plan       projections.PlanView `json:"plan"`
	Events     []ExportedEvent      `json:"events"`
}

// ExportedEvent is a recorded event with its payload.
type ExportedEvent struct {
	domain.Envelope
	Payload domain.Event `json:"payload"`
}

func (s *Server) exportFamily(w http.ResponseWriter, r *http.Request, p Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.caughtUp(w, r) {
		return
	}
	rel, _, err := s.authorizeFamily(r.Context(), p, id, needSubject)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.logAccess(r, p, "export", rel, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	plan, ok := s.Families.Plan(id, projections.Today(s.Now()))
	if !ok {
		s.writeError(w, r, domain.ErrFamilyNotFound.With("", "family case %s does not exist", id))
		return
	}
	envs, err := s.Events.Load(r.Context(), domain.AggregateFamily, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := Export{FamilyID: id, ExportedAt: s.Now().UTC(), Plan: plan, Events: make([]ExportedEvent, len(envs))}
	for i, e := range envs {
		out.Events[i] = ExportedEvent{Envelope: e, Payload: e.Payload}
	}
	w.Header().Set("Content-Disposition", `attachment; filename="rodzina-`+id+`.json"`)
	writeJSON(w, http.StatusOK, out)
}

func setRetention(_ *http.Request, _ Principal, _ commandRequest, id string, c *domain.SetRetention) (string, error) {
	c.InstitutionID = id
	return "", nil
}

// retentionDue lists the closed families whose retention has passed, as
// of ?as_of (default today); `kooperacje retention --apply` erases them.
func (s *Server) retentionDue(w http.ResponseWriter, r *http.Request, p Principal) {
	asOf, err := s.asOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.caughtUp(w, r) {
		return
	}
	due := s.Families.RetentionDue(s.Institutions.Retention(), asOf)
	// Only the families p may erase: the rest are not revealed.
	due = slices.DeleteFunc(due, func(d projections.Due) bool {
		rel, _ := s.familyRelation(p, d.FamilyID)
		return !slices.Contains(allowed[needSubject], rel)
	})
	writeJSON(w, http.StatusOK, List[projections.Due]{Items: due})
}
