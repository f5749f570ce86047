package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"time"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/polish"
	"github.com/kooperacje/kooperacje/projections"
	"github.com/kooperacje/kooperacje/vault"
)

// cliActor is who a command-line decision is recorded as: the operator's
// login, as an administrator.
func cliActor() domain.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return domain.Actor{UserID: "cli:" + name, Role: domain.RoleAdmin}
}

// openForCLI validates c and opens the store for a one-off command (in
// process only, no listener, so that it never competes with a running
// engine for a port); done closes it.
func openForCLI(ctx context.Context, c *storeConfig) (store *eventstore.Store, keys *vault.Keyring, done func(), err error) {
	if err := c.validate(); err != nil {
		return nil, nil, nil, err
	}
	master, err := c.loadMasterKey()
	if err != nil {
		return nil, nil, nil, err
	}
	if store, keys, err = c.open(ctx, master, nil); err != nil {
		return nil, nil, nil, err
	}
	return store, keys, func() { keys.Close(); store.Close() }, nil
}

// forget erases a family's personal data: kooperacje forget --family ID.
func forget(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c storeConfig
	var family, reason, basis, date string
	fs := oneOffFlags("forget", &c, stderr, "")
	fs.StringVar(&family, "family", "", "id of the family case to erase (required)")
	fs.StringVar(&reason, "reason", "", "why, e.g. the data subject's request of <date> (required)")
	fs.StringVar(&basis, "legal-basis", "", "legal basis, e.g. art. 17 ust. 1 RODO (required)")
	fs.StringVar(&date, "date", "", "date of the decision, YYYY-MM-DD (default today)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := domain.CheckID("family", family); err != nil {
		return usagef("--family: %v", err)
	}
	if reason == "" || basis == "" {
		return usagef("--reason and --legal-basis are required")
	}
	d := projections.Today(time.Now())
	if date != "" {
		var err error
		if d, err = domain.ParseDate(date); err != nil {
			return usagef("--date: %v", err)
		}
	}
	store, keys, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	erased, err := eraseFamily(ctx, &domain.Handler{Store: store}, keys, family, basis, reason, d, cliActor())
	if err != nil {
		return err
	}
	if erased {
		fmt.Fprintf(stdout, "family %s erased: its data key is destroyed\n", family)
	} else {
		fmt.Fprintf(stdout, "family %s was erased already; its data key is gone\n", family)
	}
	return nil
}

// eraseFamily records the erasure and destroys the key; a family erased
// before reports false, and its key is destroyed again in case an earlier
// attempt stopped half-way.
func eraseFamily(ctx context.Context, h *domain.Handler, keys *vault.Keyring, family, basis, reason string, d domain.Date, actor domain.Actor) (bool, error) {
	_, err := h.Execute(ctx, domain.EraseFamily{FamilyID: family, LegalBasis: basis, Date: d}, domain.Meta{Actor: actor, Reason: reason}, domain.AnyVersion)
	already := errors.Is(err, domain.ErrFamilyErased)
	if err != nil && !already {
		return false, fmt.Errorf("erase family %s: %w", family, err)
	}
	if _, err := keys.Erase(ctx, family); err != nil {
		return false, err
	}
	return !already, nil
}

// retention lists the closed families whose institution's retention has
// passed and, with --apply, erases them.
func retention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c storeConfig
	var apply bool
	var asOf string
	fs := oneOffFlags("retention", &c, stderr, "")
	fs.BoolVar(&apply, "apply", false, "erase the families that are due (default: only list them)")
	fs.StringVar(&asOf, "as-of", "", "day to judge by, YYYY-MM-DD (default today)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d := projections.Today(time.Now())
	if asOf != "" {
		var err error
		if d, err = domain.ParseDate(asOf); err != nil {
			return usagef("--as-of: %v", err)
		}
	}
	store, keys, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	inst, fam := projections.NewInstitutions(), projections.NewFamilies()
	if _, err := projections.Replay(ctx, store, projections.Until{}, slog.New(slog.DiscardHandler), inst, fam); err != nil {
		return err
	}
	due := fam.RetentionDue(inst.Retention(), d)
	enc := json.NewEncoder(stdout)
	for _, x := range due {
		status := "due"
		if apply {
			reason := fmt.Sprintf("okres przechowywania %s od zamknięcia sprawy (%s) upłynął %s", polish.Days.Count(x.Days), x.ClosedOn, x.DueOn)
			if _, err := eraseFamily(ctx, &domain.Handler{Store: store}, keys, x.FamilyID, "upływ okresu przechowywania (retencja)", reason, d, cliActor()); err != nil {
				return err
			}
			status = "erased"
		}
		if err := enc.Encode(map[string]any{"family_id": x.FamilyID, "institution_id": x.InstitutionID, "closed_on": x.ClosedOn, "retention_days": x.Days, "due_on": x.DueOn, "status": status}); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "%d families due as of %s\n", len(due), d)
	return nil
}

// keysCmd manages the master key: generate, rotate.
func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("keys: say generate or rotate")
	}
	switch args[0] {
	case "generate":
		if len(args) > 1 {
			return usagef("keys generate takes no arguments")
		}
		_, text := vault.NewMasterKey()
		fmt.Fprintln(stdout, text)
		return nil
	case "rotate":
		var c storeConfig
		var oldFile, newFile string
		fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		c.register(fs, eventstore.ListenOff)
		fs.StringVar(&oldFile, "old-key-file", "", "file with the master key in use (required)")
		fs.StringVar(&newFile, "new-key-file", "", "file with the new master key (required)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if oldFile == "" || newFile == "" {
			return usagef("--old-key-file and --new-key-file are required")
		}
		if err := c.validate(); err != nil {
			return err
		}
		old, err := vault.LoadMasterKey(oldFile, "")
		if err != nil {
			return err
		}
		next, err := vault.LoadMasterKey(newFile, "")
		if err != nil {
			return err
		}
		store, keys, err := c.open(ctx, old, nil)
		if err != nil {
			return err
		}
		defer store.Close()
		defer keys.Close()
		n, err := keys.Rotate(ctx, old, next)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "re-wrapped %d data keys from master key %s to %s; start the engine with the new key\n", n, old.ID(), next.ID())
		return nil
	}
	return usagef("keys: unknown subcommand %q; say generate or rotate", args[0])
}
