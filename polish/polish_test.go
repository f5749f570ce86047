package polish_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/polish"
)

func TestCountsTakeTheirPolishForm(t *testing.T) {
	tests := []struct {
		n                           int
		goal, family, partner, days string
	}{
		{0, "0 celów", "0 rodzin", "0 partnerstw", "0 dni"},
		{1, "1 cel", "1 rodzina", "1 partnerstwo", "1 dzień"},
		{2, "2 cele", "2 rodziny", "2 partnerstwa", "2 dni"},
		{3, "3 cele", "3 rodziny", "3 partnerstwa", "3 dni"},
		{4, "4 cele", "4 rodziny", "4 partnerstwa", "4 dni"},
		{5, "5 celów", "5 rodzin", "5 partnerstw", "5 dni"},
		{11, "11 celów", "11 rodzin", "11 partnerstw", "11 dni"},
		{12, "12 celów", "12 rodzin", "12 partnerstw", "12 dni"},
		{13, "13 celów", "13 rodzin", "13 partnerstw", "13 dni"},
		{14, "14 celów", "14 rodzin", "14 partnerstw", "14 dni"},
		{21, "21 celów", "21 rodzin", "21 partnerstw", "21 dni"},
		{22, "22 cele", "22 rodziny", "22 partnerstwa", "22 dni"},
		{24, "24 cele", "24 rodziny", "24 partnerstwa", "24 dni"},
		{25, "25 celów", "25 rodzin", "25 partnerstw", "25 dni"},
		{101, "101 celów", "101 rodzin", "101 partnerstw", "101 dni"},
		{102, "102 cele", "102 rodziny", "102 partnerstwa", "102 dni"},
		{112, "112 celów", "112 rodzin", "112 partnerstw", "112 dni"},
		{1000, "1000 celów", "1000 rodzin", "1000 partnerstw", "1000 dni"},
		{1003, "1003 cele", "1003 rodziny", "1003 partnerstwa", "1003 dni"},
	}
	for _, tt := range tests {
		t.Run(tt.goal, func(t *testing.T) {
			assert.Equal(t, tt.goal, polish.Goals.Count(tt.n))
			assert.Equal(t, tt.family, polish.Families.Count(tt.n))
			assert.Equal(t, tt.partner, polish.Partnerships.Count(tt.n))
			assert.Equal(t, tt.days, polish.Days.Count(tt.n))
		})
	}
}

func TestEveryEnumerationValueHasAPolishLabel(t *testing.T) {
	for kind, values := range polish.Enums {
		require.Contains(t, polish.Labels, kind)
		assert.Len(t, polish.Labels[kind], len(values), "%s: a label for each value and no more", kind)
		for _, v := range values {
			assert.NotEmpty(t, polish.Labels[kind][v], "%s %s", kind, v)
		}
	}
	assert.Equal(t, "dochód", polish.Label(domain.AreaIncome))
	assert.Equal(t, "średnie", polish.Label(domain.SeverityMedium))
	assert.Equal(t, "pomoc społeczna", polish.Label(domain.SectorSocialAssistance))
	assert.Equal(t, "zdrowie, przemoc", polish.List([]domain.DataCategory{domain.DataHealth, domain.DataViolence}))
	assert.Equal(t, "nieznane (telepathy)", polish.Label(domain.NeedArea("telepathy")), "a value of a newer engine")
	assert.Equal(t, "nie podano", polish.Label(domain.Ending("")))
}

// The pages speak the same words: every label and every noun form of the
// Go tables is in web/assets/i18n.js's Polish dictionary, under
// "<kind>.<value>" and "noun.<key>.<one|few|many>".
func TestThePagesUseTheSameWords(t *testing.T) {
	b, err := os.ReadFile("../web/assets/i18n.js")
	require.NoError(t, err)
	pl := regexp.MustCompile(`(?s)const pl = \{(.*?)\n\};`).FindSubmatch(b)
	require.NotNil(t, pl, "the Polish dictionary of i18n.js")
	dict := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*'([^']+)':\s*'([^']*)',`).FindAllSubmatch(pl[1], -1) {
		dict[string(m[1])] = string(m[2])
	}
	require.NotEmpty(t, dict)
	for kind, labels := range polish.Labels {
		for v, l := range labels {
			assert.Equal(t, l, dict[kind+"."+v], "i18n.js %s.%s", kind, v)
		}
	}
	// An indicator the pages name has the name the report and the
	// spreadsheets give it, perhaps with what the page shows of it
	// ("(mediana)").
	named := 0
	for key, ind := range polish.Indicators {
		if l, ok := dict[key]; ok {
			named++
			assert.True(t, strings.HasPrefix(l, ind.Name), "i18n.js %s: %q, the report says %q", key, l, ind.Name)
		}
	}
	assert.Greater(t, named, 10, "the pages name the indicators they show")
	for key, n := range polish.Nouns {
		assert.Equal(t, n.One, dict["noun."+key+".one"], "i18n.js noun.%s.one", key)
		assert.Equal(t, n.Few, dict["noun."+key+".few"], "i18n.js noun.%s.few", key)
		assert.Equal(t, n.Many, dict["noun."+key+".many"], "i18n.js noun.%s.many", key)
	}
}
