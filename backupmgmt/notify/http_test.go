package notify

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

const testSecret = "whsec-0123456789abcdef"

// failedAlert sets up a job named name and a channel of kind at url, then
// records a failed run, so the channel has one backup_failed row.
func failedAlert(t *testing.T, b *testBundle, kind store.ChannelKind, settings any, name string) *store.Channel {
	t.Helper()
	job := b.job(t, name, nil)
	ch := b.channel(t, kind, string(kind), settings)
	b.fail(t, job, "exit 2 <stderr> & more")
	require.Len(t, b.rows(t, ch.ID), 1)
	return ch
}

func TestSlack(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, &Config{BaseURL: "https://custos.example.com/"})
	hook := newReceiver(t, http.StatusOK)
	ch := failedAlert(t, b, store.ChannelSlack, map[string]any{"webhook_url": hook.URL + "/services/T0/B0/token"}, "<script>")

	require.Equal(t, Result{Claimed: 1, Sent: 1}, b.runOnce(t))
	reqs := hook.requests()
	require.Len(t, reqs, 1)
	row := b.rows(t, ch.ID)[0]
	require.Equal(t, row.ID, reqs[0].Header.Get("Idempotency-Key"))
	require.Equal(t, row.ID, reqs[0].Header.Get("X-Custos-Delivery"))
	require.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))

	var body struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"fields"`
			Elements []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	require.Equal(t, "[Custos] ERROR: backup_failed — backup of `&lt;script&gt;` failed", body.Text)
	require.Len(t, body.Blocks, 3)
	require.Equal(t, "header", body.Blocks[0].Type)
	require.Equal(t, "plain_text", body.Blocks[0].Text.Type)
	require.Equal(t, "[Custos] ERROR: backup_failed — backup of `<script>` failed", body.Blocks[0].Text.Text)
	sec := body.Blocks[1]
	require.Equal(t, "section", sec.Type)
	require.Equal(t, "mrkdwn", sec.Text.Type)
	require.Contains(t, sec.Text.Text, "exit 2 &lt;stderr&gt; &amp; more")
	var fields []string
	for _, f := range sec.Fields {
		require.Equal(t, "mrkdwn", f.Type)
		fields = append(fields, f.Text)
	}
	require.Contains(t, fields, "*Severity*\nERROR")
	require.Contains(t, fields, "*Type*\nbackup_failed")
	require.Contains(t, fields, "*Job*\n&lt;script&gt;")
	require.Contains(t, fields, "*Occurrences*\n1")
	ctx := body.Blocks[2]
	require.Equal(t, "context", ctx.Type)
	require.Len(t, ctx.Elements, 1)
	require.Contains(t, ctx.Elements[0].Text, "2026-12-01 09:00:00 UTC")
	require.Contains(t, ctx.Elements[0].Text, "<https://custos.example.com/api/v1/alerts/")
}

func TestTeams(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	hook := newReceiver(t, http.StatusAccepted)
	ch := failedAlert(t, b, store.ChannelTeams, map[string]any{"webhook_url": hook.URL + "/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t"}, "[Click](https://evil)")

	require.Equal(t, Result{Claimed: 1, Sent: 1}, b.runOnce(t))
	reqs := hook.requests()
	require.Len(t, reqs, 1)
	require.Equal(t, b.rows(t, ch.ID)[0].ID, reqs[0].Header.Get("Idempotency-Key"))
	var body struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Schema  string `json:"$schema"`
				Type    string `json:"type"`
				Version string `json:"version"`
				Body    []struct {
					Type  string `json:"type"`
					Text  string `json:"text"`
					Facts []struct {
						Title string `json:"title"`
						Value string `json:"value"`
					} `json:"facts"`
				} `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	require.Equal(t, "message", body.Type)
	require.Len(t, body.Attachments, 1)
	a := body.Attachments[0]
	require.Equal(t, "application/vnd.microsoft.card.adaptive", a.ContentType)
	require.Equal(t, "http://adaptivecards.io/schemas/adaptive-card.json", a.Content.Schema)
	require.Equal(t, "AdaptiveCard", a.Content.Type)
	require.Equal(t, "1.4", a.Content.Version)
	require.Equal(t, "TextBlock", a.Content.Body[0].Type)
	// Markdown in interpolated values is escaped, so no link renders.
	require.Equal(t, "\\[Custos\\] ERROR: backup\\_failed — backup of \\`\\[Click\\]\\(https://evil\\)\\` failed", a.Content.Body[0].Text)
	require.Equal(t, "New alert\\.", a.Content.Body[1].Text)
	require.Equal(t, `exit 2 \<stderr\> & more`, a.Content.Body[2].Text)
	for _, blk := range a.Content.Body {
		require.NotContains(t, blk.Text, "[Click](")
	}
	facts := map[string]string{}
	for _, blk := range a.Content.Body {
		if blk.Type == "FactSet" {
			for _, f := range blk.Facts {
				facts[f.Title] = f.Value
			}
		}
	}
	require.Equal(t, `\[Click\]\(https://evil\)`, facts["Job"])
	require.Equal(t, `backup\_failed`, facts["Type"])
	require.Equal(t, "ERROR", facts["Severity"])
	require.Equal(t, "1", facts["Occurrences"])
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	hook := newReceiver(t, http.StatusNoContent)
	ch := failedAlert(t, b, store.ChannelWebhook, map[string]any{
		"url": hook.URL + "/custos", "secret": testSecret, "headers": map[string]string{"Authorization": "Bearer hdr-secret-42"},
	}, "erp-db")

	require.Equal(t, Result{Claimed: 1, Sent: 1}, b.runOnce(t))
	reqs := hook.requests()
	require.Len(t, reqs, 1)
	req := reqs[0]
	row := b.rows(t, ch.ID)[0]
	require.Equal(t, row.ID, req.Header.Get("Idempotency-Key"))
	require.Equal(t, row.ID, req.Header.Get("X-Custos-Delivery"))
	require.Equal(t, "Bearer hdr-secret-42", req.Header.Get("Authorization"))
	ts := req.Header.Get("X-Custos-Timestamp")
	require.Equal(t, strconv.FormatInt(testStart.Unix(), 10), ts)
	sig := req.Header.Get("X-Custos-Signature")
	now := b.svc.Now()

	require.NoError(t, VerifySignature([]byte(testSecret), ts, sig, req.Body, now, 0))
	tampered := append([]byte(nil), req.Body...)
	tampered[len(tampered)-2] ^= 1
	require.ErrorIs(t, VerifySignature([]byte(testSecret), ts, sig, tampered, now, 0), ErrBadSignature)
	require.ErrorIs(t, VerifySignature([]byte("another-secret-000"), ts, sig, req.Body, now, 0), ErrBadSignature)
	require.ErrorIs(t, VerifySignature([]byte(testSecret), ts, sig, req.Body, now.Add(6*time.Minute), 0), ErrStaleRequest)

	var body struct {
		ID     string                 `json:"id"`
		Event  string                 `json:"event"`
		Alert  backupmgmt.AlertNotice `json:"alert"`
		SentAt time.Time              `json:"sent_at"`
	}
	require.NoError(t, json.Unmarshal(req.Body, &body))
	require.Equal(t, row.ID, body.ID)
	require.Equal(t, "opened", body.Event)
	require.Equal(t, store.AlertBackupFailed, body.Alert.Type)
	require.Equal(t, "exit 2 <stderr> & more", body.Alert.Message)
	require.Equal(t, *row.AlertID, body.Alert.AlertID)
	require.True(t, body.SentAt.Equal(now))
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	body := []byte(`{"id":"n1"}`)
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Sign(secret, ts, body)
	require.Regexp(t, `^sha256=[0-9a-f]{64}$`, good)

	tests := []struct {
		name      string
		ts, sig   string
		body      []byte
		at        time.Time
		tolerance time.Duration
		want      error
	}{
		{"AcceptsTheSignature", ts, good, body, now, 0, nil},
		{"AcceptsWithinTheTolerance", ts, good, body, now.Add(4 * time.Minute), 0, nil},
		{"RejectsAnOldTimestamp", ts, good, body, now.Add(5*time.Minute + time.Second), 0, ErrStaleRequest},
		{"RejectsAFutureTimestamp", ts, good, body, now.Add(-5*time.Minute - time.Second), 0, ErrStaleRequest},
		{"HonoursACustomTolerance", ts, good, body, now.Add(time.Hour), 2 * time.Hour, nil},
		{"RejectsAnUnparsableTimestamp", "yesterday", good, body, now, 0, ErrStaleRequest},
		{"RejectsATamperedBody", ts, good, []byte(`{"id":"n2"}`), now, 0, ErrBadSignature},
		{"RejectsAnotherTimestampsSignature", strconv.FormatInt(now.Unix()+1, 10), good, body, now, 0, ErrBadSignature},
		{"RejectsAMissingSignature", ts, "", body, now, 0, ErrBadSignature},
		{"IgnoresSpacesAroundTheTimestamp", " " + ts + "\t", good, body, now, 0, nil},
		{"RejectsASignatureOverThePaddedTimestamp", " " + ts, Sign(secret, " "+ts, body), body, now, 0, ErrBadSignature},
		{"IgnoresSpacesAroundTheSignature", ts, " " + good + " ", body, now, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifySignature(secret, tt.ts, tt.sig, tt.body, tt.at, tt.tolerance)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		want   string
	}{
		{"RetriesAServerError", http.StatusServiceUnavailable, "HTTP 503"},
		{"RetriesTooManyRequests", http.StatusTooManyRequests, "HTTP 429"},
		{"RetriesAClientErrorRecordingItsStatus", http.StatusNotFound, "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, dbopen.SQLite, nil)
			hook := newReceiver(t, tt.status)
			ch := failedAlert(t, b, store.ChannelWebhook, map[string]any{"url": hook.URL, "secret": testSecret}, "erp")
			require.Equal(t, Result{Claimed: 1, Failed: 1}, b.runOnce(t))
			row := b.rows(t, ch.ID)[0]
			require.Equal(t, store.NotificationFailed, row.State)
			require.Contains(t, row.LastError, tt.want)
			require.Equal(t, b.svc.Now().Add(time.Minute), row.NextAttemptAt)
		})
	}

	t.Run("FollowsNoRedirect", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		var elsewhere atomic.Int32
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { elsewhere.Add(1) }))
		t.Cleanup(target.Close)
		redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
		t.Cleanup(redirect.Close)
		ch := failedAlert(t, b, store.ChannelWebhook, map[string]any{"url": redirect.URL, "secret": testSecret}, "erp")
		require.Equal(t, Result{Claimed: 1, Failed: 1}, b.runOnce(t))
		require.Zero(t, elsewhere.Load())
		require.Contains(t, b.rows(t, ch.ID)[0].LastError, "HTTP 307")
	})
}
