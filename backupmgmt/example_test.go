package backupmgmt_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// The main flow of an embedder: a service over a migrated store, a job with
// two copies, a run that writes one of them, a deadline that passes without
// a run, and what compliance, alerts and the audit log say about it.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := dbopen.OpenStore(ctx, "sqlite:"+filepath.Join(dir, "custos.db"), &bunstore.Config{Now: clock})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if _, err := bunstore.Migrate(ctx, s.DB()); err != nil {
		log.Fatal(err)
	}
	svc, err := backupmgmt.New(s, &backupmgmt.Config{Now: clock})
	if err != nil {
		log.Fatal(err)
	}

	// Calls are made by an actor; audit events name it.
	admin, err := svc.Users().Create(ctx, backupmgmt.UserParams{
		Username: "admin", Role: store.RoleAdmin, Password: "a long and unguessable passphrase",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx = backupmgmt.WithActor(ctx, backupmgmt.Actor{UserID: admin.ID, Role: admin.Role})

	job, err := svc.Jobs().Create(ctx, backupmgmt.JobParams{
		Name: "erp-db", JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *", Timezone: "Europe/Berlin"},
		Grace:    time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("job:", job.State, "due:", job.NextDueAt.Format(time.RFC3339))
	nas, err := svc.Jobs().AddCopy(ctx, job.ID, backupmgmt.CopyParams{Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Jobs().AddCopy(ctx, job.ID, backupmgmt.CopyParams{
		Name: "tape", Role: store.CopyRoleOffline, MediaType: store.MediaTape, Offsite: true, Offline: true,
	}); err != nil {
		log.Fatal(err)
	}

	// Bad input names the field and writes nothing.
	_, err = svc.Jobs().Create(ctx, backupmgmt.JobParams{
		Name: "bad", JobType: store.JobTypeFile, Tool: store.ToolRestic,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "61 * * * *"},
	})
	fmt.Println(err)

	// The first night's run writes the NAS copy.
	now = time.Date(2026, 11, 2, 1, 20, 0, 0, time.UTC)
	started, finished := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC), now
	res, err := svc.Executions().Record(ctx, backupmgmt.RecordParams{
		JobID: job.ID, RunID: "2026-11-02", Status: store.ExecutionSuccess,
		StartedAt: started, FinishedAt: &finished, SizeBytes: 42 << 30, CopyID: &nas.ID,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("run created:", res.Created)

	// The next night nothing arrives; the background tick notices.
	now = time.Date(2026, 11, 3, 3, 30, 0, 0, time.UTC)
	report, err := svc.Tick(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("missed:", report.Missed)
	job, _ = svc.Jobs().Get(ctx, job.ID)
	fmt.Println("job:", job.State, "consecutive failures:", job.ConsecutiveFailures)

	st, err := svc.Compliance().State(ctx, store.SubjectJob, job.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("compliance:", st.Status, "score:", st.Score)
	for _, r := range st.Reasons {
		fmt.Printf("  %s: %s\n", r.Rule, r.Message)
	}

	alerts, err := svc.Alerts().List(ctx, store.ListAlertsParams{Unresolved: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range alerts.Items {
		fmt.Println("alert:", a.Type, a.Severity)
	}

	v, err := svc.Audit().Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("audit events:", v.Checked, "chain intact:", v.OK)
	// Output:
	// job: new due: 2026-11-02T02:00:00Z
	// store: invalid input: schedule.cron: minute: 61 out of range 0-59
	// run created: true
	// missed: 1
	// job: missed consecutive failures: 1
	// compliance: non_compliant score: 12
	//   3copies: 1 fresh backup copy, policy requires 2
	//   2media: 1 media type among fresh copies (nas), policy requires 2
	//   1offsite: no fresh offsite copy
	//   1offline: copy `tape` has never been written
	//   1offline: no fresh offline or immutable copy
	//   0errors: no restore test recorded
	//   policy: copy `nas` is not encrypted
	//   policy: copy `tape` is not encrypted
	// alert: backup_missed error
	// alert: compliance_violation error
	// audit events: 4 chain intact: true
}
