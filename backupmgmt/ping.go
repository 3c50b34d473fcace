package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// Pings records runs from the healthchecks.io-compatible ping URLs (DESIGN
// §6), so that borgmatic, runitor or a plain curl report to Custos
// unchanged. A ping is authenticated by the job's ping token alone, and
// becomes an execution with source ping, with every effect Record has. A
// paused job keeps receiving pings: the runs are recorded, but the job
// stays paused, keeps its deadline and raises no alert (resuming is a
// person's decision, unlike healthchecks.io, which resumes on a ping).
type Pings Service

// Pings gives the ping operations.
func (s *Service) Pings() *Pings { return (*Pings)(s) }

// ErrUnknownPingToken is returned for a ping whose token names no job.
var ErrUnknownPingToken = errors.New("backupmgmt: unknown ping token")

// PingKind is which ping URL was called.
type PingKind string

// PingKind values: /ping/{token}/start, /ping/{token}, /ping/{token}/fail,
// /ping/{token}/log and /ping/{token}/{exit_code}.
const (
	PingStart   PingKind = "start"
	PingSuccess PingKind = "success"
	PingFail    PingKind = "fail"
	PingLog     PingKind = "log"
	PingExit    PingKind = "exit"
)

// Valid reports whether k is one of the defined PingKind values.
func (k PingKind) Valid() bool {
	switch k {
	case PingStart, PingSuccess, PingFail, PingLog, PingExit:
		return true
	}
	return false
}

// PingRunWindowDefault is how far back a finish ping without a rid looks
// for the start it completes, for a job without a max runtime.
const PingRunWindowDefault = 24 * time.Hour

// ingestPingRunIDPrefix marks the run IDs made for pings without a rid: a finish
// without a rid completes only such a start, as healthchecks.io pairs
// events without a rid only with each other.
const ingestPingRunIDPrefix = "ping-"

// PingParams is one ping.
type PingParams struct {
	Token string
	Kind  PingKind
	// ExitCode is the code of an exit ping: 0 is a success, 1 to 255 a
	// failure.
	ExitCode int
	// RunID is the ?rid= parameter pairing a start with its finish.
	RunID string
	// Body is the request body: kept as the run's log excerpt (its last
	// store.MaxLogExcerptLen characters, invalid UTF-8 replaced), and its
	// first line as the message.
	Body []byte
	// At is when the ping arrived. Defaults to now.
	At time.Time
}

// PingResult is what a ping did.
type PingResult struct {
	// Execution is the run the ping recorded, completed or found recorded
	// before; nil for a log ping.
	Execution *store.Execution
	// Created reports a new execution.
	Created bool
	// Completed reports that the ping finished a running execution.
	Completed bool
	// LogIgnored reports a log ping, which stores nothing: a log changes no
	// state on healthchecks.io either, and executions are append-only but
	// for their finish, so a running one's excerpt cannot grow.
	LogIgnored bool
}

// Ping records a ping, with all the effects of the run, in one
// transaction:
//
//   - start records a running execution whose run ID is the rid (or a new
//     one); a repeated start with the same rid changes nothing;
//   - success, fail and exit (code 0 is a success, 1–255 a failure)
//     finish the running execution with the rid, or without a rid the job's
//     latest running execution started by a ping without rid within its
//     max runtime (PingRunWindowDefault when it has none). When there is
//     none, they record a finished execution that started and finished at
//     the ping; a finish of a run already finished changes nothing;
//   - log stores nothing and reports LogIgnored.
//
// An unknown token gives ErrUnknownPingToken; a bad kind, rid or exit code
// a *store.ValidationError for "kind", "rid" or "exit_code". Pings are not
// audited.
func (pg *Pings) Ping(ctx context.Context, p PingParams) (*PingResult, error) {
	s := (*Service)(pg)
	status, err := ingestPingStatus(p)
	if err != nil {
		return nil, err
	}
	if p.Token == "" {
		return nil, ErrUnknownPingToken
	}
	if p.Kind == PingLog {
		if _, err := s.store.Jobs().GetByPingToken(ctx, p.Token); errors.Is(err, store.ErrNotFound) {
			return nil, ErrUnknownPingToken
		} else if err != nil {
			return nil, fmt.Errorf("backupmgmt: find job by ping token: %w", err)
		}
		return &PingResult{LogIgnored: true}, nil
	}
	at := s.Now()
	if !p.At.IsZero() {
		at = store.NormalizeTime(p.At)
	}
	text := store.CleanText(string(p.Body))
	e := &store.Execution{
		Status:     status,
		StartedAt:  at,
		Source:     store.SourcePing,
		Message:    ingestPingMessage(text, p),
		LogExcerpt: store.TruncateTextTail(text, store.MaxLogExcerptLen),
		RunID:      p.RunID,
		CreatedAt:  s.Now(),
	}
	if e.RunID == "" {
		// Made outside the transaction, so that a retry records the same run.
		e.RunID = ingestPingRunIDPrefix + s.cfg.NewID()
	}
	if status != store.ExecutionRunning {
		e.FinishedAt = &at
	}
	var out *PingResult
	err = s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		job, err := tx.Jobs().GetByPingToken(ctx, p.Token)
		if errors.Is(err, store.ErrNotFound) {
			return ErrUnknownPingToken
		}
		if err != nil {
			return fmt.Errorf("backupmgmt: find job by ping token: %w", err)
		}
		run := *e
		run.JobID = job.ID
		res, err := s.ingestPingRecord(ctx, tx, job, &run, p.RunID != "")
		if err != nil {
			return err
		}
		out = &PingResult{Execution: res.Execution, Created: res.Created, Completed: res.Completed}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ingestPingRecord records ping run e of job inside tx: a start as it is, a
// finish completing its start when there is one.
func (s *Service) ingestPingRecord(ctx context.Context, tx store.Repos, job *store.Job, e *store.Execution, hasRID bool) (*RecordResult, error) {
	if e.Status == store.ExecutionRunning {
		return s.ingestExecution(ctx, tx, job, nil, e)
	}
	var start *store.Execution
	if hasRID {
		stored, err := tx.Executions().GetByRunID(ctx, job.ID, e.RunID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("backupmgmt: find run: %w", err)
		case stored.Status != store.ExecutionRunning:
			return &RecordResult{Execution: stored}, nil
		default:
			start = stored
		}
	} else {
		var err error
		if start, err = s.ingestPingOpenStart(ctx, tx, job, e.StartedAt); err != nil {
			return nil, err
		}
	}
	if start == nil {
		return s.ingestExecution(ctx, tx, job, nil, e)
	}
	// A finish that arrives before its start (clocks of two senders) ends
	// the run when it started.
	if e.FinishedAt.Before(start.StartedAt) {
		at := start.StartedAt
		e.FinishedAt = &at
	}
	e.StartedAt = start.StartedAt
	return s.ingestComplete(ctx, tx, job, nil, start, e)
}

// ingestPingOpenStart returns the latest running execution of job started by a
// ping without rid within the job's max runtime before at, or nil.
func (s *Service) ingestPingOpenStart(ctx context.Context, tx store.Repos, job *store.Job, at time.Time) (*store.Execution, error) {
	window := job.MaxRuntime
	if window <= 0 {
		window = PingRunWindowDefault
	}
	p := store.ListExecutionsParams{
		JobID: job.ID, Status: store.ExecutionRunning, Source: store.SourcePing,
		Started: store.TimeRange{From: at.Add(-window), To: at.Add(time.Microsecond)},
	}
	p.Limit = 20
	page, err := tx.Executions().List(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: find running ping: %w", err)
	}
	for i := range page.Items {
		if strings.HasPrefix(page.Items[i].RunID, ingestPingRunIDPrefix) {
			return &page.Items[i], nil
		}
	}
	return nil, nil
}

// ingestPingStatus checks p and returns the status its run gets.
func ingestPingStatus(p PingParams) (store.ExecutionStatus, error) {
	f := ingestFields{}
	var status store.ExecutionStatus
	switch p.Kind {
	case PingStart:
		status = store.ExecutionRunning
	case PingSuccess:
		status = store.ExecutionSuccess
	case PingFail:
		status = store.ExecutionFailed
	case PingLog:
	case PingExit:
		switch {
		case p.ExitCode < 0 || p.ExitCode > 255:
			f.add("exit_code", "must be between 0 and 255")
		case p.ExitCode == 0:
			status = store.ExecutionSuccess
		default:
			status = store.ExecutionFailed
		}
	default:
		f.add("kind", "must be one of: start, success, fail, log, exit")
	}
	if p.RunID != "" {
		if problem := ingestKeyProblem(p.RunID, store.MaxNameLen); problem != "" {
			f.add("rid", problem)
		}
	}
	return status, f.err()
}

// ingestPingMessage is the first non-empty line of the body, or for a failing
// exit code without one, the code.
func ingestPingMessage(body string, p PingParams) string {
	for line := range strings.Lines(body) {
		if line = strings.TrimSpace(line); line != "" {
			return store.TruncateText(line, store.MaxMessageLen)
		}
	}
	if p.Kind == PingExit && p.ExitCode != 0 {
		return fmt.Sprintf("exit code %d", p.ExitCode)
	}
	return ""
}
