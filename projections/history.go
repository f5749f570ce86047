package projections

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/polish"
)

// HistoryEntry is one recorded decision, for the audit: who decided what,
// when (in the world and in the system), why, and a readable summary.
// Actor keeps the ids as recorded; By and Summary say the same for people:
// names of persons, workers, institutions, services and actions, and
// Polish words for every value.
type HistoryEntry struct {
	Sequence   uint64       `json:"sequence"`
	EventID    string       `json:"event_id"`
	Type       string       `json:"type"`
	Version    int64        `json:"version"`
	OccurredAt time.Time    `json:"occurred_at"`
	RecordedAt time.Time    `json:"recorded_at"`
	Actor      domain.Actor `json:"actor"`
	By         Decider      `json:"by"`
	CommandID  string       `json:"command_id"`
	Reason     string       `json:"reason,omitempty"`
	Summary    string       `json:"summary"`
	Hash       string       `json:"hash,omitempty"`
}

// Decider is who decided, as people know them: the user's name, the role
// they acted in (in Polish), their position when the user is a worker of
// an institution ("pedagog szkolny", "kurator zawodowy") and the name of
// the institution they acted for.
type Decider struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	Position    string `json:"position,omitempty"`
	Institution string `json:"institution,omitempty"`
}

// String says who decided in one phrase, by position if they have one,
// else by role: "Halina Testowa (kurator społeczny, I Zespół Kuratorskiej
// Służby Sądowej Sądu Rejonowego w Sieradzu)".
func (d Decider) String() string {
	what := d.Role
	if d.Position != "" {
		what = d.Position
	}
	if d.Institution == "" {
		return d.Name + " (" + what + ")"
	}
	return d.Name + " (" + what + ", " + d.Institution + ")"
}

// Directory names what a family's events refer to by id and do not name
// themselves: the users who decided, institutions, workers and the
// services of the partnerships' baskets. Any of its read models may be
// nil; what it cannot name is called by what it is ("instytucja spoza
// rejestru"), never by its id.
type Directory struct {
	Users        *Users
	Institutions *Institutions
	Partnerships *Partnerships
}

// History turns an aggregate's events into its decision history. The
// names of persons and the descriptions of goals and actions come from
// the family's own earlier events, as loaded: after the family's erasure
// they read as domain.ErasedText, never as they were.
func History(envs []domain.Envelope, dir Directory) []HistoryEntry {
	n := newHistoryNames(dir)
	out := make([]HistoryEntry, len(envs))
	for i, e := range envs {
		n.learn(e)
		out[i] = HistoryEntry{Sequence: e.Sequence, EventID: e.EventID, Type: e.Type, Version: e.AggregateVersion,
			OccurredAt: e.OccurredAt, RecordedAt: e.RecordedAt, Actor: e.Actor, By: n.decider(e.Actor), CommandID: e.CommandID,
			Reason: e.Reason, Summary: n.describe(e), Hash: e.Hash}
	}
	return out
}

// historyNames is what the history has learnt from a family's earlier
// events, to name what later ones refer to by id.
type historyNames struct {
	dir         Directory
	partnership string
	persons     map[string]string // person id → name
	workers     map[string]domain.TeamMember
	consents    map[string]domain.ConsentGiven
	referrals   map[string]domain.ReferralRequested
	goals       map[string]string // goal id → description
	actions     map[string]domain.Action
	inputs      map[string]domain.DiagnosisInputRecorded // input id → the input
}

func newHistoryNames(dir Directory) *historyNames {
	return &historyNames{dir: dir, persons: map[string]string{}, workers: map[string]domain.TeamMember{},
		consents: map[string]domain.ConsentGiven{}, referrals: map[string]domain.ReferralRequested{},
		goals: map[string]string{}, actions: map[string]domain.Action{}, inputs: map[string]domain.DiagnosisInputRecorded{}}
}

// learn keeps the names an event brings, before the event is described.
func (n *historyNames) learn(e domain.Envelope) {
	switch p := e.Payload.(type) {
	case domain.FamilyCaseOpened:
		n.partnership = p.PartnershipID
		for _, m := range p.Household {
			n.persons[m.PersonID] = m.Name
		}
		n.workers[p.Coordinator.WorkerID] = p.Coordinator
	case domain.ConsentGiven:
		n.consents[p.ConsentID] = p
	case domain.TeamFormed:
		for _, m := range p.Members {
			n.workers[m.WorkerID] = m
		}
	case domain.TeamMemberJoined:
		n.workers[p.Member.WorkerID] = p.Member
	case domain.ReferralRequested:
		n.referrals[p.ReferralID] = p
	case domain.DiagnosisInputRecorded:
		n.inputs[domain.InputIDOf(e, p)] = p
	case domain.ContractDrafted:
		n.terms(p.Terms)
	case domain.ContractAmended:
		n.terms(p.Terms)
	}
}

func (n *historyNames) terms(t domain.ContractTerms) {
	for _, g := range t.Goals {
		n.goals[g.ID] = g.Description
	}
	for _, a := range t.Actions {
		n.actions[a.ID] = a
	}
}

// decider names the user who decided.
func (n *historyNames) decider(a domain.Actor) Decider {
	d := Decider{Role: polish.Label(a.Role), Name: "użytkownik spoza rejestru"}
	inst := a.InstitutionID
	switch {
	case a.Role == domain.RoleSystem:
		d.Name = "silnik Kooperacji"
	case strings.HasPrefix(a.UserID, "cli:"):
		// kooperacje forget and retention record the operator's login.
		d.Name = "operator wiersza poleceń " + strings.TrimPrefix(a.UserID, "cli:")
	}
	if n.dir.Users != nil {
		if u, ok := n.dir.Users.Get(a.UserID); ok {
			d.Name = u.Name
			if inst == "" {
				inst = u.InstitutionID
			}
			d.Position = n.position(u.WorkerID)
		}
	}
	if inst != "" {
		d.Institution = n.institution(inst)
	}
	return d
}

// position is a worker's position, "" for none or a worker not known.
func (n *historyNames) position(workerID string) string {
	if workerID == "" {
		return ""
	}
	if w, ok := n.workers[workerID]; ok && w.Position != "" {
		return w.Position
	}
	if n.dir.Institutions != nil {
		if _, w, ok := n.dir.Institutions.FindWorker(workerID); ok {
			return w.Position
		}
	}
	return ""
}

// institution names an institution: as the family's team named it, else
// as registered.
func (n *historyNames) institution(id string) string {
	for _, w := range n.workers {
		if w.InstitutionID == id && w.Institution != "" {
			return w.Institution
		}
	}
	if n.dir.Institutions != nil {
		if v, ok := n.dir.Institutions.Get(id); ok {
			return v.Name
		}
	}
	return "instytucja spoza rejestru"
}

// worker names a worker with their institution.
func (n *historyNames) worker(id string) string {
	if w, ok := n.workers[id]; ok {
		return w.Name + " (" + w.Institution + ")"
	}
	if n.dir.Institutions != nil {
		if v, w, ok := n.dir.Institutions.FindWorker(id); ok {
			return w.Name + " (" + v.Name + ")"
		}
	}
	return "pracownik spoza rejestru"
}

func (n *historyNames) workerList(ids []string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = n.worker(id)
	}
	return strings.Join(s, ", ")
}

func (n *historyNames) person(id string) string {
	if name, ok := n.persons[id]; ok {
		return name
	}
	return "osoba spoza gospodarstwa"
}

// service names a service of a partnership's basket.
func (n *historyNames) service(partnership, id string) string {
	if n.dir.Partnerships != nil {
		if v, ok := n.dir.Partnerships.Get(partnership); ok {
			if i := slices.IndexFunc(v.Services, func(s ServiceView) bool { return s.ServiceID == id }); i >= 0 {
				return v.Services[i].Name
			}
		}
	}
	return "usługa spoza koszyka"
}

func (n *historyNames) referral(id string) string {
	r, ok := n.referrals[id]
	if !ok {
		return "skierowanie spoza historii"
	}
	return fmt.Sprintf("do usługi „%s” (%s)", r.ServiceName, n.institution(r.InstitutionID))
}

// input names a diagnosis input by its area and who gave it.
func (n *historyNames) input(id string) string {
	in, ok := n.inputs[id]
	if !ok {
		return "spoza historii"
	}
	return fmt.Sprintf("(obszar %s, wkład: %s)", polish.Label(in.Area), n.worker(in.WorkerID))
}

// action names an action of the contract by its description and who is
// responsible for it.
func (n *historyNames) action(id string) string {
	a, ok := n.actions[id]
	if !ok {
		return "działanie spoza kontraktu"
	}
	return fmt.Sprintf("„%s” (odpowiada: %s)", a.Description, n.party(a.Responsible))
}

func (n *historyNames) party(p domain.Party) string {
	if p.Kind == domain.PartyInstitution {
		return n.institution(p.InstitutionID)
	}
	return polish.Label(p.Kind)
}

func (n *historyNames) consent(id string) string {
	c, ok := n.consents[id]
	if !ok {
		return "zgodę spoza historii"
	}
	return fmt.Sprintf("zgodę dla instytucji %s (%s)", n.institution(c.InstitutionID), polish.List(c.Categories))
}

func (n *historyNames) goalReviews(rs []domain.GoalReview) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		g, ok := n.goals[r.GoalID]
		if !ok {
			g = "cel spoza kontraktu"
		}
		s[i] = fmt.Sprintf("„%s”: %s", g, polish.Label(r.Achievement))
	}
	return strings.Join(s, "; ")
}

// applicant names the household's applicant (the first member if none is).
func applicant(h []domain.Person) string {
	for _, m := range h {
		if m.Relation == domain.RelationApplicant {
			return m.Name
		}
	}
	if len(h) > 0 {
		return h[0].Name
	}
	return "nie podano"
}

func teamMembers(ms []domain.TeamMember) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.Name + " (" + m.Institution + ")"
	}
	return strings.Join(s, ", ")
}

// describe says in a sentence (Polish, the users' language) what an event
// changed, naming what it refers to.
func (n *historyNames) describe(e domain.Envelope) string {
	switch p := e.Payload.(type) {
	case domain.InstitutionRegistered:
		return fmt.Sprintf("Zarejestrowano instytucję %s (sektor: %s, %s)", p.Name, polish.Label(p.Sector), p.Municipality)
	case domain.WorkerRegistered:
		return fmt.Sprintf("Zarejestrowano pracownika %s (%s)", p.Name, p.Position)
	case domain.RetentionSet:
		return fmt.Sprintf("Ustalono okres przechowywania zamkniętych spraw: %s", polish.Days.Count(p.Days))
	case domain.PartnershipInitiated:
		return fmt.Sprintf("Zainicjowano %s w dniu %s (%s)", p.Name, p.Date, p.Place)
	case domain.MemberJoined:
		return fmt.Sprintf("Do PZK przystąpiła instytucja: %s, w dniu %s", p.Name, p.Date)
	case domain.ServiceOffered:
		return fmt.Sprintf("Do koszyka usług dodano: %s", p.Name)
	case domain.ServiceWithdrawn:
		return fmt.Sprintf("Wycofano z koszyka usługę %s", n.service(e.AggregateID, p.ServiceID))
	case domain.MeetingRecorded:
		return fmt.Sprintf("Spotkanie PZK (%s) w dniu %s, obecne: %s", polish.Label(p.Kind), p.Date, polish.Institutions.Count(len(p.Attendees)))
	case domain.PartnershipFormalized:
		return fmt.Sprintf("Sformalizowano PZK w dniu %s", p.Date)
	case domain.MemberLeft:
		return fmt.Sprintf("Instytucja %s wystąpiła z PZK w dniu %s", n.institution(p.InstitutionID), p.Date)
	case domain.StaffSupportRecorded:
		return fmt.Sprintf("Wsparcie kadr (%s) w dniu %s: %s", polish.Label(p.Kind), p.Date, p.Topic)
	case domain.UserRegistered:
		return fmt.Sprintf("Zarejestrowano użytkownika %s w roli: %s", p.Name, polish.Label(p.Role))
	case domain.TokenIssued:
		return "Wydano token dostępu"
	case domain.TokenRevoked:
		return "Unieważniono token dostępu"
	case domain.LoginAssigned:
		return fmt.Sprintf("Nadano login %s", p.Login)
	case domain.SetupLinkIssued:
		return fmt.Sprintf("Wydano jednorazowy link do ustawienia hasła, ważny do %s", p.ExpiresAt.In(domain.Warsaw).Format("2006-01-02 15:04"))
	case domain.PasswordSet:
		return "Ustawiono hasło"
	case domain.PasswordChanged:
		return "Zmieniono hasło"
	case domain.UserDisabled:
		return "Zablokowano konto użytkownika"
	case domain.UserEnabled:
		return "Odblokowano konto użytkownika"
	case domain.FamilyCaseOpened:
		return fmt.Sprintf("Otwarto sprawę rodziny w dniu %s: wnioskodawca %s, gospodarstwo domowe: %s; koordynator: %s (%s); zgłoszenie: %s",
			p.OpenedOn, applicant(p.Household), polish.Persons.Count(len(p.Household)), p.Coordinator.Name, p.Coordinator.Institution,
			n.institution(p.Referral.InstitutionID))
	case domain.ConsentGiven:
		return fmt.Sprintf("Zgoda na udostępnienie danych (%s) instytucji %s od %s; udzielona przez: %s",
			polish.List(p.Categories), n.institution(p.InstitutionID), p.GivenOn, n.person(p.GivenBy))
	case domain.ConsentWithdrawn:
		return fmt.Sprintf("Wycofano %s w dniu %s", n.consent(p.ConsentID), p.WithdrawnOn)
	case domain.LegalBasisRecorded:
		return fmt.Sprintf("Udostępnienie danych (%s) instytucji %s na podstawie: %s", polish.List(p.Categories), n.institution(p.InstitutionID), p.LegalBasis)
	case domain.DiagnosisInputRecorded:
		return fmt.Sprintf("Diagnoza: obszar %s, nasilenie %s; wkład: %s, sektor: %s", polish.Label(p.Area), polish.Label(p.Severity),
			n.worker(p.WorkerID), polish.Label(p.Sector))
	case domain.DiagnosisCompleted:
		return fmt.Sprintf("Zakończono diagnozę potrzeb w dniu %s", p.Date)
	case domain.TeamFormed:
		return fmt.Sprintf("Powołano ZZK w dniu %s: %s", p.Date, teamMembers(p.Members))
	case domain.TeamMemberJoined:
		return fmt.Sprintf("Do ZZK włączono: %s (%s), w dniu %s", p.Member.Name, p.Member.Institution, p.Date)
	case domain.TeamMemberLeft:
		return fmt.Sprintf("Zakończono udział w ZZK: %s, w dniu %s", n.worker(p.WorkerID), p.Date)
	case domain.TeamMeetingRecorded:
		return fmt.Sprintf("Spotkanie ZZK w dniu %s, obecni: %s", p.Date, n.workerList(p.Attendees))
	case domain.TeamDissolved:
		return fmt.Sprintf("Rozwiązano ZZK w dniu %s", p.Date)
	case domain.ReferralRequested:
		return fmt.Sprintf("Skierowanie do usługi „%s” (%s) w dniu %s", p.ServiceName, n.institution(p.InstitutionID), p.Date)
	case domain.ReferralAccepted:
		return fmt.Sprintf("Przyjęto skierowanie %s w dniu %s", n.referral(p.ReferralID), p.Date)
	case domain.ReferralDeclined:
		return fmt.Sprintf("Odmówiono przyjęcia skierowania %s w dniu %s", n.referral(p.ReferralID), p.Date)
	case domain.ReferralCompleted:
		return fmt.Sprintf("Zrealizowano skierowanie %s w dniu %s", n.referral(p.ReferralID), p.Date)
	case domain.ContractDrafted:
		return fmt.Sprintf("Projekt kontraktu socjalnego (wersja %d, wariant %s): %s, %s, od %s do %s",
			p.Version, polish.Label(p.Terms.Variant), polish.Goals.Count(len(p.Terms.Goals)), polish.Actions.Count(len(p.Terms.Actions)), p.Terms.StartDate, p.Terms.EndDate)
	case domain.ContractSigned:
		return fmt.Sprintf("Podpisano kontrakt socjalny (wersja %d) w dniu %s; strona kontraktu: %s", p.Version, p.Date, n.person(p.ClientID))
	case domain.ContractAmended:
		return fmt.Sprintf("Aneks do kontraktu (wersja %d) z dnia %s: %s, %s", p.Version, p.SignedOn,
			polish.Goals.Count(len(p.Terms.Goals)), polish.Actions.Count(len(p.Terms.Actions)))
	case domain.ActionStarted:
		return fmt.Sprintf("Rozpoczęto działanie %s w dniu %s", n.action(p.ActionID), p.Date)
	case domain.ActionCompleted:
		return fmt.Sprintf("Wykonano działanie %s w dniu %s", n.action(p.ActionID), p.Date)
	case domain.ActionWithdrawn:
		return fmt.Sprintf("Wycofano działanie %s w dniu %s", n.action(p.ActionID), p.Date)
	case domain.DiagnosisInputCorrected:
		return fmt.Sprintf("Poprawiono wkład do diagnozy %s w dniu %s; nasilenie: %s", n.input(p.InputID), p.Date, polish.Label(p.Severity))
	case domain.DiagnosisInputWithdrawn:
		return fmt.Sprintf("Wycofano wkład do diagnozy %s w dniu %s", n.input(p.InputID), p.Date)
	case domain.ActionMissed:
		return fmt.Sprintf("Nie wykonano działania %s (stwierdzono %s)", n.action(p.ActionID), p.Date)
	case domain.ContractReviewed:
		return fmt.Sprintf("Ocena realizacji kontraktu w dniu %s (%s): %s", p.Date, polish.Goals.Count(len(p.Goals)), n.goalReviews(p.Goals))
	case domain.ContractExtended:
		return fmt.Sprintf("Przedłużono kontrakt do %s", p.EndDate)
	case domain.ContractEnded:
		return fmt.Sprintf("Zakończono kontrakt w dniu %s: %s", p.Date, polish.Label(p.Ending))
	case domain.CaseClosed:
		return fmt.Sprintf("Zamknięto sprawę w dniu %s: %s", p.Date, polish.Label(p.Outcome))
	case domain.CaseReopened:
		return fmt.Sprintf("Wznowiono sprawę w dniu %s", p.Date)
	case domain.FamilyErased:
		return fmt.Sprintf("Usunięto dane osobowe rodziny w dniu %s (podstawa: %s)", p.Date, p.LegalBasis)
	case domain.Unknown:
		return fmt.Sprintf("Zdarzenie nieznanego typu %s (zapisane przez nowszą wersję silnika)", p.Type)
	}
	return "Zdarzenie typu " + e.Type
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
