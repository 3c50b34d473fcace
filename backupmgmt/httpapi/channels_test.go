package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// fakeTester is a ChannelTester that records the channels it was given and
// fails with err, or what fail returns, when set.
type fakeTester struct {
	mu   sync.Mutex
	got  []store.Channel
	err  error
	fail func(ch *store.Channel) error
}

func (f *fakeTester) Test(ctx context.Context, ch *store.Channel) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, *ch)
	if f.fail != nil {
		return f.fail(ch)
	}
	return f.err
}

// leakyError is what a careless sender might return: every setting of the
// channel, secrets included, as an HTTP client quotes a URL.
func leakyError(ch *store.Channel) error {
	return fmt.Errorf("Post failed: dial tcp: connection refused; settings were %s", ch.Settings)
}

const (
	testSMTPPassword = "smtp-pass-9f8e7d"
	testSlackToken   = "T000/B000/slacktok9f8e7d"
	testHMACSecret   = "hmac-secret-9f8e7d6c5b4a"
	testHeaderToken  = "header-tok-9f8e7d"
	testQueryToken   = "query-tok-9f8e7d"
)

var testChannelSecrets = []string{testSMTPPassword, testSlackToken, "slacktok9f8e7d", testHMACSecret, testHeaderToken, testQueryToken}

func emailChannelBody(name string) map[string]any {
	return map[string]any{
		"kind": "email", "name": name, "min_severity": "error",
		"settings": map[string]any{
			"host": "smtp.example.com", "username": "custos", "password": testSMTPPassword,
			"from": "custos@example.com", "to": []string{"ops@example.com"},
		},
	}
}

func TestChannelsAPI(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		c := opsAdmin(t, b)
		ctx := context.Background()

		var email Channel
		opsOK(t, b.do(t, c, "POST", "/api/v1/channels", emailChannelBody("Ops mail")), http.StatusCreated, &email)
		require.Equal(t, store.ChannelEmail, email.Kind)
		require.Equal(t, store.SeverityError, email.MinSeverity)
		require.True(t, email.Active)
		require.JSONEq(t, `{"host":"smtp.example.com","port":587,"tls":"starttls","username":"custos","password":"********",
			"from":"custos@example.com","to":["ops@example.com"]}`, string(email.Settings))

		var slack Channel
		opsOK(t, b.do(t, c, "POST", "/api/v1/channels", map[string]any{
			"kind": "slack", "name": "Slack #ops", "active": false,
			"settings": map[string]any{"webhook_url": "https://hooks.slack.com/services/" + testSlackToken},
		}), http.StatusCreated, &slack)
		require.False(t, slack.Active)
		require.Equal(t, store.SeverityWarning, slack.MinSeverity)
		require.JSONEq(t, `{"webhook_url":"https://hooks.slack.com/********"}`, string(slack.Settings))
		var hook Channel
		opsOK(t, b.do(t, c, "POST", "/api/v1/channels", map[string]any{
			"kind": "webhook", "name": "Receiver",
			"settings": map[string]any{"url": "https://hooks.example.com/in", "secret": testHMACSecret},
		}), http.StatusCreated, &hook)

		t.Run("ListFiltersAndPages", func(t *testing.T) {
			var l List[Channel]
			opsOK(t, b.do(t, c, "GET", "/api/v1/channels?limit=2", nil), http.StatusOK, &l)
			require.Equal(t, []string{"Ops mail", "Receiver"}, []string{l.Items[0].Name, l.Items[1].Name}, "ordered by name")
			require.NotEmpty(t, l.NextCursor)
			var next List[Channel]
			opsOK(t, b.do(t, c, "GET", "/api/v1/channels?limit=2&cursor="+l.NextCursor, nil), http.StatusOK, &next)
			require.Len(t, next.Items, 1)
			require.Equal(t, slack.ID, next.Items[0].ID)
			require.Empty(t, next.NextCursor)

			opsOK(t, b.do(t, c, "GET", "/api/v1/channels?kind=slack", nil), http.StatusOK, &l)
			require.Len(t, l.Items, 1)
			require.Equal(t, slack.ID, l.Items[0].ID)
			opsOK(t, b.do(t, c, "GET", "/api/v1/channels?active=true", nil), http.StatusOK, &l)
			require.Len(t, l.Items, 2)
			for _, ch := range l.Items {
				require.True(t, ch.Active)
			}
		})

		t.Run("GetShowsMaskedSettings", func(t *testing.T) {
			var got Channel
			opsOK(t, b.do(t, c, "GET", "/api/v1/channels/"+hook.ID, nil), http.StatusOK, &got)
			require.JSONEq(t, `{"url":"https://hooks.example.com/********","secret":"********"}`, string(got.Settings))
		})

		t.Run("PatchWithShownSettingsKeepsSecrets", func(t *testing.T) {
			var got Channel
			opsOK(t, b.do(t, c, "PATCH", "/api/v1/channels/"+email.ID, map[string]any{
				"settings": email.Settings, "name": "Ops email", "active": false,
			}), http.StatusOK, &got)
			require.Equal(t, "Ops email", got.Name)
			require.False(t, got.Active)
			stored, err := b.svc.Channels().Get(ctx, email.ID)
			require.NoError(t, err)
			require.Contains(t, string(stored.Settings), testSMTPPassword)

			opsOK(t, b.do(t, c, "PATCH", "/api/v1/channels/"+email.ID, map[string]any{
				"settings": map[string]any{"host": "smtp2.example.com", "username": "custos", "password": "new-pass-1234", "from": "custos@example.com"},
			}), http.StatusOK, &got)
			require.Contains(t, string(got.Settings), `"smtp2.example.com"`)
			stored, err = b.svc.Channels().Get(ctx, email.ID)
			require.NoError(t, err)
			require.Contains(t, string(stored.Settings), "new-pass-1234")
			require.NotContains(t, string(stored.Settings), testSMTPPassword)
			_, err = b.svc.Channels().Update(ctx, email.ID, backupmgmt.ChannelUpdate{Settings: emailSettingsJSON(t)})
			require.NoError(t, err)
		})

		t.Run("DeleteRemovesIt", func(t *testing.T) {
			var tmp Channel
			opsOK(t, b.do(t, c, "POST", "/api/v1/channels", emailChannelBody("Doomed")), http.StatusCreated, &tmp)
			res := b.do(t, c, "DELETE", "/api/v1/channels/"+tmp.ID, nil)
			require.Equal(t, http.StatusNoContent, res.Code, "%s", res.Body)
			res = b.do(t, c, "GET", "/api/v1/channels/"+tmp.ID, nil)
			require.Equal(t, http.StatusNotFound, res.Code)
			require.Equal(t, "channel_not_found", res.errBody(t).Code)
			res = b.do(t, c, "DELETE", "/api/v1/channels/"+tmp.ID, nil)
			require.Equal(t, http.StatusNotFound, res.Code)
		})

		t.Run("RefusesBadInput", func(t *testing.T) {
			good := emailChannelBody("Other")
			withSettings := func(s map[string]any) map[string]any {
				out := map[string]any{}
				for k, v := range good {
					out[k] = v
				}
				out["settings"] = s
				return out
			}
			cases := []opsBadInput{
				{"UnknownKind", "POST", "/api/v1/channels", map[string]any{"kind": "pager", "name": "x", "settings": map[string]any{}}, 400, "invalid_input", "kind"},
				{"MissingSettings", "POST", "/api/v1/channels", map[string]any{"kind": "slack", "name": "x"}, 400, "invalid_input", "settings"},
				{"BadSettingsField", "POST", "/api/v1/channels", withSettings(map[string]any{"host": "h", "from": "not an address"}), 400, "invalid_input", "settings.from"},
				{"UnknownSettingsField", "POST", "/api/v1/channels", withSettings(map[string]any{"host": "h", "from": "a@example.com", "pass": "x"}), 400, "invalid_input", "settings"},
				{"SettingsNotAnObject", "POST", "/api/v1/channels", withSettings(nil), 400, "invalid_input", "settings.host"},
				{"BadSeverity", "POST", "/api/v1/channels", map[string]any{"kind": "slack", "name": "x", "min_severity": "loud", "settings": map[string]any{"webhook_url": "https://h/x"}}, 400, "invalid_input", "min_severity"},
				{"NameTaken", "POST", "/api/v1/channels", map[string]any{"kind": "slack", "name": "receiver", "settings": map[string]any{"webhook_url": "https://h/x"}}, 409, "conflict", ""},
				{"UnknownField", "POST", "/api/v1/channels", map[string]any{"kind": "slack", "name": "x", "secret": "y", "settings": map[string]any{}}, 400, "invalid_input", "secret"},
				{"PatchKind", "PATCH", "/api/v1/channels/" + hook.ID, map[string]any{"kind": "slack"}, 400, "invalid_input", "kind"},
				{"PatchBadSettings", "PATCH", "/api/v1/channels/" + hook.ID, map[string]any{"settings": map[string]any{"url": "https://h/in", "secret": "short"}}, 400, "invalid_input", "settings.secret"},
				{"PatchUnknown", "PATCH", "/api/v1/channels/01900000-0000-7000-8000-000000000000", map[string]any{"name": "x"}, 404, "channel_not_found", ""},
				{"GetUnknown", "GET", "/api/v1/channels/01900000-0000-7000-8000-000000000000", nil, 404, "channel_not_found", ""},
				{"GetBadID", "GET", "/api/v1/channels/not-an-id", nil, 404, "channel_not_found", ""},
				{"ListUnknownKind", "GET", "/api/v1/channels?kind=pager", nil, 400, "invalid_input", "kind"},
				{"ListBadActive", "GET", "/api/v1/channels?active=maybe", nil, 400, "invalid_input", "active"},
				{"TestNotConfigured", "POST", "/api/v1/channels/" + hook.ID + "/test", nil, 501, "not_configured", ""},
			}
			opsCheckBad(t, b, c, cases, func(t *testing.T) {
				page, err := b.svc.Channels().List(ctx, store.ListChannelsParams{})
				require.NoError(t, err)
				require.Len(t, page.Items, 3, "nothing refused was stored")
				stored, err := b.svc.Channels().Get(ctx, hook.ID)
				require.NoError(t, err)
				require.Contains(t, string(stored.Settings), testHMACSecret)
			})
		})

		t.Run("OnlyAdmins", func(t *testing.T) {
			op := opsAs(t, b, "operator", store.RoleOperator)
			for _, rq := range [][2]string{{"GET", "/api/v1/channels"}, {"GET", "/api/v1/channels/" + hook.ID}, {"POST", "/api/v1/channels/" + hook.ID + "/test"}, {"GET", "/api/v1/notifications"}} {
				res := b.do(t, op, rq[0], rq[1], nil)
				require.Equal(t, http.StatusForbidden, res.Code, "%s %s", rq[0], rq[1])
			}
		})
	})
}

func emailSettingsJSON(t *testing.T) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(emailChannelBody("")["settings"])
	require.NoError(t, err)
	return raw
}

func TestChannelTestSend(t *testing.T) {
	t.Parallel()
	tester := &fakeTester{}
	b := setup(t, dbopen.SQLite, &Config{ChannelTester: tester})
	c := opsAdmin(t, b)
	var ch Channel
	opsOK(t, b.do(t, c, "POST", "/api/v1/channels", emailChannelBody("Ops mail")), http.StatusCreated, &ch)

	t.Run("SendsWithTheStoredSecrets", func(t *testing.T) {
		var out ChannelTestResult
		opsOK(t, b.do(t, c, "POST", "/api/v1/channels/"+ch.ID+"/test", nil), http.StatusOK, &out)
		require.True(t, out.Sent)
		tester.mu.Lock()
		defer tester.mu.Unlock()
		require.Len(t, tester.got, 1)
		require.Equal(t, ch.ID, tester.got[0].ID)
		require.Contains(t, string(tester.got[0].Settings), testSMTPPassword, "the tester gets the real settings")
	})

	t.Run("FailureIs502WithoutSecrets", func(t *testing.T) {
		tester.mu.Lock()
		tester.err = fmt.Errorf("535 authentication failed for custos/%s: %w", testSMTPPassword, errors.New("connection reset"))
		tester.mu.Unlock()
		res := b.do(t, c, "POST", "/api/v1/channels/"+ch.ID+"/test", nil)
		require.Equal(t, http.StatusBadGateway, res.Code)
		e := res.errBody(t)
		require.Equal(t, "channel_test_failed", e.Code)
		require.Contains(t, e.Message, "535 authentication failed")
		require.Contains(t, e.Message, "[redacted]")
		require.NotContains(t, string(res.Body), testSMTPPassword)
		require.NotContains(t, b.logBuf.String(), testSMTPPassword)
		require.Contains(t, b.logBuf.String(), "channel test failed", "the failure is logged, redacted")
	})

	t.Run("UnknownChannel", func(t *testing.T) {
		res := b.do(t, c, "POST", "/api/v1/channels/01900000-0000-7000-8000-000000000000/test", nil)
		require.Equal(t, http.StatusNotFound, res.Code)
		require.Equal(t, "channel_not_found", res.errBody(t).Code)
	})
}

// TestChannelSecretsNeverLeave creates channels with every kind of secret
// and goes through every route that shows a channel or its outbox: no
// response body and no log line may hold a secret.
func TestChannelSecretsNeverLeave(t *testing.T) {
	t.Parallel()
	tester := &fakeTester{}
	b := setup(t, dbopen.SQLite, &Config{ChannelTester: tester})
	c := opsAdmin(t, b)
	ctx := context.Background()
	var bodies []string
	do := func(method, path string, body any, want int) []byte {
		res := b.do(t, c, method, path, body)
		require.Equal(t, want, res.Code, "%s %s: %s", method, path, res.Body)
		bodies = append(bodies, string(res.Body))
		return res.Body
	}

	var email, slack, hook Channel
	require.NoError(t, json.Unmarshal(do("POST", "/api/v1/channels", emailChannelBody("Mail"), 201), &email))
	require.NoError(t, json.Unmarshal(do("POST", "/api/v1/channels", map[string]any{
		"kind": "slack", "name": "Slack", "settings": map[string]any{"webhook_url": "https://hooks.slack.com/services/" + testSlackToken},
	}, 201), &slack))
	require.NoError(t, json.Unmarshal(do("POST", "/api/v1/channels", map[string]any{
		"kind": "webhook", "name": "Hook", "settings": map[string]any{
			"url": "https://hooks.example.com/in?token=" + testQueryToken, "secret": testHMACSecret,
			"headers": map[string]string{"Authorization": "Bearer " + testHeaderToken},
		},
	}, 201), &hook))
	do("GET", "/api/v1/channels", nil, 200)
	for _, ch := range []Channel{email, slack, hook} {
		do("GET", "/api/v1/channels/"+ch.ID, nil, 200)
		do("PATCH", "/api/v1/channels/"+ch.ID, map[string]any{"settings": ch.Settings, "min_severity": "critical"}, 200)
	}
	// A refused update echoes no submitted secret either.
	do("PATCH", "/api/v1/channels/"+hook.ID, map[string]any{"settings": map[string]any{"url": "https://hooks.example.com/" + testQueryToken, "secret": testHMACSecret, "extra": testHeaderToken}}, 400)

	// A sender's error quoting the URL, the token and the password.
	tester.fail = leakyError
	for _, ch := range []Channel{email, slack, hook} {
		do("POST", "/api/v1/channels/"+ch.ID+"/test", nil, 502)
	}

	// Outbox rows whose last error quotes the channel's secrets.
	r := &store.Report{Type: store.ReportDaily, Format: store.FormatCSV, PeriodFrom: testStart.Add(-24 * 3600e9), PeriodTo: testStart, Content: []byte("x")}
	require.NoError(t, b.svc.Reports().Save(ctx, r))
	_, err := b.svc.Channels().QueueReport(ctx, r, "Daily", "")
	require.NoError(t, err)
	rows, err := b.store.Notifications().List(ctx, store.ListNotificationsParams{})
	require.NoError(t, err)
	require.Len(t, rows.Items, 3)
	for _, row := range rows.Items {
		ch, err := b.svc.Channels().Get(ctx, row.ChannelID)
		require.NoError(t, err)
		row.State, row.Attempts, row.LastError = store.NotificationFailed, 1, leakyError(ch).Error()
		require.NoError(t, b.store.Notifications().Update(ctx, &row))
	}
	var outbox List[Notification]
	require.NoError(t, json.Unmarshal(do("GET", "/api/v1/notifications", nil, 200), &outbox))
	require.Len(t, outbox.Items, 3)
	for _, n := range outbox.Items {
		require.Contains(t, n.LastError, "[redacted]")
	}

	logs := b.logBuf.String()
	for _, s := range testChannelSecrets {
		for i, body := range bodies {
			require.NotContains(t, body, s, "response %d", i)
		}
		require.NotContains(t, logs, s, "the API log")
	}
	require.True(t, strings.Contains(logs, "channel test failed"), "the failures were logged")
}
