package projections

import (
	"fmt"
	"strings"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// HistoryEntry is one recorded decision, for the audit: who decided what,
// when (in the world and in the system), why, and a readable summary.
type HistoryEntry struct {
	Sequence   uint64       `json:"sequence"`
	EventID    string       `json:"event_id"`
	Type       string       `json:"type"`
	Version    int64        `json:"version"`
	OccurredAt time.Time    `json:"occurred_at"`
	RecordedAt time.Time    `json:"recorded_at"`
	Actor      domain.Actor `json:"actor"`
	CommandID  string       `json:"command_id"`
	Reason     string       `json:"reason,omitempty"`
	Summary    string       `json:"summary"`
	Hash       string       `json:"hash,omitempty"`
}

// History turns an aggregate's events into its decision history.
func History(envs []domain.Envelope) []HistoryEntry {
	out := make([]HistoryEntry, len(envs))
	for i, e := range envs {
		out[i] = HistoryEntry{Sequence: e.Sequence, EventID: e.EventID, Type: e.Type, Version: e.AggregateVersion,
			OccurredAt: e.OccurredAt, RecordedAt: e.RecordedAt, Actor: e.Actor, CommandID: e.CommandID,
			Reason: e.Reason, Summary: Describe(e), Hash: e.Hash}
	}
	return out
}

// Describe says in a sentence (Polish, the users' language) what an event
// changed.
func Describe(e domain.Envelope) string {
	switch p := e.Payload.(type) {
	case domain.InstitutionRegistered:
		return fmt.Sprintf("Zarejestrowano instytucję %s (sektor %s, %s)", p.Name, p.Sector, p.Municipality)
	case domain.WorkerRegistered:
		return fmt.Sprintf("Zarejestrowano pracownika %s (%s)", p.Name, p.Position)
	case domain.RetentionSet:
		return fmt.Sprintf("Ustalono okres przechowywania zamkniętych spraw: %d dni", p.Days)
	case domain.PartnershipInitiated:
		return fmt.Sprintf("Zainicjowano %s w dniu %s (%s)", p.Name, p.Date, p.Place)
	case domain.MemberJoined:
		return fmt.Sprintf("%s przystąpił(a) do PZK w dniu %s", p.Name, p.Date)
	case domain.ServiceOffered:
		return fmt.Sprintf("Do koszyka usług dodano: %s", p.Name)
	case domain.ServiceWithdrawn:
		return fmt.Sprintf("Wycofano usługę %s z koszyka", p.ServiceID)
	case domain.MeetingRecorded:
		return fmt.Sprintf("Spotkanie PZK (%s) w dniu %s, obecnych: %d", p.Kind, p.Date, len(p.Attendees))
	case domain.PartnershipFormalized:
		return fmt.Sprintf("Sformalizowano PZK w dniu %s", p.Date)
	case domain.MemberLeft:
		return fmt.Sprintf("Instytucja %s wystąpiła z PZK w dniu %s", p.InstitutionID, p.Date)
	case domain.StaffSupportRecorded:
		return fmt.Sprintf("Wsparcie kadr (%s) w dniu %s: %s", p.Kind, p.Date, p.Topic)
	case domain.UserRegistered:
		return fmt.Sprintf("Zarejestrowano użytkownika %s w roli %s", p.Name, p.Role)
	case domain.TokenIssued:
		return fmt.Sprintf("Wydano token %s", p.TokenID)
	case domain.TokenRevoked:
		return fmt.Sprintf("Unieważniono token %s", p.TokenID)
	case domain.LoginAssigned:
		return fmt.Sprintf("Nadano login %s", p.Login)
	case domain.SetupLinkIssued:
		return fmt.Sprintf("Wydano jednorazowy link do ustawienia hasła, ważny do %s", p.ExpiresAt.In(domain.Warsaw).Format("2006-01-02 15:04"))
	case domain.PasswordSet:
		return "Użytkownik ustawił hasło"
	case domain.PasswordChanged:
		return "Użytkownik zmienił hasło"
	case domain.UserDisabled:
		return "Zablokowano konto użytkownika"
	case domain.UserEnabled:
		return "Odblokowano konto użytkownika"
	case domain.FamilyCaseOpened:
		return fmt.Sprintf("Otwarto sprawę rodziny (%d os.) w dniu %s; koordynator: %s", len(p.Household), p.OpenedOn, p.Coordinator.Name)
	case domain.ConsentGiven:
		return fmt.Sprintf("Zgoda na udostępnienie danych (%s) instytucji %s od %s", joinCategories(p.Categories), p.InstitutionID, p.GivenOn)
	case domain.ConsentWithdrawn:
		return fmt.Sprintf("Wycofano zgodę %s w dniu %s", p.ConsentID, p.WithdrawnOn)
	case domain.LegalBasisRecorded:
		return fmt.Sprintf("Udostępnienie danych (%s) instytucji %s na podstawie: %s", joinCategories(p.Categories), p.InstitutionID, p.LegalBasis)
	case domain.DiagnosisInputRecorded:
		return fmt.Sprintf("Diagnoza: obszar %s, waga %s (sektor %s)", p.Area, p.Severity, p.Sector)
	case domain.DiagnosisCompleted:
		return fmt.Sprintf("Zakończono diagnozę potrzeb w dniu %s", p.Date)
	case domain.TeamFormed:
		return fmt.Sprintf("Powołano ZZK w dniu %s: %s", p.Date, memberNames(p.Members))
	case domain.TeamMemberJoined:
		return fmt.Sprintf("Do ZZK dołączył(a) %s (%s)", p.Member.Name, p.Member.Institution)
	case domain.TeamMemberLeft:
		return fmt.Sprintf("Pracownik %s opuścił ZZK w dniu %s", p.WorkerID, p.Date)
	case domain.TeamMeetingRecorded:
		return fmt.Sprintf("Spotkanie ZZK w dniu %s, obecnych: %d", p.Date, len(p.Attendees))
	case domain.TeamDissolved:
		return fmt.Sprintf("Rozwiązano ZZK w dniu %s", p.Date)
	case domain.ReferralRequested:
		return fmt.Sprintf("Skierowanie do usługi %s w dniu %s", p.ServiceName, p.Date)
	case domain.ReferralAccepted:
		return fmt.Sprintf("Przyjęto skierowanie %s w dniu %s", p.ReferralID, p.Date)
	case domain.ReferralDeclined:
		return fmt.Sprintf("Odmówiono przyjęcia skierowania %s w dniu %s", p.ReferralID, p.Date)
	case domain.ReferralCompleted:
		return fmt.Sprintf("Zrealizowano skierowanie %s w dniu %s", p.ReferralID, p.Date)
	case domain.ContractDrafted:
		return fmt.Sprintf("Projekt kontraktu socjalnego (wersja %d, wariant %s): %d celów, %d działań, %s – %s",
			p.Version, p.Terms.Variant, len(p.Terms.Goals), len(p.Terms.Actions), p.Terms.StartDate, p.Terms.EndDate)
	case domain.ContractSigned:
		return fmt.Sprintf("Podpisano kontrakt socjalny (wersja %d) w dniu %s", p.Version, p.Date)
	case domain.ContractAmended:
		return fmt.Sprintf("Aneks do kontraktu (wersja %d) z dnia %s", p.Version, p.SignedOn)
	case domain.ActionStarted:
		return fmt.Sprintf("Rozpoczęto działanie %s w dniu %s", p.ActionID, p.Date)
	case domain.ActionCompleted:
		return fmt.Sprintf("Wykonano działanie %s w dniu %s", p.ActionID, p.Date)
	case domain.ActionMissed:
		return fmt.Sprintf("Nie wykonano działania %s (stwierdzono %s)", p.ActionID, p.Date)
	case domain.ContractReviewed:
		return fmt.Sprintf("Ocena realizacji kontraktu w dniu %s: %d celów", p.Date, len(p.Goals))
	case domain.ContractExtended:
		return fmt.Sprintf("Przedłużono kontrakt do %s", p.EndDate)
	case domain.ContractEnded:
		return fmt.Sprintf("Zakończono kontrakt w dniu %s: %s", p.Date, p.Ending)
	case domain.CaseClosed:
		return fmt.Sprintf("Zamknięto sprawę w dniu %s: %s", p.Date, p.Outcome)
	case domain.CaseReopened:
		return fmt.Sprintf("Wznowiono sprawę w dniu %s", p.Date)
	case domain.FamilyErased:
		return fmt.Sprintf("Usunięto dane osobowe rodziny w dniu %s (podstawa: %s)", p.Date, p.LegalBasis)
	case domain.Unknown:
		return fmt.Sprintf("Zdarzenie nieznanego typu %s", p.Type)
	}
	return e.Type
}

func joinCategories(cs []domain.DataCategory) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

func memberNames(ms []domain.TeamMember) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.Name + " (" + m.Institution + ")"
	}
	return strings.Join(s, ", ")
}

// PlanAsOf rebuilds a family's plan from its events as it stood at a past
// moment: with recorded set, only events the engine had recorded by then;
// with business set, only events that happened by the end of that day (in
// Poland), and deadlines judged on that day.
func PlanAsOf(envs []domain.Envelope, id string, business domain.Date, recorded time.Time) (PlanView, bool) {
	f := NewFamilies()
	end := time.Time{}
	if !business.IsZero() {
		t := business.Time()
		end = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, Warsaw)
	}
	for _, e := range envs {
		if !recorded.IsZero() && e.RecordedAt.After(recorded) {
			break
		}
		if !end.IsZero() && !e.OccurredAt.Before(end) {
			continue
		}
		if f.Handles(e.Type) {
			_ = f.Apply(e)
		}
	}
	asOf := business
	if asOf.IsZero() {
		asOf = Today(recorded)
	}
	return f.Plan(id, asOf)
}
