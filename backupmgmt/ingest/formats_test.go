package ingest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt/ingest"
	"github.com/custos-dev/custos/store"
)

type badCase struct {
	name, report, field, msg string
}

func requireBad(t *testing.T, f ingest.Format, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(f, tc.report)
			requireField(t, err, tc.field, tc.msg)
		})
	}
}

func TestBorg(t *testing.T) {
	t.Parallel()

	t.Run("ReadsTheArchiveOfCreate", func(t *testing.T) {
		t.Parallel()
		id := "ac23dd450dc0965216daec82f8527fe7e8de95f7f66b22ebf372e0c95b436e30"
		requireRuns(t, ingest.Borg, []run{{
			RunID: id, SnapshotID: id, Status: store.ExecutionSuccess,
			Start: "2026-11-30T06:00:02Z", Finish: "2026-11-30T06:00:48Z",
			Size: 84663271424, Files: 162531,
			Message: "borg archive host-2026-11-30: 162,531 files, 78.8 GiB original, 66.5 MiB deduplicated",
		}}, parseFile(t, ingest.Borg, "borg_create.json"))
	})

	t.Run("ReadsTheArchivesOfInfoKeepingOffsets", func(t *testing.T) {
		t.Parallel()
		id := "80cd07219ad725b3c5f665c1dcf119435c4dee1647a560ecac30f8d40221a46a"
		requireRuns(t, ingest.Borg, []run{{
			RunID: id, SnapshotID: id, Status: store.ExecutionSuccess,
			Start: "2017-02-27T10:27:20Z", Finish: "2017-02-27T10:27:25Z",
			Size: 2400471280, Files: 53669,
		}}, parseFile(t, ingest.Borg, "borg_info.json"))
	})

	const archive = `{"archive":{"name":"n","id":"abc","start":"2026-11-30T06:00:02.123456","end":"2026-11-30T06:00:48","stats":{"original_size":1,"compressed_size":1,"deduplicated_size":1,"nfiles":1}}}`

	t.Run("ReadsZonelessTimesInTheGivenLocation", func(t *testing.T) {
		t.Parallel()
		tokyo, err := time.LoadLocation("Asia/Tokyo")
		require.NoError(t, err)
		runs, err := ingest.ParseWith(ingest.Borg, strings.NewReader(archive), ingest.Options{Location: tokyo})
		require.NoError(t, err)
		require.Equal(t, ts(t, "2026-11-29T21:00:02.123456Z"), runs[0].StartedAt)
		require.Equal(t, ts(t, "2026-11-29T21:00:48Z"), *runs[0].FinishedAt)
		utc, err := parse(ingest.Borg, archive)
		require.NoError(t, err)
		require.Equal(t, ts(t, "2026-11-30T06:00:02.123456Z"), utc[0].StartedAt, "UTC by default")
	})

	t.Run("RefusesBadReportsNamingTheField", func(t *testing.T) {
		t.Parallel()
		requireBad(t, ingest.Borg, []badCase{
			{"NotJSON", "terminating with error status, rc 2", "", "invalid JSON"},
			{"NoArchive", `{"repository":{"id":"x"}}`, "archive", "required"},
			{"NoID", strings.Replace(archive, `"id":"abc",`, "", 1), "archive.id", "required"},
			{"NoStart", strings.Replace(archive, `"start":"2026-11-30T06:00:02.123456",`, "", 1), "archive.start", "required"},
			{"NoEnd", strings.Replace(archive, `"end":"2026-11-30T06:00:48",`, "", 1), "archive.end", "required"},
			{"BadEnd", strings.Replace(archive, `"2026-11-30T06:00:48"`, `"Mon, 2026-11-30 06:00:48"`, 1), "archive.end", "not a time"},
			{"EndBeforeStart", strings.Replace(archive, `"2026-11-30T06:00:48"`, `"2026-11-30T05:00:48"`, 1), "archive.end", "before the start"},
			{"NoStats", strings.Replace(archive, `,"stats":{"original_size":1,"compressed_size":1,"deduplicated_size":1,"nfiles":1}`, "", 1), "archive.stats", "required"},
			{"NegativeFiles", strings.Replace(archive, `"nfiles":1`, `"nfiles":-1`, 1), "archive.stats.nfiles", "negative"},
			{"SizeAsText", strings.Replace(archive, `"original_size":1`, `"original_size":"1 GB"`, 1), "archive.stats.original_size", "integer"},
			{"BadArchiveInInfo", `{"archives":[{"id":"a","start":"2026-11-30T06:00:02","end":"2026-11-30T06:00:03","stats":{}},{"id":"","start":"2026-11-30T06:00:02"}]}`, "archives[1].id", "required"},
			{"TimeBefore1970", strings.Replace(archive, "2026-11-30T06:00:02.123456", "1969-12-31T23:59:59", 1), "archive.start", "out of range"},
		})
	})
}

func TestKopia(t *testing.T) {
	t.Parallel()

	t.Run("ReadsTheManifestOfCreate", func(t *testing.T) {
		t.Parallel()
		requireRuns(t, ingest.Kopia, []run{{
			RunID: "6b2e1c8f0f6f4e39a2b0d3c1e5f7a9b1", SnapshotID: "6b2e1c8f0f6f4e39a2b0d3c1e5f7a9b1", Status: store.ExecutionSuccess,
			Start: "2026-11-30T01:00:00.123456Z", Finish: "2026-11-30T01:04:12.5Z",
			Size: 21474836480, Files: 842,
			Message: "kopia snapshot 6b2e1c8f of root@db01:/var/lib/postgresql/backups: 842 files, 20.0 GiB",
		}}, parseFile(t, ingest.Kopia, "kopia_snapshot.json"))
	})

	t.Run("ReadsAListSkippingCheckpoints", func(t *testing.T) {
		t.Parallel()
		requireRuns(t, ingest.Kopia, []run{
			{RunID: "a1", SnapshotID: "a1", Status: store.ExecutionSuccess, Start: "2026-11-29T01:00:00Z", Finish: "2026-11-29T01:01:00Z", Size: 1048576, Files: 100},
			{RunID: "a2", SnapshotID: "a2", Status: store.ExecutionWarning, Start: "2026-11-30T01:00:00Z", Finish: "2026-11-30T01:01:30Z", Size: 2097152, Files: 101, Errors: 2},
			{RunID: "a4", SnapshotID: "a4", Status: store.ExecutionCanceled, Start: "2026-11-30T03:00:00Z", Finish: "2026-11-30T03:00:20Z", Size: 8192, Files: 5},
		}, parseFile(t, ingest.Kopia, "kopia_list.json"))
	})

	t.Run("MapsEveryStatus", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			extra string
			want  store.ExecutionStatus
		}{
			{``, store.ExecutionSuccess},
			{`,"stats":{"errorCount":1}`, store.ExecutionWarning},
			{`,"stats":{"ignoredErrorCount":3}`, store.ExecutionSuccess},
			{`,"rootEntry":{"summ":{"numFailed":2}}`, store.ExecutionWarning},
			{`,"incomplete":"canceled"`, store.ExecutionCanceled},
			{`,"incomplete":"limit reached"`, store.ExecutionWarning},
		} {
			runs, err := parse(ingest.Kopia, `{"id":"k","startTime":"2026-11-30T01:00:00Z","endTime":"2026-11-30T01:00:01Z"`+tc.extra+`}`)
			require.NoError(t, err, tc.extra)
			require.Equal(t, tc.want, runs[0].Status, tc.extra)
		}
	})

	const m = `{"id":"k","startTime":"2026-11-30T01:00:00Z","endTime":"2026-11-30T01:00:01Z","stats":{"totalSize":1}}`
	t.Run("RefusesBadReportsNamingTheField", func(t *testing.T) {
		t.Parallel()
		requireBad(t, ingest.Kopia, []badCase{
			{"NoID", strings.Replace(m, `"id":"k",`, "", 1), "id", "required"},
			{"NoStart", strings.Replace(m, `"startTime":"2026-11-30T01:00:00Z",`, "", 1), "startTime", "required"},
			{"NoEnd", strings.Replace(m, `,"endTime":"2026-11-30T01:00:01Z"`, "", 1), "endTime", "required"},
			{"ZeroStart", strings.Replace(m, `"2026-11-30T01:00:00Z"`, `"0001-01-01T00:00:00Z"`, 1), "startTime", "required"},
			{"NegativeSize", strings.Replace(m, `"totalSize":1`, `"totalSize":-1`, 1), "stats.totalSize", "negative"},
			{"UnknownIncompleteReason", strings.Replace(m, `"id":"k"`, `"id":"k","incomplete":"power cut"`, 1), "incomplete", "unknown reason"},
			{"OnlyCheckpoints", "[" + strings.Replace(m, `"id":"k"`, `"id":"k","incomplete":"checkpoint"`, 1) + "]", "[0].incomplete", "only checkpoints"},
			{"BadItemInList", "[" + m + "," + strings.Replace(m, `"totalSize":1`, `"totalSize":true`, 1) + "]", "[1].stats.totalSize", "integer"},
			{"NotAnObject", `"k"`, "", "object"},
		})
	})
}

func TestVelero(t *testing.T) {
	t.Parallel()

	t.Run("ReadsABackup", func(t *testing.T) {
		t.Parallel()
		requireRuns(t, ingest.Velero, []run{{
			RunID: "daily-20261130020000", SnapshotID: "daily-20261130020000", Status: store.ExecutionWarning,
			Start: "2026-11-30T02:00:01Z", Finish: "2026-11-30T02:03:41Z", Files: 1187, Errors: 3,
			Message: "velero backup daily-20261130020000: PartiallyFailed, 1,187 items, 3 errors, 12 warnings",
		}}, parseFile(t, ingest.Velero, "velero_backup.json"))
	})

	t.Run("ReadsAList", func(t *testing.T) {
		t.Parallel()
		requireRuns(t, ingest.Velero, []run{
			{RunID: "nightly-1", SnapshotID: "nightly-1", Status: store.ExecutionSuccess, Start: "2026-11-29T00:00:01Z", Finish: "2026-11-29T00:02:00Z", Files: 900},
			{RunID: "nightly-2", SnapshotID: "nightly-2", Status: store.ExecutionRunning, Start: "2026-11-30T00:00:02Z", Files: 300},
			{RunID: "adhoc-bad", SnapshotID: "adhoc-bad", Status: store.ExecutionFailed, Start: "2026-11-30T01:00:00Z", Finish: "2026-11-30T01:00:00Z", Log: "validation error: an existing backup storage location"},
			{RunID: "weekly-9", SnapshotID: "weekly-9", Status: store.ExecutionFailed, Start: "2026-11-30T01:30:01Z", Finish: "2026-11-30T01:30:31Z", Log: "failure reason: error getting backup storage location: timeout"},
		}, parseFile(t, ingest.Velero, "velero_list.json"))
	})

	backup := func(phase string) string {
		return `{"kind":"Backup","metadata":{"name":"b","creationTimestamp":"2026-11-30T00:00:00Z"},"status":{"phase":"` + phase + `","startTimestamp":"2026-11-30T00:00:01Z","completionTimestamp":"2026-11-30T00:01:00Z"}}`
	}

	t.Run("MapsEveryPhase", func(t *testing.T) {
		t.Parallel()
		for phase, want := range map[string]store.ExecutionStatus{
			"New": store.ExecutionRunning, "Queued": store.ExecutionRunning, "ReadyToStart": store.ExecutionRunning,
			"InProgress": store.ExecutionRunning, "WaitingForPluginOperations": store.ExecutionRunning,
			"WaitingForPluginOperationsPartiallyFailed": store.ExecutionRunning, "Finalizing": store.ExecutionRunning,
			"FinalizingPartiallyFailed": store.ExecutionRunning, "Completed": store.ExecutionSuccess,
			"PartiallyFailed": store.ExecutionWarning, "Failed": store.ExecutionFailed, "FailedValidation": store.ExecutionFailed,
		} {
			runs, err := parse(ingest.Velero, backup(phase))
			require.NoError(t, err, phase)
			require.Equal(t, want, runs[0].Status, phase)
		}
	})

	t.Run("StartsANewBackupAtItsCreation", func(t *testing.T) {
		t.Parallel()
		runs, err := parse(ingest.Velero, `{"metadata":{"name":"b","creationTimestamp":"2026-11-30T00:00:00Z"},"status":{"phase":"New"}}`)
		require.NoError(t, err)
		require.Equal(t, ts(t, "2026-11-30T00:00:00Z"), runs[0].StartedAt)
		require.Nil(t, runs[0].FinishedAt)
	})

	t.Run("RefusesBadReportsNamingTheField", func(t *testing.T) {
		t.Parallel()
		requireBad(t, ingest.Velero, []badCase{
			{"Deleting", backup("Deleting"), "status.phase", "no run outcome"},
			{"UnknownPhase", backup("Exploded"), "status.phase", "no run outcome"},
			{"NoPhase", strings.Replace(backup("x"), `"phase":"x",`, "", 1), "status.phase", "required"},
			{"NoStatus", `{"kind":"Backup","metadata":{"name":"b"}}`, "status", "required"},
			{"NoName", strings.Replace(backup("Completed"), `"name":"b",`, "", 1), "metadata.name", "required"},
			{"NotABackup", strings.Replace(backup("Completed"), `"kind":"Backup"`, `"kind":"Restore"`, 1), "kind", "must be Backup"},
			{"CompletedWithoutCompletion", strings.Replace(backup("Completed"), `,"completionTimestamp":"2026-11-30T00:01:00Z"`, "", 1), "status.completionTimestamp", "required"},
			{"FailedWithoutStart", `{"metadata":{"name":"b","creationTimestamp":"2026-11-30T00:00:00Z"},"status":{"phase":"Failed"}}`, "status.startTimestamp", "required"},
			{"NegativeErrors", strings.Replace(backup("Completed"), `"phase"`, `"errors":-2,"phase"`, 1), "status.errors", "negative"},
			{"BadItemInList", `{"kind":"BackupList","items":[` + backup("Completed") + `,` + backup("Deleting") + `]}`, "items[1].status.phase", "no run outcome"},
			{"EmptyList", `{"kind":"BackupList","items":[]}`, "items", "no backups"},
			{"ItemsOfWrongType", `{"items":{"a":1}}`, "items", "array"},
		})
	})
}

func TestBareos(t *testing.T) {
	t.Parallel()

	t.Run("ReadsBackupJobsOfALongListing", func(t *testing.T) {
		t.Parallel()
		requireRuns(t, ingest.Bareos, []run{
			{RunID: "1", SnapshotID: "BackupClient1.2026-11-30_01.51.35_04", Status: store.ExecutionSuccess, Start: "2026-11-30T01:51:38Z", Finish: "2026-11-30T01:51:40Z", Size: 4651943, Files: 18,
				Message: "bareos job BackupClient1 #1 (level F): status T, 18 files, 4.4 MiB"},
			{RunID: "2", SnapshotID: "BackupClient1.2026-11-30_02.25.20_04", Status: store.ExecutionWarning, Start: "2026-11-30T02:25:23Z", Finish: "2026-11-30T02:25:24Z", Size: 1024, Files: 3, Errors: 2},
			{RunID: "4", SnapshotID: "BackupCatalog.2026-11-30_03.10.00_07", Status: store.ExecutionRunning, Start: "2026-11-30T03:10:02Z"},
			{RunID: "5", SnapshotID: "BackupFileserver.2026-11-30_04.00.00_09", Status: store.ExecutionFailed, Start: "2026-11-30T04:00:01Z", Finish: "2026-11-30T04:00:31Z", Errors: 1},
		}, parseFile(t, ingest.Bareos, "bareos_llist.json"))
	})

	job := func(status string) string {
		return `{"jsonrpc":"2.0","id":null,"result":{"jobs":[{"jobid":"7","type":"B","jobstatus":"` + status + `","schedtime":"2026-11-30 00:59:00","starttime":"2026-11-30 01:00:00","endtime":"2026-11-30 01:10:00","jobfiles":"1","jobbytes":"2","joberrors":"0"}]}}`
	}

	t.Run("MapsEveryJobStatusLetter", func(t *testing.T) {
		t.Parallel()
		want := map[string]store.ExecutionStatus{
			"T": store.ExecutionSuccess, "W": store.ExecutionWarning, "D": store.ExecutionWarning,
			"E": store.ExecutionFailed, "e": store.ExecutionFailed, "f": store.ExecutionFailed, "I": store.ExecutionFailed,
			"A": store.ExecutionCanceled,
		}
		for _, l := range strings.Split("C R B F S m M s j c d t p q a i l L", " ") {
			want[l] = store.ExecutionRunning
		}
		for letter, status := range want {
			runs, err := parse(ingest.Bareos, job(letter))
			require.NoError(t, err, letter)
			require.Equal(t, status, runs[0].Status, letter)
		}
	})

	t.Run("StartsAWaitingJobAtItsScheduledTime", func(t *testing.T) {
		t.Parallel()
		runs, err := parse(ingest.Bareos, strings.Replace(job("C"), `"starttime":"2026-11-30 01:00:00"`, `"starttime":null`, 1))
		require.NoError(t, err)
		require.Equal(t, ts(t, "2026-11-30T00:59:00Z"), runs[0].StartedAt)
	})

	t.Run("ReadsCatalogTimesInTheGivenLocation", func(t *testing.T) {
		t.Parallel()
		berlin, err := time.LoadLocation("Europe/Berlin")
		require.NoError(t, err)
		runs, err := ingest.ParseWith(ingest.Bareos, strings.NewReader(job("T")), ingest.Options{Location: berlin})
		require.NoError(t, err)
		require.Equal(t, ts(t, "2026-11-30T00:00:00Z"), runs[0].StartedAt)
	})

	t.Run("RefusesBadReportsNamingTheField", func(t *testing.T) {
		t.Parallel()
		requireBad(t, ingest.Bareos, []badCase{
			{"UnknownStatus", job("Z"), "result.jobs[0].jobstatus", "unknown job status"},
			{"NoStatus", strings.Replace(job("T"), `"jobstatus":"T",`, "", 1), "result.jobs[0].jobstatus", "required"},
			{"NoJobID", strings.Replace(job("T"), `"jobid":"7",`, "", 1), "result.jobs[0].jobid", "required"},
			{"NoType", strings.Replace(job("T"), `"type":"B",`, "", 1), "result.jobs[0].type", "required"},
			{"ShortListingOfAFinishedJob", strings.Replace(job("T"), `,"endtime":"2026-11-30 01:10:00"`, "", 1), "result.jobs[0].endtime", "send llist"},
			{"NoStart", strings.Replace(job("T"), `"starttime":"2026-11-30 01:00:00",`, "", 1), "result.jobs[0].starttime", "required"},
			{"BadStart", strings.Replace(job("T"), `"2026-11-30 01:00:00"`, `"30.11.2026 01:00"`, 1), "result.jobs[0].starttime", "not a time"},
			{"BytesNotANumber", strings.Replace(job("T"), `"jobbytes":"2"`, `"jobbytes":"2 GB"`, 1), "result.jobs[0].jobbytes", "integer"},
			{"NegativeFiles", strings.Replace(job("T"), `"jobfiles":"1"`, `"jobfiles":"-1"`, 1), "result.jobs[0].jobfiles", "negative"},
			{"NoBackupJobs", strings.Replace(job("T"), `"type":"B"`, `"type":"R"`, 1), "result.jobs", "no backup jobs"},
			{"NoResult", `{"jsonrpc":"2.0","id":null}`, "result", "required"},
			{"NoJobs", `{"jsonrpc":"2.0","id":null,"result":{"clients":[]}}`, "result.jobs", "required"},
			{"ErrorResponse", `{"jsonrpc":"2.0","id":null,"error":{"data":{"result":{},"messages":{"error":["jobid not found\n"]}},"message":"failed","code":1}}`, "error", "jobid not found"},
		})
	})
}

func TestVeeam(t *testing.T) {
	t.Parallel()

	t.Run("ReadsWindowsPowerShellOutput", func(t *testing.T) {
		t.Parallel()
		requireRuns(t, ingest.Veeam, []run{{
			RunID: "3f6c1d2e-9a8b-4c7d-8e6f-5a4b3c2d1e0f", Status: store.ExecutionWarning,
			Start: "2026-11-30T01:00:00Z", Finish: "2026-11-30T01:30:00Z", Size: 53687091200, Files: 4,
			Message: "veeam session SQL Nightly: Warning, 50.0 GiB processed, 4 objects",
		}}, parseFile(t, ingest.Veeam, "veeam_ps51.json"))
	})

	t.Run("ReadsPowerShell7Output", func(t *testing.T) {
		t.Parallel()
		requireRuns(t, ingest.Veeam, []run{
			{RunID: "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a", Status: store.ExecutionSuccess, Start: "2026-11-29T16:00:00.123456Z", Finish: "2026-11-29T16:20:00.765432Z", Size: 1099511627776, Files: 1},
			{RunID: "1e2d3c4b-5a69-4788-9766-554433221100", Status: store.ExecutionRunning, Start: "2026-11-29T17:00:00Z"},
		}, parseFile(t, ingest.Veeam, "veeam_ps7.json"))
	})

	session := func(result string) string {
		return `{"Id":"s","JobName":"j","Result":` + result + `,"CreationTime":"/Date(1796000400000)/","EndTime":"/Date(1796000460000+0100)/"}`
	}

	t.Run("MapsEveryResult", func(t *testing.T) {
		t.Parallel()
		for result, want := range map[string]store.ExecutionStatus{
			`"Success"`: store.ExecutionSuccess, `0`: store.ExecutionSuccess, `"Warning"`: store.ExecutionWarning, `1`: store.ExecutionWarning,
			`"Failed"`: store.ExecutionFailed, `2`: store.ExecutionFailed, `"None"`: store.ExecutionRunning, `-1`: store.ExecutionRunning,
		} {
			runs, err := parse(ingest.Veeam, session(result))
			require.NoError(t, err, result)
			require.Equal(t, want, runs[0].Status, result)
			if want != store.ExecutionRunning {
				require.Equal(t, ts(t, "2026-11-30T01:01:00Z"), *runs[0].FinishedAt, "the offset of /Date()/ does not move the instant")
			}
		}
	})

	t.Run("RefusesBadReportsNamingTheField", func(t *testing.T) {
		t.Parallel()
		requireBad(t, ingest.Veeam, []badCase{
			{"UnknownResult", session(`"Maybe"`), "Result", "unknown result"},
			{"NoResult", strings.Replace(session(`0`), `"Result":0,`, "", 1), "Result", "required"},
			{"ResultOfWrongType", session(`true`), "Result", "string"},
			{"NoID", strings.Replace(session(`0`), `"Id":"s",`, "", 1), "Id", "required"},
			{"NoCreationTime", strings.Replace(session(`0`), `"CreationTime":"/Date(1796000400000)/",`, "", 1), "CreationTime", "required"},
			{"NoEndTime", strings.Replace(session(`0`), `,"EndTime":"/Date(1796000460000+0100)/"`, "", 1), "EndTime", "required"},
			{"BadDate", strings.Replace(session(`0`), `/Date(1796000400000)/`, `/Date(soon)/`, 1), "CreationTime", "not a time"},
			{"NegativeSize", strings.Replace(session(`0`), `"Id":"s"`, `"Id":"s","Progress":{"ProcessedSize":-5}`, 1), "Progress.ProcessedSize", "negative"},
			{"BadItemInArray", "[" + session(`0`) + "," + session(`"Maybe"`) + "]", "[1].Result", "unknown result"},
		})
	})
}

func TestWSB(t *testing.T) {
	t.Parallel()

	t.Run("ReadsASuccessfulJob", func(t *testing.T) {
		t.Parallel()
		requireRuns(t, ingest.WSB, []run{{
			RunID: "11/30/2026-01:15", SnapshotID: "11/30/2026-01:15", Status: store.ExecutionSuccess,
			Start: "2026-11-30T00:00:00Z", Finish: "2026-11-30T00:15:00Z",
			Message: "windows server backup job: success",
		}}, parseFile(t, ingest.WSB, "wsb_success.json"))
	})

	t.Run("ReadsAFailedJob", func(t *testing.T) {
		t.Parallel()
		runs := parseFile(t, ingest.WSB, "wsb_failed.json")
		require.Len(t, runs, 1)
		require.True(t, strings.HasPrefix(runs[0].RunID, "wsb-"))
		requireRuns(t, ingest.WSB, []run{{
			RunID: runs[0].RunID, Status: store.ExecutionFailed,
			Start: "2026-11-30T00:00:00Z", Finish: "2026-11-30T00:00:40Z", Errors: 1,
			Message: "windows server backup job: failed (HRESULT 0x80070070): There is not enough space on the disk.",
			Log:     "failure log: C:\\Windows\\Logs\\WindowsServerBackup\\Backup_Error-30-11-2026_01-00-00.log",
		}}, runs)
	})

	const j = `{"JobState":"Completed","StartTime":"2026-11-30T01:00:00Z","EndTime":"2026-11-30T01:00:40Z","HResult":0}`
	t.Run("MapsTheResult", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			report string
			want   store.ExecutionStatus
		}{
			{j, store.ExecutionSuccess},
			{strings.Replace(j, `"HResult":0`, `"HResult":"0"`, 1), store.ExecutionSuccess},
			{strings.Replace(j, `"HResult":0`, `"HResult":-2147024784`, 1), store.ExecutionFailed},
			{strings.Replace(j, `"Completed"`, `"Running"`, 1), store.ExecutionRunning},
		} {
			runs, err := parse(ingest.WSB, tc.report)
			require.NoError(t, err, tc.report)
			require.Equal(t, tc.want, runs[0].Status, tc.report)
		}
	})

	t.Run("RefusesBadReportsNamingTheField", func(t *testing.T) {
		t.Parallel()
		requireBad(t, ingest.WSB, []badCase{
			{"NoHResult", strings.Replace(j, `,"HResult":0`, "", 1), "HResult", "required"},
			{"HResultOfWrongType", strings.Replace(j, `"HResult":0`, `"HResult":"E_FAIL"`, 1), "HResult", "integer"},
			{"NoStartTime", strings.Replace(j, `"StartTime":"2026-11-30T01:00:00Z",`, "", 1), "StartTime", "required"},
			{"NoEndTime", strings.Replace(j, `"EndTime":"2026-11-30T01:00:40Z",`, "", 1), "EndTime", "required"},
			{"EndBeforeStart", strings.Replace(j, `01:00:40Z`, `00:00:40Z`, 1), "EndTime", "before the start"},
			{"BadItemInArray", fmt.Sprintf("[%s,%s]", j, strings.Replace(j, `"StartTime":"2026-11-30T01:00:00Z"`, `"StartTime":7`, 1)), "[1].StartTime", "string"},
		})
	})
}
