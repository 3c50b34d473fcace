package bunstore

// The lock keys, for the lock tests to find the holder of a lock on the
// server and end its connection as a crash would.
var (
	PGLockKey    = pgLockKey
	MySQLLockKey = mysqlLockKey
)
