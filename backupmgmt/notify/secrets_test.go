package notify

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// TestSecretsStayHidden fails a delivery on every kind of channel and
// looks for the channels' secrets in what a user or operator sees: the
// stored LastError, the logs, and the error of Test.
func TestSecretsStayHidden(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	secrets := []string{
		"PATH-SECRET-TOKEN", "QUERY-SECRET-VALUE", "hmac-secret-0123456789", "HEADER-SECRET-VALUE",
		"SLACKTOKEN-XYZ", "TEAMSSIG-ABC", "USERINFO-PASS", "smtp-wrong-pass-77",
	}
	down := newReceiver(t, http.StatusInternalServerError)
	srv := newSMTPServer(t, smtpOptions{STARTTLS: true, User: "relay", Pass: "the-right-pass", EchoAuth: true})
	mailSettings := emailSettings(srv, backupmgmt.EmailSTARTTLS)
	mailSettings["username"], mailSettings["password"] = "relay", "smtp-wrong-pass-77"
	mailSettings["to"] = []string{"ops@example.com"}

	channels := []*store.Channel{
		b.channel(t, store.ChannelWebhook, "refused", map[string]any{
			"url":     closedURL(t, "/hooks/PATH-SECRET-TOKEN?token=QUERY-SECRET-VALUE"),
			"secret":  "hmac-secret-0123456789",
			"headers": map[string]string{"X-Api-Key": "HEADER-SECRET-VALUE"},
		}),
		b.channel(t, store.ChannelWebhook, "userinfo", map[string]any{
			"url": strings.Replace(down.URL, "http://", "http://user:USERINFO-PASS@", 1) + "/h", "secret": "hmac-secret-0123456789",
		}),
		b.channel(t, store.ChannelSlack, "slack", map[string]any{"webhook_url": closedURL(t, "/services/T0/B0/SLACKTOKEN-XYZ")}),
		b.channel(t, store.ChannelTeams, "teams", map[string]any{"webhook_url": down.URL + "/invoke?sig=TEAMSSIG-ABC"}),
		b.channel(t, store.ChannelEmail, "mail", mailSettings),
	}
	for _, ch := range channels {
		b.queue(t, ch, 1)
	}

	require.Equal(t, Result{Claimed: 5, Failed: 5}, b.runOnce(t))
	seen := []string{b.logs.String()}
	for _, ch := range channels {
		row := b.rows(t, ch.ID)[0]
		require.NotEmpty(t, row.LastError, ch.Name)
		seen = append(seen, row.LastError)
		err := b.d.Test(t.Context(), ch)
		require.Error(t, err, ch.Name)
		seen = append(seen, err.Error())
	}
	require.Contains(t, seen[0], "delivery failed", "failures are logged")
	for _, text := range seen {
		for _, s := range secrets {
			require.NotContains(t, text, s)
		}
	}
	require.Empty(t, srv.received())
	require.Contains(t, b.rows(t, channels[4].ID)[0].LastError, `535 "5.7.8 authentication failed for  relay [redacted]"`)
	require.Contains(t, b.rows(t, channels[0].ID)[0].LastError, "connection refused")
}
