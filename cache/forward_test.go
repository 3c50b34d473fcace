package cache_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/cache"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// bunOnly are the methods of bunstore.Store that speak bun and so are not
// part of what a store.Store decorator can forward.
var bunOnly = map[string]bool{"DB": true, "ReadDB": true, "WithQueryHook": true}

// requireMethods fails unless want has every exported method of under (but
// skip) with the same signature: a capability added to bunstore and not
// forwarded by the cache fails here, whatever its name.
func requireMethods(t *testing.T, what string, under, want reflect.Type, skip map[string]bool) {
	t.Helper()
	for m := range under.Methods() {
		if skip[m.Name] {
			continue
		}
		got, ok := want.MethodByName(m.Name)
		require.Truef(t, ok, "%s: %s has %s, the cache's %s does not forward it", what, under, m.Name, want)
		// Drop the receiver: compare the method's own signature.
		require.Equalf(t, sig(m.Type), sig(got.Type), "%s: %s.%s", what, want, m.Name)
	}
}

func sig(f reflect.Type) string {
	s := "("
	for i := 1; i < f.NumIn(); i++ {
		s += f.In(i).String() + ","
	}
	s += ")("
	for i := range f.NumOut() {
		s += f.Out(i).String() + ","
	}
	return s + ")"
}

// reposAccessors are the methods of store.Repos that return a repository.
func reposAccessors() []string {
	var out []string
	for m := range reflect.TypeFor[store.Repos]().Methods() {
		if m.Name != "InTx" {
			out = append(out, m.Name)
		}
	}
	return out
}

func repo(r store.Repos, name string) reflect.Type {
	return reflect.ValueOf(r).MethodByName(name).Call(nil)[0].Elem().Type()
}

func TestForwardsCapabilities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bs := bunstoretest.New(t, dbopen.SQLite, nil)
	c := cache.New(bs)
	t.Cleanup(func() { _ = c.Close() })

	t.Run("TopLevel", func(t *testing.T) {
		requireMethods(t, "Store", reflect.TypeOf(bs), reflect.TypeOf(c), bunOnly)
		// The capabilities by name, for a reader of this test.
		for _, v := range []any{
			(*store.DashboardCounter)(nil), (*store.ComplianceInputReader)(nil),
			(*store.AssetComplianceInputReader)(nil), (*store.DueComplianceReader)(nil),
			(*store.SuccessSampler)(nil), (*store.RunRecorder)(nil), (*store.ComplianceRecheckWriter)(nil),
		} {
			require.Truef(t, reflect.TypeOf(c).Implements(reflect.TypeOf(v).Elem()), "%T", v)
		}
	})
	// bunstore's repositories embed its connection, so they have every
	// method of a Repos too; those are not capabilities of a repository.
	var txRepos store.Repos
	require.NoError(t, bs.InTx(ctx, func(ctx context.Context, tx store.Repos) error { txRepos = tx; return nil }))
	t.Run("Repositories", func(t *testing.T) {
		for _, name := range reposAccessors() {
			iface := reflect.ValueOf((*store.Repos)(nil)).Type().Elem()
			m, _ := iface.MethodByName(name)
			skip := map[string]bool{}
			for cm := range reflect.TypeOf(txRepos).Methods() {
				if _, ok := m.Type.Out(0).MethodByName(cm.Name); !ok {
					skip[cm.Name] = true
				}
			}
			requireMethods(t, name+"()", repo(bs, name), repo(c, name), skip)
		}
		_, ok := c.Jobs().(store.JobDueUpdater)
		require.True(t, ok)
		_, ok = c.Alerts().(store.AlertBatchCreator)
		require.True(t, ok)
		_, ok = c.Sessions().(store.SessionUserGetter)
		require.True(t, ok)
	})
	t.Run("InTx", func(t *testing.T) {
		var under, got store.Repos
		require.NoError(t, bs.InTx(ctx, func(ctx context.Context, tx store.Repos) error { under = tx; return nil }))
		require.NoError(t, c.InTx(ctx, func(ctx context.Context, tx store.Repos) error { got = tx; return nil }))
		require.Equal(t, reflect.TypeOf(under), reflect.TypeOf(got), "InTx passes the wrapped transaction")
		for _, name := range reposAccessors() {
			require.Equal(t, repo(under, name), repo(got, name), name)
		}
	})
	t.Run("AbsentCapabilitiesStayAbsent", func(t *testing.T) {
		f := cache.New(newFakeStore())
		defer f.Close()
		_, ok := f.(store.DashboardCounter)
		require.False(t, ok)
		_, ok = f.(store.RunRecorder)
		require.False(t, ok)
		_, ok = f.Jobs().(store.JobDueLister)
		require.False(t, ok)
	})
}
