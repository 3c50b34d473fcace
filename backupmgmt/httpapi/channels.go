package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// ChannelTester sends a test message through a channel now (the
// notification dispatcher has this method), for POST
// /api/v1/channels/{id}/test.
type ChannelTester interface {
	Test(ctx context.Context, ch *store.Channel) error
}

// Channel is a notification channel on the wire (DESIGN §11). Its settings
// are masked: secrets read "********", webhook URLs keep only their scheme
// and host.
type Channel struct {
	ID          string            `json:"id"`
	Kind        store.ChannelKind `json:"kind"`
	Name        string            `json:"name"`
	Settings    json.RawMessage   `json:"settings" doc:"the kind's settings, secrets masked"`
	MinSeverity store.Severity    `json:"min_severity"`
	Active      bool              `json:"active"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

func channelView(c *store.Channel) Channel {
	return Channel{
		ID: c.ID, Kind: c.Kind, Name: c.Name, Settings: backupmgmt.MaskChannelSettings(c.Kind, c.Settings),
		MinSeverity: c.MinSeverity, Active: c.Active, CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt),
	}
}

// ChannelCreate is a channel to create; min_severity defaults to warning,
// active to true.
type ChannelCreate struct {
	Kind        store.ChannelKind `json:"kind" required:"true"`
	Name        string            `json:"name" required:"true"`
	Settings    json.RawMessage   `json:"settings" required:"true" doc:"a JSON object of the kind's settings; unknown fields are refused"`
	MinSeverity store.Severity    `json:"min_severity"`
	Active      *bool             `json:"active"`
}

// ChannelPatch changes a channel; absent fields stay. Settings replace the
// stored ones whole, and a secret sent back as shown ("********", or a
// masked URL) keeps the stored one.
type ChannelPatch struct {
	Name        *string         `json:"name"`
	Settings    json.RawMessage `json:"settings" doc:"a JSON object of the kind's settings; masked values keep the stored secrets"`
	MinSeverity *store.Severity `json:"min_severity"`
	Active      *bool           `json:"active"`
}

// ChannelTestResult is the body of a test message sent.
type ChannelTestResult struct {
	Sent bool `json:"sent"`
}

func (a *API) channelRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/channels", perm: backupmgmt.PermAdmin, resource: "channel", tag: "channels",
			summary: "List notification channels, ordered by name, settings masked",
			resp:    List[Channel]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "kind", typ: "string", desc: "only channels of this kind", enum: enumOf[store.ChannelKind]()},
				{name: "active", typ: "boolean", desc: "only active (true) or inactive (false) channels"},
			}, pageParams...),
			h: a.listChannels,
		},
		{
			method: "POST", path: "/api/v1/channels", perm: backupmgmt.PermAdmin, resource: "channel", tag: "channels",
			summary: "Create a notification channel; its settings are checked for its kind",
			body:    ChannelCreate{}, resp: Channel{}, status: http.StatusCreated,
			h: a.createChannel,
		},
		{
			method: "GET", path: "/api/v1/channels/{id}", perm: backupmgmt.PermAdmin, resource: "channel", tag: "channels",
			summary: "Get a notification channel, settings masked",
			resp:    Channel{}, status: http.StatusOK,
			h: getByID(a.svc.Channels().Get, channelView),
		},
		{
			method: "PATCH", path: "/api/v1/channels/{id}", perm: backupmgmt.PermAdmin, resource: "channel", tag: "channels",
			summary: "Change a notification channel; masked secrets sent back are kept",
			body:    ChannelPatch{}, resp: Channel{}, status: http.StatusOK,
			h: a.patchChannel,
		},
		{
			method: "DELETE", path: "/api/v1/channels/{id}", perm: backupmgmt.PermAdmin, resource: "channel", tag: "channels",
			summary: "Delete a notification channel and its unsent notifications",
			status:  http.StatusNoContent,
			h:       deleteByID(a.svc.Channels().Delete),
		},
		{
			method: "POST", path: "/api/v1/channels/{id}/test", perm: backupmgmt.PermAdmin, resource: "channel", tag: "channels",
			summary: "Send a test message through the channel now; 502 channel_test_failed when it could not be delivered",
			resp:    ChannelTestResult{}, status: http.StatusOK,
			errors: []int{http.StatusNotImplemented, http.StatusBadGateway},
			h:      a.testChannel,
		},
	}
}

func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListChannelsParams{
		PageParams: q.page(),
		Kind:       store.ChannelKind(q.str("kind")),
		Active:     q.boolean("active"),
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Channels().List(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, channelView))
	return nil
}

func (a *API) createChannel(w http.ResponseWriter, r *http.Request) error {
	var in ChannelCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := a.svc.Channels().Create(r.Context(), backupmgmt.ChannelParams{
		Kind: in.Kind, Name: in.Name, Settings: in.Settings, MinSeverity: in.MinSeverity, Active: in.Active,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, channelView(c))
	return nil
}

func (a *API) patchChannel(w http.ResponseWriter, r *http.Request) error {
	var in ChannelPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := a.svc.Channels().Update(r.Context(), pathID(r, "id"), backupmgmt.ChannelUpdate{
		Name: in.Name, Settings: in.Settings, MinSeverity: in.MinSeverity, Active: in.Active,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, channelView(c))
	return nil
}

// maxTestErrorLen bounds, in characters, the reason of a failed test in
// the response.
const maxTestErrorLen = 300

func (a *API) testChannel(w http.ResponseWriter, r *http.Request) error {
	if a.cfg.ChannelTester == nil {
		return notConfigured("sending test messages")
	}
	var in struct{}
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	c, err := a.svc.Channels().Get(r.Context(), pathID(r, "id"))
	if err != nil {
		return err
	}
	if err := a.cfg.ChannelTester.Test(r.Context(), c); err != nil {
		if r.Context().Err() != nil {
			return r.Context().Err()
		}
		reason := backupmgmt.RedactChannelSecrets(c.Kind, c.Settings, err.Error())
		a.log.WarnContext(r.Context(), "channel test failed",
			slog.String("channel_id", c.ID),
			slog.String("request_id", security.RequestIDFrom(r.Context())),
			slog.String("error", reason))
		return errorf(http.StatusBadGateway, "channel_test_failed", "the test message was not delivered: %s", store.TruncateText(reason, maxTestErrorLen))
	}
	writeJSON(w, http.StatusOK, ChannelTestResult{Sent: true})
	return nil
}

// notConfigured is the answer of a route whose collaborator the embedder
// did not give the API.
func notConfigured(what string) *apiError {
	return errorf(http.StatusNotImplemented, "not_configured", "%s is not configured on this server", what)
}
