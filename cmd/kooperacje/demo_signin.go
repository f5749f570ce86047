package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kooperacje/kooperacje/credentials"
	"github.com/kooperacje/kooperacje/domain"
)

// DemoPasswordsFile is where --demo writes the demo users' logins and
// passwords.
const DemoPasswordsFile = "demo-passwords.json"

// demoLogins are the logins of the demo users, by role.
var demoLogins = map[domain.Role]string{
	domain.RoleAdmin:       "admin",
	domain.RoleAnimator:    "ewa.przykladowa",
	domain.RoleCoordinator: "marta.testowa",
	domain.RoleWorker:      "piotr.fikcyjny",
	domain.RoleEvaluator:   "ewaluacja",
	domain.RoleAuditor:     "audytor",
}

// demoSignIn is a demo user's login and password, as written to
// <data>/demo-passwords.json under the user's role.
type demoSignIn struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// demoPassword returns a fresh demo password: three groups of four
// letters and digits, easy to type.
func demoPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	out := make([]byte, 0, 14)
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

// demoPasswords gives each demo user their login in the credentials
// bucket and a password, and writes them to <data>/demo-passwords.json,
// reusing the passwords of an earlier run while they still sign in.
func demoPasswords(ctx context.Context, h *domain.Handler, creds *credentials.Store, dataDir string) (map[string]demoSignIn, error) {
	path := filepath.Join(dataDir, DemoPasswordsFile)
	out := map[string]demoSignIn{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("read %s: %w (delete it to make new demo passwords)", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	for _, u := range demoUsers {
		uid, login := demoID("user", string(u.role)), demoLogins[u.role]
		if err := creds.ReserveLogin(ctx, login, uid); err != nil {
			return nil, fmt.Errorf("demo login %s: %w", login, err)
		}
		// Demo users of a data directory from before logins get theirs.
		system := domain.Meta{Actor: domain.Actor{UserID: uid, Role: domain.RoleSystem}, Reason: "login demonstracyjny"}
		if _, err := h.Execute(ctx, domain.AssignLogin{UserID: uid, Login: login}, system, domain.AnyVersion); err != nil && !errors.Is(err, domain.ErrLoginAssigned) {
			return nil, fmt.Errorf("demo login %s: %w", login, err)
		}
		known := out[string(u.role)]
		if known.Login == login && known.Password != "" {
			if got, ok, err := creds.Verify(ctx, login, known.Password); err != nil {
				return nil, err
			} else if ok && got == uid {
				continue
			}
		}
		password := demoPassword()
		if err := creds.SetPassword(ctx, uid, password, time.Now()); err != nil {
			return nil, fmt.Errorf("demo password of %s: %w", login, err)
		}
		meta := domain.Meta{Actor: domain.Actor{UserID: uid, Role: domain.RoleSystem}, Reason: "hasło demonstracyjne"}
		if _, err := h.Execute(ctx, domain.SetPassword{UserID: uid}, meta, domain.AnyVersion); err != nil {
			return nil, fmt.Errorf("demo password of %s: %w", login, err)
		}
		out[string(u.role)] = demoSignIn{Login: login, Password: password}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileSynced(path, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return out, nil
}

// printDemoSignIns lists the demo logins and passwords, coordinator first.
func printDemoSignIns(w io.Writer, signIns map[string]demoSignIn) {
	roles := make([]string, 0, len(signIns))
	for r := range signIns {
		roles = append(roles, r)
	}
	sort.Slice(roles, func(i, j int) bool {
		a, b := roles[i] == string(domain.RoleCoordinator), roles[j] == string(domain.RoleCoordinator)
		if a != b {
			return a
		}
		return roles[i] < roles[j]
	})
	fmt.Fprintln(w, "  Sign in:    login / password (demo users)")
	for _, r := range roles {
		fmt.Fprintf(w, "              %-12s %-16s %s\n", r, signIns[r].Login, signIns[r].Password)
	}
}
