package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var (
	_ = register("Audit", testAudit)
	_ = register("Settings", testSettings)
)

// newAuditEvent returns the event that follows prev in the chain (prev nil:
// the first event).
func newAuditEvent(prev *store.AuditEvent) *store.AuditEvent {
	e := &store.AuditEvent{
		Seq:          1,
		At:           time.Date(2026, 11, 6, 9, 0, 0, 0, time.UTC),
		Actor:        "system",
		Action:       "job.create",
		ResourceType: "job",
		ResourceID:   store.NewID(),
		Result:       store.AuditSuccess,
		IP:           "198.51.100.7",
		RequestID:    "req-" + uniq(),
		Details:      json.RawMessage(`{"name":"nightly"}`),
	}
	if prev != nil {
		e.Seq = prev.Seq + 1
		e.PrevHash = prev.Hash
		e.At = prev.At.Add(time.Second)
	}
	sum := sha256.Sum256([]byte(e.PrevHash + strconv.FormatInt(e.Seq, 10) + e.Action + e.RequestID))
	e.Hash = hex.EncodeToString(sum[:])
	return e
}

// appendAudit appends n events after the current head and returns them.
func (b *bundle) appendAudit(t *testing.T, n int, mod ...func(i int, e *store.AuditEvent)) []*store.AuditEvent {
	t.Helper()
	prev, err := b.s.Audit().Head(b.ctx)
	if errors.Is(err, store.ErrNotFound) {
		prev, err = nil, nil
	}
	require.NoError(t, err)
	out := make([]*store.AuditEvent, 0, n)
	for i := range n {
		e := newAuditEvent(prev)
		for _, m := range mod {
			m(i, e)
		}
		require.NoError(t, b.s.Audit().Append(b.ctx, e))
		out = append(out, e)
		prev = e
	}
	return out
}

func auditSeqs[T *store.AuditEvent | store.AuditEvent](events []T) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		switch e := any(e).(type) {
		case *store.AuditEvent:
			out[i] = e.Seq
		case store.AuditEvent:
			out[i] = e.Seq
		}
	}
	return out
}

func testAudit(t *testing.T, newStore NewStoreFunc) {
	t.Run("AppendGetHead", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		_, err := b.s.Audit().Head(b.ctx)
		require.ErrorIs(t, err, store.ErrNotFound, "an empty log has no head")

		first := newAuditEvent(nil)
		first.At = someTime()
		first.Actor = "user:" + store.NewID()
		first.Action = "auth.login"
		require.NoError(t, b.s.Audit().Append(b.ctx, first))
		require.Equal(t, norm(someTime()), first.At, "the caller's struct holds the stored form")
		got, err := b.s.Audit().Get(b.ctx, 1)
		require.NoError(t, err)
		require.Equal(t, first, got)
		require.Equal(t, time.UTC, got.At.Location())
		head, err := b.s.Audit().Head(b.ctx)
		require.NoError(t, err)
		require.Equal(t, first, head)

		second := newAuditEvent(first)
		second.Details = nil
		second.Result = store.AuditDenied
		second.ResourceType, second.ResourceID, second.IP, second.RequestID = "", "", "", ""
		require.NoError(t, b.s.Audit().Append(b.ctx, second))
		head, err = b.s.Audit().Head(b.ctx)
		require.NoError(t, err)
		require.Equal(t, second, head, "the head is the highest seq")
		require.Nil(t, head.Details, "no details come back as none")

		_, err = b.s.Audit().Get(b.ctx, 3)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("DetailsRoundTripAsJSONText", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		e := newAuditEvent(nil)
		e.Details = json.RawMessage(`{"理由": "定期点検", "対象": ["テープ-01", "テープ-02"], "count": 2, "nested": {"ok": true}}`)
		require.NoError(t, b.s.Audit().Append(b.ctx, e))
		got, err := b.s.Audit().Get(b.ctx, e.Seq)
		require.NoError(t, err)
		require.Equal(t, string(e.Details), string(got.Details), "details come back byte for byte, so hashes over them hold")
		var v map[string]any
		require.NoError(t, json.Unmarshal(got.Details, &v))
		require.Equal(t, "定期点検", v["理由"])
	})

	t.Run("ATakenSeqConflicts", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		first := b.appendAudit(t, 1)[0]
		fork := newAuditEvent(nil)
		fork.Action = "job.delete"
		requireConflict(t, b.s.Audit().Append(b.ctx, fork), "seq")
		got, err := b.s.Audit().Get(b.ctx, 1)
		require.NoError(t, err)
		require.Equal(t, first, got, "the first writer's event stays")
	})

	t.Run("ConcurrentAppendersNeverForkTheChain", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		const writers, each = 8, 5
		var (
			mu   sync.Mutex
			wins = map[int64]int{}
			errs []error
			wg   sync.WaitGroup
		)
		for w := range writers {
			wg.Go(func() {
				for done, tries := 0, 0; done < each; tries++ {
					if tries == 100*writers*each {
						mu.Lock()
						errs = append(errs, errors.New("no progress: every append conflicts"))
						mu.Unlock()
						return
					}
					head, err := b.s.Audit().Head(b.ctx)
					if errors.Is(err, store.ErrNotFound) {
						head, err = nil, nil
					}
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					e := newAuditEvent(head)
					e.Actor = "user:writer-" + strconv.Itoa(w)
					err = b.s.Audit().Append(b.ctx, e)
					if errors.Is(err, store.ErrConflict) {
						continue // lost the race: re-read the head
					}
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else {
						wins[e.Seq]++
					}
					mu.Unlock()
					if err != nil {
						return
					}
					done++
				}
			})
		}
		wg.Wait()
		require.Empty(t, errs)
		require.Len(t, wins, writers*each)
		for seq, n := range wins {
			require.Equal(t, 1, n, "seq %d was won %d times", seq, n)
		}

		chain, err := b.s.Audit().Range(b.ctx, 0, 1000)
		require.NoError(t, err)
		require.Len(t, chain, writers*each)
		for i, e := range chain {
			require.Equal(t, int64(i+1), e.Seq, "no gaps")
			if i == 0 {
				require.Empty(t, e.PrevHash)
			} else {
				require.Equal(t, chain[i-1].Hash, e.PrevHash, "event %d links to event %d", e.Seq, chain[i-1].Seq)
			}
		}
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for field, mod := range map[string]func(*store.AuditEvent){
			"seq":         func(e *store.AuditEvent) { e.Seq = 0 },
			"at":          func(e *store.AuditEvent) { e.At = time.Time{} },
			"actor":       func(e *store.AuditEvent) { e.Actor = "" },
			"action":      func(e *store.AuditEvent) { e.Action = strings.Repeat("a", 101) },
			"resource_id": func(e *store.AuditEvent) { e.ResourceID = strings.Repeat("資", store.MaxNameLen+1) },
			"result":      func(e *store.AuditEvent) { e.Result = "maybe" },
			"details":     func(e *store.AuditEvent) { e.Details = json.RawMessage(`{"open":`) },
			"hash":        func(e *store.AuditEvent) { e.Hash = "abc" },
			"prev_hash":   func(e *store.AuditEvent) { e.PrevHash = "abc" },
		} {
			e := newAuditEvent(nil)
			mod(e)
			requireValidation(t, b.s.Audit().Append(b.ctx, e), field)
		}
		_, err := b.s.Audit().Head(b.ctx)
		require.ErrorIs(t, err, store.ErrNotFound, "nothing was written")

		fits := newAuditEvent(nil)
		fits.ResourceID = strings.Repeat("資", store.MaxNameLen)
		require.NoError(t, b.s.Audit().Append(b.ctx, fits))
		got, err := b.s.Audit().Get(b.ctx, fits.Seq)
		require.NoError(t, err)
		require.Equal(t, fits, got)
	})

	t.Run("ListFiltersNewestFirstAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		base := time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC)
		alice, bob := "user:alice", "apikey:bob"
		events := b.appendAudit(t, 8, func(i int, e *store.AuditEvent) {
			e.At = base.Add(time.Duration(i) * time.Hour)
			e.Actor = alice
			if i%2 == 1 {
				e.Actor = bob
			}
			e.Action = "job.update"
			if i%3 == 0 {
				e.Action = "media.lend"
				e.ResourceType = "media"
			}
			e.ResourceID = "res-" + strconv.Itoa(i%4)
			if i == 5 {
				e.Result = store.AuditDenied
			}
		})
		seqs := func(p store.ListAuditParams) []int64 {
			t.Helper()
			page, err := b.s.Audit().List(b.ctx, p)
			require.NoError(t, err)
			return auditSeqs(page.Items)
		}

		page, err := b.s.Audit().List(b.ctx, store.ListAuditParams{})
		require.NoError(t, err)
		require.Equal(t, []int64{8, 7, 6, 5, 4, 3, 2, 1}, auditSeqs(page.Items), "newest first")
		require.Equal(t, *events[7], page.Items[0])

		require.Equal(t, []int64{7, 5, 3, 1}, seqs(store.ListAuditParams{Actor: alice}))
		require.Equal(t, []int64{8, 6, 4, 2}, seqs(store.ListAuditParams{Actor: bob}))
		require.Equal(t, []int64{7, 4, 1}, seqs(store.ListAuditParams{Action: "media.lend"}))
		require.Equal(t, []int64{7, 4, 1}, seqs(store.ListAuditParams{ResourceType: "media"}))
		require.Equal(t, []int64{6, 2}, seqs(store.ListAuditParams{ResourceID: "res-1"}))
		require.Equal(t, []int64{6}, seqs(store.ListAuditParams{Result: store.AuditDenied}))
		require.Equal(t, []int64{5, 3}, seqs(store.ListAuditParams{Actor: alice, ResourceType: "job"}))
		require.Empty(t, seqs(store.ListAuditParams{Actor: "user:nobody"}))
		require.Equal(t, []int64{5, 4, 3}, seqs(store.ListAuditParams{At: store.TimeRange{
			From: base.Add(2 * time.Hour).In(tokyo), // inclusive
			To:   base.Add(5 * time.Hour).In(tokyo), // exclusive
		}}))
		require.Equal(t, []int64{8, 7}, seqs(store.ListAuditParams{At: store.TimeRange{From: base.Add(6 * time.Hour)}}))
		require.Equal(t, []int64{1}, seqs(store.ListAuditParams{At: store.TimeRange{To: base.Add(time.Hour)}}))
		require.Equal(t, []int64{4}, seqs(store.ListAuditParams{Actor: bob, Action: "media.lend", At: store.TimeRange{From: base.Add(time.Hour)}}))

		seen := paginate(t, 3, func(p store.PageParams) (*store.Page[store.AuditEvent], error) {
			return b.s.Audit().List(b.ctx, store.ListAuditParams{PageParams: p})
		}, func() { b.appendAudit(t, 1) }, func(e store.AuditEvent) string { return strconv.FormatInt(e.Seq, 10) })
		require.Equal(t, []string{"8", "7", "6", "5", "4", "3", "2", "1"}, seen, "events appended while paging are newer than the cursor")
		filtered := paginate(t, 1, func(p store.PageParams) (*store.Page[store.AuditEvent], error) {
			return b.s.Audit().List(b.ctx, store.ListAuditParams{PageParams: p, Actor: bob})
		}, nil, func(e store.AuditEvent) string { return strconv.FormatInt(e.Seq, 10) })
		require.Equal(t, []string{"8", "6", "4", "2"}, filtered)
	})

	t.Run("RangeWalksTheChainInSeqOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		empty, err := b.s.Audit().Range(b.ctx, 0, 10)
		require.NoError(t, err)
		require.Empty(t, empty)

		events := b.appendAudit(t, 10)
		var walked []int64
		for after := int64(0); ; {
			batch, err := b.s.Audit().Range(b.ctx, after, 4)
			require.NoError(t, err)
			require.LessOrEqual(t, len(batch), 4)
			if len(batch) == 0 {
				break
			}
			walked = append(walked, auditSeqs(batch)...)
			after = batch[len(batch)-1].Seq
		}
		require.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, walked)

		batch, err := b.s.Audit().Range(b.ctx, 6, 2)
		require.NoError(t, err)
		require.Equal(t, []store.AuditEvent{*events[6], *events[7]}, batch)
		_, err = b.s.Audit().Range(b.ctx, 0, 0)
		requireValidation(t, err, "limit")
	})

	t.Run("DeleteBeforeRemovesOlderEventsOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		base := time.Date(2023, 11, 6, 0, 0, 0, 0, time.UTC)
		events := b.appendAudit(t, 5, func(i int, e *store.AuditEvent) {
			e.At = base.Add(time.Duration(i) * 24 * time.Hour)
		})
		n, err := b.s.Audit().DeleteBefore(b.ctx, events[2].At.In(tokyo))
		require.NoError(t, err)
		require.EqualValues(t, 2, n, "events at the cut-off stay")
		left, err := b.s.Audit().Range(b.ctx, 0, 100)
		require.NoError(t, err)
		require.Equal(t, []int64{3, 4, 5}, auditSeqs(left))
		head, err := b.s.Audit().Head(b.ctx)
		require.NoError(t, err)
		require.Equal(t, events[4], head)
		_, err = b.s.Audit().Get(b.ctx, 1)
		require.ErrorIs(t, err, store.ErrNotFound)

		n, err = b.s.Audit().DeleteBefore(b.ctx, base)
		require.NoError(t, err)
		require.Zero(t, n)
		// The chain goes on from the head after retention.
		b.appendAudit(t, 1)
		head, err = b.s.Audit().Head(b.ctx)
		require.NoError(t, err)
		require.EqualValues(t, 6, head.Seq)
		require.Equal(t, events[4].Hash, head.PrevHash)
	})
}

func newSetting(key string) *store.Setting {
	return &store.Setting{
		Key:   key,
		Value: json.RawMessage(`{"min_copies": 2}`),
	}
}

func testSettings(t *testing.T, newStore NewStoreFunc) {
	t.Run("PutGetReplaceDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		_, err := b.s.Settings().Get(b.ctx, "compliance.policy")
		require.ErrorIs(t, err, store.ErrNotFound)

		s := newSetting("compliance.policy")
		s.Value = json.RawMessage(`{"min_copies": 2, "説明": "既定のポリシー", "media": ["disk", "tape"]}`)
		s.UpdatedBy = &u.ID
		s.UpdatedAt = someTime()
		require.NoError(t, b.s.Settings().Put(b.ctx, s))
		require.Equal(t, norm(s.UpdatedAt), s.UpdatedAt, "stored form")
		require.Equal(t, time.UTC, s.UpdatedAt.Location())
		require.False(t, s.UpdatedAt.IsZero(), "updated_at is when the store wrote the value")
		got, err := b.s.Settings().Get(b.ctx, s.Key)
		require.NoError(t, err)
		require.Equal(t, s, got)
		require.Equal(t, string(s.Value), string(got.Value), "the JSON comes back byte for byte")

		replaced := newSetting(s.Key)
		replaced.Value = json.RawMessage(`[1,2,3]`)
		require.NoError(t, b.s.Settings().Put(b.ctx, replaced))
		require.False(t, replaced.UpdatedAt.Before(s.UpdatedAt))
		got, err = b.s.Settings().Get(b.ctx, s.Key)
		require.NoError(t, err)
		require.Equal(t, replaced, got, "put replaces value, updated_by and updated_at")
		require.Nil(t, got.UpdatedBy)
		all, err := b.s.Settings().List(b.ctx)
		require.NoError(t, err)
		require.Equal(t, []store.Setting{*replaced}, all, "a replaced setting is still one setting")

		require.NoError(t, b.s.Settings().Delete(b.ctx, s.Key))
		_, err = b.s.Settings().Get(b.ctx, s.Key)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Settings().Delete(b.ctx, s.Key), store.ErrNotFound)
		all, err = b.s.Settings().List(b.ctx)
		require.NoError(t, err)
		require.Empty(t, all)
	})

	t.Run("KeysAreCaseSensitive", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		// Unlike names of jobs or assets, setting keys are identifiers chosen
		// by code, compared exactly.
		lower := newSetting("sla.target")
		lower.Value = json.RawMessage(`0.95`)
		upper := newSetting("SLA.Target")
		upper.Value = json.RawMessage(`0.99`)
		require.NoError(t, b.s.Settings().Put(b.ctx, lower))
		require.NoError(t, b.s.Settings().Put(b.ctx, upper))
		got, err := b.s.Settings().Get(b.ctx, "sla.target")
		require.NoError(t, err)
		require.JSONEq(t, `0.95`, string(got.Value))
		got, err = b.s.Settings().Get(b.ctx, "SLA.Target")
		require.NoError(t, err)
		require.JSONEq(t, `0.99`, string(got.Value))
		_, err = b.s.Settings().Get(b.ctx, "SLA.TARGET")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Settings().Delete(b.ctx, "Sla.Target"), store.ErrNotFound)
	})

	t.Run("ListIsOrderedByKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for _, k := range []string{"b", "a_b", "a.z", "a", "B", "設定.言語", "a-b"} {
			require.NoError(t, b.s.Settings().Put(b.ctx, newSetting(k)))
		}
		all, err := b.s.Settings().List(b.ctx)
		require.NoError(t, err)
		keys := make([]string, len(all))
		for i, s := range all {
			keys[i] = s.Key
		}
		require.Equal(t, []string{"B", "a", "a-b", "a.z", "a_b", "b", "設定.言語"}, keys, "byte order, on every database")
	})

	t.Run("UpdatedByReferencesAUser", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		missing := newSetting("a.b")
		missing.UpdatedBy = ptr(store.NewID())
		require.ErrorIs(t, b.s.Settings().Put(b.ctx, missing), store.ErrForeignKey)
		_, err := b.s.Settings().Get(b.ctx, "a.b")
		require.ErrorIs(t, err, store.ErrNotFound)

		u := b.user(t)
		s := newSetting("a.b")
		s.UpdatedBy = &u.ID
		require.NoError(t, b.s.Settings().Put(b.ctx, s))
		replace := newSetting("a.b")
		replace.Value = json.RawMessage(`"changed"`)
		replace.UpdatedBy = ptr(store.NewID())
		require.ErrorIs(t, b.s.Settings().Put(b.ctx, replace), store.ErrForeignKey, "also when replacing")
		got, err := b.s.Settings().Get(b.ctx, "a.b")
		require.NoError(t, err)
		require.Equal(t, s, got, "the refused put changed nothing")

		require.NoError(t, b.s.Users().Delete(b.ctx, u.ID))
		got, err = b.s.Settings().Get(b.ctx, "a.b")
		require.NoError(t, err)
		require.Nil(t, got.UpdatedBy, "deleting the user keeps the setting and forgets who wrote it")
		require.Equal(t, string(s.Value), string(got.Value))
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for field, mod := range map[string]func(*store.Setting){
			"key":   func(s *store.Setting) { s.Key = "" },
			"value": func(s *store.Setting) { s.Value = nil },
		} {
			s := newSetting("x.y")
			mod(s)
			requireValidation(t, b.s.Settings().Put(b.ctx, s), field)
		}
		for _, key := range []string{" padded", strings.Repeat("設", store.MaxNameLen+1)} {
			requireValidation(t, b.s.Settings().Put(b.ctx, newSetting(key)), "key")
		}
		bad := newSetting("x.y")
		bad.Value = json.RawMessage(`{"unterminated": `)
		requireValidation(t, b.s.Settings().Put(b.ctx, bad), "value")
		all, err := b.s.Settings().List(b.ctx)
		require.NoError(t, err)
		require.Empty(t, all)

		long := newSetting(strings.Repeat("設", store.MaxNameLen))
		require.NoError(t, b.s.Settings().Put(b.ctx, long), "200 Japanese characters fit")
		got, err := b.s.Settings().Get(b.ctx, long.Key)
		require.NoError(t, err)
		require.Equal(t, long, got)
	})
}
