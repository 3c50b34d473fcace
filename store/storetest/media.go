package storetest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var (
	_ = register("Media", testMedia)
	_ = register("MediaEvents", testMediaEvents)
	_ = register("Lendings", testLendings)
	_ = register("RotationPlans", testRotationPlans)
)

func newMediaEvent(mediaID string) *store.MediaEvent {
	return &store.MediaEvent{
		MediaID:      mediaID,
		Kind:         store.MediaEventMoved,
		FromLocation: "safe A",
		ToLocation:   "offsite vault",
		At:           time.Date(2026, 11, 5, 6, 0, 0, 0, time.UTC),
		Note:         "courier pickup",
	}
}

func (b *bundle) mediaEvent(t *testing.T, mediaID string, mod ...func(*store.MediaEvent)) *store.MediaEvent {
	t.Helper()
	e := newMediaEvent(mediaID)
	for _, m := range mod {
		m(e)
	}
	require.NoError(t, b.s.MediaEvents().Create(b.ctx, e))
	return e
}

func (b *bundle) lending(t *testing.T, mediaID, borrowerID string, mod ...func(*store.Lending)) *store.Lending {
	t.Helper()
	l := newLending(mediaID, borrowerID)
	for _, m := range mod {
		m(l)
	}
	require.NoError(t, b.s.Lendings().Create(b.ctx, l))
	return l
}

func newRotationPlan() *store.RotationPlan {
	return &store.RotationPlan{
		Name:   "plan-" + uniq(),
		Scheme: store.SchemeGFS,
		Cycle:  store.CycleWeekly,
		Active: true,
	}
}

func (b *bundle) rotationPlan(t *testing.T, mod ...func(*store.RotationPlan)) *store.RotationPlan {
	t.Helper()
	p := newRotationPlan()
	for _, m := range mod {
		m(p)
	}
	require.NoError(t, b.s.RotationPlans().Create(b.ctx, p))
	return p
}

// markReturned closes l as a store caller would: returned an hour after it was
// lent, in the given condition.
func markReturned(l *store.Lending, c store.ReturnCondition) {
	at := l.LentAt.Add(time.Hour)
	l.ReturnedAt = &at
	l.ReturnCondition = c
}

func testMedia(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		owner := b.user(t)
		m := newMedia()
		m.Label = "LTO9-テープ-" + uniq()
		m.MediaType = store.OfflineCartridge
		m.PurchasedOn = &store.Date{Year: 2024, Month: time.February, Day: 29}
		m.Location = "東京本社 金庫B"
		m.OwnerID = &owner.ID
		m.Notes = "月次フルバックアップ用。取り扱い注意。"
		m.LastWrittenAt = ptr(someTime().Add(-time.Hour))
		m.CreatedAt = someTime()
		require.NoError(t, b.s.Media().Create(b.ctx, m))
		require.NotEmpty(t, m.ID)
		require.Equal(t, norm(someTime()), m.CreatedAt, "stored times are UTC microseconds")
		require.Equal(t, m.CreatedAt, m.UpdatedAt)
		require.Equal(t, norm(someTime().Add(-time.Hour)), *m.LastWrittenAt)

		got, err := b.s.Media().Get(b.ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, m, got)
		require.Equal(t, time.UTC, got.CreatedAt.Location())
		require.Equal(t, store.Date{Year: 2024, Month: time.February, Day: 29}, *got.PurchasedOn)

		got.Status = store.MediaStoredOffsite
		got.Location = "offsite vault"
		got.PurchasedOn = &store.Date{Year: 2025, Month: time.December, Day: 31}
		got.OwnerID = nil
		got.Notes = ""
		got.CapacityBytes = 18 << 40
		got.LastWrittenAt = ptr(someTime().Add(time.Minute))
		require.NoError(t, b.s.Media().Update(b.ctx, got))
		require.Equal(t, norm(someTime().Add(time.Minute)), *got.LastWrittenAt)
		again, err := b.s.Media().Get(b.ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)
		require.Equal(t, m.CreatedAt, again.CreatedAt, "update keeps created_at")

		again.PurchasedOn = nil
		again.LastWrittenAt = nil
		require.NoError(t, b.s.Media().Update(b.ctx, again))
		cleared, err := b.s.Media().Get(b.ctx, m.ID)
		require.NoError(t, err)
		require.Nil(t, cleared.PurchasedOn)
		require.Nil(t, cleared.LastWrittenAt)

		require.NoError(t, b.s.Media().Delete(b.ctx, m.ID))
		_, err = b.s.Media().Get(b.ctx, m.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Media().GetByLabel(b.ctx, m.Label)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Media().Delete(b.ctx, m.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.Media().Update(b.ctx, got), store.ErrNotFound)
	})

	t.Run("LabelsAreUniqueIgnoringCase", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		m := b.media(t, func(m *store.Media) { m.Label = "Tape-A001" })
		dup := newMedia()
		dup.Label = "TAPE-a001"
		requireConflict(t, b.s.Media().Create(b.ctx, dup), "label")

		got, err := b.s.Media().GetByLabel(b.ctx, "tape-A001")
		require.NoError(t, err)
		require.Equal(t, m, got)
		_, err = b.s.Media().GetByLabel(b.ctx, "Tape-A002")
		require.ErrorIs(t, err, store.ErrNotFound)

		other := b.media(t)
		other.Label = "TAPE-A001"
		requireConflict(t, b.s.Media().Update(b.ctx, other), "label")
		// Changing only the case of its own label is not a conflict.
		m.Label = "TAPE-A001"
		require.NoError(t, b.s.Media().Update(b.ctx, m))
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for field, mod := range map[string]func(*store.Media){
			"label":          func(m *store.Media) { m.Label = "" },
			"media_type":     func(m *store.Media) { m.MediaType = store.OfflineMediaType(store.MediaNAS) },
			"capacity_bytes": func(m *store.Media) { m.CapacityBytes = -1 },
			"location":       func(m *store.Media) { m.Location = strings.Repeat("棚", store.MaxShortTextLen+1) },
			"status":         func(m *store.Media) { m.Status = "borrowed" },
			"notes":          func(m *store.Media) { m.Notes = strings.Repeat("注", store.MaxTextLen+1) },
		} {
			m := newMedia()
			mod(m)
			requireValidation(t, b.s.Media().Create(b.ctx, m), field)
			ok := b.media(t)
			mod(ok)
			requireValidation(t, b.s.Media().Update(b.ctx, ok), field)
		}
		long := newMedia()
		long.Label = strings200("巻") + "x"
		requireValidation(t, b.s.Media().Create(b.ctx, long), "label")

		fits := newMedia()
		fits.Label = strings200("巻")
		fits.Location = strings.Repeat("棚", store.MaxShortTextLen)
		fits.Notes = strings.Repeat("注", store.MaxTextLen)
		require.NoError(t, b.s.Media().Create(b.ctx, fits), "bounds are counted in characters")
		got, err := b.s.Media().Get(b.ctx, fits.ID)
		require.NoError(t, err)
		require.Equal(t, fits, got)
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		m := newMedia()
		m.OwnerID = ptr(store.NewID())
		require.ErrorIs(t, b.s.Media().Create(b.ctx, m), store.ErrForeignKey)

		ok := b.media(t)
		ok.OwnerID = ptr(store.NewID())
		require.ErrorIs(t, b.s.Media().Update(b.ctx, ok), store.ErrForeignKey)

		owner := b.user(t)
		owned := b.media(t, func(m *store.Media) { m.OwnerID = &owner.ID })
		require.NoError(t, b.s.Users().Delete(b.ctx, owner.ID))
		got, err := b.s.Media().Get(b.ctx, owned.ID)
		require.NoError(t, err)
		require.Nil(t, got.OwnerID, "deleting the owner leaves the medium without one")
	})

	t.Run("DeleteRemovesEventsAndLendings", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		gone := b.media(t)
		kept := b.media(t)
		b.mediaEvent(t, gone.ID)
		b.mediaEvent(t, gone.ID, func(e *store.MediaEvent) { e.Kind = store.MediaEventLent })
		keptEvent := b.mediaEvent(t, kept.ID)
		old := b.lending(t, gone.ID, u.ID, func(l *store.Lending) { markReturned(l, store.ReturnNormal) })
		open := b.lending(t, gone.ID, u.ID)
		keptLending := b.lending(t, kept.ID, u.ID)

		require.NoError(t, b.s.Media().Delete(b.ctx, gone.ID))

		events, err := b.s.MediaEvents().List(b.ctx, store.ListMediaEventsParams{MediaID: gone.ID})
		require.NoError(t, err)
		require.Empty(t, events.Items)
		for _, id := range []string{old.ID, open.ID} {
			_, err := b.s.Lendings().Get(b.ctx, id)
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		_, err = b.s.Lendings().GetOpenByMedia(b.ctx, gone.ID)
		require.ErrorIs(t, err, store.ErrNotFound)

		all, err := b.s.MediaEvents().List(b.ctx, store.ListMediaEventsParams{})
		require.NoError(t, err)
		require.Equal(t, []store.MediaEvent{*keptEvent}, all.Items, "other media keep their events")
		got, err := b.s.Lendings().Get(b.ctx, keptLending.ID)
		require.NoError(t, err)
		require.Equal(t, keptLending, got)
	})

	t.Run("GetManyReturnsTheMediaThatExist", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		m1, m2 := b.media(t), b.media(t)
		b.media(t)
		got, err := b.s.Media().GetMany(b.ctx, []string{m2.ID, store.NewID(), m1.ID})
		require.NoError(t, err)
		require.ElementsMatch(t, []store.Media{*m1, *m2}, got)
		got, err = b.s.Media().GetMany(b.ctx, nil)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("ListFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := uniq()
		c := b.media(t, func(m *store.Media) { m.Label = "c-" + u })
		a := b.media(t, func(m *store.Media) {
			m.Label = "A-" + u
			m.Status = store.MediaLent
			m.Location = "金庫"
		})
		bb := b.media(t, func(m *store.Media) {
			m.Label = "b-" + u
			m.MediaType = store.OfflineUSB
			m.Location = "金庫 2"
		})
		d := b.media(t, func(m *store.Media) {
			m.Label = "D-" + u
			m.Status = store.MediaLent
			m.MediaType = store.OfflineUSB
		})
		mediaID := func(m store.Media) string { return m.ID }

		all, err := b.s.Media().List(b.ctx, store.ListMediaParams{})
		require.NoError(t, err)
		require.Equal(t, []string{a.ID, bb.ID, c.ID, d.ID}, ids(all.Items, mediaID), "ordered by label ignoring case")
		require.Equal(t, *a, all.Items[0])

		for _, tc := range []struct {
			p    store.ListMediaParams
			want []string
		}{
			{store.ListMediaParams{Status: store.MediaLent}, []string{a.ID, d.ID}},
			{store.ListMediaParams{Status: store.MediaRetired}, []string{}},
			{store.ListMediaParams{MediaType: store.OfflineUSB}, []string{bb.ID, d.ID}},
			{store.ListMediaParams{Location: "金庫"}, []string{a.ID}},
			{store.ListMediaParams{Location: "safe a"}, []string{}},
			{store.ListMediaParams{Status: store.MediaLent, MediaType: store.OfflineUSB}, []string{d.ID}},
			{store.ListMediaParams{Status: store.MediaAvailable, Location: "safe A"}, []string{c.ID}},
		} {
			page, err := b.s.Media().List(b.ctx, tc.p)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(page.Items, mediaID), "%+v", tc.p)
		}

		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.Media], error) {
			return b.s.Media().List(b.ctx, store.ListMediaParams{PageParams: p})
		}, func() { b.media(t) }, mediaID)
		require.GreaterOrEqual(t, len(seen), 4)
	})

	t.Run("CountByStatus", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		counts, err := b.s.Media().CountByStatus(b.ctx)
		require.NoError(t, err)
		require.Empty(t, counts)

		b.media(t)
		b.media(t)
		b.media(t, func(m *store.Media) { m.Status = store.MediaLent })
		retired := b.media(t, func(m *store.Media) { m.Status = store.MediaRetired })
		counts, err = b.s.Media().CountByStatus(b.ctx)
		require.NoError(t, err)
		require.Equal(t, map[store.MediaStatus]int{
			store.MediaAvailable: 2,
			store.MediaLent:      1,
			store.MediaRetired:   1,
		}, counts)

		retired.Status = store.MediaAvailable
		require.NoError(t, b.s.Media().Update(b.ctx, retired))
		counts, err = b.s.Media().CountByStatus(b.ctx)
		require.NoError(t, err)
		require.Equal(t, map[store.MediaStatus]int{store.MediaAvailable: 3, store.MediaLent: 1}, counts)
	})

	t.Run("RollbackLeavesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		m := newMedia()
		boom := errors.New("boom")
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			require.NoError(t, tx.Media().Create(ctx, m))
			require.NoError(t, tx.MediaEvents().Create(ctx, newMediaEvent(m.ID)))
			got, err := tx.Media().GetByLabel(ctx, m.Label)
			require.NoError(t, err, "the transaction sees its own write")
			require.Equal(t, m.ID, got.ID)
			return boom
		})
		require.ErrorIs(t, err, boom)
		_, err = b.s.Media().Get(b.ctx, m.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		events, err := b.s.MediaEvents().List(b.ctx, store.ListMediaEventsParams{})
		require.NoError(t, err)
		require.Empty(t, events.Items)
		// The label is free again.
		require.NoError(t, b.s.Media().Create(b.ctx, &store.Media{
			Label: m.Label, MediaType: store.OfflineTape, Location: "safe A", Status: store.MediaAvailable,
		}))
	})
}

func testMediaEvents(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateAndList", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		actor := b.user(t)
		m := b.media(t)
		e := newMediaEvent(m.ID)
		e.Kind = store.MediaEventRotated
		e.FromLocation = "東京本社 金庫B"
		e.ToLocation = "大阪データセンター"
		e.ActorID = &actor.ID
		e.At = someTime()
		e.Note = "週次ローテーション。封印番号 0042 を確認済み。"
		require.NoError(t, b.s.MediaEvents().Create(b.ctx, e))
		require.NotEmpty(t, e.ID)
		require.Equal(t, norm(someTime()), e.At)

		page, err := b.s.MediaEvents().List(b.ctx, store.ListMediaEventsParams{MediaID: m.ID})
		require.NoError(t, err)
		require.Equal(t, []store.MediaEvent{*e}, page.Items)
		require.Equal(t, time.UTC, page.Items[0].At.Location())

		dup := *e
		requireConflict(t, b.s.MediaEvents().Create(b.ctx, &dup), "")
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		m := b.media(t)
		for field, mod := range map[string]func(*store.MediaEvent){
			"media_id":      func(e *store.MediaEvent) { e.MediaID = "" },
			"kind":          func(e *store.MediaEvent) { e.Kind = "stolen" },
			"from_location": func(e *store.MediaEvent) { e.FromLocation = strings.Repeat("棚", store.MaxShortTextLen+1) },
			"to_location":   func(e *store.MediaEvent) { e.ToLocation = strings.Repeat("棚", store.MaxShortTextLen+1) },
			"at":            func(e *store.MediaEvent) { e.At = time.Time{} },
			"note":          func(e *store.MediaEvent) { e.Note = strings.Repeat("注", store.MaxTextLen+1) },
		} {
			e := newMediaEvent(m.ID)
			mod(e)
			requireValidation(t, b.s.MediaEvents().Create(b.ctx, e), field)
		}
		fits := b.mediaEvent(t, m.ID, func(e *store.MediaEvent) {
			e.ToLocation = strings.Repeat("棚", store.MaxShortTextLen)
			e.Note = strings.Repeat("注", store.MaxTextLen)
		})
		page, err := b.s.MediaEvents().List(b.ctx, store.ListMediaEventsParams{})
		require.NoError(t, err)
		require.Equal(t, []store.MediaEvent{*fits}, page.Items, "only the valid event was stored")
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		require.ErrorIs(t, b.s.MediaEvents().Create(b.ctx, newMediaEvent(store.NewID())), store.ErrForeignKey)

		m := b.media(t)
		e := newMediaEvent(m.ID)
		e.ActorID = ptr(store.NewID())
		require.ErrorIs(t, b.s.MediaEvents().Create(b.ctx, e), store.ErrForeignKey)

		actor := b.user(t)
		kept := b.mediaEvent(t, m.ID, func(e *store.MediaEvent) { e.ActorID = &actor.ID })
		require.NoError(t, b.s.Users().Delete(b.ctx, actor.ID))
		page, err := b.s.MediaEvents().List(b.ctx, store.ListMediaEventsParams{MediaID: m.ID})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		require.Equal(t, kept.ID, page.Items[0].ID)
		require.Nil(t, page.Items[0].ActorID, "the custody record outlives its actor")
	})

	t.Run("ListNewestFirstWithFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		m1, m2 := b.media(t), b.media(t)
		base := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
		at := func(h int) func(*store.MediaEvent) {
			return func(e *store.MediaEvent) { e.At = base.Add(time.Duration(h) * time.Hour) }
		}
		kind := func(k store.MediaEventKind) func(*store.MediaEvent) {
			return func(e *store.MediaEvent) { e.Kind = k }
		}
		e1 := b.mediaEvent(t, m1.ID, at(1), kind(store.MediaEventRegistered))
		e2 := b.mediaEvent(t, m1.ID, at(5), kind(store.MediaEventLent))
		e3 := b.mediaEvent(t, m2.ID, at(3), kind(store.MediaEventLent))
		e4 := b.mediaEvent(t, m2.ID, at(5), kind(store.MediaEventReturned)) // same time as e2
		e5 := b.mediaEvent(t, m1.ID, at(9), kind(store.MediaEventWritten))
		eventID := func(e store.MediaEvent) string { return e.ID }

		all, err := b.s.MediaEvents().List(b.ctx, store.ListMediaEventsParams{})
		require.NoError(t, err)
		// Ties on at are broken by id, newest (largest) first.
		tie := []string{e2.ID, e4.ID}
		slices.SortFunc(tie, func(x, y string) int { return cmp.Compare(y, x) })
		require.Equal(t, []string{e5.ID, tie[0], tie[1], e3.ID, e1.ID}, ids(all.Items, eventID))

		for name, tc := range map[string]struct {
			p    store.ListMediaEventsParams
			want []string
		}{
			"media": {store.ListMediaEventsParams{MediaID: m1.ID}, []string{e5.ID, e2.ID, e1.ID}},
			"kind":  {store.ListMediaEventsParams{Kind: store.MediaEventLent}, []string{e2.ID, e3.ID}},
			"media and kind": {
				store.ListMediaEventsParams{MediaID: m2.ID, Kind: store.MediaEventLent}, []string{e3.ID},
			},
			"from inclusive, to exclusive": {
				store.ListMediaEventsParams{At: store.TimeRange{From: base.Add(3 * time.Hour), To: base.Add(9 * time.Hour)}},
				[]string{tie[0], tie[1], e3.ID},
			},
			"from only": {
				store.ListMediaEventsParams{At: store.TimeRange{From: base.Add(5*time.Hour + time.Microsecond)}},
				[]string{e5.ID},
			},
			"to only, in another zone": {
				store.ListMediaEventsParams{At: store.TimeRange{To: base.Add(3 * time.Hour).In(tokyo)}},
				[]string{e1.ID},
			},
			"no match": {store.ListMediaEventsParams{Kind: store.MediaEventRetired}, []string{}},
		} {
			page, err := b.s.MediaEvents().List(b.ctx, tc.p)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(page.Items, eventID), name)
		}

		next := 10
		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.MediaEvent], error) {
			return b.s.MediaEvents().List(b.ctx, store.ListMediaEventsParams{PageParams: p})
		}, func() {
			next++
			b.mediaEvent(t, m2.ID, at(next))
		}, eventID)
		require.GreaterOrEqual(t, len(seen), 5)
	})
}

func testLendings(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetReturn", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		borrower := b.user(t)
		m := b.media(t)
		l := newLending(m.ID, borrower.ID)
		l.Purpose = "監査のためのリストア検証"
		l.Notes = "総務部 山田さんへ手渡し"
		l.LentAt = someTime()
		l.DueOn = store.Date{Year: 2026, Month: time.April, Day: 5}
		l.CreatedAt = someTime().Add(time.Second)
		require.NoError(t, b.s.Lendings().Create(b.ctx, l))
		require.NotEmpty(t, l.ID)
		require.Equal(t, norm(someTime()), l.LentAt)
		require.Equal(t, norm(someTime().Add(time.Second)), l.CreatedAt)
		require.True(t, l.Open())

		got, err := b.s.Lendings().Get(b.ctx, l.ID)
		require.NoError(t, err)
		require.Equal(t, l, got)
		require.Equal(t, time.UTC, got.LentAt.Location())
		open, err := b.s.Lendings().GetOpenByMedia(b.ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, l, open)

		got.DueOn = store.Date{Year: 2026, Month: time.April, Day: 12}
		got.Notes = "期限を一週間延長"
		require.NoError(t, b.s.Lendings().Update(b.ctx, got))
		extended, err := b.s.Lendings().Get(b.ctx, l.ID)
		require.NoError(t, err)
		require.Equal(t, got, extended)
		require.True(t, extended.Open())

		back := someTime().Add(48*time.Hour + 999)
		extended.ReturnedAt = &back
		extended.ReturnCondition = store.ReturnDamaged
		require.NoError(t, b.s.Lendings().Update(b.ctx, extended))
		require.Equal(t, norm(back), *extended.ReturnedAt)
		closed, err := b.s.Lendings().Get(b.ctx, l.ID)
		require.NoError(t, err)
		require.Equal(t, extended, closed)
		require.False(t, closed.Open())
		_, err = b.s.Lendings().GetOpenByMedia(b.ctx, m.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "a returned lending is not open")

		_, err = b.s.Lendings().Get(b.ctx, store.NewID())
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Lendings().GetOpenByMedia(b.ctx, store.NewID())
		require.ErrorIs(t, err, store.ErrNotFound)
		missing := newLending(m.ID, borrower.ID)
		missing.ID = store.NewID()
		require.ErrorIs(t, b.s.Lendings().Update(b.ctx, missing), store.ErrNotFound)
	})

	t.Run("OneOpenLendingPerMedium", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		m, other := b.media(t), b.media(t)
		first := b.lending(t, m.ID, u.ID)

		requireConflict(t, b.s.Lendings().Create(b.ctx, newLending(m.ID, u.ID)), "media_id")
		b.lending(t, other.ID, u.ID) // another medium is not affected
		// A lending recorded as already returned does not compete.
		history := b.lending(t, m.ID, u.ID, func(l *store.Lending) { markReturned(l, store.ReturnNormal) })

		markReturned(first, store.ReturnNormal)
		require.NoError(t, b.s.Lendings().Update(b.ctx, first))
		second := b.lending(t, m.ID, u.ID, func(l *store.Lending) { l.LentAt = l.LentAt.Add(72 * time.Hour) })
		open, err := b.s.Lendings().GetOpenByMedia(b.ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, second, open)

		// Reopening a returned lending while another is open is a conflict too.
		first.ReturnedAt, first.ReturnCondition = nil, ""
		requireConflict(t, b.s.Lendings().Update(b.ctx, first), "media_id")
		history.ReturnedAt, history.ReturnCondition = nil, ""
		requireConflict(t, b.s.Lendings().Update(b.ctx, history), "media_id")
		stored, err := b.s.Lendings().Get(b.ctx, first.ID)
		require.NoError(t, err)
		require.False(t, stored.Open(), "the refused update changed nothing")
	})

	t.Run("ConcurrentLendsOfOneMediumHaveOneWinner", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		m := b.media(t)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = b.s.Lendings().Create(b.ctx, newLending(m.ID, u.ID))
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			requireConflict(t, err, "media_id")
		}
		require.Equal(t, 1, won)
		page, err := b.s.Lendings().List(b.ctx, store.ListLendingsParams{MediaID: m.ID})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		m := b.media(t)
		for field, mod := range map[string]func(*store.Lending){
			"media_id":         func(l *store.Lending) { l.MediaID = "" },
			"borrower_id":      func(l *store.Lending) { l.BorrowerID = "" },
			"purpose":          func(l *store.Lending) { l.Purpose = strings.Repeat("目", store.MaxShortTextLen+1) },
			"lent_at":          func(l *store.Lending) { l.LentAt = time.Time{} },
			"due_on":           func(l *store.Lending) { l.DueOn = store.Date{} },
			"notes":            func(l *store.Lending) { l.Notes = strings.Repeat("注", store.MaxTextLen+1) },
			"return_condition": func(l *store.Lending) { l.ReturnCondition = store.ReturnNormal },
			"returned_at": func(l *store.Lending) {
				l.ReturnedAt = ptr(l.LentAt.Add(-time.Second))
				l.ReturnCondition = store.ReturnNormal
			},
		} {
			l := newLending(m.ID, u.ID)
			mod(l)
			requireValidation(t, b.s.Lendings().Create(b.ctx, l), field)
		}
		noCondition := newLending(m.ID, u.ID)
		noCondition.ReturnedAt = ptr(noCondition.LentAt.Add(time.Hour))
		requireValidation(t, b.s.Lendings().Create(b.ctx, noCondition), "return_condition")

		fits := b.lending(t, m.ID, u.ID, func(l *store.Lending) {
			l.Purpose = strings.Repeat("目", store.MaxShortTextLen)
			l.Notes = strings.Repeat("注", store.MaxTextLen)
		})
		got, err := b.s.Lendings().Get(b.ctx, fits.ID)
		require.NoError(t, err)
		require.Equal(t, fits, got)

		fits.ReturnCondition = "misplaced"
		fits.ReturnedAt = ptr(fits.LentAt.Add(time.Hour))
		requireValidation(t, b.s.Lendings().Update(b.ctx, fits), "return_condition")
		still, err := b.s.Lendings().Get(b.ctx, fits.ID)
		require.NoError(t, err)
		require.True(t, still.Open())
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		m := b.media(t)
		require.ErrorIs(t, b.s.Lendings().Create(b.ctx, newLending(store.NewID(), u.ID)), store.ErrForeignKey)
		require.ErrorIs(t, b.s.Lendings().Create(b.ctx, newLending(m.ID, store.NewID())), store.ErrForeignKey)

		l := b.lending(t, m.ID, u.ID)
		l.BorrowerID = store.NewID()
		require.ErrorIs(t, b.s.Lendings().Update(b.ctx, l), store.ErrForeignKey)

		require.ErrorIs(t, b.s.Users().Delete(b.ctx, u.ID), store.ErrForeignKey, "a borrower with lendings cannot be deleted")
		_, err := b.s.Users().Get(b.ctx, u.ID)
		require.NoError(t, err)
	})

	t.Run("ListFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		alice, bob := b.user(t), b.user(t)
		m1, m2, m3, m4 := b.media(t), b.media(t), b.media(t), b.media(t)
		day := func(d int) store.Date { return store.Date{Year: 2026, Month: time.November, Day: d} }
		lent := func(h int, due int) func(*store.Lending) {
			return func(l *store.Lending) {
				l.LentAt = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h) * time.Hour)
				l.DueOn = day(due)
			}
		}
		back := func(l *store.Lending) { markReturned(l, store.ReturnNormal) }
		r1 := b.lending(t, m1.ID, alice.ID, lent(1, 5), back) // returned, was due long ago
		o1 := b.lending(t, m1.ID, bob.ID, lent(10, 8))        // open, overdue on the 10th
		o2 := b.lending(t, m2.ID, alice.ID, lent(20, 10))     // open, due on the 10th: not yet overdue
		o3 := b.lending(t, m3.ID, alice.ID, lent(20, 20))     // open, same lent_at as o2
		r2 := b.lending(t, m4.ID, bob.ID, lent(30, 9), back)  // returned
		o4 := b.lending(t, m4.ID, alice.ID, lent(40, 3))      // open, overdue
		lendingID := func(l store.Lending) string { return l.ID }

		all, err := b.s.Lendings().List(b.ctx, store.ListLendingsParams{})
		require.NoError(t, err)
		tie := []string{o2.ID, o3.ID}
		slices.SortFunc(tie, func(x, y string) int { return cmp.Compare(y, x) })
		require.Equal(t, []string{o4.ID, r2.ID, tie[0], tie[1], o1.ID, r1.ID}, ids(all.Items, lendingID),
			"newest first, ties by id")
		require.Equal(t, *o4, all.Items[0])

		for name, tc := range map[string]struct {
			p    store.ListLendingsParams
			want []string
		}{
			"media":    {store.ListLendingsParams{MediaID: m1.ID}, []string{o1.ID, r1.ID}},
			"borrower": {store.ListLendingsParams{BorrowerID: bob.ID}, []string{r2.ID, o1.ID}},
			"open":     {store.ListLendingsParams{Open: ptr(true)}, []string{o4.ID, tie[0], tie[1], o1.ID}},
			"returned": {store.ListLendingsParams{Open: ptr(false)}, []string{r2.ID, r1.ID}},
			"overdue":  {store.ListLendingsParams{DueBefore: ptr(day(10))}, []string{o4.ID, o1.ID}},
			"overdue for a borrower": {
				store.ListLendingsParams{DueBefore: ptr(day(10)), BorrowerID: alice.ID}, []string{o4.ID},
			},
			"returned and overdue": {store.ListLendingsParams{DueBefore: ptr(day(30)), Open: ptr(false)}, []string{}},
			"open for a medium":    {store.ListLendingsParams{MediaID: m4.ID, Open: ptr(true)}, []string{o4.ID}},
			"nothing overdue yet":  {store.ListLendingsParams{DueBefore: ptr(day(3))}, []string{}},
		} {
			page, err := b.s.Lendings().List(b.ctx, tc.p)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(page.Items, lendingID), name)
		}

		next := 40
		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.Lending], error) {
			return b.s.Lendings().List(b.ctx, store.ListLendingsParams{PageParams: p})
		}, func() {
			next++
			b.lending(t, b.media(t).ID, bob.ID, lent(next, 28))
		}, lendingID)
		require.GreaterOrEqual(t, len(seen), 6)
	})

	t.Run("RollbackFreesTheMedium", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		m := b.media(t)
		boom := errors.New("boom")
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			require.NoError(t, tx.Lendings().Create(ctx, newLending(m.ID, u.ID)))
			m.Status = store.MediaLent
			require.NoError(t, tx.Media().Update(ctx, m))
			return boom
		})
		require.ErrorIs(t, err, boom)
		_, err = b.s.Lendings().GetOpenByMedia(b.ctx, m.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		got, err := b.s.Media().Get(b.ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, store.MediaAvailable, got.Status)
		b.lending(t, m.ID, u.ID)
	})
}

func testRotationPlans(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		m1, m2, m3 := b.media(t), b.media(t), b.media(t)
		p := newRotationPlan()
		p.Name = "週次 GFS ローテーション " + uniq()
		p.Scheme = store.SchemeTowerOfHanoi
		p.MediaIDs = []string{m3.ID, m1.ID, m2.ID}
		p.StartOn = &store.Date{Year: 2026, Month: time.November, Day: 3}
		p.NextRotationOn = &store.Date{Year: 2026, Month: time.December, Day: 1}
		p.LastRotationOn = &store.Date{Year: 2026, Month: time.November, Day: 24}
		p.CreatedAt = someTime()
		require.NoError(t, b.s.RotationPlans().Create(b.ctx, p))
		require.NotEmpty(t, p.ID)
		require.Equal(t, norm(someTime()), p.CreatedAt)

		got, err := b.s.RotationPlans().Get(b.ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, p, got)
		require.Equal(t, []string{m3.ID, m1.ID, m2.ID}, got.MediaIDs, "rotation order is kept")

		got.MediaIDs = []string{m2.ID, m3.ID}
		got.Scheme = store.SchemeRoundRobin
		got.Cycle = store.CycleMonthly
		got.LastRotationOn = got.NextRotationOn
		got.NextRotationOn = &store.Date{Year: 2027, Month: time.January, Day: 1}
		got.StartOn = &store.Date{Year: 2024, Month: time.February, Day: 29}
		got.Active = false
		require.NoError(t, b.s.RotationPlans().Update(b.ctx, got))
		again, err := b.s.RotationPlans().Get(b.ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)

		again.StartOn, again.NextRotationOn, again.LastRotationOn = nil, nil, nil
		again.MediaIDs = []string{}
		require.NoError(t, b.s.RotationPlans().Update(b.ctx, again))
		require.Nil(t, again.MediaIDs, "an empty media list is stored as none")
		cleared, err := b.s.RotationPlans().Get(b.ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, again, cleared)

		require.NoError(t, b.s.RotationPlans().Delete(b.ctx, p.ID))
		_, err = b.s.RotationPlans().Get(b.ctx, p.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.RotationPlans().Delete(b.ctx, p.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.RotationPlans().Update(b.ctx, cleared), store.ErrNotFound)
	})

	t.Run("PlanWithoutMediaOrDates", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		p := b.rotationPlan(t)
		require.Nil(t, p.MediaIDs)
		got, err := b.s.RotationPlans().Get(b.ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, p, got)
		require.Nil(t, got.StartOn)
		require.Nil(t, got.NextRotationOn)
		require.Nil(t, got.LastRotationOn)
	})

	t.Run("NamesAreUniqueIgnoringCase", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		p := b.rotationPlan(t, func(p *store.RotationPlan) { p.Name = "Weekly-Tapes" })
		dup := newRotationPlan()
		dup.Name = "WEEKLY-tapes"
		requireConflict(t, b.s.RotationPlans().Create(b.ctx, dup), "name")

		other := b.rotationPlan(t)
		other.Name = "weekly-TAPES"
		requireConflict(t, b.s.RotationPlans().Update(b.ctx, other), "name")
		p.Name = "WEEKLY-TAPES"
		require.NoError(t, b.s.RotationPlans().Update(b.ctx, p), "renaming to another case of its own name")
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for field, mod := range map[string]func(*store.RotationPlan){
			"name":      func(p *store.RotationPlan) { p.Name = " " },
			"scheme":    func(p *store.RotationPlan) { p.Scheme = "fifo" },
			"cycle":     func(p *store.RotationPlan) { p.Cycle = "hourly" },
			"media_ids": func(p *store.RotationPlan) { p.MediaIDs = make([]string, 1001) },
		} {
			p := newRotationPlan()
			mod(p)
			requireValidation(t, b.s.RotationPlans().Create(b.ctx, p), field)
			ok := b.rotationPlan(t)
			mod(ok)
			requireValidation(t, b.s.RotationPlans().Update(b.ctx, ok), field)
		}
		long := newRotationPlan()
		long.Name = strings200("週") + "x"
		requireValidation(t, b.s.RotationPlans().Create(b.ctx, long), "name")

		big := b.rotationPlan(t, func(p *store.RotationPlan) {
			p.Name = strings200("週")
			p.MediaIDs = make([]string, 1000)
			for i := range p.MediaIDs {
				p.MediaIDs[i] = store.NewID()
			}
		})
		got, err := b.s.RotationPlans().Get(b.ctx, big.ID)
		require.NoError(t, err)
		require.Equal(t, big, got, "1000 media and a 200-character name fit")
	})

	t.Run("ListFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := uniq()
		c := b.rotationPlan(t, func(p *store.RotationPlan) { p.Name = "c-" + u })
		a := b.rotationPlan(t, func(p *store.RotationPlan) { p.Name = "A-" + u; p.Active = false })
		bb := b.rotationPlan(t, func(p *store.RotationPlan) { p.Name = "b-" + u })
		planID := func(p store.RotationPlan) string { return p.ID }

		all, err := b.s.RotationPlans().List(b.ctx, store.ListRotationPlansParams{})
		require.NoError(t, err)
		require.Equal(t, []string{a.ID, bb.ID, c.ID}, ids(all.Items, planID), "ordered by name ignoring case")
		require.Equal(t, *a, all.Items[0])

		active, err := b.s.RotationPlans().List(b.ctx, store.ListRotationPlansParams{Active: ptr(true)})
		require.NoError(t, err)
		require.Equal(t, []string{bb.ID, c.ID}, ids(active.Items, planID))
		inactive, err := b.s.RotationPlans().List(b.ctx, store.ListRotationPlansParams{Active: ptr(false)})
		require.NoError(t, err)
		require.Equal(t, []string{a.ID}, ids(inactive.Items, planID))

		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.RotationPlan], error) {
			return b.s.RotationPlans().List(b.ctx, store.ListRotationPlansParams{PageParams: p})
		}, func() { b.rotationPlan(t) }, planID)
		require.GreaterOrEqual(t, len(seen), 3)
	})
}
