package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// apiKeyParams is what 'apikey create' needs, resolved from flags.
type apiKeyParams struct {
	DSN       string
	Username  string
	Name      string
	Scopes    []store.Scope
	Job       string        // a job's name or ID; optional
	ExpiresIn time.Duration // 0 for a key that does not expire
}

func apiKeyCreateFlags(getenv getenvFunc) (*flag.FlagSet, func() (apiKeyParams, error)) {
	fs := flag.NewFlagSet("apikey", flag.ContinueOnError)
	dsn := dbFlag(fs, getenv)
	user := fs.String("user", "", "`username` of the user the key acts for (required)")
	name := fs.String("name", "", "`name` of the key, to tell it apart (required)")
	scopes := fs.String("scopes", "", "comma-separated `scopes`: "+scopeList()+" (required)")
	job := fs.String("job", "", "bind an ingest key to the job with this `name or ID`")
	expiresIn := fs.Duration("expires-in", 0, "the key expires after this `duration` (720h is 30 days); default never")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: refserver apikey create --user USER --name NAME --scopes SCOPE[,SCOPE] [--job JOB] [--expires-in DURATION] [--db DSN]

Creates an API key for a user and prints it once: only its hash is stored.
Clients send it as "Authorization: Bearer <key>".

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, func() (apiKeyParams, error) {
		p := apiKeyParams{
			DSN:       dsn(),
			Username:  strings.TrimSpace(*user),
			Name:      strings.TrimSpace(*name),
			Job:       strings.TrimSpace(*job),
			ExpiresIn: *expiresIn,
		}
		switch {
		case p.Username == "":
			return p, errors.New("--user is required")
		case p.Name == "":
			return p, errors.New("--name is required")
		case *scopes == "":
			return p, errors.New("--scopes is required")
		case p.ExpiresIn < 0:
			return p, fmt.Errorf("--expires-in %s: must be positive", p.ExpiresIn)
		}
		for sc := range strings.SplitSeq(*scopes, ",") {
			s := store.Scope(strings.TrimSpace(sc))
			if !s.Valid() {
				return p, fmt.Errorf("--scopes: unknown scope %q: want %s", s, scopeList())
			}
			p.Scopes = append(p.Scopes, s)
		}
		return p, nil
	}
}

func scopeList() string {
	var names []string
	for _, s := range store.ScopeValues() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

func cmdAPIKey(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, resolve := apiKeyCreateFlags(getenv)
	fs.SetOutput(stderr)
	if _, code := parseAction(fs, args, "create"); code >= 0 {
		return code
	}
	p, err := resolve()
	if err != nil {
		return usageErr(fs, "%v", err)
	}
	err = withService(ctx, p.DSN, func(ctx context.Context, svc *backupmgmt.Service) error {
		u, err := svc.Users().GetByUsername(ctx, p.Username)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user named %q", p.Username)
		} else if err != nil {
			return err
		}
		kp := backupmgmt.APIKeyParams{UserID: u.ID, Name: p.Name, Scopes: p.Scopes}
		if p.Job != "" {
			j, err := findJob(ctx, svc, p.Job)
			if err != nil {
				return err
			}
			kp.JobID = j.ID
		}
		if p.ExpiresIn > 0 {
			at := svc.Now().Add(p.ExpiresIn)
			kp.ExpiresAt = &at
		}
		key, text, err := svc.APIKeys().Create(ctx, kp)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(stdout, text.Reveal()); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "Created API key %s (%s) for %s. It is shown only this once; store it now.\n", key.ID, key.Name, u.Username)
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "refserver apikey create: %s\n", secretScrubber(p.DSN)(err.Error()))
		return exitFail
	}
	return exitOK
}

// findJob finds a job by ID, else by name.
func findJob(ctx context.Context, svc *backupmgmt.Service, nameOrID string) (*store.Job, error) {
	j, err := svc.Jobs().Get(ctx, nameOrID)
	if errors.Is(err, store.ErrNotFound) {
		j, err = svc.Jobs().GetByName(ctx, nameOrID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no job with the name or ID %q", nameOrID)
	}
	return j, err
}
