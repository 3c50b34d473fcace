package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestVerification(t *testing.T) {
	t.Parallel()

	t.Run("RecordListGetDeleteTests", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		opUser := b.user(t, "oper", store.RoleOperator)
		op := asSession(b.session(t, opUser))
		admin := opsAdmin(t, b)
		job := opsJob(t, b, "erp")

		var failed VerificationTest
		opsOK(t, b.do(t, op, "POST", "/api/v1/verification/tests", map[string]any{
			"job_id": job.ID, "test_type": "full_restore", "result": "failed",
			"tested_at": "2026-11-29T10:00:00+09:00", "duration_seconds": 5400,
			"files_checked": 1000, "files_failed": 3, "issues": "3 files corrupt",
		}), http.StatusCreated, &failed)
		require.Equal(t, "2026-11-29T01:00:00Z", failed.TestedAt.Format("2006-01-02T15:04:05Z07:00"))
		require.Equal(t, int64(5400), failed.DurationSeconds)
		require.Equal(t, opUser.ID, *failed.TesterID, "the tester defaults to the caller")

		var alerts List[Alert]
		opsOK(t, b.do(t, op, "GET", "/api/v1/alerts?type=verification_failed&job_id="+job.ID, nil), http.StatusOK, &alerts)
		require.Len(t, alerts.Items, 1)
		require.Equal(t, store.SeverityCritical, alerts.Items[0].Severity)

		var passed VerificationTest
		opsOK(t, b.do(t, op, "POST", "/api/v1/verification/tests", map[string]any{
			"job_id": job.ID, "test_type": "integrity", "result": "success",
		}), http.StatusCreated, &passed)
		require.Equal(t, testStart, passed.TestedAt, "tested_at defaults to now")

		var list List[VerificationTest]
		opsOK(t, b.do(t, op, "GET", "/api/v1/verification/tests?job_id="+job.ID, nil), http.StatusOK, &list)
		require.Len(t, list.Items, 2)
		require.Equal(t, passed.ID, list.Items[0].ID, "newest first")
		opsOK(t, b.do(t, op, "GET", "/api/v1/verification/tests?result=failed", nil), http.StatusOK, &list)
		require.Len(t, list.Items, 1)
		opsOK(t, b.do(t, op, "GET", "/api/v1/verification/tests?from=2026-11-30T00:00:00Z", nil), http.StatusOK, &list)
		require.Len(t, list.Items, 1)
		require.Equal(t, passed.ID, list.Items[0].ID)

		var got VerificationTest
		opsOK(t, b.do(t, op, "GET", "/api/v1/verification/tests/"+failed.ID, nil), http.StatusOK, &got)
		require.Equal(t, failed, got)

		res := b.do(t, op, "DELETE", "/api/v1/verification/tests/"+failed.ID, nil)
		require.Equal(t, http.StatusForbidden, res.Code, "deleting evidence is for admins")
		opsOK(t, b.do(t, admin, "DELETE", "/api/v1/verification/tests/"+failed.ID, nil), http.StatusNoContent, nil)
		res = b.do(t, admin, "GET", "/api/v1/verification/tests/"+failed.ID, nil)
		require.Equal(t, http.StatusNotFound, res.Code)
		require.Equal(t, "verification_test_not_found", res.errBody(t).Code)
	})

	t.Run("SchedulesAndDue", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			op := opsAs(t, b, "oper", store.RoleOperator)
			admin := opsAdmin(t, b)
			j1, j2 := opsJob(t, b, "erp"), opsJob(t, b, "crm")

			var soon VerificationSchedule
			opsOK(t, b.do(t, op, "POST", "/api/v1/verification/schedules", map[string]any{
				"job_id": j1.ID, "frequency": "quarterly", "test_type": "full_restore", "next_due_on": "2026-12-03",
			}), http.StatusCreated, &soon)
			require.True(t, soon.Active)
			require.Equal(t, "2026-12-03", soon.NextDueOn.String())
			var late VerificationSchedule
			opsOK(t, b.do(t, op, "POST", "/api/v1/verification/schedules", map[string]any{
				"job_id": j2.ID, "frequency": "monthly", "test_type": "integrity", "next_due_on": "2026-11-20",
			}), http.StatusCreated, &late)

			res := b.do(t, op, "POST", "/api/v1/verification/schedules", map[string]any{
				"job_id": j1.ID, "frequency": "annual", "test_type": "boot",
			})
			require.Equal(t, http.StatusBadRequest, res.Code, "one active schedule per job: %s", res.Body)
			require.Contains(t, res.errBody(t).Fields, "job_id")

			var due VerificationDue
			opsOK(t, b.do(t, op, "GET", "/api/v1/verification/due", nil), http.StatusOK, &due)
			require.Len(t, due.Overdue, 1)
			require.Equal(t, late.ID, due.Overdue[0].ID)
			require.Len(t, due.DueSoon, 1)
			require.Equal(t, soon.ID, due.DueSoon[0].ID)

			var list List[VerificationSchedule]
			opsOK(t, b.do(t, op, "GET", "/api/v1/verification/schedules?due_before=2026-11-30", nil), http.StatusOK, &list)
			require.Len(t, list.Items, 1)
			require.Equal(t, late.ID, list.Items[0].ID)

			var patched VerificationSchedule
			opsOK(t, b.do(t, op, "PATCH", "/api/v1/verification/schedules/"+late.ID, map[string]any{"next_due_on": "2027-01-15", "active": false}), http.StatusOK, &patched)
			require.Equal(t, "2027-01-15", patched.NextDueOn.String())
			require.False(t, patched.Active)
			opsOK(t, b.do(t, op, "GET", "/api/v1/verification/schedules?active=true", nil), http.StatusOK, &list)
			require.Len(t, list.Items, 1)

			var got VerificationSchedule
			opsOK(t, b.do(t, op, "GET", "/api/v1/verification/schedules/"+late.ID, nil), http.StatusOK, &got)
			require.Equal(t, patched, got)

			res = b.do(t, op, "DELETE", "/api/v1/verification/schedules/"+late.ID, nil)
			require.Equal(t, http.StatusForbidden, res.Code)
			opsOK(t, b.do(t, admin, "DELETE", "/api/v1/verification/schedules/"+late.ID, nil), http.StatusNoContent, nil)
			res = b.do(t, admin, "DELETE", "/api/v1/verification/schedules/"+late.ID, nil)
			require.Equal(t, http.StatusNotFound, res.Code)
			require.Equal(t, "verification_schedule_not_found", res.errBody(t).Code)
		})
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		job := opsJob(t, b, "erp")
		other := opsJob(t, b, "crm")
		sched, err := b.svc.Verification().CreateSchedule(context.Background(), backupmgmt.ScheduleParams{
			JobID: job.ID, Frequency: store.FrequencyMonthly, TestType: store.TestIntegrity,
		})
		require.NoError(t, err)
		tests, schedules := "/api/v1/verification/tests", "/api/v1/verification/schedules"
		sbase := schedules + "/" + sched.ID
		unknownID := "/0190aaaa-0000-7000-8000-000000000000"
		test := func(extra string) string {
			return `{"job_id":"` + job.ID + `","test_type":"full_restore","result":"success"` + extra + `}`
		}
		cases := []opsBadInput{
			{"ListTestsUnknownResult", "GET", tests + "?result=meh", nil, 400, "invalid_input", "result"},
			{"ListTestsBadTime", "GET", tests + "?to=2026-11-30", nil, 400, "invalid_input", "to"},
			{"ListTestsBadLimit", "GET", tests + "?limit=x", nil, 400, "invalid_input", "limit"},
			{"ListTestsBadCursor", "GET", tests + "?cursor=zz", nil, 400, "invalid_input", "cursor"},
			{"ListTestsUnknownParameter", "GET", tests + "?tester_id=x", nil, 400, "invalid_input", "tester_id"},
			{"GetUnknownTest", "GET", tests + unknownID, nil, 404, "verification_test_not_found", ""},
			{"DeleteUnknownTest", "DELETE", tests + unknownID, nil, 404, "verification_test_not_found", ""},
			{"RecordMalformed", "POST", tests, `{"job_id"`, 400, "invalid_json", ""},
			{"RecordMissingJob", "POST", tests, `{"test_type":"boot","result":"success"}`, 400, "invalid_input", "job_id"},
			{"RecordMissingType", "POST", tests, `{"job_id":"x","result":"success"}`, 400, "invalid_input", "test_type"},
			{"RecordMissingResult", "POST", tests, `{"job_id":"x","test_type":"boot"}`, 400, "invalid_input", "result"},
			{"RecordUnknownJob", "POST", tests, `{"job_id":"nope","test_type":"boot","result":"success"}`, 400, "invalid_input", "job_id"},
			{"RecordUnknownType", "POST", tests, `{"job_id":"` + job.ID + `","test_type":"smoke","result":"success"}`, 400, "invalid_input", "test_type"},
			{"RecordUnknownResult", "POST", tests, `{"job_id":"` + job.ID + `","test_type":"boot","result":"ok"}`, 400, "invalid_input", "result"},
			{"RecordBadTime", "POST", tests, test(`,"tested_at":"yesterday"`), 400, "invalid_input", "tested_at"},
			{"RecordFutureTime", "POST", tests, test(`,"tested_at":"2027-01-01T00:00:00Z"`), 400, "invalid_input", "tested_at"},
			{"RecordNegativeDuration", "POST", tests, test(`,"duration_seconds":-5`), 400, "invalid_input", "duration_seconds"},
			{"RecordWrongType", "POST", tests, test(`,"files_checked":"many"`), 400, "invalid_input", "files_checked"},
			{"RecordUnknownField", "POST", tests, test(`,"duration":5`), 400, "invalid_input", "duration"},
			{"RecordUnknownCopy", "POST", tests, test(`,"copy_id":"nope"`), 400, "invalid_input", "copy_id"},
			{"RecordUnknownTester", "POST", tests, test(`,"tester_id":"nope"`), 400, "invalid_input", "tester_id"},
			{"RecordNotesTooLong", "POST", tests, test(`,"notes":"` + strings.Repeat("n", store.MaxTextLen+1) + `"`), 400, "invalid_input", "notes"},
			{"ListSchedulesBadBoolean", "GET", schedules + "?active=yes", nil, 400, "invalid_input", "active"},
			{"ListSchedulesBadDate", "GET", schedules + "?due_before=2026-11", nil, 400, "invalid_input", "due_before"},
			{"GetUnknownSchedule", "GET", schedules + unknownID, nil, 404, "verification_schedule_not_found", ""},
			{"CreateMissingFrequency", "POST", schedules, `{"job_id":"` + other.ID + `","test_type":"boot"}`, 400, "invalid_input", "frequency"},
			{"CreateUnknownFrequency", "POST", schedules, `{"job_id":"` + other.ID + `","frequency":"weekly","test_type":"boot"}`, 400, "invalid_input", "frequency"},
			{"CreateUnknownJob", "POST", schedules, `{"job_id":"nope","frequency":"monthly","test_type":"boot"}`, 400, "invalid_input", "job_id"},
			{"CreateBadDate", "POST", schedules, `{"job_id":"` + other.ID + `","frequency":"monthly","test_type":"boot","next_due_on":"2026-12-32"}`, 400, "invalid_input", "next_due_on"},
			{"CreateUnknownAssignee", "POST", schedules, `{"job_id":"` + other.ID + `","frequency":"monthly","test_type":"boot","assignee_id":"nope"}`, 400, "invalid_input", "assignee_id"},
			{"CreateUnknownField", "POST", schedules, `{"job_id":"` + other.ID + `","frequency":"monthly","test_type":"boot","active":true}`, 400, "invalid_input", "active"},
			{"PatchUnknown", "PATCH", schedules + unknownID, `{"active":false}`, 404, "verification_schedule_not_found", ""},
			{"PatchUnknownFrequency", "PATCH", sbase, `{"frequency":"daily"}`, 400, "invalid_input", "frequency"},
			{"PatchUnknownTestType", "PATCH", sbase, `{"test_type":"smoke"}`, 400, "invalid_input", "test_type"},
			{"PatchBadDate", "PATCH", sbase, `{"next_due_on":"soon"}`, 400, "invalid_input", "next_due_on"},
			{"PatchJob", "PATCH", sbase, `{"job_id":"` + other.ID + `"}`, 400, "invalid_input", "job_id"},
			{"PatchWrongType", "PATCH", sbase, `{"active":0}`, 400, "invalid_input", "active"},
			{"DeleteUnknownSchedule", "DELETE", schedules + unknownID, nil, 404, "verification_schedule_not_found", ""},
			{"DueTakesNoParameters", "GET", "/api/v1/verification/due?days=30", nil, 400, "invalid_input", "days"},
		}
		opsCheckBad(t, b, c, cases, func(t *testing.T) {
			got, err := b.svc.Verification().GetSchedule(context.Background(), sched.ID)
			require.NoError(t, err)
			require.Equal(t, *sched, *got)
			page, err := b.svc.Verification().ListSchedules(context.Background(), store.ListVerificationSchedulesParams{})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			list, err := b.svc.Verification().ListTests(context.Background(), store.ListVerificationTestsParams{})
			require.NoError(t, err)
			require.Empty(t, list.Items)
		})
	})
}
