package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/polish"
	"github.com/kooperacje/kooperacje/projections"
)

var uuidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// englishWord finds an enumeration value's English word in a Polish text:
// whole words only, so that "partner" is found in "partner" but not in
// "partnerstwo", and values that are Polish words too are left out
// ("A", "B" of the variants, "coaching", "partner", "system").
func englishWords() map[string]*regexp.Regexp {
	polishToo := map[string]bool{"A": true, "B": true, "coaching": true, "partner": true, "system": true}
	out := map[string]*regexp.Regexp{}
	for _, values := range polish.Enums {
		for _, v := range values {
			if polishToo[v] {
				continue
			}
			out[v] = regexp.MustCompile(`(?i)(^|[^\pL_])` + regexp.QuoteMeta(v) + `($|[^\pL_])`)
		}
	}
	return out
}

// A family taken through its steps by its coordinator, a user with a
// name and an institution, and read back as its history.
func TestTheHistoryIsWrittenForPeople(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)

	reg := ta.command(http.MethodPost, "/api/v1/users", map[string]any{"name": "Anna Koordynatorka", "role": "coordinator",
		"institution_id": f.ops, "worker_id": f.coordinator}, http.StatusCreated)
	r := ta.admin(http.MethodPost, "/api/v1/users/"+reg.ID+"/tokens", nil)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	var issued api.IssuedToken
	require.NoError(t, json.Unmarshal(r.raw, &issued))
	ta.settle(issued.Sequence)
	anna := issued.Token

	fc := familyCase{applicant: domain.NewID(), child: domain.NewID()}
	as := func(status int, method, path string, body any) api.CommandResponse {
		t.Helper()
		r := ta.do(method, path, anna, nil, body)
		require.Equal(t, status, r.status, "%s %s: %s", method, path, r.raw)
		var res api.CommandResponse
		require.NoError(t, json.Unmarshal(r.raw, &res))
		fc.seq = res.Sequence
		return res
	}
	opened := as(http.StatusCreated, http.MethodPost, "/api/v1/families", openBody(f, fc.applicant, fc.child, f.coordinator))
	fc.id, fc.path = opened.ID, "/api/v1/families/"+opened.ID
	as(http.StatusCreated, http.MethodPost, fc.path+"/consents", consentBody(f.pup, fc.applicant, "basic", "employment", "income"))
	as(http.StatusCreated, http.MethodPost, fc.path+"/consents", consentBody(f.school, fc.applicant, "basic", "education"))
	as(http.StatusOK, http.MethodPost, fc.path+"/diagnosis", diagnosisBody(f.adviser, f.pup, "employment", "medium"))
	as(http.StatusOK, http.MethodPost, fc.path+"/diagnosis", diagnosisBody(f.pedagogue, f.school, "education", "high"))
	as(http.StatusOK, http.MethodPost, fc.path+"/diagnosis/complete", map[string]any{"date": "2024-05-17", "summary": "Bezrobocie i nieobecności dziecka"})
	as(http.StatusOK, http.MethodPost, fc.path+"/team", map[string]any{"date": "2024-05-20",
		"members": []map[string]any{{"worker_id": f.adviser, "institution_id": f.pup}, {"worker_id": f.pedagogue, "institution_id": f.school}}})
	as(http.StatusOK, http.MethodPost, fc.path+"/team/members", map[string]any{"worker_id": f.teacher, "institution_id": f.school, "date": "2024-05-21"})
	as(http.StatusCreated, http.MethodPost, fc.path+"/team/meetings", map[string]any{"date": "2024-05-22",
		"attendees": []string{f.coordinator, f.adviser, f.pedagogue}, "decisions": []string{"Skierowanie do doradcy zawodowego"}})
	as(http.StatusCreated, http.MethodPost, fc.path+"/referrals", map[string]any{"service_id": f.pupService, "date": "2024-05-23"})
	v, _ := ta.plan(fc, "")
	as(http.StatusOK, http.MethodPost, fc.path+"/referrals/"+referralTo(t, v, f.pupService).ReferralID, map[string]any{"status": "accepted", "date": "2024-05-24"})
	as(http.StatusOK, http.MethodPost, fc.path+"/contract", contractBody(with(action("a1", "g1", "client", "2024-07-15"), "description", "Udział w kursie zawodowym"),
		with(action("a2", "g2", f.school, "2024-08-31"), "description", "Zajęcia wyrównawcze dla dziecka")))
	as(http.StatusOK, http.MethodPost, fc.path+"/contract/sign", map[string]any{"date": "2024-06-01", "client_id": fc.applicant})
	as(http.StatusOK, http.MethodPost, fc.path+"/contract/actions/a2", map[string]any{"status": "started", "date": "2024-06-10"})
	as(http.StatusOK, http.MethodPost, fc.path+"/contract/actions/a1", map[string]any{"status": "completed", "date": "2024-07-01"})
	as(http.StatusOK, http.MethodPost, fc.path+"/contract/review", map[string]any{"date": "2024-09-10",
		"goals": []map[string]any{{"goal_id": "g1", "achievement": "achieved"}, {"goal_id": "g2", "achievement": "partially_achieved"}}})
	v, _ = ta.plan(fc, "")
	as(http.StatusOK, http.MethodPost, fc.path+"/consents/"+consentID(t, v, f.school)+"/withdraw", map[string]any{"withdrawn_on": "2024-09-12"})
	as(http.StatusOK, http.MethodDelete, fc.path+"/team/members/"+f.teacher, map[string]any{"date": "2024-09-20", "reason": "koniec roku szkolnego"})
	as(http.StatusOK, http.MethodPost, fc.path+"/contract/end", map[string]any{"date": "2024-11-30", "ending": "goals_met"})
	as(http.StatusOK, http.MethodPost, fc.path+"/close", map[string]any{"date": "2024-12-02", "outcome": "partly_achieved"})

	var hist api.List[projections.HistoryEntry]
	ta.read(fc.path+"/history", fc.seq, &hist)
	require.Len(t, hist.Items, 21)
	all := ""
	for _, h := range hist.Items {
		assert.Equal(t, projections.Decider{Name: "Anna Koordynatorka", Role: "pracownik socjalny", Position: "starszy pracownik socjalny", Institution: "MOPS Testowo"}, h.By, h.Type)
		all += h.Summary + "\n"
	}

	t.Run("no id and no English word of an enumeration is left", func(t *testing.T) {
		for _, h := range hist.Items {
			assert.False(t, uuidPattern.MatchString(h.Summary), "%s: %s", h.Type, h.Summary)
			assert.NotRegexp(t, `\ba\d\b|\bg\d\b`, h.Summary, "ids of actions and goals")
			for word, re := range englishWords() {
				assert.False(t, re.MatchString(h.Summary), "%s: %q in %s", h.Type, word, h.Summary)
			}
			assert.NotContains(t, h.Summary, "spoza", "%s names everything it refers to: %s", h.Type, h.Summary)
		}
	})

	t.Run("people, institutions, services and actions are named", func(t *testing.T) {
		summary := func(typ string) string {
			for _, h := range hist.Items {
				if h.Type == typ {
					return h.Summary
				}
			}
			return ""
		}
		for _, tt := range []struct{ name, typ, want string }{
			{"the opening names the applicant, the household, the coordinator and who reported the family", "FamilyCaseOpened",
				"Otwarto sprawę rodziny w dniu 2024-05-06: wnioskodawca " + applicantName + ", gospodarstwo domowe: 2 osoby; koordynator: Anna Koordynatorka (MOPS Testowo); zgłoszenie: Szkoła Podstawowa nr 1"},
			{"a consent names who gave it, the categories and the institution", "ConsentGiven",
				"Zgoda na udostępnienie danych (dane podstawowe, zatrudnienie, dochody) instytucji Powiatowy Urząd Pracy od 2024-05-07; udzielona przez: " + applicantName},
			{"a withdrawal names the consent's institution", "ConsentWithdrawn",
				"Wycofano zgodę dla instytucji Szkoła Podstawowa nr 1 (dane podstawowe, edukacja) w dniu 2024-09-12"},
			{"a diagnosis input says area, severity and sector in Polish and names the worker", "DiagnosisInputRecorded",
				"Diagnoza: obszar zatrudnienie, nasilenie średnie; wkład: Piotr Doradca (Powiatowy Urząd Pracy), sektor: rynek pracy"},
			{"a team meeting names who came", "TeamMeetingRecorded",
				"Spotkanie ZZK w dniu 2024-05-22, obecni: Anna Koordynatorka (MOPS Testowo), Piotr Doradca (Powiatowy Urząd Pracy), Maria Pedagog (Szkoła Podstawowa nr 1)"},
			{"a worker joining the team", "TeamMemberJoined", "Do ZZK włączono: Tomasz Wychowawca (Szkoła Podstawowa nr 1), w dniu 2024-05-21"},
			{"a worker leaving the team", "TeamMemberLeft", "Zakończono udział w ZZK: Tomasz Wychowawca (Szkoła Podstawowa nr 1), w dniu 2024-09-20"},
			{"a referral's answer names the service and its institution", "ReferralAccepted",
				"Przyjęto skierowanie do usługi „Doradztwo zawodowe” (Powiatowy Urząd Pracy) w dniu 2024-05-24"},
			{"the draft counts goals and actions in Polish", "ContractDrafted",
				"Projekt kontraktu socjalnego (wersja 1, wariant B (aktywizacja i usamodzielnienie)): 2 cele, 2 działania, od 2024-06-01 do 2024-11-30"},
			{"the signing names the signatory", "ContractSigned", "Podpisano kontrakt socjalny (wersja 1) w dniu 2024-06-01; strona kontraktu: " + applicantName},
			{"an action is named by its description and who is responsible", "ActionStarted",
				"Rozpoczęto działanie „Zajęcia wyrównawcze dla dziecka” (odpowiada: Szkoła Podstawowa nr 1) w dniu 2024-06-10"},
			{"the client's action", "ActionCompleted", "Wykonano działanie „Udział w kursie zawodowym” (odpowiada: klient) w dniu 2024-07-01"},
			{"a review names the goals and their achievement", "ContractReviewed",
				"Ocena realizacji kontraktu w dniu 2024-09-10 (2 cele): „Podjęcie zatrudnienia”: osiągnięty; „Regularne uczęszczanie dziecka do szkoły”: częściowo osiągnięty"},
			{"the ending in Polish", "ContractEnded", "Zakończono kontrakt w dniu 2024-11-30: cele osiągnięte"},
			{"the outcome in Polish", "CaseClosed", "Zamknięto sprawę w dniu 2024-12-02: cele osiągnięte częściowo"},
		} {
			t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, summary(tt.typ)) })
		}
	})

	t.Run("after the erasure no personal name is shown", func(t *testing.T) {
		res := as(http.StatusOK, http.MethodPost, fc.path+"/erase", map[string]any{"legal_basis": "art. 17 ust. 1 lit. a RODO", "date": "2024-12-10", "reason": "upływ okresu przechowywania"})
		require.NotZero(t, res.Sequence)
		var after api.List[projections.HistoryEntry]
		ta.read(fc.path+"/history", fc.seq, &after)
		require.Len(t, after.Items, 22)
		text := ""
		for _, h := range after.Items {
			text += h.Summary + "\n"
		}
		for _, name := range []string{applicantName, "Udział w kursie zawodowym", "Podjęcie zatrudnienia"} {
			assert.Contains(t, all, name, "before")
			assert.NotContains(t, text, name, "after")
		}
		assert.Contains(t, text, domain.ErasedText)
		assert.Contains(t, text, "Anna Koordynatorka", "workers are not the family's personal data")
		assert.True(t, strings.HasPrefix(after.Items[21].Summary, "Usunięto dane osobowe rodziny"))
	})
}
