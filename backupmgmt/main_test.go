package backupmgmt

import (
	"os"
	"testing"

	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

func TestMain(m *testing.M) { os.Exit(bunstoretest.Main(m)) }
