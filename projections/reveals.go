package projections

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	"github.com/kooperacje/kooperacje/domain"
)

// What the fields of the support plan reveal, for showing a team member
// only what the consent (or legal basis) of their institution covers
// (docs/privacy.md). Every field of PlanView, at every depth, is named here
// by its JSON path ("contract.goals.description"; a slice's elements share
// the slice's path); TestEveryPlanFieldSaysWhatItReveals fails for a field
// that is not. A rule on a slice is applied to each element (an element not
// covered is left out); on any other field, a field not covered is left
// empty.
//
// The rules:
//
//	basic      the family's basic data: every team member is covered for it
//	           today, but not necessarily on the plan's day
//	area       the need area of the element it belongs to (a goal, an
//	           action, a referral, a diagnosis area): its data category
//	           (domain.AreaCategory); an element without an area is the
//	           coordinator's institution's only
//	categories the element's own data categories, all of them (a consent,
//	           a legal basis)
//	case       every category the case has revealed: the areas of the
//	           diagnosis and of the contract's goals (a goal without an area
//	           counts as restricted); for the free text that sums the case up
//	restricted the coordinator's institution only
//
// An element the viewer's own institution is responsible for (its action,
// a referral sent to it, its consent) is always shown to it.
var planReveals = map[string]string{
	"id": "basic", "partnership_id": "basic", "status": "basic", "stage": "basic", "erased": "basic", "outcome": "basic",
	"opened_on": "basic", "closed_on": "basic", "reopened": "basic", "as_of": "basic", "version": "basic",
	"household": "basic", "household.person_id": "basic", "household.name": "basic", "household.birth_date": "basic",
	"household.pesel": "basic", "household.relation": "basic",
	"address": "basic", "phone": "basic",
	"referral": "basic", "referral.institution_id": "basic", "referral.reason": "restricted",
	"coordinator": "basic", "coordinator.worker_id": "basic", "coordinator.institution_id": "basic", "coordinator.name": "basic",
	"coordinator.position": "basic", "coordinator.institution": "basic", "coordinator.sector": "basic",

	"consents": "categories", "consents.consent_id": "categories", "consents.institution_id": "categories",
	"consents.categories": "categories", "consents.purpose": "categories", "consents.legal_basis": "categories",
	"consents.given_by": "categories", "consents.given_on": "categories", "consents.expires_on": "categories",
	"consents.withdrawn": "categories", "consents.withdrawn_on": "categories", "consents.active": "categories",
	"legal_bases": "categories", "legal_bases.institution_id": "categories", "legal_bases.categories": "categories",
	"legal_bases.legal_basis": "categories", "legal_bases.recorded_on": "categories",

	"diagnosis": "basic", "diagnosis.completed": "basic", "diagnosis.completed_on": "basic", "diagnosis.summary": "case",
	"diagnosis.areas": "area", "diagnosis.areas.area": "area", "diagnosis.areas.severity": "area", "diagnosis.areas.inputs": "area",
	"diagnosis.areas.inputs.input_id": "area", "diagnosis.areas.inputs.area": "area", "diagnosis.areas.inputs.severity": "area",
	"diagnosis.areas.inputs.needs": "area", "diagnosis.areas.inputs.strengths": "area", "diagnosis.areas.inputs.resources": "area",
	"diagnosis.areas.inputs.barriers": "area", "diagnosis.areas.inputs.worker_id": "area", "diagnosis.areas.inputs.institution_id": "area",
	"diagnosis.areas.inputs.sector": "area", "diagnosis.areas.inputs.date": "area",

	"team_formed_on": "basic", "team": "basic", "team.worker_id": "basic", "team.institution_id": "basic", "team.name": "basic",
	"team.position": "basic", "team.institution": "basic", "team.sector": "basic",
	"team_meetings": "basic", "team_meetings.meeting_id": "basic", "team_meetings.date": "basic", "team_meetings.attendees": "basic",
	"team_meetings.decisions": "case", "team_meetings.next_steps": "case",

	"referrals": "area", "referrals.referral_id": "area", "referrals.service_id": "area", "referrals.service_name": "area",
	"referrals.institution_id": "area", "referrals.date": "area", "referrals.note": "area", "referrals.area": "area",
	"referrals.status": "area", "referrals.updated_on": "area", "referrals.reason": "area",

	"contract": "basic", "contract.version": "basic", "contract.status": "basic", "contract.variant": "basic",
	"contract.assessment": "case", "contract.assessment.causes": "case", "contract.assessment.strengths": "case",
	"contract.assessment.resources": "case", "contract.assessment.barriers": "case",
	"contract.main_goal": "case", "contract.client_duties": "case", "contract.coordinator_duties": "case",
	"contract.start_date": "basic", "contract.end_date": "basic", "contract.signed_on": "basic", "contract.ended_on": "basic",
	"contract.ending": "basic", "contract.sanction": "case",
	"contract.goals": "area", "contract.goals.id": "area", "contract.goals.description": "area", "contract.goals.area": "area",
	"contract.goals.achievement": "area",
	"contract.actions":           "area", "contract.actions_by_sector.actions": "area",
	"contract.actions_by_sector": "basic", "contract.actions_by_sector.party": "basic", "contract.actions_by_sector.sector": "basic",
	"contract.reviews": "basic", "contract.reviews.date": "basic", "contract.reviews.goals": "basic",
	"contract.reviews.goals.goal_id": "basic", "contract.reviews.goals.achievement": "basic", "contract.reviews.notes": "case",
	"contract.amendments": "basic", "contract.amendments.version": "basic", "contract.amendments.signed_on": "basic",
	"contract.amendments.changes": "case", "contract.amendments.reason": "case",

	"next_deadlines": "area", "overdue": "area",
}

func init() {
	// The fields of an action, in the contract and grouped by sector, and
	// of a deadline: all of them what the action's area reveals.
	for _, f := range []string{"id", "goal_id", "description", "responsible", "responsible.kind", "responsible.institution_id",
		"responsible.sector", "deadline", "service_id", "area", "status", "status_on", "note", "overdue"} {
		planReveals["contract.actions."+f] = "area"
		planReveals["contract.actions_by_sector.actions."+f] = "area"
	}
	for _, f := range []string{"family_id", "action_id", "description", "deadline", "status", "party", "institution_id", "sector", "area"} {
		planReveals["next_deadlines."+f] = "area"
		planReveals["overdue."+f] = "area"
	}
}

// dataRestricted is a category no consent can hold: what only the
// coordinator's institution, which runs the case by statute, may see.
const dataRestricted domain.DataCategory = "restricted"

// Covers says whether the viewer's institution is covered for a data
// category (on the days that count: today and the plan's day).
type Covers func(domain.DataCategory) bool

// ForInstitution cuts a plan down to what a worker of an institution may
// see when covered as covers says: the one place where the plan is
// filtered by consent, after planReveals.
func ForInstitution(plan PlanView, institutionID string, covers Covers) PlanView {
	c := cutter{institution: institutionID, covers: covers, caseCats: caseCategories(plan)}
	v := reflect.ValueOf(&plan).Elem()
	c.fields(v, "", subject{})
	if plan.Contract != nil {
		plan.Contract.ActionsBySector = bySector(plan.Contract.Actions)
	}
	return plan
}

type cutter struct {
	institution string
	covers      Covers
	caseCats    []domain.DataCategory
}

// subject is what an element of the plan reveals and whose it is.
type subject struct {
	categories []domain.DataCategory // nil: no element
	owner      string                // the institution responsible for it
	element    bool
}

// subjectOf returns what an element of a slice of the plan is about.
func subjectOf(v reflect.Value) subject {
	area := func(a domain.NeedArea) []domain.DataCategory {
		if a == "" {
			return []domain.DataCategory{dataRestricted}
		}
		return []domain.DataCategory{domain.AreaCategory(a)}
	}
	switch e := v.Interface().(type) {
	case AreaView:
		return subject{categories: area(e.Area), element: true}
	case domain.DiagnosisInputRecorded:
		return subject{categories: area(e.Area), element: true}
	case GoalView:
		return subject{categories: area(e.Area), element: true}
	case ActionView:
		s := subject{categories: area(e.Area), element: true}
		if e.Responsible.Kind == domain.PartyInstitution {
			s.owner = e.Responsible.InstitutionID
		}
		return s
	case Deadline:
		s := subject{categories: area(e.Area), element: true}
		if e.Party == domain.PartyInstitution {
			s.owner = e.Institution
		}
		return s
	case ReferralView:
		return subject{categories: area(e.Area), owner: e.InstitutionID, element: true}
	case ConsentView:
		return subject{categories: e.Categories, owner: e.InstitutionID, element: true}
	case domain.LegalBasisRecorded:
		return subject{categories: e.Categories, owner: e.InstitutionID, element: true}
	}
	return subject{}
}

// allowed reports whether a rule is met within an element.
func (c cutter) allowed(rule string, s subject) bool {
	var cats []domain.DataCategory
	switch rule {
	case "basic":
		cats = []domain.DataCategory{domain.DataBasic}
	case "area", "categories":
		if !s.element {
			return false // a rule for elements outside one: hide
		}
		if s.owner != "" && s.owner == c.institution {
			return true
		}
		cats = s.categories
	case "case":
		cats = c.caseCats
	default: // restricted, or a rule this code does not know
		cats = []domain.DataCategory{dataRestricted}
	}
	for _, cat := range cats {
		if !c.covers(cat) {
			return false
		}
	}
	return true
}

// fields applies the rules to the fields of a struct value.
func (c cutter) fields(v reflect.Value, path string, s subject) {
	for f, fv := range jsonFields(v) {
		p := join(path, f)
		c.value(fv, p, planReveals[p], s)
	}
}

// value applies a field's rule: to each element of a slice, else to the
// field itself, and goes on into what it keeps. Slices and pointers are
// copied before they change, so the read model's state is never touched.
func (c cutter) value(v reflect.Value, path, rule string, s subject) {
	switch {
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct && !isLeaf(v.Type().Elem()):
		if v.IsNil() {
			return
		}
		kept := reflect.MakeSlice(v.Type(), 0, v.Len())
		for i := range v.Len() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.Index(i))
			es := s
			if sub := subjectOf(e); sub.element {
				es = sub
			}
			if !c.allowed(rule, es) {
				continue
			}
			c.fields(e, path, es)
			kept = reflect.Append(kept, e)
		}
		v.Set(kept)
	case !c.allowed(rule, s):
		v.SetZero()
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct:
		cp := reflect.New(v.Type().Elem())
		cp.Elem().Set(v.Elem())
		v.Set(cp)
		c.fields(cp.Elem(), path, s)
	case v.Kind() == reflect.Struct && !isLeaf(v.Type()):
		c.fields(v, path, s)
	}
}

// caseCategories are the categories the case as a whole reveals: those of
// its diagnosis areas and of its goals (a goal without an area is
// restricted).
func caseCategories(plan PlanView) []domain.DataCategory {
	out := []domain.DataCategory{domain.DataBasic}
	add := func(c domain.DataCategory) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, a := range plan.Diagnosis.Areas {
		add(domain.AreaCategory(a.Area))
	}
	if plan.Contract != nil {
		for _, g := range plan.Contract.Goals {
			if g.Area == "" {
				add(dataRestricted)
			} else {
				add(domain.AreaCategory(g.Area))
			}
		}
	}
	return out
}

// isLeaf reports whether a struct type is one value in JSON (a date).
func isLeaf(t reflect.Type) bool {
	return t.Implements(reflect.TypeFor[json.Marshaler]()) || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Marshaler]())
}

// jsonFields returns the fields of a struct value by JSON name, embedded
// structs' fields flattened as encoding/json does.
func jsonFields(v reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			for n, fv := range jsonFields(v.Field(i)) {
				if _, shadowed := out[n]; !shadowed {
					out[n] = fv
				}
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out[name] = v.Field(i)
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
