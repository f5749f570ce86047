package domain

import (
	"reflect"
	"strings"
	"sync"
)

// ErasedText stands in for a personal text whose family was erased
// ("[usunięto]" — removed). Erased dates read as unset.
const ErasedText = "[usunięto]"

// PersonalField is where a personal datum sits in an event's JSON payload:
// the member names from the payload's root, "*" for every element of a
// list. Payload fields are marked personal with the struct tag
// `personal:"true"`.
type PersonalField struct {
	Path []string
	Date bool // a Date: erased, it reads as null
}

// HasPersonalData reports whether an aggregate's events hold personal data
// of the people it concerns (their payloads' personal fields and the
// stated reasons of their decisions), to be sealed with the aggregate's
// data key.
func HasPersonalData(aggregate string) bool { return aggregate == AggregateFamily }

var (
	personalOnce   sync.Once
	personalFields map[string][]PersonalField
)

// PersonalFields returns the personal fields of an event type's payload.
func PersonalFields(eventType string) []PersonalField {
	personalOnce.Do(func() {
		personalFields = map[string][]PersonalField{}
		for t, info := range registry {
			ev, _, err := info.decode([]byte("{}"), nil)
			if err != nil {
				panic("personal fields of " + t + ": " + err.Error())
			}
			personalFields[t] = collectPersonal(reflect.TypeOf(ev), nil, false)
		}
	})
	return personalFields[eventType]
}

var dateType = reflect.TypeOf(Date{})

func collectPersonal(t reflect.Type, path []string, personal bool) []PersonalField {
	switch {
	case t == dateType:
		if personal {
			return []PersonalField{{Path: path, Date: true}}
		}
		return nil
	case t.Kind() == reflect.Pointer:
		return collectPersonal(t.Elem(), path, personal)
	case t.Kind() == reflect.Slice:
		return collectPersonal(t.Elem(), append(clonePath(path), "*"), personal)
	case t.Kind() == reflect.String:
		if personal {
			return []PersonalField{{Path: path}}
		}
		return nil
	case t.Kind() != reflect.Struct:
		return nil
	}
	var out []PersonalField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "-" {
			continue
		}
		p := path
		if !f.Anonymous || name != "" {
			if name == "" {
				name = f.Name
			}
			p = append(clonePath(path), name)
		}
		out = append(out, collectPersonal(f.Type, p, personal || f.Tag.Get("personal") == "true")...)
	}
	return out
}

func clonePath(p []string) []string { return append([]string(nil), p...) }

// textPlan leads to the personal texts (dates aside) below a value of one
// type, the same fields collectPersonal finds: a personal string itself
// (leaf), the elements of a slice or the target of a pointer (elem), or
// the fields of a struct that lead to some (fields). A type without
// personal texts has no plan (nil).
type textPlan struct {
	leaf   bool
	elem   *textPlan
	fields []fieldPlan
}

type fieldPlan struct {
	index int
	plan  *textPlan
}

func planTexts(t reflect.Type, personal bool) *textPlan {
	switch {
	case t == dateType:
		return nil
	case t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice:
		if e := planTexts(t.Elem(), personal); e != nil {
			return &textPlan{elem: e}
		}
		return nil
	case t.Kind() == reflect.String:
		if personal {
			return &textPlan{leaf: true}
		}
		return nil
	case t.Kind() != reflect.Struct:
		return nil
	}
	var p textPlan
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || strings.Split(f.Tag.Get("json"), ",")[0] == "-" {
			continue
		}
		if sub := planTexts(f.Type, personal || f.Tag.Get("personal") == "true"); sub != nil {
			p.fields = append(p.fields, fieldPlan{index: i, plan: sub})
		}
	}
	if len(p.fields) == 0 {
		return nil
	}
	return &p
}

// open replaces each non-empty text the plan leads to below v (settable)
// with what fn returns for it.
func (p *textPlan) open(v reflect.Value, fn Opener) error {
	switch {
	case p.leaf:
		if s := v.String(); s != "" {
			o, err := fn(s, false)
			if err != nil {
				return err
			}
			v.SetString(o)
		}
	case p.elem != nil && v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			return p.elem.open(v.Elem(), fn)
		}
	case p.elem != nil:
		for i := range v.Len() {
			if err := p.elem.open(v.Index(i), fn); err != nil {
				return err
			}
		}
	default:
		for _, f := range p.fields {
			if err := f.plan.open(v.Field(f.index), fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// Scrub replaces, in place, every personal field below v (a pointer) with
// its erased form: texts become ErasedText, dates unset. Read models call it
// when a family is erased, so that what they hold matches what a rebuild
// from the stream would give.
func Scrub(v any) {
	scrub(reflect.ValueOf(v), false)
}

func scrub(v reflect.Value, personal bool) {
	switch {
	case !v.IsValid():
		return
	case v.Type() == dateType:
		if personal && v.CanSet() {
			v.Set(reflect.Zero(dateType))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			scrub(v.Elem(), personal)
		}
	case reflect.String:
		if personal && v.CanSet() && v.String() != "" {
			v.SetString(ErasedText)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			scrub(v.Index(i), personal)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface {
				scrub(e, personal)
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				scrub(v.Field(i), personal || f.Tag.Get("personal") == "true")
			}
		}
	}
}

// ReasonIsPersonal reports whether the stated reason of an event may speak
// about the person and is sealed with their data. The reason of an erasure
// is not: the audit keeps why and on which basis a person was forgotten.
func ReasonIsPersonal(eventType string) bool {
	return eventType != FamilyErased{}.EventType()
}
