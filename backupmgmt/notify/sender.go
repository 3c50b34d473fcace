package notify

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// transport sends a rendered message on one kind of channel.
type transport interface {
	send(ctx context.Context, m *message) error
}

// sender is a channel's transport with the secrets its errors must never
// show.
type sender struct {
	transport
	secrets []string
}

// redacted replaces a secret in error text.
const redacted = "[redacted]"

// sender decodes ch's settings. Settings that no longer decode are a
// permanent failure.
func (d *Dispatcher) sender(ch *store.Channel) (*sender, error) {
	v, err := backupmgmt.ChannelSettings(ch.Kind, ch.Settings)
	if err != nil {
		return nil, permanent("channel %q has invalid settings: %v", ch.Name, err)
	}
	switch s := v.(type) {
	case *backupmgmt.EmailSettings:
		return &sender{transport: &emailTransport{d: d, s: s}, secrets: []string{s.Password}}, nil
	case *backupmgmt.SlackSettings:
		return &sender{transport: &httpTransport{d: d, url: s.WebhookURL, body: slackBody}, secrets: urlSecrets(s.WebhookURL)}, nil
	case *backupmgmt.TeamsSettings:
		return &sender{transport: &httpTransport{d: d, url: s.WebhookURL, body: teamsBody}, secrets: urlSecrets(s.WebhookURL)}, nil
	case *backupmgmt.WebhookSettings:
		secrets := append(urlSecrets(s.URL), s.Secret)
		for _, h := range s.Headers {
			secrets = append(secrets, h)
		}
		return &sender{transport: &httpTransport{d: d, url: s.URL, body: webhookBody, secret: []byte(s.Secret), headers: s.Headers}, secrets: secrets}, nil
	}
	return nil, permanent("channel %q: unsupported kind %q", ch.Name, ch.Kind)
}

// urlSecrets are the parts of a webhook URL that may be its credential:
// the whole URL, its path, its query and its user info.
func urlSecrets(raw string) []string {
	out := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		out = append(out, u.RawQuery, u.User.String())
		if u.Path != "/" {
			out = append(out, u.Path, u.EscapedPath())
		}
	}
	return out
}

// scrub returns err with every secret of the channel replaced, keeping
// whether it is permanent.
func (s *sender) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, sec := range s.secrets {
		if len(sec) >= 4 {
			msg = strings.ReplaceAll(msg, sec, redacted)
		}
	}
	out := errors.New(msg)
	var perm *permanentError
	if errors.As(err, &perm) {
		return &permanentError{err: out}
	}
	return out
}
