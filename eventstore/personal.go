package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/kooperacje/kooperacje/domain"
)

// Protector seals the personal data of events before they are stored and
// opens it when they are read: vault.Keyring implements it with one data
// key per aggregate instance (a family).
type Protector interface {
	// Seal returns plaintext sealed for the aggregate instance, creating
	// its key on first use; an erased instance is an error.
	Seal(ctx context.Context, aggregateID, plaintext string) (string, error)
	// Open returns the plaintext of a sealed value (a value that is not
	// sealed comes back as it is); erased reports that the instance's key
	// was destroyed.
	Open(ctx context.Context, aggregateID, value string) (plaintext string, erased bool, err error)
}

// sealFunc turns one personal string into what is stored or shown; date
// tells whether it is a date, which reads as null once erased.
type sealFunc func(value string, date bool) (any, error)

// mapPersonal applies fn to the given personal fields of an event's
// payload: the payload's tokens are copied one by one, and each non-empty
// string at a personal field's path is replaced by what fn returns for it
// (a string, or nil for null). Absent, null and empty values are left as
// they are: nothing personal to seal.
func mapPersonal(eventType string, payload []byte, fields []domain.PersonalField, fn sealFunc) ([]byte, error) {
	if len(fields) == 0 {
		return payload, nil
	}
	// As lenient as encoding/json, which wrote the payload.
	lenient := []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}
	dec := jsontext.NewDecoder(bytes.NewReader(payload), lenient...)
	var out bytes.Buffer
	out.Grow(len(payload) + 96*len(fields))
	enc := jsontext.NewEncoder(&out, lenient...)
	for {
		kind, n := dec.StackIndex(dec.StackDepth())
		name := kind == '{' && n%2 == 0 // the next string names a member
		tok, err := dec.ReadToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("payload of %s: %w", eventType, err)
		}
		if !name && tok.Kind() == '"' {
			if f, ok := personalAt(dec.StackPointer(), fields); ok {
				if tok, err = sealToken(tok.String(), f.Date, fn); err != nil {
					return nil, err
				}
			}
		}
		if err := enc.WriteToken(tok); err != nil {
			return nil, fmt.Errorf("payload of %s: %w", eventType, err)
		}
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// sealToken is the token that stands for the personal string s.
func sealToken(s string, date bool, fn sealFunc) (jsontext.Token, error) {
	if s == "" {
		return jsontext.String(""), nil
	}
	v, err := fn(s, date)
	if err != nil {
		return jsontext.Token{}, err
	}
	switch v := v.(type) {
	case nil:
		return jsontext.Null, nil
	case string:
		return jsontext.String(v), nil
	}
	return jsontext.Token{}, fmt.Errorf("personal value of type %T", v)
}

// personalAt returns the personal field at the JSON pointer p, if any
// ("*" in a field's path stands for any element of a list).
func personalAt(p jsontext.Pointer, fields []domain.PersonalField) (domain.PersonalField, bool) {
	for _, f := range fields {
		i := 0
		for tok := range p.Tokens() {
			if i == len(f.Path) || (f.Path[i] != "*" && f.Path[i] != tok) {
				i = -1
				break
			}
			i++
		}
		if i == len(f.Path) {
			return f, true
		}
	}
	return domain.PersonalField{}, false
}

// personalDates lists the personal fields of each event type that are
// dates: those are opened before the payload decodes, as a sealed date
// does not decode as a date.
var personalDates = sync.OnceValue(func() map[string][]domain.PersonalField {
	m := map[string][]domain.PersonalField{}
	for _, t := range domain.EventTypes() {
		for _, f := range domain.PersonalFields(t) {
			if f.Date {
				m[t] = append(m[t], f)
			}
		}
	}
	return m
})

// sealEvent seals the personal data of one envelope's payload and reason.
func (s *Store) sealEvent(ctx context.Context, w *wireEvent) error {
	if s.protector == nil || !domain.HasPersonalData(w.AggregateType) {
		return nil
	}
	seal := func(v string, _ bool) (any, error) { return s.protector.Seal(ctx, w.AggregateID, v) }
	payload, err := mapPersonal(w.Type, w.Payload, domain.PersonalFields(w.Type), seal)
	if err != nil {
		return fmt.Errorf("seal %s of %s %s: %w", w.Type, w.AggregateType, w.AggregateID, err)
	}
	w.Payload = payload
	if w.Reason != "" && domain.ReasonIsPersonal(w.Type) {
		r, err := s.protector.Seal(ctx, w.AggregateID, w.Reason)
		if err != nil {
			return fmt.Errorf("seal reason of %s %s: %w", w.AggregateType, w.AggregateID, err)
		}
		w.Reason = r
	}
	return nil
}

// opener returns how the store opens sealed values while decoding, or nil
// without a protector.
func (s *Store) opener(ctx context.Context) openFunc {
	if s.protector == nil {
		return nil
	}
	return func(aggregateID, v string) (string, bool, error) { return s.protector.Open(ctx, aggregateID, v) }
}

// openFunc opens one sealed value of an aggregate instance.
type openFunc func(aggregateID, value string) (string, bool, error)

// SealedPrefix starts every sealed value a Protector produces.
const SealedPrefix = "enc:"

// errOpen marks an error of opening sealed personal data, apart from a
// payload that does not decode.
var errOpen = errors.New("open personal data")

// personalMode says what decoding does with sealed personal data.
type personalMode int

const (
	// personalOpen: open it with the opener; without one, or once the
	// instance was erased, sealed texts read as domain.ErasedText and
	// sealed dates as unset.
	personalOpen personalMode = iota
	// personalSealed: leave it sealed, for readers that need no personal
	// data: sealed texts keep their sealed form (ciphertext, never
	// plaintext), sealed dates read as unset.
	personalSealed
)

// openEvent opens the reason of a stored event in place and returns how
// its payload's personal data is to be opened while the payload decodes.
func openEvent(w *wireEvent, open openFunc, mode personalMode) (domain.Opener, error) {
	if !domain.HasPersonalData(w.AggregateType) {
		return nil, nil
	}
	fn := func(v string, date bool) (string, error) {
		sealed := strings.HasPrefix(v, SealedPrefix)
		if mode == personalSealed {
			if sealed && date {
				return "", nil
			}
			return v, nil
		}
		pt, erased := v, sealed
		if open != nil {
			var err error
			if pt, erased, err = open(w.AggregateID, v); err != nil {
				return "", fmt.Errorf("%w of %s %s (event %s): %w", errOpen, w.AggregateType, w.AggregateID, w.EventID, err)
			}
		}
		switch {
		case erased && date:
			return "", nil
		case erased:
			return domain.ErasedText, nil
		}
		return pt, nil
	}
	if w.Reason != "" && domain.ReasonIsPersonal(w.Type) {
		r, err := fn(w.Reason, false)
		if err != nil {
			return nil, err
		}
		w.Reason = r
	}
	return fn, nil
}

// openDates opens the personal dates of a payload on its JSON, for a
// payload that did not decode with them sealed (DecodeEventOpening):
// decoded again, it gets encoding/json's verdict.
func openDates(w *wireEvent, fn domain.Opener) error {
	payload, err := mapPersonal(w.Type, w.Payload, personalDates()[w.Type], func(v string, date bool) (any, error) {
		o, err := fn(v, date)
		if err != nil || o == "" {
			return nil, err
		}
		return o, nil
	})
	if err != nil {
		return err
	}
	w.Payload = payload
	return nil
}
