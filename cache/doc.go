// Package cache puts read-through caches in front of a store.Store.
//
// New wraps any store.Store. Reads outside transactions are kept in
// ttlcache/v3 caches with absolute TTLs (a hit does not extend them) and a
// bounded number of entries each; every value is copied on the way out, so
// a caller may change what it got; concurrent misses of one key share one
// load; errors are never cached.
//
// # Freshness
//
// A write through the cache is seen by every later read on the same
// process. Each named cache has a generation counter; an entry records the
// generation read before its load started and is served only while that
// is still current. Every write bumps the generation of each cache whose
// data it may change (a delete, which may cascade, bumps all of them), and
// so does a write whose outcome is unknown (an error that is not a refused
// input, a missing row or a conflict). InTx bumps every generation after a
// commit. Loads are shared only within one generation, so a read that
// starts after a write never gets a value loaded before it. Writes made
// elsewhere, by another replica, show once the TTL has passed.
//
// # What is cached
//
// Stats reports the caches by these names (Names), which metrics use
// as labels:
//
//	jobs          JobStore Get, GetByName, GetByPingToken, GetMany, List, CountByState   job TTL (300 s)
//	copies        CopyStore Get, ListByJob, ListByJobs                                  job TTL
//	assets        AssetStore reads                                                      job TTL
//	executions    ExecutionStore Get, List                                              job TTL
//	verification  VerificationTestStore and VerificationScheduleStore reads             job TTL
//	media         MediaStore, MediaEventStore, LendingStore, RotationPlanStore reads    job TTL
//	compliance    ComplianceStore reads: states, counts, history                        compliance TTL (1800 s)
//	reports       ReportStore Get, List (not GetContent)                                report TTL (600 s)
//	rollups       RollupStore Get, List                                                 report TTL
//	dashboard     store.DashboardCounter                                                dashboard TTL (60 s)
//
// Not cached: users, sessions, API keys, settings, the audit log, alerts,
// channels and notifications (revocation and alert state must show at
// once; their writes still drop the cached data they affect); report
// content (up to 15 MiB); JobStore.ListDue, ExecutionStore.GetByRunID,
// CountByStatus and SumSizeBytes (the scheduler and ingest need rows as
// stored; time ranges that move with the clock would rarely hit); the
// compliance sweep's readers (store.ComplianceInputReader,
// store.AssetComplianceInputReader, store.DueComplianceReader); and every
// read inside a transaction: InTx passes the wrapped store's Repos to fn
// unchanged.
//
// # Capabilities
//
// The value New returns, and the repositories it hands out, implement
// exactly the optional capabilities of the store they wrap (the interfaces
// of package store that callers find by type assertion), so callers keep
// their fast paths. Go cannot add methods at run time: caps_gen.go, written
// by internal/capgen, has one type per subset of capabilities, and New
// picks the one that matches. TestForwardsCapabilities fails when
// bunstore gains a method the cache does not forward.
//
// Close stops the cache's cleanup goroutine and closes the wrapped store.
package cache
