// Package report builds Custos's reports (DESIGN §11) from a
// backupmgmt.Service and renders them as HTML, CSV, JSON or PDF.
//
// The report types follow the original system's catalogue: daily, weekly
// and monthly period summaries (runs by status, success rate, failed and
// missed runs with their errors, alerts, compliance, a daily trend), the
// 3-2-1-1-0 compliance report (each rule per job and asset with its
// reasons), restore verification (measured RTO against the target,
// overdue schedules), offline media (inventory, lendings, custody events,
// rotations due), the audit log (activity by user and action, denied and
// failed events, the hash chain's verification) and an ISO/IEC 27001:2022
// evidence pack (A.8.13, A.8.15, A.5.30).
//
// A Generator reads the data (Build), renders it (Render) and stores it
// through the service's Reports (Generate); TickDigest mails the daily
// digest once a day at 08:00 in the configured zone. Every list in a
// report is bounded and says how many rows it leaves out.
package report
