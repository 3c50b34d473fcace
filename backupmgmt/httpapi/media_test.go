package httpapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestMedia(t *testing.T) {
	t.Parallel()

	t.Run("RegisterListGetPatch", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAs(t, b, "oper", store.RoleOperator)
		var m Media
		opsOK(t, b.do(t, c, "POST", "/api/v1/media", map[string]any{
			"label": "TAPE-001", "media_type": "tape", "capacity_bytes": 12000000000000,
			"purchased_on": "2026-01-15", "location": "vault A", "notes": "LTO-9",
		}), http.StatusCreated, &m)
		require.NotEmpty(t, m.ID)
		require.Equal(t, store.MediaAvailable, m.Status)
		require.Equal(t, "2026-01-15", m.PurchasedOn.String())
		require.Equal(t, int64(12000000000000), m.CapacityBytes)

		opsOK(t, b.do(t, c, "POST", "/api/v1/media", map[string]any{"label": "USB-7", "media_type": "usb", "location": "vault A"}), http.StatusCreated, nil)
		var page List[Media]
		opsOK(t, b.do(t, c, "GET", "/api/v1/media?media_type=tape", nil), http.StatusOK, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, "TAPE-001", page.Items[0].Label)
		opsOK(t, b.do(t, c, "GET", "/api/v1/media?status=available&location=vault+A", nil), http.StatusOK, &page)
		require.Len(t, page.Items, 2)

		var patched Media
		opsOK(t, b.do(t, c, "PATCH", "/api/v1/media/"+m.ID, map[string]any{"notes": "LTO-9, cleaned", "purchased_on": ""}), http.StatusOK, &patched)
		require.Equal(t, "LTO-9, cleaned", patched.Notes)
		require.Nil(t, patched.PurchasedOn)
		require.Equal(t, "TAPE-001", patched.Label)

		var got Media
		opsOK(t, b.do(t, c, "GET", "/api/v1/media/"+m.ID, nil), http.StatusOK, &got)
		require.Equal(t, patched, got)
	})

	t.Run("LendReturnMoveRetireKeepTheChainOfCustody", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			c := opsAdmin(t, b)
			borrower := b.user(t, "borrower", store.RoleViewer)
			m := opsMedium(t, b, "TAPE-002")
			base := "/api/v1/media/" + m.ID

			var l Lending
			opsOK(t, b.do(t, c, "POST", base+"/lend", map[string]any{
				"borrower_id": borrower.ID, "purpose": "restore drill", "due_on": "2026-12-07",
			}), http.StatusCreated, &l)
			require.Equal(t, m.ID, l.MediaID)
			require.Equal(t, "2026-12-07", l.DueOn.String())
			require.Nil(t, l.ReturnedAt)
			require.Nil(t, l.ReturnCondition)

			res := b.do(t, c, "POST", base+"/lend", map[string]any{"borrower_id": borrower.ID, "due_on": "2026-12-07"})
			require.Equal(t, http.StatusConflict, res.Code, "body: %s", res.Body)
			require.Equal(t, "media_not_lendable", res.errBody(t).Code)
			res = b.do(t, c, "POST", base+"/move", map[string]any{"to_location": "elsewhere"})
			require.Equal(t, http.StatusConflict, res.Code, "body: %s", res.Body)
			require.Equal(t, "media_lent", res.errBody(t).Code)

			var open List[Lending]
			opsOK(t, b.do(t, c, "GET", "/api/v1/lendings?open=true&media_id="+m.ID, nil), http.StatusOK, &open)
			require.Len(t, open.Items, 1)

			var back Lending
			opsOK(t, b.do(t, c, "POST", base+"/return", map[string]any{"condition": "damaged", "notes": "cracked case"}), http.StatusOK, &back)
			require.NotNil(t, back.ReturnedAt)
			require.Equal(t, store.ReturnCondition("damaged"), *back.ReturnCondition)
			res = b.do(t, c, "POST", base+"/return", nil)
			require.Equal(t, http.StatusConflict, res.Code, "body: %s", res.Body)
			require.Equal(t, "media_not_lent", res.errBody(t).Code)

			var moved Media
			opsOK(t, b.do(t, c, "POST", base+"/move", map[string]any{"to_location": "offsite vault", "offsite": true}), http.StatusOK, &moved)
			require.Equal(t, store.MediaStoredOffsite, moved.Status)
			require.Equal(t, "offsite vault", moved.Location)

			var retired Media
			opsOK(t, b.do(t, c, "POST", base+"/retire", map[string]any{"reason": "end of life"}), http.StatusOK, &retired)
			require.Equal(t, store.MediaRetired, retired.Status)
			res = b.do(t, c, "POST", base+"/retire", nil)
			require.Equal(t, http.StatusConflict, res.Code, "body: %s", res.Body)
			require.Equal(t, "media_retired", res.errBody(t).Code)

			var events List[MediaEvent]
			opsOK(t, b.do(t, c, "GET", base+"/events", nil), http.StatusOK, &events)
			kinds := make([]store.MediaEventKind, len(events.Items))
			for i, e := range events.Items {
				kinds[i] = e.Kind
			}
			require.Equal(t, []store.MediaEventKind{
				store.MediaEventRetired, store.MediaEventMoved, store.MediaEventReturned, store.MediaEventLent, store.MediaEventRegistered,
			}, kinds)
			require.Equal(t, "offsite vault", events.Items[1].ToLocation)
			require.Equal(t, b.admin.ID, *events.Items[0].ActorID)

			opsOK(t, b.do(t, c, "GET", base+"/events?kind=lent", nil), http.StatusOK, &events)
			require.Len(t, events.Items, 1)
			opsOK(t, b.do(t, c, "GET", "/api/v1/lendings?open=false", nil), http.StatusOK, &open)
			require.Len(t, open.Items, 1)
		})
	})

	t.Run("ViewerCannotManage", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAs(t, b, "watcher", store.RoleViewer)
		m := opsMedium(t, b, "TAPE-003")
		for _, rq := range []struct{ method, path string }{
			{"POST", "/api/v1/media"}, {"PATCH", "/api/v1/media/" + m.ID}, {"POST", "/api/v1/media/" + m.ID + "/lend"},
			{"POST", "/api/v1/media/" + m.ID + "/return"}, {"POST", "/api/v1/media/" + m.ID + "/move"},
			{"POST", "/api/v1/media/" + m.ID + "/retire"},
		} {
			res := b.do(t, c, rq.method, rq.path, map[string]any{})
			require.Equal(t, http.StatusForbidden, res.Code, "%s %s: %s", rq.method, rq.path, res.Body)
		}
		opsOK(t, b.do(t, c, "GET", "/api/v1/media/"+m.ID+"/events", nil), http.StatusOK, nil)
		got, err := b.svc.Media().Get(context.Background(), m.ID)
		require.NoError(t, err)
		require.Equal(t, store.MediaAvailable, got.Status)
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		borrower := b.user(t, "borrower", store.RoleViewer)
		m := opsMedium(t, b, "TAPE-004")
		base := "/api/v1/media/" + m.ID
		unknown := "/api/v1/media/0190aaaa-0000-7000-8000-000000000000"
		cases := []opsBadInput{
			{"ListUnknownStatus", "GET", "/api/v1/media?status=gone", nil, 400, "invalid_input", "status"},
			{"ListUnknownType", "GET", "/api/v1/media?media_type=floppy", nil, 400, "invalid_input", "media_type"},
			{"ListBadLimit", "GET", "/api/v1/media?limit=201", nil, 400, "invalid_input", "limit"},
			{"ListBadCursor", "GET", "/api/v1/media?cursor=xyz", nil, 400, "invalid_input", "cursor"},
			{"ListUnknownParameter", "GET", "/api/v1/media?label=x", nil, 400, "invalid_input", "label"},
			{"GetUnknown", "GET", unknown, nil, 404, "media_not_found", ""},
			{"RegisterMalformed", "POST", "/api/v1/media", `{"label":`, 400, "invalid_json", ""},
			{"RegisterMissingLabel", "POST", "/api/v1/media", `{"media_type":"tape"}`, 400, "invalid_input", "label"},
			{"RegisterMissingType", "POST", "/api/v1/media", `{"label":"T-9"}`, 400, "invalid_input", "media_type"},
			{"RegisterUnknownType", "POST", "/api/v1/media", `{"label":"T-9","media_type":"floppy","location":"x"}`, 400, "invalid_input", "media_type"},
			{"RegisterWrongType", "POST", "/api/v1/media", `{"label":"T-9","media_type":"tape","capacity_bytes":"big"}`, 400, "invalid_input", "capacity_bytes"},
			{"RegisterNegativeCapacity", "POST", "/api/v1/media", `{"label":"T-9","media_type":"tape","location":"x","capacity_bytes":-1}`, 400, "invalid_input", "capacity_bytes"},
			{"RegisterBadDate", "POST", "/api/v1/media", `{"label":"T-9","media_type":"tape","purchased_on":"15/01/2026"}`, 400, "invalid_input", "purchased_on"},
			{"RegisterUnknownOwner", "POST", "/api/v1/media", `{"label":"T-9","media_type":"tape","location":"x","owner_id":"nobody"}`, 400, "invalid_input", "owner_id"},
			{"RegisterUnknownField", "POST", "/api/v1/media", `{"label":"T-9","media_type":"tape","status":"lent"}`, 400, "invalid_input", "status"},
			{"RegisterTakenLabel", "POST", "/api/v1/media", `{"label":"tape-004","media_type":"tape","location":"x"}`, 409, "conflict", ""},
			{"PatchUnknown", "PATCH", unknown, `{"notes":"x"}`, 404, "media_not_found", ""},
			{"PatchLocation", "PATCH", base, `{"location":"x"}`, 400, "invalid_input", "location"},
			{"PatchUnknownType", "PATCH", base, `{"media_type":"floppy"}`, 400, "invalid_input", "media_type"},
			{"PatchBadDate", "PATCH", base, `{"purchased_on":"2026-13-01"}`, 400, "invalid_input", "purchased_on"},
			{"PatchEmptyLabel", "PATCH", base, `{"label":""}`, 400, "invalid_input", "label"},
			{"LendMissingBorrower", "POST", base + "/lend", `{"due_on":"2026-12-07"}`, 400, "invalid_input", "borrower_id"},
			{"LendMissingDue", "POST", base + "/lend", map[string]any{"borrower_id": borrower.ID}, 400, "invalid_input", "due_on"},
			{"LendBadDue", "POST", base + "/lend", map[string]any{"borrower_id": borrower.ID, "due_on": "soon"}, 400, "invalid_input", "due_on"},
			{"LendDueInThePast", "POST", base + "/lend", map[string]any{"borrower_id": borrower.ID, "due_on": "2026-11-01"}, 400, "invalid_input", "due_on"},
			{"LendUnknownBorrower", "POST", base + "/lend", map[string]any{"borrower_id": "nobody", "due_on": "2026-12-07"}, 400, "invalid_input", "borrower_id"},
			{"LendUnknownMedium", "POST", unknown + "/lend", map[string]any{"borrower_id": borrower.ID, "due_on": "2026-12-07"}, 404, "media_not_found", ""},
			{"ReturnUnknownCondition", "POST", base + "/return", `{"condition":"wet"}`, 400, "invalid_input", "condition"},
			{"ReturnNotLent", "POST", base + "/return", nil, 409, "media_not_lent", ""},
			{"MoveMissingLocation", "POST", base + "/move", `{"offsite":true}`, 400, "invalid_input", "to_location"},
			{"MoveWrongType", "POST", base + "/move", `{"to_location":"x","offsite":"yes"}`, 400, "invalid_input", "offsite"},
			{"MoveUnknownMedium", "POST", unknown + "/move", `{"to_location":"x"}`, 404, "media_not_found", ""},
			{"RetireWrongType", "POST", base + "/retire", `{"reason":7}`, 400, "invalid_input", "reason"},
			{"EventsUnknownKind", "GET", base + "/events?kind=stolen", nil, 400, "invalid_input", "kind"},
			{"EventsBadTime", "GET", base + "/events?from=yesterday", nil, 400, "invalid_input", "from"},
			{"EventsUnknownMedium", "GET", unknown + "/events", nil, 404, "media_not_found", ""},
			{"LendingsBadBoolean", "GET", "/api/v1/lendings?open=perhaps", nil, 400, "invalid_input", "open"},
			{"LendingsBadDate", "GET", "/api/v1/lendings?due_before=tomorrow", nil, 400, "invalid_input", "due_before"},
			{"DeleteIsNotARoute", "DELETE", base, nil, 405, "method_not_allowed", ""},
		}
		opsCheckBad(t, b, c, cases, func(t *testing.T) {
			got, err := b.svc.Media().Get(context.Background(), m.ID)
			require.NoError(t, err)
			require.Equal(t, *m, *got)
			page, err := b.svc.Media().List(context.Background(), store.ListMediaParams{})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			lendings, err := b.svc.Media().Lendings(context.Background(), store.ListLendingsParams{})
			require.NoError(t, err)
			require.Empty(t, lendings.Items)
		})
	})
}
