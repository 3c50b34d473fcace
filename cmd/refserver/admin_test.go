package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// openService opens a service over dsn, closed when the test ends.
func openService(t *testing.T, dsn string) *backupmgmt.Service {
	t.Helper()
	s, err := dbopen.OpenStore(context.Background(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	svc, err := backupmgmt.New(s, nil)
	require.NoError(t, err)
	return svc
}

// listUsers returns every user of svc.
func listUsers(t *testing.T, svc *backupmgmt.Service) []store.User {
	t.Helper()
	page, err := svc.Users().List(context.Background(), store.ListUsersParams{PageParams: store.PageParams{Limit: 100}})
	require.NoError(t, err)
	return page.Items
}

// requireLogin checks that username signs in with password.
func requireLogin(t *testing.T, svc *backupmgmt.Service, username, password string) {
	t.Helper()
	res, err := svc.Auth().Login(context.Background(), backupmgmt.LoginParams{Username: username, Password: password})
	require.NoError(t, err)
	require.Equal(t, username, res.User.Username)
}

var printedPassword = regexp.MustCompile(`(?m)^    (\S+)$`)

func TestFirstStartCreatesAdminWithAOneTimePassword(t *testing.T) {
	t.Parallel()
	dsn := bunstoretest.DSN(t, dbopen.SQLite)

	srv := startServe(t, map[string]string{envDB: dsn})
	require.Equal(t, exitOK, srv.stop(t))
	out := srv.stdout.String()
	m := printedPassword.FindAllStringSubmatch(out, -1)
	require.Len(t, m, 1, "the password is printed once:\n%s", out)
	password := m[0][1]
	require.GreaterOrEqual(t, len(password), 20)
	require.NoError(t, security.CheckPassword(password, adminUsername))
	require.Contains(t, out, `Created the user "admin"`)
	require.Contains(t, out, "change it")
	require.Contains(t, srv.logs.messages(), "INFO created the admin user")
	for _, l := range srv.logs.lines {
		require.NotContains(t, fmt.Sprint(l), password, "the password is never logged")
	}

	// A second start prints nothing and creates nothing.
	srv = startServe(t, map[string]string{envDB: dsn})
	require.Equal(t, exitOK, srv.stop(t))
	require.Empty(t, srv.stdout.String())
	require.NotContains(t, srv.logs.messages(), "INFO created the admin user")

	svc := openService(t, dsn)
	users := listUsers(t, svc)
	require.Len(t, users, 1)
	require.Equal(t, adminUsername, users[0].Username)
	require.Equal(t, store.RoleAdmin, users[0].Role)
	require.True(t, users[0].Active)
	requireLogin(t, svc, adminUsername, password)
}

func TestFirstStartTakesTheAdminPasswordFromTheEnvironment(t *testing.T) {
	t.Parallel()
	const password = "the environment's long secret"
	dsn := bunstoretest.DSN(t, dbopen.SQLite)
	srv := startServe(t, map[string]string{envDB: dsn, envAdminPassword: password})
	require.Equal(t, exitOK, srv.stop(t))
	require.Empty(t, srv.stdout.String(), "a password the operator chose is not printed")
	for _, l := range srv.logs.lines {
		require.NotContains(t, fmt.Sprint(l), password, "the password is never logged")
	}
	svc := openService(t, dsn)
	require.Len(t, listUsers(t, svc), 1)
	requireLogin(t, svc, adminUsername, password)
}

func TestFirstStartRefusesAWeakAdminPassword(t *testing.T) {
	t.Parallel()
	for name, password := range map[string]string{"TooShort": "hunter2", "ContainsTheUsername": "my admin password"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dsn := bunstoretest.DSN(t, dbopen.SQLite)
			r := runCmd(t, map[string]string{envDB: dsn, envAdminPassword: password}, "serve", "--addr", "127.0.0.1:0")
			require.Equal(t, exitFail, r.code, r.stderr)
			require.Contains(t, r.stderr, "CUSTOS_ADMIN_PASSWORD does not pass the password policy: password must")
			require.NotContains(t, r.stderr, password)
			require.Empty(t, r.stdout)
			require.NotContains(t, r.stderr, `"msg":"listening"`)
			require.Empty(t, listUsers(t, openService(t, dsn)))
		})
	}
}

// staleUsers is a store whose user list is empty although admin exists: what
// a replica sees when another one created admin after it looked.
type staleUsers struct{ store.Store }

func (s staleUsers) Users() store.UserStore { return emptyUserList{s.Store.Users()} }

type emptyUserList struct{ store.UserStore }

func (emptyUserList) List(context.Context, store.ListUsersParams) (*store.Page[store.User], error) {
	return &store.Page[store.User]{}, nil
}

func TestEnsureAdminLeavesItToTheReplicaThatWasFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := bunstoretest.New(t, dbopen.SQLite, nil)
	svc, err := backupmgmt.New(s, nil)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, ensureAdmin(ctx, svc, "", &out, newJSONLogger(&out)))
	password := printedPassword.FindStringSubmatch(out.String())[1]

	late, err := backupmgmt.New(staleUsers{s}, nil)
	require.NoError(t, err)
	var lateOut, lateLog bytes.Buffer
	require.NoError(t, ensureAdmin(ctx, late, "", &lateOut, newJSONLogger(&lateLog)), "a conflict means someone else did it")
	require.Empty(t, lateOut.String())
	require.Contains(t, lateLog.String(), "another process created the admin user")
	require.Len(t, listUsers(t, svc), 1)
	requireLogin(t, svc, adminUsername, password)
}

func TestEnsureAdminTwoAtOnceMakeOneAdmin(t *testing.T) {
	t.Parallel()
	s := bunstoretest.New(t, dbopen.SQLite, nil)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		printed []string
	)
	for range 2 {
		svc, err := backupmgmt.New(s, nil)
		require.NoError(t, err)
		wg.Go(func() {
			var out syncBuffer
			err := ensureAdmin(context.Background(), svc, "", &out, newJSONLogger(&out))
			mu.Lock()
			defer mu.Unlock()
			require.NoError(t, err)
			printed = append(printed, printedPassword.FindAllString(out.String(), -1)...)
		})
	}
	wg.Wait()
	svc, err := backupmgmt.New(s, nil)
	require.NoError(t, err)
	require.Len(t, listUsers(t, svc), 1)
	require.Len(t, printed, 1, "exactly one password is printed")
	requireLogin(t, svc, adminUsername, strings.TrimSpace(printed[0]))
}

func TestGeneratePasswordIsLongRandomAndPassesThePolicy(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 100 {
		pw, err := generatePassword(adminUsername)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(pw), 20)
		require.NoError(t, security.CheckPassword(pw, adminUsername))
		require.False(t, seen[pw])
		seen[pw] = true
	}
}
