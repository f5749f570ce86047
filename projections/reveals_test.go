package projections

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// planPaths lists the JSON path of every field of a type, at every depth,
// as planReveals names them.
func planPaths(t reflect.Type, path string, out *[]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || isLeaf(t) {
		return
	}
	for name, ft := range jsonFieldTypes(t) {
		p := join(path, name)
		*out = append(*out, p)
		planPaths(ft, p, out)
	}
}

func jsonFieldTypes(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
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
			for n, ft := range jsonFieldTypes(sf.Type) {
				if _, shadowed := out[n]; !shadowed {
					out[n] = ft
				}
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out[name] = sf.Type
	}
	return out
}

func TestEveryPlanFieldSaysWhatItReveals(t *testing.T) {
	var paths []string
	planPaths(reflect.TypeFor[PlanView](), "", &paths)
	slices.Sort(paths)
	require.NotEmpty(t, paths)
	rules := []string{"basic", "area", "categories", "case", "restricted"}
	for _, p := range paths {
		rule, ok := planReveals[p]
		if assert.True(t, ok, "the plan's field %s does not say what it reveals: add it to planReveals", p) {
			assert.Contains(t, rules, rule, "the rule of %s", p)
		}
	}
	for p := range planReveals {
		assert.Contains(t, paths, p, "planReveals names a field the plan does not have")
	}
}

// TestAnInputRecordedWithoutAnIDIsNamedByItsEvent applies events as an
// engine before input ids stored them: the input is named by its event's
// id, and a withdrawal by that id takes it out of the plan.
func TestAnInputRecordedWithoutAnIDIsNamedByItsEvent(t *testing.T) {
	f := NewFamilies()
	env := func(v int64, id string, e domain.Event) domain.Envelope {
		return domain.Envelope{EventID: id, Type: e.EventType(), AggregateType: domain.AggregateFamily, AggregateID: "f1", AggregateVersion: v, Payload: e}
	}
	day := domain.NewDate(2020, 3, 1)
	old := domain.DiagnosisInputRecorded{Area: domain.AreaHousing, Severity: domain.SeverityHigh, Needs: "mieszkanie", WorkerID: "w1", InstitutionID: "i1", Date: day}
	for _, e := range []domain.Envelope{
		env(1, "e1", domain.FamilyCaseOpened{OpenedOn: day}),
		env(2, "e2", old),
		env(3, "e3", domain.DiagnosisInputRecorded{InputID: "in-3", Area: domain.AreaHousing, Severity: domain.SeverityLow, Needs: "remont", Date: day}),
	} {
		require.NoError(t, f.Apply(e))
	}
	plan, ok := f.Plan("f1", day)
	require.True(t, ok)
	require.Len(t, plan.Diagnosis.Areas, 1)
	inputs := plan.Diagnosis.Areas[0].Inputs
	require.Len(t, inputs, 2)
	assert.Equal(t, "e2", inputs[0].InputID, "an input without an id is named by its event")
	assert.Equal(t, "in-3", inputs[1].InputID)
	assert.Equal(t, domain.SeverityHigh, plan.Diagnosis.Areas[0].Severity)

	require.NoError(t, f.Apply(env(4, "e4", domain.DiagnosisInputWithdrawn{InputID: "e2", Date: day})))
	after, _ := f.Plan("f1", day)
	require.Len(t, after.Diagnosis.Areas[0].Inputs, 1)
	assert.Equal(t, domain.SeverityLow, after.Diagnosis.Areas[0].Severity, "the severity of what is left")
	assert.Len(t, plan.Diagnosis.Areas[0].Inputs, 2, "a plan handed out before does not change")
}

func TestForInstitutionLeavesOutWhatTheConsentDoesNotCover(t *testing.T) {
	plan := PlanView{
		Diagnosis: DiagnosisView{Summary: "przemoc", Areas: []AreaView{{Area: domain.AreaViolence}, {Area: domain.AreaEducation}}},
		Referrals: []ReferralView{{ReferralRequested: domain.ReferralRequested{ReferralID: "r1", InstitutionID: "clinic", Area: domain.AreaAddiction}},
			{ReferralRequested: domain.ReferralRequested{ReferralID: "r2", InstitutionID: "school"}}, {ReferralRequested: domain.ReferralRequested{ReferralID: "r3", InstitutionID: "pup"}}},
		Contract: &ContractView{MainGoal: "bezpieczeństwo", Goals: []GoalView{{Goal: domain.Goal{ID: "g1", Area: domain.AreaViolence}}, {Goal: domain.Goal{ID: "g2", Area: domain.AreaEducation}}},
			Actions: []ActionView{
				{Action: domain.Action{ID: "a1", Area: domain.AreaViolence, Responsible: domain.Party{Kind: domain.PartyCoordinator}}},
				{Action: domain.Action{ID: "a2", Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: "school"}}},
				{Action: domain.Action{ID: "a3", Responsible: domain.Party{Kind: domain.PartyClient}}},
				{Action: domain.Action{ID: "a4", Area: domain.AreaEducation, Responsible: domain.Party{Kind: domain.PartyClient}}},
			}},
	}
	covered := []domain.DataCategory{domain.DataBasic, domain.DataEducation}
	v := ForInstitution(plan, "school", func(c domain.DataCategory) bool { return slices.Contains(covered, c) })
	var areas, referrals, goals, actions []string
	for _, a := range v.Diagnosis.Areas {
		areas = append(areas, string(a.Area))
	}
	for _, r := range v.Referrals {
		referrals = append(referrals, r.ReferralID)
	}
	for _, g := range v.Contract.Goals {
		goals = append(goals, g.ID)
	}
	for _, a := range v.Contract.Actions {
		actions = append(actions, a.ID)
	}
	assert.Equal(t, []string{"education"}, areas)
	assert.Equal(t, []string{"r2"}, referrals, "a referral sent to the school is the school's; one without an area is restricted")
	assert.Equal(t, []string{"g2"}, goals)
	assert.Equal(t, []string{"a2", "a4"}, actions, "the school's own action, and one of a covered area; an untagged client's action is restricted")
	assert.Empty(t, v.Diagnosis.Summary, "the case reveals violence")
	assert.Empty(t, v.Contract.MainGoal)
	assert.Len(t, plan.Contract.Actions, 4, "the plan given is not changed")
	assert.Equal(t, "przemoc", plan.Diagnosis.Summary)

	// Not covered even for basic data (a plan's day before the consent):
	// nothing of the family.
	plan.Household, plan.Address = []domain.Person{{PersonID: "p1", Name: "Anna"}}, "ul. Długa 1"
	none := ForInstitution(plan, "nobody", func(domain.DataCategory) bool { return false })
	assert.Empty(t, none.Household)
	assert.Empty(t, none.Address)
	assert.Empty(t, none.Referrals)
	assert.Empty(t, none.Diagnosis.Areas)

	// Covered for everything, restricted included: the coordinator's
	// institution, which runs the case by statute.
	all := ForInstitution(plan, "mops", func(domain.DataCategory) bool { return true })
	assert.Len(t, all.Contract.Goals, 2)
	assert.Len(t, all.Contract.Actions, 4)
	assert.Len(t, all.Referrals, 3)
	assert.Equal(t, "bezpieczeństwo", all.Contract.MainGoal)
}
