package notify

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header  mail.Header
	Subject string
	Text    string
	HTML    string
	// Files maps attachment file names to their decoded content.
	Files map[string][]byte
}

func parseMail(t *testing.T, data []byte) *parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	p := &parsedMail{Header: msg.Header, Subject: subject, Files: map[string][]byte{}}
	walkParts(t, msg.Header.Get("Content-Type"), msg.Body, p)
	return p
}

// walkParts collects the text, HTML and attachments of a MIME tree;
// multipart.Part decodes quoted-printable itself, base64 is decoded here.
func walkParts(t *testing.T, contentType string, body io.Reader, p *parsedMail) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	require.NoError(t, err)
	if !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("unexpected leaf %s at the top", mt)
	}
	r := multipart.NewReader(body, params["boundary"])
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		ct := part.Header.Get("Content-Type")
		pt, _, err := mime.ParseMediaType(ct)
		require.NoError(t, err)
		if strings.HasPrefix(pt, "multipart/") {
			walkParts(t, ct, part, p)
			continue
		}
		data, err := io.ReadAll(part)
		require.NoError(t, err)
		if name := part.FileName(); name != "" {
			require.Equal(t, "base64", part.Header.Get("Content-Transfer-Encoding"))
			dec, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(data)))
			require.NoError(t, err)
			p.Files[name] = dec
			continue
		}
		switch pt {
		case "text/plain":
			p.Text = string(data)
		case "text/html":
			p.HTML = string(data)
		}
	}
}

func emailSettings(srv *smtpServer, tls backupmgmt.EmailTLS) map[string]any {
	_, caPEM := testCert()
	return map[string]any{
		"host": "127.0.0.1", "port": srv.port(), "tls": tls, "from": "Custos <custos@example.com>",
		"ca_pem": caPEM,
	}
}

func TestEmail(t *testing.T) {
	t.Parallel()

	t.Run("SendsOverSTARTTLSToOwnerAdminsAndListedAddressesEscapingHTML", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			srv := newSMTPServer(t, smtpOptions{STARTTLS: true, User: "relay-user", Pass: "relay-pass-123"})
			owner := b.user(t, "olivia", "olivia@example.com", store.RoleOperator, true)
			b.user(t, "adam", "adam@example.com", store.RoleAdmin, true)
			b.user(t, "ivan", "ivan@example.com", store.RoleAdmin, false)
			b.user(t, "vera", "vera@example.com", store.RoleViewer, true)
			settings := emailSettings(srv, backupmgmt.EmailSTARTTLS)
			settings["username"], settings["password"] = "relay-user", "relay-pass-123"
			settings["to"] = []string{"ops@example.com", "Adam@Example.com"}
			job := b.job(t, "<script>", owner) // before the channel, which so misses the job's compliance alert
			ch := b.channel(t, store.ChannelEmail, "mail", settings)
			b.fail(t, job, `exit 1 & "disk <full>"`)

			res := b.runOnce(t)
			require.Equal(t, Result{Claimed: 1, Sent: 1}, res)
			mails := srv.received()
			require.Len(t, mails, 1)
			got := mails[0]
			require.True(t, got.TLS, "the message went over TLS")
			require.Equal(t, "relay-user", got.AuthUser)
			require.Equal(t, "custos@example.com", got.From)
			require.ElementsMatch(t, []string{"ops@example.com", "Adam@Example.com", "olivia@example.com"}, got.To)

			rows := b.rows(t, ch.ID)
			require.Len(t, rows, 1)
			require.Equal(t, store.NotificationSent, rows[0].State)
			require.NotNil(t, rows[0].SentAt)
			require.Equal(t, b.svc.Now(), *rows[0].SentAt)

			m := parseMail(t, got.Data)
			require.Equal(t, "[Custos] ERROR: backup_failed — backup of `<script>` failed", m.Subject)
			require.Equal(t, "<"+rows[0].ID+"@custos.test>", m.Header.Get("Message-ID"))
			require.Equal(t, rows[0].ID, m.Header.Get("X-Custos-Delivery"))
			require.Contains(t, m.Text, "Job: <script>")
			require.Contains(t, m.Text, `exit 1 & "disk <full>"`)
			require.Contains(t, m.HTML, "&lt;script&gt;")
			require.Contains(t, m.HTML, "exit 1 &amp; &#34;disk &lt;full&gt;&#34;")
			require.NotContains(t, m.HTML, "<script>")
			require.NotContains(t, m.HTML, "<full>")
		})
	})

	t.Run("SendsOverImplicitTLS", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		srv := newSMTPServer(t, smtpOptions{Implicit: true, User: "u", Pass: "implicit-pass"})
		b.user(t, "adam", "adam@example.com", store.RoleAdmin, true)
		settings := emailSettings(srv, backupmgmt.EmailImplicit)
		settings["username"], settings["password"] = "u", "implicit-pass"
		ch := b.channel(t, store.ChannelEmail, "mail", settings)

		require.NoError(t, b.d.Test(t.Context(), ch))
		mails := srv.received()
		require.Len(t, mails, 1)
		require.True(t, mails[0].TLS)
		require.Equal(t, "u", mails[0].AuthUser)
		require.Equal(t, []string{"adam@example.com"}, mails[0].To)
		m := parseMail(t, mails[0].Data)
		require.Equal(t, "[Custos] Test message", m.Subject)
		require.Contains(t, m.Text, "Channel: mail")
		require.Contains(t, m.HTML, "<td style=\"border-bottom:1px solid #ddd\">mail</td>")
	})

	t.Run("RefusesAServerWithoutSTARTTLS", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		srv := newSMTPServer(t, smtpOptions{})
		settings := emailSettings(srv, backupmgmt.EmailSTARTTLS)
		settings["username"], settings["password"] = "u", "never-sent-in-clear"
		settings["to"] = []string{"ops@example.com"}
		job := b.job(t, "erp", nil)
		ch := b.channel(t, store.ChannelEmail, "mail", settings)
		b.fail(t, job, "")

		res := b.runOnce(t)
		require.Equal(t, Result{Claimed: 1, Failed: 1}, res)
		require.Empty(t, srv.received(), "no mail without STARTTLS")
		require.Zero(t, srv.auths(), "no credentials without STARTTLS")
		rows := b.rows(t, ch.ID)
		require.Equal(t, store.NotificationFailed, rows[0].State)
		require.Contains(t, rows[0].LastError, "STARTTLS")
		require.Equal(t, b.svc.Now().Add(Backoff(1)), rows[0].NextAttemptAt)

		err := b.d.Test(t.Context(), ch)
		require.ErrorContains(t, err, "does not offer STARTTLS")
	})

	t.Run("RefusesAnUntrustedCertificate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		srv := newSMTPServer(t, smtpOptions{STARTTLS: true})
		settings := emailSettings(srv, backupmgmt.EmailSTARTTLS)
		delete(settings, "ca_pem")
		settings["to"] = []string{"ops@example.com"}
		ch := b.channel(t, store.ChannelEmail, "mail", settings)

		err := b.d.Test(t.Context(), ch)
		require.ErrorContains(t, err, "STARTTLS")
		require.Empty(t, srv.received())
	})

	t.Run("SkipsARejectedRecipientButDeliversToTheOthers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		srv := newSMTPServer(t, smtpOptions{STARTTLS: true, Reject: []string{"gone@example.com"}})
		settings := emailSettings(srv, backupmgmt.EmailSTARTTLS)
		settings["to"] = []string{"gone@example.com", "ops@example.com"}
		settings["skip_admins"] = true
		ch := b.channel(t, store.ChannelEmail, "mail", settings)

		require.NoError(t, b.d.Test(t.Context(), ch))
		mails := srv.received()
		require.Len(t, mails, 1)
		require.Equal(t, []string{"ops@example.com"}, mails[0].To)
	})

	t.Run("IsDeadWithoutRecipients", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		srv := newSMTPServer(t, smtpOptions{STARTTLS: true})
		owner := b.user(t, "olivia", "olivia@example.com", store.RoleOperator, true)
		b.user(t, "adam", "adam@example.com", store.RoleAdmin, true)
		settings := emailSettings(srv, backupmgmt.EmailSTARTTLS)
		settings["skip_owner"], settings["skip_admins"] = true, true
		job := b.job(t, "erp", owner)
		ch := b.channel(t, store.ChannelEmail, "mail", settings)
		b.fail(t, job, "")

		require.Equal(t, Result{Claimed: 1, Dead: 1}, b.runOnce(t))
		rows := b.rows(t, ch.ID)
		require.Equal(t, store.NotificationDead, rows[0].State)
		require.Contains(t, rows[0].LastError, "no recipients")
		require.Empty(t, srv.received())
	})

	t.Run("AttachesTheReport", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		srv := newSMTPServer(t, smtpOptions{STARTTLS: true})
		settings := emailSettings(srv, backupmgmt.EmailSTARTTLS)
		settings["to"] = []string{"ops@example.com"}
		b.channel(t, store.ChannelEmail, "mail", settings)
		hook := newReceiver(t, 200)
		b.channel(t, store.ChannelWebhook, "hook", map[string]any{"url": hook.URL, "secret": "0123456789abcdef"})
		content := []byte("<!DOCTYPE html><h1>Daily report</h1>\n" + strings.Repeat("row,", 100))
		rep := &store.Report{
			Type: store.ReportDaily, Format: store.FormatHTML, Content: content,
			PeriodFrom: testStart.Add(-9 * time.Hour), PeriodTo: testStart.Add(15 * time.Hour),
		}
		require.NoError(t, b.svc.Reports().Save(t.Context(), rep))
		n, err := b.svc.Channels().QueueReport(t.Context(), rep, "Daily report 2026-12-01", "12 runs, 1 failed", store.ChannelEmail)
		require.NoError(t, err)
		require.Equal(t, 1, n)

		require.Equal(t, Result{Claimed: 1, Sent: 1}, b.runOnce(t))
		require.Empty(t, hook.requests(), "the report went to email channels only")
		mails := srv.received()
		require.Len(t, mails, 1)
		m := parseMail(t, mails[0].Data)
		require.Equal(t, "[Custos] Daily report 2026-12-01", m.Subject)
		require.Contains(t, m.Text, "12 runs, 1 failed")
		require.Contains(t, m.HTML, "12 runs, 1 failed")
		require.Equal(t, []string{"custos-daily-2026-12-01.html"}, slices.Collect(maps.Keys(m.Files)))
		require.Equal(t, content, m.Files["custos-daily-2026-12-01.html"])
	})
}

func TestCompose(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	from, err := mail.ParseAddress("custos@example.com")
	require.NoError(t, err)

	t.Run("KeepsHeaderValuesOnOneLine", func(t *testing.T) {
		t.Parallel()
		m := &message{ID: "n1", Subject: "[Custos] x\r\nBcc: victim@example.com\r\n\r\nbody", Headline: "h"}
		data, err := b.d.compose(m, from, []string{"ops@example.com"})
		require.NoError(t, err)
		p := parseMail(t, data)
		require.Empty(t, p.Header.Get("Bcc"))
		require.Equal(t, "[Custos] x Bcc: victim@example.com  body", p.Subject)
	})

	t.Run("FoldsLongHeaders", func(t *testing.T) {
		t.Parallel()
		var rcpts []string
		for i := range 60 {
			rcpts = append(rcpts, fmt.Sprintf("administrator-%02d@backup.example.com", i))
		}
		subject := "[Custos] CRITICAL: backup_failed — " + strings.Repeat("データベース ", 40)
		data, err := b.d.compose(&message{ID: "n3", Subject: subject, Headline: "h"}, from, rcpts)
		require.NoError(t, err)
		for line := range strings.SplitSeq(string(data), "\r\n") {
			require.LessOrEqual(t, len(line), 998)
		}
		p := parseMail(t, data)
		require.Equal(t, subject, p.Subject)
		to, err := p.Header.AddressList("To")
		require.NoError(t, err)
		require.Len(t, to, 60)
		require.Equal(t, rcpts[59], to[59].Address)
	})

	t.Run("EncodesNonASCIISubjects", func(t *testing.T) {
		t.Parallel()
		m := &message{ID: "n2", Subject: "[Custos] バックアップ失敗", Headline: "h", Body: "日本語の本文"}
		data, err := b.d.compose(m, from, []string{"ops@example.com"})
		require.NoError(t, err)
		raw, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
		for _, c := range raw {
			require.Less(t, c, byte(0x80), "headers are ASCII")
		}
		p := parseMail(t, data)
		require.Equal(t, "[Custos] バックアップ失敗", p.Subject)
		require.Contains(t, p.Text, "日本語の本文")
		require.Contains(t, p.HTML, "日本語の本文")
	})
}
