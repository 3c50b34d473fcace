package main

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

// TestMain drops the pooled PostgreSQL and MySQL test databases that
// bunstoretest.New made, and fails if serve left a goroutine running.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		// The test binary started as a refserver process (crash_test.go).
		main()
		return
	}
	code := bunstoretest.Main(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
