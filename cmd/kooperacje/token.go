package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
)

// token issues and revokes bearer tokens:
//
//	kooperacje token create --user ID | --name N --role R [--institution ID] [--worker ID]
//	kooperacje token revoke --user ID --token ID
func token(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "revoke") {
		return usagef("token: say create or revoke")
	}
	var c storeConfig
	var user, name, role, institution, worker, tokenID string
	var expires time.Duration
	fs := oneOffFlags("token "+args[0], &c, stderr, "")
	fs.StringVar(&user, "user", "", "id of an existing user")
	if args[0] == "create" {
		fs.StringVar(&name, "name", "", "name of a new user (instead of --user)")
		fs.StringVar(&role, "role", "", "role of the new user: admin, animator, coordinator, worker, evaluator, auditor")
		fs.StringVar(&institution, "institution", "", "institution the new user acts for")
		fs.StringVar(&worker, "worker", "", "worker the new user acts as (coordinators and workers)")
		fs.DurationVar(&expires, "expires", 0, "lifetime of the token, e.g. 720h (default: no expiry)")
	} else {
		fs.StringVar(&tokenID, "token", "", "id of the token to revoke")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	switch {
	case args[0] == "revoke" && (user == "" || tokenID == ""):
		return usagef("token revoke needs --user and --token")
	case args[0] == "create" && (user == "") == (name == ""):
		return usagef("token create needs --user ID, or --name and --role for a new user")
	case expires < 0:
		return usagef("--expires must not be negative")
	}
	store, _, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	h := &domain.Handler{Store: store}
	meta := domain.Meta{Actor: cliActor(), Reason: "kooperacje token " + args[0]}
	if args[0] == "revoke" {
		if _, err := h.Execute(ctx, domain.RevokeToken{UserID: user, TokenID: tokenID}, meta, domain.AnyVersion); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s of user %s revoked\n", tokenID, user)
		return nil
	}
	if user == "" {
		user = domain.NewID()
		reg := domain.RegisterUser{UserID: user, Name: name, Role: domain.Role(role), InstitutionID: institution, WorkerID: worker}
		if _, err := h.Execute(ctx, reg, meta, 0); err != nil {
			return err
		}
	}
	tok, hash := api.NewToken()
	cmd := domain.IssueToken{UserID: user, TokenID: domain.NewID(), Hash: hash}
	if expires > 0 {
		t := time.Now().UTC().Add(expires)
		cmd.ExpiresAt = &t
	}
	if _, err := h.Execute(ctx, cmd, meta, domain.AnyVersion); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "user %s, token %s (shown once; only its hash is kept)\n", user, cmd.TokenID)
	fmt.Fprintln(stdout, tok)
	return nil
}
