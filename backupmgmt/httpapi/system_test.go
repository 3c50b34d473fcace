package httpapi

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestProbes(t *testing.T) {
	t.Parallel()

	t.Run("HealthzAnswersWithoutAuthentication", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		res := b.do(t, anonymous, "GET", "/healthz", nil)
		require.Equal(t, http.StatusOK, res.Code)
		require.JSONEq(t, `{"status":"ok"}`, string(res.Body))
	})

	t.Run("ReadyzSaysWhyItIsNotReady", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Ready: func(context.Context) error { return &NotReadyError{Reason: "migrations pending"} }})
		res := b.do(t, anonymous, "GET", "/readyz", nil)
		require.Equal(t, http.StatusServiceUnavailable, res.Code)
		require.JSONEq(t, `{"status":"not_ready","reason":"migrations pending"}`, string(res.Body))
	})

	t.Run("ReadyzHidesTheErrorText", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Ready: func(context.Context) error { return errors.New("dial tcp 10.0.0.1:5432: connection refused") }})
		res := b.do(t, anonymous, "GET", "/readyz", nil)
		require.Equal(t, http.StatusServiceUnavailable, res.Code)
		require.JSONEq(t, `{"status":"not_ready","reason":"database unreachable"}`, string(res.Body))
	})

	t.Run("UnknownPathIsA404InTheEnvelope", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		res := b.do(t, anonymous, "GET", "/api/v1/nothing-here", nil)
		require.Equal(t, http.StatusNotFound, res.Code)
		require.Equal(t, "not_found", res.errBody(t).Code)
	})

	t.Run("WrongMethodIsA405WithAllow", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		res := b.do(t, anonymous, "DELETE", "/healthz", nil)
		require.Equal(t, http.StatusMethodNotAllowed, res.Code)
		require.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
		require.Equal(t, "method_not_allowed", res.errBody(t).Code)
	})
}
