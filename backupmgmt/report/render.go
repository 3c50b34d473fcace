package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// RenderOption tunes Render.
type RenderOption func(*renderConfig)

type renderConfig struct {
	font []byte
	loc  *time.Location
}

// WithFont embeds a TrueType font (subset) in PDFs, for text beyond
// Latin-1. Without it PDFs use a core font and show '?' for the rest.
func WithFont(ttf []byte) RenderOption { return func(c *renderConfig) { c.font = ttf } }

// WithLocation shows times in loc. Without it they are shown in the zone
// the document's period names, or UTC when that zone is unknown here.
func WithLocation(loc *time.Location) RenderOption { return func(c *renderConfig) { c.loc = loc } }

// Render writes doc in format f. The output depends only on doc and the
// options, so that the same document renders to the same bytes.
func Render(doc *Document, f store.ReportFormat, opts ...RenderOption) ([]byte, error) {
	if doc == nil {
		return nil, errors.New("report: nil Document")
	}
	var c renderConfig
	for _, o := range opts {
		o(&c)
	}
	if c.loc == nil {
		c.loc = time.UTC
		if loc, err := time.LoadLocation(doc.Header.Period.Timezone); err == nil {
			c.loc = loc
		}
	}
	switch f {
	case store.FormatJSON:
		out, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("report: json: %w", err)
		}
		return append(out, '\n'), nil
	case store.FormatHTML:
		return renderHTML(newView(doc, c.loc))
	case store.FormatCSV:
		return renderCSV(newView(doc, c.loc))
	case store.FormatPDF:
		return renderPDF(newView(doc, c.loc), c.font)
	}
	return nil, &store.ValidationError{Fields: map[string]string{"format": "must be one of html, csv, json, pdf"}}
}

// The page carries its own style and nothing else: no scripts, fonts,
// images or links, so that it opens the same offline or archived.
var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Header.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#1b1f24;font-size:14px}
h1{font-size:1.5em;margin-bottom:.2em}
h2{font-size:1.1em;margin:1.6em 0 .4em}
table{border-collapse:collapse;width:100%;margin-bottom:.4em}
th,td{border:1px solid #c9ced6;padding:.3em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f5}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dl.meta dt{font-weight:600}
dl.meta dd{margin:0}
p.note{color:#57606a;font-style:italic;margin:.2em 0}
@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}
</style>
</head>
<body>
<h1>{{.Header.Title}}</h1>
<dl class="meta">{{range .Meta}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>
{{range .Tables}}<section>
<h2>{{.Title}}</h2>
{{if .Rows}}<table>
<thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}{{if .Note}}<p class="note">{{.Note}}</p>
{{end}}</section>
{{end}}</body>
</html>
`))

func renderHTML(v *view) ([]byte, error) {
	var buf bytes.Buffer
	if err := htmlPage.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("report: html: %w", err)
	}
	return buf.Bytes(), nil
}

// renderCSV writes one block per table: its title, its header and rows,
// then a blank line.
func renderCSV(v *view) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	write := func(rec ...string) {
		for i, c := range rec {
			rec[i] = csvCell(c)
		}
		_ = w.Write(rec) // a bytes.Buffer does not fail; Error is checked below
	}
	write(v.Header.Title)
	for _, m := range v.Meta {
		write(m[0], m[1])
	}
	for _, t := range v.Tables {
		w.Flush()
		buf.WriteString("\r\n")
		write(t.Title)
		write(append([]string{}, t.Columns...)...)
		for _, r := range t.Rows {
			write(append([]string{}, r...)...)
		}
		if t.Note != "" {
			write(t.Note)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("report: csv: %w", err)
	}
	return buf.Bytes(), nil
}

// csvCell keeps a spreadsheet from reading a cell as a formula (CSV
// injection): one whose first non-blank character is = + - @, or that
// starts with a tab or a CR, gets a leading quote. A plain number or
// percentage (-3.2, +1e3, -3.2%) stays as it is, so it stays a number.
func csvCell(s string) string {
	if s == "" || csvNumber(s) {
		return s
	}
	t := strings.TrimLeft(s, " \t\r\n")
	if s[0] == '\t' || s[0] == '\r' || t != "" && strings.IndexByte("=+-@", t[0]) >= 0 {
		return "'" + s
	}
	return s
}

// csvNumber reports whether s is a finite number as strconv.ParseFloat
// reads it, with an optional trailing %.
func csvNumber(s string) bool {
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	return err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}
