package storetest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

// Valid objects of every entity, unique on every unique key, and helpers that
// store them. Tests change what they are about and leave the rest.

func newUser() *store.User {
	u := uniq()
	return &store.User{
		Username:     "user-" + u,
		Email:        "user-" + u + "@example.com",
		FullName:     "Test User " + u,
		Department:   "Infrastructure",
		Role:         store.RoleOperator,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		Active:       true,
	}
}

func (b *bundle) user(t *testing.T, mod ...func(*store.User)) *store.User {
	t.Helper()
	u := newUser()
	for _, m := range mod {
		m(u)
	}
	require.NoError(t, b.s.Users().Create(b.ctx, u))
	return u
}

func newAsset() *store.Asset {
	return &store.Asset{
		Name:           "asset-" + uniq(),
		Description:    "ERP database",
		Classification: store.ClassificationConfidential,
	}
}

func (b *bundle) asset(t *testing.T, mod ...func(*store.Asset)) *store.Asset {
	t.Helper()
	a := newAsset()
	for _, m := range mod {
		m(a)
	}
	require.NoError(t, b.s.Assets().Create(b.ctx, a))
	return a
}

func newJob() *store.Job {
	u := uniq()
	return &store.Job{
		Name:         "job-" + u,
		Description:  "nightly backup",
		JobType:      store.JobTypeDatabase,
		Tool:         store.ToolRestic,
		TargetServer: "db01",
		TargetPath:   "/var/lib/postgresql",
		Schedule:     store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *", Timezone: "Asia/Tokyo"},
		Grace:        30 * time.Minute,
		MaxRuntime:   4 * time.Hour,
		RPOTarget:    24 * time.Hour,
		Tags:         []string{"prod", "db"},
		Active:       true,
		PingToken:    "tok-" + strings.ReplaceAll(u, "-", ""),
		State:        store.JobStateNew,
	}
}

func (b *bundle) job(t *testing.T, mod ...func(*store.Job)) *store.Job {
	t.Helper()
	j := newJob()
	for _, m := range mod {
		m(j)
	}
	require.NoError(t, b.s.Jobs().Create(b.ctx, j))
	return j
}

func newCopy(jobID string) *store.Copy {
	return &store.Copy{
		JobID:     jobID,
		Name:      "copy-" + uniq(),
		Role:      store.CopyRolePrimary,
		MediaType: store.MediaNAS,
		Location:  "rack 3",
		Status:    store.CopyStatusUnknown,
	}
}

func (b *bundle) copy(t *testing.T, jobID string, mod ...func(*store.Copy)) *store.Copy {
	t.Helper()
	c := newCopy(jobID)
	for _, m := range mod {
		m(c)
	}
	require.NoError(t, b.s.Copies().Create(b.ctx, c))
	return c
}

func newExecution(jobID string) *store.Execution {
	start := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	fin := start.Add(10 * time.Minute)
	return &store.Execution{
		JobID:      jobID,
		RunID:      "run-" + uniq(),
		Status:     store.ExecutionSuccess,
		StartedAt:  start,
		FinishedAt: &fin,
		SizeBytes:  1 << 30,
		Files:      1200,
		Message:    "ok",
		Source:     store.SourceAPI,
	}
}

func (b *bundle) execution(t *testing.T, jobID string, mod ...func(*store.Execution)) *store.Execution {
	t.Helper()
	e := newExecution(jobID)
	for _, m := range mod {
		m(e)
	}
	created, err := b.s.Executions().Insert(b.ctx, e)
	require.NoError(t, err)
	require.True(t, created)
	return e
}

func newMedia() *store.Media {
	return &store.Media{
		Label:         "TAPE-" + uniq(),
		MediaType:     store.OfflineTape,
		CapacityBytes: 12 << 40,
		Location:      "safe A",
		Status:        store.MediaAvailable,
	}
}

func (b *bundle) media(t *testing.T, mod ...func(*store.Media)) *store.Media {
	t.Helper()
	m := newMedia()
	for _, f := range mod {
		f(m)
	}
	require.NoError(t, b.s.Media().Create(b.ctx, m))
	return m
}

func newLending(mediaID, borrowerID string) *store.Lending {
	return &store.Lending{
		MediaID:    mediaID,
		BorrowerID: borrowerID,
		Purpose:    "restore test",
		LentAt:     time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
		DueOn:      store.Date{Year: 2026, Month: 11, Day: 9},
	}
}

func newVerificationTest(jobID string) *store.VerificationTest {
	return &store.VerificationTest{
		JobID:         jobID,
		TestType:      store.TestFullRestore,
		Result:        store.TestSuccess,
		TestedAt:      time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC),
		RestoreTarget: "scratch-vm",
		Duration:      45 * time.Minute,
		FilesChecked:  1000,
	}
}

func newAlert() *store.Alert {
	now := time.Date(2026, 11, 4, 3, 0, 0, 0, time.UTC)
	return &store.Alert{
		Type:        store.AlertBackupFailed,
		Severity:    store.SeverityError,
		DedupeKey:   "backup_failed:" + uniq(),
		Title:       "Backup failed",
		Message:     "exit code 1",
		State:       store.AlertOpen,
		Occurrences: 1,
		FirstSeenAt: now,
		LastSeenAt:  now,
	}
}

func (b *bundle) alert(t *testing.T, mod ...func(*store.Alert)) *store.Alert {
	t.Helper()
	a := newAlert()
	for _, m := range mod {
		m(a)
	}
	require.NoError(t, b.s.Alerts().Create(b.ctx, a))
	return a
}

func newChannel() *store.Channel {
	return &store.Channel{
		Kind:        store.ChannelWebhook,
		Name:        "hook-" + uniq(),
		Settings:    json.RawMessage(`{"url":"https://example.com/hook","secret":"s3cr3t"}`),
		MinSeverity: store.SeverityWarning,
		Active:      true,
	}
}

func (b *bundle) channel(t *testing.T, mod ...func(*store.Channel)) *store.Channel {
	t.Helper()
	c := newChannel()
	for _, m := range mod {
		m(c)
	}
	require.NoError(t, b.s.Channels().Create(b.ctx, c))
	return c
}

func newReport() *store.Report {
	content := []byte("<html><body>report</body></html>")
	return &store.Report{
		Type:        store.ReportDaily,
		Format:      store.FormatHTML,
		PeriodFrom:  time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		PeriodTo:    time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		GeneratedAt: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC),
		SizeBytes:   int64(len(content)),
		SHA256:      strings.Repeat("ab", 32),
		Content:     content,
	}
}

// requireValidation checks that err is a *store.ValidationError naming field.
func requireValidation(t *testing.T, err error, field string) {
	t.Helper()
	var ve *store.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Contains(t, ve.Fields, field, "fields: %v", ve.Fields)
}

// requireConflict checks that err is store.ErrConflict; when field is not
// empty and the store names the field, it must be that one.
func requireConflict(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, store.ErrConflict)
	var ce *store.ConstraintError
	if field != "" && errors.As(err, &ce) && ce.Field != "" {
		require.Equal(t, field, ce.Field)
	}
}
