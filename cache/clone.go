package cache

import (
	"maps"
	"slices"

	"github.com/custos-dev/custos/store"
)

// Copies of cached values: what a caller gets shares no memory with the
// cache, so changing it changes nothing for the next caller. The store
// types hold pointers, slices and maps of plain values only.

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneItem[T any](f func(T) T) func(*T) *T {
	return func(p *T) *T {
		if p == nil {
			return nil
		}
		v := f(*p)
		return &v
	}
}

func cloneSlice[T any](f func(T) T) func([]T) []T {
	return func(s []T) []T {
		if s == nil {
			return nil
		}
		out := make([]T, len(s))
		for i, v := range s {
			out[i] = f(v)
		}
		return out
	}
}

func clonePage[T any](f func(T) T) func(*store.Page[T]) *store.Page[T] {
	items := cloneSlice(f)
	return func(p *store.Page[T]) *store.Page[T] {
		if p == nil {
			return nil
		}
		return &store.Page[T]{Items: items(p.Items), NextCursor: p.NextCursor}
	}
}

// cloneMap copies a map of plain values.
func cloneMap[M ~map[K]V, K comparable, V any](m M) M { return maps.Clone(m) }

func cloneJob(j store.Job) store.Job {
	j.AssetID = clonePtr(j.AssetID)
	j.OwnerID = clonePtr(j.OwnerID)
	j.Tags = slices.Clone(j.Tags)
	j.NextDueAt = clonePtr(j.NextDueAt)
	j.LastRunAt = clonePtr(j.LastRunAt)
	j.LastSuccessAt = clonePtr(j.LastSuccessAt)
	return j
}

func cloneCopy(c store.Copy) store.Copy {
	c.ImmutableUntil = clonePtr(c.ImmutableUntil)
	c.MediaID = clonePtr(c.MediaID)
	c.LastWrittenAt = clonePtr(c.LastWrittenAt)
	return c
}

func cloneAsset(a store.Asset) store.Asset {
	a.OwnerID = clonePtr(a.OwnerID)
	return a
}

func cloneExecution(e store.Execution) store.Execution {
	e.CopyID = clonePtr(e.CopyID)
	e.FinishedAt = clonePtr(e.FinishedAt)
	e.APIKeyID = clonePtr(e.APIKeyID)
	return e
}

func cloneVerificationTest(t store.VerificationTest) store.VerificationTest {
	t.CopyID = clonePtr(t.CopyID)
	t.TesterID = clonePtr(t.TesterID)
	return t
}

func cloneVerificationSchedule(s store.VerificationSchedule) store.VerificationSchedule {
	s.LastTestedOn = clonePtr(s.LastTestedOn)
	s.AssigneeID = clonePtr(s.AssigneeID)
	return s
}

func cloneMedia(m store.Media) store.Media {
	m.PurchasedOn = clonePtr(m.PurchasedOn)
	m.OwnerID = clonePtr(m.OwnerID)
	m.LastWrittenAt = clonePtr(m.LastWrittenAt)
	return m
}

func cloneMediaEvent(e store.MediaEvent) store.MediaEvent {
	e.ActorID = clonePtr(e.ActorID)
	return e
}

func cloneLending(l store.Lending) store.Lending {
	l.ReturnedAt = clonePtr(l.ReturnedAt)
	return l
}

func cloneRotationPlan(p store.RotationPlan) store.RotationPlan {
	p.MediaIDs = slices.Clone(p.MediaIDs)
	p.StartOn = clonePtr(p.StartOn)
	p.NextRotationOn = clonePtr(p.NextRotationOn)
	p.LastRotationOn = clonePtr(p.LastRotationOn)
	return p
}

func cloneComplianceState(s store.ComplianceState) store.ComplianceState {
	s.Reasons = slices.Clone(s.Reasons)
	return s
}

func cloneComplianceChange(c store.ComplianceChange) store.ComplianceChange {
	c.Reasons = slices.Clone(c.Reasons)
	return c
}

func cloneRollup(r store.DailyRollup) store.DailyRollup { return r }

func cloneReport(r store.Report) store.Report {
	r.GeneratedBy = clonePtr(r.GeneratedBy)
	r.Content = slices.Clone(r.Content)
	return r
}

func cloneDashboard(d store.DashboardCounts) store.DashboardCounts {
	d.Jobs = maps.Clone(d.Jobs)
	d.JobCompliance = maps.Clone(d.JobCompliance)
	d.AssetCompliance = maps.Clone(d.AssetCompliance)
	d.Executions = maps.Clone(d.Executions)
	if d.Alerts != nil {
		alerts := make(map[store.AlertState]map[store.Severity]int, len(d.Alerts))
		for k, v := range d.Alerts {
			alerts[k] = maps.Clone(v)
		}
		d.Alerts = alerts
	}
	d.Media = maps.Clone(d.Media)
	return d
}

var (
	cloneJobPtr     = cloneItem(cloneJob)
	cloneJobs       = cloneSlice(cloneJob)
	cloneJobPage    = clonePage(cloneJob)
	cloneCopyPtr    = cloneItem(cloneCopy)
	cloneCopies     = cloneSlice(cloneCopy)
	cloneAssetPtr   = cloneItem(cloneAsset)
	cloneAssets     = cloneSlice(cloneAsset)
	cloneAssetPage  = clonePage(cloneAsset)
	cloneExecPtr    = cloneItem(cloneExecution)
	cloneExecPage   = clonePage(cloneExecution)
	cloneTestPtr    = cloneItem(cloneVerificationTest)
	cloneTests      = cloneSlice(cloneVerificationTest)
	cloneTestPage   = clonePage(cloneVerificationTest)
	cloneSchedPtr   = cloneItem(cloneVerificationSchedule)
	cloneSchedPage  = clonePage(cloneVerificationSchedule)
	cloneMediaPtr   = cloneItem(cloneMedia)
	cloneMediaMany  = cloneSlice(cloneMedia)
	cloneMediaPage  = clonePage(cloneMedia)
	cloneEventPage  = clonePage(cloneMediaEvent)
	cloneLendPtr    = cloneItem(cloneLending)
	cloneLendPage   = clonePage(cloneLending)
	clonePlanPtr    = cloneItem(cloneRotationPlan)
	clonePlanPage   = clonePage(cloneRotationPlan)
	cloneStatePtr   = cloneItem(cloneComplianceState)
	cloneStates     = cloneSlice(cloneComplianceState)
	cloneStatePage  = clonePage(cloneComplianceState)
	cloneChangePage = clonePage(cloneComplianceChange)
	cloneRollupPtr  = cloneItem(cloneRollup)
	cloneRollups    = cloneSlice(cloneRollup)
	cloneReportPtr  = cloneItem(cloneReport)
	cloneReportPage = clonePage(cloneReport)
	cloneDashPtr    = cloneItem(cloneDashboard)
)
