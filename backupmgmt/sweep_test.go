package backupmgmt

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// sweepCounted returns a service over b's store whose statements qc counts.
func (b *testBundle) sweepCounted(t testing.TB, cfg *Config) (*Service, *bunstore.QueryCounter) {
	t.Helper()
	qc := &bunstore.QueryCounter{}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.Now = b.clock.Now
	svc, err := New(b.store.WithQueryHook(qc), &c)
	require.NoError(t, err)
	return svc, qc
}

// sweepCopy stores a copy of a job, encrypted, last written at written.
func (b *testBundle) sweepCopy(t testing.TB, repos store.Repos, jobID, name string, media store.MediaType, written time.Time, mod func(c *store.Copy)) *store.Copy {
	t.Helper()
	c := &store.Copy{
		JobID: jobID, Name: name, Role: store.CopyRolePrimary, MediaType: media,
		Encrypted: true, LastWrittenAt: &written, Status: store.CopyStatusOK,
	}
	if mod != nil {
		mod(c)
	}
	require.NoError(t, repos.Copies().Create(t.Context(), c))
	return c
}

// sweepTestAt stores a passing restore test of a job.
func (b *testBundle) sweepTestAt(t testing.TB, repos store.Repos, jobID string, at time.Time) {
	t.Helper()
	require.NoError(t, repos.VerificationTests().Create(t.Context(), &store.VerificationTest{
		JobID: jobID, TestType: store.TestFullRestore, Result: store.TestSuccess, TestedAt: at,
	}))
}

// sweepFullJob stores a job that meets the default policy while its copies,
// written at written, are fresh: a disk copy and an immutable offsite cloud
// copy, and a restore test a day old.
func (b *testBundle) sweepFullJob(t testing.TB, name string, written time.Time, mod func(j *store.Job)) *store.Job {
	t.Helper()
	j := b.jobFixture(t, name, mod)
	b.sweepCopy(t, b.store, j.ID, "disk", store.MediaDisk, written, nil)
	b.sweepCopy(t, b.store, j.ID, "cloud", store.MediaCloudObject, written, func(c *store.Copy) {
		c.Role, c.Offsite, c.Immutable = store.CopyRoleOffsite, true, true
	})
	b.sweepTestAt(t, b.store, j.ID, b.svc.Now().Add(-24*time.Hour))
	return j
}

func (b *testBundle) sweepChanges(t testing.TB, subject store.SubjectType, id string) []store.ComplianceChange {
	t.Helper()
	p := store.ListComplianceChangesParams{SubjectType: subject, SubjectID: id}
	p.Limit = store.LimitMax
	page, err := b.store.Compliance().ListChanges(t.Context(), p)
	require.NoError(t, err)
	return page.Items
}

func sweepWrites(qc *bunstore.QueryCounter) int64 {
	return qc.CountOf("INSERT") + qc.CountOf("UPDATE") + qc.CountOf("DELETE")
}

// sweepStaleStore hands out, in its transactions, copies as they were
// before their last write on the first read, as a read that an ingest
// committing just after would leave stale.
type sweepStaleStore struct {
	store.Store
	stale bool
}

func (s *sweepStaleStore) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	return s.Store.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
		return fn(ctx, sweepStaleRepos{Repos: tx, s: s})
	})
}

func (s *sweepStaleStore) isStale() bool { return s.stale }

type sweepStaleRepos struct {
	store.Repos
	s *sweepStaleStore
}

func (r sweepStaleRepos) Copies() store.CopyStore {
	return sweepStaleCopies{CopyStore: r.Repos.Copies(), s: r.s}
}

type sweepStaleCopies struct {
	store.CopyStore
	s *sweepStaleStore
}

func (c sweepStaleCopies) ListByJobs(ctx context.Context, jobIDs []string) ([]store.Copy, error) {
	out, err := c.CopyStore.ListByJobs(ctx, jobIDs)
	if c.s.stale {
		c.s.stale = false
		old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range out {
			out[i].LastWrittenAt = &old
		}
	}
	return out, err
}

// sweepStaleInputs hands out, on the first call of JobComplianceInputs,
// copies as they were before their last write, as sweepStaleStore does for
// the repositories.
type sweepStaleInputs struct {
	*bunstore.Store
	stale bool
}

func (s *sweepStaleInputs) JobComplianceInputs(ctx context.Context, p store.ComplianceInputsParams) (*store.JobComplianceInputPage, error) {
	page, err := s.Store.JobComplianceInputs(ctx, p)
	if err == nil && s.stale {
		s.stale = false
		old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range page.Jobs {
			for k := range page.Jobs[i].Copies {
				page.Jobs[i].Copies[k].LastWrittenAt = &old
			}
		}
	}
	return page, err
}

func (s *sweepStaleInputs) isStale() bool { return s.stale }

func TestComplianceSweep(t *testing.T) {
	t.Parallel()

	t.Run("TurnsAgingCopiesNonCompliantOnce", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			ctx := t.Context()
			job := b.sweepFullJob(t, "erp", b.svc.Now().Add(-3*24*time.Hour), func(j *store.Job) {
				j.RPOTarget = 4 * 24 * time.Hour
			})

			res, err := b.svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: 1, Changed: 1}, res)
			st, err := b.svc.Compliance().State(ctx, store.SubjectJob, job.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceCompliant, st.Status, "reasons: %v", st.Reasons)

			b.clock.Advance(2 * 24 * time.Hour)
			svc, qc := b.sweepCounted(t, nil)
			res, err = svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: 1, Changed: 1}, res)
			st, err = b.svc.Compliance().State(ctx, store.SubjectJob, job.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceNonCompliant, st.Status)
			require.Contains(t, st.Reasons, store.ComplianceReason{
				Rule: ComplianceRuleCopies, Severity: "warning", Message: "copy `disk` last written 5 days ago, limit 4",
			})
			changes := b.sweepChanges(t, store.SubjectJob, job.ID)
			require.Len(t, changes, 2)
			require.Equal(t, store.ComplianceCompliant, changes[0].From)
			require.Equal(t, store.ComplianceNonCompliant, changes[0].To)
			alert, err := b.store.Alerts().GetUnresolved(ctx, AlertKey(store.AlertComplianceViolation, jobSubject(job.ID)))
			require.NoError(t, err)
			require.Equal(t, 1, alert.Occurrences)

			qc.Reset()
			res, err = svc.Compliance().SweepAll(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: 1}, res)
			require.Zero(t, sweepWrites(qc), "a sweep that changes nothing writes nothing")
			require.Len(t, b.sweepChanges(t, store.SubjectJob, job.ID), 2)
			// The age in days moves on tomorrow: nothing is due before.
			qc.Reset()
			res, err = svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{}, res)
			require.Equal(t, int64(2), qc.Count(), "the due jobs, the due assets")
			alert, err = b.store.Alerts().GetUnresolved(ctx, alert.DedupeKey)
			require.NoError(t, err)
			require.Equal(t, 1, alert.Occurrences)

			// Past the refresh age the state is rewritten, without history.
			evaluated := st.EvaluatedAt
			b.clock.Advance(ComplianceRefreshDefault + time.Minute)
			qc.Reset()
			res, err = svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: 1}, res)
			require.Equal(t, int64(1), sweepWrites(qc))
			st, err = b.svc.Compliance().State(ctx, store.SubjectJob, job.ID)
			require.NoError(t, err)
			require.True(t, st.EvaluatedAt.After(evaluated))
			require.Equal(t, changes[0].At, st.ChangedAt)
			require.Len(t, b.sweepChanges(t, store.SubjectJob, job.ID), 2)
		})
	})

	t.Run("ReadsOnlyTheDueSubjects", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			ctx := t.Context()
			now := b.svc.Now()
			asset := &store.Asset{Name: "erp", Classification: store.ClassificationInternal}
			require.NoError(t, b.store.Assets().Create(ctx, asset))
			onAsset := func(rpo time.Duration) func(j *store.Job) {
				return func(j *store.Job) { j.AssetID, j.RPOTarget = &asset.ID, rpo }
			}
			soon := b.sweepFullJob(t, "erp-hourly", now.Add(-time.Hour), onAsset(26*time.Hour))
			b.sweepFullJob(t, "erp-weekly", now.Add(-time.Hour), onAsset(8*24*time.Hour))
			b.sweepFullJob(t, "wiki", now.Add(-time.Hour), func(j *store.Job) { j.RPOTarget = 8 * 24 * time.Hour })
			// A refresh longer than the test, so that only time's own
			// changes fall due.
			svc, qc := b.sweepCounted(t, &Config{ComplianceRefresh: 30 * 24 * time.Hour})

			res, err := svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: 3, Assets: 1, Changed: 4}, res, "the first sweep is a full one")
			qc.Reset()
			res, err = svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{}, res)
			require.Equal(t, int64(2), qc.Count())

			// Just before the hourly job's copies go stale nothing is due;
			// at that time, the job and its asset are evaluated.
			b.clock.Advance(25*time.Hour - time.Microsecond)
			res, err = svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{}, res)
			b.clock.Advance(2 * time.Microsecond)
			res, err = svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: 1, Assets: 1, Changed: 2}, res)
			st, err := svc.Compliance().State(ctx, store.SubjectJob, soon.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceNonCompliant, st.Status)

			// A job stored behind the service's back has no state: due.
			added := b.sweepFullJob(t, "crm", b.svc.Now().Add(-time.Hour), nil)
			res, err = svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: 1, Changed: 1}, res)
			_, err = svc.Compliance().State(ctx, store.SubjectJob, added.ID)
			require.NoError(t, err)

			// SweepAll still evaluates everything.
			res, err = svc.Compliance().SweepAll(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: 4, Assets: 1}, res)
		})
	})

	t.Run("AnEditLeavingTheJobAloneStillReevaluatesItsAsset", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			ctx := t.Context()
			asset := &store.Asset{Name: "erp", Classification: store.ClassificationConfidential}
			require.NoError(t, b.store.Assets().Create(ctx, asset))
			onAsset := func(j *store.Job) { j.AssetID, j.RetentionDays = &asset.ID, 5*365 }
			job := b.sweepFullJob(t, "erp-a", b.svc.Now().Add(-time.Hour), onAsset)
			b.sweepFullJob(t, "erp-b", b.svc.Now().Add(-time.Hour), onAsset)
			_, err := b.svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			before, err := b.svc.Compliance().State(ctx, store.SubjectJob, job.ID)
			require.NoError(t, err)
			st, err := b.svc.Compliance().State(ctx, store.SubjectAsset, asset.ID)
			require.NoError(t, err)
			require.Equal(t, 2, st.MediaTypes)

			// The job still has two media types; the asset gains a third.
			copies, err := b.store.Copies().ListByJob(ctx, job.ID)
			require.NoError(t, err)
			i := slices.IndexFunc(copies, func(c store.Copy) bool { return c.Name == "disk" })
			tape := store.MediaTape
			_, err = b.svc.Jobs().UpdateCopy(ctx, job.ID, copies[i].ID, CopyUpdate{MediaType: &tape})
			require.NoError(t, err)
			after, err := b.svc.Compliance().State(ctx, store.SubjectJob, job.ID)
			require.NoError(t, err)
			require.Equal(t, before, after)
			st, err = b.svc.Compliance().State(ctx, store.SubjectAsset, asset.ID)
			require.NoError(t, err)
			require.Equal(t, 3, st.MediaTypes)
		})
	})

	t.Run("EvaluatesAssetsOverTheUnionOfTheirJobs", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			ctx := t.Context()
			now := b.svc.Now()
			asset := &store.Asset{Name: "erp", Classification: store.ClassificationConfidential}
			require.NoError(t, b.store.Assets().Create(ctx, asset))
			empty := &store.Asset{Name: "wiki", Classification: store.ClassificationConfidential}
			require.NoError(t, b.store.Assets().Create(ctx, empty))
			onAsset := func(j *store.Job) {
				j.AssetID = &asset.ID
				j.RetentionDays = 5 * 365
			}
			disk := b.jobFixture(t, "erp-disk", onAsset)
			b.sweepCopy(t, b.store, disk.ID, "nas", store.MediaNAS, now.Add(-time.Hour), nil)
			b.sweepTestAt(t, b.store, disk.ID, now.Add(-24*time.Hour))
			cloud := b.jobFixture(t, "erp-cloud", onAsset)
			b.sweepCopy(t, b.store, cloud.ID, "s3", store.MediaCloudObject, now.Add(-time.Hour), func(c *store.Copy) {
				c.Role, c.Offsite, c.Immutable = store.CopyRoleOffsite, true, true
			})
			b.sweepTestAt(t, b.store, cloud.ID, now.Add(-24*time.Hour))
			retired := b.jobFixture(t, "erp-old", func(j *store.Job) {
				onAsset(j)
				j.Active = false
			})
			b.sweepCopy(t, b.store, retired.ID, "old-disk", store.MediaDisk, now.Add(-time.Hour), func(c *store.Copy) {
				c.Encrypted = false
			})

			res, err := b.svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: 2, Assets: 2, Changed: 4}, res)
			for _, j := range []*store.Job{disk, cloud} {
				st, err := b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
				require.NoError(t, err)
				require.Equal(t, store.ComplianceNonCompliant, st.Status, "job %s alone has one copy", j.Name)
			}
			_, err = b.svc.Compliance().State(ctx, store.SubjectJob, retired.ID)
			require.ErrorIs(t, err, store.ErrNotFound, "inactive jobs get no state")

			st, err := b.svc.Compliance().State(ctx, store.SubjectAsset, asset.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceCompliant, st.Status, "reasons: %v", st.Reasons)
			require.Equal(t, 2, st.Copies)
			require.Equal(t, 2, st.MediaTypes)
			require.Equal(t, 100, st.Score)

			st, err = b.svc.Compliance().State(ctx, store.SubjectAsset, empty.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceNonCompliant, st.Status)
			require.Contains(t, st.Reasons, store.ComplianceReason{Rule: ComplianceRuleZeroErrors, Severity: "error", Message: "no jobs protect this asset"})

			// The asset's own evaluation agrees with the sweep: no flip-flop.
			for _, a := range []*store.Asset{asset, empty} {
				swept, err := b.svc.Compliance().State(ctx, store.SubjectAsset, a.ID)
				require.NoError(t, err)
				again, err := b.svc.Compliance().EvaluateAsset(ctx, a.ID)
				require.NoError(t, err)
				require.Equal(t, swept.Status, again.Status)
				require.Equal(t, swept.Score, again.Score)
				require.Equal(t, swept.Reasons, again.Reasons)
				require.Len(t, b.sweepChanges(t, store.SubjectAsset, a.ID), 1)
			}
		})
	})

	t.Run("WritesOnlyFromInputsReadAgainUnderLock", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			ctx := t.Context()
			job := b.sweepFullJob(t, "erp", b.svc.Now().Add(-time.Hour), nil)
			_, err := b.svc.Compliance().Sweep(ctx)
			require.NoError(t, err)

			for _, stale := range []interface {
				store.Store
				isStale() bool
			}{
				&sweepStaleStore{Store: b.store, stale: true},
				&sweepStaleInputs{Store: b.store, stale: true},
			} {
				_, bulk := stale.(store.ComplianceInputReader)
				svc, err := New(stale, &Config{Now: b.clock.Now})
				require.NoError(t, err)
				res, err := svc.Compliance().Sweep(ctx)
				require.NoError(t, err)
				require.False(t, stale.isStale(), "the first read was stale (bulk %v)", bulk)
				require.Equal(t, SweepResult{Jobs: 1}, res, "the fresh read finds nothing changed (bulk %v)", bulk)
				st, err := b.svc.Compliance().State(ctx, store.SubjectJob, job.ID)
				require.NoError(t, err)
				require.Equal(t, store.ComplianceCompliant, st.Status)
				require.Len(t, b.sweepChanges(t, store.SubjectJob, job.ID), 1)
			}
		})
	})

	t.Run("QueriesGrowByPagesNotByJobs", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			ctx := t.Context()
			asset := &store.Asset{Name: "fleet", Classification: store.ClassificationPublic}
			require.NoError(t, b.store.Assets().Create(ctx, asset))
			addJobs := func(from, to int) {
				require.NoError(t, b.store.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
					for i := from; i < to; i++ {
						j := &store.Job{
							Name: fmt.Sprintf("job-%04d", i), AssetID: &asset.ID, JobType: store.JobTypeFile,
							Tool: store.ToolRestic, Schedule: store.Schedule{Kind: store.ScheduleManual},
							Active: true, PingToken: fmt.Sprintf("tok-%04d", i), State: store.JobStateNew,
						}
						if err := tx.Jobs().Create(ctx, j); err != nil {
							return err
						}
						if i%50 == 0 {
							err := tx.VerificationSchedules().Create(ctx, &store.VerificationSchedule{
								JobID: j.ID, Frequency: store.FrequencyQuarterly, TestType: store.TestIntegrity,
								NextDueOn: b.svc.Today().AddDays(60), Active: true,
							})
							if err != nil {
								return err
							}
						}
					}
					return nil
				}))
			}
			// steady counts the queries of a sweep that finds nothing to
			// write, with the store's ComplianceInputReader or without.
			steady := func(jobs int, bulk bool) int64 {
				svc, qc := b.sweepCounted(t, nil)
				if !bulk {
					var err error
					svc, err = New(struct{ store.Store }{svc.store}, &Config{Now: b.clock.Now})
					require.NoError(t, err)
				}
				_, err := svc.Compliance().Sweep(ctx)
				require.NoError(t, err)
				qc.Reset()
				res, err := svc.Compliance().SweepAll(ctx)
				require.NoError(t, err)
				require.Equal(t, SweepResult{Jobs: jobs, Assets: 1}, res)
				require.Zero(t, sweepWrites(qc))
				n := qc.Count()
				if bulk {
					// Nothing is due: the due jobs, the due assets.
					qc.Reset()
					res, err := svc.Compliance().Sweep(ctx)
					require.NoError(t, err)
					require.Equal(t, SweepResult{}, res)
					require.Equal(t, int64(2), qc.Count())
				}
				return n
			}

			addJobs(0, 10)
			// Bulk: a job page 2 (jobs with their inputs, copies); an asset
			// page 1 (assets with their states).
			require.Equal(t, int64(2+1), steady(10, true))
			// Repositories: schedules 1; a job page 5 (jobs, copies, tests,
			// states, assets); an asset page 2.
			require.Equal(t, int64(1+5+2), steady(10, false))
			addJobs(10, 400)
			require.Equal(t, int64(2+1), steady(400, true), "still one page of jobs, not 390 more jobs")
			require.Equal(t, int64(1+2*5+2), steady(400, false), "one more page of jobs, not 390 more jobs")
			addJobs(400, store.ComplianceInputsLimitMax+1)
			require.Equal(t, int64(2*2+1), steady(store.ComplianceInputsLimitMax+1, true), "one more page of jobs")
		})
	})

	t.Run("BulkReadsGiveTheSameStatesAsTheRepositories", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			ctx := t.Context()
			now := b.svc.Now()
			var assets []*store.Asset
			for _, c := range []store.Classification{store.ClassificationRestricted, store.ClassificationInternal, store.ClassificationPublic} {
				a := &store.Asset{Name: "asset-" + string(c), Classification: c}
				require.NoError(t, b.store.Assets().Create(ctx, a))
				assets = append(assets, a)
			}
			for i := range 24 {
				j := b.jobFixture(t, fmt.Sprintf("job-%02d", (i*5)%24), func(j *store.Job) {
					j.Active = i%7 != 6
					j.RetentionDays = []int{0, 30, 5 * 365}[i%3]
					if i%4 != 3 {
						j.AssetID = &assets[i%4%3].ID
					}
					switch i % 5 {
					case 1:
						j.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: 6 * time.Hour}
						j.RPOTarget = 0
					case 2:
						j.Schedule = store.Schedule{Kind: store.ScheduleManual}
						j.RPOTarget = 0
					case 3:
						j.RPOTarget = 26 * time.Hour
					}
				})
				for k := range i % 4 {
					b.sweepCopy(t, b.store, j.ID, fmt.Sprintf("copy-%d", k),
						[]store.MediaType{store.MediaDisk, store.MediaTape, store.MediaCloudObject}[k],
						now.Add(-time.Duration(i*k)*6*time.Hour), func(c *store.Copy) {
							c.Offsite, c.Offline, c.Immutable = k == 2, k == 1, k == 2 && i%2 == 0
							c.Encrypted = i%5 != 0
							if i%6 == 5 {
								c.Status = store.CopyStatusFailed
							}
							if k == 2 && i%3 == 0 {
								until := now.Add(-time.Hour)
								c.ImmutableUntil = &until
							}
							if k == 0 && i%8 == 7 {
								c.LastWrittenAt = nil
							}
						})
				}
				for k := range i % 3 {
					require.NoError(t, b.store.VerificationTests().Create(ctx, &store.VerificationTest{
						JobID: j.ID, TestType: store.TestFullRestore, TestedAt: now.Add(-time.Duration(10+i*k*9) * 24 * time.Hour),
						Result: []store.TestResult{store.TestSuccess, store.TestWarning, store.TestFailed}[(i+k)%3],
					}))
				}
				if i%4 == 1 {
					require.NoError(t, b.store.VerificationSchedules().Create(ctx, &store.VerificationSchedule{
						JobID: j.ID, Frequency: store.FrequencyMonthly, TestType: store.TestIntegrity,
						NextDueOn: b.svc.Today().AddDays(i - 8), Active: i%8 != 5,
					}))
				}
			}

			states := func(subject store.SubjectType) []store.ComplianceState {
				p := store.ListComplianceStatesParams{SubjectType: subject}
				p.Limit = store.LimitMax
				page, err := b.store.Compliance().ListStates(ctx, p)
				require.NoError(t, err)
				return page.Items
			}
			// The repositories' sweep writes the states; the bulk one finds
			// every job as stored, so it locks and re-reads none: 3 queries.
			fallback, err := New(struct{ store.Store }{b.store}, &Config{Now: b.clock.Now})
			require.NoError(t, err)
			want, err := fallback.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, 21, want.Jobs)
			wantJobs, wantAssets := states(store.SubjectJob), states(store.SubjectAsset)
			svc, qc := b.sweepCounted(t, nil)
			got, err := svc.Compliance().Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, SweepResult{Jobs: want.Jobs, Assets: want.Assets}, got)
			require.Equal(t, int64(2+1), qc.Count(), "no job or asset evaluates other than stored")
			require.Equal(t, wantJobs, states(store.SubjectJob))

			// Assets are evaluated over the jobs' bulk inputs; by Sweep,
			// which finds them without a state, as an input change does.
			var gotAssets []store.ComplianceState
			for _, all := range []bool{true, false} {
				_, err = b.store.DB().ExecContext(ctx, "DELETE FROM compliance_states WHERE subject_type = 'asset'")
				require.NoError(t, err)
				wantRes := SweepResult{Jobs: want.Jobs, Assets: want.Assets, Changed: len(wantAssets)}
				if all {
					got, err = svc.Compliance().SweepAll(ctx)
				} else {
					got, err = svc.Compliance().Sweep(ctx)
					wantRes.Jobs = 0
				}
				require.NoError(t, err)
				require.Equal(t, wantRes, got)
				gotAssets = states(store.SubjectAsset)
				require.Len(t, gotAssets, len(wantAssets))
				for i := range wantAssets {
					gotAssets[i].ChangedAt = wantAssets[i].ChangedAt
				}
				require.Equal(t, wantAssets, gotAssets, "SweepAll %v", all)
			}
			gotStates := append(wantJobs, gotAssets...)
			statuses := map[store.ComplianceStatus]bool{}
			for _, st := range gotStates {
				statuses[st.Status] = true
			}
			require.Len(t, statuses, 3, "the fixtures give every status but unknown")
		})
	})
}
