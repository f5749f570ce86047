package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// The demo families: about forty invented families of the four partnerships,
// each taken through the domain with the real commands to a different stage
// of the model's lifecycle (opened, consents, diagnosis, task team, social
// contract, review, amendment, end, closing, reopening), between the cases
// opened in November 2019 and the end of the project's period. Names,
// addresses and stories are invented (surnames such as Przykładowa, Testowy,
// Fikcyjna); no PESEL is recorded. The data is generated from a fixed seed
// and every command's id derives from a stable key, so that loading the demo
// twice writes nothing new.

// demoRun runs one command of the demo under a stable key.
type demoRun = func(key string, cmd domain.Command, occurred time.Time, reason string) error

// demoRunAs runs one command of the demo under a stable key, taken by a
// user of the demo (demoActor).
type demoRunAs = func(key string, by domain.Actor, cmd domain.Command, occurred time.Time, reason string) error

// demoToday is the demo's "today": the end of the period the demo covers.
// No business date of the demo is later; deadlines and contract end dates
// may be.
var demoToday = domain.NewDate(2021, 6, 30)

// demoSlot is a worker who can take on a role on a family's team, with the
// basket service of their institution that the role refers families to.
type demoSlot struct {
	inst, worker, service string
}

// demoPool is who works with families in one partnership: the coordinators
// (social workers of the leader) and, per role, the workers who can take it.
type demoPool struct {
	coordinators []demoSlot
	assistant    *demoSlot // a family assistant of the leader, if any
	roles        map[string][]demoSlot
}

// demoRoleOrder fixes the order in which roles are listed, so that nothing
// depends on map iteration.
var demoRoleOrder = []string{"praca", "mieszkanie", "szkola", "swietlica", "ppp", "uzaleznienia", "kurator", "zdrowie", "przemoc", "policja", "pcpr", "niepelnosprawnosc"}

var demoPools = map[string]demoPool{
	"pzk-sieradz": {
		coordinators: []demoSlot{{"mops-sieradz", "Marta Testowa", ""}, {"mops-sieradz", "Katarzyna Wzorcowa", ""}, {"mops-sieradz", "Barbara Pokazowa", ""}},
		assistant:    &demoSlot{"mops-sieradz", "Jan Przykładowy", "Asystent rodziny"},
		roles: map[string][]demoSlot{
			"praca":      {{"pup-sieradz", "Agnieszka Umowna", "Doradztwo zawodowe"}, {"pup-sieradz", "Robert Próbny", "Staże i szkolenia dla bezrobotnych"}},
			"mieszkanie": {{"ssm-sieradz", "Krzysztof Umowny", "Rozkładanie zaległości czynszowych na raty"}},
			"szkola": {{"sp1-sieradz", "Piotr Fikcyjny", "Zajęcia wyrównawcze"}, {"sp4-sieradz", "Joanna Modelowa", "Pomoc pedagoga szkolnego"},
				{"sp6-sieradz", "Ewelina Szablonowa", "Zajęcia rozwijające kompetencje emocjonalno-społeczne"},
				{"sp9-sieradz", "Dorota Zmyślona", "Świetlica szkolna w wydłużonych godzinach"}, {"sp10-sieradz", "Iwona Pokazowa", "Pomoc psychologa szkolnego"}},
			"swietlica": {{"tpd-sieradz", "Alicja Wzorcowa", "Świetlica środowiskowa"}},
			"ppp":       {{"ppp-sieradz", "Monika Próbna", "Diagnoza psychologiczno-pedagogiczna dziecka"}},
			"uzaleznienia": {{"szpital-sieradz", "Renata Fikcyjna", "Leczenie uzależnień"}, {"przystan-sieradz", "Stanisław Próbny", "Grupa wsparcia dla osób uzależnionych"},
				{"przyjazn-sieradz", "Zenon Wzorcowy", "Klub abstynenta"}},
			"kurator":           {{"kurator-sieradz", "Tomasz Wzorcowy", ""}, {"kurator-sieradz", "Halina Testowa", ""}},
			"zdrowie":           {{"szpital-sieradz", "Adam Modelowy", "Konsultacja psychiatryczna"}},
			"przemoc":           {{"trampolina-zdw", "Natalia Zmyślona", "Pomoc prawna i psychologiczna dla pokrzywdzonych"}},
			"pcpr":              {{"pcpr-sieradz", "Magdalena Umowna", "Poradnictwo rodzinne"}, {"pcpr-sieradz", "Grzegorz Pokazowy", "Interwencja kryzysowa"}},
			"niepelnosprawnosc": {{"dary-losu-sieradz", "Elżbieta Szablonowa", "Rehabilitacja i wsparcie rodzin dzieci z niepełnosprawnością"}},
		},
	},
	"pzk-piotrkow": {
		coordinators: []demoSlot{{"mopr-piotrkow", "Beata Przykładowa", ""}, {"mopr-piotrkow", "Paweł Testowy", ""}},
		roles: map[string][]demoSlot{
			"praca":   {{"pup-piotrkow", "Marek Wzorcowy", "Pośrednictwo pracy"}},
			"policja": {{"kmp-piotrkow", "Łukasz Umowny", ""}},
			"pcpr":    {{"pcpr-piotrkow", "Ilona Fikcyjna", "Poradnictwo specjalistyczne"}},
		},
	},
	"pzk-radomsko": {
		coordinators: []demoSlot{{"mops-radomsko", "Teresa Pokazowa", ""}, {"mops-radomsko", "Wojciech Próbny", ""}},
		roles: map[string][]demoSlot{
			"policja": {{"kpp-radomsko", "Kamil Modelowy", ""}},
			"kurator": {{"kurator-radomsko", "Jolanta Szablonowa", ""}},
			"zdrowie": {{"szpital-radomsko", "Aleksandra Zmyślona", "Poradnia zdrowia psychicznego"}},
		},
	},
	"pzk-zdw": {
		coordinators: []demoSlot{{"mops-zdw", "Grażyna Wzorcowa", ""}, {"mops-zdw", "Rafał Fikcyjny", ""}},
		roles: map[string][]demoSlot{
			"praca":   {{"pup-zdw", "Michał Testowy", "Doradztwo zawodowe"}},
			"pcpr":    {{"pcpr-zdw", "Sylwia Umowna", "Rodzinna piecza zastępcza: wsparcie"}},
			"przemoc": {{"trampolina-zdw", "Natalia Zmyślona", "Pomoc prawna i psychologiczna dla pokrzywdzonych"}},
		},
	},
}

// demoRole is what one sector brings to a family: its input to the
// diagnosis, the data it needs, and its action in the contract.
type demoRole struct {
	area       domain.NeedArea
	categories []domain.DataCategory // besides basic
	needs      string
	strengths  string
	action     string
	refer      bool // families are referred to the role's basket service
}

var demoRoles = map[string]demoRole{
	"praca": {domain.AreaEmployment, []domain.DataCategory{domain.DataEmployment, domain.DataIncome},
		"Długotrwałe bezrobocie; brak aktualnych kwalifikacji i doświadczenia w poszukiwaniu pracy.", "Motywacja do podjęcia zatrudnienia.",
		"Opracowanie indywidualnego planu działania i propozycja szkolenia lub stażu", true},
	"mieszkanie": {domain.AreaHousing, []domain.DataCategory{domain.DataHousing, domain.DataIncome},
		"Zaległości w opłatach czynszowych grożące wypowiedzeniem umowy najmu.", "Regularne wpłaty bieżącego czynszu od trzech miesięcy.",
		"Zawarcie ugody i rozłożenie zaległości czynszowych na raty", true},
	"szkola": {domain.AreaEducation, []domain.DataCategory{domain.DataEducation},
		"Zaległości w nauce i częste nieobecności dziecka; trudności w relacjach z rówieśnikami.", "Dziecko chętnie uczestniczy w zajęciach sportowych.",
		"Objęcie dziecka pomocą psychologiczno-pedagogiczną i zajęciami wyrównawczymi", true},
	"swietlica": {domain.AreaParenting, []domain.DataCategory{domain.DataEducation},
		"Brak opieki nad dziećmi po lekcjach w czasie pracy rodzica.", "Dzieci chętnie spędzają czas z rówieśnikami.",
		"Zapewnienie dzieciom miejsca w świetlicy środowiskowej", true},
	"ppp": {domain.AreaEducation, []domain.DataCategory{domain.DataEducation, domain.DataHealth},
		"Potrzeba pogłębionej diagnozy psychologiczno-pedagogicznej dziecka (podejrzenie specyficznych trudności w uczeniu się).", "",
		"Diagnoza psychologiczno-pedagogiczna i opinia o potrzebach dziecka", true},
	"uzaleznienia": {domain.AreaAddiction, []domain.DataCategory{domain.DataAddiction, domain.DataHealth},
		"Nadużywanie alkoholu przez jednego z rodziców; wcześniejsze leczenie przerwane.", "Deklarowana gotowość do podjęcia terapii.",
		"Terapia uzależnienia i udział w grupie wsparcia", true},
	"kurator": {domain.AreaJustice, []domain.DataCategory{domain.DataJustice},
		"Rodzina objęta nadzorem kuratora sądowego; potrzeba realizacji zaleceń sądu rodzinnego.", "Rodzice utrzymują kontakt z kuratorem.",
		"Nadzór kuratorski i informowanie zespołu o realizacji zaleceń sądu", false},
	"zdrowie": {domain.AreaHealth, []domain.DataCategory{domain.DataHealth},
		"Objawy zaburzeń depresyjno-lękowych; brak stałej opieki specjalistycznej.", "Świadomość potrzeby leczenia.",
		"Konsultacja psychiatryczna i wsparcie psychologiczne", true},
	"przemoc": {domain.AreaViolence, []domain.DataCategory{domain.DataViolence, domain.DataJustice},
		"Doświadczanie przemocy domowej; potrzeba pomocy prawnej i psychologicznej.", "Determinacja w ochronie dzieci.",
		"Pomoc prawna i psychologiczna dla osoby doznającej przemocy", true},
	"policja": {domain.AreaViolence, []domain.DataCategory{domain.DataViolence},
		"Powtarzające się interwencje domowe; potrzeba monitorowania bezpieczeństwa rodziny.", "",
		"Wizyty dzielnicowego w miejscu zamieszkania w ramach procedury Niebieskiej Karty", false},
	"pcpr": {domain.AreaParenting, []domain.DataCategory{domain.DataHealth},
		"Trudności opiekuńczo-wychowawcze; potrzeba poradnictwa rodzinnego i wsparcia psychologicznego.", "Rodzice chcą poprawić relacje z dziećmi.",
		"Poradnictwo rodzinne i konsultacje psychologiczne dla rodziców", true},
	"niepelnosprawnosc": {domain.AreaDisability, []domain.DataCategory{domain.DataHealth},
		"Dziecko z niepełnosprawnością wymaga stałej rehabilitacji; opiekun przeciążony opieką.", "Duże zaangażowanie w rehabilitację dziecka.",
		"Zajęcia rehabilitacyjne dla dziecka i grupa wsparcia dla rodzica", true},
}

// demoProfile is the story of a family: why it came, what the diagnosis
// and the contract are about, which sectors work with it.
type demoProfile struct {
	key          string
	referrers    []string // who referred the family: the first of these roles on the team, else the leader
	referral     string
	variant      domain.ContractVariant
	assessment   domain.Assessment
	mainGoal     string
	goals        []string
	clientAction string
	clientGoal   string
	clientDuties string
	summary      string
	reopen       string // why a closed case comes back
	roles        []string
	minChildren  int
	female       bool // the applicant is a woman
	partner      bool // the applicant lives with a spouse or partner
	single       bool // the applicant brings the children up alone
}

var demoProfiles = []demoProfile{
	{key: "bezrobocie", referrers: []string{"praca"}, referral: "Długotrwałe bezrobocie rodzica i ryzyko utraty mieszkania z powodu zaległości czynszowych",
		variant: domain.VariantB,
		assessment: domain.Assessment{Causes: "Długotrwałe bezrobocie wnioskodawcy i narastające zaległości czynszowe.",
			Strengths: "Gotowość do zmiany; wsparcie dalszej rodziny.", Resources: "Doświadczenie zawodowe w handlu; prawo jazdy kat. B.",
			Barriers: "Brak aktualnych kwalifikacji; trudności z opieką nad dziećmi w godzinach pracy."},
		mainGoal:     "Podjęcie zatrudnienia i uregulowanie zaległości mieszkaniowych.",
		goals:        []string{"Podjęcie zatrudnienia lub udział w szkoleniu zawodowym", "Spłata zaległości czynszowych zgodnie z ugodą"},
		clientAction: "Regularne kontakty z doradcą zawodowym i udział w szkoleniu", clientGoal: "g1",
		clientDuties: "Aktywne poszukiwanie pracy, terminowe wpłaty rat, informowanie pracownika socjalnego o zmianach sytuacji.",
		summary:      "Główne potrzeby: zatrudnienie i stabilizacja mieszkaniowa; dzieci wymagają wsparcia w nauce.",
		reopen:       "Ponowne zgłoszenie rodziny: utrata zatrudnienia i nowe zaległości czynszowe.",
		roles:        []string{"praca", "mieszkanie", "szkola", "swietlica"}, minChildren: 1},
	{key: "uzaleznienie", referrers: []string{"kurator", "uzaleznienia"}, referral: "Nadużywanie alkoholu przez jednego z rodziców i zaniedbania opiekuńcze; rodzina pod nadzorem kuratora",
		variant: domain.VariantA,
		assessment: domain.Assessment{Causes: "Nadużywanie alkoholu przez jednego z rodziców i związane z tym zaniedbania opiekuńcze.",
			Strengths: "Silna więź rodziców z dziećmi; deklaracja podjęcia leczenia.", Resources: "Dochód z pracy dorywczej; pomoc dziadków.",
			Barriers: "Przerwane wcześniej leczenie; wstyd przed szukaniem pomocy."},
		mainGoal:     "Utrzymanie abstynencji i poprawa opieki nad dziećmi.",
		goals:        []string{"Podjęcie i kontynuowanie terapii uzależnienia", "Zapewnienie dzieciom właściwej opieki i regularnej nauki"},
		clientAction: "Udział w terapii i spotkaniach grupy wsparcia", clientGoal: "g1",
		clientDuties: "Utrzymywanie abstynencji, udział w terapii, współpraca z kuratorem i szkołą.",
		summary:      "Uzależnienie od alkoholu jako główna przyczyna trudności; potrzeba wsparcia opiekuńczo-wychowawczego.",
		reopen:       "Informacja kuratora o nawrocie nadużywania alkoholu; ponowne zaniedbania opiekuńcze.",
		roles:        []string{"uzaleznienia", "kurator", "szkola", "zdrowie"}, minChildren: 1, female: true, partner: true},
	{key: "przemoc", referrers: []string{"policja", "przemoc"}, referral: "Przemoc domowa wobec wnioskodawczyni i dzieci; potrzeba ochrony i wsparcia", single: true,
		variant: domain.VariantA,
		assessment: domain.Assessment{Causes: "Przemoc domowa ze strony byłego partnera; poczucie zagrożenia i izolacja.",
			Strengths: "Determinacja wnioskodawczyni w ochronie dzieci; wsparcie siostry.", Resources: "Mieszkanie komunalne; praca w niepełnym wymiarze.",
			Barriers: "Lęk przed sprawcą; zależność finansowa."},
		mainGoal:     "Zapewnienie bezpieczeństwa rodzinie i odbudowa jej samodzielności.",
		goals:        []string{"Zapewnienie bezpieczeństwa wnioskodawczyni i dzieciom", "Wzmocnienie kompetencji i samodzielności rodzica"},
		clientAction: "Udział w konsultacjach psychologicznych i grupie wsparcia", clientGoal: "g1",
		clientDuties: "Udział w konsultacjach, zgłaszanie zagrożeń, współpraca z zespołem.",
		summary:      "Potrzeba ochrony przed przemocą oraz wsparcia psychologicznego i prawnego.",
		reopen:       "Ponowna procedura Niebieskiej Karty po interwencji policji.",
		roles:        []string{"przemoc", "policja", "kurator", "pcpr", "szkola"}, minChildren: 1, female: true},
	{key: "niepelnosprawnosc", referrers: []string{"niepelnosprawnosc", "pcpr"}, single: true, referral: "Samotny rodzic dziecka z niepełnosprawnością, przeciążony opieką i bez wystarczającego dochodu",
		variant: domain.VariantA,
		assessment: domain.Assessment{Causes: "Całodobowa opieka nad dzieckiem z niepełnosprawnością i niewystarczające dochody.",
			Strengths: "Duże zaangażowanie w rehabilitację dziecka.", Resources: "Świadczenie pielęgnacyjne; orzeczenie o niepełnosprawności dziecka.",
			Barriers: "Przeciążenie opieką; utrudniony dojazd na rehabilitację."},
		mainGoal:     "Zapewnienie dziecku ciągłej rehabilitacji i odciążenie opiekuna.",
		goals:        []string{"Zapewnienie dziecku regularnej rehabilitacji i edukacji dostosowanej do potrzeb", "Odciążenie opiekuna i poprawa sytuacji materialnej rodziny"},
		clientAction: "Regularne dowożenie dziecka na zajęcia rehabilitacyjne", clientGoal: "g1",
		clientDuties: "Zapewnienie udziału dziecka w zajęciach, składanie wniosków o świadczenia w terminie.",
		summary:      "Potrzeby: rehabilitacja dziecka, wsparcie wytchnieniowe dla opiekuna, stabilizacja dochodu.",
		reopen:       "Wniosek matki o ponowne wsparcie po pogorszeniu stanu zdrowia dziecka.",
		roles:        []string{"niepelnosprawnosc", "ppp", "pcpr", "praca"}, minChildren: 1, female: true},
	{key: "opieka", referrers: []string{"szkola"}, referral: "Wysoka absencja szkolna dzieci i sygnały zaniedbań zgłoszone przez pedagoga szkolnego",
		variant: domain.VariantA,
		assessment: domain.Assessment{Causes: "Niewydolność opiekuńczo-wychowawcza rodziców i trudności szkolne dzieci.",
			Strengths: "Rodzice chcą współpracować ze szkołą; dzieci chętnie chodzą na zajęcia pozalekcyjne.", Resources: "Mieszkanie w dobrym stanie; dochód z zatrudnienia.",
			Barriers: "Niekonsekwencja wychowawcza; konflikty między rodzicami."},
		mainGoal:     "Poprawa funkcjonowania dzieci w szkole i umiejętności wychowawczych rodziców.",
		goals:        []string{"Regularne uczęszczanie dzieci do szkoły i poprawa wyników w nauce", "Wzmocnienie umiejętności wychowawczych rodziców"},
		clientAction: "Udział rodziców w warsztatach umiejętności wychowawczych", clientGoal: "g2",
		clientDuties: "Dopilnowanie obecności dzieci w szkole, udział w warsztatach i spotkaniach z pedagogiem.",
		summary:      "Potrzeby wychowawcze i edukacyjne dzieci; potrzeba wsparcia rodziców w roli opiekuńczej.",
		reopen:       "Ponowne zgłoszenie przez szkołę: dzieci znów opuszczają zajęcia.",
		roles:        []string{"szkola", "ppp", "swietlica", "pcpr", "kurator"}, minChildren: 2, partner: true},
	{key: "zdrowie", referrers: []string{"zdrowie", "pcpr"}, referral: "Rodzic po hospitalizacji psychiatrycznej, bez wsparcia w środowisku",
		variant: domain.VariantA,
		assessment: domain.Assessment{Causes: "Przewlekła choroba psychiczna wnioskodawcy i izolacja społeczna rodziny.",
			Strengths: "Systematyczne przyjmowanie leków; wsparcie najbliższych.", Resources: "Renta z tytułu niezdolności do pracy.",
			Barriers: "Nawroty choroby; brak aktywności zawodowej; zadłużenie."},
		mainGoal:     "Stabilizacja stanu zdrowia i powrót do aktywności społecznej i zawodowej.",
		goals:        []string{"Systematyczne leczenie i utrzymanie stabilnego stanu zdrowia", "Podjęcie aktywności zawodowej lub społecznej"},
		clientAction: "Regularne wizyty w poradni zdrowia psychicznego", clientGoal: "g1",
		clientDuties: "Przestrzeganie zaleceń lekarskich, udział w zajęciach aktywizacyjnych.",
		summary:      "Potrzeby zdrowotne i aktywizacyjne; ryzyko izolacji społecznej.",
		reopen:       "Wniosek rodziny o wsparcie po ponownej hospitalizacji wnioskodawcy.",
		roles:        []string{"zdrowie", "pcpr", "praca", "policja"}},
}

// demoFamilyPlan is how many families each partnership has, and the stage
// each reaches: 1 opened, 2 consents, 3 diagnosis in progress, 4 diagnosis
// completed, 5 team formed, 6 contract drafted, 7 contract in force, 8
// contract reviewed/amended/extended, 9 contract ended, 10 case closed, 11
// case reopened.
var demoFamilyPlan = []struct {
	partnership string
	stages      []int
}{
	{"pzk-sieradz", []int{1, 2, 3, 4, 5, 6, 7, 7, 8, 8, 9, 9, 9, 10, 10, 10, 11, 11, 3, 5, 7, 8}},
	{"pzk-piotrkow", []int{1, 2, 3, 5, 7, 9, 10}},
	{"pzk-radomsko", []int{2, 4, 6, 8, 10}},
	{"pzk-zdw", []int{1, 4, 6, 7, 9, 11}},
}

// demoOpened is the window in which a family of each stage opened: the
// further it got, the earlier it came.
var demoOpened = map[int][2]domain.Date{
	1:  {domain.NewDate(2021, 4, 1), domain.NewDate(2021, 6, 20)},
	2:  {domain.NewDate(2021, 2, 15), domain.NewDate(2021, 5, 10)},
	3:  {domain.NewDate(2021, 1, 15), domain.NewDate(2021, 4, 30)},
	4:  {domain.NewDate(2020, 12, 1), domain.NewDate(2021, 3, 31)},
	5:  {domain.NewDate(2020, 10, 1), domain.NewDate(2021, 2, 28)},
	6:  {domain.NewDate(2020, 9, 1), domain.NewDate(2021, 2, 15)},
	7:  {domain.NewDate(2020, 7, 1), domain.NewDate(2020, 11, 30)},
	8:  {domain.NewDate(2020, 6, 15), domain.NewDate(2020, 9, 15)},
	9:  {domain.NewDate(2019, 11, 4), domain.NewDate(2020, 5, 31)},
	10: {domain.NewDate(2019, 11, 4), domain.NewDate(2020, 3, 31)},
	11: {domain.NewDate(2019, 11, 4), domain.NewDate(2020, 1, 31)},
}

// demoEnding is how a contract ended and how the case closed after it.
type demoEnding struct {
	ending   domain.Ending
	sanction string
	reason   string
	outcome  domain.Outcome
	close    string
}

var (
	endGoalsMet = demoEnding{domain.EndingGoalsMet, "", "Cele kontraktu zostały osiągnięte; rodzina funkcjonuje samodzielnie.",
		domain.OutcomeGoalsAchieved, "Zakończenie pracy z rodziną: cele kontraktu osiągnięte."}
	endBroke = demoEnding{domain.EndingClientBroke, "Wstrzymanie zasiłku celowego na trzy miesiące (art. 11 ust. 2 ustawy o pomocy społecznej).",
		"Klient nie dotrzymał ustaleń kontraktu: nie podjął działań i nie stawiał się na spotkania.",
		domain.OutcomeNotAchieved, "Zamknięcie sprawy po zerwaniu kontraktu przez klienta; cele nieosiągnięte."}
	endWithdrew = demoEnding{domain.EndingClientWithdrew, "", "Rodzina zrezygnowała z dalszej realizacji kontraktu.",
		domain.OutcomeClientWithdrew, "Zamknięcie sprawy na prośbę rodziny."}
	endMoved = demoEnding{domain.EndingMovedAway, "", "Rodzina przeprowadziła się poza teren gminy.",
		domain.OutcomeTransferred, "Dokumentacja przekazana do ośrodka pomocy społecznej właściwego dla nowego miejsca zamieszkania."}
	endOther = demoEnding{domain.EndingOther, "", "Zmiana sytuacji rodziny: wnioskodawca podjął pracę za granicą, kontrakt rozwiązano za porozumieniem stron.",
		domain.OutcomePartlyAchieved, "Zakończenie pracy z rodziną: cele osiągnięte częściowo."}
)

// Endings per stage, in turn.
var demoEndings = map[int][]demoEnding{
	9:  {endGoalsMet, endBroke, endWithdrew, endMoved, endOther},
	10: {endGoalsMet, endBroke, endMoved, endOther, endWithdrew},
	11: {endGoalsMet, endOther, endBroke},
}

var demoDeclineReasons = []string{
	"Brak wolnych miejsc w terminie dogodnym dla rodziny.",
	"Usługa nie odpowiada potrzebom rodziny; zaproponowano inną formę wsparcia.",
	"Rodzina nie spełnia kryteriów dostępu do usługi.",
}

var (
	demoFemaleNames = []string{"Anna", "Zofia", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Joanna", "Ewa", "Magdalena", "Monika", "Karolina", "Aleksandra", "Natalia", "Justyna", "Beata", "Dorota"}
	demoMaleNames   = []string{"Jan", "Piotr", "Tomasz", "Paweł", "Marcin", "Michał", "Krzysztof", "Andrzej", "Łukasz", "Adam", "Marek", "Grzegorz", "Rafał", "Dariusz", "Kamil", "Sebastian"}
	demoGirls       = []string{"Lena", "Hanna", "Julia", "Oliwia", "Amelia", "Wiktoria", "Maja", "Zuzanna", "Laura", "Nikola"}
	demoBoys        = []string{"Antoni", "Jakub", "Szymon", "Filip", "Kacper", "Franciszek", "Igor", "Wojciech", "Aleksander", "Mikołaj"}
	demoSurnames    = [][2]string{{"Przykładowy", "Przykładowa"}, {"Testowy", "Testowa"}, {"Fikcyjny", "Fikcyjna"}, {"Wzorcowy", "Wzorcowa"},
		{"Umowny", "Umowna"}, {"Pokazowy", "Pokazowa"}, {"Próbny", "Próbna"}, {"Modelowy", "Modelowa"}, {"Zmyślony", "Zmyślona"},
		{"Szablonowy", "Szablonowa"}, {"Makietowy", "Makietowa"}, {"Demonstracyjny", "Demonstracyjna"}, {"Ćwiczebny", "Ćwiczebna"}}
	demoStreets = []string{"ul. Przykładowa", "ul. Testowa", "ul. Fikcyjna", "ul. Wzorcowa", "ul. Zmyślona", "ul. Pokazowa", "ul. Próbna",
		"ul. Makietowa", "os. Modelowe", "ul. Szablonowa", "ul. Umowna"}
)

// demoStaffSupport are the forms of support for staff of each partnership.
var demoStaffSupport = []struct {
	partnership  string
	kind         domain.SupportKind
	date         domain.Date
	topic        string
	hours        float64
	institutions []string
}{
	{"pzk-sieradz", domain.SupportTraining, domain.NewDate(2019, 11, 27), "Szkolenie międzysektorowe: diagnoza potrzeb rodziny w modelu Kooperacje 3D", 16,
		[]string{"mops-sieradz", "pcpr-sieradz", "pup-sieradz", "ppp-sieradz", "kurator-sieradz", "szpital-sieradz", "sp1-sieradz", "sp4-sieradz", "tpd-sieradz"}},
	{"pzk-sieradz", domain.SupportCoaching, domain.NewDate(2020, 1, 22), "Coaching dla koordynatorów Zadaniowych Zespołów Kooperacyjnych: prowadzenie spotkań zespołu", 6,
		[]string{"mops-sieradz", "pcpr-sieradz"}},
	{"pzk-sieradz", domain.SupportWorkshop, domain.NewDate(2020, 2, 19), "Warsztaty kooperacyjne: budowanie lokalnego koszyka usług", 8,
		[]string{"mops-sieradz", "pcpr-sieradz", "pup-sieradz", "ssm-sieradz", "tpd-sieradz", "dary-losu-sieradz", "przystan-sieradz", "przyjazn-sieradz", "trampolina-zdw"}},
	{"pzk-sieradz", domain.SupportPZKMeeting, domain.NewDate(2020, 5, 13), "Spotkanie PZK jako forma wsparcia kadr: wymiana doświadczeń koordynatorów i liderów sektorów", 3,
		[]string{"mops-sieradz", "pcpr-sieradz", "pup-sieradz", "kurator-sieradz"}},
	{"pzk-sieradz", domain.SupportZZKMeeting, domain.NewDate(2020, 6, 10), "Spotkanie ZZK jako forma wsparcia kadr: omówienie pracy z rodziną z udziałem superwizora", 2,
		[]string{"mops-sieradz", "sp1-sieradz", "ppp-sieradz"}},
	{"pzk-sieradz", domain.SupportConsultation, domain.NewDate(2020, 9, 23), "Spotkanie konsultacyjne: praca zespołów kooperacyjnych w czasie epidemii COVID-19", 3,
		[]string{"mops-sieradz", "pcpr-sieradz", "kurator-sieradz", "szpital-sieradz", "sp6-sieradz", "sp9-sieradz", "sp10-sieradz"}},
	{"pzk-sieradz", domain.SupportTraining, domain.NewDate(2020, 10, 14), "Szkolenie międzysektorowe: kontrakt socjalny – cele, działania sektorów, monitorowanie", 12,
		[]string{"mops-sieradz", "pcpr-sieradz", "pup-sieradz", "ppp-sieradz", "kurator-sieradz", "sp1-sieradz", "sp6-sieradz"}},
	{"pzk-sieradz", domain.SupportWorkshop, domain.NewDate(2021, 3, 17), "Warsztaty kooperacyjne: wnioski z realizacji kontraktów socjalnych", 8,
		[]string{"mops-sieradz", "pcpr-sieradz", "pup-sieradz", "ssm-sieradz", "szpital-sieradz", "tpd-sieradz"}},
	{"pzk-sieradz", domain.SupportConsultation, domain.NewDate(2021, 6, 9), "Spotkanie konsultacyjne: rekomendacje do modelu kooperacji dla Sieradza", 4,
		[]string{"mops-sieradz", "pcpr-sieradz", "pup-sieradz", "kurator-sieradz", "ppp-sieradz"}},
	{"pzk-piotrkow", domain.SupportTraining, domain.NewDate(2019, 11, 20), "Szkolenie międzysektorowe: współpraca w procedurze Niebieskiej Karty i w kontrakcie socjalnym", 16,
		[]string{"mopr-piotrkow", "pcpr-piotrkow", "pup-piotrkow", "kmp-piotrkow"}},
	{"pzk-piotrkow", domain.SupportCoaching, domain.NewDate(2020, 3, 4), "Coaching dla pracowników socjalnych: rola koordynatora rodziny", 6,
		[]string{"mopr-piotrkow"}},
	{"pzk-piotrkow", domain.SupportConsultation, domain.NewDate(2020, 10, 7), "Spotkanie konsultacyjne: lokalny koszyk usług w czasie epidemii", 3,
		[]string{"mopr-piotrkow", "pcpr-piotrkow", "pup-piotrkow"}},
	{"pzk-piotrkow", domain.SupportWorkshop, domain.NewDate(2021, 4, 21), "Warsztaty kooperacyjne: wspólna diagnoza potrzeb rodziny", 8,
		[]string{"mopr-piotrkow", "pcpr-piotrkow", "pup-piotrkow", "kmp-piotrkow"}},
	{"pzk-radomsko", domain.SupportTraining, domain.NewDate(2019, 12, 4), "Szkolenie międzysektorowe: rodzina w kryzysie – zadania pomocy społecznej, policji, kurateli i ochrony zdrowia", 16,
		[]string{"mops-radomsko", "kpp-radomsko", "kurator-radomsko", "szpital-radomsko"}},
	{"pzk-radomsko", domain.SupportWorkshop, domain.NewDate(2020, 6, 24), "Warsztaty kooperacyjne: zespół zadaniowy wokół rodziny", 8,
		[]string{"mops-radomsko", "kurator-radomsko", "szpital-radomsko"}},
	{"pzk-radomsko", domain.SupportCoaching, domain.NewDate(2020, 11, 18), "Coaching dla koordynatorów rodzin", 6,
		[]string{"mops-radomsko"}},
	{"pzk-radomsko", domain.SupportConsultation, domain.NewDate(2021, 2, 10), "Spotkanie konsultacyjne: ocena współpracy w PZK Radomsko", 3,
		[]string{"mops-radomsko", "kpp-radomsko", "kurator-radomsko", "szpital-radomsko"}},
	{"pzk-zdw", domain.SupportTraining, domain.NewDate(2019, 11, 13), "Szkolenie międzysektorowe: model Kooperacje 3D w praktyce", 16,
		[]string{"mops-zdw", "pcpr-zdw", "pup-zdw", "trampolina-zdw"}},
	{"pzk-zdw", domain.SupportCoaching, domain.NewDate(2020, 2, 26), "Coaching dla pracowników socjalnych: kontrakt socjalny z udziałem wielu sektorów", 6,
		[]string{"mops-zdw", "pcpr-zdw"}},
	{"pzk-zdw", domain.SupportWorkshop, domain.NewDate(2020, 11, 18), "Warsztaty kooperacyjne: wsparcie osób doznających przemocy", 8,
		[]string{"mops-zdw", "pcpr-zdw", "trampolina-zdw"}},
	{"pzk-zdw", domain.SupportConsultation, domain.NewDate(2021, 5, 19), "Spotkanie konsultacyjne: rekomendacje dla Zduńskiej Woli", 3,
		[]string{"mops-zdw", "pcpr-zdw", "pup-zdw", "trampolina-zdw"}},
}

// demoStep is one command of a family's history, on its business date,
// and the worker who takes it.
type demoStep struct {
	date   domain.Date
	key    string
	cmd    domain.Command
	reason string
	by     demoSlot
}

// demoGen generates the families; its counters take endings, referral
// outcomes and the like in turn, so that each occurs.
type demoGen struct {
	r        *rand.Rand
	names    map[string]bool
	endings  map[int]int
	referral int
	amend    int
	withdraw int
	assist   int
	// shown counts the families given to the demo users, so that the
	// coordinator and the worker who sign in have cases of their own with
	// contracts in force.
	shown int
}

// loadDemoFamilies writes the demo families and the staff support. A
// family whose last command is recorded already is skipped: its commands
// run in order, each after the one before succeeded, so all of them are.
func loadDemoFamilies(ctx context.Context, store domain.Store, run demoRunAs) error {
	g := &demoGen{r: rand.New(rand.NewPCG(2019, 1023)), names: map[string]bool{}, endings: map[int]int{}}
	for _, p := range demoPartnerships {
		pool := demoPools[p.slug]
		for _, s := range pool.coordinators {
			g.names[s.worker] = true
		}
		for _, role := range demoRoleOrder {
			for _, s := range pool.roles[role] {
				g.names[s.worker] = true
			}
		}
	}
	for _, plan := range demoFamilyPlan {
		i := slices.IndexFunc(demoPartnerships, func(p demoPartnership) bool { return p.slug == plan.partnership })
		if i < 0 {
			return fmt.Errorf("demo families: no partnership %s", plan.partnership)
		}
		p := demoPartnerships[i]
		var eligible []demoProfile
		for _, prof := range demoProfiles {
			if len(demoAvailable(prof, demoPools[p.slug])) >= 2 {
				eligible = append(eligible, prof)
			}
		}
		offset := g.r.IntN(len(eligible))
		for n, stage := range plan.stages {
			key := fmt.Sprintf("%s/%02d", p.slug, n+1)
			steps, err := g.family(p, key, eligible[(n+offset)%len(eligible)], stage)
			if err != nil {
				return err
			}
			envs, err := store.Load(ctx, domain.AggregateFamily, demoID("family", key))
			if err != nil {
				return fmt.Errorf("demo family %s: %w", key, err)
			}
			lastID := demoID("command", "family/"+key+"/"+steps[len(steps)-1].key)
			if slices.ContainsFunc(envs, func(e domain.Envelope) bool { return e.CommandID == lastID }) {
				continue
			}
			for j, s := range steps {
				occurred := s.date.Time().Add(9*time.Hour + time.Duration(j)*time.Minute)
				if err := run("family/"+key+"/"+s.key, demoActor(s.by), s.cmd, occurred, s.reason); err != nil {
					return err
				}
			}
		}
	}
	if err := demoPedagogueReferral(run); err != nil {
		return err
	}
	for _, s := range demoStaffSupport {
		pool := demoPools[s.partnership]
		cmd := domain.RecordStaffSupport{PartnershipID: demoID("partnership", s.partnership), ActivityID: demoID("staff-support", s.partnership, s.date.String()),
			Kind: s.kind, Date: s.date, Topic: s.topic, Hours: s.hours}
		for _, inst := range s.institutions {
			cmd.Institutions = append(cmd.Institutions, demoID("institution", inst))
			for _, w := range pool.workersAt(inst) {
				cmd.Workers = append(cmd.Workers, demoID("worker", inst, w))
			}
		}
		if err := run("staff-support/"+s.partnership+"/"+s.date.String(), demoAnimator(s.partnership), cmd, s.date.Time().Add(10*time.Hour), "forma wsparcia kadr w projekcie Kooperacje 3D"); err != nil {
			return err
		}
	}
	return nil
}

// workersAt lists the pool's workers of an institution, each once.
func (p demoPool) workersAt(inst string) []string {
	var out []string
	add := func(s demoSlot) {
		if s.inst == inst && !slices.Contains(out, s.worker) {
			out = append(out, s.worker)
		}
	}
	for _, s := range p.coordinators {
		add(s)
	}
	for _, role := range demoRoleOrder {
		for _, s := range p.roles[role] {
			add(s)
		}
	}
	return out
}

// demoAvailable returns the roles of a profile that the partnership can
// fill.
func demoAvailable(prof demoProfile, pool demoPool) []string {
	var out []string
	for _, r := range prof.roles {
		if len(pool.roles[r]) > 0 {
			out = append(out, r)
		}
	}
	return out
}

func addDays(d domain.Date, n int) domain.Date {
	t := d.Time().AddDate(0, 0, n)
	return domain.NewDate(t.Year(), t.Month(), t.Day())
}

func addMonths(d domain.Date, n int) domain.Date {
	t := d.Time().AddDate(0, n, 0)
	return domain.NewDate(t.Year(), t.Month(), t.Day())
}

func daysBetween(a, b domain.Date) int { return int(b.Time().Sub(a.Time()).Hours() / 24) }

func minDate(a, b domain.Date) domain.Date {
	if b.Before(a) {
		return b
	}
	return a
}

func maxDate(a, b domain.Date) domain.Date {
	if a.Before(b) {
		return b
	}
	return a
}

// days returns a number of days from lo to hi.
func (g *demoGen) days(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

// dateIn returns a day from a to b.
func (g *demoGen) dateIn(a, b domain.Date) domain.Date {
	n := daysBetween(a, b)
	if n <= 0 {
		return a
	}
	return addDays(a, g.r.IntN(n+1))
}

func (g *demoGen) pick(names []string) string { return names[g.r.IntN(len(names))] }

// person returns an invented full name not yet used in the demo.
func (g *demoGen) person(female bool, surname [2]string, given []string) string {
	form := surname[0]
	if female {
		form = surname[1]
	}
	for range 50 {
		name := g.pick(given) + " " + form
		if !g.names[name] {
			g.names[name] = true
			return name
		}
	}
	return given[0] + " " + form
}

// birth returns a birth date of someone aged years on day d.
func (g *demoGen) birth(d domain.Date, years int) domain.Date {
	return addDays(addMonths(d, -12*years), -g.days(1, 360))
}

// demoMember is a worker on a family's team, with the role they play.
type demoMember struct {
	role string
	slot demoSlot
}

// takenBy says which worker takes a command of a family's case, as in
// life: the coordinator opens the case, records consents, completes the
// diagnosis, forms the team, refers, drafts, signs, reviews, ends and
// closes; a worker records their own input to the diagnosis; the
// probation officer records the court's order; a referral is answered by
// the institution it was sent to; an action's progress is marked by the
// institution responsible for it, and the client's and the coordinator's
// own by the coordinator.
func takenBy(key string, cmd domain.Command, coord demoSlot, assistant *demoSlot, members []demoMember, terms domain.ContractTerms) demoSlot {
	slots := []demoSlot{coord}
	if assistant != nil {
		slots = append(slots, *assistant)
	}
	for _, m := range members {
		slots = append(slots, m.slot)
	}
	at := func(inst string) demoSlot {
		for _, s := range slots[1:] {
			if demoID("institution", s.inst) == inst {
				return s
			}
		}
		return coord
	}
	switch c := cmd.(type) {
	case domain.RecordDiagnosisInput:
		for _, s := range slots {
			if demoID("worker", s.inst, s.worker) == c.WorkerID {
				return s
			}
		}
	case domain.RecordLegalBasis:
		return at(c.InstitutionID)
	case domain.UpdateReferral:
		for _, m := range members {
			if demoID("referral", key, m.slot.inst, m.slot.service) == c.ReferralID {
				return m.slot
			}
		}
	case domain.UpdateAction:
		for _, a := range terms.Actions {
			if a.ID == c.ActionID && a.Responsible.Kind == domain.PartyInstitution {
				return at(a.Responsible.InstitutionID)
			}
		}
	}
	return coord
}

func (m demoMember) ref() domain.WorkerRef {
	return domain.WorkerRef{WorkerID: demoID("worker", m.slot.inst, m.slot.worker), InstitutionID: demoID("institution", m.slot.inst)}
}

// family generates the history of one family up to its stage, in the order
// of its business dates.
func (g *demoGen) family(p demoPartnership, key string, prof demoProfile, stage int) ([]demoStep, error) {
	return g.familyIn(p, demoPools[p.slug], key, prof, stage)
}

// familyIn is family with the partnership's pool of workers given, for
// partnerships that are not the demo's own (bench generate clones them).
func (g *demoGen) familyIn(p demoPartnership, pool demoPool, key string, prof demoProfile, stage int) ([]demoStep, error) {
	fid := demoID("family", key)
	var steps []demoStep
	// Each step is taken by who takes it in life (takenBy, below), known
	// once the coordinator and the team are.
	var coord demoSlot
	var members []demoMember
	var terms domain.ContractTerms
	add := func(d domain.Date, k string, cmd domain.Command, reason string) {
		if c, ok := cmd.(domain.DraftContract); ok {
			terms = c.ContractTerms
		}
		steps = append(steps, demoStep{date: d, key: k, cmd: cmd, reason: reason, by: takenBy(key, cmd, coord, pool.assistant, members, terms)})
	}
	win := demoOpened[stage]
	opened := g.dateIn(win[0], win[1])

	// The household.
	surname := demoSurnames[g.r.IntN(len(demoSurnames))]
	female := prof.female || g.r.IntN(3) > 0
	children := prof.minChildren + g.r.IntN(3)
	if children > 3 {
		children = 3
	}
	var ages []int
	for c := range children {
		age := g.days(1, 17)
		if c == 0 && prof.minChildren > 0 {
			age = g.days(7, 14) // of school age: the school or the clinic knows the family
		}
		ages = append(ages, age)
	}
	oldest := slices.Max(append([]int{0}, ages...))
	youngest := slices.Min(append([]int{99}, ages...))
	// Parents are 19 to 42 years older than their children.
	age := min(max(g.days(24, 50), oldest+g.days(19, 26)), youngest+42)
	given := demoMaleNames
	if female {
		given = demoFemaleNames
	}
	applicant := domain.Person{PersonID: demoID("person", key, "1"), Name: g.person(female, surname, given), BirthDate: g.birth(opened, age), Relation: domain.RelationApplicant}
	household := []domain.Person{applicant}
	withPartner := prof.partner
	if !withPartner && !prof.single {
		withPartner = g.r.IntN(2) == 0
	}
	if withPartner {
		rel := domain.RelationSpouse
		if g.r.IntN(3) == 0 {
			rel = domain.RelationPartner
		}
		pgiven := demoFemaleNames
		if female {
			pgiven = demoMaleNames
		}
		household = append(household, domain.Person{PersonID: demoID("person", key, "2"), Name: g.person(!female, surname, pgiven),
			BirthDate: g.birth(opened, age+g.days(-3, 4)), Relation: rel})
	}
	for c, a := range ages {
		girl := g.r.IntN(2) == 0
		names := demoBoys
		if girl {
			names = demoGirls
		}
		household = append(household, domain.Person{PersonID: demoID("person", key, fmt.Sprint(c+3)), Name: g.person(girl, surname, names),
			BirthDate: g.birth(opened, a), Relation: domain.RelationChild})
	}
	if g.r.IntN(8) == 0 {
		household = append(household, domain.Person{PersonID: demoID("person", key, "9"), Name: g.person(true, surname, demoFemaleNames),
			BirthDate: g.birth(opened, age+g.days(21, 30)), Relation: domain.RelationParent})
	}

	// The team: the coordinator and a worker for each role the partnership
	// can fill.
	coord = pool.coordinators[g.r.IntN(len(pool.coordinators))]
	coordRef := demoMember{slot: coord}.ref()
	for _, role := range demoAvailable(prof, pool) {
		slots := pool.roles[role]
		members = append(members, demoMember{role: role, slot: slots[g.r.IntN(len(slots))]})
	}
	// The first families of the first partnership with a contract in
	// force go to the demo users: the coordinator leads them and the
	// school worker is on their teams.
	if stage == 7 && p.slug == demoPartnerships[0].slug && g.shown < 3 {
		g.shown++
		coord = pool.coordinators[0]
		coordRef = demoMember{slot: coord}.ref()
		for i, m := range members {
			if m.role == "szkola" {
				members[i].slot = pool.roles["szkola"][0]
			}
		}
	}
	referrer := demoID("institution", p.leader)
	for _, role := range slices.Backward(prof.referrers) {
		if i := slices.IndexFunc(members, func(m demoMember) bool { return m.role == role }); i >= 0 {
			referrer = demoID("institution", members[i].slot.inst)
		}
	}
	address := fmt.Sprintf("%s %d/%d, %s", g.pick(demoStreets), g.days(1, 60), g.days(1, 40), p.municipality)
	add(opened, "open", domain.OpenFamilyCase{FamilyID: fid, PartnershipID: demoID("partnership", p.slug), Household: household, Address: address,
		Referral: domain.ReferralSource{InstitutionID: referrer, Reason: prof.referral}, Coordinator: coordRef, OpenedOn: opened},
		"przyjęcie rodziny do wsparcia w modelu Kooperacje 3D")
	if stage == 1 {
		return g.finish(key, opened, steps)
	}

	// Consents for every institution on the team but the coordinator's,
	// which runs the case by statute; the court probation service works on
	// the court's order.
	cons := addDays(opened, g.days(2, 10))
	// Consents last two years, but those of families whose contract is
	// still in force were given for the whole cooperation.
	expires := addMonths(cons, 24)
	if stage == 7 {
		expires = domain.Date{}
	}
	demoConsents(add, fid, key, coord, members, applicant.PersonID, cons, expires)
	// Some families give a consent they later withdraw, for an institution
	// not on their team.
	if g.withdraw++; g.withdraw%3 == 1 {
		if extra := demoExtra(p, members, coord); extra != "" {
			id := demoID("consent", key, extra)
			add(cons, "consent/"+extra, domain.GiveConsent{FamilyID: fid, ConsentID: id, InstitutionID: demoID("institution", extra),
				Categories: []domain.DataCategory{domain.DataBasic}, Purpose: "Informacja o ofercie wsparcia dla rodziny",
				LegalBasis: "Zgoda: art. 6 ust. 1 lit. a RODO", GivenBy: applicant.PersonID, GivenOn: cons},
				"zgoda wnioskodawcy na przekazanie danych kontaktowych")
			w := addDays(cons, g.days(10, 30))
			add(w, "withdraw/"+extra, domain.WithdrawConsent{FamilyID: fid, ConsentID: id, WithdrawnOn: w},
				"Wnioskodawca wycofał zgodę: rodzina nie chce korzystać z oferty tej instytucji.")
		}
	}
	if stage == 2 {
		return g.finish(key, opened, steps)
	}

	// The diagnosis of needs: the coordinator's view and each sector's.
	last := addDays(cons, g.days(3, 10))
	add(last, "input/coordinator", domain.RecordDiagnosisInput{FamilyID: fid, Area: domain.AreaIncome, Severity: g.severity(),
		Needs: "Niewystarczający dochód rodziny; korzystanie ze świadczeń pomocy społecznej.", Strengths: "Rodzina współpracuje z pracownikiem socjalnym.",
		WorkerID: coordRef.WorkerID, InstitutionID: coordRef.InstitutionID, Date: last}, "wywiad środowiskowy i diagnoza potrzeb")
	inputs := members
	if stage == 3 {
		inputs = members[:min(len(members), 1+g.r.IntN(2))]
	}
	for i, m := range inputs {
		last = addDays(last, g.days(3, 10))
		role := demoRoles[m.role]
		ref := m.ref()
		add(last, fmt.Sprintf("input/%d", i+1), domain.RecordDiagnosisInput{FamilyID: fid, Area: role.area, Severity: g.severity(), Needs: role.needs,
			Strengths: role.strengths, WorkerID: ref.WorkerID, InstitutionID: ref.InstitutionID, Date: last}, "wkład sektora do diagnozy potrzeb")
	}
	if stage == 3 {
		return g.finish(key, opened, steps)
	}
	diagnosed := addDays(last, g.days(3, 10))
	add(diagnosed, "diagnosis", domain.CompleteDiagnosis{FamilyID: fid, Date: diagnosed, Summary: prof.summary}, "diagnoza potrzeb zakończona")
	if stage == 4 {
		return g.finish(key, opened, steps)
	}

	// The task team and its first meeting.
	formed := addDays(diagnosed, g.days(3, 10))
	team := []domain.WorkerRef{}
	attendees := []string{coordRef.WorkerID}
	for _, m := range members {
		ref := m.ref()
		if !slices.ContainsFunc(team, func(o domain.WorkerRef) bool { return o.WorkerID == ref.WorkerID }) {
			team = append(team, ref)
			attendees = append(attendees, ref.WorkerID)
		}
	}
	add(formed, "team", domain.FormTeam{FamilyID: fid, Date: formed, Members: team}, "powołanie Zadaniowego Zespołu Kooperacyjnego")
	met := addDays(formed, g.days(1, 7))
	add(met, "meeting/1", domain.RecordTeamMeeting{FamilyID: fid, MeetingID: demoID("team-meeting", key, "1"), Date: met, Attendees: attendees,
		Decisions: []string{"Przyjęcie wyników diagnozy potrzeb", "Podział zadań między kooperantów"},
		NextSteps: []string{"Przygotowanie projektu kontraktu socjalnego z rodziną"}}, "protokół spotkania ZZK")
	if pool.assistant != nil && stage >= 6 {
		if g.assist++; g.assist%2 == 1 {
			a := demoMember{slot: *pool.assistant}.ref()
			add(addDays(met, 1), "team/assistant", domain.AddTeamMember{FamilyID: fid, WorkerRef: a, Date: addDays(met, 1)},
				"włączenie asystenta rodziny do zespołu")
			attendees = append(attendees, a.WorkerID)
		}
	}
	limit := demoToday // the last day referrals may move on
	if stage == 5 {
		g.referrals(add, fid, key, p, members, met, limit)
		return g.finish(key, opened, steps)
	}

	// The social contract.
	drafted := addDays(met, g.days(5, 14))
	signed := addDays(drafted, g.days(3, 12))
	// Contracts still in force on the demo's today run a year; those that
	// end before it run six or nine months.
	months := map[int]int{6: 12, 7: 12, 8: 12, 11: 6}[stage]
	if months == 0 {
		months = 6
		if g.r.IntN(2) == 0 && addMonths(signed, 9).Before(domain.NewDate(2021, 5, 1)) {
			months = 9
		}
	}
	terms = domain.ContractTerms{Variant: prof.variant, Assessment: prof.assessment, MainGoal: prof.mainGoal,
		ClientDuties: prof.clientDuties,
		CoordinatorDuties: "Udzielanie wsparcia i poradnictwa, koordynacja działań kooperantów, monitorowanie realizacji kontraktu " +
			"i spotkania z rodziną nie rzadziej niż raz w miesiącu.",
		StartDate: signed, EndDate: addMonths(signed, months)}
	for i, goal := range prof.goals {
		terms.Goals = append(terms.Goals, domain.Goal{ID: fmt.Sprintf("g%d", i+1), Description: goal})
	}
	terms.Actions = append(terms.Actions, domain.Action{GoalID: prof.clientGoal, Description: prof.clientAction, Responsible: domain.Party{Kind: domain.PartyClient}})
	for i, m := range members {
		role := demoRoles[m.role]
		a := domain.Action{GoalID: fmt.Sprintf("g%d", i%2+1), Description: role.action, Area: role.area,
			Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: demoID("institution", m.slot.inst)}}
		if m.slot.service != "" {
			a.ServiceID = demoID("service", p.slug, m.slot.inst, m.slot.service)
		}
		terms.Actions = append(terms.Actions, a)
	}
	terms.Actions = append(terms.Actions, domain.Action{GoalID: "g2", Description: "Pomoc w uzyskaniu świadczeń i monitorowanie realizacji kontraktu",
		Responsible: domain.Party{Kind: domain.PartyCoordinator}})
	period := daysBetween(signed, terms.EndDate)
	step := min(period/(len(terms.Actions)+1), 40)
	for i, j := range g.r.Perm(len(terms.Actions)) {
		a := &terms.Actions[j]
		a.ID = fmt.Sprintf("a%d", j+1)
		a.Deadline = minDate(addDays(signed, step*(i+1)+g.days(0, 6)), addDays(terms.EndDate, -1))
	}
	add(drafted, "contract/draft", domain.DraftContract{FamilyID: fid, ContractTerms: terms}, "projekt kontraktu socjalnego uzgodniony w ZZK")
	if stage == 6 {
		g.referrals(add, fid, key, p, members, met, limit)
		return g.finish(key, opened, steps)
	}
	add(signed, "contract/sign", domain.SignContract{FamilyID: fid, Date: signed, ClientID: applicant.PersonID}, "podpisanie kontraktu socjalnego")
	from := map[string]domain.Date{}
	for _, a := range terms.Actions {
		from[a.ID] = signed
	}

	// Review, amendment, extension.
	cursor := signed
	if stage >= 8 {
		reviewed := addDays(signed, g.days(80, 100))
		met2 := addDays(reviewed, -g.days(2, 6))
		add(met2, "meeting/2", domain.RecordTeamMeeting{FamilyID: fid, MeetingID: demoID("team-meeting", key, "2"),
			Date: met2, Attendees: attendees, Decisions: []string{"Ocena realizacji działań kontraktu"},
			NextSteps: []string{"Przegląd kontraktu z rodziną"}}, "protokół spotkania ZZK")
		add(reviewed, "contract/review/1", domain.ReviewContract{FamilyID: fid, Date: reviewed,
			Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.PartiallyAchieved}, {GoalID: "g2", Achievement: []domain.Achievement{domain.NotAchieved, domain.PartiallyAchieved}[g.r.IntN(2)]}},
			Notes: "Przegląd kontraktu: część działań zrealizowana, rodzina współpracuje z zespołem."}, "okresowy przegląd kontraktu")
		cursor = reviewed
		variant := -1
		if stage == 8 {
			variant = g.amend % 3
			g.amend++
		} else if g.r.IntN(3) == 0 {
			variant = 0
		}
		if variant == 1 || variant == 2 {
			extended := addDays(cursor, g.days(10, 30))
			terms.EndDate = addMonths(terms.EndDate, 3)
			add(extended, "contract/extend", domain.ExtendContract{FamilyID: fid, EndDate: terms.EndDate},
				"Przedłużenie kontraktu o trzy miesiące: działania wymagają więcej czasu, niż zakładano.")
			cursor = extended
		}
		if variant == 0 || variant == 2 {
			amended := addDays(cursor, g.days(7, 20))
			terms.Actions = slices.Clone(terms.Actions)
			id := fmt.Sprintf("a%d", len(terms.Actions)+1)
			terms.Actions = append(terms.Actions, domain.Action{ID: id, GoalID: "g2",
				Description: "Udział rodziny w konsultacjach specjalistycznych uzgodnionych na przeglądzie kontraktu",
				Responsible: domain.Party{Kind: domain.PartyClient}, Deadline: minDate(addDays(amended, 45), addDays(terms.EndDate, -1))})
			from[id] = amended
			add(amended, "contract/amend", domain.DraftContract{FamilyID: fid, ContractTerms: terms, SignedOn: amended,
				Changes: "Dodano działanie " + id + ": konsultacje specjalistyczne dla rodziny."}, "Aneks po przeglądzie kontraktu: potrzeba dodatkowego wsparcia.")
			cursor = amended
		}
	}

	// Progress on the actions, and the end.
	if stage <= 8 {
		g.actions(add, fid, terms, from, demoToday, "in_force")
		g.referrals(add, fid, key, p, members, met, limit)
		return g.finish(key, opened, steps)
	}
	ends := demoEndings[stage]
	end := ends[g.endings[stage]%len(ends)]
	g.endings[stage]++
	var ended domain.Date
	if end.ending == domain.EndingGoalsMet {
		ended = maxDate(addDays(cursor, 14), addDays(terms.EndDate, -g.days(0, 10)))
		final := addDays(ended, -g.days(2, 6))
		add(final, "contract/review/final", domain.ReviewContract{FamilyID: fid, Date: final,
			Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.Achieved}, {GoalID: "g2", Achievement: domain.Achieved}},
			Notes: "Przegląd końcowy: cele kontraktu osiągnięte."}, "przegląd końcowy kontraktu")
	} else {
		ended = addDays(cursor, g.days(15, 45))
	}
	mode := map[domain.Ending]string{domain.EndingGoalsMet: "goals_met", domain.EndingClientBroke: "broke"}[end.ending]
	g.actions(add, fid, terms, from, ended, mode)
	if stage == 9 && len(attendees) >= 4 {
		// A sector whose part is done leaves the team before the end.
		add(ended, "team/leave", domain.RemoveTeamMember{FamilyID: fid, WorkerID: attendees[len(attendees)-1], Date: ended},
			"Zakończenie udziału w zespole: zadania instytucji w kontrakcie zrealizowane.")
	}
	add(ended, "contract/end", domain.EndContract{FamilyID: fid, Date: ended, Ending: end.ending, Sanction: end.sanction}, end.reason)
	if stage == 9 {
		g.referrals(add, fid, key, p, members, met, limit)
		return g.finish(key, opened, steps)
	}
	closed := addDays(ended, g.days(5, 30))
	add(closed, "close", domain.CloseCase{FamilyID: fid, Date: closed, Outcome: end.outcome}, end.close)
	g.referrals(add, fid, key, p, members, met, addDays(closed, -1))
	if stage == 10 {
		return g.finish(key, opened, steps)
	}
	reopened := addDays(closed, g.days(30, 90))
	add(reopened, "reopen", domain.ReopenCase{FamilyID: fid, Date: reopened}, prof.reopen)
	again := addDays(reopened, g.days(5, 15))
	add(again, "round/2/input/coordinator", domain.RecordDiagnosisInput{FamilyID: fid, Area: domain.AreaIncome, Severity: domain.SeverityHigh,
		Needs: "Ponowne pogorszenie sytuacji materialnej rodziny.", WorkerID: coordRef.WorkerID, InstitutionID: coordRef.InstitutionID, Date: again},
		"ponowna diagnoza potrzeb po wznowieniu sprawy")
	if len(members) > 0 {
		m := members[0]
		ref := m.ref()
		d := addDays(again, g.days(3, 10))
		add(d, "round/2/input/1", domain.RecordDiagnosisInput{FamilyID: fid, Area: demoRoles[m.role].area, Severity: g.severity(), Needs: demoRoles[m.role].needs,
			WorkerID: ref.WorkerID, InstitutionID: ref.InstitutionID, Date: d}, "wkład sektora do ponownej diagnozy potrzeb")
	}
	return g.finish(key, opened, steps)
}

func (g *demoGen) severity() domain.Severity {
	return []domain.Severity{domain.SeverityMedium, domain.SeverityHigh, domain.SeverityHigh, domain.SeverityCritical, domain.SeverityLow}[g.r.IntN(5)]
}

// demoExtra returns a member institution of the partnership that is
// neither the coordinator's nor on the family's team, or "".
func demoExtra(p demoPartnership, members []demoMember, coord demoSlot) string {
	for _, slug := range append([]string{p.coLeader}, p.members...) {
		if slug == "" || slug == coord.inst || slices.ContainsFunc(members, func(m demoMember) bool { return m.slot.inst == slug }) {
			continue
		}
		return slug
	}
	return ""
}

// referrals refers the family to one or two basket services of its team's
// institutions after the team's first meeting, taking the outcomes in turn
// (requested, accepted, declined, completed), none after limit.
func (g *demoGen) referrals(add func(domain.Date, string, domain.Command, string), fid, key string, p demoPartnership, members []demoMember, met, limit domain.Date) {
	var services []demoSlot
	for _, m := range members {
		if demoRoles[m.role].refer && m.slot.service != "" && !slices.Contains(services, m.slot) {
			services = append(services, m.slot)
		}
	}
	n := min(len(services), 1+g.r.IntN(2))
	for i, s := range services[:n] {
		requested := addDays(met, g.days(2, 12))
		if limit.Before(requested) {
			return
		}
		rid := demoID("referral", key, s.inst, s.service)
		k := fmt.Sprintf("referral/%d", i+1)
		add(requested, k+"/request", domain.RequestReferral{FamilyID: fid, ReferralID: rid, ServiceID: demoID("service", p.slug, s.inst, s.service),
			Date: requested, Note: "Skierowanie uzgodnione na spotkaniu ZZK"}, "skierowanie do usługi z lokalnego koszyka usług")
		outcome := []domain.ReferralStatus{domain.ReferralCompletedStatus, domain.ReferralDeclinedStatus, domain.ReferralAcceptedStatus,
			domain.ReferralRequestedStatus}[g.referral%4]
		g.referral++
		answered := addDays(requested, g.days(3, 10))
		if outcome == domain.ReferralRequestedStatus || limit.Before(answered) {
			continue
		}
		if outcome == domain.ReferralDeclinedStatus {
			add(answered, k+"/decline", domain.UpdateReferral{FamilyID: fid, ReferralID: rid, Status: domain.ReferralDeclinedStatus, Date: answered},
				demoDeclineReasons[g.referral%len(demoDeclineReasons)])
			continue
		}
		add(answered, k+"/accept", domain.UpdateReferral{FamilyID: fid, ReferralID: rid, Status: domain.ReferralAcceptedStatus, Date: answered}, "przyjęcie rodziny do usługi")
		done := addDays(answered, g.days(30, 90))
		if outcome == domain.ReferralCompletedStatus && !limit.Before(done) {
			add(done, k+"/complete", domain.UpdateReferral{FamilyID: fid, ReferralID: rid, Status: domain.ReferralCompletedStatus, Date: done}, "usługa zrealizowana")
		}
	}
}

// actions records how the contract's actions went up to asOf: in force
// (some done, some missed, some overdue, one under way), or up to the end
// of the contract (mode goals_met, broke, or anything else for a contract
// cut short).
func (g *demoGen) actions(add func(domain.Date, string, domain.Command, string), fid string, terms domain.ContractTerms, from map[string]domain.Date, asOf domain.Date, mode string) {
	byDeadline := slices.Clone(terms.Actions)
	slices.SortStableFunc(byDeadline, func(a, b domain.Action) int { return a.Deadline.Time().Compare(b.Deadline.Time()) })
	patterns := map[string][]domain.ActionStatus{
		"in_force":  {domain.ActionStatusCompleted, domain.ActionStatusMissed, domain.ActionStatusPlanned, domain.ActionStatusCompleted, domain.ActionStatusStarted},
		"goals_met": {domain.ActionStatusCompleted},
		"broke":     {domain.ActionStatusCompleted, domain.ActionStatusMissed, domain.ActionStatusMissed},
		"":          {domain.ActionStatusCompleted, domain.ActionStatusStarted},
	}
	pattern := patterns[mode]
	past, future := 0, 0
	for _, a := range byDeadline {
		start := addDays(from[a.ID], 1)
		if asOf.Before(start) {
			continue
		}
		status := domain.ActionStatusPlanned
		if a.Deadline.Before(asOf) || mode == "goals_met" {
			status = pattern[past%len(pattern)]
			past++
		} else if future == 0 {
			status = domain.ActionStatusStarted
			future++
		}
		k := "action/" + a.ID
		switch status {
		case domain.ActionStatusStarted:
			d := g.dateIn(start, minDate(a.Deadline, asOf))
			add(d, k+"/start", domain.UpdateAction{FamilyID: fid, ActionID: a.ID, Status: status, Date: d, Note: "Rozpoczęto realizację działania."}, "postęp kontraktu")
		case domain.ActionStatusCompleted:
			d := maxDate(start, minDate(addDays(a.Deadline, -g.days(0, 10)), asOf))
			if a.Responsible.Kind == domain.PartyInstitution && daysBetween(start, d) > 10 {
				s := addDays(start, g.days(2, 8))
				add(s, k+"/start", domain.UpdateAction{FamilyID: fid, ActionID: a.ID, Status: domain.ActionStatusStarted, Date: s}, "postęp kontraktu")
			}
			add(d, k+"/complete", domain.UpdateAction{FamilyID: fid, ActionID: a.ID, Status: status, Date: d, Note: "Działanie zrealizowane."}, "postęp kontraktu")
		case domain.ActionStatusMissed:
			d := addDays(a.Deadline, g.days(1, 7))
			if asOf.Before(d) {
				continue
			}
			note := "Działanie niezrealizowane: klient nie zgłosił się w wyznaczonym terminie."
			if a.Responsible.Kind == domain.PartyInstitution {
				note = "Działanie niezrealizowane w terminie: zajęcia zawieszone z powodu ograniczeń epidemicznych."
			}
			add(d, k+"/miss", domain.UpdateAction{FamilyID: fid, ActionID: a.ID, Status: status, Date: d, Note: note}, "postęp kontraktu")
		}
	}
}

// finish orders a family's steps by business date (steps of one day keep
// the order in which they were decided) and checks that none is before the
// case opened or after the demo's today.
func (g *demoGen) finish(key string, opened domain.Date, steps []demoStep) ([]demoStep, error) {
	slices.SortStableFunc(steps, func(a, b demoStep) int { return a.date.Time().Compare(b.date.Time()) })
	for _, s := range steps {
		if s.date.Before(opened) || demoToday.Before(s.date) {
			return nil, fmt.Errorf("demo family %s: %s on %s is outside %s – %s", key, s.key, s.date, opened, demoToday)
		}
	}
	return steps, nil
}

// demoPedagogueReferral sends the family of pzk-sieradz/08, whose team
// the demo pedagogue is on, to his school's basket service a few days
// before the demo's today, and leaves the referral awaiting his answer:
// the demo worker who signs in has a referral on his task list.
func demoPedagogueReferral(run demoRunAs) error {
	const key = "pzk-sieradz/08"
	coord := demoSlot{inst: "mops-sieradz", worker: "Marta Testowa"}
	d := addDays(demoToday, -5)
	cmd := domain.RequestReferral{FamilyID: demoID("family", key), ReferralID: demoID("referral", key, "pending", "sp1-sieradz"),
		ServiceID: demoID("service", "pzk-sieradz", "sp1-sieradz", "Zajęcia wyrównawcze"), Date: d,
		Note: "Skierowanie uzgodnione z pedagogiem na spotkaniu ZZK"}
	return run("family/"+key+"/referral/pending", demoActor(coord), cmd, d.Time().Add(11*time.Hour), "skierowanie do usługi z lokalnego koszyka usług")
}

// demoConsents records, on day cons, what lets each institution of a
// family's team (other than the coordinator's) see the categories its
// workers need: the family's consent, or for the probation officer the
// court's order; consents expire on expires (zero: never).
func demoConsents(add func(domain.Date, string, domain.Command, string), fid, key string, coord demoSlot, members []demoMember,
	applicantID string, cons, expires domain.Date) {
	var seen []string
	for _, m := range members {
		if m.slot.inst == coord.inst || slices.Contains(seen, m.slot.inst) {
			continue
		}
		seen = append(seen, m.slot.inst)
		cats := []domain.DataCategory{domain.DataBasic}
		for _, o := range members {
			if o.slot.inst == m.slot.inst {
				for _, c := range demoRoles[o.role].categories {
					if !slices.Contains(cats, c) {
						cats = append(cats, c)
					}
				}
			}
		}
		inst := demoID("institution", m.slot.inst)
		if m.role == "kurator" {
			add(cons, "legal-basis/"+m.slot.inst, domain.RecordLegalBasis{FamilyID: fid, InstitutionID: inst, Categories: cats,
				LegalBasis: "Postanowienie sądu rejonowego (wydział rodzinny i nieletnich) o nadzorze kuratora sądowego, art. 109 § 2 pkt 2 KRO", RecordedOn: cons},
				"Rodzina pod nadzorem kuratora ustanowionym przez sąd; wymiana informacji z kuratorem na podstawie postanowienia sądu.")
			continue
		}
		add(cons, "consent/"+m.slot.inst, domain.GiveConsent{FamilyID: fid, ConsentID: demoID("consent", key, m.slot.inst), InstitutionID: inst,
			Categories: cats, Purpose: "Diagnoza potrzeb rodziny i współpraca w Zadaniowym Zespole Kooperacyjnym",
			LegalBasis: "Zgoda: art. 6 ust. 1 lit. a i art. 9 ust. 2 lit. a RODO", GivenBy: applicantID, GivenOn: cons, ExpiresOn: expires},
			"zgoda wnioskodawcy na przekazywanie danych kooperantom")
	}
}
