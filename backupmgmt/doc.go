// Package backupmgmt holds the domain of Custos: every rule of DESIGN §4,
// applied to a store.Store, usable by an embedder without any HTTP.
//
// New(store, *Config) returns a Service. Config has the clock, the logger,
// the ID source, the compliance policy and its presets, the organisation's
// time zone and the alert, session, lockout and SLA settings; its zero value
// means documented defaults. The Service's parts are reached by accessors:
//
//   - Jobs and Assets: jobs, copies and assets with field-named validation
//     (cron syntax, IANA zones, whole-second durations, enums), pause and
//     resume, ping-token rotation, classification;
//   - Executions and Pings: recording runs one by one or in batches, start
//     and finish paired by run ID, idempotent per (job, run ID), with their
//     effects on the job, its copies, its alerts and its compliance in one
//     transaction; the healthchecks-compatible ping semantics;
//   - Scheduler: the dead-man's switch (missed runs, proportional to the
//     jobs that are due) and stuck runs;
//   - Compliance: the 3-2-1-1-0 evaluator (Evaluate, EvaluateAsset, Policy,
//     PresetFor) applied per job and per asset, states stored on change,
//     history on transitions only, the periodic Sweep and the rate;
//   - Verification: restore tests and schedules on calendar-month cadences,
//     due soon and overdue;
//   - Media and Rotation: offline media, lending and return, the chain of
//     custody, GFS, Tower of Hanoi and round-robin rotation plans;
//   - Alerts: the rule table of DESIGN §4.6 with deduplication, escalation,
//     auto-resolution, acknowledgement and repeats; every alert change
//     writes its outbox rows in the same transaction;
//   - SLA, Rollups and Dashboard: per-job SLA figures, daily rollups and
//     the dashboard summary in at most two queries;
//   - Users, Auth and APIKeys: users with the last-admin guard, login with
//     lockout, sessions, API keys, and the RBAC table (Can);
//   - Audit: the hash-chained audit log, written by every audited action in
//     the action's transaction, and its verification.
//
// Tick runs all time-driven work once; Run ticks until its context ends.
// The caller of a method is the Actor of its context (WithActor); without
// one it is the system.
package backupmgmt
