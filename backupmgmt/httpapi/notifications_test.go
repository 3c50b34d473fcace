package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestNotificationsAPI(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		c := opsAdmin(t, b)
		ctx := context.Background()
		mk := func(name string) *store.Channel {
			ch, err := b.svc.Channels().Create(ctx, backupmgmt.ChannelParams{
				Kind: store.ChannelWebhook, Name: name, MinSeverity: store.SeverityInfo,
				Settings: json.RawMessage(`{"url":"https://hooks.example.com/in","secret":"0123456789abcdef"}`),
			})
			require.NoError(t, err)
			return ch
		}
		one, two := mk("one"), mk("two")
		// A job without copies is non-compliant: its alert is queued for both.
		job := opsJob(t, b, "erp")
		page, err := b.svc.Alerts().List(ctx, store.ListAlertsParams{JobID: job.ID})
		require.NoError(t, err)
		require.NotEmpty(t, page.Items)
		alertID := page.Items[0].ID

		var all List[Notification]
		opsOK(t, b.do(t, c, "GET", "/api/v1/notifications", nil), http.StatusOK, &all)
		require.Len(t, all.Items, 2)
		for _, n := range all.Items {
			require.Equal(t, store.NotificationPending, n.State)
			require.Equal(t, alertID, *n.AlertID)
			require.Nil(t, n.ReportID)
			var payload map[string]any
			require.NoError(t, json.Unmarshal(n.Payload, &payload), "the payload is a JSON object")
			require.Equal(t, alertID, payload["alert_id"])
		}

		stored, err := b.store.Notifications().Get(ctx, all.Items[0].ID)
		require.NoError(t, err)
		stored.State, stored.Attempts, stored.LastError = store.NotificationFailed, 1, "503 from receiver"
		require.NoError(t, b.store.Notifications().Update(ctx, stored))

		var l List[Notification]
		opsOK(t, b.do(t, c, "GET", "/api/v1/notifications?state=failed", nil), http.StatusOK, &l)
		require.Len(t, l.Items, 1)
		require.Equal(t, stored.ID, l.Items[0].ID)
		require.Equal(t, "503 from receiver", l.Items[0].LastError, "an error without secrets is shown as is")
		require.Equal(t, 1, l.Items[0].Attempts)
		opsOK(t, b.do(t, c, "GET", "/api/v1/notifications?channel_id="+two.ID, nil), http.StatusOK, &l)
		require.Len(t, l.Items, 1)
		require.Equal(t, two.ID, l.Items[0].ChannelID)
		opsOK(t, b.do(t, c, "GET", "/api/v1/notifications?alert_id="+alertID+"&channel_id="+one.ID, nil), http.StatusOK, &l)
		require.Len(t, l.Items, 1)
		opsOK(t, b.do(t, c, "GET", "/api/v1/notifications?alert_id=01900000-0000-7000-8000-000000000000", nil), http.StatusOK, &l)
		require.Empty(t, l.Items)
		opsOK(t, b.do(t, c, "GET", "/api/v1/notifications?limit=1", nil), http.StatusOK, &l)
		require.Len(t, l.Items, 1)
		require.NotEmpty(t, l.NextCursor)

		opsCheckBad(t, b, c, []opsBadInput{
			{"UnknownState", "GET", "/api/v1/notifications?state=lost", nil, 400, "invalid_input", "state"},
			{"UnknownParameter", "GET", "/api/v1/notifications?kind=email", nil, 400, "invalid_input", "kind"},
			{"BadCursor", "GET", "/api/v1/notifications?cursor=%21", nil, 400, "invalid_input", "cursor"},
		}, func(t *testing.T) {})
	})
}
