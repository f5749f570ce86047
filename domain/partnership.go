package domain

import (
	"errors"
	"fmt"
)

// PartnershipInitiated records the initiation of a partnership team (PZK,
// Partnerski Zespół Kooperacyjny) in a municipality, led by an institution
// (usually the social-welfare centre), optionally with a co-leader (often
// the county family-support centre, PCPR).
type PartnershipInitiated struct {
	Name         string `json:"name"`
	Municipality string `json:"municipality"`
	County       string `json:"county"`
	Date         Date   `json:"date"`
	Place        string `json:"place"`
	LeaderID     string `json:"leader_id"`
	CoLeaderID   string `json:"co_leader_id,omitempty"`
}

// MemberJoined records that an institution signed the declaration of
// accession (deklaracja przystąpienia) and presented its powers and
// resources. Name and sector are the institution's at the time of joining.
type MemberJoined struct {
	InstitutionID string `json:"institution_id"`
	Name          string `json:"name"`
	Sector        Sector `json:"sector"`
	Date          Date   `json:"date"`
	Signatory     string `json:"signatory,omitempty"`
	Powers        string `json:"powers,omitempty"`    // uprawnienia
	Resources     string `json:"resources,omitempty"` // zasoby i możliwości
}

// ServiceOffered records a service a member offers to the local basket of
// services (lokalny koszyk usług).
type ServiceOffered struct {
	ServiceID     string   `json:"service_id"`
	InstitutionID string   `json:"institution_id"`
	Name          string   `json:"name"`
	Sector        Sector   `json:"sector"`
	Description   string   `json:"description,omitempty"`
	TargetGroups  []string `json:"target_groups,omitempty"`
	Capacity      int      `json:"capacity,omitempty"` // places at a time; 0 means not stated
	Access        string   `json:"access,omitempty"`   // how to access it
}

// ServiceWithdrawn records that a service left the basket.
type ServiceWithdrawn struct {
	ServiceID string `json:"service_id"`
}

// MeetingRecorded records a meeting of the partnership team.
type MeetingRecorded struct {
	MeetingID string      `json:"meeting_id"`
	Kind      MeetingKind `json:"kind"`
	Date      Date        `json:"date"`
	Place     string      `json:"place"`
	Attendees []string    `json:"attendees"` // institution ids of members present
	Guests    []string    `json:"guests,omitempty"`
	Decisions []string    `json:"decisions,omitempty"`
}

// PartnershipFormalized records the formalisation of the partnership.
type PartnershipFormalized struct {
	Date  Date   `json:"date"`
	Place string `json:"place,omitempty"`
}

// MemberLeft records that a member left the partnership.
type MemberLeft struct {
	InstitutionID string `json:"institution_id"`
	Date          Date   `json:"date"`
}

// EventType implements Event.
func (PartnershipInitiated) EventType() string { return "PartnershipInitiated" }

// EventType implements Event.
func (MemberJoined) EventType() string { return "MemberJoined" }

// EventType implements Event.
func (ServiceOffered) EventType() string { return "ServiceOffered" }

// EventType implements Event.
func (ServiceWithdrawn) EventType() string { return "ServiceWithdrawn" }

// EventType implements Event.
func (MeetingRecorded) EventType() string { return "MeetingRecorded" }

// EventType implements Event.
func (PartnershipFormalized) EventType() string { return "PartnershipFormalized" }

// EventType implements Event.
func (MemberLeft) EventType() string { return "MemberLeft" }

func init() {
	register[PartnershipInitiated](AggregatePartnership, 1)
	register[MemberJoined](AggregatePartnership, 1)
	register[ServiceOffered](AggregatePartnership, 1)
	register[ServiceWithdrawn](AggregatePartnership, 1)
	register[MeetingRecorded](AggregatePartnership, 1)
	register[PartnershipFormalized](AggregatePartnership, 1)
	register[MemberLeft](AggregatePartnership, 1)
}

// MeetingKind is the kind of a partnership meeting.
type MeetingKind string

// Meeting kinds of the model.
const (
	MeetingInitiating   MeetingKind = "initiating"   // spotkanie inicjujące
	MeetingFormalising  MeetingKind = "formalising"  // spotkanie formalizujące
	MeetingRegular      MeetingKind = "regular"      // spotkanie PZK
	MeetingConsultation MeetingKind = "consultation" // spotkanie konsultacyjne
)

// MeetingKinds lists the meeting kinds.
var MeetingKinds = []MeetingKind{MeetingInitiating, MeetingFormalising, MeetingRegular, MeetingConsultation}

// Valid reports whether k is one of MeetingKinds.
func (k MeetingKind) Valid() bool {
	for _, v := range MeetingKinds {
		if k == v {
			return true
		}
	}
	return false
}

// InitiatePartnership asks to initiate a partnership team.
type InitiatePartnership struct {
	PartnershipID string `json:"-"`
	Name          string `json:"name"`
	Municipality  string `json:"municipality"`
	County        string `json:"county"`
	Date          Date   `json:"date"`
	Place         string `json:"place"`
	LeaderID      string `json:"leader_id"`
	CoLeaderID    string `json:"co_leader_id,omitempty"`
}

// JoinPartnership asks to record an institution's accession.
type JoinPartnership struct {
	PartnershipID string `json:"-"`
	InstitutionID string `json:"institution_id"`
	Date          Date   `json:"date"`
	Signatory     string `json:"signatory,omitempty"`
	Powers        string `json:"powers,omitempty"`
	Resources     string `json:"resources,omitempty"`
}

// OfferService asks to add a member's service to the basket.
type OfferService struct {
	PartnershipID string   `json:"-"`
	ServiceID     string   `json:"-"`
	InstitutionID string   `json:"institution_id"`
	Name          string   `json:"name"`
	Sector        Sector   `json:"sector,omitempty"` // defaults to the institution's sector
	Description   string   `json:"description,omitempty"`
	TargetGroups  []string `json:"target_groups,omitempty"`
	Capacity      int      `json:"capacity,omitempty"`
	Access        string   `json:"access,omitempty"`
}

// WithdrawService asks to take a service out of the basket.
type WithdrawService struct {
	PartnershipID string `json:"-"`
	ServiceID     string `json:"-"`
}

// RecordMeeting asks to record a meeting of the partnership team.
type RecordMeeting struct {
	PartnershipID string      `json:"-"`
	MeetingID     string      `json:"-"`
	Kind          MeetingKind `json:"kind"`
	Date          Date        `json:"date"`
	Place         string      `json:"place"`
	Attendees     []string    `json:"attendees"`
	Guests        []string    `json:"guests,omitempty"`
	Decisions     []string    `json:"decisions,omitempty"`
}

// FormalizePartnership asks to formalise the partnership.
type FormalizePartnership struct {
	PartnershipID string `json:"-"`
	Date          Date   `json:"date"`
	Place         string `json:"place,omitempty"`
}

// RecordStaffSupport asks to record a form of support for the
// partnership's staff.
type RecordStaffSupport struct {
	PartnershipID string      `json:"-"`
	ActivityID    string      `json:"-"`
	Kind          SupportKind `json:"kind"`
	Date          Date        `json:"date"`
	Topic         string      `json:"topic"`
	Institutions  []string    `json:"institutions"`
	Workers       []string    `json:"workers,omitempty"`
	Hours         float64     `json:"hours,omitempty"`
}

// Target implements Command.
func (c RecordStaffSupport) Target() (string, string) { return AggregatePartnership, c.PartnershipID }

// Validate implements Command.
func (c RecordStaffSupport) Validate() error {
	if err := firstErr(checkID("activity_id", c.ActivityID), SupportKinds.check("kind", c.Kind, true), checkDate("date", c.Date, true), checkText("topic", c.Topic, true, maxName)); err != nil {
		return err
	}
	if len(c.Institutions) == 0 {
		return ErrRequired.With("institutions", "at least one participating institution is required")
	}
	for i, id := range c.Institutions {
		if err := checkID(fmt.Sprintf("institutions[%d]", i), id); err != nil {
			return err
		}
	}
	for i, id := range c.Workers {
		if err := checkID(fmt.Sprintf("workers[%d]", i), id); err != nil {
			return err
		}
	}
	if c.Hours < 0 || c.Hours > 1000 {
		return Invalid("hours", "must be between 0 and 1000")
	}
	return nil
}

// LeavePartnership asks to record that a member leaves. The reason goes in
// the command's Meta, like every decision's reason.
type LeavePartnership struct {
	PartnershipID string `json:"-"`
	InstitutionID string `json:"-"`
	Date          Date   `json:"date"`
}

// Target implements Command.
func (c InitiatePartnership) Target() (string, string) { return AggregatePartnership, c.PartnershipID }

// Target implements Command.
func (c JoinPartnership) Target() (string, string) { return AggregatePartnership, c.PartnershipID }

// Target implements Command.
func (c OfferService) Target() (string, string) { return AggregatePartnership, c.PartnershipID }

// Target implements Command.
func (c WithdrawService) Target() (string, string) { return AggregatePartnership, c.PartnershipID }

// Target implements Command.
func (c RecordMeeting) Target() (string, string) { return AggregatePartnership, c.PartnershipID }

// Target implements Command.
func (c FormalizePartnership) Target() (string, string) { return AggregatePartnership, c.PartnershipID }

// Target implements Command.
func (c LeavePartnership) Target() (string, string) { return AggregatePartnership, c.PartnershipID }

// Validate implements Command.
func (c InitiatePartnership) Validate() error {
	err := firstErr(
		checkText("name", c.Name, true, maxName),
		checkText("municipality", c.Municipality, true, maxName),
		checkText("county", c.County, true, maxName),
		checkDate("date", c.Date, true),
		checkText("place", c.Place, false, maxName),
		checkID("leader_id", c.LeaderID),
	)
	if err == nil && c.CoLeaderID != "" {
		err = checkID("co_leader_id", c.CoLeaderID)
		if err == nil && c.CoLeaderID == c.LeaderID {
			err = Invalid("co_leader_id", "the co-leader must be another institution than the leader")
		}
	}
	return err
}

// Validate implements Command.
func (c JoinPartnership) Validate() error {
	return firstErr(
		checkID("institution_id", c.InstitutionID),
		checkDate("date", c.Date, true),
		checkText("signatory", c.Signatory, false, maxName),
		checkText("powers", c.Powers, false, maxText),
		checkText("resources", c.Resources, false, maxText),
	)
}

// Validate implements Command.
func (c OfferService) Validate() error {
	err := firstErr(
		checkID("service_id", c.ServiceID),
		checkID("institution_id", c.InstitutionID),
		checkText("name", c.Name, true, maxName),
		checkText("description", c.Description, false, maxText),
		checkList("target_groups", c.TargetGroups, maxName),
		checkText("access", c.Access, false, maxText),
	)
	if err == nil && c.Sector != "" && !c.Sector.Valid() {
		err = Invalid("sector", "%q is not a sector; use one of %v", c.Sector, Sectors)
	}
	if err == nil && (c.Capacity < 0 || c.Capacity > 1_000_000) {
		err = Invalid("capacity", "must be between 0 and 1000000")
	}
	return err
}

// Validate implements Command.
func (c WithdrawService) Validate() error { return checkID("service_id", c.ServiceID) }

// Validate implements Command.
func (c RecordMeeting) Validate() error {
	if !c.Kind.Valid() {
		if c.Kind == "" {
			return ErrRequired.With("kind", "is required")
		}
		return Invalid("kind", "%q is not a meeting kind; use one of %v", c.Kind, MeetingKinds)
	}
	if err := checkID("meeting_id", c.MeetingID); err != nil {
		return err
	}
	if len(c.Attendees) == 0 {
		return ErrRequired.With("attendees", "at least one attending member is required")
	}
	seen := map[string]bool{}
	for i, a := range c.Attendees {
		f := fmt.Sprintf("attendees[%d]", i)
		if err := checkID(f, a); err != nil {
			return err
		}
		if seen[a] {
			return Invalid(f, "institution %s is listed twice", a)
		}
		seen[a] = true
	}
	return firstErr(
		checkDate("date", c.Date, true),
		checkText("place", c.Place, true, maxName),
		checkList("guests", c.Guests, maxName),
		checkList("decisions", c.Decisions, maxText),
	)
}

// Validate implements Command.
func (c FormalizePartnership) Validate() error {
	return firstErr(checkDate("date", c.Date, true), checkText("place", c.Place, false, maxName))
}

// Validate implements Command.
func (c LeavePartnership) Validate() error {
	return firstErr(checkID("institution_id", c.InstitutionID), checkDate("date", c.Date, true))
}

// institutionRef loads an institution named in a command's field.
func institutionRef(facts Facts, field, id string) (*Institution, error) {
	inst, err := facts.Institution(id)
	if errors.Is(err, ErrInstitutionNotFound) {
		return nil, ErrInstitutionNotFound.With(field, "institution %s does not exist", id)
	}
	return inst, err
}

// Member is an institution's membership of a partnership.
type Member struct {
	InstitutionID string `json:"institution_id"`
	Name          string `json:"name"`
	Sector        Sector `json:"sector"`
	JoinedOn      Date   `json:"joined_on"`
	Signatory     string `json:"signatory,omitempty"`
	Powers        string `json:"powers,omitempty"`
	Resources     string `json:"resources,omitempty"`
	Left          bool   `json:"left"`
	LeftOn        Date   `json:"left_on,omitzero"`
	LeaveReason   string `json:"leave_reason,omitempty"`
}

// Service is a service of the local basket.
type Service struct {
	ServiceOffered
	Withdrawn bool `json:"withdrawn"`
}

// Partnership is the aggregate of one partnership team (PZK): its members,
// its basket of services and its meetings.
type Partnership struct {
	ID         string
	Version    int64
	Initiated  PartnershipInitiated
	Members    map[string]*Member
	Services   map[string]*Service
	Meetings   int
	Formalized *PartnershipFormalized
}

// Exists reports whether the partnership has been initiated.
func (p *Partnership) Exists() bool { return p.Version > 0 }

// IsMember reports whether the institution is a current member.
func (p *Partnership) IsMember(institutionID string) bool {
	m := p.Members[institutionID]
	return m != nil && !m.Left
}

// Evolve implements State.
func (p *Partnership) Evolve(env Envelope) error {
	if p.Members == nil {
		p.Members = map[string]*Member{}
		p.Services = map[string]*Service{}
	}
	switch e := env.Payload.(type) {
	case PartnershipInitiated:
		p.ID = env.AggregateID
		p.Initiated = e
	case MemberJoined:
		p.Members[e.InstitutionID] = &Member{InstitutionID: e.InstitutionID, Name: e.Name, Sector: e.Sector,
			JoinedOn: e.Date, Signatory: e.Signatory, Powers: e.Powers, Resources: e.Resources}
	case ServiceOffered:
		p.Services[e.ServiceID] = &Service{ServiceOffered: e}
	case ServiceWithdrawn:
		if s := p.Services[e.ServiceID]; s != nil {
			s.Withdrawn = true
		}
	case MeetingRecorded:
		p.Meetings++
	case PartnershipFormalized:
		f := e
		p.Formalized = &f
	case MemberLeft:
		if m := p.Members[e.InstitutionID]; m != nil {
			m.Left, m.LeftOn, m.LeaveReason = true, e.Date, env.Reason
		}
	case StaffSupportRecorded:
	default:
		return fmt.Errorf("partnership %s: %w", env.AggregateID, unexpected(env))
	}
	p.Version = env.AggregateVersion
	return nil
}

// Decide implements State.
func (p *Partnership) Decide(cmd Command, meta Meta, facts Facts) ([]Event, error) {
	if _, ok := cmd.(InitiatePartnership); !ok && !p.Exists() {
		_, id := cmd.Target()
		return nil, ErrPartnershipNotFound.With("", "partnership %s does not exist", id)
	}
	switch c := cmd.(type) {
	case InitiatePartnership:
		return p.initiate(c, facts)
	case JoinPartnership:
		if p.IsMember(c.InstitutionID) {
			return nil, ErrAlreadyMember.With("institution_id", "institution %s is already a member", c.InstitutionID)
		}
		if err := p.notBefore("date", c.Date); err != nil {
			return nil, err
		}
		i, err := institutionRef(facts, "institution_id", c.InstitutionID)
		if err != nil {
			return nil, err
		}
		return []Event{MemberJoined{InstitutionID: i.ID, Name: i.Name, Sector: i.Sector, Date: c.Date,
			Signatory: c.Signatory, Powers: c.Powers, Resources: c.Resources}}, nil
	case OfferService:
		m, err := p.member("institution_id", c.InstitutionID)
		if err != nil {
			return nil, err
		}
		if p.Services[c.ServiceID] != nil {
			return nil, ErrServiceExists.With("service_id", "service %s is already in the basket", c.ServiceID)
		}
		sector := c.Sector
		if sector == "" {
			sector = m.Sector
		}
		return []Event{ServiceOffered{ServiceID: c.ServiceID, InstitutionID: c.InstitutionID, Name: c.Name, Sector: sector,
			Description: c.Description, TargetGroups: c.TargetGroups, Capacity: c.Capacity, Access: c.Access}}, nil
	case WithdrawService:
		s := p.Services[c.ServiceID]
		if s == nil || s.Withdrawn {
			return nil, ErrServiceNotFound.With("", "service %s is not in the basket", c.ServiceID)
		}
		return []Event{ServiceWithdrawn{ServiceID: c.ServiceID}}, nil
	case RecordMeeting:
		for i, a := range c.Attendees {
			m, err := p.member(fmt.Sprintf("attendees[%d]", i), a)
			if err != nil {
				return nil, err
			}
			if err := orderedAfter(fmt.Sprintf("attendees[%d]", i), c.Date, m.JoinedOn, "the institution joined"); err != nil {
				return nil, err
			}
		}
		if err := p.notBefore("date", c.Date); err != nil {
			return nil, err
		}
		return []Event{MeetingRecorded{MeetingID: c.MeetingID, Kind: c.Kind, Date: c.Date, Place: c.Place,
			Attendees: c.Attendees, Guests: c.Guests, Decisions: c.Decisions}}, nil
	case FormalizePartnership:
		return p.formalize(c)
	case LeavePartnership:
		return p.leave(c, meta)
	case RecordStaffSupport:
		for i, id := range c.Institutions {
			m, err := p.member(fmt.Sprintf("institutions[%d]", i), id)
			if err != nil {
				return nil, err
			}
			if err := orderedAfter(fmt.Sprintf("institutions[%d]", i), c.Date, m.JoinedOn, "the institution joined"); err != nil {
				return nil, err
			}
		}
		if err := p.notBefore("date", c.Date); err != nil {
			return nil, err
		}
		return []Event{StaffSupportRecorded{ActivityID: c.ActivityID, Kind: c.Kind, Date: c.Date, Topic: c.Topic,
			Institutions: c.Institutions, Workers: c.Workers, Hours: c.Hours}}, nil
	}
	return nil, unexpectedCommand(cmd)
}

func (p *Partnership) initiate(c InitiatePartnership, facts Facts) ([]Event, error) {
	if p.Exists() {
		return nil, ErrAlreadyExists.With("", "partnership %s already exists", c.PartnershipID)
	}
	leader, err := institutionRef(facts, "leader_id", c.LeaderID)
	if err != nil {
		return nil, err
	}
	events := []Event{
		PartnershipInitiated{Name: c.Name, Municipality: c.Municipality, County: c.County, Date: c.Date,
			Place: c.Place, LeaderID: c.LeaderID, CoLeaderID: c.CoLeaderID},
		MemberJoined{InstitutionID: leader.ID, Name: leader.Name, Sector: leader.Sector, Date: c.Date},
	}
	if c.CoLeaderID != "" {
		co, err := institutionRef(facts, "co_leader_id", c.CoLeaderID)
		if err != nil {
			return nil, err
		}
		events = append(events, MemberJoined{InstitutionID: co.ID, Name: co.Name, Sector: co.Sector, Date: c.Date})
	}
	return events, nil
}

func (p *Partnership) formalize(c FormalizePartnership) ([]Event, error) {
	if p.Formalized != nil {
		return nil, ErrAlreadyFormalized.With("", "partnership was formalised on %s", p.Formalized.Date)
	}
	if err := p.notBefore("date", c.Date); err != nil {
		return nil, err
	}
	leader := p.Members[p.Initiated.LeaderID]
	if leader == nil || leader.Left {
		return nil, ErrFormalizeNeedsSectors.With("", "the leader is not a member")
	}
	for _, m := range p.Members {
		if !m.Left && m.Sector != leader.Sector {
			return []Event{PartnershipFormalized{Date: c.Date, Place: c.Place}}, nil
		}
	}
	return nil, ErrFormalizeNeedsSectors.With("", "all members are of the %s sector; at least one other sector must join first", leader.Sector)
}

func (p *Partnership) leave(c LeavePartnership, meta Meta) ([]Event, error) {
	if _, err := p.member("institution_id", c.InstitutionID); err != nil {
		return nil, err
	}
	if c.InstitutionID == p.Initiated.LeaderID {
		return nil, ErrLeaderCannotLeave.With("institution_id", "institution %s leads the partnership and cannot leave it", c.InstitutionID)
	}
	if err := checkText("reason", meta.Reason, true, maxText); err != nil {
		return nil, err
	}
	if err := p.notBefore("date", c.Date); err != nil {
		return nil, err
	}
	if err := orderedAfter("date", c.Date, p.Members[c.InstitutionID].JoinedOn, "the institution joined"); err != nil {
		return nil, err
	}
	events := []Event{MemberLeft{InstitutionID: c.InstitutionID, Date: c.Date}}
	// A member that leaves takes its services out of the basket, in the
	// same atomic append.
	for _, id := range sortedKeys(p.Services) {
		if s := p.Services[id]; s.InstitutionID == c.InstitutionID && !s.Withdrawn {
			events = append(events, ServiceWithdrawn{ServiceID: id})
		}
	}
	return events, nil
}

func (p *Partnership) member(field, id string) (*Member, error) {
	m := p.Members[id]
	if m == nil || m.Left {
		return nil, ErrNotMember.With(field, "institution %s is not a member of the partnership", id)
	}
	return m, nil
}

func (p *Partnership) notBefore(field string, d Date) error {
	if d.Before(p.Initiated.Date) {
		return ErrDateBeforeInitiation.With(field, "%s is before the partnership was initiated on %s", d, p.Initiated.Date)
	}
	return nil
}
