package cache

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

// fill sets every exported field of v, recursively, to a value that is not
// zero: pointers point, slices and maps hold an element.
func fill(v reflect.Value) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint8:
		v.SetUint('{')
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

// requireDisjoint fails if a and b share memory a caller could change
// through b: the same pointer, slice array or map.
func requireDisjoint(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return
		}
		require.NotEqual(t, a.Pointer(), b.Pointer(), path)
		requireDisjoint(t, path+".*", a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() == 0 {
			return
		}
		require.NotEqual(t, a.Pointer(), b.Pointer(), path)
		for i := range a.Len() {
			requireDisjoint(t, path+"[]", a.Index(i), b.Index(i))
		}
	case reflect.Map:
		if a.Len() == 0 {
			return
		}
		require.NotEqual(t, a.Pointer(), b.Pointer(), path)
		for _, k := range a.MapKeys() {
			requireDisjoint(t, path+"[k]", a.MapIndex(k), b.MapIndex(k))
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				requireDisjoint(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
			}
		}
	}
}

// checkClone fills a value of T's element, clones it with f and checks the
// copy is equal and shares nothing.
func checkClone[T any](t *testing.T, f func(T) T) {
	t.Helper()
	var v T
	fill(reflect.ValueOf(&v).Elem())
	c := f(v)
	require.Equal(t, v, c)
	requireDisjoint(t, reflect.TypeFor[T]().String(), reflect.ValueOf(v), reflect.ValueOf(c))
}

func TestClonesAreDeep(t *testing.T) {
	t.Parallel()
	checkClone(t, cloneJobPtr)
	checkClone(t, cloneJobs)
	checkClone(t, cloneJobPage)
	checkClone(t, cloneCopyPtr)
	checkClone(t, cloneCopies)
	checkClone(t, cloneAssetPtr)
	checkClone(t, cloneAssets)
	checkClone(t, cloneAssetPage)
	checkClone(t, cloneExecPtr)
	checkClone(t, cloneExecPage)
	checkClone(t, cloneTestPtr)
	checkClone(t, cloneTests)
	checkClone(t, cloneTestPage)
	checkClone(t, cloneSchedPtr)
	checkClone(t, cloneSchedPage)
	checkClone(t, cloneMediaPtr)
	checkClone(t, cloneMediaMany)
	checkClone(t, cloneMediaPage)
	checkClone(t, cloneEventPage)
	checkClone(t, cloneLendPtr)
	checkClone(t, cloneLendPage)
	checkClone(t, clonePlanPtr)
	checkClone(t, clonePlanPage)
	checkClone(t, cloneStatePtr)
	checkClone(t, cloneStates)
	checkClone(t, cloneStatePage)
	checkClone(t, cloneChangePage)
	checkClone(t, cloneRollupPtr)
	checkClone(t, cloneRollups)
	checkClone(t, cloneReportPtr)
	checkClone(t, cloneReportPage)
	checkClone(t, cloneDashPtr)
	checkClone(t, cloneMap[map[store.JobState]int])
	checkClone(t, cloneMap[map[store.ComplianceStatus]int])
	checkClone(t, cloneMap[map[store.MediaStatus]int])
}

func TestKeysTellParamsApart(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	keys := map[string]bool{}
	for _, p := range []store.ListJobsParams{
		{}, {Active: &yes}, {Active: &no}, {Paused: &yes}, {Query: "a"}, {Tag: "a"},
		{PageParams: store.PageParams{Limit: 10}}, {PageParams: store.PageParams{Cursor: "c"}},
	} {
		k := key("List", p)
		require.False(t, keys[k], "duplicate key %s", k)
		keys[k] = true
	}
	require.Equal(t, key("List", store.ListJobsParams{Active: &yes}), key("List", store.ListJobsParams{Active: new(true)}),
		"pointers are keyed by value")
	require.NotEqual(t, key("GetMany", []string{"a,b"}), key("GetMany", []string{"a", "b"}))
	require.NotEqual(t, key("GetState", "job|1", "x"), key("GetState", "job", "1|x"))
	require.Empty(t, key("List", store.ListExecutionsParams{Started: store.TimeRange{From: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}),
		"what json cannot write is not cached")
}
