package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// adminUsername is the user serve creates in a database without users.
const adminUsername = "admin"

// ensureAdmin creates the admin user when the database has no user at all,
// with password, or with a generated one-time password printed once on
// stdout when password is empty. Passwords never reach the log.
//
// Replicas that start together may both find no user; the unique username
// lets one create admin and makes the other's create fail with
// store.ErrConflict, which means someone else did it.
func ensureAdmin(ctx context.Context, svc *backupmgmt.Service, password string, stdout io.Writer, log *slog.Logger) error {
	page, err := svc.Users().List(ctx, store.ListUsersParams{PageParams: store.PageParams{Limit: 1}})
	if err != nil {
		return fmt.Errorf("looking for users: %w", err)
	}
	if len(page.Items) > 0 {
		return nil
	}
	generated := password == ""
	if generated {
		if password, err = generatePassword(adminUsername); err != nil {
			return err
		}
	} else if err := security.CheckPassword(password, adminUsername); err != nil {
		return fmt.Errorf("%s does not pass the password policy: %w", envAdminPassword, err)
	}
	u, err := svc.Users().Create(ctx, backupmgmt.UserParams{
		Username: adminUsername,
		FullName: "Administrator",
		Role:     store.RoleAdmin,
		Password: password,
	})
	if errors.Is(err, store.ErrConflict) {
		log.Info("another process created the admin user")
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating the admin user: %w", err)
	}
	source := envAdminPassword
	if generated {
		source = "generated"
	}
	log.Info("created the admin user", "username", u.Username, "user_id", u.ID, "password_source", source)
	if generated {
		_, err = fmt.Fprintf(stdout, "Created the user %q with the one-time password:\n\n    %s\n\n"+
			"It is shown only this once. Sign in and change it now.\n", adminUsername, password)
		if err != nil {
			return fmt.Errorf("printing the admin password: %w", err)
		}
	}
	return nil
}

// generatePassword returns 26 random characters from crypto/rand (130
// bits) that pass the password policy for username.
func generatePassword(username string) (string, error) {
	for range 10 {
		pw := rand.Text()
		if err := security.CheckPassword(pw, username); err == nil {
			return pw, nil
		}
	}
	return "", errors.New("generating a password that passes the policy failed")
}
