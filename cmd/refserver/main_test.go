package main

import (
	"os"
	"testing"

	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

// TestMain drops the pooled PostgreSQL and MySQL test databases that
// bunstoretest.New made.
func TestMain(m *testing.M) { os.Exit(bunstoretest.Main(m)) }
