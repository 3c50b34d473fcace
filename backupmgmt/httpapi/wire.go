package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// Wire conventions (DESIGN §6): snake_case names, string IDs, RFC 3339 UTC
// times ending in _at, YYYY-MM-DD dates ending in _on, integer seconds
// ending in _seconds, sizes ending in _bytes. Store types carry no JSON
// tags; each resource has its own view type here, so that a new store
// field never reaches a client (or a secret a response) by accident.

// List is the body of every list: a page of items and the cursor of the
// next page, absent on the last one.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// listOf maps a store page to its wire form; Items is never null.
func listOf[S, T any](p *store.Page[S], view func(*S) T) List[T] {
	out := List[T]{Items: make([]T, len(p.Items)), NextCursor: p.NextCursor}
	for i := range p.Items {
		out.Items[i] = view(&p.Items[i])
	}
	return out
}

// sliceOf maps a slice to its wire form; never null.
func sliceOf[S, T any](in []S, view func(*S) T) []T {
	out := make([]T, len(in))
	for i := range in {
		out[i] = view(&in[i])
	}
	return out
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// seconds is a duration on the wire.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// duration is a wire duration in the domain; negative values pass through
// for the domain's validation to name.
func duration(s int64) time.Duration { return time.Duration(s) * time.Second }

func durationPtr(s *int64) *time.Duration {
	if s == nil {
		return nil
	}
	d := duration(*s)
	return &d
}

// datePtr is a calendar date on the wire; the zero Date is absent.
func datePtr(d store.Date) *store.Date {
	if d.IsZero() {
		return nil
	}
	return &d
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// foldUsername is the form in which usernames are compared.
func foldUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// pathID returns a path parameter, which the mux guarantees is non-empty.
func pathID(r *http.Request, name string) string { return r.PathValue(name) }

// getByID is the handler of a plain detail route: the path's {id}, read by
// get, answered in its view.
func getByID[S, T any](get func(ctx context.Context, id string) (*S, error), view func(*S) T) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := get(r.Context(), pathID(r, "id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, view(v))
		return nil
	}
}

// deleteByID is the handler of a plain delete route: 204 once del has
// removed the path's {id}.
func deleteByID(del func(ctx context.Context, id string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := del(r.Context(), pathID(r, "id")); err != nil {
			return err
		}
		noContent(w)
		return nil
	}
}
