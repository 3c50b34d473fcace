package backupmgmt

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// TestConcurrentIngestJobChangesAndAcknowledgements has 100 goroutines
// record runs of 10 jobs, every run sent twice, while others edit the jobs
// and acknowledge alerts. Every run is stored once, the job facts match the
// runs, no dedupe key has two unresolved alerts, and the audit chain holds
// exactly the edits and acknowledgements that succeeded.
func TestConcurrentIngestJobChangesAndAcknowledgements(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		const (
			jobs      = 10
			writers   = 100
			runsEach  = 10
			editors   = 4
			editsEach = 10
			ackers    = 4
		)
		b := setup(t, kind, nil)
		admin := b.userFixture(t, "admin", store.RoleAdmin)
		ctx := actorCtx(t.Context(), admin)
		b.clock.Set(testStart.Add(time.Hour))

		jobIDs := make([]string, jobs)
		copyIDs := make([]string, jobs)
		for i := range jobIDs {
			j, err := b.svc.Jobs().Create(ctx, JobParams{
				Name: fmt.Sprintf("job-%02d", i), JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
				Schedule: store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour}, Grace: time.Minute,
			})
			require.NoError(t, err)
			c, err := b.svc.Jobs().AddCopy(ctx, j.ID, CopyParams{Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS})
			require.NoError(t, err)
			jobIDs[i], copyIDs[i] = j.ID, c.ID
		}
		auditBefore := len(b.auditActions(t))

		// Run r of writer w: job w%jobs, started r*writers+w seconds after
		// the base, so starts are distinct per job; every fourth fails.
		base := testStart
		run := func(w, r int) RecordParams {
			started := base.Add(time.Duration(r*writers+w) * time.Second)
			finished := started.Add(30 * time.Second)
			st := store.ExecutionSuccess
			if (w+r)%4 == 0 {
				st = store.ExecutionFailed
			}
			return RecordParams{
				JobID: jobIDs[w%jobs], RunID: fmt.Sprintf("w%03d-r%02d", w, r), Status: st,
				StartedAt: started, FinishedAt: &finished, SizeBytes: 1 << 20, CopyID: &copyIDs[w%jobs],
			}
		}

		raised := make(chan struct{}, 1) // a failure was recorded: there may be alerts to acknowledge
		var (
			created, repeated       atomic.Int64
			edits, acks             atomic.Int64
			failures                = make(chan error, writers+editors+ackers)
			stop                    = make(chan struct{})
			ingestKey               = actorCtx(t.Context(), admin)
			writersDone, othersDone sync.WaitGroup
		)
		for w := range writers {
			writersDone.Add(1)
			go func() {
				defer writersDone.Done()
				for r := range runsEach {
					for range 2 {
						res, err := b.svc.Executions().Record(ingestKey, run(w, r))
						if err != nil {
							failures <- fmt.Errorf("writer %d run %d: %w", w, r, err)
							return
						}
						if res.Created {
							created.Add(1)
							if res.Execution.Status == store.ExecutionFailed {
								select {
								case raised <- struct{}{}:
								default:
								}
							}
						} else {
							repeated.Add(1)
						}
					}
				}
			}()
		}
		for e := range editors {
			othersDone.Add(1)
			go func() {
				defer othersDone.Done()
				for i := range editsEach {
					desc := fmt.Sprintf("edited by %d, round %d", e, i)
					if _, err := b.svc.Jobs().Update(ctx, jobIDs[(e+i)%jobs], JobUpdate{Description: &desc}); err != nil {
						failures <- fmt.Errorf("editor %d: %w", e, err)
						return
					}
					edits.Add(1)
				}
			}()
		}
		for range ackers {
			othersDone.Add(1)
			go func() {
				defer othersDone.Done()
				for {
					select {
					case <-stop:
						return
					case <-raised:
					}
					page, err := b.svc.Alerts().List(ctx, store.ListAlertsParams{State: store.AlertOpen})
					if err != nil {
						failures <- err
						return
					}
					for _, a := range page.Items {
						_, err := b.svc.Alerts().Acknowledge(ctx, a.ID, "on it")
						switch {
						case err == nil:
							acks.Add(1)
						case errors.Is(err, ErrAlertState):
							// resolved by a success in between
						default:
							failures <- err
							return
						}
					}
				}
			}()
		}
		writersDone.Wait()
		close(stop)
		othersDone.Wait()
		close(failures)
		for err := range failures {
			require.NoError(t, err)
		}

		require.Equal(t, int64(writers*runsEach), created.Load())
		require.Equal(t, int64(writers*runsEach), repeated.Load())
		counts, err := b.store.Executions().CountByStatus(t.Context(), "", store.TimeRange{})
		require.NoError(t, err)
		var total int64
		for _, n := range counts {
			total += n
		}
		require.Equal(t, int64(writers*runsEach), total)
		wantFailed := 0
		for w := range writers {
			for r := range runsEach {
				if (w+r)%4 == 0 {
					wantFailed++
				}
			}
		}
		require.Equal(t, int64(wantFailed), counts[store.ExecutionFailed])

		// Each job's facts follow its latest run, whatever order they came in.
		for i, id := range jobIDs {
			j, err := b.store.Jobs().Get(t.Context(), id)
			require.NoError(t, err)
			latestW, latestR := 0, 0
			for w := i; w < writers; w += jobs {
				for r := range runsEach {
					if r*writers+w > latestR*writers+latestW {
						latestW, latestR = w, r
					}
				}
			}
			last := run(latestW, latestR)
			require.Equal(t, last.StartedAt, *j.LastRunAt, "job %d", i)
			require.Equal(t, last.Status, j.LastResult, "job %d", i)
			per, err := b.store.Executions().CountByStatus(t.Context(), id, store.TimeRange{})
			require.NoError(t, err)
			require.Equal(t, int64(writers/jobs*runsEach), per[store.ExecutionSuccess]+per[store.ExecutionFailed])
		}

		// No dedupe key has two unresolved alerts.
		seen := map[string]bool{}
		p := store.ListAlertsParams{Unresolved: true, PageParams: store.PageParams{Limit: store.LimitMax}}
		for {
			page, err := b.store.Alerts().List(t.Context(), p)
			require.NoError(t, err)
			for _, a := range page.Items {
				require.False(t, seen[a.DedupeKey], "two unresolved alerts for %s", a.DedupeKey)
				seen[a.DedupeKey] = true
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}

		// The chain verifies and holds exactly the successful edits and
		// acknowledgements; ingest wrote none.
		actions := b.auditActions(t)[auditBefore:]
		var gotEdits, gotAcks int64
		for _, a := range actions {
			switch a {
			case "job.update":
				gotEdits++
			case "alert.acknowledge":
				gotAcks++
			default:
				t.Fatalf("unexpected audit action %s", a)
			}
		}
		require.Equal(t, edits.Load(), gotEdits)
		require.Equal(t, int64(editors*editsEach), gotEdits)
		require.Equal(t, acks.Load(), gotAcks)
	})
}
