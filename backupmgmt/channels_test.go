package backupmgmt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestChannelSettings(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef"
	for _, tc := range []struct {
		name  string
		kind  store.ChannelKind
		raw   string
		field string // "" means valid
	}{
		{"EmailMinimal", store.ChannelEmail, `{"host":"smtp.example.com","from":"custos@example.com"}`, ""},
		{"EmailWithAuth", store.ChannelEmail, `{"host":"smtp.example.com","from":"c@example.com","username":"u","password":"p","to":["a@example.com"]}`, ""},
		{"EmailIPv6Host", store.ChannelEmail, `{"host":"[2001:db8::1]","from":"c@example.com"}`, ""},
		{"EmailNoHost", store.ChannelEmail, `{"from":"c@example.com"}`, "settings.host"},
		{"EmailHostWithPort", store.ChannelEmail, `{"host":"smtp.example.com:25","from":"c@example.com"}`, "settings.host"},
		{"EmailBadPort", store.ChannelEmail, `{"host":"h","port":70000,"from":"c@example.com"}`, "settings.port"},
		{"EmailBadTLS", store.ChannelEmail, `{"host":"h","tls":"ssl","from":"c@example.com"}`, "settings.tls"},
		{"EmailAuthWithoutTLS", store.ChannelEmail, `{"host":"h","tls":"none","username":"u","from":"c@example.com"}`, "settings.tls"},
		{"EmailPasswordWithoutUser", store.ChannelEmail, `{"host":"h","password":"p","from":"c@example.com"}`, "settings.username"},
		{"EmailBadFrom", store.ChannelEmail, `{"host":"h","from":"nobody"}`, "settings.from"},
		{"EmailBadRecipient", store.ChannelEmail, `{"host":"h","from":"c@example.com","to":["a@example.com","x"]}`, "settings.to[1]"},
		{"EmailBadCA", store.ChannelEmail, `{"host":"h","from":"c@example.com","ca_pem":"not pem"}`, "settings.ca_pem"},
		{"EmailUnknownField", store.ChannelEmail, `{"host":"h","from":"c@example.com","pasword":"x"}`, "settings"},
		{"EmailWrongType", store.ChannelEmail, `{"host":"h","from":"c@example.com","port":"587"}`, "settings"},
		{"EmailTwoObjects", store.ChannelEmail, `{"host":"h","from":"c@example.com"} {}`, "settings"},
		{"Slack", store.ChannelSlack, `{"webhook_url":"https://hooks.slack.com/services/T/B/x"}`, ""},
		{"SlackMissingURL", store.ChannelSlack, `{}`, "settings.webhook_url"},
		{"SlackNotHTTP", store.ChannelSlack, `{"webhook_url":"ftp://hooks.slack.com/x"}`, "settings.webhook_url"},
		{"SlackUnknownField", store.ChannelSlack, `{"webhook_url":"https://h/x","channel":"#ops"}`, "settings"},
		{"Teams", store.ChannelTeams, `{"webhook_url":"https://example.webhook.office.com/x"}`, ""},
		{"TeamsRelativeURL", store.ChannelTeams, `{"webhook_url":"/x"}`, "settings.webhook_url"},
		{"Webhook", store.ChannelWebhook, `{"url":"https://hooks.example.com/in","secret":"` + secret + `","headers":{"X-Token":"t"}}`, ""},
		{"WebhookEmpty", store.ChannelWebhook, ``, "settings.url"},
		{"WebhookShortSecret", store.ChannelWebhook, `{"url":"https://h/in","secret":"short"}`, "settings.secret"},
		{"WebhookBadHeaderName", store.ChannelWebhook, `{"url":"https://h/in","secret":"` + secret + `","headers":{"X Bad":"v"}}`, "settings.headers"},
		{"WebhookHeaderInjection", store.ChannelWebhook, `{"url":"https://h/in","secret":"` + secret + `","headers":{"X-A":"v\r\nX-B: w"}}`, "settings.headers.X-A"},
		{"UnknownKind", "pager", `{}`, "kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := ChannelSettings(tc.kind, json.RawMessage(tc.raw))
			if tc.field == "" {
				require.NoError(t, err)
				require.NotNil(t, v)
				return
			}
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields, tc.field, "fields: %v", ve.Fields)
			if tc.field != "kind" {
				for f := range ve.Fields {
					require.True(t, f == "settings" || strings.HasPrefix(f, "settings."), "field %q is not named settings.<field>", f)
				}
			}
		})
	}

	t.Run("EmailDefaults", func(t *testing.T) {
		t.Parallel()
		v, err := ChannelSettings(store.ChannelEmail, json.RawMessage(`{"host":"h","from":"c@example.com"}`))
		require.NoError(t, err)
		require.Equal(t, 587, v.(*EmailSettings).Port)
		require.Equal(t, EmailSTARTTLS, v.(*EmailSettings).TLS)
		v, err = ChannelSettings(store.ChannelEmail, json.RawMessage(`{"host":"h","tls":"tls","from":"c@example.com"}`))
		require.NoError(t, err)
		require.Equal(t, 465, v.(*EmailSettings).Port)
		v, err = ChannelSettings(store.ChannelEmail, json.RawMessage(`{"host":"h","port":2525,"tls":"tls","from":"c@example.com"}`))
		require.NoError(t, err)
		require.Equal(t, 2525, v.(*EmailSettings).Port, "an explicit port is kept")
	})
}

func TestMaskChannelSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		kind    store.ChannelKind
		raw     string
		want    string
		secrets []string
	}{
		{
			"EmailPassword", store.ChannelEmail,
			`{"host":"smtp.example.com","port":587,"tls":"starttls","username":"u","password":"hunter2-smtp","from":"c@example.com"}`,
			`{"host":"smtp.example.com","port":587,"tls":"starttls","username":"u","password":"********","from":"c@example.com"}`,
			[]string{"hunter2-smtp"},
		},
		{
			"EmailWithoutPassword", store.ChannelEmail,
			`{"host":"h","port":25,"tls":"none","from":"c@example.com"}`,
			`{"host":"h","port":25,"tls":"none","from":"c@example.com"}`, nil,
		},
		{
			"SlackPathAndQuery", store.ChannelSlack,
			`{"webhook_url":"https://hooks.slack.com/services/T0/B0/slacktoken?x=querytoken"}`,
			`{"webhook_url":"https://hooks.slack.com/********"}`,
			[]string{"slacktoken", "querytoken"},
		},
		{
			"TeamsUserinfo", store.ChannelTeams,
			`{"webhook_url":"https://user:teamspass@example.webhook.office.com/wf/teamstoken"}`,
			`{"webhook_url":"https://example.webhook.office.com/********"}`,
			[]string{"teamspass", "teamstoken"},
		},
		{
			"WebhookSecretHeadersAndURL", store.ChannelWebhook,
			`{"url":"https://hooks.example.com/in?token=urltoken","secret":"hmac-secret-0123456789","headers":{"Authorization":"Bearer headertoken"}}`,
			`{"url":"https://hooks.example.com/********","secret":"********","headers":{"Authorization":"********"}}`,
			[]string{"urltoken", "hmac-secret-0123456789", "headertoken"},
		},
		{"Undecodable", store.ChannelWebhook, `{"nope":"secret-in-unknown-field"}`, `{}`, []string{"secret-in-unknown-field"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := MaskChannelSettings(tc.kind, json.RawMessage(tc.raw))
			require.JSONEq(t, tc.want, string(got))
			for _, s := range tc.secrets {
				require.NotContains(t, string(got), s)
			}
		})
	}
}

// channelSecrets are the secret values of the test channels, none of which
// may appear in an audit event.
var channelSecrets = []string{"smtp-password-1", "smtp-password-2", "slack-token-1", "hmac-secret-0123456789", "header-token-1"}

func TestChannels(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		admin := b.userFixture(t, "admin", store.RoleAdmin)
		ctx := actorCtx(t.Context(), admin)
		cs := b.svc.Channels()

		email, err := cs.Create(ctx, ChannelParams{
			Kind: store.ChannelEmail, Name: "Ops mail",
			Settings: json.RawMessage(`{"host":"smtp.example.com","username":"custos","password":"smtp-password-1","from":"custos@example.com"}`),
		})
		require.NoError(t, err)
		require.Equal(t, store.SeverityWarning, email.MinSeverity, "default min severity")
		require.True(t, email.Active, "active by default")
		require.JSONEq(t, `{"host":"smtp.example.com","port":587,"tls":"starttls","username":"custos","password":"smtp-password-1","from":"custos@example.com"}`,
			string(email.Settings), "defaults are stored")

		slack, err := cs.Create(ctx, ChannelParams{
			Kind: store.ChannelSlack, Name: "Slack", MinSeverity: store.SeverityCritical, Active: new(false),
			Settings: json.RawMessage(`{"webhook_url":"https://hooks.slack.com/services/slack-token-1"}`),
		})
		require.NoError(t, err)
		require.False(t, slack.Active)
		hook, err := cs.Create(ctx, ChannelParams{
			Kind: store.ChannelWebhook, Name: "Hook",
			Settings: json.RawMessage(`{"url":"https://hooks.example.com/in","secret":"hmac-secret-0123456789","headers":{"X-Token":"header-token-1"}}`),
		})
		require.NoError(t, err)

		t.Run("CreateRefusesBadInput", func(t *testing.T) {
			_, err := cs.Create(ctx, ChannelParams{Kind: store.ChannelEmail, Name: "", Settings: json.RawMessage(`{"host":"h"}`)})
			requireInvalid(t, err, "name")
			requireInvalid(t, err, "settings.from")
			_, err = cs.Create(ctx, ChannelParams{Kind: store.ChannelSlack, Name: "x", MinSeverity: "loud", Settings: json.RawMessage(`{"webhook_url":"https://h/x"}`)})
			requireInvalid(t, err, "min_severity")
		})

		t.Run("NameConflict", func(t *testing.T) {
			_, err := cs.Create(ctx, ChannelParams{Kind: store.ChannelSlack, Name: "ops MAIL", Settings: json.RawMessage(`{"webhook_url":"https://h/x"}`)})
			require.ErrorIs(t, err, store.ErrConflict)
			_, err = cs.Update(ctx, slack.ID, ChannelUpdate{Name: new("Hook")})
			require.ErrorIs(t, err, store.ErrConflict)
		})

		t.Run("UpdateWithMaskedValuesKeepsSecrets", func(t *testing.T) {
			shown := MaskChannelSettings(hook.Kind, hook.Settings)
			require.NotContains(t, string(shown), "hmac-secret")
			got, err := cs.Update(ctx, hook.ID, ChannelUpdate{Settings: shown})
			require.NoError(t, err)
			require.JSONEq(t, string(hook.Settings), string(got.Settings), "a masked round trip changes nothing")

			shown = MaskChannelSettings(slack.Kind, slack.Settings)
			got, err = cs.Update(ctx, slack.ID, ChannelUpdate{Settings: shown, MinSeverity: new(store.SeverityWarning)})
			require.NoError(t, err)
			require.JSONEq(t, `{"webhook_url":"https://hooks.slack.com/services/slack-token-1"}`, string(got.Settings))
			require.Equal(t, store.SeverityWarning, got.MinSeverity)

			// A new host with a masked path is not the stored URL, and a
			// stored secret never follows a new destination.
			_, err = cs.Update(ctx, slack.ID, ChannelUpdate{Settings: json.RawMessage(`{"webhook_url":"https://evil.example.com/********"}`)})
			requireInvalid(t, err, "settings.webhook_url")
			_, err = cs.Update(ctx, hook.ID, ChannelUpdate{Settings: json.RawMessage(`{"url":"https://evil.example.com/in","secret":"********","headers":{"X-Token":"********"}}`)})
			requireInvalid(t, err, "settings.secret")
			requireInvalid(t, err, "settings.headers.X-Token")
			_, err = cs.Update(ctx, email.ID, ChannelUpdate{Settings: json.RawMessage(`{"host":"smtp.evil.example.com","username":"custos","password":"********","from":"custos@example.com"}`)})
			requireInvalid(t, err, "settings.password")
			for _, id := range []string{slack.ID, hook.ID, email.ID} {
				stored, err := cs.Get(t.Context(), id)
				require.NoError(t, err)
				require.NotContains(t, string(stored.Settings), "evil", "a refused update changes nothing")
			}
		})

		t.Run("UpdateWithNewValuesReplacesSecrets", func(t *testing.T) {
			shown := MaskChannelSettings(email.Kind, email.Settings)
			var m map[string]any
			require.NoError(t, json.Unmarshal(shown, &m))
			m["password"] = "smtp-password-2"
			raw, _ := json.Marshal(m)
			got, err := cs.Update(ctx, email.ID, ChannelUpdate{Settings: raw})
			require.NoError(t, err)
			var es EmailSettings
			require.NoError(t, json.Unmarshal(got.Settings, &es))
			require.Equal(t, "smtp-password-2", es.Password)
			stored, err := cs.Get(t.Context(), email.ID)
			require.NoError(t, err)
			require.JSONEq(t, string(got.Settings), string(stored.Settings))
		})

		t.Run("UpdateRefusesBadSettings", func(t *testing.T) {
			_, err := cs.Update(ctx, hook.ID, ChannelUpdate{Settings: json.RawMessage(`{"url":"https://h/in","secret":"short"}`)})
			requireInvalid(t, err, "settings.secret")
			stored, err := cs.Get(t.Context(), hook.ID)
			require.NoError(t, err)
			require.Contains(t, string(stored.Settings), "hmac-secret-0123456789", "a refused update keeps the stored settings")
		})

		t.Run("UpdateThatChangesNothingWritesNothing", func(t *testing.T) {
			before := len(b.auditActions(t))
			_, err := cs.Update(ctx, hook.ID, ChannelUpdate{Name: new("Hook"), Active: new(true)})
			require.NoError(t, err)
			require.Len(t, b.auditActions(t), before)
			_, err = cs.Update(ctx, "01900000-0000-7000-8000-000000000000", ChannelUpdate{Name: new("x")})
			require.ErrorIs(t, err, store.ErrNotFound)
		})

		t.Run("ListFilters", func(t *testing.T) {
			page, err := cs.List(t.Context(), store.ListChannelsParams{Kind: store.ChannelSlack})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			require.Equal(t, slack.ID, page.Items[0].ID)
			_, err = cs.List(t.Context(), store.ListChannelsParams{Kind: "pager"})
			requireInvalid(t, err, "kind")
		})

		t.Run("QueueReportWritesOneRowPerActiveChannelOfTheKinds", func(t *testing.T) {
			r := &store.Report{Type: store.ReportDaily, Format: store.FormatHTML, PeriodFrom: testStart.Add(-24 * 3600e9), PeriodTo: testStart, Content: []byte("<p>x</p>")}
			require.NoError(t, b.svc.Reports().Save(ctx, r))
			// Slack is inactive: email and webhook get one row each.
			n, err := cs.QueueReport(ctx, r, "Daily report", "all good")
			require.NoError(t, err)
			require.Equal(t, 2, n)
			n, err = cs.QueueReport(ctx, r, "Daily report", "all good", store.ChannelEmail, store.ChannelSlack)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			page, err := cs.Notifications(t.Context(), store.ListNotificationsParams{ChannelID: email.ID})
			require.NoError(t, err)
			require.Len(t, page.Items, 2)
			for _, nt := range page.Items {
				require.Equal(t, r.ID, *nt.ReportID)
				require.Equal(t, store.NotificationPending, nt.State)
				var rn ReportNotice
				require.NoError(t, json.Unmarshal(nt.Payload, &rn))
				require.Equal(t, ReportNotice{
					Event: "report", ReportID: r.ID, Type: store.ReportDaily, Format: store.FormatHTML,
					Title: "Daily report", Summary: "all good", PeriodFrom: r.PeriodFrom, PeriodTo: r.PeriodTo, At: testStart,
				}, rn)
			}
			page, err = cs.Notifications(t.Context(), store.ListNotificationsParams{ChannelID: slack.ID})
			require.NoError(t, err)
			require.Empty(t, page.Items)
			_, err = cs.Notifications(t.Context(), store.ListNotificationsParams{State: "lost"})
			requireInvalid(t, err, "state")
		})

		t.Run("DeleteRemovesOutboxRows", func(t *testing.T) {
			require.NoError(t, cs.Delete(ctx, email.ID))
			_, err := cs.Get(t.Context(), email.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
			page, err := cs.Notifications(t.Context(), store.ListNotificationsParams{ChannelID: email.ID})
			require.NoError(t, err)
			require.Empty(t, page.Items)
			page, err = cs.Notifications(t.Context(), store.ListNotificationsParams{ChannelID: hook.ID})
			require.NoError(t, err)
			require.Len(t, page.Items, 1, "other channels keep theirs")
			require.ErrorIs(t, cs.Delete(ctx, email.ID), store.ErrNotFound)
		})

		t.Run("AuditNeverHoldsSettings", func(t *testing.T) {
			events, err := b.store.Audit().Range(t.Context(), 0, 100000)
			require.NoError(t, err)
			var actions []string
			for _, e := range events {
				if e.ResourceType != "channel" {
					continue
				}
				actions = append(actions, e.Action)
				require.Equal(t, "user:"+admin.ID, e.Actor)
				for _, s := range channelSecrets {
					require.NotContains(t, string(e.Details), s, "%s", e.Action)
				}
				require.NotContains(t, string(e.Details), "settings\":", "%s: settings themselves are not audited", e.Action)
			}
			require.Equal(t, []string{
				"channel.create", "channel.create", "channel.create",
				"channel.update", // slack: severity
				"channel.update", // email: the new password
				"channel.delete",
			}, actions)
		})
	})
}

func TestRedactChannelSecrets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		kind     store.ChannelKind
		settings string
		text     string
		want     string
	}{
		{
			"SlackURLWholeAndItsPath", store.ChannelSlack, `{"webhook_url":"https://hooks.slack.com/services/T0/B0/tok?x=q1q1"}`,
			`Post "https://hooks.slack.com/services/T0/B0/tok?x=q1q1": refused; path /services/T0/B0/tok; query x=q1q1`,
			`Post "[redacted]": refused; path [redacted]; query [redacted]`,
		},
		{
			"WebhookSecretAndHeaders", store.ChannelWebhook, `{"url":"https://h.example.com/in","secret":"0123456789abcdef","headers":{"Authorization":"Bearer hdr-token"}}`,
			"signed with 0123456789abcdef, sent Bearer hdr-token to https://h.example.com/in",
			"signed with [redacted], sent [redacted] to [redacted]",
		},
		{
			"EmailPasswordAndUserinfoFree", store.ChannelEmail, `{"host":"smtp.example.com","username":"u","password":"pw-123","from":"c@example.com"}`,
			"535 5.7.8 bad credentials pw-123 for u at smtp.example.com",
			"535 5.7.8 bad credentials [redacted] for u at smtp.example.com",
		},
		{
			"TeamsUserinfo", store.ChannelTeams, `{"webhook_url":"https://bob:pa55@teams.example.com/wf"}`,
			"auth bob:pa55 refused", "auth [redacted] refused",
		},
		{"Undecodable", store.ChannelSlack, `{"token":"x"}`, "text stays", "text stays"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, RedactChannelSecrets(tc.kind, json.RawMessage(tc.settings), tc.text))
		})
	}
}

// requireInvalid requires err to be a *store.ValidationError naming field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ve *store.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Contains(t, ve.Fields, field, "fields: %v", ve.Fields)
}
