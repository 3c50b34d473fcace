package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/custos-dev/custos/backupmgmt"
)

// The ping URLs are healthchecks.io-compatible (DESIGN §6): borgmatic,
// runitor or a curl in a cron line call them unchanged. Like
// healthchecks.io they take GET, POST and HEAD, answer "OK" in plain text,
// and refuse in plain text too ("not found" for an unknown token), since
// their callers are shell scripts that print the body. The middleware's own
// refusals (rate limit, unknown query parameter, body too large) stay in
// the JSON envelope.

// pingPaths are the ping URLs and the kind each records; {exit_code} is
// parsed by the handler.
var pingPaths = []struct {
	suffix, summary string
	kind            backupmgmt.PingKind
}{
	{"", "Ping: the run succeeded (healthchecks-compatible; the body is kept as the log)", backupmgmt.PingSuccess},
	{"/start", "Ping: a run started; ?rid= pairs it with its finish", backupmgmt.PingStart},
	{"/fail", "Ping: the run failed", backupmgmt.PingFail},
	{"/log", "Ping: a log message; accepted and stored nowhere (changes no state)", backupmgmt.PingLog},
	{"/{exit_code}", "Ping: the run ended with this exit code, 0 a success and 1 to 255 a failure", backupmgmt.PingExit},
}

func (a *API) pingRoutes() []*route {
	var out []*route
	for _, p := range pingPaths {
		methods := []string{http.MethodGet, http.MethodPost, http.MethodHead}
		if p.kind == backupmgmt.PingExit {
			// The mux refuses HEAD /ping/{token}/{exit_code} beside
			// GET /ping/{token}/start (neither pattern is more specific);
			// a HEAD there is still served, by the GET route, which the
			// mux matches for HEAD too.
			methods = methods[:2]
		}
		for _, m := range methods {
			out = append(out, &route{
				method: m, path: "/ping/{token}" + p.suffix, public: true, limit: limitPing, tag: "ping",
				summary: p.summary,
				query:   []queryParam{{name: "rid", desc: "run ID pairing a start with its finish"}},
				status:  http.StatusOK, rawResp: "text/plain",
				maxBody: MaxPingBodyBytesDefault,
				h:       a.ping(p.kind),
			})
		}
	}
	return out
}

func (a *API) ping(kind backupmgmt.PingKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := backupmgmt.PingParams{Token: r.PathValue("token"), Kind: kind, RunID: r.URL.Query().Get("rid")}
		if kind == backupmgmt.PingExit {
			code, ok := parseExitCode(r.PathValue("exit_code"))
			if !ok {
				pingText(w, http.StatusBadRequest, "invalid exit code: want 0 to 255")
				return nil
			}
			p.ExitCode = code
		}
		// The body is the run's log. A longer one than the cap is cut
		// rather than refused: the run happened, and a failing backup
		// script must not also lose its ping.
		body, err := io.ReadAll(r.Body)
		var mbe *http.MaxBytesError
		if err != nil && !errors.As(err, &mbe) {
			pingText(w, http.StatusBadRequest, "reading the body failed")
			return nil
		}
		p.Body = body
		if _, err := a.svc.Pings().Ping(r.Context(), p); err != nil {
			a.pingError(w, r, err)
			return nil
		}
		pingText(w, http.StatusOK, "OK")
		return nil
	}
}

// parseExitCode accepts 0 to 255 in plain decimal.
func parseExitCode(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n <= 255
}

// pingError answers a failed ping in plain text with the status the API
// would give it: 404 "not found" for an unknown token, 400 naming the field
// for a bad rid, 503 for a busy database.
func (a *API) pingError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, backupmgmt.ErrUnknownPingToken) {
		pingText(w, http.StatusNotFound, "not found")
		return
	}
	status, body := a.status(r, err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	pingText(w, status, body.Message)
}

func pingText(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}
