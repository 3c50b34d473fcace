package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Notification is an outbox row on the wire: one message for one channel
// and where its delivery stands.
type Notification struct {
	ID        string  `json:"id"`
	ChannelID string  `json:"channel_id"`
	AlertID   *string `json:"alert_id,omitempty"`
	ReportID  *string `json:"report_id,omitempty"`
	// Payload is what the message says: the alert or report event.
	Payload       json.RawMessage         `json:"payload"`
	State         store.NotificationState `json:"state"`
	Attempts      int                     `json:"attempts"`
	NextAttemptAt time.Time               `json:"next_attempt_at"`
	// LastError is the reason of the last failed attempt, channel secrets
	// redacted.
	LastError string     `json:"last_error"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

func (a *API) notificationRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/notifications", perm: backupmgmt.PermAdmin, resource: "notification", tag: "channels",
			summary: "List the notification outbox, oldest first",
			resp:    List[Notification]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "state", typ: "string", desc: "only notifications in this state", enum: enumOf[store.NotificationState]()},
				{name: "channel_id", typ: "string", desc: "only notifications for this channel"},
				{name: "alert_id", typ: "string", desc: "only notifications about this alert"},
			}, pageParams...),
			h: a.listNotifications,
		},
	}
}

func (a *API) listNotifications(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListNotificationsParams{
		PageParams: q.page(),
		State:      store.NotificationState(q.str("state")),
		ChannelID:  q.str("channel_id"),
		AlertID:    q.str("alert_id"),
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Channels().Notifications(r.Context(), p)
	if err != nil {
		return err
	}
	// A sender's error may quote a webhook URL; the rows' channels say
	// what to redact. One read of the channels serves the whole page.
	channels := map[string]*store.Channel{}
	if hasErrors(page.Items) {
		all, err := a.svc.Channels().List(r.Context(), store.ListChannelsParams{PageParams: store.PageParams{Limit: store.LimitMax}})
		if err != nil {
			return err
		}
		for i := range all.Items {
			channels[all.Items[i].ID] = &all.Items[i]
		}
		// Beyond the first page of channels, each one the rows name is
		// read once.
		for _, n := range page.Items {
			if _, ok := channels[n.ChannelID]; ok || n.LastError == "" || all.NextCursor == "" {
				continue
			}
			c, err := a.svc.Channels().Get(r.Context(), n.ChannelID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			channels[n.ChannelID] = c // nil for a channel gone meanwhile
		}
	}
	writeJSON(w, http.StatusOK, listOf(page, func(n *store.Notification) Notification {
		v := Notification{
			ID: n.ID, ChannelID: n.ChannelID, AlertID: n.AlertID, ReportID: n.ReportID, Payload: n.Payload,
			State: n.State, Attempts: n.Attempts, NextAttemptAt: utc(n.NextAttemptAt), LastError: n.LastError,
			SentAt: utcPtr(n.SentAt), CreatedAt: utc(n.CreatedAt),
		}
		if n.LastError != "" {
			if c := channels[n.ChannelID]; c != nil {
				v.LastError = backupmgmt.RedactChannelSecrets(c.Kind, c.Settings, n.LastError)
			} else {
				v.LastError = "[redacted]"
			}
		}
		return v
	}))
	return nil
}

func hasErrors(ns []store.Notification) bool {
	for _, n := range ns {
		if n.LastError != "" {
			return true
		}
	}
	return false
}
