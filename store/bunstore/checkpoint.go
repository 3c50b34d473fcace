package bunstore

import (
	"context"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// checkpointer runs SQLite WAL checkpoints off the write path
// (Config.CheckpointEvery). A nil *checkpointer does nothing.
type checkpointer struct {
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func newCheckpointer(db *bun.DB, every time.Duration) *checkpointer {
	if every <= 0 {
		return nil
	}
	c := &checkpointer{done: make(chan struct{})}
	c.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-c.done:
				return
			case <-t.C:
			}
			// PASSIVE never waits for readers or the writer: it copies what
			// it can and leaves the rest for the next tick. An error (the
			// database closing, say) is the next tick's to retry.
			ctx, cancel := context.WithTimeout(context.Background(), every*10)
			_, _ = db.DB.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			cancel()
		}
	})
	return c
}

// stop ends the checkpoints and waits for the running one.
func (c *checkpointer) stop() {
	if c == nil {
		return
	}
	c.once.Do(func() { close(c.done) })
	c.wg.Wait()
}
