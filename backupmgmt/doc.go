// Package backupmgmt holds the domain rules of Custos: when a job's next run
// is due, and whether a job or an asset meets the 3-2-1-1-0 rule.
//
// What exists so far are the pure rules, usable without a store or a clock:
//   - ParseCron, Cron.Next and NextDue: 5-field cron in an IANA zone,
//     correct across daylight-saving changes, interval and manual schedules,
//     and the deadline the dead-man's switch watches (DESIGN §4.1);
//   - Policy, DefaultPolicy, PresetFor, Evaluate and EvaluateAsset: the
//     compliance evaluator with the classification presets, per-rule
//     booleans, score and reasons that name their evidence (DESIGN §4.3);
//   - AppendAudit and VerifyAudit: the hash-chained audit log over a store,
//     serialised by its unique sequence so the chain never forks, also with
//     several processes (DESIGN §4.8).
//
// The services that apply the rest to a store (jobs, ingest, the scheduler
// tick, verification, media, alerts, SLA, users and keys) are not built yet.
package backupmgmt
