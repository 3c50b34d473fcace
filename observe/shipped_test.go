package observe_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.yaml.in/yaml/v3"

	"github.com/custos-dev/custos/observe"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// exportedNames drives every metric once and returns the names a scrape
// shows, with the _bucket, _sum and _count series of histograms.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := observe.NewMetrics(reg, nil)
	require.NoError(t, err)
	m.ExecutionRecorded("nightly", "success", time.Minute, 1e9)
	m.AlertRaised("warning", "backup_anomaly")
	m.VerificationRecorded("success", time.Minute)
	m.Middleware(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	m.QueryHook().AfterQuery(context.Background(), &bun.QueryEvent{Query: "SELECT 1", StartTime: time.Now()})
	require.NoError(t, m.ObserveCaches(func() []observe.CacheStat { return []observe.CacheStat{{Cache: "jobs"}} }))
	s := bunstoretest.New(t, dbopen.SQLite, nil)
	storeFixture(t, s)
	require.NoError(t, m.ObserveDB(s.DB().DB))
	require.NoError(t, m.ObserveStore(s, &observe.StoreOptions{NowFunc: func() time.Time { return storeNow }}))

	mfs, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{"up": true} // made by Prometheus for every target
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if mf.GetType().String() == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[mf.GetName()+suffix] = true
			}
		}
	}
	return names
}

// promqlKeywords are the identifiers of PromQL that are not metric names
// when no parenthesis follows them.
var promqlKeywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
	"group_left", "group_right", "inf", "nan", "start", "end", "atan2",
	// Aggregations, which may take by (…) before their argument.
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
	"quantile", "limitk", "limit_ratio"}

// labelLists are the keywords whose parenthesised argument is a list of
// label names.
var labelLists = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}

// metricNames returns the metric names a PromQL expression selects. It is a
// small scanner, not a parser: strings, label matchers ({…}) and ranges
// ([…]) are skipped, identifiers before "(" are functions or aggregations,
// and label lists after by, on and the like are skipped.
func metricNames(expr string) []string {
	var out []string
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }
	skipTo := func(i int, open, close byte) int {
		depth := 0
		for ; i < len(expr); i++ {
			switch c := expr[i]; c {
			case '"', '\'', '`':
				j := i + 1
				for j < len(expr) && expr[j] != c {
					if expr[j] == '\\' {
						j++
					}
					j++
				}
				i = j
			case open:
				depth++
			case close:
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '{':
			i = skipTo(i, '{', '}')
		case c == '[':
			i = skipTo(i, '[', ']')
		case '0' <= c && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && expr[k] == ' ' || k < len(expr) && expr[k] == '\n' {
				k++
			}
			paren := k < len(expr) && expr[k] == '('
			switch {
			case paren && slices.Contains(labelLists, strings.ToLower(word)):
				j = skipTo(k, '(', ')')
			case paren, slices.Contains(promqlKeywords, strings.ToLower(word)):
			default:
				out = append(out, word)
			}
			i = j
		default:
			i++
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		expr string
		want []string
	}{
		{`up{job="custos"} == 0`, []string{"up"}},
		{`sum by (instance, le) (rate(a_bucket{x=~"a|b", y="}"}[5m]))`, []string{"a_bucket"}},
		{`(time() - b > 86400) and on (instance, exported_job) c`, []string{"b", "c"}},
		{`x / ignoring(code) group_left(route) y offset 5m > bool 1e6`, []string{"x", "y"}},
		{`topk(10, histogram_quantile(0.95, sum without (le) (rate(d[$__rate_interval]))))`, []string{"d"}},
		{"sum by (cache) (e)\n  /\nmax(f)", []string{"e", "f"}},
	} {
		require.Equal(t, tt.want, metricNames(tt.expr), tt.expr)
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string
		Rules []struct {
			Alert       string
			Expr        string
			Labels      map[string]string
			Annotations map[string]string
		}
	}
}

type ruleTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	}
}

type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Inputs        []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"__inputs"`
	Panels []struct {
		ID         int             `json:"id"`
		Type       string          `json:"type"`
		Title      string          `json:"title"`
		Datasource json.RawMessage `json:"datasource"`
		Targets    []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

func TestShippedMonitoring(t *testing.T) {
	t.Parallel()
	names := exportedNames(t)
	unknown := func(t *testing.T, where, expr string) {
		t.Helper()
		for _, n := range metricNames(expr) {
			if !names[n] {
				t.Errorf("%s: %q names %s, which observe does not export", where, expr, n)
			}
		}
	}

	t.Run("AlertRulesNameExportedMetrics", func(t *testing.T) {
		t.Parallel()
		raw, err := os.ReadFile("prometheus/alerts.yml")
		require.NoError(t, err)
		var rf ruleFile
		require.NoError(t, yaml.Unmarshal(raw, &rf))
		var alerts []string
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				require.NotEmpty(t, r.Alert, "group %s has a rule that is not an alert", g.Name)
				require.Contains(t, []string{"warning", "critical"}, r.Labels["severity"], r.Alert)
				require.NotEmpty(t, r.Annotations["summary"], r.Alert)
				require.NotEmpty(t, r.Annotations["description"], r.Alert)
				require.NotEmpty(t, metricNames(r.Expr), r.Alert)
				unknown(t, r.Alert, r.Expr)
				alerts = append(alerts, r.Alert)
			}
		}
		require.GreaterOrEqual(t, len(alerts), 19, "the original system's 19 rules at least")

		raw, err = os.ReadFile("prometheus/alerts_test.yml")
		require.NoError(t, err)
		var rt ruleTests
		require.NoError(t, yaml.Unmarshal(raw, &rt))
		fired := map[string]bool{}
		for _, tc := range rt.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fired[a.Alertname] = true
				}
			}
		}
		for _, a := range alerts {
			require.True(t, fired[a], "alerts_test.yml has no test in which %s fires", a)
		}
	})

	t.Run("DashboardNamesExportedMetrics", func(t *testing.T) {
		t.Parallel()
		raw, err := os.ReadFile("grafana/dashboard.json")
		require.NoError(t, err)
		var d dashboard
		require.NoError(t, json.Unmarshal(raw, &d))
		require.GreaterOrEqual(t, d.SchemaVersion, 36)
		require.Len(t, d.Inputs, 1)
		require.Equal(t, "DS_PROMETHEUS", d.Inputs[0].Name)
		require.Equal(t, "datasource", d.Inputs[0].Type)
		ids := map[int]bool{}
		var exprs int
		for _, p := range d.Panels {
			require.False(t, ids[p.ID], "panel id %d twice", p.ID)
			ids[p.ID] = true
			if p.Type == "row" {
				continue
			}
			require.Contains(t, string(p.Datasource), "${DS_PROMETHEUS}", p.Title)
			require.NotEmpty(t, p.Targets, p.Title)
			for _, tg := range p.Targets {
				require.NotEmpty(t, metricNames(tg.Expr), p.Title)
				unknown(t, p.Title, tg.Expr)
				exprs++
			}
		}
		require.Positive(t, exprs)
		for _, v := range d.Templating.List {
			// label_values(metric, label)
			def := strings.TrimSuffix(strings.TrimPrefix(v.Definition, "label_values("), ")")
			metric, _, _ := strings.Cut(def, ",")
			require.True(t, names[strings.TrimSpace(metric)], "variable %q", v.Definition)
		}
	})

}
