package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/kooperacje/kooperacje/domain"
)

// Problem is an error answer in the form of RFC 9457
// (application/problem+json), with the stable code and the input field at
// fault as extension members.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code,omitempty"`
	Field    string `json:"field,omitempty"`
}

// problemTypes gives every status a type URI relative to the API, with a
// title in Polish and English: the UI is Polish first.
var problemTitles = map[int]string{
	http.StatusBadRequest:            "Nieprawidłowe dane / Invalid input",
	http.StatusUnauthorized:          "Brak uwierzytelnienia / Not authenticated",
	http.StatusForbidden:             "Brak uprawnień / Forbidden",
	http.StatusNotFound:              "Nie znaleziono / Not found",
	http.StatusMethodNotAllowed:      "Niedozwolona metoda / Method not allowed",
	http.StatusConflict:              "Konflikt / Conflict",
	http.StatusRequestEntityTooLarge: "Za duże żądanie / Request too large",
	http.StatusUnsupportedMediaType:  "Nieobsługiwany typ treści / Unsupported media type",
	http.StatusUnprocessableEntity:   "Nie można wykonać / Unprocessable",
	http.StatusTooManyRequests:       "Zbyt wiele prób / Too many attempts",
	http.StatusServiceUnavailable:    "Usługa niedostępna / Service unavailable",
	http.StatusGatewayTimeout:        "Przekroczono czas oczekiwania / Timed out",
	http.StatusInternalServerError:   "Błąd serwera / Internal error",
}

// statusOf maps an error to its HTTP status, by kind, never by message.
func statusOf(err error) int {
	var de *domain.Error
	switch {
	case errors.Is(err, domain.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, domain.ErrNotFound):
		// A reference in the body to something that does not exist: the
		// resource addressed is fine, the request cannot be carried out.
		if errors.As(err, &de) && de.Field != "" {
			return http.StatusUnprocessableEntity
		}
		return http.StatusNotFound
	case errors.Is(err, domain.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, domain.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, domain.ErrForbidden):
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// writeError answers with the problem of err. Internal errors are logged
// and answered without detail, so nothing of the system leaks.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	p := Problem{Status: status, Instance: r.URL.Path}
	var de *domain.Error
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p.Code = "internal"
		p.Detail = "the request could not be completed; the error is logged"
	} else if errors.As(err, &de) {
		p.Code, p.Field, p.Detail = de.Code, de.Field, de.Message
	} else {
		p.Detail = err.Error()
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	if p.Title == "" {
		p.Title = problemTitles[p.Status]
	}
	if p.Type == "" {
		p.Type = "/api/v1/problems/" + firstNonEmpty(p.Code, strconv.Itoa(p.Status))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		slog.Debug("write problem", "err", err)
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
