package projections

import (
	"cmp"
	"slices"
	"sync"

	"github.com/kooperacje/kooperacje/domain"
)

// Stages of a partnership.
const (
	StageInitiated  = "initiated"  // zainicjowany
	StageFormalized = "formalized" // sformalizowany
)

// PartnershipView is a partnership team (PZK) as the API shows it: its
// members, its basket of services and its meetings.
type PartnershipView struct {
	ID           string                        `json:"id"`
	Name         string                        `json:"name"`
	Municipality string                        `json:"municipality"`
	County       string                        `json:"county"`
	InitiatedOn  domain.Date                   `json:"initiated_on"`
	Place        string                        `json:"place,omitempty"`
	LeaderID     string                        `json:"leader_id"`
	CoLeaderID   string                        `json:"co_leader_id,omitempty"`
	Stage        string                        `json:"stage"`
	FormalizedOn domain.Date                   `json:"formalized_on,omitzero"`
	Members      []domain.Member               `json:"members"`
	Services     []ServiceView                 `json:"services"`
	Meetings     []MeetingView                 `json:"meetings"`
	StaffSupport []domain.StaffSupportRecorded `json:"staff_support"` // trainings, coaching, workshops, consultations
	Sectors      []domain.Sector               `json:"sectors"`       // sectors of current members, in domain order
	Version      int64                         `json:"version"`
}

// ServiceView is a service of the local basket (lokalny koszyk usług).
type ServiceView struct {
	domain.ServiceOffered
	InstitutionName string `json:"institution_name"`
	Withdrawn       bool   `json:"withdrawn"`
}

// MeetingView is a recorded meeting.
type MeetingView struct {
	domain.MeetingRecorded
	Note string `json:"note,omitempty"` // the reason stated with the record
}

// PartnershipSummary is one line of the partnership list.
type PartnershipSummary struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	Municipality   string      `json:"municipality"`
	Stage          string      `json:"stage"`
	InitiatedOn    domain.Date `json:"initiated_on"`
	FormalizedOn   domain.Date `json:"formalized_on,omitzero"`
	Members        int         `json:"members"`
	Sectors        int         `json:"sectors"`
	ActiveServices int         `json:"active_services"`
	Meetings       int         `json:"meetings"`
}

// Partnerships is the read model of every partnership.
type Partnerships struct {
	mu   sync.RWMutex
	byID map[string]*PartnershipView
}

// NewPartnerships returns an empty read model.
func NewPartnerships() *Partnerships {
	return &Partnerships{byID: map[string]*PartnershipView{}}
}

// Name implements Projection.
func (*Partnerships) Name() string { return "partnerships" }

var partnershipEvents = map[string]bool{
	domain.PartnershipInitiated{}.EventType():  true,
	domain.MemberJoined{}.EventType():          true,
	domain.ServiceOffered{}.EventType():        true,
	domain.ServiceWithdrawn{}.EventType():      true,
	domain.MeetingRecorded{}.EventType():       true,
	domain.PartnershipFormalized{}.EventType(): true,
	domain.MemberLeft{}.EventType():            true,
	domain.StaffSupportRecorded{}.EventType():  true,
}

// NeedsPersonal implements PersonalData: partnerships are institutions,
// their events hold no personal data of families.
func (*Partnerships) NeedsPersonal() bool { return false }

// Handles implements Projection.
func (*Partnerships) Handles(t string) bool { return partnershipEvents[t] }

// Apply implements Projection.
func (p *Partnerships) Apply(env domain.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.byID[env.AggregateID]
	if v != nil && env.AggregateVersion <= v.Version {
		return nil // applied before
	}
	if e, ok := env.Payload.(domain.PartnershipInitiated); ok {
		p.byID[env.AggregateID] = &PartnershipView{ID: env.AggregateID, Name: e.Name, Municipality: e.Municipality,
			County: e.County, InitiatedOn: e.Date, Place: e.Place, LeaderID: e.LeaderID, CoLeaderID: e.CoLeaderID,
			Stage: StageInitiated, Members: []domain.Member{}, Services: []ServiceView{}, Meetings: []MeetingView{}, StaffSupport: []domain.StaffSupportRecorded{},
			Sectors: []domain.Sector{}, Version: env.AggregateVersion}
		return nil
	}
	if v == nil {
		return nil
	}
	switch e := env.Payload.(type) {
	case domain.MemberJoined:
		m := domain.Member{InstitutionID: e.InstitutionID, Name: e.Name, Sector: e.Sector, JoinedOn: e.Date,
			Signatory: e.Signatory, Powers: e.Powers, Resources: e.Resources}
		if i := v.member(e.InstitutionID); i >= 0 {
			v.Members[i] = m // rejoined after leaving
		} else {
			v.Members = append(v.Members, m)
		}
	case domain.ServiceOffered:
		name := ""
		if i := v.member(e.InstitutionID); i >= 0 {
			name = v.Members[i].Name
		}
		v.Services = append(v.Services, ServiceView{ServiceOffered: e, InstitutionName: name})
	case domain.ServiceWithdrawn:
		for i := range v.Services {
			if v.Services[i].ServiceID == e.ServiceID {
				v.Services[i].Withdrawn = true
			}
		}
	case domain.MeetingRecorded:
		v.Meetings = append(v.Meetings, MeetingView{MeetingRecorded: e, Note: env.Reason})
		slices.SortStableFunc(v.Meetings, func(a, b MeetingView) int { return a.Date.Time().Compare(b.Date.Time()) })
	case domain.PartnershipFormalized:
		v.Stage, v.FormalizedOn = StageFormalized, e.Date
	case domain.StaffSupportRecorded:
		v.StaffSupport = append(v.StaffSupport, e)
	case domain.MemberLeft:
		if i := v.member(e.InstitutionID); i >= 0 {
			v.Members[i].Left, v.Members[i].LeftOn, v.Members[i].LeaveReason = true, e.Date, env.Reason
		}
	}
	v.Sectors = currentSectors(v.Members)
	v.Version = env.AggregateVersion
	return nil
}

func (v *PartnershipView) member(id string) int {
	return slices.IndexFunc(v.Members, func(m domain.Member) bool { return m.InstitutionID == id })
}

func currentSectors(ms []domain.Member) []domain.Sector {
	out := []domain.Sector{}
	for _, s := range domain.Sectors {
		if slices.ContainsFunc(ms, func(m domain.Member) bool { return !m.Left && m.Sector == s }) {
			out = append(out, s)
		}
	}
	return out
}

// Get returns one partnership.
func (p *Partnerships) Get(id string) (PartnershipView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	v, ok := p.byID[id]
	if !ok {
		return PartnershipView{}, false
	}
	c := *v
	c.Members, c.Services, c.Meetings, c.Sectors = slices.Clone(v.Members), slices.Clone(v.Services), slices.Clone(v.Meetings), slices.Clone(v.Sectors)
	c.StaffSupport = slices.Clone(v.StaffSupport)
	return c, true
}

// List returns a summary of every partnership, by name.
func (p *Partnerships) List() []PartnershipSummary {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]PartnershipSummary, 0, len(p.byID))
	for _, v := range p.byID {
		s := PartnershipSummary{ID: v.ID, Name: v.Name, Municipality: v.Municipality, Stage: v.Stage,
			InitiatedOn: v.InitiatedOn, FormalizedOn: v.FormalizedOn, Sectors: len(v.Sectors), Meetings: len(v.Meetings)}
		for _, m := range v.Members {
			if !m.Left {
				s.Members++
			}
		}
		for _, sv := range v.Services {
			if !sv.Withdrawn {
				s.ActiveServices++
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b PartnershipSummary) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

// Snapshot implements Projection.
func (p *Partnerships) Snapshot() ([]byte, error) { return snapshot(&p.mu, p.byID) }

// Restore implements Projection.
func (p *Partnerships) Restore(b []byte) error { return restore(&p.mu, &p.byID, b) }
