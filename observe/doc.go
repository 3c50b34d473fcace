// Package observe will hold Custos's observability: Prometheus collectors
// registered on a Registerer the caller passes (never the global one), HTTP
// and database query instrumentation, and slog helpers.
//
// Not built yet: the package is empty.
package observe
