// Package polish holds the engine's Polish wording: the label of every
// enumeration value of the domain (need areas, sectors, data categories,
// statuses, endings…) and the plural forms of the nouns counted in
// summaries and reports. The history, the audit command line and the
// evaluation report use it; the pages' dictionary (web/assets/i18n.js)
// carries the same words, which a test keeps in step.
package polish

import (
	"strconv"

	"github.com/kooperacje/kooperacje/domain"
)

// Noun is a countable Polish noun in the three forms a count picks from:
// One for 1, Few for 2–4 (and 22–24, 32–34…, but not 12–14), Many for
// the rest (0, 5–21, 25–31…).
type Noun struct {
	One, Few, Many string
}

// Form returns the form of the noun that goes with the count n.
func (w Noun) Form(n int) string {
	if n < 0 {
		n = -n
	}
	switch {
	case n == 1:
		return w.One
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return w.Few
	}
	return w.Many
}

// Count writes n followed by the noun in its form: "2 cele", "5 celów".
func (w Noun) Count(n int) string { return strconv.Itoa(n) + " " + w.Form(n) }

// Nouns counted by the engine's summaries and reports, keyed by the name
// the pages' dictionary uses ("noun.<key>.one" …).
var Nouns = map[string]Noun{
	"goal":            {"cel", "cele", "celów"},
	"action":          {"działanie", "działania", "działań"},
	"family":          {"rodzina", "rodziny", "rodzin"},
	"partnership":     {"partnerstwo", "partnerstwa", "partnerstw"},
	"person":          {"osoba", "osoby", "osób"},
	"institution":     {"instytucja", "instytucje", "instytucji"},
	"service":         {"usługa", "usługi", "usług"},
	"meeting":         {"spotkanie", "spotkania", "spotkań"},
	"day":             {"dzień", "dni", "dni"},
	"message":         {"komunikat", "komunikaty", "komunikatów"},
	"event":           {"zdarzenie", "zdarzenia", "zdarzeń"},
	"sector":          {"sektor", "sektory", "sektorów"},
	"signed_contract": {"podpisany kontrakt", "podpisane kontrakty", "podpisanych kontraktów"},
	"overdue_action":  {"działanie po terminie", "działania po terminie", "działań po terminie"},
}

// The nouns used by name in Go.
var (
	Goals        = Nouns["goal"]
	Actions      = Nouns["action"]
	Families     = Nouns["family"]
	Partnerships = Nouns["partnership"]
	Persons      = Nouns["person"]
	Institutions = Nouns["institution"]
	Days         = Nouns["day"]
	Messages     = Nouns["message"]
	Events       = Nouns["event"]
)

// Labels holds the Polish word for every value of the domain's
// enumerations, by kind (the prefix the pages' dictionary uses: the label
// of domain.AreaIncome is Labels["area"]["income"]).
var Labels = map[string]map[string]string{
	"sector": {
		string(domain.SectorSocialAssistance): "pomoc społeczna",
		string(domain.SectorFamilySupport):    "wspieranie rodziny",
		string(domain.SectorLabour):           "rynek pracy",
		string(domain.SectorEducation):        "edukacja",
		string(domain.SectorHealth):           "ochrona zdrowia",
		string(domain.SectorJustice):          "kuratela sądowa",
		string(domain.SectorPolice):           "policja",
		string(domain.SectorHousing):          "mieszkalnictwo",
		string(domain.SectorNGO):              "organizacje pozarządowe",
		string(domain.SectorOther):            "inne",
	},
	"role": {
		string(domain.RoleAdmin):       "administrator",
		string(domain.RoleAnimator):    "animator PZK",
		string(domain.RoleCoordinator): "pracownik socjalny",
		string(domain.RoleWorker):      "pracownik instytucji",
		string(domain.RoleEvaluator):   "ewaluator",
		string(domain.RoleAuditor):     "audytor",
		string(domain.RoleSystem):      "system",
	},
	"category": {
		string(domain.DataBasic):      "dane podstawowe",
		string(domain.DataHealth):     "zdrowie",
		string(domain.DataAddiction):  "uzależnienia",
		string(domain.DataViolence):   "przemoc",
		string(domain.DataEducation):  "edukacja",
		string(domain.DataEmployment): "zatrudnienie",
		string(domain.DataJustice):    "sprawy sądowe",
		string(domain.DataHousing):    "mieszkanie",
		string(domain.DataIncome):     "dochody",
	},
	"area": {
		string(domain.AreaHousing):    "mieszkanie",
		string(domain.AreaIncome):     "dochód",
		string(domain.AreaEmployment): "zatrudnienie",
		string(domain.AreaHealth):     "zdrowie",
		string(domain.AreaAddiction):  "uzależnienia",
		string(domain.AreaViolence):   "przemoc",
		string(domain.AreaParenting):  "rodzicielstwo",
		string(domain.AreaEducation):  "edukacja",
		string(domain.AreaDisability): "niepełnosprawność",
		string(domain.AreaJustice):    "sprawy sądowe",
	},
	"severity": {
		string(domain.SeverityLow):      "niskie",
		string(domain.SeverityMedium):   "średnie",
		string(domain.SeverityHigh):     "wysokie",
		string(domain.SeverityCritical): "krytyczne",
	},
	"relation": {
		string(domain.RelationApplicant): "wnioskodawca",
		string(domain.RelationSpouse):    "małżonek",
		string(domain.RelationPartner):   "partner",
		string(domain.RelationChild):     "dziecko",
		string(domain.RelationParent):    "rodzic",
		string(domain.RelationSibling):   "rodzeństwo",
		string(domain.RelationOther):     "inna osoba",
	},
	"variant": {
		string(domain.VariantA): "A (rozwiązanie trudnej sytuacji życiowej)",
		string(domain.VariantB): "B (aktywizacja i usamodzielnienie)",
	},
	"party": {
		string(domain.PartyClient):      "klient",
		string(domain.PartyCoordinator): "koordynator",
		string(domain.PartyInstitution): "instytucja",
	},
	"astatus": {
		string(domain.ActionStatusPlanned):   "zaplanowane",
		string(domain.ActionStatusStarted):   "rozpoczęte",
		string(domain.ActionStatusCompleted): "wykonane",
		string(domain.ActionStatusMissed):    "niewykonane",
		string(domain.ActionStatusWithdrawn): "wycofane",
	},
	"achievement": {
		string(domain.NotAchieved):       "nieosiągnięty",
		string(domain.PartiallyAchieved): "częściowo osiągnięty",
		string(domain.Achieved):          "osiągnięty",
	},
	"ending": {
		string(domain.EndingGoalsMet):       "cele osiągnięte",
		string(domain.EndingClientBroke):    "niedotrzymanie przez klienta",
		string(domain.EndingClientWithdrew): "rezygnacja klienta",
		string(domain.EndingMovedAway):      "wyprowadzka",
		string(domain.EndingOther):          "inne",
	},
	"outcome": {
		string(domain.OutcomeGoalsAchieved):  "cele osiągnięte",
		string(domain.OutcomePartlyAchieved): "cele osiągnięte częściowo",
		string(domain.OutcomeNotAchieved):    "cele nieosiągnięte",
		string(domain.OutcomeClientWithdrew): "rezygnacja klienta",
		string(domain.OutcomeMovedAway):      "wyprowadzka",
		string(domain.OutcomeTransferred):    "przekazanie sprawy",
		string(domain.OutcomeOther):          "inne",
	},
	"rstatus": {
		string(domain.ReferralRequestedStatus): "wystawione",
		string(domain.ReferralAcceptedStatus):  "przyjęte",
		string(domain.ReferralDeclinedStatus):  "odrzucone",
		string(domain.ReferralCompletedStatus): "zrealizowane",
	},
	"support": {
		string(domain.SupportTraining):     "szkolenie międzysektorowe",
		string(domain.SupportCoaching):     "coaching",
		string(domain.SupportWorkshop):     "warsztaty kooperacyjne",
		string(domain.SupportPZKMeeting):   "spotkanie PZK",
		string(domain.SupportZZKMeeting):   "spotkanie ZZK",
		string(domain.SupportConsultation): "spotkanie konsultacyjne",
	},
	"cutoff": {
		"today": "koniec dzisiejszego dnia (czas polski), zasada domyślna",
		"as_of": "koniec wybranego dnia (czas polski)",
	},
	"meeting": {
		string(domain.MeetingInitiating):   "inicjujące",
		string(domain.MeetingFormalising):  "formalizujące",
		string(domain.MeetingRegular):      "spotkanie PZK",
		string(domain.MeetingConsultation): "konsultacyjne",
	},
}

// Enums lists every value of each kind in Labels, in the domain's order:
// what a test checks has a label, and what a reader must never see in
// English.
var Enums = map[string][]string{
	"sector":      strs(domain.Sectors),
	"role":        append(strs(domain.Roles), string(domain.RoleSystem)),
	"category":    strs(domain.DataCategories),
	"area":        strs(domain.NeedAreas),
	"severity":    strs(domain.Severities),
	"relation":    strs(domain.Relations),
	"variant":     strs(domain.ContractVariants),
	"party":       strs(domain.PartyKinds),
	"astatus":     {string(domain.ActionStatusPlanned), string(domain.ActionStatusStarted), string(domain.ActionStatusCompleted), string(domain.ActionStatusMissed), string(domain.ActionStatusWithdrawn)},
	"achievement": strs(domain.Achievements),
	"ending":      strs(domain.Endings),
	"outcome":     strs(domain.Outcomes),
	"rstatus":     {string(domain.ReferralRequestedStatus), string(domain.ReferralAcceptedStatus), string(domain.ReferralDeclinedStatus), string(domain.ReferralCompletedStatus)},
	"support":     strs(domain.SupportKinds),
	"meeting":     strs(domain.MeetingKinds),
	// How a document's day was chosen (api.CutoffRule).
	"cutoff": {"today", "as_of"},
}

func strs[T ~string, S ~[]T](vs S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// Label returns the Polish word for a value of one of the domain's
// enumerations. A value it does not know (written by a newer engine, or
// empty) reads as "nieznane (<value>)" rather than as an English word in
// a Polish sentence.
func Label[T ~string](v T) string {
	kind := kindOf(any(v))
	if l, ok := Labels[kind][string(v)]; ok {
		return l
	}
	if v == "" {
		return "nie podano"
	}
	return "nieznane (" + string(v) + ")"
}

func kindOf(v any) string {
	switch v.(type) {
	case domain.Sector:
		return "sector"
	case domain.Role:
		return "role"
	case domain.DataCategory:
		return "category"
	case domain.NeedArea:
		return "area"
	case domain.Severity:
		return "severity"
	case domain.Relation:
		return "relation"
	case domain.ContractVariant:
		return "variant"
	case domain.PartyKind:
		return "party"
	case domain.ActionStatus:
		return "astatus"
	case domain.Achievement:
		return "achievement"
	case domain.Ending:
		return "ending"
	case domain.Outcome:
		return "outcome"
	case domain.ReferralStatus:
		return "rstatus"
	case domain.SupportKind:
		return "support"
	case domain.MeetingKind:
		return "meeting"
	}
	return ""
}

// List joins the labels of several values: "zdrowie, przemoc".
func List[T ~string](vs []T) string {
	s := ""
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		s += Label(v)
	}
	return s
}
