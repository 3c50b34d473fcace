package store

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// NewID returns a new UUIDv7 string. IDs from one process are strictly
// increasing, also within one millisecond, so ordering by ID is ordering by
// creation.
func NewID() string { return defaultIDs.next(time.Now()) }

var defaultIDs idSource

// idSource makes UUIDv7 values with a 12-bit sub-millisecond counter in
// rand_a (RFC 9562 §6.2, method 1) so IDs stay monotonic.
type idSource struct {
	mu     sync.Mutex
	lastMs int64
	seq    uint16
}

func (s *idSource) next(now time.Time) string {
	var u [16]byte
	if _, err := rand.Read(u[6:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	ms := now.UnixMilli()
	s.mu.Lock()
	switch {
	case ms > s.lastMs:
		s.lastMs = ms
		s.seq = uint16(u[6]&0x07)<<8 | uint16(u[7]) // random start, room to count
	default:
		s.seq++
		if s.seq > 0x0fff {
			s.lastMs++ // borrow the next millisecond rather than repeat
			s.seq = 0
		}
		ms = s.lastMs
	}
	seq := s.seq
	s.mu.Unlock()

	u[0] = byte(ms >> 40)
	u[1] = byte(ms >> 32)
	u[2] = byte(ms >> 24)
	u[3] = byte(ms >> 16)
	u[4] = byte(ms >> 8)
	u[5] = byte(ms)
	u[6] = 0x70 | byte(seq>>8)
	u[7] = byte(seq)
	u[8] = u[8]&0x3f | 0x80

	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// NormalizeTime is the form every stored time takes: UTC, truncated to
// microseconds (the finest all three databases keep).
func NormalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
