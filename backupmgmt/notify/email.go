package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// emailTransport sends a message by SMTP.
type emailTransport struct {
	d *Dispatcher
	s *backupmgmt.EmailSettings
}

func (t *emailTransport) send(ctx context.Context, m *message) error {
	from, err := mail.ParseAddress(t.s.From)
	if err != nil {
		return permanent("settings.from is not an email address")
	}
	rcpts, err := t.recipients(ctx, m)
	if err != nil {
		return err
	}
	if len(rcpts) == 0 {
		return permanent("no recipients: settings.to is empty and no active owner or admin has an email address")
	}
	msg, err := t.d.compose(m, from, rcpts)
	if err != nil {
		return fmt.Errorf("compose email: %w", err)
	}
	return t.deliver(ctx, from.Address, rcpts, msg)
}

// recipients are settings.to, the active owner of the alert's job and the
// active admins (unless the settings skip them), each address once,
// ignoring case.
func (t *emailTransport) recipients(ctx context.Context, m *message) ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	add := func(addr string) {
		a, err := mail.ParseAddress(addr)
		if err != nil || seen[strings.ToLower(a.Address)] {
			return
		}
		seen[strings.ToLower(a.Address)] = true
		out = append(out, a.Address)
	}
	for _, to := range t.s.To {
		add(to)
	}
	users := t.d.svc.Store().Users()
	if !t.s.NoOwner && m.OwnerID != "" {
		u, err := users.Get(ctx, m.OwnerID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("read job owner: %w", err)
		case u.Active && u.Email != "":
			add(u.Email)
		}
	}
	if !t.s.NoAdmins {
		active := true
		p := store.ListUsersParams{Role: store.RoleAdmin, Active: &active, PageParams: store.PageParams{Limit: store.LimitMax}}
		for {
			page, err := users.List(ctx, p)
			if err != nil {
				return nil, fmt.Errorf("list admins: %w", err)
			}
			for _, u := range page.Items {
				if u.Active && u.Email != "" {
					add(u.Email)
				}
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
	}
	return out, nil
}

// host is the relay's name or address, an IPv6 one without brackets.
func (t *emailTransport) host() string { return strings.Trim(t.s.Host, "[]") }

func (t *emailTransport) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{ServerName: t.host(), MinVersion: tls.VersionTLS12}
	if t.s.CAPEM != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(t.s.CAPEM)) {
			return nil, permanent("settings.ca_pem holds no certificate")
		}
		cfg.RootCAs = pool
	}
	if t.d.cfg.TLSConfig != nil {
		t.d.cfg.TLSConfig(cfg)
	}
	return cfg, nil
}

// deliver runs one SMTP conversation, bounded by Config.SMTPTimeout.
// STARTTLS, when the settings ask for it, is required: without it the
// conversation stops before any credential or message is sent.
func (t *emailTransport) deliver(ctx context.Context, from string, rcpts []string, msg []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, t.d.cfg.SMTPTimeout)
	defer cancel()
	// A cancelled context closes the connection, which fails as a network
	// error: say it was the cancellation, so the attempt is refunded.
	defer func() {
		if err != nil && errors.Is(ctx.Err(), context.Canceled) && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w (%w)", err, context.Canceled)
		}
	}()
	tlsCfg, err := t.tlsConfig()
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(t.host(), strconv.Itoa(t.s.Port))
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp connect: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if t.s.TLS == backupmgmt.EmailImplicit {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("smtp tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, t.host())
	if err != nil {
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(oneLine(t.d.cfg.Hostname)); err != nil {
		return fmt.Errorf("smtp EHLO: %w", err)
	}
	secure := t.s.TLS == backupmgmt.EmailImplicit
	if t.s.TLS == backupmgmt.EmailSTARTTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("smtp: the server does not offer STARTTLS, which the channel requires")
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("smtp STARTTLS: %w", err)
		}
		secure = true
	}
	if t.s.Username != "" {
		if !secure {
			return permanent("smtp: AUTH needs TLS")
		}
		if err := c.Auth(smtp.PlainAuth("", t.s.Username, t.s.Password, t.host())); err != nil {
			return fmt.Errorf("smtp AUTH: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	var accepted int
	var rejected []string
	for _, r := range rcpts {
		err := c.Rcpt(r)
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			// One bad address must not keep the message from the others.
			rejected = append(rejected, fmt.Sprintf("%s (%d)", r, te.Code))
			continue
		}
		if err != nil {
			return fmt.Errorf("smtp RCPT TO: %w", err)
		}
		accepted++
	}
	if accepted == 0 {
		return fmt.Errorf("smtp: every recipient was rejected: %s", strings.Join(rejected, ", "))
	}
	if len(rejected) > 0 {
		t.d.log.WarnContext(ctx, "notify: recipients rejected", "rejected", len(rejected), "accepted", accepted)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	// The message is accepted once DATA is: a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// oneLine drops CR and LF, so no value can start a header of its own.
func oneLine(s string) string {
	return strings.NewReplacer("\r", "", "\n", " ").Replace(s)
}

var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:sans-serif;color:#222">
<h2 style="margin:0 0 .5em">{{.Subject}}</h2>
<p><strong>{{.Headline}}</strong></p>
{{if .Body}}<p style="white-space:pre-wrap">{{.Body}}</p>{{end}}
<table cellpadding="4" style="border-collapse:collapse">
{{range .Facts}}<tr><th align="left" style="border-bottom:1px solid #ddd">{{.Label}}</th><td style="border-bottom:1px solid #ddd">{{.Value}}</td></tr>
{{end}}</table>
{{if .Link}}<p><a href="{{.Link}}">Open in Custos</a></p>{{end}}
</body></html>
`))

// compose renders the RFC 5322 message: multipart/alternative text and
// HTML, inside multipart/mixed with the report file when there is one.
// Header values are one line each and encoded; every value in the HTML
// part is escaped by html/template.
func (d *Dispatcher) compose(m *message, from *mail.Address, rcpts []string) ([]byte, error) {
	var htmlBody bytes.Buffer
	if err := emailHTML.Execute(&htmlBody, m); err != nil {
		return nil, err
	}
	var alt bytes.Buffer
	aw := multipart.NewWriter(&alt)
	if err := qpPart(aw, "text/plain; charset=utf-8", []byte(m.text())); err != nil {
		return nil, err
	}
	if err := qpPart(aw, "text/html; charset=utf-8", htmlBody.Bytes()); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	altType := mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": aw.Boundary()})

	to := make([]string, len(rcpts))
	for i, r := range rcpts {
		to[i] = (&mail.Address{Address: r}).String()
	}
	host := strings.NewReplacer("<", "", ">", "", " ", "", "\r", "", "\n", "").Replace(d.cfg.Hostname)
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, oneLine(v)) }
	hdr("From", from.String())
	// Long values are folded (CRLF and a space) so that no line passes
	// the 998 characters of RFC 5322, however many admins there are.
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(to, ",\r\n "))
	fmt.Fprintf(&b, "Subject: %s\r\n", strings.ReplaceAll(mime.QEncoding.Encode("utf-8", oneLine(m.Subject)), "?= =?", "?=\r\n =?"))
	hdr("Date", store.NormalizeTime(d.cfg.Now()).Format(time.RFC1123Z))
	hdr("Message-ID", "<"+oneLine(m.ID)+"@"+host+">")
	hdr("X-Custos-Delivery", m.ID)
	hdr("Auto-Submitted", "auto-generated")
	hdr("MIME-Version", "1.0")
	if m.Attachment == nil {
		hdr("Content-Type", altType)
		b.WriteString("\r\n")
		b.Write(alt.Bytes())
		return b.Bytes(), nil
	}
	var mixed bytes.Buffer
	mw := multipart.NewWriter(&mixed)
	p, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {altType}})
	if err != nil {
		return nil, err
	}
	if _, err := p.Write(alt.Bytes()); err != nil {
		return nil, err
	}
	p, err = mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {m.Attachment.ContentType},
		"Content-Transfer-Encoding": {"base64"},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": m.Attachment.Name})},
	})
	if err != nil {
		return nil, err
	}
	if err := writeBase64(p, m.Attachment.Data); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	hdr("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	b.Write(mixed.Bytes())
	return b.Bytes(), nil
}

func qpPart(w *multipart.Writer, contentType string, body []byte) error {
	p, err := w.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {contentType},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return err
	}
	qw := quotedprintable.NewWriter(p)
	if _, err := qw.Write(body); err != nil {
		return err
	}
	return qw.Close()
}

// writeBase64 writes data in base64 lines of 76 characters (RFC 2045).
func writeBase64(w interface{ Write([]byte) (int, error) }, data []byte) error {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(76, len(enc))
		if _, err := fmt.Fprintf(w, "%s\r\n", enc[:n]); err != nil {
			return err
		}
		enc = enc[n:]
	}
	return nil
}
