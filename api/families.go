package api

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// setFamily names the family case of a command that takes nothing else
// from the path.
func setFamily[C any, PC interface {
	*C
	domain.FamilyCommand
}](_ *http.Request, _ Principal, _ commandRequest, id string, c *C) (string, error) {
	PC(c).SetFamily(id)
	return "", nil
}

func setGiveConsent(_ *http.Request, p Principal, cr commandRequest, id string, c *domain.GiveConsent) (string, error) {
	c.FamilyID, c.ConsentID = id, newID(p, cr.key, "consent")
	return "/api/v1/families/" + id + "/plan", nil
}

func setWithdrawConsent(r *http.Request, _ Principal, _ commandRequest, id string, c *domain.WithdrawConsent) (string, error) {
	consent, err := pathID(r, "consentID")
	c.FamilyID, c.ConsentID = id, consent
	return "", err
}

func setRemoveTeamMember(r *http.Request, _ Principal, _ commandRequest, id string, c *domain.RemoveTeamMember) (string, error) {
	w, err := pathID(r, "workerID")
	c.FamilyID, c.WorkerID = id, w
	return "", err
}

func setTeamMeeting(_ *http.Request, p Principal, cr commandRequest, id string, c *domain.RecordTeamMeeting) (string, error) {
	c.FamilyID, c.MeetingID = id, newID(p, cr.key, "team-meeting")
	return "/api/v1/families/" + id + "/plan", nil
}

func setRequestReferral(_ *http.Request, p Principal, cr commandRequest, id string, c *domain.RequestReferral) (string, error) {
	c.FamilyID, c.ReferralID = id, newID(p, cr.key, "referral")
	return "/api/v1/families/" + id + "/plan", nil
}

func setUpdateReferral(r *http.Request, _ Principal, _ commandRequest, id string, c *domain.UpdateReferral) (string, error) {
	ref, err := pathID(r, "referralID")
	c.FamilyID, c.ReferralID = id, ref
	return "", err
}

func setUpdateAction(r *http.Request, _ Principal, _ commandRequest, id string, c *domain.UpdateAction) (string, error) {
	c.FamilyID, c.ActionID = id, r.PathValue("actionID")
	if !actionKey.MatchString(c.ActionID) {
		return "", &domain.Error{Kind: domain.ErrNotFound, Code: "not_found", Message: fmt.Sprintf("%q is not an action id", c.ActionID)}
	}
	return "", nil
}

// actionKey is the form of a contract's action ids.
var actionKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func setStaffSupport(_ *http.Request, p Principal, cr commandRequest, id string, c *domain.RecordStaffSupport) (string, error) {
	c.PartnershipID, c.ActivityID = id, newID(p, cr.key, "staff-support")
	return "/api/v1/partnerships/" + id, nil
}

func (s *Server) openFamilyCase(w http.ResponseWriter, r *http.Request, p Principal) {
	var cmd domain.OpenFamilyCase
	cr, err := s.readCommand(w, r, &cmd, false)
	if err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	cmd.FamilyID = newID(p, cr.key, "family")
	s.execute(w, r, p, cr, cmd, "/api/v1/families/"+cmd.FamilyID+"/plan")
}

// asOf reads ?as_of=YYYY-MM-DD, the day against which deadlines are
// judged; today in Poland by default.
func (s *Server) asOf(r *http.Request) (domain.Date, error) {
	v := r.URL.Query().Get("as_of")
	if v == "" {
		return projections.Today(s.Now()), nil
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		return domain.Date{}, domain.Invalid("as_of", "%v", err)
	}
	return d, nil
}

func (s *Server) listFamilies(w http.ResponseWriter, r *http.Request, p Principal) {
	q := r.URL.Query()
	asOf, err := s.asOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := projections.FamilyFilter{PartnershipID: q.Get("partnership"), Status: q.Get("status"), Stage: q.Get("stage"),
		CoordinatorID: q.Get("coordinator"), WorkerID: q.Get("worker"), InstitutionID: q.Get("institution")}
	for name, v := range map[string]string{"partnership": f.PartnershipID, "coordinator": f.CoordinatorID, "worker": f.WorkerID, "institution": f.InstitutionID} {
		if v != "" {
			if err := domain.CheckID(name, v); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
	}
	if f.Status != "" && f.Status != "open" && f.Status != "closed" {
		s.writeError(w, r, domain.Invalid("status", "%q is not a status; use open or closed", f.Status))
		return
	}
	if f.Stage != "" && !contains(projections.FamilyStages, f.Stage) {
		s.writeError(w, r, domain.Invalid("stage", "%q is not a stage; use one of %v", f.Stage, projections.FamilyStages))
		return
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.writeError(w, r, domain.Invalid("overdue", "%q is not true or false", v))
			return
		}
		f.Overdue = &b
	}
	if !s.caughtUp(w, r) {
		return
	}
	items, _, err := s.visible(r, p, "list", s.Families.List(f, asOf))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[projections.FamilySummary]{Items: items})
}

// visible keeps the families p may see, blanks the applicant's name for
// those who see aggregates only (the auditor, the animator), and logs the
// reads of personal data.
func (s *Server) visible(r *http.Request, p Principal, what string, all []projections.FamilySummary) ([]projections.FamilySummary, map[string]bool, error) {
	out := make([]projections.FamilySummary, 0, len(all))
	aggregateOnly := map[string]bool{}
	read := map[relation][]string{}
	for _, f := range all {
		rel, _ := s.familyRelation(p, f.ID)
		switch rel {
		case relNone:
			continue
		case relAuditor, relPartnership:
			f.Applicant = ""
			aggregateOnly[f.ID] = true
		default:
			read[rel] = append(read[rel], f.ID)
		}
		out = append(out, f)
	}
	for rel, ids := range read {
		if err := s.logAccess(r, p, what, rel, ids...); err != nil {
			return nil, nil, err
		}
	}
	return out, aggregateOnly, nil
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// pastMoment reads the as-of of a plan: ?as_of= a day (YYYY-MM-DD: by its
// end, in Poland) or an instant (RFC 3339), and ?time=business (default:
// when things happened) or recorded (when the engine recorded them).
// past is false when no as_of was given.
func pastMoment(r *http.Request) (business domain.Date, recorded time.Time, past bool, err error) {
	v, kind := r.URL.Query().Get("as_of"), r.URL.Query().Get("time")
	if kind != "" && kind != "business" && kind != "recorded" {
		return business, recorded, false, domain.Invalid("time", "%q is not business or recorded", kind)
	}
	if v == "" {
		if kind != "" {
			return business, recorded, false, domain.ErrRequired.With("as_of", "time= needs as_of=")
		}
		return business, recorded, false, nil
	}
	if d, err := domain.ParseDate(v); err == nil {
		if kind == "recorded" {
			end := d.Time().AddDate(0, 0, 1)
			return business, time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, projections.Warsaw).Add(-time.Nanosecond), true, nil
		}
		return d, time.Time{}, true, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return business, recorded, false, domain.Invalid("as_of", "%q is neither a day (YYYY-MM-DD) nor an RFC 3339 time", v)
	}
	if kind == "recorded" {
		return business, t, true, nil
	}
	// Business time counts in days: the plan as it stood at the end of
	// that day in Poland.
	return projections.Today(t), time.Time{}, true, nil
}

func (s *Server) familyPlan(w http.ResponseWriter, r *http.Request, p Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	business, recorded, past, err := pastMoment(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.caughtUp(w, r) {
		return
	}
	rel, scope, err := s.authorizeFamily(r.Context(), p, id, needPlan)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var plan projections.PlanView
	var ok bool
	if past {
		envs, err := s.Events.Load(r.Context(), domain.AggregateFamily, id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		plan, ok = projections.PlanAsOf(envs, id, business, recorded)
	} else {
		plan, ok = s.Families.Plan(id, projections.Today(s.Now()))
	}
	if !ok {
		s.writeError(w, r, domain.ErrFamilyNotFound.With("", "family case %s does not exist", id))
		return
	}
	if rel == relTeam {
		plan = teamView(plan, scope, scope.Team[p.WorkerID], projections.Today(s.Now()))
	}
	if err := s.logAccess(r, p, "plan", rel, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(plan.Version, 10)))
	writeJSON(w, http.StatusOK, plan)
}

func (s *Server) workerCaseload(w http.ResponseWriter, r *http.Request, p Principal) {
	s.caseload(w, r, p, func(id string) bool { return id == p.WorkerID }, s.Families.WorkerCaseload)
}

func (s *Server) institutionCaseload(w http.ResponseWriter, r *http.Request, p Principal) {
	s.caseload(w, r, p, func(id string) bool { return id == p.InstitutionID }, s.Families.InstitutionCaseload)
}

// caseload answers a worker's or an institution's caseload: to the admin,
// or to that worker or a user of that institution, with the families they
// may see.
func (s *Server) caseload(w http.ResponseWriter, r *http.Request, p Principal, own func(string) bool, load func(string, domain.Date) projections.Caseload) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if p.Role != domain.RoleAdmin && !own(id) {
		s.writeError(w, r, forbidden("a caseload is shown to its own worker or institution"))
		return
	}
	asOf, err := s.asOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.caughtUp(w, r) {
		return
	}
	c := load(id, asOf)
	var aggregateOnly map[string]bool
	if c.Families, aggregateOnly, err = s.visible(r, p, "caseload", c.Families); err != nil {
		s.writeError(w, r, err)
		return
	}
	keep := map[string]bool{}
	for _, f := range c.Families {
		keep[f.ID] = true
	}
	// Deadlines of families seen as aggregates keep their dates and
	// sectors, not what the contract says.
	trim := func(ds []projections.Deadline) []projections.Deadline {
		ds = slices.DeleteFunc(ds, func(d projections.Deadline) bool { return !keep[d.FamilyID] })
		for i := range ds {
			if aggregateOnly[ds[i].FamilyID] {
				ds[i].Description = ""
			}
		}
		return ds
	}
	c.Overdue, c.Upcoming = trim(c.Overdue), trim(c.Upcoming)
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) familyHistory(w http.ResponseWriter, r *http.Request, p Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rel, _, err := s.authorizeFamily(r.Context(), p, id, needHistory)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.logAccess(r, p, "history", rel, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	envs, err := s.Events.Load(r.Context(), domain.AggregateFamily, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(envs) == 0 {
		s.writeError(w, r, domain.ErrFamilyNotFound.With("", "family case %s does not exist", id))
		return
	}
	writeJSON(w, http.StatusOK, List[projections.HistoryEntry]{Items: projections.History(envs, s.directory())})
}

// directory names, for the history, the users, institutions and services
// a family's events refer to by id.
func (s *Server) directory() projections.Directory {
	return projections.Directory{Users: s.Users, Institutions: s.Institutions, Partnerships: s.Partnerships}
}
