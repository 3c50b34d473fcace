package httpapi

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt/ingest"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func toolReport(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../ingest/testdata/" + name)
	require.NoError(t, err)
	return raw
}

func TestIngestReports(t *testing.T) {
	t.Parallel()

	t.Run("ResticReportIsRecordedOnceWithItsSnapshot", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			id := b.createJob(t, "files")
			key := asKey(b.key(t, b.admin, "", store.ScopeIngest))
			send := func() ExecutionBatch {
				t.Helper()
				res := b.do(t, key, "POST", "/api/v1/ingest/restic?job_id="+id, toolReport(t, "restic_backup.jsonl"))
				require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
				var out ExecutionBatch
				res.decode(t, &out)
				return out
			}
			first := send()
			require.Equal(t, 1, first.Recorded)
			require.Zero(t, first.Failed)
			it := first.Items[0]
			require.Equal(t, http.StatusCreated, it.Status)
			require.Equal(t, store.SourceRestic, it.Execution.Source)
			require.Equal(t, store.ExecutionSuccess, it.Execution.Status)
			require.EqualValues(t, 5583457484, it.Execution.SizeBytes)
			require.EqualValues(t, 1234, it.Execution.Files)
			require.True(t, strings.HasPrefix(it.Execution.SnapshotID, "1a2b3c4d"))
			require.Equal(t, time.Date(2026, 11, 30, 1, 0, 1, 123456000, time.UTC), it.Execution.StartedAt)

			again := send()
			require.Equal(t, http.StatusOK, again.Items[0].Status, "a re-sent report is the stored run")
			require.Equal(t, it.Execution.ID, again.Items[0].Execution.ID)
			require.Len(t, listExecutionsHTTP(t, b, adminCred(t, b), "?job_id="+id).Items, 1)
		})
	})

	t.Run("TimesWithoutAnOffsetTakeTheGivenZone", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		b.createJob(t, "borg-host")
		key := asKey(b.key(t, b.admin, "", store.ScopeIngest))
		res := b.do(t, key, "POST", "/api/v1/ingest/borg?job_name=borg-host&timezone=Europe/Berlin", toolReport(t, "borg_create.json"))
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		var out ExecutionBatch
		res.decode(t, &out)
		require.Equal(t, http.StatusCreated, out.Items[0].Status, "%s", res.Body)
		// 06:00:02 in Berlin (UTC+1 in November).
		require.Equal(t, time.Date(2026, 11, 30, 5, 0, 2, 0, time.UTC), out.Items[0].Execution.StartedAt)
		require.Equal(t, store.SourceBorg, out.Items[0].Execution.Source)
	})

	t.Run("EveryFormatIsAccepted", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "any")
		key := asKey(b.key(t, b.admin, "", store.ScopeIngest))
		samples := map[ingest.Format]string{
			ingest.Restic: "restic_backup.jsonl", ingest.Borg: "borg_create.json", ingest.Kopia: "kopia_snapshot.json",
			ingest.Velero: "velero_backup.json", ingest.Bareos: "bareos_llist.json", ingest.Veeam: "veeam_ps7.json", ingest.WSB: "wsb_success.json",
		}
		for _, f := range ingest.Formats() {
			file, ok := samples[f]
			require.True(t, ok, "no sample for %s", f)
			res := b.do(t, key, "POST", "/api/v1/ingest/"+string(f)+"?job_id="+id, toolReport(t, file))
			require.Equal(t, http.StatusOK, res.Code, "%s: %s", f, res.Body)
			var out ExecutionBatch
			res.decode(t, &out)
			require.NotEmpty(t, out.Items, "%s", f)
			for _, it := range out.Items {
				require.Contains(t, []int{http.StatusCreated, http.StatusOK}, it.Status, "%s: %s", f, res.Body)
			}
		}
	})

	t.Run("BadInputIsRefusedAndRecordsNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "files")
		key := asKey(b.key(t, b.admin, "", store.ScopeIngest))
		restic := toolReport(t, "restic_backup.jsonl")
		for _, tc := range []struct {
			name, path string
			body       any
			status     int
			field      string
		}{
			{"UnknownFormat", "/api/v1/ingest/tarsnap?job_id=" + id, restic, 400, "format"},
			{"NoJob", "/api/v1/ingest/restic", restic, 400, "job_id"},
			{"BothJobIDAndName", "/api/v1/ingest/restic?job_id=" + id + "&job_name=files", restic, 400, "job_name"},
			{"BadZone", "/api/v1/ingest/borg?job_id=" + id + "&timezone=Mars/Olympus", toolReport(t, "borg_create.json"), 400, "timezone"},
			{"UnknownQuery", "/api/v1/ingest/restic?job_id=" + id + "&verbose=1", restic, 400, "verbose"},
			{"EmptyReport", "/api/v1/ingest/restic?job_id=" + id, "", 400, ""},
			{"NotJSON", "/api/v1/ingest/borg?job_id=" + id, "borg: error", 400, ""},
			{"ResticWithoutSummary", "/api/v1/ingest/restic?job_id=" + id, `{"message_type":"status","percent_done":0.5}`, 400, ""},
			{"WrongType", "/api/v1/ingest/borg?job_id=" + id, `{"archive":{"id":"x","start":12,"end":"2026-11-30T06:00:48"}}`, 400, "archive.start"},
			{"Oversized", "/api/v1/ingest/restic?job_id=" + id, strings.Repeat(" ", ingest.MaxReportBytes+1), 413, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := b.do(t, key, "POST", tc.path, tc.body)
				require.Equal(t, tc.status, res.Code, "%s", res.Body)
				e := res.errBody(t)
				if tc.field != "" {
					require.Contains(t, e.Fields, tc.field, "%s", res.Body)
				} else if tc.status == 400 {
					require.NotEmpty(t, e.Fields, "the refusal names what is wrong: %s", res.Body)
				}
			})
		}
		require.Empty(t, listExecutionsHTTP(t, b, adminCred(t, b), "").Items, "nothing was recorded")
	})

	t.Run("ItemsFailAloneInTheBatch", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		other := b.createJob(t, "other")
		mine := b.createJob(t, "mine")
		bound := asKey(b.key(t, b.admin, mine, store.ScopeIngest))
		res := b.do(t, bound, "POST", "/api/v1/ingest/restic?job_id="+other, toolReport(t, "restic_backup.jsonl"))
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		var out ExecutionBatch
		res.decode(t, &out)
		require.Equal(t, 1, out.Failed)
		require.Equal(t, http.StatusForbidden, out.Items[0].Status, "a key bound to another job: %s", res.Body)

		free := asKey(b.key(t, b.admin, "", store.ScopeIngest))
		res = b.do(t, free, "POST", "/api/v1/ingest/restic?job_name=nosuchjob", toolReport(t, "restic_backup.jsonl"))
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		res.decode(t, &out)
		require.Equal(t, http.StatusBadRequest, out.Items[0].Status, "%s", res.Body)
		require.Contains(t, out.Items[0].Error.Fields, "job_name")
	})
}
