package backupmgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// auditNow is the time of the first event of most tests.
var auditNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func auditEntry(i int) AuditEntry {
	return AuditEntry{
		Actor:        "user:0190a000-0000-7000-8000-000000000001",
		Action:       "job.update",
		ResourceType: "job",
		ResourceID:   fmt.Sprintf("job-%d", i),
		Result:       store.AuditSuccess,
		IP:           "192.0.2.7",
		RequestID:    fmt.Sprintf("req-%d", i),
		Details:      map[string]any{"n": i, "field": "grace", "to": "2h"},
	}
}

// auditAppendN appends n events an hour apart, event i at auditNow+i h.
func auditAppendN(t *testing.T, repos store.Repos, n int) []*store.AuditEvent {
	t.Helper()
	out := make([]*store.AuditEvent, 0, n)
	for i := 1; i <= n; i++ {
		ev, err := AppendAudit(t.Context(), repos, auditNow.Add(time.Duration(i)*time.Hour), auditEntry(i))
		require.NoError(t, err)
		out = append(out, ev)
	}
	return out
}

func auditVerify(t *testing.T, s store.AuditStore) AuditVerification {
	t.Helper()
	v, err := VerifyAudit(t.Context(), s, 7) // a batch size that splits the chain unevenly
	require.NoError(t, err)
	return v
}

func auditExec(t *testing.T, s *bunstore.Store, query string, args ...any) {
	t.Helper()
	res, err := s.DB().ExecContext(t.Context(), query, args...)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
}

func auditAllSeqs(t *testing.T, s store.AuditStore) []int64 {
	t.Helper()
	events, err := s.Range(t.Context(), 0, 10000)
	require.NoError(t, err)
	seqs := make([]int64, len(events))
	for i := range events {
		seqs[i] = events[i].Seq
	}
	return seqs
}

func auditSeq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestAuditCanonical(t *testing.T) {
	t.Parallel()

	t.Run("HasTheDocumentedForm", func(t *testing.T) {
		t.Parallel()
		details, err := auditDetails(map[string]any{"to": "<2h>", "from": json.Number("1.50"), "list": []any{true, nil, "a\"b"}})
		require.NoError(t, err)
		e := &store.AuditEvent{
			Seq: 42, At: auditNow, Actor: "system", Action: "settings.put", ResourceType: "setting",
			ResourceID: "compliance.policy", Result: store.AuditDenied, IP: "2001:db8::1", RequestID: "r1",
			Details: details, PrevHash: "ab",
		}
		require.Equal(t, `{"seq":42,"at":"2026-11-30T12:00:00.000000Z","actor":"system","action":"settings.put",`+
			`"resource_type":"setting","resource_id":"compliance.policy","result":"denied","ip":"2001:db8::1",`+
			`"request_id":"r1","details":{"from":1.50,"list":[true,null,"a\"b"],"to":"<2h>"},"prev_hash":"ab"}`,
			string(auditCanonical(e)))
	})

	t.Run("WritesEveryTimeInFixedWidthUTC", func(t *testing.T) {
		t.Parallel()
		tokyo := time.FixedZone("JST", 9*3600)
		for _, at := range []time.Time{
			time.Date(2026, 11, 30, 21, 0, 0, 0, tokyo),
			time.Date(2026, 11, 30, 12, 0, 0, 120000, time.UTC),
		} {
			c := string(auditCanonical(&store.AuditEvent{Seq: 1, At: store.NormalizeTime(at)}))
			require.Contains(t, c, `"at":"2026-11-30T12:00:00.000`)
			require.Regexp(t, `"at":"2026-11-30T12:00:00\.\d{6}Z"`, c)
		}
	})

	t.Run("IsTheSameForMapStructAndRawDetailsInAnyKeyOrder", func(t *testing.T) {
		t.Parallel()
		type inner struct {
			Y int `json:"y"`
			X int `json:"x"`
		}
		type shape struct {
			Zeta  string `json:"zeta"`
			Alpha inner  `json:"alpha"`
			Mid   []int  `json:"mid"`
		}
		inputs := []any{
			shape{Zeta: "z", Alpha: inner{Y: 2, X: 1}, Mid: []int{3, 1}},
			map[string]any{"alpha": map[string]any{"x": 1, "y": 2}, "mid": []int{3, 1}, "zeta": "z"},
			map[string]any{"zeta": "z", "mid": []any{3, 1}, "alpha": map[string]int{"y": 2, "x": 1}},
			json.RawMessage(" {\n \"mid\": [3, 1], \"zeta\": \"z\", \"alpha\": {\"y\": 2, \"x\": 1}}"),
		}
		var want []byte
		for i, in := range inputs {
			details, err := auditDetails(in)
			require.NoError(t, err)
			require.Equal(t, `{"alpha":{"x":1,"y":2},"mid":[3,1],"zeta":"z"}`, string(details), "input %d", i)
			c := auditCanonical(&store.AuditEvent{Seq: 3, At: auditNow, Actor: "system", Details: details})
			if want == nil {
				want = c
			}
			require.Equal(t, string(want), string(c), "input %d", i)
			// Stored details are re-encoded, so reformatted text hashes the same.
			require.Equal(t, string(want), string(auditCanonical(&store.AuditEvent{
				Seq: 3, At: auditNow, Actor: "system", Details: json.RawMessage(`{ "zeta":"z","mid":[3,1],"alpha":{"y":2,"x":1} }`),
			})))
		}
	})

	t.Run("TreatsNoDetailsAsNull", func(t *testing.T) {
		t.Parallel()
		for _, in := range []any{nil, map[string]any(nil), (*struct{})(nil), json.RawMessage("null")} {
			details, err := auditDetails(in)
			require.NoError(t, err)
			require.Nil(t, details)
		}
		require.Contains(t, string(auditCanonical(&store.AuditEvent{Seq: 1})), `"details":null`)
	})

	t.Run("RejectsDetailsThatAreNotAnObject", func(t *testing.T) {
		t.Parallel()
		for _, in := range []any{"text", 3, []int{1}} {
			_, err := auditDetails(in)
			require.ErrorContains(t, err, "must be a JSON object")
		}
		_, err := auditDetails(func() {})
		require.Error(t, err)
	})

	t.Run("ChangesWithEveryField", func(t *testing.T) {
		t.Parallel()
		base := store.AuditEvent{Seq: 5, At: auditNow, Actor: "a", Action: "b", ResourceType: "c", ResourceID: "d",
			Result: store.AuditSuccess, IP: "e", RequestID: "f", Details: json.RawMessage(`{"g":1}`), PrevHash: "h"}
		seen := map[string]bool{auditHash(&base): true}
		for _, change := range []func(e *store.AuditEvent){
			func(e *store.AuditEvent) { e.Seq = 6 },
			func(e *store.AuditEvent) { e.At = e.At.Add(time.Microsecond) },
			func(e *store.AuditEvent) { e.Actor = "x" },
			func(e *store.AuditEvent) { e.Action = "x" },
			func(e *store.AuditEvent) { e.ResourceType = "x" },
			func(e *store.AuditEvent) { e.ResourceID = "x" },
			func(e *store.AuditEvent) { e.Result = store.AuditFailed },
			func(e *store.AuditEvent) { e.IP = "x" },
			func(e *store.AuditEvent) { e.RequestID = "x" },
			func(e *store.AuditEvent) { e.Details = json.RawMessage(`{"g":1.0}`) },
			func(e *store.AuditEvent) { e.Details = nil },
			func(e *store.AuditEvent) { e.PrevHash = "i" },
		} {
			e := base
			change(&e)
			h := auditHash(&e)
			require.False(t, seen[h], "a changed event hashes like another")
			seen[h] = true
		}
	})
}

// auditLyingRepos wraps a Repos (and the Repos of its savepoints) so that
// the audit Head calls run beforeHead first; it lets a test put a competing
// writer between AppendAudit's read of the head and its append.
type auditLyingRepos struct {
	store.Repos
	beforeHead func(ctx context.Context, real store.AuditStore) (*store.AuditEvent, error, bool)
}

func (r auditLyingRepos) Audit() store.AuditStore {
	return auditLyingAudit{AuditStore: r.Repos.Audit(), beforeHead: r.beforeHead}
}

func (r auditLyingRepos) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	return r.Repos.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
		return fn(ctx, auditLyingRepos{Repos: tx, beforeHead: r.beforeHead})
	})
}

type auditLyingAudit struct {
	store.AuditStore
	beforeHead func(ctx context.Context, real store.AuditStore) (*store.AuditEvent, error, bool)
}

func (a auditLyingAudit) Head(ctx context.Context) (*store.AuditEvent, error) {
	if e, err, ok := a.beforeHead(ctx, a.AuditStore); ok {
		return e, err
	}
	return a.AuditStore.Head(ctx)
}

func TestAppendAudit(t *testing.T) {
	t.Parallel()

	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()

			t.Run("ChainsFiftyEventsThatVerify", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				events := auditAppendN(t, s, 50)
				require.Equal(t, int64(1), events[0].Seq)
				require.Empty(t, events[0].PrevHash)
				for i := 1; i < len(events); i++ {
					require.Equal(t, int64(i+1), events[i].Seq)
					require.Equal(t, events[i-1].Hash, events[i].PrevHash)
				}
				stored, err := s.Audit().Get(t.Context(), 50)
				require.NoError(t, err)
				require.Equal(t, events[49].Hash, stored.Hash)
				require.JSONEq(t, `{"n":50,"field":"grace","to":"2h"}`, string(stored.Details))
				require.Equal(t, AuditVerification{Checked: 50, FirstSeq: 1, LastSeq: 50, OK: true}, auditVerify(t, s.Audit()))
			})

			t.Run("VerifiesAnEmptyLog", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				v, err := VerifyAudit(t.Context(), s.Audit(), 0)
				require.NoError(t, err)
				require.Equal(t, AuditVerification{OK: true}, v)
			})

			t.Run("ReportsTamperedDetails", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				auditAppendN(t, s, 12)
				auditExec(t, s, "UPDATE audit_events SET details = ? WHERE seq = ?", `{"field":"grace","n":7,"to":"0s"}`, 7)
				require.Equal(t, AuditVerification{
					Checked: 6, FirstSeq: 1, LastSeq: 6, BrokenAt: 7,
					Reason: "event 7: hash does not match its contents",
				}, auditVerify(t, s.Audit()))
			})

			t.Run("ReportsATamperedEventWhoseHashWasRecomputed", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				auditAppendN(t, s, 12)
				e, err := s.Audit().Get(t.Context(), 7)
				require.NoError(t, err)
				e.Actor = "user:someone-else"
				auditExec(t, s, "UPDATE audit_events SET actor = ?, hash = ? WHERE seq = ?", e.Actor, auditHash(e), 7)
				v := auditVerify(t, s.Audit())
				require.False(t, v.OK)
				require.Equal(t, int64(8), v.BrokenAt)
				require.Equal(t, "event 8: prev_hash does not match event 7", v.Reason)
			})

			t.Run("ReportsATamperedPrevHash", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				events := auditAppendN(t, s, 12)
				auditExec(t, s, "UPDATE audit_events SET prev_hash = ? WHERE seq = ?", events[2].Hash, 9)
				v := auditVerify(t, s.Audit())
				require.Equal(t, AuditVerification{
					Checked: 8, FirstSeq: 1, LastSeq: 8, BrokenAt: 9,
					Reason: "event 9: prev_hash does not match event 8",
				}, v)
			})

			t.Run("ReportsADeletedEvent", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				auditAppendN(t, s, 30)
				auditExec(t, s, "DELETE FROM audit_events WHERE seq = ?", 20)
				require.Equal(t, AuditVerification{
					Checked: 19, FirstSeq: 1, LastSeq: 19, BrokenAt: 20,
					Reason: "event 21 follows 19: event 20 is missing",
				}, auditVerify(t, s.Audit()))
			})

			t.Run("ReportsAFirstEventWithAPrevHash", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				events := auditAppendN(t, s, 3)
				e, err := s.Audit().Get(t.Context(), 1)
				require.NoError(t, err)
				e.PrevHash = events[2].Hash
				auditExec(t, s, "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?", e.PrevHash, auditHash(e), 1)
				v := auditVerify(t, s.Audit())
				require.Equal(t, int64(1), v.BrokenAt)
				require.Equal(t, "event 1: prev_hash must be empty", v.Reason)
			})

			t.Run("VerifiesAfterRetentionFromTheAnchor", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				events := auditAppendN(t, s, 50)
				n, err := s.Audit().DeleteBefore(t.Context(), events[10].At)
				require.NoError(t, err)
				require.Equal(t, int64(10), n)
				require.Equal(t, AuditVerification{
					Checked: 40, FirstSeq: 11, LastSeq: 50, Anchor: events[9].Hash, OK: true,
				}, auditVerify(t, s.Audit()))
			})

			t.Run("NeverForksUnderConcurrentWriters", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				auditConcurrently(t, []store.Store{s}, 8, 25)
				require.Equal(t, auditSeq(1, 200), auditAllSeqs(t, s.Audit()))
				require.Equal(t, AuditVerification{Checked: 200, FirstSeq: 1, LastSeq: 200, OK: true}, auditVerify(t, s.Audit()))
			})

			t.Run("NeverForksUnderWritersInSeveralProcesses", func(t *testing.T) {
				t.Parallel()
				dsn := bunstoretest.DSN(t, kind)
				stores := make([]store.Store, 4)
				for i := range stores {
					s, err := dbopen.OpenStore(t.Context(), dsn, nil)
					require.NoError(t, err)
					t.Cleanup(func() { _ = s.Close() })
					if i == 0 {
						_, err := bunstore.Migrate(t.Context(), s.DB())
						require.NoError(t, err)
					}
					stores[i] = s
				}
				auditConcurrently(t, stores, 2, 25)
				require.Equal(t, auditSeq(1, 200), auditAllSeqs(t, stores[3].Audit()))
				require.Equal(t, AuditVerification{Checked: 200, FirstSeq: 1, LastSeq: 200, OK: true}, auditVerify(t, stores[2].Audit()))
			})

			t.Run("WritesNothingWhenTheTransactionRollsBack", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				auditAppendN(t, s, 2)
				errAbort := errors.New("abort")
				err := s.InTx(t.Context(), func(ctx context.Context, tx store.Repos) error {
					ev, err := AppendAudit(ctx, tx, auditNow, auditEntry(3))
					require.NoError(t, err)
					require.Equal(t, int64(3), ev.Seq)
					return errAbort
				})
				require.ErrorIs(t, err, errAbort)
				require.Equal(t, auditSeq(1, 2), auditAllSeqs(t, s.Audit()))
				ev, err := AppendAudit(t.Context(), s, auditNow, auditEntry(3))
				require.NoError(t, err)
				require.Equal(t, int64(3), ev.Seq)
				require.True(t, auditVerify(t, s.Audit()).OK)
			})

			t.Run("RetriesInATransactionThatStaysUsable", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				auditAppendN(t, s, 1)
				heads := 0
				err := s.InTx(t.Context(), func(ctx context.Context, tx store.Repos) error {
					// The first head read says the log is empty, so the
					// first append takes seq 1, which is taken: on
					// PostgreSQL that failed INSERT aborts the transaction
					// unless it ran in a savepoint.
					lying := auditLyingRepos{Repos: tx, beforeHead: func(context.Context, store.AuditStore) (*store.AuditEvent, error, bool) {
						heads++
						return nil, store.ErrNotFound, heads == 1
					}}
					ev, err := AppendAudit(ctx, lying, auditNow, auditEntry(2))
					require.NoError(t, err)
					require.Equal(t, int64(2), ev.Seq)
					ev, err = AppendAudit(ctx, tx, auditNow, auditEntry(3))
					require.NoError(t, err)
					require.Equal(t, int64(3), ev.Seq)
					return nil
				})
				require.NoError(t, err)
				require.Equal(t, 2, heads)
				require.Equal(t, AuditVerification{Checked: 3, FirstSeq: 1, LastSeq: 3, OK: true}, auditVerify(t, s.Audit()))
			})

			// Not on SQLite: a transaction holds the only write connection
			// there, so no other writer can commit during it.
			if kind != dbopen.SQLite {
				t.Run("RetriesInATransactionAfterAnotherWriterCommits", func(t *testing.T) {
					t.Parallel()
					s := bunstoretest.New(t, kind, nil)
					auditAppendN(t, s, 1)
					heads := 0
					err := s.InTx(t.Context(), func(ctx context.Context, tx store.Repos) error {
						// A write and a read before the append fix a MySQL
						// REPEATABLE READ snapshot at one event, one that
						// rolling back to a savepoint does not refresh. Then,
						// between AppendAudit's head read and its append,
						// another connection appends event 2 and commits.
						require.NoError(t, tx.Settings().Put(ctx, &store.Setting{Key: "audit.test", Value: json.RawMessage(`{}`)}))
						_, err := tx.Audit().Head(ctx)
						require.NoError(t, err)
						lying := auditLyingRepos{Repos: tx, beforeHead: func(ctx context.Context, real store.AuditStore) (*store.AuditEvent, error, bool) {
							heads++
							if heads > 1 {
								return nil, nil, false
							}
							head, err := real.Head(ctx)
							require.NoError(t, err)
							other, err := AppendAudit(t.Context(), s, auditNow, auditEntry(2))
							require.NoError(t, err)
							require.Equal(t, int64(2), other.Seq)
							return head, nil, true
						}}
						ev, err := AppendAudit(ctx, lying, auditNow, auditEntry(3))
						require.NoError(t, err)
						require.Equal(t, int64(3), ev.Seq)
						return nil
					})
					require.NoError(t, err)
					require.Equal(t, 2, heads)
					require.Equal(t, AuditVerification{Checked: 3, FirstSeq: 1, LastSeq: 3, OK: true}, auditVerify(t, s.Audit()))
				})
			}
		})
	}
}

// auditConcurrently runs perStore goroutines on each store, each appending
// n events.
func auditConcurrently(t *testing.T, stores []store.Store, perStore, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*perStore*n)
	for si, s := range stores {
		for g := range perStore {
			wg.Go(func() {
				for i := range n {
					if _, err := AppendAudit(t.Context(), s, auditNow, auditEntry(si*1000+g*100+i)); err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestAppendAuditRejectsInvalidEvents(t *testing.T) {
	t.Parallel()
	s := bunstoretest.New(t, dbopen.SQLite, nil)
	_, err := AppendAudit(t.Context(), s, auditNow, AuditEntry{Action: "x", Result: store.AuditSuccess})
	var verr *store.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Contains(t, verr.Fields, "actor")
	_, err = AppendAudit(t.Context(), s, auditNow, AuditEntry{Actor: "system", Action: "x", Result: store.AuditSuccess, Details: []int{1}})
	require.ErrorContains(t, err, "must be a JSON object")
	require.Empty(t, auditAllSeqs(t, s.Audit()))
}
