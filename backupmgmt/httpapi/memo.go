package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/jellydator/ttlcache/v3"
)

// The hottest reads (the job list, the dashboard) are served from their
// encoded bytes when the service's store is a read-through cache: turning
// a cached page of 50 jobs into 45 KB of JSON costs ten times the cache
// hit. An encoded response is kept while the store's Version is the one
// read before the data was, so a write on this process is seen by the next
// read, and for at most ResponseCacheTTL, so a write seen by the store's
// caches later (another replica's, after their TTL) shows at most that
// much later.

// ResponseCacheTTLDefault is the default of Config.ResponseCacheTTL.
const ResponseCacheTTLDefault = time.Second

const (
	memoCapacity = 256       // responses kept
	memoMaxBody  = 256 << 10 // larger responses are not kept
)

// versioned is a store that says when its cached data may have changed
// (cache.Store).
type versioned interface{ Version() uint64 }

type memoEntry struct {
	version uint64
	body    []byte
}

// respMemo keeps encoded responses; a nil *respMemo keeps nothing.
type respMemo struct {
	v versioned
	c *ttlcache.Cache[string, memoEntry]
}

func newRespMemo(st any, ttl time.Duration) *respMemo {
	v, ok := st.(versioned)
	if !ok || ttl <= 0 {
		return nil
	}
	return &respMemo{v: v, c: ttlcache.New(
		ttlcache.WithTTL[string, memoEntry](ttl),
		ttlcache.WithCapacity[string, memoEntry](memoCapacity),
		ttlcache.WithDisableTouchOnHit[string, memoEntry](),
	)}
}

// serve answers r from the kept response of key, or runs load (which reads
// through the store) and keeps what it encodes. key must name everything
// the response depends on besides the store's data.
func (m *respMemo) serve(w http.ResponseWriter, key string, load func() (any, error)) error {
	if m == nil {
		v, err := load()
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
	version := m.v.Version()
	if it := m.c.Get(key); it != nil && it.Value().version == version {
		writeBody(w, http.StatusOK, it.Value().body)
		return nil
	}
	v, err := load()
	if err != nil {
		return err
	}
	body, err := encodeJSON(v)
	if err != nil {
		return err
	}
	if len(body) <= memoMaxBody {
		m.c.Set(key, memoEntry{version: version, body: body}, ttlcache.DefaultTTL)
	}
	writeBody(w, http.StatusOK, body)
	return nil
}

// encodeJSON returns v as writeJSON writes it, ending in a newline.
func encodeJSON(v any) ([]byte, error) {
	if f, ok := v.(fastJSON); ok {
		if b, ok := f.appendJSON(nil); ok {
			return append(b, '\n'), nil
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeBody writes an encoded JSON response.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
