package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGeneratedFileIsCurrent(t *testing.T) {
	t.Parallel()
	want, err := generate()
	require.NoError(t, err)
	got, err := os.ReadFile("../../caps_gen.go")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "run go generate ./cache/")
}
