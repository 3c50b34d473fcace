package httpapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestRotation(t *testing.T) {
	t.Parallel()

	t.Run("CreateRotateDuePatchDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		m1, m2, m3 := opsMedium(t, b, "RR-1"), opsMedium(t, b, "RR-2"), opsMedium(t, b, "RR-3")
		var plan RotationPlan
		opsOK(t, b.do(t, c, "POST", "/api/v1/rotation-plans", map[string]any{
			"name": "weekly tapes", "scheme": "round_robin", "cycle": "weekly",
			"media_ids": []string{m1.ID, m2.ID, m3.ID}, "start_on": "2026-11-30",
		}), http.StatusCreated, &plan)
		require.True(t, plan.Active)
		require.Equal(t, []string{m1.ID, m2.ID, m3.ID}, plan.MediaIDs)
		require.Equal(t, "2026-11-30", plan.NextRotationOn.String())
		require.Nil(t, plan.LastRotationOn)
		base := "/api/v1/rotation-plans/" + plan.ID

		var due RotationDue
		opsOK(t, b.do(t, c, "GET", base+"/due", nil), http.StatusOK, &due)
		require.Equal(t, "2026-11-30", due.On.String())
		require.Equal(t, m1.ID, due.Media.ID)
		opsOK(t, b.do(t, c, "GET", base+"/due?on=2026-12-07", nil), http.StatusOK, &due)
		require.Equal(t, m2.ID, due.Media.ID)
		res := b.do(t, c, "GET", base+"/due?on=2026-11-01", nil)
		require.Equal(t, http.StatusConflict, res.Code, "body: %s", res.Body)
		require.Equal(t, "rotation_not_due", res.errBody(t).Code)

		var done RotationDone
		opsOK(t, b.do(t, c, "POST", base+"/rotate", nil), http.StatusOK, &done)
		require.Equal(t, m1.ID, done.Media.ID)
		require.Equal(t, "2026-11-30", done.Plan.LastRotationOn.String())
		require.Equal(t, "2026-12-07", done.Plan.NextRotationOn.String())

		var list List[RotationPlan]
		opsOK(t, b.do(t, c, "GET", "/api/v1/rotation-plans?active=true", nil), http.StatusOK, &list)
		require.Len(t, list.Items, 1)

		var paused RotationPlan
		opsOK(t, b.do(t, c, "PATCH", base, map[string]any{"active": false, "name": "weekly tapes (paused)"}), http.StatusOK, &paused)
		require.False(t, paused.Active)
		require.Equal(t, "weekly tapes (paused)", paused.Name)
		res = b.do(t, c, "POST", base+"/rotate", nil)
		require.Equal(t, http.StatusConflict, res.Code, "body: %s", res.Body)
		require.Equal(t, "rotation_not_due", res.errBody(t).Code)
		opsOK(t, b.do(t, c, "GET", "/api/v1/rotation-plans?active=true", nil), http.StatusOK, &list)
		require.Empty(t, list.Items)

		var got RotationPlan
		opsOK(t, b.do(t, c, "GET", base, nil), http.StatusOK, &got)
		require.Equal(t, paused, got)

		opsOK(t, b.do(t, c, "DELETE", base, nil), http.StatusNoContent, nil)
		res = b.do(t, c, "GET", base, nil)
		require.Equal(t, http.StatusNotFound, res.Code)
		require.Equal(t, "rotation_plan_not_found", res.errBody(t).Code)
		_, err := b.svc.Media().Get(context.Background(), m1.ID)
		require.NoError(t, err, "the media stay")
	})

	t.Run("OperatorManagesButOnlyAdminDeletes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		op := opsAs(t, b, "oper", store.RoleOperator)
		viewer := opsAs(t, b, "watcher", store.RoleViewer)
		m := opsMedium(t, b, "RR-1")
		body := map[string]any{"name": "p", "scheme": "round_robin", "cycle": "daily", "media_ids": []string{m.ID}}
		res := b.do(t, viewer, "POST", "/api/v1/rotation-plans", body)
		require.Equal(t, http.StatusForbidden, res.Code)
		var plan RotationPlan
		opsOK(t, b.do(t, op, "POST", "/api/v1/rotation-plans", body), http.StatusCreated, &plan)
		require.Equal(t, "2026-11-30", plan.StartOn.String(), "start_on defaults to today")
		res = b.do(t, op, "DELETE", "/api/v1/rotation-plans/"+plan.ID, nil)
		require.Equal(t, http.StatusForbidden, res.Code)
		res = b.do(t, viewer, "POST", "/api/v1/rotation-plans/"+plan.ID+"/rotate", nil)
		require.Equal(t, http.StatusForbidden, res.Code)
		opsOK(t, b.do(t, viewer, "GET", "/api/v1/rotation-plans/"+plan.ID+"/due", nil), http.StatusOK, nil)
		got, err := b.svc.Rotation().GetPlan(context.Background(), plan.ID)
		require.NoError(t, err)
		require.Nil(t, got.LastRotationOn)
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		m := opsMedium(t, b, "RR-1")
		retired := opsMedium(t, b, "RR-OLD")
		_, err := b.svc.Media().Retire(context.Background(), retired.ID, "worn")
		require.NoError(t, err)
		plan, err := b.svc.Rotation().CreatePlan(context.Background(), planParams("keep", m.ID))
		require.NoError(t, err)
		base := "/api/v1/rotation-plans/" + plan.ID
		unknown := "/api/v1/rotation-plans/0190aaaa-0000-7000-8000-000000000000"
		create := func(over map[string]any) map[string]any {
			body := map[string]any{"name": "new", "scheme": "round_robin", "cycle": "weekly", "media_ids": []string{m.ID}}
			for k, v := range over {
				if v == nil {
					delete(body, k)
				} else {
					body[k] = v
				}
			}
			return body
		}
		cases := []opsBadInput{
			{"ListBadBoolean", "GET", "/api/v1/rotation-plans?active=1x", nil, 400, "invalid_input", "active"},
			{"ListBadCursor", "GET", "/api/v1/rotation-plans?cursor=abc", nil, 400, "invalid_input", "cursor"},
			{"ListUnknownParameter", "GET", "/api/v1/rotation-plans?scheme=gfs", nil, 400, "invalid_input", "scheme"},
			{"GetUnknown", "GET", unknown, nil, 404, "rotation_plan_not_found", ""},
			{"CreateMalformed", "POST", "/api/v1/rotation-plans", `{"name":"x",`, 400, "invalid_json", ""},
			{"CreateMissingName", "POST", "/api/v1/rotation-plans", create(map[string]any{"name": nil}), 400, "invalid_input", "name"},
			{"CreateMissingScheme", "POST", "/api/v1/rotation-plans", create(map[string]any{"scheme": nil}), 400, "invalid_input", "scheme"},
			{"CreateMissingMedia", "POST", "/api/v1/rotation-plans", create(map[string]any{"media_ids": nil}), 400, "invalid_input", "media_ids"},
			{"CreateUnknownScheme", "POST", "/api/v1/rotation-plans", create(map[string]any{"scheme": "random"}), 400, "invalid_input", "scheme"},
			{"CreateUnknownCycle", "POST", "/api/v1/rotation-plans", create(map[string]any{"cycle": "hourly"}), 400, "invalid_input", "cycle"},
			{"CreateMediaNotArray", "POST", "/api/v1/rotation-plans", create(map[string]any{"media_ids": "x"}), 400, "invalid_input", "media_ids"},
			{"CreateUnknownMedium", "POST", "/api/v1/rotation-plans", create(map[string]any{"media_ids": []string{"nope"}}), 400, "invalid_input", "media_ids"},
			{"CreateRetiredMedium", "POST", "/api/v1/rotation-plans", create(map[string]any{"media_ids": []string{retired.ID}}), 400, "invalid_input", "media_ids"},
			{"CreateTooFewForGFS", "POST", "/api/v1/rotation-plans", create(map[string]any{"scheme": "gfs"}), 400, "invalid_input", "media_ids"},
			{"CreateBadStart", "POST", "/api/v1/rotation-plans", create(map[string]any{"start_on": "monday"}), 400, "invalid_input", "start_on"},
			{"CreateUnknownField", "POST", "/api/v1/rotation-plans", create(map[string]any{"active": true}), 400, "invalid_input", "active"},
			{"CreateTakenName", "POST", "/api/v1/rotation-plans", create(map[string]any{"name": "KEEP"}), 409, "conflict", ""},
			{"PatchUnknown", "PATCH", unknown, `{"name":"x"}`, 404, "rotation_plan_not_found", ""},
			{"PatchUnknownCycle", "PATCH", base, `{"cycle":"yearly"}`, 400, "invalid_input", "cycle"},
			{"PatchBadStart", "PATCH", base, `{"start_on":"2026-02-30"}`, 400, "invalid_input", "start_on"},
			{"PatchEmptyName", "PATCH", base, `{"name":""}`, 400, "invalid_input", "name"},
			{"PatchWrongType", "PATCH", base, `{"active":"no"}`, 400, "invalid_input", "active"},
			{"PatchUnknownMedium", "PATCH", base, `{"media_ids":["nope"]}`, 400, "invalid_input", "media_ids"},
			{"RotateUnknown", "POST", unknown + "/rotate", nil, 404, "rotation_plan_not_found", ""},
			{"RotateWithBody", "POST", base + "/rotate", `{"force":true}`, 400, "invalid_input", "force"},
			{"DueBadDate", "GET", base + "/due?on=today", nil, 400, "invalid_input", "on"},
			{"DueUnknownPlan", "GET", unknown + "/due", nil, 404, "rotation_plan_not_found", ""},
			{"DeleteUnknown", "DELETE", unknown, nil, 404, "rotation_plan_not_found", ""},
		}
		opsCheckBad(t, b, c, cases, func(t *testing.T) {
			got, err := b.svc.Rotation().GetPlan(context.Background(), plan.ID)
			require.NoError(t, err)
			require.Equal(t, *plan, *got)
			page, err := b.svc.Rotation().ListPlans(context.Background(), store.ListRotationPlansParams{})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
		})
	})
}
