package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTheReportNamesIndicatorValuesInPolish(t *testing.T) {
	tests := []struct {
		name string
		path []string
		want string
	}{
		{"a sector of the members", []string{"members_by_sector", "justice"}, "Instytucje członkowskie wg sektora — kuratela sądowa"},
		{"the other sector", []string{"services_by_sector", "other"}, "Usługi w koszyku wg sektora — inne"},
		{"a status of a sector's actions", []string{"actions_by_sector", "ngo", "overdue"}, "Działania wg sektora — organizacje pozarządowe — po terminie"},
		{"the coordinator's own actions", []string{"actions_by_sector", "coordinator", "completed"}, "Działania wg sektora — koordynator — wykonane"},
		{"the client's actions", []string{"actions_by_sector", "client", "open"}, "Działania wg sektora — klient — w toku"},
		{"a goal not achieved", []string{"goals_by_achievement", "not_achieved"}, "Cele wg stopnia osiągnięcia (ostatnia ocena) — nieosiągnięty"},
		{"a case whose goals were not achieved", []string{"case_outcomes", "not_achieved"}, "Zamknięcia spraw wg rezultatu — cele nieosiągnięte"},
		{"a contract broken by the client", []string{"contract_endings", "client_broke"}, "Zakończenia kontraktów wg przyczyny — niedotrzymanie przez klienta"},
		{"a regular partnership meeting", []string{"meetings_by_kind", "regular"}, "Spotkania PZK wg rodzaju — spotkanie PZK"},
		{"a workshop for the staff", []string{"support_by_form", "workshop", "hours"}, "Wsparcie kadr wg formy — warsztaty kooperacyjne — godziny"},
		{"the staff of a ZZK meeting", []string{"support_by_form", "zzk_meeting", "participants"}, "Wsparcie kadr wg formy — spotkanie ZZK — uczestnicy (osoby)"},
		{"the meetings per family per month", []string{"team_meetings_per_family_month"}, "Średnia liczba spotkań ZZK na rodzinę miesięcznie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, polishLabel(tt.path)) })
	}
}
