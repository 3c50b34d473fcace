// Package backupmgmt will hold the domain services and rules of Custos:
// jobs, executions, schedules and missed runs, 3-2-1-1-0 compliance,
// verification, offline media, alerts, SLA, audit, users and API keys. It
// will re-export the store types its users need, and its sub-packages will
// hold the larger parts: httpapi, ingest, notify, report and webui.
//
// Not built yet: the package is empty.
package backupmgmt
