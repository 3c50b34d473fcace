package httpapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func createCopyHTTP(t *testing.T, b *testBundle, c cred, jobID string, body map[string]any) Copy {
	t.Helper()
	res := b.do(t, c, "POST", "/api/v1/jobs/"+jobID+"/copies", body)
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	var cp Copy
	res.decode(t, &cp)
	return cp
}

func listCopiesHTTP(t *testing.T, b *testBundle, c cred, jobID string) []Copy {
	t.Helper()
	res := b.do(t, c, "GET", "/api/v1/jobs/"+jobID+"/copies", nil)
	require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
	var l List[Copy]
	res.decode(t, &l)
	require.Empty(t, l.NextCursor)
	return l.Items
}

func TestJobsCopies(t *testing.T) {
	t.Parallel()

	t.Run("CreateListPatchDelete", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := adminCred(t, b)
			id := b.createJob(t, "nightly")
			require.Empty(t, listCopiesHTTP(t, b, admin, id))
			until := testStart.Add(30 * 24 * time.Hour)
			c := createCopyHTTP(t, b, admin, id, map[string]any{
				"name": "s3-immutable", "role": "offsite", "media_type": "cloud_object", "location": "eu-west-1",
				"offsite": true, "immutable": true, "immutable_until": until.Format(time.RFC3339), "encrypted": true,
			})
			require.NotEmpty(t, c.ID)
			require.Equal(t, id, c.JobID)
			require.Equal(t, store.CopyRoleOffsite, c.Role)
			require.True(t, c.Offsite)
			require.True(t, c.Immutable)
			require.Equal(t, until, deref(c.ImmutableUntil))
			require.Equal(t, store.CopyStatusUnknown, c.Status)
			require.Nil(t, c.LastWrittenAt)

			createCopyHTTP(t, b, admin, id, map[string]any{"name": "local", "role": "primary", "media_type": "disk"})
			cs := listCopiesHTTP(t, b, admin, id)
			require.Len(t, cs, 2)
			require.Equal(t, "local", cs[0].Name, "ordered by name")

			res := b.do(t, admin, "PATCH", "/api/v1/jobs/"+id+"/copies/"+c.ID, map[string]any{"location": "eu-central-1", "immutable_until": ""})
			require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
			var got Copy
			res.decode(t, &got)
			require.Equal(t, "eu-central-1", got.Location)
			require.Nil(t, got.ImmutableUntil, `"" removes the end`)
			require.True(t, got.Immutable)

			require.Equal(t, http.StatusNoContent, b.do(t, admin, "DELETE", "/api/v1/jobs/"+id+"/copies/"+c.ID, nil).Code)
			require.Len(t, listCopiesHTTP(t, b, admin, id), 1)
		})
	})

	t.Run("ACopyIsRecordedByARunThatNamesIt", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "nightly")
		c := createCopyHTTP(t, b, admin, id, map[string]any{"name": "nas", "role": "primary", "media_type": "nas"})
		run := finishedRun(id, "r", "success")
		run["copy_id"] = c.ID
		recordHTTP(t, b, admin, run, http.StatusCreated)
		cs := listCopiesHTTP(t, b, admin, id)
		require.Equal(t, store.CopyStatusOK, cs[0].Status)
		require.NotNil(t, cs[0].LastWrittenAt)
		require.EqualValues(t, 1<<30, cs[0].LastSizeBytes)
	})

	t.Run("MissingJobOrCopyIsNamed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id, other := b.createJob(t, "a"), b.createJob(t, "b")
		c := createCopyHTTP(t, b, admin, id, map[string]any{"name": "nas", "role": "primary", "media_type": "nas"})
		const none = "01900000-0000-7000-8000-000000000000"
		for _, tc := range []struct {
			method, path, code string
			body               any
		}{
			{"GET", "/api/v1/jobs/" + none + "/copies", "job_not_found", nil},
			{"POST", "/api/v1/jobs/" + none + "/copies", "job_not_found", map[string]any{"name": "x", "role": "primary", "media_type": "disk"}},
			{"PATCH", "/api/v1/jobs/" + none + "/copies/" + c.ID, "job_not_found", map[string]any{"name": "y"}},
			{"DELETE", "/api/v1/jobs/" + none + "/copies/" + c.ID, "job_not_found", nil},
			{"PATCH", "/api/v1/jobs/" + id + "/copies/" + none, "copy_not_found", map[string]any{"name": "y"}},
			{"DELETE", "/api/v1/jobs/" + id + "/copies/" + none, "copy_not_found", nil},
			{"DELETE", "/api/v1/jobs/" + other + "/copies/" + c.ID, "copy_not_found", nil},
		} {
			res := b.do(t, admin, tc.method, tc.path, tc.body)
			require.Equal(t, http.StatusNotFound, res.Code, "%s %s", tc.method, tc.path)
			require.Equal(t, tc.code, res.errBody(t).Code, "%s %s", tc.method, tc.path)
		}
		require.Len(t, listCopiesHTTP(t, b, admin, id), 1, "the copy of another job was not deleted")
	})

	t.Run("ViewersCannotChangeCopies", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "a")
		viewer := asSession(b.session(t, b.user(t, "viewer", store.RoleViewer)))
		res := b.do(t, viewer, "POST", "/api/v1/jobs/"+id+"/copies", map[string]any{"name": "x", "role": "primary", "media_type": "disk"})
		require.Equal(t, http.StatusForbidden, res.Code)
		require.Empty(t, listCopiesHTTP(t, b, viewer, id))
	})

	t.Run("CreateRefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "a")
		createCopyHTTP(t, b, admin, id, map[string]any{"name": "taken", "role": "primary", "media_type": "disk"})
		ok := func(k string, v any) map[string]any {
			body := map[string]any{"name": "x", "role": "primary", "media_type": "disk"}
			if v == nil {
				delete(body, k)
			} else {
				body[k] = v
			}
			return body
		}
		cases := append(commonBodyCases(),
			badCase{name: "MissingName", body: ok("name", nil), field: "name"},
			badCase{name: "MissingRole", body: ok("role", nil), field: "role"},
			badCase{name: "MissingMediaType", body: ok("media_type", nil), field: "media_type"},
			badCase{name: "InvalidRole", body: ok("role", "tertiary"), field: "role"},
			badCase{name: "InvalidMediaType", body: ok("media_type", "floppy"), field: "media_type"},
			badCase{name: "OffsiteNotABoolean", body: ok("offsite", "yes"), field: "offsite"},
			badCase{name: "BadImmutableUntil", body: ok("immutable_until", "next year"), field: "immutable_until"},
			badCase{name: "UnknownMedia", body: ok("media_id", "01900000-0000-7000-8000-000000000000"), field: "media_id"},
			badCase{name: "TakenName", body: ok("name", "Taken"), status: http.StatusConflict},
		)
		runBadCases(t, b, admin, "POST", "/api/v1/jobs/"+id+"/copies", cases, func(t *testing.T) {
			cs := listCopiesHTTP(t, b, admin, id)
			require.Len(t, cs, 1)
			require.Equal(t, "taken", cs[0].Name)
		})
	})

	t.Run("PatchRefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "a")
		c := createCopyHTTP(t, b, admin, id, map[string]any{"name": "nas", "role": "primary", "media_type": "nas"})
		cases := append(commonBodyCases(),
			badCase{name: "InvalidRole", body: map[string]any{"role": "tertiary"}, field: "role"},
			badCase{name: "EmptyName", body: map[string]any{"name": ""}, field: "name"},
			badCase{name: "BadImmutableUntil", body: map[string]any{"immutable_until": "soon"}, field: "immutable_until"},
			badCase{name: "StatusIsNotSettable", body: map[string]any{"status": "ok"}, field: "status"},
		)
		runBadCases(t, b, admin, "PATCH", "/api/v1/jobs/"+id+"/copies/"+c.ID, cases, func(t *testing.T) {
			require.Equal(t, []Copy{c}, listCopiesHTTP(t, b, admin, id))
		})
	})
}
