package backupmgmt

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// custody returns the medium's events oldest first as "kind from>to @actor".
func (b *testBundle) custody(t *testing.T, mediaID string, users map[string]string) []string {
	t.Helper()
	page, err := b.svc.Media().Events(t.Context(), store.ListMediaEventsParams{MediaID: mediaID, PageParams: store.PageParams{Limit: store.LimitMax}})
	require.NoError(t, err)
	out := make([]string, len(page.Items))
	for i, e := range page.Items {
		actor := "system"
		if e.ActorID != nil {
			actor = users[*e.ActorID]
		}
		out[len(out)-1-i] = string(e.Kind) + " " + e.FromLocation + ">" + e.ToLocation + " @" + actor
	}
	return out
}

func (b *testBundle) mediaStatus(t *testing.T, id string) store.MediaStatus {
	t.Helper()
	m, err := b.svc.Media().Get(t.Context(), id)
	require.NoError(t, err)
	return m.Status
}

// mediaFixtures registers n media labelled prefix-1 … prefix-n.
func (b *testBundle) mediaFixtures(t *testing.T, prefix string, n int) []*store.Media {
	t.Helper()
	out := make([]*store.Media, n)
	for i := range out {
		m, err := b.svc.Media().Register(t.Context(), MediaParams{
			Label: fmt.Sprintf("%s-%d", prefix, i+1), MediaType: store.OfflineTape, Location: "vault",
		})
		require.NoError(t, err)
		out[i] = m
	}
	return out
}

func TestMedia(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("LendReturnMoveWriteRetireKeepTheChainOfCustody", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			alice := b.userFixture(t, "alice", store.RoleOperator)
			bob := b.userFixture(t, "bob", store.RoleViewer)
			users := map[string]string{alice.ID: "alice", bob.ID: "bob"}
			actx, bctx := actorCtx(t.Context(), alice), actorCtx(t.Context(), bob)
			md := b.svc.Media()
			due := b.svc.Today().AddDays(7)

			m, err := md.Register(actx, MediaParams{Label: "LTO-0001", MediaType: store.OfflineTape, CapacityBytes: 12e12, Location: "server room", OwnerID: alice.ID})
			require.NoError(t, err)
			require.Equal(t, store.MediaAvailable, m.Status)
			got, err := md.GetByLabel(t.Context(), "lto-0001")
			require.NoError(t, err)
			require.Equal(t, m.ID, got.ID)

			_, err = md.Return(actx, m.ID, ReturnParams{})
			require.ErrorIs(t, err, ErrMediaNotLent)

			l, err := md.Lend(actx, m.ID, LendParams{BorrowerID: bob.ID, Purpose: "restore drill", DueOn: due})
			require.NoError(t, err)
			require.True(t, l.Open())
			require.Equal(t, store.MediaLent, b.mediaStatus(t, m.ID))
			_, err = md.Lend(actx, m.ID, LendParams{BorrowerID: alice.ID, DueOn: due})
			require.ErrorIs(t, err, ErrMediaNotLendable)
			require.ErrorContains(t, err, "is lent")
			_, err = md.Retire(actx, m.ID, "old")
			require.ErrorIs(t, err, ErrMediaLent)
			_, err = md.Move(actx, m.ID, MoveParams{ToLocation: "vault"})
			require.ErrorIs(t, err, ErrMediaLent)

			b.clock.Advance(time.Hour)
			back, err := md.Return(bctx, m.ID, ReturnParams{Condition: store.ReturnNormal, Notes: "all fine"})
			require.NoError(t, err)
			require.Equal(t, l.ID, back.ID)
			require.Equal(t, store.ReturnNormal, back.ReturnCondition)
			require.Equal(t, b.svc.Now(), *back.ReturnedAt)
			require.Equal(t, store.MediaAvailable, b.mediaStatus(t, m.ID))
			_, err = md.Return(bctx, m.ID, ReturnParams{})
			require.ErrorIs(t, err, ErrMediaNotLent)

			// lent from offsite storage, it goes back to offsite storage
			moved, err := md.Move(actx, m.ID, MoveParams{ToLocation: "iron mountain", Offsite: true, Note: "weekly courier"})
			require.NoError(t, err)
			require.Equal(t, store.MediaStoredOffsite, moved.Status)
			_, err = md.Lend(actx, m.ID, LendParams{BorrowerID: bob.ID, DueOn: due})
			require.NoError(t, err)
			_, err = md.Return(actx, m.ID, ReturnParams{Condition: store.ReturnDamaged, Notes: "cracked case"})
			require.NoError(t, err)
			got, err = md.Get(t.Context(), m.ID)
			require.NoError(t, err)
			require.Equal(t, store.MediaStoredOffsite, got.Status)
			require.Contains(t, got.Notes, "damaged on return 2026-11-02: cracked case")

			// written, it is in use and cannot be lent until it is put away
			b.clock.Advance(time.Hour)
			written, err := md.RecordWrite(actx, m.ID, time.Time{})
			require.NoError(t, err)
			require.Equal(t, store.MediaInUse, written.Status)
			require.Equal(t, b.svc.Now(), *written.LastWrittenAt)
			_, err = md.Lend(actx, m.ID, LendParams{BorrowerID: bob.ID, DueOn: due})
			require.ErrorIs(t, err, ErrMediaNotLendable)
			require.ErrorContains(t, err, "in_use")
			moved, err = md.Move(actx, m.ID, MoveParams{ToLocation: "shelf 3"})
			require.NoError(t, err)
			require.Equal(t, store.MediaAvailable, moved.Status)

			retired, err := md.Retire(actx, m.ID, "end of life")
			require.NoError(t, err)
			require.Equal(t, store.MediaRetired, retired.Status)
			_, err = md.Lend(actx, m.ID, LendParams{BorrowerID: bob.ID, DueOn: due})
			require.ErrorIs(t, err, ErrMediaNotLendable)
			_, err = md.RecordWrite(actx, m.ID, time.Time{})
			require.ErrorIs(t, err, ErrMediaRetired)
			_, err = md.Retire(actx, m.ID, "again")
			require.ErrorIs(t, err, ErrMediaRetired)

			require.Equal(t, []string{
				"registered >server room @alice",
				"lent server room> @alice",
				"returned >server room @bob",
				"moved server room>iron mountain @alice",
				"lent iron mountain> @alice",
				"returned >iron mountain @alice",
				"written iron mountain>iron mountain @alice",
				"moved iron mountain>shelf 3 @alice",
				"retired shelf 3> @alice",
			}, b.custody(t, m.ID, users))

			lendings, err := md.Lendings(t.Context(), store.ListLendingsParams{MediaID: m.ID})
			require.NoError(t, err)
			require.Len(t, lendings.Items, 2)
			for _, l := range lendings.Items {
				require.False(t, l.Open())
			}

			require.Equal(t, []string{
				"media.register", "media.lend", "media.return", "media.move", "media.lend", "media.return",
				"media.write", "media.move", "media.retire",
			}, b.auditActions(t))
		})

		t.Run("OverdueLendingRaisedByTheTickAndResolvedOnReturn", func(t *testing.T) {
			t.Parallel()
			tokyo, err := time.LoadLocation("Asia/Tokyo")
			require.NoError(t, err)
			b := setup(t, kind, &Config{Location: tokyo})
			ctx := actorCtx(t.Context(), b.userFixture(t, "ops", store.RoleOperator))
			carol := b.userFixture(t, "carol", store.RoleOperator)
			md := b.svc.Media()
			m := b.mediaFixtures(t, "hdd", 2)
			_, err = md.Lend(ctx, m[0].ID, LendParams{BorrowerID: carol.ID, Purpose: "audit restore", DueOn: b.svc.Today()})
			require.NoError(t, err)
			_, err = md.Lend(ctx, m[1].ID, LendParams{BorrowerID: carol.ID, DueOn: b.svc.Today().AddDays(1)})
			require.NoError(t, err)

			n, err := md.TickLendingOverdue(t.Context())
			require.NoError(t, err)
			require.Zero(t, n, "due today is not overdue")

			// 15:00 UTC is the next day in Tokyo
			b.clock.Set(time.Date(2026, time.November, 2, 15, 0, 0, 0, time.UTC))
			n, err = md.TickLendingOverdue(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, n)
			a := b.unresolved(t, store.AlertMediaLendingOverdue, mediaSubject(m[0].ID))
			require.NotNil(t, a)
			require.Equal(t, store.SeverityWarning, a.Severity)
			require.Equal(t, m[0].ID, *a.MediaID)
			require.Contains(t, a.Title, "hdd-1")
			require.Contains(t, a.Title, "carol")
			require.Contains(t, a.Message, "audit restore")
			require.Nil(t, b.unresolved(t, store.AlertMediaLendingOverdue, mediaSubject(m[1].ID)))

			_, err = md.Return(ctx, m[0].ID, ReturnParams{})
			require.NoError(t, err)
			got, err := b.svc.Alerts().Get(t.Context(), a.ID)
			require.NoError(t, err)
			require.Equal(t, store.AlertResolved, got.State)
			n, err = md.TickLendingOverdue(t.Context())
			require.NoError(t, err)
			require.Zero(t, n)
		})

		t.Run("ConcurrentLendsLendOnce", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ops := b.userFixture(t, "ops", store.RoleOperator)
			ctx := actorCtx(t.Context(), ops)
			m := b.mediaFixtures(t, "rdx", 1)[0]
			const n = 8
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					_, err := b.svc.Media().Lend(ctx, m.ID, LendParams{BorrowerID: ops.ID, DueOn: b.svc.Today()})
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			lent := 0
			for err := range errs {
				if err == nil {
					lent++
					continue
				}
				require.ErrorIs(t, err, ErrMediaNotLendable)
			}
			require.Equal(t, 1, lent)
			open := true
			page, err := b.svc.Media().Lendings(t.Context(), store.ListLendingsParams{MediaID: m.ID, Open: &open})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			events, err := b.svc.Media().Events(t.Context(), store.ListMediaEventsParams{MediaID: m.ID, Kind: store.MediaEventLent})
			require.NoError(t, err)
			require.Len(t, events.Items, 1)
		})

		t.Run("ALostMediumIsRetired", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ops := b.userFixture(t, "ops", store.RoleOperator)
			ctx := actorCtx(t.Context(), ops)
			md := b.svc.Media()
			m := b.mediaFixtures(t, "usb", 1)[0]
			_, err := md.Lend(ctx, m.ID, LendParams{BorrowerID: ops.ID, DueOn: b.svc.Today()})
			require.NoError(t, err)
			l, err := md.Return(ctx, m.ID, ReturnParams{Condition: store.ReturnLost, Notes: "left on a train"})
			require.NoError(t, err)
			require.Equal(t, store.ReturnLost, l.ReturnCondition)
			require.Equal(t, store.MediaRetired, b.mediaStatus(t, m.ID))
			require.Equal(t, []string{"registered >vault @system", "lent vault> @ops", "returned >vault @ops", "retired vault> @ops"},
				b.custody(t, m.ID, map[string]string{ops.ID: "ops"}))
			_, err = md.Lend(ctx, m.ID, LendParams{BorrowerID: ops.ID, DueOn: b.svc.Today()})
			require.ErrorIs(t, err, ErrMediaNotLendable)
			require.ErrorContains(t, err, "retired")
		})

		t.Run("RejectsBadInputNamingFieldsAndWritesNothing", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ops := b.userFixture(t, "ops", store.RoleOperator)
			gone := b.userFixture(t, "gone", store.RoleOperator)
			gone.Active = false
			require.NoError(t, b.store.Users().Update(t.Context(), gone))
			ctx := actorCtx(t.Context(), ops)
			md := b.svc.Media()
			m := b.mediaFixtures(t, "cart", 1)[0]
			before := b.auditActions(t)

			fieldOf := func(err error) map[string]string {
				t.Helper()
				var ve *store.ValidationError
				require.ErrorAs(t, err, &ve)
				return ve.Fields
			}
			_, err := md.Register(ctx, MediaParams{Label: " padded ", MediaType: "floppy", CapacityBytes: -1})
			require.Contains(t, fieldOf(err), "label")
			require.Contains(t, fieldOf(err), "media_type")
			require.Contains(t, fieldOf(err), "capacity_bytes")
			_, err = md.Register(ctx, MediaParams{Label: "X-1", MediaType: store.OfflineTape, OwnerID: "nobody"})
			require.Contains(t, fieldOf(err), "owner_id")
			_, err = md.Register(ctx, MediaParams{Label: "CART-1", MediaType: store.OfflineTape})
			require.ErrorIs(t, err, store.ErrConflict, "labels are unique ignoring case")

			for _, tc := range []struct {
				p     LendParams
				field string
			}{
				{LendParams{BorrowerID: ops.ID, DueOn: b.svc.Today().AddDays(-1)}, "due_on"},
				{LendParams{BorrowerID: ops.ID}, "due_on"},
				{LendParams{BorrowerID: "nobody", DueOn: b.svc.Today()}, "borrower_id"},
				{LendParams{BorrowerID: gone.ID, DueOn: b.svc.Today()}, "borrower_id"},
				{LendParams{BorrowerID: ops.ID, DueOn: b.svc.Today(), Purpose: strings.Repeat("p", store.MaxShortTextLen+1)}, "purpose"},
			} {
				_, err := md.Lend(ctx, m.ID, tc.p)
				require.Contains(t, fieldOf(err), tc.field, "%+v", tc.p)
			}
			_, err = md.Move(ctx, m.ID, MoveParams{ToLocation: " "})
			require.Contains(t, fieldOf(err), "to_location")
			_, err = md.Move(ctx, m.ID, MoveParams{ToLocation: strings.Repeat("x", store.MaxShortTextLen+1)})
			require.Contains(t, fieldOf(err), "to_location")
			_, err = md.Move(ctx, m.ID, MoveParams{ToLocation: "vault 2", Note: strings.Repeat("n", store.MaxTextLen+1)})
			require.Contains(t, fieldOf(err), "note")
			_, err = md.RecordWrite(ctx, m.ID, b.svc.Now().Add(time.Hour))
			require.Contains(t, fieldOf(err), "at")
			_, err = md.Update(ctx, m.ID, MediaUpdate{CapacityBytes: new(int64(-5))})
			require.Contains(t, fieldOf(err), "capacity_bytes")
			_, err = md.Move(ctx, "no-such-medium", MoveParams{ToLocation: "vault"})
			require.ErrorIs(t, err, store.ErrNotFound)

			got, err := md.Get(t.Context(), m.ID)
			require.NoError(t, err)
			require.Equal(t, m, got, "unchanged")
			require.Len(t, b.custody(t, m.ID, nil), 1)
			require.Equal(t, before, b.auditActions(t))

			// a valid update changes inventory fields only, without a custody event
			updated, err := md.Update(ctx, m.ID, MediaUpdate{Label: new("CART-0001"), Notes: new("spare")})
			require.NoError(t, err)
			require.Equal(t, "CART-0001", updated.Label)
			require.Equal(t, "vault", updated.Location)
			require.Len(t, b.custody(t, m.ID, nil), 1)
			actions := b.auditActions(t)
			require.Equal(t, "media.update", actions[len(actions)-1])
		})
	})
}
