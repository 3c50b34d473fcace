package notify

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Defaults of Config.
const (
	LeaseDefault       = 5 * time.Minute
	BatchDefault       = 50
	HTTPTimeoutDefault = 10 * time.Second
	SMTPTimeoutDefault = 30 * time.Second
	HostnameDefault    = "custos.invalid"
	// ConcurrencyDefault is how many messages of a batch are sent at once.
	ConcurrencyDefault = 4
)

// MaxAttempts is how many times a notification is tried before it is dead.
const MaxAttempts = 8

// recordTimeout bounds writing an outcome, which goes on after the
// dispatcher's context ends.
const recordTimeout = 30 * time.Second

// maxErrorLen bounds LastError: the start of an error says what went wrong.
const maxErrorLen = 500

// Config tunes a Dispatcher. The zero value (or nil) gives the defaults.
type Config struct {
	// Now is the clock. Defaults to the service's.
	Now func() time.Time
	// Lease is how long a claimed row is kept from other dispatchers; a
	// dispatcher that dies while sending leaves its rows to be sent again
	// after it. Every send ends a fifth of the lease before the lease
	// does; rows of a batch reached later are released for the next
	// claim. Defaults to LeaseDefault.
	Lease time.Duration
	// Batch is how many rows one claim takes. Defaults to BatchDefault.
	Batch int
	// Concurrency is how many messages are sent at once. Defaults to
	// ConcurrencyDefault.
	Concurrency int
	// HTTPClient sends Slack, Teams and webhook messages. Defaults to a
	// client with a 10 s timeout that follows no redirects (a receiver
	// that redirects is misconfigured, and a redirect could carry the
	// body elsewhere).
	HTTPClient *http.Client
	// Logger receives delivery logs, never a secret or a Slack or Teams
	// URL. Defaults to discarding them.
	Logger *slog.Logger
	// Hostname is the EHLO name and the domain of email Message-IDs.
	// Defaults to HostnameDefault.
	Hostname string
	// BaseURL, when set, adds links to the alert in the API
	// (BaseURL + "/api/v1/alerts/{id}") to messages.
	BaseURL string
	// SMTPTimeout bounds one SMTP conversation. Defaults to
	// SMTPTimeoutDefault.
	SMTPTimeout time.Duration
	// Location is the zone times are shown in and report file names are
	// dated in. Defaults to the service's (backupmgmt.Config.Location).
	Location *time.Location
	// TLSConfig, when set, may adjust the TLS configuration of each SMTP
	// connection (tests, special relays); a channel's ca_pem is the usual
	// way to trust a private relay.
	TLSConfig func(*tls.Config)
	// OnOutcome, when set, is called after each delivery is recorded, with
	// the error of the attempt (nil when sent). ch is nil when the
	// channel is gone.
	OnOutcome func(n *store.Notification, ch *store.Channel, err error)
}

func (c *Config) withDefaults(svc *backupmgmt.Service) Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.Now == nil {
		out.Now = svc.Now
	}
	out.Lease = positive(out.Lease, LeaseDefault)
	out.Batch = positive(out.Batch, BatchDefault)
	out.Concurrency = positive(out.Concurrency, ConcurrencyDefault)
	if out.HTTPClient == nil {
		out.HTTPClient = &http.Client{
			Timeout:       HTTPTimeoutDefault,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	out.Hostname = cmp.Or(out.Hostname, HostnameDefault)
	out.SMTPTimeout = positive(out.SMTPTimeout, SMTPTimeoutDefault)
	if out.Location == nil {
		out.Location = svc.Location()
	}
	return out
}

// positive returns v, or def when v is not positive.
func positive[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Dispatcher sends the notification outbox. Several dispatchers, in one
// process or many, may run over one PostgreSQL or MySQL database: each row
// is claimed by one of them at a time.
type Dispatcher struct {
	svc *backupmgmt.Service
	cfg Config
	log *slog.Logger
}

// New returns a dispatcher over the service's store. cfg may be nil.
func New(svc *backupmgmt.Service, cfg *Config) *Dispatcher {
	c := cfg.withDefaults(svc)
	return &Dispatcher{svc: svc, cfg: c, log: c.Logger}
}

// Result counts what one RunOnce did. Rows claimed but neither sent,
// failed nor dead were released, their attempt refunded, because the
// context ended or their lease was nearly over.
type Result struct {
	Claimed int // rows claimed
	Sent    int // delivered
	Failed  int // failed, to be retried
	Dead    int // given up on
}

// Backoff is how long after its attempt-th failed attempt (counting from
// 1) a notification is tried again: 1 min, 5 min, 15 min, 1 h, 2 h, 4 h,
// then 8 h.
func Backoff(attempt int) time.Duration {
	steps := [...]time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour}
	return steps[min(max(attempt, 1), len(steps))-1]
}

// permanentError is a failure no retry can fix (a deleted channel,
// settings that no longer decode, no recipient): the row is dead at once.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(format string, args ...any) error {
	return &permanentError{err: fmt.Errorf(format, args...)}
}

// RunOnce claims due rows and sends them, batch after batch while a full
// batch was claimed. It returns on the first store error; what it sent
// before is recorded and counted.
func (d *Dispatcher) RunOnce(ctx context.Context) (Result, error) {
	var total Result
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		now := store.NormalizeTime(d.cfg.Now())
		rows, err := d.svc.Store().Notifications().Claim(ctx, now, d.cfg.Lease, d.cfg.Batch)
		if err != nil {
			return total, fmt.Errorf("notify: claim: %w", err)
		}
		total.Claimed += len(rows)
		r, err := d.sendBatch(ctx, rows)
		total.Sent += r.Sent
		total.Failed += r.Failed
		total.Dead += r.Dead
		if err != nil || len(rows) < d.cfg.Batch {
			return total, err
		}
	}
}

// Run calls RunOnce every interval until ctx ends, and then returns nil.
// Errors are logged, and the next tick tries again.
func (d *Dispatcher) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return &store.ValidationError{Fields: map[string]string{"every": "must be positive"}}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.log.ErrorContext(ctx, "notify: dispatch", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// batch holds what the messages of one claim share: each channel is read
// once.
type batch struct {
	d        *Dispatcher
	mu       sync.Mutex
	channels map[string]*store.Channel
	missing  map[string]bool
}

func (b *batch) channel(ctx context.Context, id string) (*store.Channel, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ch, ok := b.channels[id]; ok {
		return ch, nil
	}
	if b.missing[id] {
		return nil, store.ErrNotFound
	}
	ch, err := b.d.svc.Store().Channels().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		b.missing[id] = true
	}
	if err != nil {
		return nil, err
	}
	b.channels[id] = ch
	return ch, nil
}

func (d *Dispatcher) sendBatch(ctx context.Context, rows []store.Notification) (Result, error) {
	b := &batch{d: d, channels: map[string]*store.Channel{}, missing: map[string]bool{}}
	var (
		mu       sync.Mutex
		res      Result
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan *store.Notification)
	for range min(d.cfg.Concurrency, len(rows)) {
		wg.Go(func() {
			for n := range work {
				var (
					state store.NotificationState
					err   error
				)
				if ctx.Err() != nil {
					err = d.release(n)
				} else {
					state, err = d.deliver(ctx, b, n)
				}
				mu.Lock()
				switch {
				case err != nil:
					firstErr = cmp.Or(firstErr, err)
				case state == "": // released
				case state == store.NotificationSent:
					res.Sent++
				case state == store.NotificationDead:
					res.Dead++
				default:
					res.Failed++
				}
				mu.Unlock()
			}
		})
	}
	for i := range rows {
		work <- &rows[i]
	}
	close(work)
	wg.Wait()
	return res, firstErr
}

// deliver sends one claimed row and records the outcome. The error is a
// store error recording it; the row then stays claimed and is sent again
// after its lease.
//
// The send must end inside the row's lease (its NextAttemptAt once
// claimed) with a margin, or another dispatcher could claim the row and
// send it again: a row whose lease is nearly over is released unsent, and
// its send is cut off at the margin. A row released returns state "".
func (d *Dispatcher) deliver(ctx context.Context, b *batch, n *store.Notification) (store.NotificationState, error) {
	remaining := n.NextAttemptAt.Sub(d.cfg.Now()) - d.cfg.Lease/5
	if remaining <= 0 {
		return "", d.release(n)
	}
	sctx, cancel := context.WithTimeout(ctx, remaining)
	defer cancel()
	ch, sendErr := b.channel(sctx, n.ChannelID)
	switch {
	case errors.Is(sendErr, store.ErrNotFound):
		sendErr = permanent("channel %s no longer exists", n.ChannelID)
	case sendErr != nil:
		sendErr = fmt.Errorf("read channel: %w", sendErr)
	case !ch.Active:
		sendErr = permanent("channel %q is inactive", ch.Name)
	default:
		sendErr = d.send(sctx, ch, n)
	}
	// Cut short by shutdown, the attempt is not the receiver's fault.
	if ctx.Err() != nil && errors.Is(sendErr, context.Canceled) {
		return "", d.release(n)
	}
	// The outcome is recorded even when ctx ended during the send: a
	// message that went out must not stay claimed and go out again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := d.record(rctx, n, sendErr); err != nil {
		return n.State, err
	}
	d.logOutcome(ctx, n, ch, sendErr)
	if d.cfg.OnOutcome != nil {
		d.cfg.OnOutcome(n, ch, sendErr)
	}
	return n.State, nil
}

// release gives back a claimed row that was not sent because ctx ended:
// it is due again now, and the attempt it was charged is refunded.
func (d *Dispatcher) release(n *store.Notification) error {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	n.Attempts = max(n.Attempts-1, 0)
	n.NextAttemptAt = store.NormalizeTime(d.cfg.Now())
	err := d.svc.Store().Notifications().Update(ctx, n)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("notify: release notification %s: %w", n.ID, err)
	}
	return nil
}

func (d *Dispatcher) record(ctx context.Context, n *store.Notification, sendErr error) error {
	now := store.NormalizeTime(d.cfg.Now())
	var perm *permanentError
	switch {
	case sendErr == nil:
		n.State, n.SentAt, n.LastError = store.NotificationSent, &now, ""
	case errors.As(sendErr, &perm) || n.Attempts >= MaxAttempts:
		n.State, n.LastError = store.NotificationDead, cutError(sendErr)
	default:
		n.State, n.LastError = store.NotificationFailed, cutError(sendErr)
		n.NextAttemptAt = now.Add(Backoff(n.Attempts))
	}
	// A row gone meanwhile went with its channel: nothing to record.
	if err := d.svc.Store().Notifications().Update(ctx, n); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("notify: record notification %s: %w", n.ID, err)
	}
	return nil
}

func (d *Dispatcher) logOutcome(ctx context.Context, n *store.Notification, ch *store.Channel, err error) {
	attrs := []any{"notification_id", n.ID, "channel_id", n.ChannelID, "attempts", n.Attempts, "state", n.State}
	if ch != nil {
		attrs = append(attrs, "channel_kind", ch.Kind)
	}
	if err == nil {
		d.log.DebugContext(ctx, "notify: sent", attrs...)
		return
	}
	// err was scrubbed of the channel's secrets by send.
	d.log.WarnContext(ctx, "notify: delivery failed", append(attrs, "error", n.LastError)...)
}

func cutError(err error) string {
	return store.TruncateText(err.Error(), maxErrorLen)
}

// send delivers n on ch. Its error never holds one of the channel's
// secrets.
func (d *Dispatcher) send(ctx context.Context, ch *store.Channel, n *store.Notification) error {
	s, err := d.sender(ch)
	if err != nil {
		return err
	}
	m, err := d.message(ctx, ch, n)
	if err != nil {
		return s.scrub(err)
	}
	return s.scrub(s.send(ctx, m))
}

// Test sends a test message on ch now, outside the outbox. Its error
// never holds one of the channel's secrets.
func (d *Dispatcher) Test(ctx context.Context, ch *store.Channel) error {
	s, err := d.sender(ch)
	if err != nil {
		return err
	}
	return s.scrub(s.send(ctx, d.testMessage(ch)))
}
