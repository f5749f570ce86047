package eventstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

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
// payload, through a generic JSON tree.
func mapPersonal(eventType string, payload []byte, fields []domain.PersonalField, fn sealFunc) ([]byte, error) {
	if len(fields) == 0 {
		return payload, nil
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("payload of %s: %w", eventType, err)
	}
	for _, f := range fields {
		var err error
		if tree, err = walk(tree, f.Path, f.Date, fn); err != nil {
			return nil, err
		}
	}
	return json.Marshal(tree)
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

// walk applies fn to the strings at path below node.
func walk(node any, path []string, date bool, fn sealFunc) (any, error) {
	if len(path) == 0 {
		s, ok := node.(string)
		if !ok || s == "" {
			return node, nil // absent, null or empty: nothing personal to seal
		}
		return fn(s, date)
	}
	switch n := node.(type) {
	case map[string]any:
		if child, ok := n[path[0]]; ok {
			v, err := walk(child, path[1:], date, fn)
			if err != nil {
				return nil, err
			}
			n[path[0]] = v
		}
	case []any:
		if path[0] != "*" {
			return node, nil
		}
		for i := range n {
			v, err := walk(n[i], path[1:], date, fn)
			if err != nil {
				return nil, err
			}
			n[i] = v
		}
	}
	return node, nil
}

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
