package cache_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

// TestMain drops the pooled test databases and fails if a cache left a
// cleanup goroutine running.
func TestMain(m *testing.M) {
	code := bunstoretest.Main(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
