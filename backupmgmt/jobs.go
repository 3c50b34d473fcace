package backupmgmt

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/custos-dev/custos/store"
)

// Jobs manages backup jobs and their copies (DESIGN §3): validation, pause
// and resume, ping tokens, and the deadline the scheduler watches (§4.1).
// Every change is audited and re-evaluates the compliance it affects, in
// the transaction of the change.
type Jobs Service

// Jobs gives the job and copy operations.
func (s *Service) Jobs() *Jobs { return (*Jobs)(s) }

// JobParams are the user-settable fields of a new job.
type JobParams struct {
	Name         string
	Description  string
	AssetID      *string // optional; must name an asset
	JobType      store.JobType
	Tool         store.Tool
	TargetServer string
	TargetPath   string
	Schedule     store.Schedule
	// Grace is how long after an expected start a run may begin before it
	// counts as missed; whole seconds.
	Grace time.Duration
	// MaxRuntime is how long a run may take before it counts as stuck;
	// whole seconds, 0 for no limit.
	MaxRuntime    time.Duration
	RetentionDays int
	RPOTarget     time.Duration
	RTOTarget     time.Duration
	OwnerID       *string // optional; must name a user
	Tags          []string
	// Active defaults to true.
	Active *bool
	// Paused creates the job paused: it is never missed until resumed.
	Paused bool
}

// JobUpdate changes some fields of a job: a nil field is kept. Pausing is
// done with Pause and Resume, the ping token with RotatePingToken.
type JobUpdate struct {
	Name        *string
	Description *string
	// AssetID names the job's asset; a pointer to "" removes it.
	AssetID      *string
	JobType      *store.JobType
	Tool         *store.Tool
	TargetServer *string
	TargetPath   *string
	Schedule     *store.Schedule
	Grace        *time.Duration
	MaxRuntime   *time.Duration
	// RetentionDays is how long the tool keeps backups, 0 for unknown.
	RetentionDays *int
	RPOTarget     *time.Duration
	RTOTarget     *time.Duration
	// OwnerID names the job's owner; a pointer to "" removes it.
	OwnerID *string
	// Tags replaces the tags when not nil; an empty slice removes them.
	Tags   []string
	Active *bool
}

// jobsComplianceFields are the JobUpdate fields the compliance evaluator
// reads (the name appears in an asset's reasons).
var jobsComplianceFields = []string{"name", "asset_id", "schedule", "retention_days", "rpo_target_seconds", "active"}

// Create validates p and stores a new job in state new (paused when
// p.Paused), with a fresh ping token and its first deadline, and evaluates
// its compliance (a job without copies starts non_compliant under most
// policies). Bad input is a *store.ValidationError naming every bad field,
// unknown asset and owner included; a taken name is store.ErrConflict.
func (js *Jobs) Create(ctx context.Context, p JobParams) (*store.Job, error) {
	s := (*Service)(js)
	token, err := jobsNewPingToken()
	if err != nil {
		return nil, err
	}
	now := s.Now()
	j := &store.Job{
		ID:            s.cfg.NewID(),
		Name:          p.Name,
		Description:   p.Description,
		AssetID:       jobsOptionalID(p.AssetID),
		JobType:       p.JobType,
		Tool:          p.Tool,
		TargetServer:  p.TargetServer,
		TargetPath:    p.TargetPath,
		Schedule:      p.Schedule,
		Grace:         p.Grace,
		MaxRuntime:    p.MaxRuntime,
		RetentionDays: p.RetentionDays,
		RPOTarget:     p.RPOTarget,
		RTOTarget:     p.RTOTarget,
		OwnerID:       jobsOptionalID(p.OwnerID),
		Tags:          jobsTags(p.Tags),
		Active:        p.Active == nil || *p.Active,
		Paused:        p.Paused,
		PingToken:     token,
		State:         store.JobStateNew,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if j.Paused {
		j.State = store.JobStatePaused
	}
	fields := jobsValidate(j)
	if len(fields) == 0 {
		// The schedule is valid, so NextDue cannot fail.
		if j.NextDueAt, err = NextDue(j.Schedule, j.Grace, now); err != nil {
			return nil, err
		}
	}
	var out store.Job
	err = s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		f := maps.Clone(fields)
		if err := jobsCheckRefs(ctx, tx, j.AssetID, j.OwnerID, f); err != nil {
			return err
		}
		if len(f) > 0 {
			return &store.ValidationError{Fields: f}
		}
		out = *j
		out.Tags = slices.Clone(j.Tags)
		if err := tx.Jobs().Create(ctx, &out); err != nil {
			return jobsWriteErr(err, "job", out.Name)
		}
		if _, err := s.reevaluateJob(ctx, tx, &out, []store.Copy{}); err != nil {
			return err
		}
		return s.audit(ctx, tx, "job.create", "job", out.ID, jobsAuditSummary(&out))
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns one job.
func (js *Jobs) Get(ctx context.Context, id string) (*store.Job, error) {
	return js.store.Jobs().Get(ctx, id)
}

// GetByName returns the job called name, ignoring case.
func (js *Jobs) GetByName(ctx context.Context, name string) (*store.Job, error) {
	return js.store.Jobs().GetByName(ctx, name)
}

// List returns jobs ordered by name.
func (js *Jobs) List(ctx context.Context, p store.ListJobsParams) (*store.Page[store.Job], error) {
	fields := make(map[string]string)
	jobsMergeFields(fields, p.Validate())
	if p.State != "" && !p.State.Valid() {
		fields["state"] = "unknown job state"
	}
	if p.JobType != "" && !p.JobType.Valid() {
		fields["job_type"] = "unknown job type"
	}
	if p.Tool != "" && !p.Tool.Valid() {
		fields["tool"] = "unknown tool"
	}
	if len(fields) > 0 {
		return nil, &store.ValidationError{Fields: fields}
	}
	return js.store.Jobs().List(ctx, p)
}

// Update applies u to the job id. A new schedule or grace moves the
// deadline: the next one after the job's last run (or creation), and when
// that has passed, the latest passed one, so the job owes at most one
// missed run rather than a backlog. Reactivating a job counts its deadline
// from now. Changes that compliance reads re-evaluate the job (and its old
// and new asset). An update that changes nothing writes nothing.
func (js *Jobs) Update(ctx context.Context, id string, u JobUpdate) (*store.Job, error) {
	s := (*Service)(js)
	var out *store.Job
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		j, err := tx.Jobs().Get(ctx, id)
		if err != nil {
			return err
		}
		old := *j
		changed := jobsApply(j, u)
		out = j
		if len(changed) == 0 {
			return nil
		}
		fields := jobsValidate(j)
		var assetID, ownerID *string
		if slices.Contains(changed, "asset_id") {
			assetID = j.AssetID
		}
		if slices.Contains(changed, "owner_id") {
			ownerID = j.OwnerID
		}
		if err := jobsCheckRefs(ctx, tx, assetID, ownerID, fields); err != nil {
			return err
		}
		if len(fields) > 0 {
			return &store.ValidationError{Fields: fields}
		}
		now := s.Now()
		switch {
		case j.Active && !old.Active:
			// Time spent inactive is not a missed run.
			if j.NextDueAt, err = NextDue(j.Schedule, j.Grace, now); err != nil {
				return err
			}
		case slices.Contains(changed, "schedule") || slices.Contains(changed, "grace_seconds"):
			base := j.CreatedAt
			if j.LastRunAt != nil && j.LastRunAt.After(base) {
				base = *j.LastRunAt
			}
			if j.NextDueAt, err = jobsDeadline(j.Schedule, j.Grace, base, now); err != nil {
				return err
			}
		}
		if err := tx.Jobs().Update(ctx, j); err != nil {
			return jobsWriteErr(err, "job", j.Name)
		}
		if slices.ContainsFunc(changed, func(f string) bool { return slices.Contains(jobsComplianceFields, f) }) {
			if _, err := s.reevaluateJob(ctx, tx, j, nil); err != nil {
				return err
			}
			if slices.Contains(changed, "asset_id") {
				// The old asset loses the job's copies, the new one gains them,
				// whether or not the job's own state changed.
				for _, a := range []*string{old.AssetID, j.AssetID} {
					if a == nil {
						continue
					}
					if _, err := s.reevaluateAsset(ctx, tx, *a); err != nil {
						return err
					}
				}
			}
		}
		return s.audit(ctx, tx, "job.update", "job", j.ID, map[string]any{"changed": changed})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes a job with its copies, executions and verification
// records. Its unresolved alerts are resolved (their condition can no
// longer clear) and its asset is re-evaluated without it.
func (js *Jobs) Delete(ctx context.Context, id string) error {
	s := (*Service)(js)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		j, err := tx.Jobs().Get(ctx, id)
		if err != nil {
			return err
		}
		if err := jobsResolveAlerts(ctx, s, tx, j.ID); err != nil {
			return err
		}
		if err := tx.Jobs().Delete(ctx, j.ID); err != nil {
			return err
		}
		if j.AssetID != nil {
			if _, err := s.reevaluateAsset(ctx, tx, *j.AssetID); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, "job.delete", "job", j.ID, map[string]any{"name": j.Name})
	})
}

// jobsResolveAlerts auto-resolves every unresolved alert of a job.
func jobsResolveAlerts(ctx context.Context, s *Service, tx store.Repos, jobID string) error {
	p := store.ListAlertsParams{JobID: jobID, Unresolved: true}
	p.Limit = store.LimitMax
	for {
		page, err := tx.Alerts().List(ctx, p)
		if err != nil {
			return err
		}
		for i := range page.Items {
			if err := s.resolve(ctx, tx, &page.Items[i], store.ResolvedByAuto); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		// Resolved alerts leave the unresolved list, so the next page
		// starts again from the top.
		p.Cursor = ""
	}
}

// Pause stops the watchdog for a job: it is never marked missed while
// paused. Its deadline is kept (the scheduler skips paused jobs) and
// recomputed on Resume. Pausing a paused job changes nothing.
func (js *Jobs) Pause(ctx context.Context, id string) (*store.Job, error) {
	return js.setPaused(ctx, id, true)
}

// Resume restarts the watchdog for a paused job: its state goes back to
// what its last result says (up, failed, missed, or new before any run) and
// its deadline counts from now, so the pause is not a missed run. Resuming
// a job that is not paused changes nothing.
func (js *Jobs) Resume(ctx context.Context, id string) (*store.Job, error) {
	return js.setPaused(ctx, id, false)
}

func (js *Jobs) setPaused(ctx context.Context, id string, paused bool) (*store.Job, error) {
	s := (*Service)(js)
	var out *store.Job
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		j, err := tx.Jobs().Get(ctx, id)
		if err != nil {
			return err
		}
		out = j
		if j.Paused == paused {
			return nil
		}
		j.Paused = paused
		action := "job.pause"
		if paused {
			j.State = store.JobStatePaused
		} else {
			action = "job.resume"
			j.State = jobsStateAfter(j.LastResult)
			if j.NextDueAt, err = NextDue(j.Schedule, j.Grace, s.Now()); err != nil {
				return err
			}
		}
		if err := tx.Jobs().Update(ctx, j); err != nil {
			return err
		}
		return s.audit(ctx, tx, action, "job", j.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// jobsStateAfter is the state a job's last result implies.
func jobsStateAfter(last store.ExecutionStatus) store.JobState {
	switch last {
	case store.ExecutionSuccess, store.ExecutionWarning:
		return store.JobStateUp
	case store.ExecutionFailed, store.ExecutionCanceled:
		return store.JobStateFailed
	case store.ExecutionMissed:
		return store.JobStateMissed
	case store.ExecutionRunning:
		return store.JobStateRunning
	}
	return store.JobStateNew
}

// RotatePingToken gives the job a new ping token; the old one stops working
// at once. The returned job carries the new token, which the audit event
// does not.
func (js *Jobs) RotatePingToken(ctx context.Context, id string) (*store.Job, error) {
	s := (*Service)(js)
	var out *store.Job
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		j, err := tx.Jobs().Get(ctx, id)
		if err != nil {
			return err
		}
		if j.PingToken, err = jobsNewPingToken(); err != nil {
			return err
		}
		if err := tx.Jobs().Update(ctx, j); err != nil {
			return err
		}
		out = j
		return s.audit(ctx, tx, "job.rotate_ping_token", "job", j.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CopyParams are the user-settable fields of a new copy. Its status starts
// unknown; ingest records writes.
type CopyParams struct {
	Name      string
	Role      store.CopyRole
	MediaType store.MediaType
	Location  string
	Offsite   bool
	Offline   bool
	Immutable bool
	// ImmutableUntil is when the immutability ends; only for an immutable
	// copy, nil for no end.
	ImmutableUntil *time.Time
	Encrypted      bool
	Compressed     bool
	// MediaID names the offline medium the copy is written to; optional.
	MediaID *string
}

// CopyUpdate changes some fields of a copy: a nil field is kept.
type CopyUpdate struct {
	Name      *string
	Role      *store.CopyRole
	MediaType *store.MediaType
	Location  *string
	Offsite   *bool
	Offline   *bool
	Immutable *bool
	// ImmutableUntil sets the end of immutability; a pointer to the zero
	// time removes it.
	ImmutableUntil *time.Time
	Encrypted      *bool
	Compressed     *bool
	// MediaID names the copy's medium; a pointer to "" removes it.
	MediaID *string
}

// AddCopy adds a copy to a job and re-evaluates the job's compliance. A
// name the job already uses is store.ErrConflict.
func (js *Jobs) AddCopy(ctx context.Context, jobID string, p CopyParams) (*store.Copy, error) {
	s := (*Service)(js)
	now := s.Now()
	c := &store.Copy{
		ID:             s.cfg.NewID(),
		JobID:          jobID,
		Name:           p.Name,
		Role:           p.Role,
		MediaType:      p.MediaType,
		Location:       p.Location,
		Offsite:        p.Offsite,
		Offline:        p.Offline,
		Immutable:      p.Immutable,
		ImmutableUntil: jobsNormTime(p.ImmutableUntil),
		Encrypted:      p.Encrypted,
		Compressed:     p.Compressed,
		MediaID:        jobsOptionalID(p.MediaID),
		Status:         store.CopyStatusUnknown,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	var out store.Copy
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		job, err := tx.Jobs().Get(ctx, jobID)
		if err != nil {
			return err
		}
		if err := jobsValidateCopy(ctx, tx, c, true); err != nil {
			return err
		}
		out = *c
		if err := tx.Copies().Create(ctx, &out); err != nil {
			return jobsWriteErr(err, "copy", out.Name)
		}
		if _, err := s.reevaluateJob(ctx, tx, job, nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, "copy.create", "copy", out.ID, map[string]any{"job_id": jobID, "name": out.Name})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateCopy applies u to a copy of the job jobID (store.ErrNotFound when
// the copy belongs to another job) and re-evaluates the job's compliance.
func (js *Jobs) UpdateCopy(ctx context.Context, jobID, copyID string, u CopyUpdate) (*store.Copy, error) {
	s := (*Service)(js)
	var out *store.Copy
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		c, err := jobsGetCopy(ctx, tx, jobID, copyID)
		if err != nil {
			return err
		}
		changed := jobsApplyCopy(c, u)
		out = c
		if len(changed) == 0 {
			return nil
		}
		if err := jobsValidateCopy(ctx, tx, c, slices.Contains(changed, "media_id")); err != nil {
			return err
		}
		if err := tx.Copies().Update(ctx, c); err != nil {
			return jobsWriteErr(err, "copy", c.Name)
		}
		job, err := tx.Jobs().Get(ctx, jobID)
		if err != nil {
			return err
		}
		if _, err := s.reevaluateJob(ctx, tx, job, nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, "copy.update", "copy", c.ID, map[string]any{"job_id": jobID, "changed": changed})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteCopy removes a copy of the job jobID and re-evaluates the job's
// compliance. Executions that wrote it keep existing, without the copy.
func (js *Jobs) DeleteCopy(ctx context.Context, jobID, copyID string) error {
	s := (*Service)(js)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		c, err := jobsGetCopy(ctx, tx, jobID, copyID)
		if err != nil {
			return err
		}
		if err := tx.Copies().Delete(ctx, c.ID); err != nil {
			return err
		}
		job, err := tx.Jobs().Get(ctx, jobID)
		if err != nil {
			return err
		}
		if _, err := s.reevaluateJob(ctx, tx, job, nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, "copy.delete", "copy", c.ID, map[string]any{"job_id": jobID, "name": c.Name})
	})
}

// ListCopies returns a job's copies ordered by name; store.ErrNotFound when
// there is no such job.
func (js *Jobs) ListCopies(ctx context.Context, jobID string) ([]store.Copy, error) {
	if _, err := js.store.Jobs().Get(ctx, jobID); err != nil {
		return nil, err
	}
	return js.store.Copies().ListByJob(ctx, jobID)
}

// jobsGetCopy reads a copy, as not found when it is not the job's.
func jobsGetCopy(ctx context.Context, tx store.Repos, jobID, copyID string) (*store.Copy, error) {
	c, err := tx.Copies().Get(ctx, copyID)
	if err != nil {
		return nil, err
	}
	if c.JobID != jobID {
		return nil, store.ErrNotFound
	}
	return c, nil
}

// jobsValidateCopy checks c, and its medium when checkMedia.
func jobsValidateCopy(ctx context.Context, tx store.Repos, c *store.Copy, checkMedia bool) error {
	fields := make(map[string]string)
	jobsMergeFields(fields, c.Validate())
	if c.ImmutableUntil != nil && !c.Immutable {
		fields["immutable_until"] = "only for an immutable copy"
	}
	if checkMedia && c.MediaID != nil {
		m, err := tx.Media().Get(ctx, *c.MediaID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			fields["media_id"] = "no such media"
		case err != nil:
			return err
		case m.Status == store.MediaRetired:
			fields["media_id"] = "media is retired"
		}
	}
	if len(fields) > 0 {
		return &store.ValidationError{Fields: fields}
	}
	return nil
}

// jobsApplyCopy applies u to c and returns the API names of the fields
// whose value changed.
func jobsApplyCopy(c *store.Copy, u CopyUpdate) []string {
	var changed jobsChanges
	set := changed.set
	jobsPatch(set, "name", u.Name, &c.Name)
	jobsPatch(set, "role", u.Role, &c.Role)
	jobsPatch(set, "media_type", u.MediaType, &c.MediaType)
	jobsPatch(set, "location", u.Location, &c.Location)
	jobsPatch(set, "offsite", u.Offsite, &c.Offsite)
	jobsPatch(set, "offline", u.Offline, &c.Offline)
	jobsPatch(set, "immutable", u.Immutable, &c.Immutable)
	jobsPatch(set, "encrypted", u.Encrypted, &c.Encrypted)
	jobsPatch(set, "compressed", u.Compressed, &c.Compressed)
	if u.ImmutableUntil != nil {
		var until *time.Time
		if !u.ImmutableUntil.IsZero() {
			until = jobsNormTime(u.ImmutableUntil)
		}
		set("immutable_until", !jobsSameTime(until, c.ImmutableUntil))
		c.ImmutableUntil = until
	}
	if u.MediaID != nil {
		id := jobsOptionalID(u.MediaID)
		set("media_id", !jobsSameID(id, c.MediaID))
		c.MediaID = id
	}
	return changed
}

// jobsApply applies u to j and returns the API names of the fields whose
// value changed.
func jobsApply(j *store.Job, u JobUpdate) []string {
	var changed jobsChanges
	set := changed.set
	jobsPatch(set, "name", u.Name, &j.Name)
	jobsPatch(set, "description", u.Description, &j.Description)
	jobsPatch(set, "target_server", u.TargetServer, &j.TargetServer)
	jobsPatch(set, "target_path", u.TargetPath, &j.TargetPath)
	if u.AssetID != nil {
		id := jobsOptionalID(u.AssetID)
		set("asset_id", !jobsSameID(id, j.AssetID))
		j.AssetID = id
	}
	jobsPatch(set, "job_type", u.JobType, &j.JobType)
	jobsPatch(set, "tool", u.Tool, &j.Tool)
	jobsPatch(set, "schedule", u.Schedule, &j.Schedule)
	jobsPatch(set, "grace_seconds", u.Grace, &j.Grace)
	jobsPatch(set, "max_runtime_seconds", u.MaxRuntime, &j.MaxRuntime)
	jobsPatch(set, "rpo_target_seconds", u.RPOTarget, &j.RPOTarget)
	jobsPatch(set, "rto_target_seconds", u.RTOTarget, &j.RTOTarget)
	jobsPatch(set, "retention_days", u.RetentionDays, &j.RetentionDays)
	if u.OwnerID != nil {
		id := jobsOptionalID(u.OwnerID)
		set("owner_id", !jobsSameID(id, j.OwnerID))
		j.OwnerID = id
	}
	if u.Tags != nil {
		tags := jobsTags(u.Tags)
		set("tags", !slices.Equal(tags, j.Tags))
		j.Tags = tags
	}
	jobsPatch(set, "active", u.Active, &j.Active)
	return changed
}

// jobsChanges collects the API names of the fields an update changed.
type jobsChanges []string

func (c *jobsChanges) set(field string, differs bool) {
	if differs {
		*c = append(*c, field)
	}
}

// jobsPatch applies one optional field of an update: when in is set, it is
// copied to *to and set is told whether the value changed.
func jobsPatch[T comparable](set func(field string, differs bool), field string, in, to *T) {
	if in != nil {
		set(field, *in != *to)
		*to = *in
	}
}

// jobsValidate returns the field errors of j: the store's checks, the
// schedule's (cron syntax, IANA zone, interval) and repeated tags.
func jobsValidate(j *store.Job) map[string]string {
	fields := make(map[string]string)
	jobsMergeFields(fields, j.Validate())
	jobsMergeFields(fields, ValidateSchedule(j.Schedule))
	seen := make(map[string]bool, len(j.Tags))
	for _, t := range j.Tags {
		if seen[t] {
			if _, ok := fields["tags"]; !ok {
				fields["tags"] = fmt.Sprintf("tag %q appears twice", t)
			}
		}
		seen[t] = true
	}
	return fields
}

// jobsCheckRefs adds a field error for an asset or owner that does not
// exist; nil IDs are not checked.
func jobsCheckRefs(ctx context.Context, tx store.Repos, assetID, ownerID *string, fields map[string]string) error {
	if assetID != nil {
		if _, err := tx.Assets().Get(ctx, *assetID); errors.Is(err, store.ErrNotFound) {
			fields["asset_id"] = "no such asset"
		} else if err != nil {
			return err
		}
	}
	if ownerID != nil {
		if _, err := tx.Users().Get(ctx, *ownerID); errors.Is(err, store.ErrNotFound) {
			fields["owner_id"] = "no such user"
		} else if err != nil {
			return err
		}
	}
	return nil
}

// jobsMergeFields adds the fields of a *store.ValidationError to fields,
// keeping errors already there.
func jobsMergeFields(fields map[string]string, err error) {
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		return
	}
	for k, v := range ve.Fields {
		if _, ok := fields[k]; !ok {
			fields[k] = v
		}
	}
}

// jobsWriteErr explains a constraint a write of a job or copy broke: a
// taken name stays store.ErrConflict (with its *store.ConstraintError), a
// reference that vanished meanwhile becomes a field error.
func jobsWriteErr(err error, what, name string) error {
	var ce *store.ConstraintError
	if !errors.As(err, &ce) {
		return err
	}
	switch {
	case ce.Err == store.ErrConflict && ce.Field == "name":
		return fmt.Errorf("backupmgmt: a %s named %q already exists: %w", what, name, err)
	case ce.Err == store.ErrForeignKey && ce.Field == "asset_id":
		return &store.ValidationError{Fields: map[string]string{"asset_id": "no such asset"}}
	case ce.Err == store.ErrForeignKey && ce.Field == "owner_id":
		return &store.ValidationError{Fields: map[string]string{"owner_id": "no such user"}}
	case ce.Err == store.ErrForeignKey && ce.Field == "media_id":
		return &store.ValidationError{Fields: map[string]string{"media_id": "no such media"}}
	}
	return err
}

// jobsAuditSummary is what the audit event of a new job says about it;
// never the ping token.
func jobsAuditSummary(j *store.Job) map[string]any {
	d := map[string]any{
		"name":          j.Name,
		"job_type":      j.JobType,
		"tool":          j.Tool,
		"schedule_kind": j.Schedule.Kind,
		"active":        j.Active,
		"paused":        j.Paused,
	}
	if j.AssetID != nil {
		d["asset_id"] = *j.AssetID
	}
	if j.OwnerID != nil {
		d["owner_id"] = *j.OwnerID
	}
	return d
}

// jobsPingTokenBytes is the ping token's randomness: 128 bits.
const jobsPingTokenBytes = 16

// jobsNewPingToken returns 128 random bits as unpadded URL-safe base64
// (22 characters), fit for a URL path.
func jobsNewPingToken() (string, error) {
	var b [jobsPingTokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("backupmgmt: ping token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// jobsDeadline returns the deadline of a job that last answered for base:
// the first one after base while that is still ahead of now; once it has
// passed, the latest deadline at or before now, so a job owes one missed
// run, never a backlog of them. Manual schedules have none.
func jobsDeadline(s store.Schedule, grace time.Duration, base, now time.Time) (*time.Time, error) {
	due, err := NextDue(s, grace, base)
	if err != nil || due == nil || due.After(now) {
		return due, err
	}
	if s.Kind == store.ScheduleInterval {
		// Interval runs keep the phase of base: base + k·interval.
		k := now.Sub(base.Add(grace)) / s.Interval
		latest := store.NormalizeTime(base.Add(k*s.Interval + grace))
		return &latest, nil
	}
	// For cron, the first deadline after now and the one after it give a
	// cycle length; search back from now in doubling windows until one holds a
	// passed deadline, then walk forward to the latest.
	future, err := NextDue(s, grace, now.Add(-grace))
	if err != nil || future == nil {
		return due, err
	}
	after, err := NextDue(s, grace, future.Add(-grace))
	if err != nil || after == nil {
		return due, err
	}
	cycle := max(after.Sub(*future), time.Minute)
	for window := cycle; ; window *= 2 {
		from := now.Add(-grace - window)
		if !from.After(base) {
			from = base
		}
		d, err := NextDue(s, grace, from)
		if err != nil {
			return nil, err
		}
		if d != nil && !d.After(now) {
			for {
				next, err := NextDue(s, grace, d.Add(-grace))
				if err != nil {
					return nil, err
				}
				if next == nil || next.After(now) {
					return d, nil
				}
				d = next
			}
		}
		if from.Equal(base) {
			return due, nil
		}
	}
}

// jobsOptionalID turns an optional ID from input into a stored one: nil or
// empty is none.
func jobsOptionalID(id *string) *string {
	if id == nil || *id == "" {
		return nil
	}
	v := *id
	return &v
}

func jobsSameID(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func jobsSameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// jobsTags copies tags, never returning nil (the store keeps [] for none).
func jobsTags(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return slices.Clone(tags)
}

// jobsNormTime returns a copy of t in stored form, nil for nil.
func jobsNormTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := store.NormalizeTime(*t)
	return &v
}
