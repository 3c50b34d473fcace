package backupmgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// Channels manages notification channels (DESIGN §11). A channel's
// settings hold its secrets (an SMTP password, a webhook URL that is itself
// a credential, an HMAC key): they are validated here, stored whole, and
// shown only masked.
type Channels Service

// Channels gives the channel operations.
func (s *Service) Channels() *Channels { return (*Channels)(s) }

// Masked stands in for a secret in settings shown to a caller. Sent back
// unchanged in an update, it keeps the stored secret.
const Masked = "********"

// EmailTLS is how an email channel secures its SMTP connection.
type EmailTLS string

// EmailTLS values.
const (
	EmailSTARTTLS EmailTLS = "starttls" // plain connect, then STARTTLS (required)
	EmailImplicit EmailTLS = "tls"      // TLS from the first byte (port 465)
	EmailNoTLS    EmailTLS = "none"     // no TLS, and then no AUTH either
)

// EmailSettings configure an email channel.
type EmailSettings struct {
	Host     string   `json:"host"`
	Port     int      `json:"port"`                 // default 587, or 465 with TLS "tls"
	TLS      EmailTLS `json:"tls,omitempty"`        // default "starttls"
	Username string   `json:"username,omitempty"`   // AUTH PLAIN when set
	Password string   `json:"password,omitempty"`   // secret
	From     string   `json:"from"`                 // an RFC 5322 address
	To       []string `json:"to,omitempty"`         // extra recipients
	CAPEM    string   `json:"ca_pem,omitempty"`     // trust this CA (a private relay) besides the system's
	NoOwner  bool     `json:"skip_owner,omitempty"` // do not mail the job's owner
	NoAdmins bool     `json:"skip_admins,omitempty"`
}

// SlackSettings configure a Slack incoming webhook.
type SlackSettings struct {
	WebhookURL string `json:"webhook_url"` // secret: the URL is the credential
}

// TeamsSettings configure a Microsoft Teams Workflows webhook.
type TeamsSettings struct {
	WebhookURL string `json:"webhook_url"` // secret
}

// WebhookSettings configure a generic JSON webhook signed with HMAC-SHA256.
type WebhookSettings struct {
	URL     string            `json:"url"`
	Secret  string            `json:"secret"`            // HMAC key, at least 16 bytes; secret
	Headers map[string]string `json:"headers,omitempty"` // sent as is; values are secret
}

// ChannelSettings decodes and checks the settings of a channel of kind:
// unknown fields are refused and every problem is named as
// "settings.<field>". It returns a *EmailSettings, *SlackSettings,
// *TeamsSettings or *WebhookSettings.
func ChannelSettings(kind store.ChannelKind, raw json.RawMessage) (any, error) {
	dst, err := decodeChannelSettings(kind, raw)
	if err != nil {
		return nil, err
	}
	f := make(map[string]string)
	switch s := dst.(type) {
	case *EmailSettings:
		s.validate(f)
	case *SlackSettings:
		checkWebhookURL(f, "settings.webhook_url", s.WebhookURL)
	case *TeamsSettings:
		checkWebhookURL(f, "settings.webhook_url", s.WebhookURL)
	case *WebhookSettings:
		checkWebhookURL(f, "settings.url", s.URL)
		if len(s.Secret) < 16 {
			f["settings.secret"] = "at least 16 characters"
		}
		for k, v := range s.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n") {
				f["settings.headers"] = fmt.Sprintf("%q is not a header name", k)
			} else if strings.ContainsAny(v, "\r\n") {
				f["settings.headers."+k] = "must be one line"
			}
		}
	}
	if len(f) > 0 {
		return nil, &store.ValidationError{Fields: f}
	}
	return dst, nil
}

// decodeChannelSettings decodes raw strictly into the settings type of
// kind, without checking the values: masking and unmasking must work on
// settings that hold placeholders (a masked secret is too short to pass).
func decodeChannelSettings(kind store.ChannelKind, raw json.RawMessage) (any, error) {
	var dst any
	switch kind {
	case store.ChannelEmail:
		dst = new(EmailSettings)
	case store.ChannelSlack:
		dst = new(SlackSettings)
	case store.ChannelTeams:
		dst = new(TeamsSettings)
	case store.ChannelWebhook:
		dst = new(WebhookSettings)
	default:
		return nil, &store.ValidationError{Fields: map[string]string{"kind": "must be one of email, slack, teams, webhook"}}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return nil, &store.ValidationError{Fields: map[string]string{"settings": settingsDecodeMessage(err)}}
	}
	if dec.More() {
		return nil, &store.ValidationError{Fields: map[string]string{"settings": "must be one JSON object"}}
	}
	return dst, nil
}

func settingsDecodeMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "json: "); i >= 0 {
		msg = msg[i+len("json: "):]
	}
	return "invalid: " + msg
}

func (s *EmailSettings) validate(f map[string]string) {
	if s.TLS == "" {
		s.TLS = EmailSTARTTLS
	}
	switch s.TLS {
	case EmailSTARTTLS, EmailImplicit, EmailNoTLS:
	default:
		f["settings.tls"] = "must be one of starttls, tls, none"
	}
	if s.Port == 0 {
		s.Port = 587
		if s.TLS == EmailImplicit {
			s.Port = 465
		}
	}
	if s.Host == "" {
		f["settings.host"] = "required"
	} else if strings.ContainsAny(s.Host, " /:\r\n") && !strings.HasPrefix(s.Host, "[") {
		f["settings.host"] = "must be a host name or address"
	}
	if s.Port < 1 || s.Port > 65535 {
		f["settings.port"] = "must be 1 to 65535"
	}
	if s.Password != "" && s.Username == "" {
		f["settings.username"] = "required with a password"
	}
	if s.Username != "" && s.TLS == EmailNoTLS {
		f["settings.tls"] = "AUTH needs TLS"
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		f["settings.from"] = "must be an email address"
	}
	for i, to := range s.To {
		if _, err := mail.ParseAddress(to); err != nil {
			f[fmt.Sprintf("settings.to[%d]", i)] = "must be an email address"
		}
	}
	if s.CAPEM != "" && !strings.Contains(s.CAPEM, "-----BEGIN CERTIFICATE-----") {
		f["settings.ca_pem"] = "must be PEM certificates"
	}
}

func checkWebhookURL(f map[string]string, field, raw string) {
	if raw == "" {
		f[field] = "required"
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		f[field] = "must be an http or https URL"
	}
}

// MaskChannelSettings returns raw with every secret replaced by Masked, for
// showing a channel: the SMTP password, the HMAC secret, header values, and
// the path and query of every webhook URL (where the tokens are). Settings
// that do not decode are shown as {}.
func MaskChannelSettings(kind store.ChannelKind, raw json.RawMessage) json.RawMessage {
	v, err := decodeChannelSettings(kind, raw)
	if err != nil {
		return json.RawMessage("{}")
	}
	mask := func(s *string) {
		if *s != "" {
			*s = Masked
		}
	}
	switch s := v.(type) {
	case *EmailSettings:
		mask(&s.Password)
	case *SlackSettings:
		s.WebhookURL = maskURL(s.WebhookURL)
	case *TeamsSettings:
		s.WebhookURL = maskURL(s.WebhookURL)
	case *WebhookSettings:
		s.URL = maskURL(s.URL)
		mask(&s.Secret)
		for k, h := range s.Headers {
			mask(&h)
			s.Headers[k] = h
		}
	}
	out, _ := json.Marshal(v)
	return out
}

// maskURL keeps a webhook URL's scheme and host, which say where messages
// go, and hides the path and query, which hold the token.
func maskURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Masked
	}
	return u.Scheme + "://" + u.Host + "/" + Masked
}

// RedactChannelSecrets returns text with every secret of a channel's
// settings replaced by "[redacted]", for the error of a failed send: an
// HTTP client's error names the URL, token and all, and an SMTP server may
// echo what it was sent.
func RedactChannelSecrets(kind store.ChannelKind, settings json.RawMessage, text string) string {
	v, err := decodeChannelSettings(kind, settings)
	if err != nil {
		return text
	}
	var secrets []string
	addURL := func(raw string) {
		secrets = append(secrets, raw)
		if u, err := url.Parse(raw); err == nil {
			secrets = append(secrets, u.User.String(), u.EscapedPath(), u.Path, u.RawQuery)
		}
	}
	switch s := v.(type) {
	case *EmailSettings:
		secrets = append(secrets, s.Password)
	case *SlackSettings:
		addURL(s.WebhookURL)
	case *TeamsSettings:
		addURL(s.WebhookURL)
	case *WebhookSettings:
		addURL(s.URL)
		secrets = append(secrets, s.Secret)
		for _, h := range s.Headers {
			secrets = append(secrets, h)
		}
	}
	// Longest first, so a URL goes whole before its path does.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		// Shorter strings would blank unrelated text and protect nothing.
		if len(sec) >= 3 && sec != "/" {
			text = strings.ReplaceAll(text, sec, "[redacted]")
		}
	}
	return text
}

// unmaskSettings puts the stored secrets back where next still shows them
// masked, so a client can send back the settings it was shown. A secret is
// kept only for the destination it was given for: a masked password with a
// new SMTP host or port, or a masked HMAC key or header with a new URL, is
// refused, so that a stored credential never goes somewhere new. A masked
// URL is kept only when it is exactly the stored one masked.
func unmaskSettings(kind store.ChannelKind, next, stored json.RawMessage) (json.RawMessage, error) {
	if !bytes.Contains(next, []byte(Masked)) {
		return next, nil
	}
	nv, err := decodeChannelSettings(kind, next)
	if err != nil {
		return next, nil // the caller reports the error
	}
	ov, err := decodeChannelSettings(kind, stored)
	if err != nil {
		return next, nil
	}
	bad := map[string]string{}
	keepURL := func(field string, dst *string, old string) {
		switch {
		case old != "" && *dst == maskURL(old):
			*dst = old
		case strings.Contains(*dst, Masked):
			bad[field] = "a masked URL keeps the stored one only unchanged: send the whole new URL"
		}
	}
	keep := func(field string, dst *string, old string, sameDestination bool) {
		switch {
		case *dst != Masked:
		case !sameDestination:
			bad[field] = "enter it again: the destination changed"
		default:
			*dst = old
		}
	}
	switch n := nv.(type) {
	case *EmailSettings:
		o := ov.(*EmailSettings)
		same := strings.EqualFold(n.Host, o.Host) && n.effectivePort() == o.effectivePort() && n.Username == o.Username
		keep("settings.password", &n.Password, o.Password, same)
	case *SlackSettings:
		keepURL("settings.webhook_url", &n.WebhookURL, ov.(*SlackSettings).WebhookURL)
	case *TeamsSettings:
		keepURL("settings.webhook_url", &n.WebhookURL, ov.(*TeamsSettings).WebhookURL)
	case *WebhookSettings:
		o := ov.(*WebhookSettings)
		keepURL("settings.url", &n.URL, o.URL)
		same := n.URL == o.URL
		keep("settings.secret", &n.Secret, o.Secret, same)
		for k, v := range n.Headers {
			keep("settings.headers."+k, &v, o.Headers[k], same && o.Headers[k] != "")
			n.Headers[k] = v
		}
	}
	if len(bad) > 0 {
		return nil, &store.ValidationError{Fields: bad}
	}
	out, err := json.Marshal(nv)
	if err != nil {
		return next, nil
	}
	return out, nil
}

// effectivePort is the port the settings connect to, defaults applied.
func (s *EmailSettings) effectivePort() int {
	switch {
	case s.Port != 0:
		return s.Port
	case s.TLS == EmailImplicit:
		return 465
	}
	return 587
}

// ChannelParams are the fields of a new channel.
type ChannelParams struct {
	Kind        store.ChannelKind
	Name        string
	Settings    json.RawMessage
	MinSeverity store.Severity // default warning
	Active      *bool          // default true
}

// ChannelUpdate changes some fields of a channel: a nil field is kept.
// Settings replace the stored ones whole; a secret sent back as Masked is
// kept.
type ChannelUpdate struct {
	Name        *string
	Settings    json.RawMessage
	MinSeverity *store.Severity
	Active      *bool
}

// Create validates p and stores a new channel. A taken name is
// store.ErrConflict.
func (cs *Channels) Create(ctx context.Context, p ChannelParams) (*store.Channel, error) {
	s := (*Service)(cs)
	now := s.Now()
	c := &store.Channel{
		ID:          s.cfg.NewID(),
		Kind:        p.Kind,
		Name:        p.Name,
		MinSeverity: p.MinSeverity,
		Active:      p.Active == nil || *p.Active,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if c.MinSeverity == "" {
		c.MinSeverity = store.SeverityWarning
	}
	if err := channelsCheck(c, p.Settings); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		if err := tx.Channels().Create(ctx, c); err != nil {
			return jobsWriteErr(err, "channel", c.Name)
		}
		return s.audit(ctx, tx, "channel.create", "channel", c.ID, map[string]any{
			"name": c.Name, "kind": c.Kind, "min_severity": c.MinSeverity, "active": c.Active,
		})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// channelsCheck normalises settings (defaults filled in) into c and
// validates the whole channel.
func channelsCheck(c *store.Channel, settings json.RawMessage) error {
	fields := make(map[string]string)
	v, err := ChannelSettings(c.Kind, settings)
	jobsMergeFields(fields, err)
	if err == nil {
		c.Settings, _ = json.Marshal(v)
	}
	if c.Settings == nil {
		c.Settings = json.RawMessage("{}")
	}
	jobsMergeFields(fields, c.Validate())
	if len(fields) > 0 {
		return &store.ValidationError{Fields: fields}
	}
	return nil
}

// Get returns one channel, secrets included: callers that show it mask it.
func (cs *Channels) Get(ctx context.Context, id string) (*store.Channel, error) {
	return cs.store.Channels().Get(ctx, id)
}

// List returns channels ordered by name, secrets included.
func (cs *Channels) List(ctx context.Context, p store.ListChannelsParams) (*store.Page[store.Channel], error) {
	if err := listFilterErr(p.PageParams, "kind", p.Kind, store.ChannelKindValues()); err != nil {
		return nil, err
	}
	return cs.store.Channels().List(ctx, p)
}

// listFilterErr checks the page of a list and its enum filter (empty is
// none), naming every bad field.
func listFilterErr[E ~string](p store.PageParams, field string, v E, values []E) error {
	fields := make(map[string]string)
	jobsMergeFields(fields, p.Validate())
	if v != "" && !slices.Contains(values, v) {
		names := make([]string, len(values))
		for i, e := range values {
			names[i] = string(e)
		}
		fields[field] = "must be one of " + strings.Join(names, ", ")
	}
	if len(fields) > 0 {
		return &store.ValidationError{Fields: fields}
	}
	return nil
}

// Update applies u to a channel. An update that changes nothing writes
// nothing.
func (cs *Channels) Update(ctx context.Context, id string, u ChannelUpdate) (*store.Channel, error) {
	s := (*Service)(cs)
	var out *store.Channel
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		c, err := tx.Channels().Get(ctx, id)
		if err != nil {
			return err
		}
		out = c
		var changed []string
		if u.Name != nil && *u.Name != c.Name {
			c.Name = *u.Name
			changed = append(changed, "name")
		}
		if u.MinSeverity != nil && *u.MinSeverity != c.MinSeverity {
			c.MinSeverity = *u.MinSeverity
			changed = append(changed, "min_severity")
		}
		if u.Active != nil && *u.Active != c.Active {
			c.Active = *u.Active
			changed = append(changed, "active")
		}
		if u.Settings != nil {
			old := c.Settings
			settings, err := unmaskSettings(c.Kind, u.Settings, c.Settings)
			if err != nil {
				return err
			}
			if err := channelsCheck(c, settings); err != nil {
				return err
			}
			if !bytes.Equal(old, c.Settings) {
				changed = append(changed, "settings")
			}
		} else if err := c.Validate(); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		c.UpdatedAt = s.Now()
		if err := tx.Channels().Update(ctx, c); err != nil {
			return jobsWriteErr(err, "channel", c.Name)
		}
		// The details name what changed, never the settings themselves.
		return s.audit(ctx, tx, "channel.update", "channel", c.ID, map[string]any{"name": c.Name, "changed": changed})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes a channel and its outbox rows.
func (cs *Channels) Delete(ctx context.Context, id string) error {
	s := (*Service)(cs)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		c, err := tx.Channels().Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.Channels().Delete(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "channel.delete", "channel", id, map[string]any{"name": c.Name, "kind": c.Kind})
	})
}

// Notifications lists the outbox, oldest first. Payloads hold what the
// message says (an alert, a report), never channel settings.
func (cs *Channels) Notifications(ctx context.Context, p store.ListNotificationsParams) (*store.Page[store.Notification], error) {
	if err := listFilterErr(p.PageParams, "state", p.State, store.NotificationStateValues()); err != nil {
		return nil, err
	}
	return cs.store.Notifications().List(ctx, p)
}

// ReportNotice is the payload of a report's outbox row (the daily digest).
type ReportNotice struct {
	Event      string             `json:"event"` // "report"
	ReportID   string             `json:"report_id"`
	Type       store.ReportType   `json:"type"`
	Format     store.ReportFormat `json:"format"`
	Title      string             `json:"title"`
	Summary    string             `json:"summary"` // a few plain-text lines for the message body
	PeriodFrom time.Time          `json:"period_from"`
	PeriodTo   time.Time          `json:"period_to"`
	At         time.Time          `json:"at"`
}

// QueueReport writes one outbox row about report r for every active
// channel of the given kinds (all kinds when none are given), in one
// transaction, and returns how many it wrote.
func (cs *Channels) QueueReport(ctx context.Context, r *store.Report, title, summary string, kinds ...store.ChannelKind) (int, error) {
	s := (*Service)(cs)
	n := 0
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		var err error
		n, err = s.queueReport(ctx, tx, r, title, summary, kinds)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// queueReport writes QueueReport's outbox rows in tx.
func (s *Service) queueReport(ctx context.Context, tx store.Repos, r *store.Report, title, summary string, kinds []store.ChannelKind) (int, error) {
	now := s.Now()
	payload, err := json.Marshal(ReportNotice{
		Event: "report", ReportID: r.ID, Type: r.Type, Format: r.Format, Title: title, Summary: summary,
		PeriodFrom: r.PeriodFrom, PeriodTo: r.PeriodTo, At: now,
	})
	if err != nil {
		return 0, fmt.Errorf("backupmgmt: report notice: %w", err)
	}
	channels, err := tx.Channels().ListActive(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ch := range channels {
		if len(kinds) > 0 && !slices.Contains(kinds, ch.Kind) {
			continue
		}
		id := r.ID
		if err := tx.Notifications().Create(ctx, &store.Notification{
			ID: s.cfg.NewID(), ChannelID: ch.ID, ReportID: &id, Payload: payload,
			State: store.NotificationPending, NextAttemptAt: now, CreatedAt: now,
		}); err != nil {
			return 0, fmt.Errorf("backupmgmt: queue report notice: %w", err)
		}
		n++
	}
	return n, nil
}
