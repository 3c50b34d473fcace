package security

import (
	"encoding/json"
	"net/http"
)

// ErrorWriter writes an error response. The middleware in this package never
// formats errors itself: the caller supplies the function, so that the whole
// server answers with one error envelope.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, code, message string)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// DefaultErrorWriter writes
// {"error":{"code":...,"message":...,"request_id":...}} as JSON with the
// given status. request_id comes from [RequestIDFrom] and is left out when
// the request did not pass through [RequestID].
func DefaultErrorWriter(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	body, err := json.Marshal(errorBody{Error: errorDetail{
		Code:      code,
		Message:   message,
		RequestID: RequestIDFrom(r.Context()),
	}})
	if err != nil {
		// Only strings are marshalled, so this cannot happen; keep the status.
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
