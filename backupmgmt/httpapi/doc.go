// Package httpapi is Custos's REST API (/api/v1), its healthchecks-compatible
// ping URLs (/ping/{token}...) and its health probes, as one http.Handler
// over a backupmgmt.Service. An embedder mounts it on its own server;
// cmd/refserver is one such embedder.
//
// Every route is one entry of a route table that names its permission
// (DESIGN §7), its rate-limit class, its request and response types and
// its query parameters. The table drives the middleware of each route, the
// embedded OpenAPI 3.1 document (served at /api/v1/openapi.json) and the
// tests that check both. A route without a permission that is not
// explicitly public is refused at construction.
//
// Requests are decoded strictly: one JSON value, no unknown fields, no
// trailing data, required fields present, unknown query parameters
// refused. Every failure is the one envelope
//
//	{"error": {"code": "job_not_found", "message": "...", "fields": {...}, "request_id": "..."}}
//
// and the status is chosen in one place (errors.go); driver text never
// reaches a client.
package httpapi
