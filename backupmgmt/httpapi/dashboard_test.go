package httpapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestDashboard(t *testing.T) {
	t.Parallel()

	t.Run("SummaryCountsWhatExists", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAs(t, b, "watcher", store.RoleViewer)
		opsJob(t, b, "erp")
		opsMedium(t, b, "TAPE-1")
		var s DashboardSummary
		opsOK(t, b.do(t, c, "GET", "/api/v1/dashboard/summary", nil), http.StatusOK, &s)
		require.Equal(t, testStart, s.At)
		require.Equal(t, 1, s.JobsTotal)
		require.Len(t, s.Jobs, len(store.JobStateValues()))
		require.Equal(t, 1, s.Media[store.MediaAvailable])
		require.Equal(t, 1, s.Compliance.Jobs[store.ComplianceNonCompliant])
		require.Equal(t, 1, s.AlertsUnacknowledged[store.SeverityError]+s.AlertsUnacknowledged[store.SeverityCritical])
		require.Len(t, s.Trend, 7)
		require.Equal(t, "2026-11-30", s.Trend[6].DayOn.String())
		require.Nil(t, s.Trend[6].SuccessRate)
	})

	t.Run("RefusesQueryParameters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		res := b.do(t, opsAdmin(t, b), "GET", "/api/v1/dashboard/summary?days=30", nil)
		require.Equal(t, http.StatusBadRequest, res.Code)
		require.Contains(t, res.errBody(t).Fields, "days")
		res = b.do(t, anonymous, "GET", "/api/v1/dashboard/summary", nil)
		require.Equal(t, http.StatusUnauthorized, res.Code)
	})
}
