package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Setting is a runtime setting: a key and any JSON value.
type Setting struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
	// UpdatedBy is the user who last set it; absent when the system did.
	UpdatedBy *string   `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func settingView(s *store.Setting) Setting {
	return Setting{Key: s.Key, Value: s.Value, UpdatedBy: s.UpdatedBy, UpdatedAt: utc(s.UpdatedAt)}
}

func (a *API) settingsRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/settings", perm: backupmgmt.PermSettingsRead, tag: "settings",
			summary: "List every setting, ordered by key (one page: there are few)",
			resp:    List[Setting]{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, r *http.Request) error {
				all, err := a.svc.Settings().List(r.Context())
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, List[Setting]{Items: sliceOf(all, settingView)})
				return nil
			},
		},
		{
			method: "GET", path: "/api/v1/settings/{key}", perm: backupmgmt.PermSettingsRead, resource: "setting", tag: "settings",
			summary: "Get a setting",
			resp:    Setting{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, r *http.Request) error {
				s, err := a.svc.Settings().Get(r.Context(), pathID(r, "key"))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, settingView(s))
				return nil
			},
		},
		{
			method: "PUT", path: "/api/v1/settings/{key}", perm: backupmgmt.PermAdmin, resource: "setting", tag: "settings",
			summary: "Set a setting: the body is its value, any JSON value",
			body:    json.RawMessage{}, resp: Setting{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, r *http.Request) error {
				var value json.RawMessage
				if err := decodeJSON(r, &value); err != nil {
					return err
				}
				s, err := a.svc.Settings().Put(r.Context(), pathID(r, "key"), value)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, settingView(s))
				return nil
			},
		},
		{
			method: "DELETE", path: "/api/v1/settings/{key}", perm: backupmgmt.PermAdmin, resource: "setting", tag: "settings",
			summary: "Delete a setting",
			status:  http.StatusNoContent,
			h: func(w http.ResponseWriter, r *http.Request) error {
				if err := a.svc.Settings().Delete(r.Context(), pathID(r, "key")); err != nil {
					return err
				}
				noContent(w)
				return nil
			},
		},
	}
}
