package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// AccessLog records reads of personal data; eventstore.AccessLog
// implements it.
type AccessLog interface {
	Record(ctx context.Context, entries ...domain.Access) error
	Query(ctx context.Context, family, user string, from uint64, limit int) ([]domain.Access, error)
}

// relation is how a principal stands to a family: it decides what they may
// see and do (docs/security.md has the matrix).
type relation string

const (
	relNone        relation = ""            // out of scope: the family is not revealed (404)
	relAdmin       relation = "admin"       // everything
	relCoordinator relation = "coordinator" // leads the family: everything of the case
	relTeam        relation = "team"        // on the task team, with the institution covered by consent
	relAuditor     relation = "auditor"     // histories, no personal plan
	relPartnership relation = "partnership" // the animator of the family's partnership: aggregates only
)

// what a request needs of a family.
type need int

const (
	needPlan    need = iota // the support plan: personal data
	needHistory             // the decision history
	needWrite               // a command on the case
	needSubject             // a data-subject request: export, erasure
)

// familyRelation returns how p stands to the family (relNone when the
// family does not exist or is out of p's scope).
func (s *Server) familyRelation(p Principal, id string) (relation, projections.FamilyScope) {
	scope, ok := s.Families.Scope(id)
	if !ok {
		return relNone, scope
	}
	switch p.Role {
	case domain.RoleAdmin:
		return relAdmin, scope
	case domain.RoleAuditor:
		return relAuditor, scope
	case domain.RoleCoordinator, domain.RoleWorker:
		if p.WorkerID == "" {
			return relNone, scope
		}
		if scope.Coordinator.WorkerID == p.WorkerID {
			return relCoordinator, scope
		}
		// A team member sees the family while on its team and while its
		// consent (or a legal basis) covers their institution: a
		// withdrawal takes effect at once.
		if inst, on := scope.Team[p.WorkerID]; on && scope.Covered(inst, domain.DataBasic, projections.Today(s.Now())) {
			return relTeam, scope
		}
	case domain.RoleAnimator:
		if s.animates(p, scope.PartnershipID) {
			return relPartnership, scope
		}
	}
	return relNone, scope
}

// animates reports whether p's institution leads or co-leads the
// partnership.
func (s *Server) animates(p Principal, partnershipID string) bool {
	v, ok := s.Partnerships.Get(partnershipID)
	return ok && p.InstitutionID != "" && (v.LeaderID == p.InstitutionID || v.CoLeaderID == p.InstitutionID)
}

// allowed lists the relations that may do what a need asks.
var allowed = map[need][]relation{
	needPlan:    {relAdmin, relCoordinator, relTeam},
	needHistory: {relAdmin, relCoordinator, relAuditor},
	needWrite:   {relAdmin, relCoordinator, relTeam},
	needSubject: {relAdmin, relCoordinator},
}

// authorizeFamily decides a request on a family: out of scope is 404 (the
// family is not revealed), in scope without the permission is 403. A
// refusal is decided on read models that have caught up with the store
// (within MaxWait): a command right after the one that created the family,
// or put the worker on its team, is judged on what was written.
func (s *Server) authorizeFamily(ctx context.Context, p Principal, id string, n need) (relation, projections.FamilyScope, error) {
	rel, scope := s.familyRelation(p, id)
	if !slices.Contains(allowed[n], rel) {
		// The read models may have moved on since, or be about to.
		s.catchUp(ctx)
		rel, scope = s.familyRelation(p, id)
	}
	if rel == relNone {
		return rel, scope, domain.ErrFamilyNotFound.With("", "family case %s does not exist", id)
	}
	if !slices.Contains(allowed[n], rel) {
		return rel, scope, forbidden("as %s of this family you may not do this", rel)
	}
	return rel, scope, nil
}

// catchUp waits, within MaxWait, for the read models to apply everything
// stored now; it reports whether they moved on.
func (s *Server) catchUp(ctx context.Context) bool {
	if s.Store == nil {
		return false
	}
	last, err := s.Store.LastSequence(ctx)
	if err != nil || last <= s.Runner.Position() {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, s.MaxWait)
	defer cancel()
	return s.Runner.WaitFor(ctx, last) == nil
}

func forbidden(format string, args ...any) error {
	return &domain.Error{Kind: domain.ErrForbidden, Code: "forbidden", Message: fmt.Sprintf(format, args...)}
}

// teamMayRecord reports what a team member who does not lead the family
// may record: their own input to the diagnosis (and its correction or
// withdrawal), meetings, the status of
// the actions their institution is responsible for and the answer to the
// referrals sent to their institution. The client's and the coordinator's
// actions are the coordinator's to move. An action or referral the read
// model does not know is left to the domain to refuse (404).
func teamMayRecord(p Principal, inst string, owners projections.Owners, cmd domain.Command) bool {
	switch c := cmd.(type) {
	case domain.RecordDiagnosisInput:
		return c.WorkerID == p.WorkerID
	case domain.RecordTeamMeeting:
		return true
	case domain.UpdateAction:
		party, known := owners.Actions[c.ActionID]
		return !known || (party.Kind == domain.PartyInstitution && party.InstitutionID == inst)
	case domain.UpdateReferral:
		to, known := owners.Referrals[c.ReferralID]
		return !known || to == inst
	case domain.CorrectDiagnosisInput:
		by, known := owners.Inputs[c.InputID]
		return !known || by == p.WorkerID
	case domain.WithdrawDiagnosisInput:
		by, known := owners.Inputs[c.InputID]
		return !known || by == p.WorkerID
	}
	return false
}

// mayExecute decides whether p may issue cmd, before anything is loaded
// or written.
func (s *Server) mayExecute(ctx context.Context, p Principal, cmd domain.Command) error {
	aggregate, id := cmd.Target()
	switch aggregate {
	case domain.AggregateFamily:
		if open, ok := cmd.(domain.OpenFamilyCase); ok {
			if p.Role == domain.RoleAdmin || (p.Role == domain.RoleCoordinator && p.WorkerID != "" && open.Coordinator.WorkerID == p.WorkerID) {
				return nil
			}
			return forbidden("a coordinator opens the cases they coordinate themselves")
		}
		n := needWrite
		if _, erase := cmd.(domain.EraseFamily); erase {
			n = needSubject
		}
		rel, scope, err := s.authorizeFamily(ctx, p, id, n)
		if err != nil {
			return err
		}
		if rel == relTeam && !teamMayRecord(p, scope.Team[p.WorkerID], s.Families.Owners(id), cmd) {
			// The action or referral may be newer than the read model.
			if s.catchUp(ctx) {
				rel, scope, err = s.authorizeFamily(ctx, p, id, n)
				if err != nil {
					return err
				}
			}
			if rel == relTeam && !teamMayRecord(p, scope.Team[p.WorkerID], s.Families.Owners(id), cmd) {
				return forbidden("a member of the task team records their own input, meetings, the status of their institution's actions and the answer to referrals sent to it; the coordinator decides the rest")
			}
		}
		return nil
	case domain.AggregatePartnership:
		if p.Role == domain.RoleAdmin {
			return nil
		}
		if ini, ok := cmd.(domain.InitiatePartnership); ok {
			if p.InstitutionID != "" && (ini.LeaderID == p.InstitutionID || ini.CoLeaderID == p.InstitutionID) {
				return nil
			}
			return forbidden("an animator initiates partnerships their institution leads")
		}
		if !s.animates(p, id) {
			s.catchUp(ctx)
		}
		if !s.animates(p, id) {
			return forbidden("an animator runs the partnerships their institution leads or co-leads")
		}
	}
	return nil
}

// logAccess records reads of personal data before they are answered.
func (s *Server) logAccess(r *http.Request, p Principal, what string, rel relation, families ...string) error {
	if s.Access == nil || len(families) == 0 {
		return nil
	}
	at := s.Now().UTC()
	entries := make([]domain.Access, len(families))
	for i, f := range families {
		entries[i] = domain.Access{At: at, UserID: p.UserID, Role: p.Role, InstitutionID: p.InstitutionID, FamilyID: f, What: what, Relation: string(rel)}
	}
	if err := s.Access.Record(r.Context(), entries...); err != nil {
		return fmt.Errorf("log access: %w", err)
	}
	return nil
}

// teamView cuts a plan down to what a team member's institution is
// covered for, by what each field reveals (projections.ForInstitution): a
// category counts when the consent (or legal basis) covers it today, for a
// withdrawal takes effect at once, and on the plan's day.
func teamView(plan projections.PlanView, scope projections.FamilyScope, institutionID string, today domain.Date) projections.PlanView {
	return projections.ForInstitution(plan, institutionID, func(c domain.DataCategory) bool {
		return scope.Covered(institutionID, c, today) && scope.Covered(institutionID, c, plan.AsOf)
	})
}
