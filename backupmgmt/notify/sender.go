package notify

import (
	"context"
	"errors"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// transport sends a rendered message on one kind of channel.
type transport interface {
	send(ctx context.Context, m *message) error
}

// sender is a channel's transport with the channel whose secrets its
// errors must never show.
type sender struct {
	transport
	ch *store.Channel
}

// sender decodes ch's settings. Settings that no longer decode are a
// permanent failure.
func (d *Dispatcher) sender(ch *store.Channel) (*sender, error) {
	v, err := backupmgmt.ChannelSettings(ch.Kind, ch.Settings)
	if err != nil {
		return nil, permanent("channel %q has invalid settings: %v", ch.Name, err)
	}
	var t transport
	switch s := v.(type) {
	case *backupmgmt.EmailSettings:
		t = &emailTransport{d: d, s: s}
	case *backupmgmt.SlackSettings:
		t = &httpTransport{d: d, url: s.WebhookURL, body: slackBody}
	case *backupmgmt.TeamsSettings:
		t = &httpTransport{d: d, url: s.WebhookURL, body: teamsBody}
	case *backupmgmt.WebhookSettings:
		t = &httpTransport{d: d, url: s.URL, body: webhookBody, secret: []byte(s.Secret), headers: s.Headers}
	default:
		return nil, permanent("channel %q: unsupported kind %q", ch.Name, ch.Kind)
	}
	return &sender{transport: t, ch: ch}, nil
}

// scrub returns err with every secret of the channel replaced, keeping
// whether it is permanent.
func (s *sender) scrub(err error) error {
	if err == nil {
		return nil
	}
	out := error(&scrubbedError{msg: backupmgmt.RedactChannelSecrets(s.ch.Kind, s.ch.Settings, err.Error()), cause: contextCause(err)})
	var perm *permanentError
	if errors.As(err, &perm) {
		return &permanentError{err: out}
	}
	return out
}

// scrubbedError is an error with its secrets removed. It keeps only
// whether it came from a context ending, which decides whether the
// attempt counts.
type scrubbedError struct {
	msg   string
	cause error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.cause }

// contextCause returns context.Canceled or context.DeadlineExceeded when
// err is one of them, else nil.
func contextCause(err error) error {
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}
