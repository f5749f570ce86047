package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// CommandResponse is the answer to a command: the aggregate it wrote, its
// new version (also the ETag) and the stream sequence to pass as ?min_seq
// to read what was written.
type CommandResponse struct {
	ID       string `json:"id"`
	Version  int64  `json:"version"`
	Sequence uint64 `json:"sequence"`
}

// commandRequest is what every command route reads besides its body.
type commandRequest struct {
	key      string // Idempotency-Key, may be empty
	expected int64  // from If-Match
	fields   envelopeFields
}

// readCommand reads the headers and (unless bodyOptional and empty) the
// body of a command into cmd.
func (s *Server) readCommand(w http.ResponseWriter, r *http.Request, cmd any, bodyOptional bool) (commandRequest, error) {
	var cr commandRequest
	var err error
	if cr.key, err = idempotencyKey(r); err != nil {
		return cr, err
	}
	if cr.expected, err = expectedVersion(r); err != nil {
		return cr, err
	}
	if bodyOptional && r.ContentLength == 0 {
		return cr, nil
	}
	cr.fields, err = decodeCommand(w, r, cmd)
	return cr, err
}

// commandID returns the id of the command of a request: derived from the
// user, the route and the Idempotency-Key when there is one (a retry is the
// same command; the same key on another route is another command), else
// empty for a fresh one.
func commandID(r *http.Request, p Principal, key string) string {
	if key == "" {
		return ""
	}
	return domain.IDFromKey("command\x00" + p.UserID + "\x00" + r.Method + " " + r.URL.Path + "\x00" + key)
}

// newID returns the id of something a command creates: derived from the
// idempotency key when there is one, so that a retry creates nothing new.
func newID(p Principal, key, what string) string {
	if key == "" {
		return domain.NewID()
	}
	return domain.IDFromKey(what + "\x00" + p.UserID + "\x00" + key)
}

// run checks, authorises and runs a command for p with the request's
// envelope (reason, business time, idempotency, correlation), and counts
// it.
func (s *Server) run(r *http.Request, p Principal, cr commandRequest, cmd domain.Command) (domain.Result, error) {
	name := reflect.TypeOf(cmd).Name()
	meta := domain.Meta{Actor: p.Actor(), Reason: cr.fields.Reason, CorrelationID: r.Header.Get("X-Correlation-Id")}
	if domain.CheckID("X-Correlation-Id", meta.CorrelationID) != nil {
		meta.CorrelationID = ""
	}
	meta.CommandID = commandID(r, p, cr.key)
	if cr.fields.OccurredAt != nil {
		meta.OccurredAt = cr.fields.OccurredAt.UTC()
	}
	// Input that is wrong on its own is 400 naming the field, whoever sends
	// it: the check needs no state, so it reveals nothing of any family.
	if err := domain.ValidateCommand(cmd, meta); err != nil {
		s.metrics.commands.WithLabelValues(name, "rejected").Inc()
		return domain.Result{}, err
	}
	if err := s.mayExecute(r.Context(), p, cmd); err != nil {
		s.metrics.commands.WithLabelValues(name, "forbidden").Inc()
		return domain.Result{}, err
	}
	res, err := s.Handler.Execute(r.Context(), cmd, meta, cr.expected)
	outcome := "written"
	switch {
	case err != nil && statusOf(err) == http.StatusInternalServerError:
		outcome = "failed"
	case err != nil:
		outcome = "rejected"
	case res.Duplicate:
		outcome = "duplicate"
	}
	s.metrics.commands.WithLabelValues(name, outcome).Inc()
	return res, err
}

// execute runs a command for p and answers with its result; created
// answers 201 with a Location.
func (s *Server) execute(w http.ResponseWriter, r *http.Request, p Principal, cr commandRequest, cmd domain.Command, location string) {
	res, err := s.run(r, p, cr, cmd)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if location != "" {
		w.Header().Set("Location", location)
		status = http.StatusCreated
	}
	writeJSON(w, status, s.commandHeaders(w, res))
}

// commandHeaders sets the ETag and Idempotent-Replayed of a command's
// answer and returns its body.
func (s *Server) commandHeaders(w http.ResponseWriter, res domain.Result) CommandResponse {
	if res.Duplicate {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(res.Version, 10)))
	return CommandResponse{ID: res.AggregateID, Version: res.Version, Sequence: res.Sequence}
}

// pathID returns a path value that must be an id; a malformed one is a
// resource that cannot exist.
func pathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if domain.CheckID(name, id) != nil {
		return "", &domain.Error{Kind: domain.ErrNotFound, Code: "not_found", Message: fmt.Sprintf("%q is not an identifier", id)}
	}
	return id, nil
}

// caughtUp waits for ?min_seq (read your writes), bounded by MaxWait, and
// sets X-Koop-Position. It answers the request itself and returns false
// when the wait fails.
func (s *Server) caughtUp(w http.ResponseWriter, r *http.Request) bool {
	if v := r.URL.Query().Get("min_seq"); v != "" {
		seq, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			s.writeError(w, r, domain.Invalid("min_seq", "%q is not a stream sequence (a whole number)", v))
			return false
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.MaxWait)
		defer cancel()
		if err := s.Runner.WaitFor(ctx, seq); err != nil {
			status, code := http.StatusGatewayTimeout, "not_caught_up"
			if errors.Is(err, projections.ErrFailed) {
				status, code = http.StatusServiceUnavailable, "projections_failed"
			}
			writeProblem(w, Problem{Status: status, Code: code, Field: "min_seq", Instance: r.URL.Path,
				Detail: fmt.Sprintf("the read models reached sequence %d, not %d, within %s", s.Runner.Position(), seq, s.MaxWait)})
			return false
		}
	}
	w.Header().Set("X-Koop-Position", strconv.FormatUint(s.Runner.Position(), 10))
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// PartnershipResponse is a partnership with its families counted by
// stage.
type PartnershipResponse struct {
	projections.PartnershipView
	FamiliesByStage map[string]int `json:"families_by_stage"`
}

// List is the answer of a list query.
type List[T any] struct {
	Items []T `json:"items"`
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request, p Principal) {
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) listInstitutions(w http.ResponseWriter, r *http.Request, _ Principal) {
	f := projections.InstitutionFilter{Sector: domain.Sector(r.URL.Query().Get("sector")), Municipality: r.URL.Query().Get("municipality")}
	if f.Sector != "" && !f.Sector.Valid() {
		s.writeError(w, r, domain.Invalid("sector", "%q is not a sector; use one of %v", f.Sector, domain.Sectors))
		return
	}
	if !s.caughtUp(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, List[projections.InstitutionView]{Items: s.Institutions.List(f)})
}

func (s *Server) getInstitution(w http.ResponseWriter, r *http.Request, _ Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.caughtUp(w, r) {
		return
	}
	v, ok := s.Institutions.Get(id)
	if !ok {
		s.writeError(w, r, domain.ErrInstitutionNotFound.With("", "institution %s does not exist", id))
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(v.Version, 10)))
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) registerInstitution(w http.ResponseWriter, r *http.Request, p Principal) {
	var cmd domain.RegisterInstitution
	cr, err := s.readCommand(w, r, &cmd, false)
	if err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	cmd.InstitutionID = newID(p, cr.key, "institution")
	s.execute(w, r, p, cr, cmd, "/api/v1/institutions/"+cmd.InstitutionID)
}

func (s *Server) registerWorker(w http.ResponseWriter, r *http.Request, p Principal) {
	var cmd domain.RegisterWorker
	cr, err := s.readCommand(w, r, &cmd, false)
	if err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	cmd.WorkerID = newID(p, cr.key, "worker")
	if err := domain.CheckID("institution_id", cmd.InstitutionID); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.execute(w, r, p, cr, cmd, "/api/v1/institutions/"+cmd.InstitutionID)
}

func (s *Server) listPartnerships(w http.ResponseWriter, r *http.Request, _ Principal) {
	if !s.caughtUp(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, List[projections.PartnershipSummary]{Items: s.Partnerships.List()})
}

func (s *Server) getPartnership(w http.ResponseWriter, r *http.Request, _ Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.caughtUp(w, r) {
		return
	}
	v, ok := s.Partnerships.Get(id)
	if !ok {
		s.writeError(w, r, domain.ErrPartnershipNotFound.With("", "partnership %s does not exist", id))
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(v.Version, 10)))
	out := PartnershipResponse{PartnershipView: v, FamiliesByStage: map[string]int{}}
	if s.Families != nil {
		out.FamiliesByStage = s.Families.StagesByPartnership(id)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) initiatePartnership(w http.ResponseWriter, r *http.Request, p Principal) {
	var cmd domain.InitiatePartnership
	cr, err := s.readCommand(w, r, &cmd, false)
	if err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	cmd.PartnershipID = newID(p, cr.key, "partnership")
	s.execute(w, r, p, cr, cmd, "/api/v1/partnerships/"+cmd.PartnershipID)
}

// pathCommand handles a command addressed to the aggregate named by the
// path's {id}: read the id and the body, let set fill in the rest, execute.
func pathCommand[C domain.Command](s *Server, bodyOptional bool, set func(r *http.Request, p Principal, cr commandRequest, id string, cmd *C) (string, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p Principal) {
		id, err := pathID(r, "id")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var cmd C
		cr, err := s.readCommand(w, r, &cmd, bodyOptional)
		if err != nil {
			s.writeBadRequest(w, r, err)
			return
		}
		location, err := set(r, p, cr, id, &cmd)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.execute(w, r, p, cr, cmd, location)
	}
}

// setJoin, setLeave… fill in what a partnership command takes from the
// path and the idempotency key, and return the Location of what it creates.

func setJoin(_ *http.Request, _ Principal, _ commandRequest, id string, c *domain.JoinPartnership) (string, error) {
	c.PartnershipID = id
	return "/api/v1/partnerships/" + id, nil
}

func setLeave(r *http.Request, _ Principal, _ commandRequest, id string, c *domain.LeavePartnership) (string, error) {
	inst, err := pathID(r, "institutionID")
	c.PartnershipID, c.InstitutionID = id, inst
	return "", err
}

func setOffer(_ *http.Request, p Principal, cr commandRequest, id string, c *domain.OfferService) (string, error) {
	c.PartnershipID, c.ServiceID = id, newID(p, cr.key, "service")
	return "/api/v1/partnerships/" + id, nil
}

func setWithdraw(r *http.Request, _ Principal, _ commandRequest, id string, c *domain.WithdrawService) (string, error) {
	svc, err := pathID(r, "serviceID")
	c.PartnershipID, c.ServiceID = id, svc
	return "", err
}

func setMeeting(_ *http.Request, p Principal, cr commandRequest, id string, c *domain.RecordMeeting) (string, error) {
	c.PartnershipID, c.MeetingID = id, newID(p, cr.key, "meeting")
	return "/api/v1/partnerships/" + id, nil
}

func setFormalize(_ *http.Request, _ Principal, _ commandRequest, id string, c *domain.FormalizePartnership) (string, error) {
	c.PartnershipID = id
	return "", nil
}

// writeBadRequest answers a request that could not be read.
func (s *Server) writeBadRequest(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errTooLarge):
		writeProblem(w, Problem{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Detail: err.Error(), Instance: r.URL.Path})
	case errors.Is(err, errMediaType):
		writeProblem(w, Problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Field: "Content-Type", Detail: err.Error(), Instance: r.URL.Path})
	default:
		s.writeError(w, r, err)
	}
}
