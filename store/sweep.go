package store

import (
	"context"
	"time"
)

// Page bounds of JobComplianceInputs and AssetComplianceInputs: its rows are narrow, so its pages may
// be larger than those of a list.
const (
	// ComplianceInputsLimitDefault is the page size when none is asked for.
	ComplianceInputsLimitDefault = 1000
	// ComplianceInputsLimitMax is the largest page.
	ComplianceInputsLimitMax = 1000
)

// ComplianceInputsParams select a page of JobComplianceInputs or
// AssetComplianceInputs.
type ComplianceInputsParams struct {
	// Limit is how many jobs (active or not) or assets the page covers: 1 to
	// ComplianceInputsLimitMax. Defaults to ComplianceInputsLimitDefault.
	Limit int
	// Cursor is the NextCursor of the previous page, or empty for the first.
	Cursor string
}

// Validate rejects a negative or too large limit; a bad cursor is reported
// by JobComplianceInputs.
func (p ComplianceInputsParams) Validate() error {
	var v validator
	if p.Limit < 0 || p.Limit > ComplianceInputsLimitMax {
		v.add("limit", "must be between 1 and %d", ComplianceInputsLimitMax)
	}
	return v.err()
}

// JobComplianceInputPage is one page of jobs, in the order of
// JobStore.List, with what the evaluation of each depends on.
type JobComplianceInputPage struct {
	// Jobs are the page's jobs, inactive ones included (with no copies,
	// test, schedule or state read for them).
	Jobs []JobComplianceInput
	// Assets holds the assets of the page's active jobs by ID: ID and
	// Classification only. A job whose asset is missing has none here.
	Assets map[string]*Asset
	// NextCursor is empty on the last page.
	NextCursor string
}

// JobComplianceInput is one job with the inputs of its compliance
// evaluation and its stored state. Only the fields the evaluation reads are
// set; the others are zero.
type JobComplianceInput struct {
	// Job holds ID, Name, AssetID, Active, Schedule.Kind, Schedule.Interval,
	// RetentionDays and RPOTarget.
	Job Job
	// Copies are the job's copies in name order, never nil for an active
	// job: JobID, Name, MediaType, Offsite, Offline, Immutable,
	// ImmutableUntil, Encrypted, LastWrittenAt and Status.
	Copies []Copy
	// LatestTest is the latest restore test (as VerificationTestStore.
	// LatestByJobs picks it): JobID, Result and TestedAt; nil for none.
	LatestTest *VerificationTest
	// Schedule is the active verification schedule: JobID, NextDueOn and
	// Active; nil for none.
	Schedule *VerificationSchedule
	// State is the job's stored compliance state; nil for none.
	State *StoredComplianceState
}

// StoredComplianceState is a stored state as a sweep compares it with a new
// evaluation: every field but Reasons and ChangedAt, and the reasons still
// encoded.
type StoredComplianceState struct {
	Status             ComplianceStatus
	Copies             int
	MediaTypes         int
	Offsite            bool
	OfflineOrImmutable bool
	Verified           bool
	Score              int
	EvaluatedAt        time.Time
	// ReasonsJSON is Reasons as stored: a JSON array of ComplianceReason
	// (what encoding/json makes of them, for states this store wrote).
	ReasonsJSON string
	// RecheckAt is when the state falls due again, as put by
	// ComplianceRecheckWriter; zero for a state put by PutState.
	RecheckAt time.Time
}

// ComplianceInputReader is an optional capability of a Store: a page of
// jobs with every input of their compliance evaluation and their stored
// states in a bounded number of statements, where the repositories would
// take one per kind of input and per page of LimitMax jobs. It reads
// outside any transaction and takes no locks. Callers find it by type
// assertion and fall back to the repositories; decorators should forward
// it.
type ComplianceInputReader interface {
	JobComplianceInputs(ctx context.Context, p ComplianceInputsParams) (*JobComplianceInputPage, error)
}

// AssetComplianceInputPage is one page of assets, in the order of
// AssetStore.List, with their stored compliance states.
type AssetComplianceInputPage struct {
	Assets []AssetComplianceInput
	// NextCursor is empty on the last page.
	NextCursor string
}

// AssetComplianceInput is an asset with its stored state.
type AssetComplianceInput struct {
	// Asset holds ID, Name and Classification.
	Asset Asset
	// State is the asset's stored compliance state; nil for none.
	State *StoredComplianceState
}

// AssetComplianceInputReader is an optional capability of a Store, the
// asset side of ComplianceInputReader: a page of assets with their stored
// states in one statement, read outside any transaction. Callers find it by
// type assertion and fall back to the repositories; decorators should
// forward it.
type AssetComplianceInputReader interface {
	AssetComplianceInputs(ctx context.Context, p ComplianceInputsParams) (*AssetComplianceInputPage, error)
}

// ComplianceRecheckWriter is an optional capability of Repos: PutState that
// also stores when the state falls due again, the earliest time at which
// the evaluation that made it may change with no input changing (a copy
// going stale, a test falling due) or the state is to be refreshed. A state
// put by PutState has none and is always due. Callers find it by type
// assertion and fall back to PutState; decorators should forward it.
type ComplianceRecheckWriter interface {
	PutStateRecheck(ctx context.Context, s *ComplianceState, recheckAt time.Time) error
}

// DueComplianceParams select a page of DueComplianceReader.DueCompliance.
type DueComplianceParams struct {
	// SubjectType is the kind of subject to list.
	SubjectType SubjectType
	// Now is the time the states are due at.
	Now time.Time
	// Limit is how many IDs the page holds at most: 1 to
	// ComplianceInputsLimitMax. Defaults to ComplianceInputsLimitDefault.
	Limit int
	// Cursor is the NextCursor of the previous page, or empty for the first.
	Cursor string
}

// Validate rejects an unknown subject type and a negative or too large
// limit; a bad cursor is reported by DueCompliance.
func (p DueComplianceParams) Validate() error {
	var v validator
	if p.SubjectType != SubjectJob && p.SubjectType != SubjectAsset {
		v.add("subject_type", "must be %s or %s", SubjectJob, SubjectAsset)
	}
	if p.Limit < 0 || p.Limit > ComplianceInputsLimitMax {
		v.add("limit", "must be between 1 and %d", ComplianceInputsLimitMax)
	}
	return v.err()
}

// DueCompliancePage is a page of subject IDs in ascending order.
type DueCompliancePage struct {
	IDs []string
	// NextCursor is empty on the last page.
	NextCursor string
}

// DueComplianceReader is an optional capability of a Store: the subjects
// whose compliance is due for evaluation at p.Now, read outside any
// transaction through an index rather than every subject. A subject is due
// when its state's recheck time (ComplianceRecheckWriter) is at or before
// p.Now, when its state was put without one, or when it has no state: an
// active job or an asset without one is listed; a state whose subject is
// gone or inactive is listed too when due. Callers find it by type
// assertion and fall back to evaluating every subject; decorators should
// forward it.
type DueComplianceReader interface {
	DueCompliance(ctx context.Context, p DueComplianceParams) (*DueCompliancePage, error)
}
