package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// velero reads `velero backup get NAME -o json` (one velero.io/v1 Backup)
// or `velero backup get -o json` / `kubectl get backups -o json` (a List
// with items; every run goes to the one Custos job the caller names, so list
// one schedule's backups: `-l velero.io/schedule-name=NAME`). The fields are those of Velero's BackupStatus
// (pkg/apis/velero/v1/backup_types.go): metadata.name, status.phase,
// status.startTimestamp, status.completionTimestamp, status.errors,
// status.warnings, status.progress.itemsBackedUp, status.failureReason and
// status.validationErrors.
//
// Phase mapping (velerophases): Completed → success; PartiallyFailed →
// warning; Failed and FailedValidation → failed; New, Queued, ReadyToStart,
// InProgress, WaitingForPluginOperations(PartiallyFailed) and
// Finalizing(PartiallyFailed) → running. Deleting carries no outcome and is
// refused, as is any other phase. A backup that has not started yet takes
// metadata.creationTimestamp as its start; one that failed validation never
// ran, so it finishes when it started. Field mapping: metadata.name → RunID
// and SnapshotID (Velero backup names are unique in their namespace),
// progress.itemsBackedUp → Files (Kubernetes items, not files),
// status.errors → Errors; Velero reports no size. failureReason and
// validationErrors go to the log excerpt.

var velerophases = map[string]store.ExecutionStatus{
	"New":                        store.ExecutionRunning,
	"Queued":                     store.ExecutionRunning,
	"ReadyToStart":               store.ExecutionRunning,
	"InProgress":                 store.ExecutionRunning,
	"WaitingForPluginOperations": store.ExecutionRunning,
	"WaitingForPluginOperationsPartiallyFailed": store.ExecutionRunning,
	"Finalizing":                store.ExecutionRunning,
	"FinalizingPartiallyFailed": store.ExecutionRunning,
	"Completed":                 store.ExecutionSuccess,
	"PartiallyFailed":           store.ExecutionWarning,
	"Failed":                    store.ExecutionFailed,
	"FailedValidation":          store.ExecutionFailed,
}

type veleroBackup struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name              string  `json:"name"`
		Namespace         string  `json:"namespace"`
		CreationTimestamp *string `json:"creationTimestamp"`
	} `json:"metadata"`
	Status *struct {
		Phase               *string  `json:"phase"`
		StartTimestamp      *string  `json:"startTimestamp"`
		CompletionTimestamp *string  `json:"completionTimestamp"`
		Errors              int64    `json:"errors"`
		Warnings            int64    `json:"warnings"`
		FailureReason       string   `json:"failureReason"`
		ValidationErrors    []string `json:"validationErrors"`
		Progress            struct {
			TotalItems    int64 `json:"totalItems"`
			ItemsBackedUp int64 `json:"itemsBackedUp"`
		} `json:"progress"`
	} `json:"status"`
}

func parseVelero(data []byte, o Options) ([]backupmgmt.RecordParams, error) {
	var head struct {
		Items json.RawMessage `json:"items"`
	}
	if err := decodeJSON(data, "", &head); err != nil {
		return nil, err
	}
	if raw := bytes.TrimSpace(head.Items); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		items, err := decodeArray[veleroBackup](raw, "items")
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, &ParseError{Field: "items", Message: "no backups in the list"}
		}
		runs := make([]backupmgmt.RecordParams, 0, len(items))
		for i, b := range items {
			p, err := veleroRun(index("items", i), b, o)
			if err != nil {
				return nil, err
			}
			runs = append(runs, p)
		}
		return runs, nil
	}
	var b veleroBackup
	if err := decodeJSON(data, "", &b); err != nil {
		return nil, err
	}
	p, err := veleroRun("", b, o)
	if err != nil {
		return nil, err
	}
	return []backupmgmt.RecordParams{p}, nil
}

func veleroRun(at string, b veleroBackup, o Options) (backupmgmt.RecordParams, error) {
	if b.Kind != "" && b.Kind != "Backup" {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "kind"), Message: fmt.Sprintf("must be Backup, not %q", clip(b.Kind, 40))}
	}
	name, err := key(join(at, "metadata.name"), b.Metadata.Name)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	st := b.Status
	if st == nil {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "status"), Message: "required"}
	}
	if st.Phase == nil || *st.Phase == "" {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "status.phase"), Message: "required"}
	}
	phase := *st.Phase
	status, ok := velerophases[phase]
	if !ok {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "status.phase"), Message: fmt.Sprintf("phase %q carries no run outcome", clip(phase, 40))}
	}
	for field, n := range map[string]int64{"errors": st.Errors, "warnings": st.Warnings, "progress.itemsBackedUp": st.Progress.ItemsBackedUp, "progress.totalItems": st.Progress.TotalItems} {
		if err := count(join(at, "status."+field), n); err != nil {
			return backupmgmt.RecordParams{}, err
		}
	}
	startField := join(at, "status.startTimestamp")
	start, err := optTime(startField, st.StartTimestamp, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if start.IsZero() && (status == store.ExecutionRunning || phase == "FailedValidation") {
		startField = join(at, "metadata.creationTimestamp")
		if start, err = optTime(startField, b.Metadata.CreationTimestamp, o.Location); err != nil {
			return backupmgmt.RecordParams{}, err
		}
	}
	if start.IsZero() {
		return backupmgmt.RecordParams{}, &ParseError{Field: startField, Message: "required"}
	}
	endField := join(at, "status.completionTimestamp")
	end, err := optTime(endField, st.CompletionTimestamp, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if end.IsZero() && phase == "FailedValidation" {
		end = start
	}
	p := backupmgmt.RecordParams{
		RunID: name, SnapshotID: name, Status: status, StartedAt: start,
		Files: st.Progress.ItemsBackedUp, Errors: st.Errors,
	}
	if err := finish(&p, end, endField); err != nil {
		return backupmgmt.RecordParams{}, err
	}
	var log []string
	if st.FailureReason != "" {
		log = append(log, "failure reason: "+st.FailureReason)
	}
	for _, v := range st.ValidationErrors {
		log = append(log, "validation error: "+v)
	}
	p.LogExcerpt = strings.Join(log, "\n")
	p.Message = fmt.Sprintf("velero backup %s: %s, %s", clip(name, 200), phase, plural(st.Progress.ItemsBackedUp, "item", "items"))
	if st.Errors > 0 {
		p.Message += ", " + plural(st.Errors, "error", "errors")
	}
	if st.Warnings > 0 {
		p.Message += ", " + plural(st.Warnings, "warning", "warnings")
	}
	if st.FailureReason != "" {
		p.Message += ": " + clip(st.FailureReason, 300)
	}
	return p, nil
}
