package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// migratedDB returns the DSN of a fresh SQLite database with every
// migration applied and no user.
func migratedDB(t *testing.T) string {
	t.Helper()
	dsn := "sqlite:" + t.TempDir() + "/custos.db"
	r := runCmd(t, map[string]string{envDB: dsn}, "migrate", "up")
	require.Equal(t, exitOK, r.code, r.stderr)
	return dsn
}

const alicePassword = "correct horse battery staple"

// addAlice adds the operator alice and returns her ID.
func addAlice(t *testing.T, dsn string) string {
	t.Helper()
	r := runCmd(t, map[string]string{envDB: dsn, envUserPassword: alicePassword},
		"user", "add", "--username", "alice", "--role", "operator")
	require.Equal(t, exitOK, r.code, r.stderr)
	return strings.TrimSpace(r.stdout)
}

func TestUserAdd(t *testing.T) {
	t.Parallel()

	t.Run("PasswordFromTheEnvironment", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		r := runCmd(t, map[string]string{envUserPassword: alicePassword},
			"user", "add", "--db", dsn, "--username", "alice", "--role", "operator", "--email", "alice@example.com", "--full-name", "Alice Liddell")
		require.Equal(t, exitOK, r.code, r.stderr)
		id := strings.TrimSpace(r.stdout)
		require.Equal(t, id+"\n", r.stdout, "only the user ID is printed")
		require.NotContains(t, r.stdout+r.stderr, alicePassword)

		svc := openService(t, dsn)
		u, err := svc.Users().Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, "alice", u.Username)
		require.Equal(t, store.RoleOperator, u.Role)
		require.Equal(t, "alice@example.com", u.Email)
		require.Equal(t, "Alice Liddell", u.FullName)
		requireLogin(t, svc, "alice", alicePassword)
	})

	t.Run("PasswordFromStdin", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		r := runCmdIn(t, map[string]string{envDB: dsn}, "stdin's long password\r\nsecond line\n", "user", "add", "--role", "auditor", "--username", "bob")
		require.Equal(t, exitOK, r.code, r.stderr)
		requireLogin(t, openService(t, dsn), "bob", "stdin's long password")
	})

	t.Run("NoPassword", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		r := runCmdIn(t, map[string]string{envDB: dsn}, "\n", "user", "add", "--username", "bob", "--role", "viewer")
		require.Equal(t, exitFail, r.code)
		require.Contains(t, r.stderr, "no password: set CUSTOS_USER_PASSWORD or write it on stdin")
		require.Empty(t, listUsers(t, openService(t, dsn)))
	})

	t.Run("WeakPassword", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		r := runCmdIn(t, map[string]string{envDB: dsn}, "bob-is-my-password\n", "user", "add", "--username", "bob", "--role", "viewer")
		require.Equal(t, exitFail, r.code)
		require.Contains(t, r.stderr, "password must not contain the username")
		require.NotContains(t, r.stderr, "bob-is-my-password")
		require.Empty(t, listUsers(t, openService(t, dsn)))
	})

	t.Run("TakenUsername", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		addAlice(t, dsn)
		r := runCmd(t, map[string]string{envDB: dsn, envUserPassword: alicePassword}, "user", "add", "--username", "ALICE", "--role", "viewer")
		require.Equal(t, exitFail, r.code)
		require.Contains(t, r.stderr, "refserver user add: ")
		require.Contains(t, r.stderr, "username")
		require.Len(t, listUsers(t, openService(t, dsn)), 1)
	})

	t.Run("BadUsername", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		r := runCmd(t, map[string]string{envDB: dsn, envUserPassword: alicePassword}, "user", "add", "--username", "a b", "--role", "viewer")
		require.Equal(t, exitFail, r.code)
		require.Contains(t, r.stderr, "username: 3 to 50 characters")
	})

	t.Run("UnmigratedDatabase", func(t *testing.T) {
		t.Parallel()
		dsn := "sqlite:" + t.TempDir() + "/new.db"
		r := runCmd(t, map[string]string{envDB: dsn, envUserPassword: alicePassword}, "user", "add", "--username", "alice", "--role", "viewer")
		require.Equal(t, exitFail, r.code)
		require.Contains(t, r.stderr, "migrations pending): run 'refserver migrate up'")
	})
}

func TestAPIKeyCreate(t *testing.T) {
	t.Parallel()

	t.Run("IngestKeyBoundToAJobByName", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		dsn := migratedDB(t)
		aliceID := addAlice(t, dsn)
		svc := openService(t, dsn)
		job, err := svc.Jobs().Create(ctx, backupmgmt.JobParams{
			Name: "erp-db", JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
			Schedule: store.Schedule{Kind: store.ScheduleManual},
		})
		require.NoError(t, err)

		before := time.Now()
		r := runCmd(t, map[string]string{envDB: dsn}, "apikey", "create", "--user", "alice", "--name", "collector",
			"--scopes", "ingest", "--job", "erp-db", "--expires-in", "720h")
		require.Equal(t, exitOK, r.code, r.stderr)
		text := strings.TrimSpace(r.stdout)
		require.Equal(t, text+"\n", r.stdout, "only the key is printed on stdout")
		require.True(t, strings.HasPrefix(text, "cst_"), text)
		require.Contains(t, r.stderr, "shown only this once")

		actor, err := svc.APIKeys().Authenticate(ctx, text)
		require.NoError(t, err, "the printed key authenticates")
		require.Equal(t, aliceID, actor.UserID)
		require.Equal(t, []store.Scope{store.ScopeIngest}, actor.Scopes)
		require.Equal(t, job.ID, actor.KeyJobID)

		page, err := svc.APIKeys().List(ctx, store.ListAPIKeysParams{UserID: aliceID})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		key := page.Items[0]
		require.Equal(t, "collector", key.Name)
		require.NotNil(t, key.ExpiresAt)
		require.WithinRange(t, *key.ExpiresAt, before.Add(720*time.Hour-time.Minute), time.Now().Add(720*time.Hour+time.Minute))
	})

	t.Run("BoundToAJobByID", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		dsn := migratedDB(t)
		addAlice(t, dsn)
		svc := openService(t, dsn)
		job, err := svc.Jobs().Create(ctx, backupmgmt.JobParams{
			Name: "erp-db", JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
			Schedule: store.Schedule{Kind: store.ScheduleManual},
		})
		require.NoError(t, err)
		r := runCmd(t, map[string]string{envDB: dsn}, "apikey", "create", "--user", "alice", "--name", "k", "--scopes", "ingest", "--job", job.ID)
		require.Equal(t, exitOK, r.code, r.stderr)
		actor, err := svc.APIKeys().Authenticate(ctx, strings.TrimSpace(r.stdout))
		require.NoError(t, err)
		require.Equal(t, job.ID, actor.KeyJobID)
	})

	t.Run("TwoScopesWithoutExpiry", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		addAlice(t, dsn)
		r := runCmd(t, map[string]string{envDB: dsn}, "apikey", "create", "--user", "alice", "--name", "reader", "--scopes", "ingest, read")
		require.Equal(t, exitOK, r.code, r.stderr)
		actor, err := openService(t, dsn).APIKeys().Authenticate(context.Background(), strings.TrimSpace(r.stdout))
		require.NoError(t, err)
		require.Equal(t, []store.Scope{store.ScopeIngest, store.ScopeRead}, actor.Scopes)
		require.Empty(t, actor.KeyJobID)
	})

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"UnknownUser", []string{"--user", "mallory", "--name", "k", "--scopes", "ingest"}, `no user named "mallory"`},
		{"UnknownJob", []string{"--user", "alice", "--name", "k", "--scopes", "ingest", "--job", "nope"}, `no job with the name or ID "nope"`},
		{"ScopeTheRoleMayNotHold", []string{"--user", "alice", "--name", "k", "--scopes", "admin"}, "a user with role operator cannot hold a key with scope admin"},
		{"JobBindingOfANonIngestKey", []string{"--user", "alice", "--name", "k", "--scopes", "read", "--job", "erp-db"}, "job_id: only an ingest key"},
		{"ScopeTwice", []string{"--user", "alice", "--name", "k", "--scopes", "read,read"}, "scope read given twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dsn := migratedDB(t)
			aliceID := addAlice(t, dsn)
			svc := openService(t, dsn)
			_, err := svc.Jobs().Create(context.Background(), backupmgmt.JobParams{
				Name: "erp-db", JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
				Schedule: store.Schedule{Kind: store.ScheduleManual},
			})
			require.NoError(t, err)
			r := runCmd(t, map[string]string{envDB: dsn}, append([]string{"apikey", "create"}, tt.args...)...)
			require.Equal(t, exitFail, r.code, r.stderr)
			require.Contains(t, r.stderr, "refserver apikey create: ")
			require.Contains(t, r.stderr, tt.want)
			require.Empty(t, r.stdout, "no key is printed")
			page, err := svc.APIKeys().List(context.Background(), store.ListAPIKeysParams{UserID: aliceID})
			require.NoError(t, err)
			require.Empty(t, page.Items, "no key is stored")
		})
	}
}

func TestAuditVerify(t *testing.T) {
	t.Parallel()

	t.Run("EmptyLog", func(t *testing.T) {
		t.Parallel()
		r := runCmd(t, map[string]string{envDB: migratedDB(t)}, "audit", "verify")
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Equal(t, "audit chain intact: 0 events\n", r.stdout)
	})

	t.Run("IntactChain", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		addAlice(t, dsn)
		r := runCmd(t, map[string]string{envUserPassword: "tr0ub4dor and then some"}, "user", "add", "--db", dsn, "--username", "bob", "--role", "viewer")
		require.Equal(t, exitOK, r.code, r.stderr)
		r = runCmd(t, map[string]string{envDB: dsn}, "audit", "verify")
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Equal(t, "audit chain intact: 2 events\n", r.stdout)
	})

	t.Run("TamperedRowExitsOneNamingIt", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		for _, name := range []string{"alice", "bob", "carol"} {
			r := runCmd(t, map[string]string{envDB: dsn, envUserPassword: "a long enough password"}, "user", "add", "--username", name, "--role", "viewer")
			require.Equal(t, exitOK, r.code, r.stderr)
		}
		func() {
			ctx := context.Background()
			s, err := dbopen.OpenStore(ctx, dsn, nil)
			require.NoError(t, err)
			defer s.Close()
			res, err := s.DB().ExecContext(ctx, "UPDATE audit_events SET details = ? WHERE seq = 2", `{"username":"mallory"}`)
			require.NoError(t, err)
			n, err := res.RowsAffected()
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
		}()
		r := runCmd(t, map[string]string{envDB: dsn}, "audit", "verify")
		require.Equal(t, exitFail, r.code)
		require.Contains(t, r.stdout, "audit chain broken at event seq 2: ")
		require.Contains(t, r.stdout, "(1 events intact before it)")
	})

	t.Run("UnreachableDatabase", func(t *testing.T) {
		t.Parallel()
		r := runCmd(t, nil, "audit", "verify", "--db", "postgres://custos:s3cret@127.0.0.1:1/custos?sslmode=disable")
		require.Equal(t, exitFail, r.code)
		require.Contains(t, r.stderr, "refserver audit verify: ")
		require.NotContains(t, r.stderr, "s3cret")
	})
}

func TestCommandsOnEveryDatabase(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		if kind == dbopen.SQLite {
			continue // every test above runs on SQLite
		}
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			dsn := bunstoretest.DSN(t, kind)
			env := map[string]string{envDB: dsn, envUserPassword: alicePassword}
			require.Equal(t, exitOK, runCmd(t, env, "migrate", "up").code)
			r := runCmd(t, env, "user", "add", "--username", "alice", "--role", "operator")
			require.Equal(t, exitOK, r.code, r.stderr)
			r = runCmd(t, env, "apikey", "create", "--user", "alice", "--name", "k", "--scopes", "ingest")
			require.Equal(t, exitOK, r.code, r.stderr)
			r = runCmd(t, env, "audit", "verify")
			require.Equal(t, exitOK, r.code, r.stderr)
			require.Equal(t, "audit chain intact: 2 events\n", r.stdout)
		})
	}
}
