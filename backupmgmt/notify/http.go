package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// maxResponseRead is how much of a receiver's response is read (and
// discarded) so the connection can be reused.
const maxResponseRead = 64 << 10

// httpTransport posts a JSON body to a Slack, Teams or generic webhook.
type httpTransport struct {
	d    *Dispatcher
	url  string
	body func(d *Dispatcher, m *message) ([]byte, error)
	// secret signs generic webhook bodies; headers are added as is.
	secret  []byte
	headers map[string]string
}

func (t *httpTransport) send(ctx context.Context, m *message) error {
	body, err := t.body(t.d, m)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return permanent("bad webhook URL")
	}
	for k, v := range t.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Custos")
	req.Header.Set("Idempotency-Key", m.ID)
	req.Header.Set("X-Custos-Delivery", m.ID)
	if t.secret != nil {
		ts := strconv.FormatInt(store.NormalizeTime(t.d.cfg.Now()).Unix(), 10)
		req.Header.Set("X-Custos-Timestamp", ts)
		req.Header.Set("X-Custos-Signature", Sign(t.secret, ts, body))
	}
	resp, err := t.d.cfg.HTTPClient.Do(req)
	if err != nil {
		// A *url.Error repeats the whole URL, which may be the credential.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post to %s: HTTP %d", req.URL.Host, resp.StatusCode)
	}
	return nil
}

// slackEscape escapes what Slack's mrkdwn and text fields parse as
// control characters.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// cut keeps the first n runes of s, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// slackBody is a Block Kit message: a header, the body with the facts as
// fields, and a context line with the time, plus a text fallback for
// notifications.
func slackBody(d *Dispatcher, m *message) ([]byte, error) {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type     string `json:"type"`
		Text     *text  `json:"text,omitempty"`
		Fields   []text `json:"fields,omitempty"`
		Elements []text `json:"elements,omitempty"`
	}
	mrkdwn := func(s string) text { return text{Type: "mrkdwn", Text: s} }
	section := strings.TrimSpace(m.Headline + "\n" + m.Body)
	var fields []text
	for _, f := range m.Facts {
		// Slack allows ten fields of at most 2,000 characters.
		if len(fields) == 10 {
			break
		}
		fields = append(fields, mrkdwn(cut("*"+slackEscape.Replace(f.Label)+"*\n"+slackEscape.Replace(f.Value), 2000)))
	}
	ctxLine := slackEscape.Replace(d.formatTime(m.At))
	if m.Link != "" {
		ctxLine += " · <" + slackEscape.Replace(m.Link) + "|Open in Custos>"
	}
	blocks := []block{
		{Type: "header", Text: &text{Type: "plain_text", Text: cut(m.Subject, 150)}},
		{Type: "section", Text: ptr(mrkdwn(cut(slackEscape.Replace(section), 3000))), Fields: fields},
		{Type: "context", Elements: []text{mrkdwn(ctxLine)}},
	}
	return json.Marshal(map[string]any{
		"text":   cut(slackEscape.Replace(m.Subject), 3000),
		"blocks": blocks,
	})
}

func ptr[T any](v T) *T { return &v }

// teamsEscape backslash-escapes what Adaptive Card text parses as
// markdown, so that a job name or an error like "[Click](https://evil)"
// shows as written instead of as a link.
var teamsEscape = func() *strings.Replacer {
	var pairs []string
	for _, c := range "\\`*_{}[]()#+-.!|~<>" {
		pairs = append(pairs, string(c), "\\"+string(c))
	}
	return strings.NewReplacer(pairs...)
}()

// teamsBody is a Workflows webhook message carrying one Adaptive Card.
func teamsBody(d *Dispatcher, m *message) ([]byte, error) {
	type factJSON struct {
		Title string `json:"title"`
		Value string `json:"value"`
	}
	esc := teamsEscape.Replace
	facts := make([]factJSON, 0, len(m.Facts))
	for _, f := range m.Facts {
		facts = append(facts, factJSON{esc(f.Label), esc(f.Value)})
	}
	body := []map[string]any{
		{"type": "TextBlock", "text": esc(m.Subject), "size": "Large", "weight": "Bolder", "wrap": true},
		{"type": "TextBlock", "text": esc(m.Headline), "wrap": true},
	}
	if m.Body != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": esc(m.Body), "wrap": true})
	}
	body = append(body,
		map[string]any{"type": "FactSet", "facts": facts},
		map[string]any{"type": "TextBlock", "text": esc(d.formatTime(m.At)), "isSubtle": true, "size": "Small", "wrap": true},
	)
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
	}
	if m.Link != "" {
		card["actions"] = []map[string]any{{"type": "Action.OpenUrl", "title": "Open in Custos", "url": m.Link}}
	}
	return json.Marshal(map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content":     card,
		}},
	})
}

// webhookBody is the generic webhook's JSON: the notification ID, the
// event, the notice as stored in the outbox, and when it was sent.
func webhookBody(d *Dispatcher, m *message) ([]byte, error) {
	body := map[string]any{
		"id":      m.ID,
		"event":   m.Event,
		"sent_at": store.NormalizeTime(d.cfg.Now()).Format(time.RFC3339Nano),
	}
	switch {
	case m.Alert != nil:
		body["alert"] = m.Alert
	case m.Report != nil:
		body["report"] = m.Report
	default:
		body["message"] = m.Body
	}
	return json.Marshal(body)
}
