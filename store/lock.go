package store

import "context"

// AdvisoryLocker is an optional capability of a Store: a named lock shared
// by every process on the same database, so that one replica of many runs
// a piece of background work (the deadline tick, the dispatcher's sweep)
// at a time (DESIGN §10). Callers find it by type assertion on the Store
// (s.(store.AdvisoryLocker)); without it, run the work as if the lock were
// always taken, which is right for a single process. Decorators should
// forward it.
type AdvisoryLocker interface {
	// TryAdvisoryLock takes the lock called name without waiting. ok is
	// false when another holder has it. Taken, it is held until release is
	// called (once; later calls do nothing) or until the holder's database
	// connection ends, so a crashed process frees its locks; a caller that
	// holds a lock for long should take it again for each round of work
	// rather than trust it forever. The lock is not reentrant: a second
	// call with the same name fails even in the process that holds it.
	TryAdvisoryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}
