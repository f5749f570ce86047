package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
)

// The demo data tells the story of the seed texts (../shared/seeds): the
// partnership teams of Sieradz, Piotrków Trybunalski, Radomsko and Zduńska
// Wola in the "Kooperacje 3D" project, autumn 2019. Institutions and dates
// come from the texts; services, workers and users are invented.

// demoInstitution is an institution of the demo, keyed by a slug from which
// its id is derived, so that loading the demo twice changes nothing.
type demoInstitution struct {
	slug, name   string
	sector       domain.Sector
	municipality string
	county       string
	services     []string
}

// demoPartnership is a partnership of the demo.
type demoPartnership struct {
	slug, name, municipality, county string
	date                             domain.Date
	place                            string
	leader, coLeader                 string
	members                          []string // slugs, leader and co-leader excluded
	meeting                          domain.MeetingKind
	formalised                       bool
}

var sieradzMembers = []demoInstitution{
	{"mops-sieradz", "Miejski Ośrodek Pomocy Społecznej w Sieradzu", domain.SectorSocialAssistance, "Sieradz", "sieradzki", []string{"Praca socjalna i kontrakt socjalny", "Asystent rodziny"}},
	{"pcpr-sieradz", "Powiatowe Centrum Pomocy Rodzinie w Sieradzu", domain.SectorFamilySupport, "Sieradz", "sieradzki", []string{"Poradnictwo rodzinne", "Interwencja kryzysowa"}},
	{"pup-sieradz", "Powiatowy Urząd Pracy w Sieradzu", domain.SectorLabour, "Sieradz", "sieradzki", []string{"Doradztwo zawodowe", "Staże i szkolenia dla bezrobotnych"}},
	{"ssm-sieradz", "Sieradzka Spółdzielnia Mieszkaniowa", domain.SectorHousing, "Sieradz", "sieradzki", []string{"Rozkładanie zaległości czynszowych na raty"}},
	{"ppp-sieradz", "Poradnia Psychologiczno-Pedagogiczna w Sieradzu", domain.SectorEducation, "Sieradz", "sieradzki", []string{"Diagnoza psychologiczno-pedagogiczna dziecka"}},
	{"kurator-sieradz", "I Zespół Kuratorskiej Służby Sądowej Sądu Rejonowego w Sieradzu", domain.SectorJustice, "Sieradz", "sieradzki", []string{"Nadzór kuratorski i wsparcie rodziny"}},
	{"szpital-sieradz", "Szpital Wojewódzki im. Prymasa Kardynała Stefana Wyszyńskiego w Sieradzu", domain.SectorHealth, "Sieradz", "sieradzki", []string{"Konsultacja psychiatryczna", "Leczenie uzależnień"}},
	{"tpd-sieradz", "Towarzystwo Przyjaciół Dzieci w Sieradzu", domain.SectorNGO, "Sieradz", "sieradzki", []string{"Świetlica środowiskowa"}},
	{"trampolina-zdw", "Ośrodek Pomocy Pokrzywdzonym Przestępstwem „Trampolina” w Zduńskiej Woli", domain.SectorNGO, "Zduńska Wola", "zduńskowolski", []string{"Pomoc prawna i psychologiczna dla pokrzywdzonych"}},
	{"dary-losu-sieradz", "Stowarzyszenie Na Rzecz Dzieci Niepełnosprawnych „Dary Losu”", domain.SectorNGO, "Sieradz", "sieradzki", []string{"Rehabilitacja i wsparcie rodzin dzieci z niepełnosprawnością"}},
	{"przystan-sieradz", "Stowarzyszenie Abstynentów „Przystań”", domain.SectorNGO, "Sieradz", "sieradzki", []string{"Grupa wsparcia dla osób uzależnionych"}},
	{"przyjazn-sieradz", "Sieradzkie Towarzystwo Trzeźwości „Przyjaźń”", domain.SectorNGO, "Sieradz", "sieradzki", []string{"Klub abstynenta"}},
	{"sp1-sieradz", "Szkoła Podstawowa nr 1 w Sieradzu", domain.SectorEducation, "Sieradz", "sieradzki", []string{"Zajęcia wyrównawcze"}},
	{"sp4-sieradz", "Szkoła Podstawowa nr 4 w Sieradzu", domain.SectorEducation, "Sieradz", "sieradzki", []string{"Pomoc pedagoga szkolnego"}},
	{"sp6-sieradz", "Szkoła Podstawowa nr 6 w Sieradzu", domain.SectorEducation, "Sieradz", "sieradzki", []string{"Zajęcia rozwijające kompetencje emocjonalno-społeczne"}},
	{"sp9-sieradz", "Szkoła Podstawowa nr 9 w Sieradzu", domain.SectorEducation, "Sieradz", "sieradzki", []string{"Świetlica szkolna w wydłużonych godzinach"}},
	{"sp10-sieradz", "Szkoła Podstawowa nr 10 w Sieradzu", domain.SectorEducation, "Sieradz", "sieradzki", []string{"Pomoc psychologa szkolnego"}},
}

var otherInstitutions = []demoInstitution{
	{"mopr-piotrkow", "Miejski Ośrodek Pomocy Rodzinie w Piotrkowie Trybunalskim", domain.SectorSocialAssistance, "Piotrków Trybunalski", "piotrkowski", []string{"Praca socjalna i kontrakt socjalny"}},
	{"pcpr-piotrkow", "Powiatowe Centrum Pomocy Rodzinie w Piotrkowie Trybunalskim", domain.SectorFamilySupport, "Piotrków Trybunalski", "piotrkowski", []string{"Poradnictwo specjalistyczne"}},
	{"pup-piotrkow", "Powiatowy Urząd Pracy w Piotrkowie Trybunalskim", domain.SectorLabour, "Piotrków Trybunalski", "piotrkowski", []string{"Pośrednictwo pracy"}},
	{"kmp-piotrkow", "Komenda Miejska Policji w Piotrkowie Trybunalskim", domain.SectorPolice, "Piotrków Trybunalski", "piotrkowski", []string{"Dzielnicowy: procedura Niebieskiej Karty"}},
	{"mops-radomsko", "Miejski Ośrodek Pomocy Społecznej w Radomsku", domain.SectorSocialAssistance, "Radomsko", "radomszczański", []string{"Praca socjalna i kontrakt socjalny"}},
	{"kpp-radomsko", "Komenda Powiatowa Policji w Radomsku", domain.SectorPolice, "Radomsko", "radomszczański", []string{"Dzielnicowy: procedura Niebieskiej Karty"}},
	{"kurator-radomsko", "Zespół Kuratorskiej Służby Sądowej Sądu Rejonowego w Radomsku", domain.SectorJustice, "Radomsko", "radomszczański", []string{"Nadzór kuratorski"}},
	{"szpital-radomsko", "Szpital Powiatowy w Radomsku", domain.SectorHealth, "Radomsko", "radomszczański", []string{"Poradnia zdrowia psychicznego"}},
	{"mops-zdw", "Miejski Ośrodek Pomocy Społecznej w Zduńskiej Woli", domain.SectorSocialAssistance, "Zduńska Wola", "zduńskowolski", []string{"Praca socjalna i kontrakt socjalny"}},
	{"pcpr-zdw", "Powiatowe Centrum Pomocy Rodzinie w Zduńskiej Woli", domain.SectorFamilySupport, "Zduńska Wola", "zduńskowolski", []string{"Rodzinna piecza zastępcza: wsparcie"}},
	{"pup-zdw", "Powiatowy Urząd Pracy w Zduńskiej Woli", domain.SectorLabour, "Zduńska Wola", "zduńskowolski", []string{"Doradztwo zawodowe"}},
}

var demoPartnerships = []demoPartnership{
	{slug: "pzk-sieradz", name: "PZK Sieradz", municipality: "Sieradz", county: "sieradzki", date: domain.NewDate(2019, 10, 23),
		place: "Urząd Miasta Sieradza", leader: "mops-sieradz", coLeader: "pcpr-sieradz",
		members: []string{"pup-sieradz", "ssm-sieradz", "ppp-sieradz", "kurator-sieradz", "szpital-sieradz", "tpd-sieradz",
			"trampolina-zdw", "dary-losu-sieradz", "przystan-sieradz", "przyjazn-sieradz", "sp1-sieradz", "sp4-sieradz",
			"sp6-sieradz", "sp9-sieradz", "sp10-sieradz"},
		meeting: domain.MeetingFormalising, formalised: true},
	{slug: "pzk-piotrkow", name: "PZK Piotrków Trybunalski", municipality: "Piotrków Trybunalski", county: "piotrkowski",
		date: domain.NewDate(2019, 9, 24), place: "Piotrków Trybunalski", leader: "mopr-piotrkow", coLeader: "pcpr-piotrkow",
		members: []string{"pup-piotrkow", "kmp-piotrkow"}, meeting: domain.MeetingInitiating},
	{slug: "pzk-radomsko", name: "PZK Radomsko", municipality: "Radomsko", county: "radomszczański",
		date: domain.NewDate(2019, 9, 25), place: "Galeria Muzeum Regionalnego im. Stanisława Sankowskiego w Radomsku",
		leader: "mops-radomsko", members: []string{"kpp-radomsko", "kurator-radomsko", "szpital-radomsko"}, meeting: domain.MeetingInitiating},
	{slug: "pzk-zdw", name: "PZK Zduńska Wola", municipality: "Zduńska Wola", county: "zduńskowolski",
		date: domain.NewDate(2019, 9, 26), place: "Zduńska Wola", leader: "mops-zdw", coLeader: "pcpr-zdw",
		members: []string{"pup-zdw", "trampolina-zdw"}, meeting: domain.MeetingInitiating},
}

// demoUsers are the users --demo creates, one per role, with invented names.
var demoUsers = []struct {
	role        domain.Role
	name        string
	institution string // slug, or ""
	worker      string // the worker's name at the institution, or ""
}{
	{domain.RoleAdmin, "Administrator systemu", "", ""},
	{domain.RoleAnimator, "Ewa Przykładowa", "mops-sieradz", ""},
	{domain.RoleCoordinator, "Marta Testowa", "mops-sieradz", "Marta Testowa"},
	{domain.RoleWorker, "Piotr Fikcyjny", "sp1-sieradz", "Piotr Fikcyjny"},
	{domain.RoleEvaluator, "Zespół ewaluacji RCPS w Łodzi", "", ""},
	{domain.RoleAuditor, "Audytor wewnętrzny", "", ""},
}

// demoAnimators are the animators of the partnerships (at their leaders),
// who record what the partnership does; the animator of the first is the
// demo user who signs in as one.
var demoAnimators = map[string]struct{ inst, name string }{
	"pzk-sieradz":  {"mops-sieradz", "Ewa Przykładowa"},
	"pzk-piotrkow": {"mopr-piotrkow", "Lucyna Wzorcowa"},
	"pzk-radomsko": {"mops-radomsko", "Henryka Przykładowa"},
	"pzk-zdw":      {"mops-zdw", "Dariusz Pokazowy"},
}

// demoAdmin registers the demo's institutions and workers.
var demoAdmin = domain.Actor{UserID: demoID("user", string(domain.RoleAdmin)), Role: domain.RoleAdmin}

// demoUserOf returns the id of the demo user who is a worker: the demo
// users who sign in keep the ids of their roles.
func demoUserOf(s demoSlot) string {
	for _, u := range demoUsers {
		if u.institution == s.inst && u.worker == s.worker {
			return demoID("user", string(u.role))
		}
	}
	return demoID("user", "worker", s.inst, s.worker)
}

// demoRoleOf is the role a worker of the demo acts in: coordinators are
// the social workers who lead families.
func demoRoleOf(s demoSlot) domain.Role {
	for _, p := range demoPools {
		if slices.ContainsFunc(p.coordinators, func(c demoSlot) bool { return c.inst == s.inst && c.worker == s.worker }) {
			return domain.RoleCoordinator
		}
	}
	return domain.RoleWorker
}

// demoActor is the worker of the demo who takes a command, as a user.
func demoActor(s demoSlot) domain.Actor {
	return domain.Actor{UserID: demoUserOf(s), Role: demoRoleOf(s), InstitutionID: demoID("institution", s.inst)}
}

// demoAnimator is the animator of a partnership of the demo, as a user.
func demoAnimator(partnership string) domain.Actor {
	a := demoAnimators[partnership]
	if partnership == demoPartnerships[0].slug {
		return domain.Actor{UserID: demoID("user", string(domain.RoleAnimator)), Role: domain.RoleAnimator, InstitutionID: demoID("institution", a.inst)}
	}
	return domain.Actor{UserID: demoID("user", "animator", partnership), Role: domain.RoleAnimator, InstitutionID: demoID("institution", a.inst)}
}

// demoActors registers, before the partnerships and families, the users who take the
// demo's commands: the demo users who sign in (demoTokens issues their
// tokens at the end, registering them again writes nothing), a user for
// every other worker of the demo and the animators of the partnerships,
// so that the history names who decided.
func demoActors(run demoRunAs, system domain.Actor) error {
	now := time.Now().UTC()
	for _, u := range demoUsers {
		reg := domain.RegisterUser{UserID: demoID("user", string(u.role)), Name: u.name, Role: u.role}
		if u.institution != "" {
			reg.InstitutionID = demoID("institution", u.institution)
		}
		if u.worker != "" {
			reg.WorkerID = demoID("worker", u.institution, u.worker)
		}
		if err := run("user/"+string(u.role), system, reg, now, "użytkownik demonstracyjny"); err != nil {
			return err
		}
	}
	for _, w := range demoWorkers {
		s := demoSlot{inst: w.inst, worker: w.name}
		uid := demoUserOf(s)
		if uid != demoID("user", "worker", s.inst, s.worker) {
			continue // a demo user who signs in
		}
		cmd := domain.RegisterUser{UserID: uid, Name: w.name, Role: demoRoleOf(s), InstitutionID: demoID("institution", w.inst), WorkerID: demoID("worker", w.inst, w.name)}
		if err := run("user/worker/"+w.inst+"/"+w.name, system, cmd, now, "pracownik demonstracyjny"); err != nil {
			return err
		}
	}
	for _, p := range demoPartnerships[1:] {
		a := demoAnimators[p.slug]
		cmd := domain.RegisterUser{UserID: demoAnimator(p.slug).UserID, Name: a.name, Role: domain.RoleAnimator, InstitutionID: demoID("institution", a.inst)}
		if err := run("user/animator/"+p.slug, system, cmd, now, "animator demonstracyjny"); err != nil {
			return err
		}
	}
	return nil
}

// DemoTokensFile is where --demo writes the demo users' tokens.
const DemoTokensFile = "demo-tokens.json"

func demoID(parts ...string) string {
	key := "demo"
	for _, p := range parts {
		key += "/" + p
	}
	return domain.IDFromKey(key)
}

// demoWorkers are the workers of the demo institutions: the users' and
// those of the demo families' task teams (demo_families.go).
var demoWorkers = []struct{ inst, name, position string }{
	{"mops-sieradz", "Marta Testowa", "pracownik socjalny"},
	{"mops-sieradz", "Jan Przykładowy", "asystent rodziny"},
	{"sp1-sieradz", "Piotr Fikcyjny", "pedagog"},
	{"kurator-sieradz", "Tomasz Wzorcowy", "kurator zawodowy"},
	{"pup-sieradz", "Agnieszka Umowna", "doradca zawodowy"},
	// The workers of the demo families' task teams (demo_families.go).
	{"mops-sieradz", "Katarzyna Wzorcowa", "pracownik socjalny"},
	{"mops-sieradz", "Barbara Pokazowa", "starszy pracownik socjalny"},
	{"pcpr-sieradz", "Magdalena Umowna", "specjalista pracy z rodziną"},
	{"pcpr-sieradz", "Grzegorz Pokazowy", "psycholog"},
	{"pup-sieradz", "Robert Próbny", "pośrednik pracy"},
	{"ssm-sieradz", "Krzysztof Umowny", "specjalista ds. członkowskich"},
	{"ppp-sieradz", "Monika Próbna", "psycholog"},
	{"kurator-sieradz", "Halina Testowa", "kurator społeczny"},
	{"szpital-sieradz", "Adam Modelowy", "psycholog kliniczny"},
	{"szpital-sieradz", "Renata Fikcyjna", "terapeuta uzależnień"},
	{"tpd-sieradz", "Alicja Wzorcowa", "wychowawca świetlicy"},
	{"trampolina-zdw", "Natalia Zmyślona", "prawnik"},
	{"dary-losu-sieradz", "Elżbieta Szablonowa", "rehabilitant"},
	{"przystan-sieradz", "Stanisław Próbny", "lider grupy wsparcia"},
	{"przyjazn-sieradz", "Zenon Wzorcowy", "instruktor terapii uzależnień"},
	{"sp4-sieradz", "Joanna Modelowa", "pedagog szkolny"},
	{"sp6-sieradz", "Ewelina Szablonowa", "pedagog szkolny"},
	{"sp9-sieradz", "Dorota Zmyślona", "pedagog szkolny"},
	{"sp10-sieradz", "Iwona Pokazowa", "psycholog szkolny"},
	{"mopr-piotrkow", "Beata Przykładowa", "pracownik socjalny"},
	{"mopr-piotrkow", "Paweł Testowy", "pracownik socjalny"},
	{"pcpr-piotrkow", "Ilona Fikcyjna", "psycholog"},
	{"pup-piotrkow", "Marek Wzorcowy", "doradca zawodowy"},
	{"kmp-piotrkow", "Łukasz Umowny", "dzielnicowy"},
	{"mops-radomsko", "Teresa Pokazowa", "pracownik socjalny"},
	{"mops-radomsko", "Wojciech Próbny", "pracownik socjalny"},
	{"kpp-radomsko", "Kamil Modelowy", "dzielnicowy"},
	{"kurator-radomsko", "Jolanta Szablonowa", "kurator zawodowy"},
	{"szpital-radomsko", "Aleksandra Zmyślona", "psycholog"},
	{"mops-zdw", "Grażyna Wzorcowa", "pracownik socjalny"},
	{"mops-zdw", "Rafał Fikcyjny", "pracownik socjalny"},
	{"pcpr-zdw", "Sylwia Umowna", "koordynator rodzinnej pieczy zastępczej"},
	{"pup-zdw", "Michał Testowy", "doradca zawodowy"},
}

// loadDemoPartnership writes one partnership of the demo: its initiation,
// declarations of accession, basket of services, meeting and
// formalisation; byslug finds the services of its institutions.
func loadDemoPartnership(run demoRun, p demoPartnership, byslug map[string]demoInstitution) error {
	at := func(d domain.Date) time.Time { return d.Time().Add(10 * time.Hour) }
	pid := demoID("partnership", p.slug)
	ini := domain.InitiatePartnership{PartnershipID: pid, Name: p.name, Municipality: p.municipality, County: p.county,
		Date: p.date, Place: p.place, LeaderID: demoID("institution", p.leader)}
	attendees := []string{demoID("institution", p.leader)}
	if p.coLeader != "" {
		ini.CoLeaderID = demoID("institution", p.coLeader)
		attendees = append(attendees, ini.CoLeaderID)
	}
	if err := run("partnership/"+p.slug, ini, at(p.date), "spotkanie inicjujące PZK"); err != nil {
		return err
	}
	for _, m := range p.members {
		cmd := domain.JoinPartnership{PartnershipID: pid, InstitutionID: demoID("institution", m), Date: p.date,
			Signatory: "przedstawiciel instytucji", Powers: "Uprawnienia ustawowe instytucji", Resources: "Kadra i oferta usług przedstawione na spotkaniu"}
		if err := run("join/"+p.slug+"/"+m, cmd, at(p.date), "podpisanie deklaracji przystąpienia"); err != nil {
			return err
		}
		attendees = append(attendees, cmd.InstitutionID)
	}
	for _, slug := range append([]string{p.leader, p.coLeader}, p.members...) {
		if slug == "" {
			continue
		}
		for _, svc := range byslug[slug].services {
			cmd := domain.OfferService{PartnershipID: pid, ServiceID: demoID("service", p.slug, slug, svc), InstitutionID: demoID("institution", slug),
				Name: svc, TargetGroups: []string{"osoby i rodziny wymagające wsparcia"}, Access: "przez koordynatora rodziny (pracownika socjalnego)"}
			if err := run("service/"+p.slug+"/"+slug+"/"+svc, cmd, at(p.date), "oferta do lokalnego koszyka usług"); err != nil {
				return err
			}
		}
	}
	meeting := domain.RecordMeeting{PartnershipID: pid, MeetingID: demoID("meeting", p.slug), Kind: p.meeting, Date: p.date, Place: p.place,
		Attendees: attendees, Guests: []string{"Regionalne Centrum Polityki Społecznej w Łodzi"},
		Decisions: []string{"Podpisanie deklaracji przystąpienia do PZK", "Prezentacja uprawnień, zasobów i oferty usług kooperantów"}}
	if err := run("meeting/"+p.slug, meeting, at(p.date), "protokół spotkania"); err != nil {
		return err
	}
	if p.formalised {
		if err := run("formalize/"+p.slug, domain.FormalizePartnership{PartnershipID: pid, Date: p.date, Place: p.place}, at(p.date), "spotkanie formalizujące PZK"); err != nil {
			return err
		}
	}
	return nil
}

// loadDemo writes the demo data through the domain, with command ids
// derived from the data, so that loading it again writes nothing new.
func loadDemo(ctx context.Context, h *domain.Handler, dataDir string) error {
	system := domain.Actor{UserID: demoID("user", "system"), Role: domain.RoleSystem}
	runAs := func(key string, by domain.Actor, cmd domain.Command, occurred time.Time, reason string) error {
		_, err := h.Execute(ctx, cmd, domain.Meta{CommandID: demoID("command", key), Actor: by, OccurredAt: occurred, Reason: reason}, domain.AnyVersion)
		if err != nil {
			return fmt.Errorf("demo %s: %w", key, err)
		}
		return nil
	}
	as := func(by domain.Actor) demoRun {
		return func(key string, cmd domain.Command, occurred time.Time, reason string) error {
			return runAs(key, by, cmd, occurred, reason)
		}
	}
	// The engine registers the users; the administrator the institutions
	// and workers; each partnership's animator what it does; the workers
	// the families' cases.
	run := as(demoAdmin)
	all := append(append([]demoInstitution{}, sieradzMembers...), otherInstitutions...)
	byslug := map[string]demoInstitution{}
	for _, in := range all {
		byslug[in.slug] = in
	}
	at := func(d domain.Date) time.Time { return d.Time().Add(10 * time.Hour) }
	for _, in := range all {
		cmd := domain.RegisterInstitution{InstitutionID: demoID("institution", in.slug), Name: in.name, Sector: in.sector, Municipality: in.municipality, County: in.county}
		if err := run("institution/"+in.slug, cmd, at(domain.NewDate(2019, 9, 1)), "dane demonstracyjne"); err != nil {
			return err
		}
	}
	for _, w := range demoWorkers {
		cmd := domain.RegisterWorker{InstitutionID: demoID("institution", w.inst), WorkerID: demoID("worker", w.inst, w.name), Name: w.name, Position: w.position}
		if err := run("worker/"+w.inst+"/"+w.name, cmd, at(domain.NewDate(2019, 9, 1)), "dane demonstracyjne"); err != nil {
			return err
		}
	}
	// The users, once their institutions and workers are registered.
	if err := demoActors(runAs, system); err != nil {
		return err
	}
	for _, p := range demoPartnerships {
		if err := loadDemoPartnership(as(demoAnimator(p.slug)), p, byslug); err != nil {
			return err
		}
	}
	if err := loadDemoFamilies(ctx, h.Store, runAs); err != nil {
		return err
	}
	// The families living today, dated from the data directory's anchor
	// (demo_living.go).
	if err := loadDemoLiving(ctx, h.Store, runAs, demoNow()); err != nil {
		return err
	}
	return demoTokens(as(system), dataDir)
}

// demoTokens registers the demo users and writes their tokens to
// <data>/demo-tokens.json, reusing the tokens of an earlier run while they
// still authenticate.
func demoTokens(run func(string, domain.Command, time.Time, string) error, dataDir string) error {
	path := filepath.Join(dataDir, DemoTokensFile)
	tokens := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &tokens); err != nil {
			return fmt.Errorf("read %s: %w (delete it to issue new demo tokens)", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	now := time.Now().UTC()
	for _, u := range demoUsers {
		uid := demoID("user", string(u.role))
		reg := domain.RegisterUser{UserID: uid, Name: u.name, Role: u.role, Login: demoLogins[u.role]}
		if u.institution != "" {
			reg.InstitutionID = demoID("institution", u.institution)
		}
		if u.worker != "" {
			reg.WorkerID = demoID("worker", u.institution, u.worker)
		}
		if err := run("user/"+string(u.role), reg, now, "użytkownik demonstracyjny"); err != nil {
			return err
		}
		token := tokens[string(u.role)]
		hash := api.HashToken(token)
		if token == "" {
			token, hash = api.NewToken()
		}
		// The command id follows the token: the same token is issued once.
		cmd := domain.IssueToken{UserID: uid, TokenID: demoID("token", hash), Hash: hash}
		if err := run("token/"+hash, cmd, now, "token demonstracyjny"); err != nil {
			return err
		}
		tokens[string(u.role)] = token
	}
	b, err := json.MarshalIndent(tokens, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileSynced(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
