package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

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
	if err := checkMembers(body, reflect.TypeOf(cmd), "reason", "occurred_at"); err != nil {
		return ef, err
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

// checkMembers reads body, a JSON object, as the type t of a command
// decodes it and refuses, naming the member by its full path
// ("household[0].name"), what encoding/json would let through:
//   - a member t does not have in exactly that case: encoding/json matches
//     "nAmE" to "name" (extra names members of the outermost object besides
//     t's, the envelope's);
//   - a member given twice in one object: encoding/json keeps the last;
//   - a string, or a member name, that is not valid UTF-8, a lone surrogate
//     escape such as \ud800 included: encoding/json replaces it with U+FFFD;
//   - a string holding a control character other than a line break or a
//     tab, escaped or not (NUL, ESC, DEL, the C1 controls), in any member:
//     which texts may hold line breaks and tabs is the domain's to say.
//
// A value of the wrong type, and one its own decoder refuses (a date),
// is named by its full path too.
func checkMembers(body []byte, t reflect.Type, extra ...string) error {
	w := memberWalker{body: body, dec: jsontext.NewDecoder(bytes.NewReader(body)), extra: extra}
	return w.value(t, "")
}

// memberWalker reads one JSON value after another with the Go type each
// is decoded into (nil: anything).
type memberWalker struct {
	body  []byte
	dec   *jsontext.Decoder
	extra []string
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (w *memberWalker) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return w.own(t, path)
	}
	if t != nil && reflect.PointerTo(t).Implements(textUnmarshaler) {
		t = nil // read from a string by its own decoder, which names no field
	}
	kind := w.dec.PeekKind()
	if want, ok := expects(t); ok && kind != 'n' && kind != 0 && !strings.ContainsRune(want.kinds, rune(kind)) {
		return domain.Invalid(path, "must be %s, not %s", want.name, kindName(kind))
	}
	switch kind {
	case '{':
		return w.object(t, path)
	case '[':
		if _, err := w.dec.ReadToken(); err != nil {
			return textError(err, path)
		}
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8 {
			elem = t.Elem()
		}
		for i := 0; w.dec.PeekKind() != ']'; i++ {
			if err := w.value(elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := w.dec.ReadToken()
		return textError(err, path)
	}
	tok, err := w.dec.ReadToken()
	if err != nil {
		return textError(err, path)
	}
	switch tok.Kind() {
	case '"':
		return checkString(path, tok.String())
	case '0':
		return checkNumber(t, path, tok.String())
	}
	return nil
}

// own reads a value of type t, which decodes itself (a date), and decodes
// it, so that its error names the field at its full path.
func (w *memberWalker) own(t reflect.Type, path string) error {
	start := w.dec.InputOffset()
	if err := w.value(nil, path); err != nil {
		return err
	}
	raw := bytes.TrimLeft(w.body[start:w.dec.InputOffset()], " \t\r\n:,")
	if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
		return domain.Invalid(path, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// expected is what a JSON value decoded into a Go type may be: its kinds
// (as jsontext.Kind) and their name.
type expected struct{ kinds, name string }

// expects returns what a value decoded into t may be (null aside, which
// leaves any field as it is); false for anything.
func expects(t reflect.Type) (expected, bool) {
	if t == nil {
		return expected{}, false
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return expected{"{", "an object"}, true
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return expected{`"`, "a string"}, true
		}
		return expected{"[", "a list"}, true
	case reflect.String:
		return expected{`"`, "a string"}, true
	case reflect.Bool:
		return expected{"tf", "true or false"}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return expected{"0", "a number"}, true
	}
	return expected{}, false
}

// kindName names a JSON value's kind in an error.
func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "true or false"
	}
	return "null"
}

// checkNumber refuses a number that does not fit t, an integer type:
// a fraction, an exponent that is one, or too large.
func checkNumber(t reflect.Type, path, n string) error {
	if t == nil {
		return nil
	}
	var err error
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		_, err = strconv.ParseInt(n, 10, t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		_, err = strconv.ParseUint(n, 10, t.Bits())
	default:
		return nil
	}
	if err != nil {
		return domain.Invalid(path, "must be a whole number that fits, not %s", n)
	}
	return nil
}

// object reads an object decoded into t: a struct's members are its JSON
// names exactly, a map's are any.
func (w *memberWalker) object(t reflect.Type, path string) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return textError(err, path)
	}
	extra := w.extra
	w.extra = nil // they belong to the outermost object only
	for w.dec.PeekKind() != '}' {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return nameError(err, path)
		}
		name := tok.String()
		member := name
		if path != "" {
			member = path + "." + name
		}
		if r, bad := controlChar(name); bad {
			// The member cannot be named by its own name: its object is.
			return domain.Invalid(path, "the member name %q holds a control character (U+%04X)", name, r)
		}
		var mt reflect.Type
		switch {
		case t == nil:
		case t.Kind() == reflect.Map:
			mt = t.Elem()
		case t.Kind() == reflect.Struct:
			ft, ok := jsonField(t, name)
			if !ok && !slices.Contains(extra, name) {
				return domain.Invalid(member, "unknown field %q (member names are case-sensitive)", name)
			}
			mt = ft
		}
		if err := w.value(mt, member); err != nil {
			return err
		}
	}
	_, err := w.dec.ReadToken()
	return textError(err, path)
}

// checkString refuses a control character other than a line break or a
// tab in the string s at path.
func checkString(path, s string) error {
	if r, bad := controlChar(s); bad {
		return domain.Invalid(path, "contains a control character (U+%04X)", r)
	}
	return nil
}

// controlChar returns the first control character of s other than a line
// break or a tab: C0 (NUL included), DEL or C1.
func controlChar(s string) (rune, bool) {
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || (r >= 0x7f && r <= 0x9f) {
			return r, true
		}
	}
	return 0, false
}

// textError names path in an error reading a value: invalid UTF-8 or a
// lone surrogate, the rest is malformed JSON the first decoding let through.
func textError(err error, path string) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); strings.Contains(msg, "UTF-8") || strings.Contains(msg, "surrogate") {
		return domain.Invalid(path, "is not valid UTF-8 text: invalid bytes, or a lone surrogate escape such as \\ud800")
	}
	return domain.Invalid(path, "malformed JSON: %v", err)
}

// nameError names the member at fault in an error reading a member name
// of the object at path.
func nameError(err error, path string) error {
	var se *jsontext.SyntacticError
	if errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &se) {
		name := se.JSONPointer.LastToken()
		member := name
		if path != "" {
			member = path + "." + name
		}
		return domain.Invalid(member, "%q is given twice", name)
	}
	if msg := err.Error(); strings.Contains(msg, "UTF-8") || strings.Contains(msg, "surrogate") {
		return domain.Invalid(path, "a member name is not valid UTF-8 text: invalid bytes, or a lone surrogate escape such as \\ud800")
	}
	return textError(err, path)
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

// jsonField finds the type of the field with JSON name n, in exactly that
// case, in struct type t, looking into embedded structs as encoding/json
// does.
func jsonField(t reflect.Type, n string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if et, ok := jsonField(ft, n); ok {
					return et, true
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
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
