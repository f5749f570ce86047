package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

// envelopeFields are the members a command body may carry besides the
// command itself: the stated reason for the decision and its business
// time.
type envelopeFields struct {
	Reason     string     `json:"reason"`
	OccurredAt *time.Time `json:"occurred_at"`
}

// errTooLarge and errMediaType are answered with their own statuses.
var (
	errTooLarge  = errors.New("request body too large")
	errMediaType = errors.New("unsupported media type")
)

// decodeCommand reads a JSON body into cmd strictly: unknown members, wrong
// types, trailing data and oversized bodies are errors naming the field.
// "reason" and "occurred_at" are taken out first and returned apart.
func decodeCommand(w http.ResponseWriter, r *http.Request, cmd any) (envelopeFields, error) {
	var ef envelopeFields
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return ef, fmt.Errorf("%w: send application/json, not %q", errMediaType, ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ef, fmt.Errorf("%w: at most %d bytes are accepted", errTooLarge, MaxBodyBytes)
		}
		return ef, domain.Invalid("", "read body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return ef, domain.ErrRequired.With("", "a JSON object body is required")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return ef, jsonError(err)
	}
	if members == nil {
		return ef, domain.Invalid("", "the body must be a JSON object, not null")
	}
	for name, dst := range map[string]any{"reason": &ef.Reason, "occurred_at": &ef.OccurredAt} {
		raw, ok := members[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			if name == "occurred_at" {
				return ef, domain.Invalid(name, "must be an RFC 3339 time such as 2019-10-23T10:00:00+02:00")
			}
			return ef, domain.Invalid(name, "must be a string")
		}
		delete(members, name)
	}
	rest, err := json.Marshal(members)
	if err != nil {
		return ef, domain.Invalid("", "re-encode body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cmd); err != nil {
		err = jsonError(err)
		var de *domain.Error
		if errors.As(err, &de) && de.Field == "" {
			// A field's own decoder (a date's, say) does not say which
			// field it was: find it by decoding the members one by one.
			de.Field = locate(members, reflect.TypeOf(cmd).Elem())
		}
		return ef, err
	}
	return ef, nil
}

// locate returns the name of the first member (in name order) that does
// not decode into its field of struct type t, or "".
func locate(members map[string]json.RawMessage, t reflect.Type) string {
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ft, ok := jsonField(t, n)
		if !ok {
			continue
		}
		if err := json.Unmarshal(members[n], reflect.New(ft).Interface()); err != nil {
			return n
		}
	}
	return ""
}

// jsonField finds the type of the field with JSON name n in struct type t,
// looking into embedded structs.
func jsonField(t reflect.Type, n string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if ft, ok := jsonField(f.Type, n); ok {
				return ft, true
			}
			continue
		}
		if name == n {
			return f.Type, true
		}
	}
	return nil, false
}

// jsonError turns a decoding error into an ErrInvalid naming the field.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return domain.Invalid("", "malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return domain.Invalid("", "the body must be a JSON object, not %s", typ.Value)
		}
		return domain.Invalid(jsonPath(typ.Field), "must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Invalid("", "malformed JSON: the body ends too early")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return domain.Invalid(f, "unknown field %q", f)
	}
	// Errors from a field's own UnmarshalJSON (a date, say) do not name
	// the field in a structured way; they say what was wrong.
	return domain.Invalid("", "%s", strings.TrimPrefix(msg, "json: "))
}

// jsonPath drops the Go names of embedded structs from a decoding error's
// field path ("WorkerRef.worker_id" is "worker_id" in the request).
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" && !(p[0] >= 'A' && p[0] <= 'Z') {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "uint64", "float64":
		return "a number"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a " + k
}

// expectedVersion reads If-Match: a version number, quoted or not (the
// ETag of a resource is its quoted version). No header: AnyVersion.
func expectedVersion(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return domain.AnyVersion, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, domain.Invalid("If-Match", "%q is not a version; send the ETag of the resource, e.g. \"3\"", h)
	}
	return n, nil
}

// idempotencyKey reads the Idempotency-Key header: at most 200 printable
// ASCII characters. Empty when absent.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if len(k) > 200 {
		return "", domain.Invalid("Idempotency-Key", "is %d characters long; at most 200 are allowed", len(k))
	}
	for _, c := range k {
		if c < 0x21 || c > 0x7e {
			return "", domain.Invalid("Idempotency-Key", "may hold printable ASCII characters only")
		}
	}
	return k, nil
}
