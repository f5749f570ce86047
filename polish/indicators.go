package polish

import "strings"

// Indicator is the Polish wording of one of the evaluation's indicators
// (projections.IndicatorGroup, docs/evaluation.md): its name as a column
// header, its definition and its formula, for the report and the
// spreadsheets' glossary.
type Indicator struct {
	Name, Definition, Formula string
	// Values is the kind in Labels its keys are values of ("sector" for
	// members_by_sector…); empty when it has no keys.
	Values string
}

// Indicators are the evaluation's indicators by their key in the JSON
// document, at every level.
var Indicators = map[string]Indicator{
	// Institution level (PZK).
	"members_by_sector": {"Instytucje członkowskie wg sektora", "Instytucje należące do PZK w dniu granicznym (przystąpiły i nie wystąpiły), wg sektora, z którym przystąpiły.", "liczba instytucji członkowskich danego sektora", "sector"},
	"members":           {"Instytucje członkowskie", "Instytucje należące do PZK w dniu granicznym, lider i współlider włącznie.", "suma instytucji członkowskich wszystkich sektorów", ""},
	"sector_coverage":   {"Liczba sektorów w PZK", "Liczba różnych sektorów wśród instytucji członkowskich.", "liczba różnych sektorów instytucji członkowskich", ""},
	"services_by_sector": {"Usługi w koszyku wg sektora", "Usługi zgłoszone do lokalnego koszyka usług i nie wycofane, wg sektora usługi.",
		"liczba usług danego sektora w koszyku", "sector"},
	"services":         {"Usługi w koszyku", "Wszystkie usługi w lokalnym koszyku usług w dniu granicznym.", "suma usług wszystkich sektorów", ""},
	"meetings_by_kind": {"Spotkania PZK wg rodzaju", "Odnotowane spotkania partnerstwa wg rodzaju spotkania.", "liczba spotkań PZK danego rodzaju", "meeting"},
	"meetings":         {"Spotkania PZK", "Wszystkie odnotowane spotkania partnerstwa.", "suma spotkań PZK wszystkich rodzajów", ""},
	"formalized":       {"PZK sformalizowane", "Partnerstwa, które zostały sformalizowane do dnia granicznego.", "liczba sformalizowanych partnerstw", ""},
	"days_to_formalisation": {"Dni od inicjacji do formalizacji", "Rozkład liczby dni od inicjacji partnerstwa do jego (pierwszej) formalizacji, wśród sformalizowanych partnerstw.",
		"data formalizacji − data inicjacji, w dniach; kwartyle metodą QUARTILE.INC", ""},
	"members_left": {"Instytucje, które wystąpiły", "Wystąpienia instytucji członkowskich z PZK.", "liczba wystąpień", ""},

	// Staff support.
	"support_by_form": {"Wsparcie kadr wg formy", "Działania wsparcia kadr wg formy (sześć form modelu): liczba działań, ich łączny czas w godzinach, liczba różnych osób i różnych instytucji, które wzięły w nich udział.",
		"dla każdej formy: liczba działań; suma godzin; liczba różnych uczestników; liczba różnych instytucji", "support"},
	"support_activities":   {"Działania wsparcia kadr", "Wszystkie odnotowane działania wsparcia kadr, wszystkich form.", "liczba działań wsparcia kadr", ""},
	"support_hours":        {"Godziny wsparcia kadr", "Łączny czas wszystkich działań wsparcia kadr.", "suma godzin działań wsparcia kadr", ""},
	"support_participants": {"Uczestnicy wsparcia kadr (osoby)", "Różne osoby (pracownicy), które wzięły udział w co najmniej jednym działaniu wsparcia kadr.", "liczba różnych uczestników", ""},
	"support_institutions": {"Instytucje objęte wsparciem kadr", "Różne instytucje, których pracownicy wzięli udział w co najmniej jednym działaniu wsparcia kadr.", "liczba różnych instytucji", ""},
	"team_members": {"Członkowie ZZK (osoby)", "Różne osoby, które do dnia granicznego były członkami co najmniej jednego zespołu zadaniowego rodzin partnerstwa, z koordynatorami.",
		"liczba różnych członków ZZK", ""},
	"team_members_trained": {"Członkowie ZZK po szkoleniu międzysektorowym", "Członkowie ZZK, którzy wzięli udział w co najmniej jednym szkoleniu międzysektorowym partnerstwa.",
		"liczba członków ZZK wśród uczestników szkoleń międzysektorowych", ""},
	"team_members_trained_share": {"Odsetek członków ZZK po szkoleniu międzysektorowym (%)", "Jaka część członków ZZK wzięła udział w co najmniej jednym szkoleniu międzysektorowym.",
		"członkowie ZZK po szkoleniu ÷ członkowie ZZK × 100", ""},

	// Worker level (ZZK).
	"teams_formed": {"Powołane ZZK", "Powołane zespoły zadaniowe (zespół powołany ponownie po rozwiązaniu liczy się ponownie).", "liczba powołań ZZK", ""},
	"team_size_at_forming": {"Średnia liczebność ZZK przy powołaniu", "Średnia liczba członków zespołu w chwili powołania, z koordynatorem.",
		"suma członków przy powołaniu ÷ liczba powołanych ZZK", ""},
	"institutions_per_team": {"Średnia liczba instytucji w ZZK", "Średnia liczba różnych instytucji, których pracownicy byli w zespole w czasie jego działania.",
		"suma różnych instytucji w zespołach ÷ liczba powołanych ZZK", ""},
	"sectors_per_team": {"Średnia liczba sektorów w ZZK", "Średnia liczba różnych sektorów reprezentowanych w zespole w czasie jego działania.",
		"suma różnych sektorów w zespołach ÷ liczba powołanych ZZK", ""},
	"team_meetings": {"Spotkania ZZK", "Spotkania zespołów zadaniowych odnotowane w czasie działania zespołu.", "liczba spotkań ZZK", ""},
	"team_family_months": {"Miesiące pracy ZZK z rodzinami", "Łączny czas, przez który rodziny miały działający zespół zadaniowy do dnia granicznego, w miesiącach.",
		"suma dni od powołania ZZK do jego rozwiązania (lub dnia granicznego) ÷ 30,4375", ""},
	"team_meetings_per_family_month": {"Średnia liczba spotkań ZZK na rodzinę miesięcznie", "Ile spotkań odbywał przeciętnie zespół zadaniowy jednej rodziny w ciągu miesiąca.",
		"liczba spotkań ZZK ÷ miesiące pracy ZZK z rodzinami", ""},

	// Client level (families).
	"families_enrolled": {"Rodziny objęte wsparciem", "Sprawy rodzin otwarte do dnia granicznego (także rodzin, których dane usunięto).", "liczba otwartych spraw", ""},
	"families_open":     {"Rodziny w toku (sprawy otwarte)", "Rodziny, których sprawa nie była zamknięta w dniu granicznym.", "liczba spraw niezamkniętych", ""},
	"days_to_diagnosis": {"Dni od otwarcia do diagnozy", "Rozkład liczby dni od otwarcia sprawy do pierwszej zakończonej diagnozy, wśród rodzin z diagnozą.",
		"data diagnozy − data otwarcia, w dniach; kwartyle metodą QUARTILE.INC", ""},
	"days_to_contract": {"Dni od otwarcia do podpisania kontraktu", "Rozkład liczby dni od otwarcia sprawy do podpisania pierwszego kontraktu, wśród rodzin z kontraktem.",
		"data podpisania − data otwarcia, w dniach; kwartyle metodą QUARTILE.INC", ""},
	"contracts_signed": {"Podpisane kontrakty", "Podpisane kontrakty; jeden kontrakt na etap sprawy (zmiany kontraktu nie liczą się osobno).", "liczba podpisanych kontraktów", ""},
	"sectors_per_contract": {"Średnia liczba sektorów w kontrakcie", "Średnia liczba różnych sektorów odpowiedzialnych za co najmniej jedno działanie kontraktu (klient nie jest sektorem).",
		"suma sektorów w kontraktach ÷ liczba podpisanych kontraktów", ""},
	"actions_by_sector": {"Działania wg sektora", "Działania podpisanych kontraktów wg sektora strony odpowiedzialnej i wg stanu w dniu granicznym.",
		"liczba działań danego sektora w danym stanie", "sector"},
	"actions": {"Działania", "Działania podpisanych kontraktów wg stanu: wykonane, niewykonane, po terminie (zaplanowane lub rozpoczęte, termin przed dniem granicznym, kontrakt obowiązuje), w toku (pozostałe).",
		"liczba działań w danym stanie", ""},
	"goals_by_achievement": {"Cele wg stopnia osiągnięcia (ostatnia ocena)", "Cele podpisanych kontraktów wg stopnia osiągnięcia przy ostatniej ocenie; cele nigdy nie oceniane nie są liczone.",
		"liczba celów o danym stopniu osiągnięcia", "achievement"},
	"contract_endings": {"Zakończenia kontraktów wg przyczyny", "Zakończenia kontraktów wg przyczyny zakończenia.", "liczba zakończeń z daną przyczyną", "ending"},
	"case_outcomes":    {"Zamknięcia spraw wg rezultatu", "Zamknięcia spraw wg rezultatu (sprawa zamknięta ponownie liczy się ponownie).", "liczba zamknięć z danym rezultatem", "outcome"},
	"reopenings":       {"Ponowne otwarcia spraw", "Ponowne otwarcia zamkniętych spraw.", "liczba ponownych otwarć", ""},
}

// IndicatorParts are the Polish words for the parts of an indicator: the
// statistics of a distribution or a mean, and the statuses and parties
// under the actions.
var IndicatorParts = map[string]string{
	"n":            "liczba",
	"value":        "wartość",
	"min":          "minimum",
	"q1":           "pierwszy kwartyl",
	"median":       "mediana",
	"q3":           "trzeci kwartyl",
	"max":          "maksimum",
	"completed":    "wykonane",
	"missed":       "niewykonane",
	"overdue":      "po terminie",
	"open":         "w toku",
	"client":       "klient",
	"coordinator":  "koordynator",
	"activities":   "działania",
	"hours":        "godziny",
	"participants": "uczestnicy (osoby)",
	"institutions": "instytucje",
}

// IndicatorLabel names an indicator or a part of one by its path in the
// JSON document (["actions_by_sector", "ngo", "overdue"]): the parts'
// Polish words joined by " — ". A key it does not know stays as it is.
func IndicatorLabel(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		var values string
		if i > 0 {
			values = Indicators[path[i-1]].Values
		}
		switch {
		case i == 0 && Indicators[p].Name != "":
			parts[i] = Indicators[p].Name
		case values != "" && Labels[values][p] != "":
			parts[i] = Labels[values][p]
		case IndicatorParts[p] != "":
			parts[i] = IndicatorParts[p]
		default:
			parts[i] = p
		}
	}
	return strings.Join(parts, " — ")
}
