package backupmgmt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestReports(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		auditor := b.userFixture(t, "auditor", store.RoleAuditor)
		ctx := actorCtx(t.Context(), auditor)
		rs := b.svc.Reports()
		from := testStart.Add(-7 * 24 * time.Hour)
		content := []byte("type,count\nsuccess,3\n")

		r := &store.Report{Type: store.ReportWeekly, Format: store.FormatCSV, PeriodFrom: from, PeriodTo: testStart, Content: content}
		require.NoError(t, rs.Save(ctx, r))
		sum := sha256.Sum256(content)
		require.NotEmpty(t, r.ID)
		require.Equal(t, hex.EncodeToString(sum[:]), r.SHA256)
		require.Equal(t, int64(len(content)), r.SizeBytes)
		require.Equal(t, testStart, r.GeneratedAt)
		require.Equal(t, auditor.ID, *r.GeneratedBy, "the generating user is the actor")

		got, err := rs.Get(t.Context(), r.ID)
		require.NoError(t, err)
		require.Nil(t, got.Content, "Get leaves the content out")
		require.Equal(t, r.SHA256, got.SHA256)
		full, err := rs.Content(t.Context(), r.ID)
		require.NoError(t, err)
		require.Equal(t, content, full.Content)

		b.clock.Advance(time.Hour)
		r2 := &store.Report{Type: store.ReportDaily, Format: store.FormatJSON, PeriodFrom: testStart.Add(-24 * time.Hour), PeriodTo: testStart, Content: []byte(`{}`)}
		require.NoError(t, b.svc.Reports().Save(t.Context(), r2))
		require.Nil(t, r2.GeneratedBy, "the system generates without a user")

		t.Run("ListNewestFirstAndByType", func(t *testing.T) {
			page, err := rs.List(t.Context(), store.ListReportsParams{})
			require.NoError(t, err)
			require.Len(t, page.Items, 2)
			require.Equal(t, []string{r2.ID, r.ID}, []string{page.Items[0].ID, page.Items[1].ID})
			page, err = rs.List(t.Context(), store.ListReportsParams{Type: store.ReportWeekly})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			require.Equal(t, r.ID, page.Items[0].ID)
			_, err = rs.List(t.Context(), store.ListReportsParams{Type: "yearly"})
			requireInvalid(t, err, "type")
		})

		t.Run("SaveRefusesBadReports", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				r     store.Report
				field string
			}{
				{"UnknownType", store.Report{Type: "yearly", Format: store.FormatCSV, PeriodFrom: from, PeriodTo: testStart}, "type"},
				{"UnknownFormat", store.Report{Type: store.ReportDaily, Format: "docx", PeriodFrom: from, PeriodTo: testStart}, "format"},
				{"NoPeriod", store.Report{Type: store.ReportDaily, Format: store.FormatCSV}, "period"},
				{"PeriodBackwards", store.Report{Type: store.ReportDaily, Format: store.FormatCSV, PeriodFrom: testStart, PeriodTo: from}, "period_to"},
				{"TooLarge", store.Report{Type: store.ReportDaily, Format: store.FormatCSV, PeriodFrom: from, PeriodTo: testStart, Content: make([]byte, store.MaxReportBytes+1)}, "content"},
			} {
				requireInvalid(t, rs.Save(ctx, &tc.r), tc.field)
			}
			page, err := rs.List(t.Context(), store.ListReportsParams{})
			require.NoError(t, err)
			require.Len(t, page.Items, 2, "refused reports are not stored")
		})

		t.Run("DeleteAudits", func(t *testing.T) {
			require.NoError(t, rs.Delete(ctx, r.ID))
			_, err := rs.Get(t.Context(), r.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
			require.ErrorIs(t, rs.Delete(ctx, r.ID), store.ErrNotFound)

			events, err := b.store.Audit().Range(t.Context(), 0, 100000)
			require.NoError(t, err)
			var seen []store.AuditEvent
			for _, e := range events {
				if e.ResourceType == "report" {
					seen = append(seen, e)
				}
			}
			require.Len(t, seen, 3)
			require.Equal(t, []string{"report.generate", "report.generate", "report.delete"}, []string{seen[0].Action, seen[1].Action, seen[2].Action})
			require.Equal(t, "user:"+auditor.ID, seen[0].Actor)
			require.Equal(t, "system", seen[1].Actor)
			var d map[string]any
			require.NoError(t, json.Unmarshal(seen[0].Details, &d))
			require.Equal(t, r.SHA256, d["sha256"])
			require.Equal(t, "weekly", d["type"])
			require.NotContains(t, string(seen[0].Details), "success,3", "the content is not audited")
			require.Equal(t, r.ID, seen[2].ResourceID)
		})
	})
}

// reportsQueueFailing wraps a store so that writing an outbox row fails
// inside any transaction.
type reportsQueueFailing struct{ store.Store }

func (s reportsQueueFailing) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	return s.Store.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
		return fn(ctx, reportsQueueFailingRepos{tx})
	})
}

type reportsQueueFailingRepos struct{ store.Repos }

func (r reportsQueueFailingRepos) Notifications() store.NotificationStore {
	return reportsQueueFailingNotifications{r.Repos.Notifications()}
}

type reportsQueueFailingNotifications struct{ store.NotificationStore }

var errQueue = errors.New("outbox is full")

func (reportsQueueFailingNotifications) Create(context.Context, *store.Notification) error {
	return errQueue
}

func TestSaveDigest(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		admin := actorCtx(t.Context(), b.userFixture(t, "admin", store.RoleAdmin))
		for _, p := range []ChannelParams{
			{Kind: store.ChannelEmail, Name: "ops", Settings: json.RawMessage(`{"host":"smtp.example.com","from":"custos@example.com"}`)},
			{Kind: store.ChannelWebhook, Name: "hook", Settings: json.RawMessage(`{"url":"https://example.invalid/hook","secret":"0123456789abcdef"}`)},
		} {
			_, err := b.svc.Channels().Create(admin, p)
			require.NoError(t, err)
		}
		from := testStart.Add(-24 * time.Hour)
		digest := func() *store.Report {
			return &store.Report{Type: store.ReportDaily, Format: store.FormatHTML, PeriodFrom: from, PeriodTo: testStart, Content: []byte("<p>digest</p>")}
		}
		reports := func() []store.Report {
			page, err := b.svc.Reports().List(t.Context(), store.ListReportsParams{})
			require.NoError(t, err)
			return page.Items
		}
		digestEvents := func() []store.AuditEvent {
			page, err := b.store.Audit().List(t.Context(), store.ListAuditParams{Action: DigestAction})
			require.NoError(t, err)
			return page.Items
		}

		t.Run("QueueFailureLeavesNoReport", func(t *testing.T) {
			failing, err := New(reportsQueueFailing{b.store}, &Config{Now: b.clock.Now})
			require.NoError(t, err)
			_, err = failing.Reports().SaveDigest(t.Context(), digest(), "Daily report", "Runs: 0")
			require.ErrorIs(t, err, errQueue)
			require.Empty(t, reports(), "a digest whose mail failed is not stored")
			require.Empty(t, digestEvents())
		})

		r := digest()
		n, err := b.svc.Reports().SaveDigest(t.Context(), r, "Daily report", "Runs: 0")
		require.NoError(t, err)
		require.Equal(t, 1, n, "one row for the one active email channel, none for the webhook")
		page, err := b.store.Notifications().List(t.Context(), store.ListNotificationsParams{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		require.Equal(t, r.ID, *page.Items[0].ReportID)
		var notice ReportNotice
		require.NoError(t, json.Unmarshal(page.Items[0].Payload, &notice))
		require.Equal(t, ReportNotice{Event: "report", ReportID: r.ID, Type: store.ReportDaily, Format: store.FormatHTML,
			Title: "Daily report", Summary: "Runs: 0", PeriodFrom: from, PeriodTo: testStart, At: testStart}, notice)
		require.Len(t, reports(), 1)
		events := digestEvents()
		require.Len(t, events, 1)
		require.Equal(t, r.ID, events[0].ResourceID)
		require.Equal(t, "system", events[0].Actor)
		var d map[string]any
		require.NoError(t, json.Unmarshal(events[0].Details, &d))
		require.Equal(t, r.SHA256, d["sha256"])
		require.Equal(t, "daily", d["type"])
		require.Equal(t, "html", d["format"])
		require.Equal(t, from.Format(time.RFC3339Nano), d["period_from"])

		requireInvalid(t, func() error {
			_, err := b.svc.Reports().SaveDigest(t.Context(), &store.Report{Type: store.ReportDaily, Format: "docx", PeriodFrom: from, PeriodTo: testStart}, "x", "y")
			return err
		}(), "format")
	})
}
