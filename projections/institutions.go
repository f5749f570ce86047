package projections

import (
	"cmp"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// InstitutionView is an institution as the API shows it.
type InstitutionView struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Sector       domain.Sector   `json:"sector"`
	Municipality string          `json:"municipality"`
	County       string          `json:"county"`
	Address      string          `json:"address,omitempty"`
	Workers      []domain.Worker `json:"workers"`
	Retention    int             `json:"retention_days,omitempty"` // days closed cases are kept
	Version      int64           `json:"version"`
	RegisteredAt time.Time       `json:"registered_at"`
}

// Institutions is the read model of every institution and its workers.
type Institutions struct {
	mu   sync.RWMutex
	byID map[string]*InstitutionView
}

// NewInstitutions returns an empty read model.
func NewInstitutions() *Institutions {
	return &Institutions{byID: map[string]*InstitutionView{}}
}

// Name implements Projection.
func (*Institutions) Name() string { return "institutions" }

// Handles implements Projection.
func (*Institutions) Handles(t string) bool {
	return t == domain.InstitutionRegistered{}.EventType() || t == domain.WorkerRegistered{}.EventType() || t == domain.RetentionSet{}.EventType()
}

// Apply implements Projection.
func (p *Institutions) Apply(env domain.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.byID[env.AggregateID]
	if v != nil && env.AggregateVersion <= v.Version {
		return nil // applied before
	}
	switch e := env.Payload.(type) {
	case domain.InstitutionRegistered:
		p.byID[env.AggregateID] = &InstitutionView{ID: env.AggregateID, Name: e.Name, Sector: e.Sector,
			Municipality: e.Municipality, County: e.County, Address: e.Address, Workers: []domain.Worker{},
			Version: env.AggregateVersion, RegisteredAt: env.RecordedAt}
	case domain.WorkerRegistered:
		if v == nil {
			return nil
		}
		v.Workers = append(v.Workers, domain.Worker{ID: e.WorkerID, Name: e.Name, Position: e.Position})
		v.Version = env.AggregateVersion
	case domain.RetentionSet:
		if v == nil {
			return nil
		}
		v.Retention, v.Version = e.Days, env.AggregateVersion
	}
	return nil
}

// Get returns one institution.
func (p *Institutions) Get(id string) (InstitutionView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	v, ok := p.byID[id]
	if !ok {
		return InstitutionView{}, false
	}
	return v.clone(), true
}

// InstitutionFilter narrows List.
type InstitutionFilter struct {
	Sector       domain.Sector
	Municipality string
}

// List returns the institutions that pass the filter, by name.
func (p *Institutions) List(f InstitutionFilter) []InstitutionView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]InstitutionView, 0, len(p.byID))
	for _, v := range p.byID {
		if (f.Sector == "" || v.Sector == f.Sector) && (f.Municipality == "" || v.Municipality == f.Municipality) {
			out = append(out, v.clone())
		}
	}
	slices.SortFunc(out, func(a, b InstitutionView) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

// Retention returns the retention days of every institution that set one.
func (p *Institutions) Retention() map[string]int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := map[string]int{}
	for id, v := range p.byID {
		if v.Retention > 0 {
			out[id] = v.Retention
		}
	}
	return out
}

// FindWorker returns the institution employing a worker.
func (p *Institutions) FindWorker(workerID string) (InstitutionView, domain.Worker, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, v := range p.byID {
		for _, w := range v.Workers {
			if w.ID == workerID {
				return v.clone(), w, true
			}
		}
	}
	return InstitutionView{}, domain.Worker{}, false
}

func (v *InstitutionView) clone() InstitutionView {
	c := *v
	c.Workers = slices.Clone(v.Workers)
	return c
}

// Snapshot implements Projection.
func (p *Institutions) Snapshot() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return json.Marshal(p.byID)
}

// Restore implements Projection.
func (p *Institutions) Restore(b []byte) error {
	m := map[string]*InstitutionView{}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	p.mu.Lock()
	p.byID = m
	p.mu.Unlock()
	return nil
}
