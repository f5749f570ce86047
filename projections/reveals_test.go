package projections

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
