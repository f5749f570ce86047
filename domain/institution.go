package domain

import "fmt"

// InstitutionRegistered records a new institution of the local support
// system: a social-welfare centre, a school, a hospital, a court's probation
// team, a police station, an NGO…
type InstitutionRegistered struct {
	Name         string `json:"name"`
	Sector       Sector `json:"sector"`
	Municipality string `json:"municipality"`
	County       string `json:"county"`
	Address      string `json:"address,omitempty"`
}

// WorkerRegistered records a worker employed by an institution: a social
// worker (pracownik socjalny), a probation officer (kurator), a school
// pedagogue (pedagog), a career adviser (doradca zawodowy)…
type WorkerRegistered struct {
	WorkerID string `json:"worker_id"`
	Name     string `json:"name"`
	Position string `json:"position"`
}

// RetentionSet records how long the institution keeps the cases it
// coordinates after they are closed; when that time has passed, the
// family's personal data is erased.
type RetentionSet struct {
	Days int `json:"days"`
}

// EventType implements Event.
func (RetentionSet) EventType() string { return "RetentionSet" }

// EventType implements Event.
func (InstitutionRegistered) EventType() string { return "InstitutionRegistered" }

// EventType implements Event.
func (WorkerRegistered) EventType() string { return "WorkerRegistered" }

func init() {
	register[InstitutionRegistered](AggregateInstitution, 1)
	register[WorkerRegistered](AggregateInstitution, 1)
	register[RetentionSet](AggregateInstitution, 1)
}

// RegisterInstitution asks to register a new institution.
type RegisterInstitution struct {
	InstitutionID string `json:"-"` // assigned by the handler
	Name          string `json:"name"`
	Sector        Sector `json:"sector"`
	Municipality  string `json:"municipality"`
	County        string `json:"county"`
	Address       string `json:"address,omitempty"`
}

// RegisterWorker asks to register a worker at an institution.
type RegisterWorker struct {
	InstitutionID string `json:"institution_id"`
	WorkerID      string `json:"-"` // assigned by the handler
	Name          string `json:"name"`
	Position      string `json:"position"`
}

// SetRetention asks to set how many days closed cases are kept.
type SetRetention struct {
	InstitutionID string `json:"-"`
	Days          int    `json:"days"`
}

// Target implements Command.
func (c SetRetention) Target() (string, string) { return AggregateInstitution, c.InstitutionID }

// Validate implements Command.
func (c SetRetention) Validate() error {
	if c.Days == 0 {
		return ErrRequired.With("days", "is required: how many days closed cases are kept")
	}
	if c.Days < 1 || c.Days > 36500 {
		return Invalid("days", "must be between 1 and 36500, not %d", c.Days)
	}
	return checkID("institution_id", c.InstitutionID)
}

// Target implements Command.
func (c RegisterInstitution) Target() (string, string) { return AggregateInstitution, c.InstitutionID }

// Target implements Command.
func (c RegisterWorker) Target() (string, string) { return AggregateInstitution, c.InstitutionID }

// Validate implements Command.
func (c RegisterInstitution) Validate() error {
	if !c.Sector.Valid() {
		if c.Sector == "" {
			return ErrRequired.With("sector", "is required")
		}
		return Invalid("sector", "%q is not a sector; use one of %v", c.Sector, Sectors)
	}
	return firstErr(
		checkText("name", c.Name, true, maxName),
		checkText("municipality", c.Municipality, true, maxName),
		checkText("county", c.County, true, maxName),
		checkText("address", c.Address, false, maxName),
	)
}

// Validate implements Command.
func (c RegisterWorker) Validate() error {
	return firstErr(
		checkID("institution_id", c.InstitutionID),
		checkID("worker_id", c.WorkerID),
		checkText("name", c.Name, true, maxName),
		checkText("position", c.Position, true, maxName),
	)
}

// Worker is a worker of an institution as the aggregate knows it.
type Worker struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Position string `json:"position"`
}

// Institution is the aggregate of one institution and its workers.
type Institution struct {
	ID           string
	Version      int64
	Name         string
	Sector       Sector
	Municipality string
	County       string
	Address      string
	Workers      []Worker
	Retention    int  // days closed cases are kept; 0: not set
	RegisteredOn Date // the day in Poland of its registration's business time
}

// Exists reports whether the institution has been registered.
func (i *Institution) Exists() bool { return i.Version > 0 }

// Evolve implements State.
func (i *Institution) Evolve(env Envelope) error {
	switch e := env.Payload.(type) {
	case InstitutionRegistered:
		i.ID, i.RegisteredOn = env.AggregateID, DayOf(env.OccurredAt)
		i.Name, i.Sector, i.Municipality, i.County, i.Address = e.Name, e.Sector, e.Municipality, e.County, e.Address
	case WorkerRegistered:
		i.Workers = append(i.Workers, Worker{ID: e.WorkerID, Name: e.Name, Position: e.Position})
	case RetentionSet:
		i.Retention = e.Days
	default:
		return fmt.Errorf("institution %s: %w", env.AggregateID, unexpected(env))
	}
	i.Version = env.AggregateVersion
	return nil
}

// Decide implements State.
func (i *Institution) Decide(cmd Command, _ Meta, _ Facts) ([]Event, error) {
	switch c := cmd.(type) {
	case RegisterInstitution:
		if i.Exists() {
			return nil, ErrAlreadyExists.With("", "institution %s is already registered", c.InstitutionID)
		}
		return []Event{InstitutionRegistered{Name: c.Name, Sector: c.Sector, Municipality: c.Municipality, County: c.County, Address: c.Address}}, nil
	case RegisterWorker:
		if !i.Exists() {
			return nil, ErrInstitutionNotFound.With("institution_id", "institution %s does not exist", c.InstitutionID)
		}
		for _, w := range i.Workers {
			if w.ID == c.WorkerID {
				return nil, ErrWorkerExists.With("", "worker %s is already registered", c.WorkerID)
			}
		}
		return []Event{WorkerRegistered{WorkerID: c.WorkerID, Name: c.Name, Position: c.Position}}, nil
	case SetRetention:
		if !i.Exists() {
			return nil, ErrInstitutionNotFound.With("", "institution %s does not exist", c.InstitutionID)
		}
		if c.Days == i.Retention {
			return nil, ErrAlreadyExists.With("days", "the retention is already %d days", c.Days)
		}
		return []Event{RetentionSet{Days: c.Days}}, nil
	}
	return nil, unexpectedCommand(cmd)
}
