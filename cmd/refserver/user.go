package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// userAddParams is what 'user add' needs, resolved from flags.
type userAddParams struct {
	DSN      string
	Username string
	Role     store.Role
	Email    string
	FullName string
}

func userAddFlags(getenv getenvFunc) (*flag.FlagSet, func() (userAddParams, error)) {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	dsn := dbFlag(fs, getenv)
	username := fs.String("username", "", "the user's `name` for signing in (required)")
	role := fs.String("role", "", "`role`: "+roleList()+" (required)")
	email := fs.String("email", "", "the user's email `address`")
	fullName := fs.String("full-name", "", "the user's full `name`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: refserver user add --username USER --role ROLE [--email EMAIL] [--full-name NAME] [--db DSN]

Adds an active user and prints its ID. The password comes from
`+envUserPassword+` or, when that is unset, from the first line of stdin;
never from a flag, so that it stays out of shell history.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, func() (userAddParams, error) {
		p := userAddParams{
			DSN:      dsn(),
			Username: strings.TrimSpace(*username),
			Role:     store.Role(*role),
			Email:    *email,
			FullName: *fullName,
		}
		switch {
		case p.Username == "":
			return p, errors.New("--username is required")
		case *role == "":
			return p, errors.New("--role is required")
		case !p.Role.Valid():
			return p, fmt.Errorf("--role %q: want %s", *role, roleList())
		}
		return p, nil
	}
}

func roleList() string {
	var names []string
	for _, r := range store.RoleValues() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, resolve := userAddFlags(getenv)
	fs.SetOutput(stderr)
	if _, code := parseAction(fs, args, "add"); code >= 0 {
		return code
	}
	p, err := resolve()
	if err != nil {
		return usageErr(fs, "%v", err)
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "refserver user add: %s\n", secretScrubber(p.DSN)(err.Error()))
		return exitFail
	}
	password := getenv(envUserPassword)
	if password == "" {
		if password, err = readPassword(stdin, stderr); err != nil {
			return fail(err)
		}
	}
	if err := security.CheckPassword(password, p.Username); err != nil {
		return fail(err)
	}
	err = withService(ctx, p.DSN, func(ctx context.Context, svc *backupmgmt.Service) error {
		u, err := svc.Users().Create(ctx, backupmgmt.UserParams{
			Username: p.Username,
			Email:    p.Email,
			FullName: p.FullName,
			Role:     p.Role,
			Password: password,
		})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, u.ID)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return exitOK
}

// readPassword reads one line from stdin. On a terminal it prompts on
// stderr and turns echo off while the line is typed, where the platform
// allows (echoOff).
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			restore, err := echoOff(f)
			if err != nil {
				fmt.Fprint(stderr, "Password (shown as you type; "+envUserPassword+" avoids that): ")
			} else {
				fmt.Fprint(stderr, "Password: ")
				defer func() {
					restore()
					fmt.Fprintln(stderr)
				}()
			}
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password: set " + envUserPassword + " or write it on stdin")
	}
	return line, nil
}
