package notify

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestAlertMessages(t *testing.T) {
	t.Parallel()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	b := setup(t, dbopen.SQLite, &Config{BaseURL: "https://custos.example.com/base/", Location: tokyo})
	job := b.job(t, "erp-db", nil)
	resolvedAt := testStart.Add(time.Hour)
	base := backupmgmt.AlertNotice{
		AlertID: "a1", Type: store.AlertBackupFailed, Severity: store.SeverityCritical, State: store.AlertOpen,
		Title: "backup of `erp-db` failed", Message: "exit 1", JobID: job.ID, Occurrences: 3,
		FirstSeenAt: testStart, LastSeenAt: testStart.Add(30 * time.Minute), At: testStart,
	}
	tests := []struct {
		name     string
		event    backupmgmt.AlertEvent
		mod      func(a *backupmgmt.AlertNotice)
		subject  string
		headline string
		facts    map[string]string
	}{
		{"Opened", backupmgmt.AlertEventOpened, nil,
			"[Custos] CRITICAL: backup_failed — backup of `erp-db` failed", "New alert.",
			map[string]string{"Job": "erp-db", "Occurrences": "3", "First seen": "2026-12-01 18:00:00 JST", "Last seen": "2026-12-01 18:30:00 JST"}},
		{"Escalated", backupmgmt.AlertEventEscalated, nil,
			"[Custos] CRITICAL (escalated): backup_failed — backup of `erp-db` failed", "Escalated to CRITICAL.", nil},
		{"Reminder", backupmgmt.AlertEventRepeat, nil,
			"[Custos] CRITICAL (reminder): backup_failed — backup of `erp-db` failed", "Reminder: this alert is still open.", nil},
		{"ResolvedSaysSo", backupmgmt.AlertEventResolved, func(a *backupmgmt.AlertNotice) {
			a.State, a.ResolvedAt, a.ResolvedBy = store.AlertResolved, &resolvedAt, store.ResolvedByAuto
		}, "[Custos] RESOLVED: backup_failed — backup of `erp-db` failed", "Resolved: this alert is closed.",
			map[string]string{"Resolved": "2026-12-01 19:00:00 JST (automatically, the condition cleared)"}},
		{"JobGoneShowsItsID", backupmgmt.AlertEventOpened, func(a *backupmgmt.AlertNotice) { a.JobID = "gone-job" },
			"[Custos] CRITICAL: backup_failed — backup of `erp-db` failed", "New alert.", map[string]string{"Job": "gone-job"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := base
			a.Event = tt.event
			if tt.mod != nil {
				tt.mod(&a)
			}
			m, err := b.d.alertMessage(t.Context(), "n1", &a)
			require.NoError(t, err)
			require.Equal(t, tt.subject, m.Subject)
			require.Equal(t, tt.headline, m.Headline)
			require.Equal(t, "https://custos.example.com/base/api/v1/alerts/a1", m.Link)
			got := map[string]string{}
			for _, f := range m.Facts {
				got[f.Label] = f.Value
			}
			for k, v := range tt.facts {
				require.Equal(t, v, got[k], k)
			}
			require.Contains(t, m.text(), tt.headline)
			require.Contains(t, m.text(), "exit 1")
		})
	}
}

// TestResolvedAlertIsSent follows an alert from a failed run to the
// success that resolves it: both messages go out, the second saying it is
// resolved.
func TestResolvedAlertIsSent(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	job := b.job(t, "erp", nil)
	hook := newReceiver(t, http.StatusOK)
	b.channel(t, store.ChannelSlack, "slack", map[string]any{"webhook_url": hook.URL + "/x"})
	b.fail(t, job, "exit 1")
	b.clock.Advance(time.Hour)
	now := b.svc.Now()
	_, err := b.svc.Executions().Record(t.Context(), backupmgmt.RecordParams{
		JobID: job.ID, Status: store.ExecutionSuccess, StartedAt: now.Add(-time.Minute), FinishedAt: &now,
	})
	require.NoError(t, err)

	res := b.runOnce(t)
	require.Equal(t, 2, res.Sent)
	var texts []string
	for _, r := range hook.requests() {
		texts = append(texts, string(r.Body))
	}
	require.Len(t, texts, 2)
	var resolved int
	for _, s := range texts {
		if containsAll(s, "[Custos] RESOLVED: backup_failed", "Resolved: this alert is closed.") {
			resolved++
		}
	}
	require.Equal(t, 1, resolved)
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
