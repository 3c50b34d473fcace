// Package ingest turns the reports that backup tools write into runs for
// backupmgmt.Executions.Record and RecordBatch (DESIGN §4.2).
//
// Each Format reads one tool's documented machine output — restic's
// `backup --json` lines, borg's `create --json`, kopia's snapshot
// manifests, a Velero Backup resource, Bareos' bconsole JSON (`.api 2`),
// Veeam's and Windows Server Backup's PowerShell objects as ConvertTo-Json
// writes them — and maps the tool's status to an execution status with a
// table that the tests check letter by letter. The file of each format says
// which output it reads, how each field maps and what it decided where the
// tool is ambiguous.
//
// Parsing is strict about what a run means and tolerant about the rest:
// fields the tools add between versions are ignored, but a missing time, a
// wrong type, an unknown status or a negative size is a *ParseError naming
// the field. Parse never records anything; the caller (the HTTP route
// POST /api/v1/ingest/{format}) sets JobID or JobName on each run and
// records them.
package ingest
