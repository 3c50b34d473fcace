// Package custos is the system of record and the watchdog for an
// organisation's backups. It answers, at any moment and with evidence: is
// every backup running, is every copy where it must be, has anyone proved it
// can be restored, and can that be shown to an auditor?
//
// Custos checks each backup job against the 3-2-1-1-0 rule: three copies of
// the data, on two media types, one offsite, one offline or immutable, and
// zero errors after verification. It notices runs that did not happen,
// tracks offline media and restore tests, raises alerts, and produces
// audit-grade reports.
//
// The module is an embeddable Go library plus a reference server,
// cmd/refserver, that composes it into one binary. This root package holds
// no code; the work is done in its packages:
//
//   - store: entity types, storage interfaces and sentinel errors. A leaf:
//     no ORM, no driver.
//   - store/bunstore: the bun adapter for SQLite, PostgreSQL and
//     MySQL/MariaDB, with embedded migrations per dialect.
//   - store/bunstore/dbopen: opens a store from a database URL; the only
//     library package that links the SQL drivers.
//   - store/bunstore/bunstoretest: isolated, migrated stores for tests on
//     each database.
//   - store/storetest: the conformance suite, storetest.Run, that every
//     adapter and decorator passes.
//   - backupmgmt: the domain services and rules (jobs, executions,
//     schedules, compliance, verification, media, alerts, SLA, audit, users
//     and API keys). Sub-packages hold the larger parts: httpapi (REST and
//     OpenAPI), ingest (backup tools' report formats), notify (channels and
//     the outbox dispatcher) and report (report data and renderers); webui
//     (HTML pages) is to come.
//   - cache: read-through caching decorators over the store interfaces.
//   - observe: Prometheus collectors and instrumentation, slog helpers.
//   - security: HTTP middleware and primitives (headers, rate limits, CSRF,
//     password hashing, API keys, authentication, RBAC); depends on none of
//     the packages above.
//   - examples: runnable examples of embedding the library.
//   - cmd/refserver: the thin reference server (serve, migrate, user add,
//     apikey create, audit verify, report generate).
//
// Dependencies point one way: store ← cache, observe ← backupmgmt ←
// backupmgmt/* ← cmd/refserver; security stands alone. The library never
// installs signal handlers, exits the process, or touches the global
// Prometheus registry or the default slog logger; cmd/refserver does.
//
// Today the storage foundation (store, store/bunstore and its sub-packages,
// store/storetest), the domain services of backupmgmt, the REST API
// (backupmgmt/httpapi), the report parsers (backupmgmt/ingest), the
// notification dispatcher (backupmgmt/notify), the reports
// (backupmgmt/report), the cache, observe, the security middleware and
// refserver exist; examples is a placeholder.
package custos
