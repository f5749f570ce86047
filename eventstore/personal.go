package eventstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

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

// mapPersonal applies fn to every personal field of an event's payload.
func mapPersonal(eventType string, payload []byte, fn sealFunc) ([]byte, error) {
	fields := domain.PersonalFields(eventType)
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
	payload, err := mapPersonal(w.Type, w.Payload, seal)
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

// openEvent opens the personal data of a stored event. Once the instance
// was erased, or without an opener, sealed personal texts read as
// domain.ErasedText and sealed personal dates as null.
func openEvent(w *wireEvent, open openFunc) error {
	if !domain.HasPersonalData(w.AggregateType) {
		return nil
	}
	fn := func(v string, date bool) (any, error) {
		pt, erased := v, strings.HasPrefix(v, SealedPrefix)
		if open != nil {
			var err error
			if pt, erased, err = open(w.AggregateID, v); err != nil {
				return nil, fmt.Errorf("open personal data of %s %s (event %s): %w", w.AggregateType, w.AggregateID, w.EventID, err)
			}
		}
		switch {
		case erased && date:
			return nil, nil
		case erased:
			return domain.ErasedText, nil
		}
		return pt, nil
	}
	payload, err := mapPersonal(w.Type, w.Payload, fn)
	if err != nil {
		return err
	}
	w.Payload = payload
	if w.Reason != "" && domain.ReasonIsPersonal(w.Type) {
		r, err := fn(w.Reason, false)
		if err != nil {
			return err
		}
		w.Reason = r.(string)
	}
	return nil
}
