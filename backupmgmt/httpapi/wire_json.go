package httpapi

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The job list is the API's most read response, and encoding/json spent
// three quarters of its time on it (reflection, and validating the output
// of time.Time's MarshalJSON for every timestamp). Types on that path write
// their own JSON: byte for byte what encoding/json writes with HTML escaping
// off, which TestFastJSONMatchesEncodingJSON holds them to.

// jsonAppender is a value that appends its own JSON encoding.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// fastJSON is a response that can append its own JSON encoding; ok is
// false when it cannot (a List of a type without one).
type fastJSON interface {
	appendJSON(b []byte) (out []byte, ok bool)
}

// appendJSON implements fastJSON for lists of types with their own
// encoding.
func (l List[T]) appendJSON(b []byte) ([]byte, bool) {
	if _, ok := any((*T)(nil)).(jsonAppender); !ok {
		return b, false
	}
	b = append(b, `{"items":[`...)
	for i := range l.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = any(&l.Items[i]).(jsonAppender).appendJSON(b)
	}
	b = append(b, ']')
	if l.NextCursor != "" {
		b = append(b, `,"next_cursor":`...)
		b = appendJSONString(b, l.NextCursor)
	}
	return append(b, '}'), true
}

func (j *Job) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, j.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, j.Name)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, j.Description)
	if j.AssetID != nil {
		b = append(b, `,"asset_id":`...)
		b = appendJSONString(b, *j.AssetID)
	}
	b = append(b, `,"job_type":`...)
	b = appendJSONString(b, string(j.JobType))
	b = append(b, `,"tool":`...)
	b = appendJSONString(b, string(j.Tool))
	b = append(b, `,"target_server":`...)
	b = appendJSONString(b, j.TargetServer)
	b = append(b, `,"target_path":`...)
	b = appendJSONString(b, j.TargetPath)
	b = append(b, `,"schedule":{"kind":`...)
	b = appendJSONString(b, string(j.Schedule.Kind))
	if j.Schedule.Cron != nil {
		b = append(b, `,"cron":`...)
		b = appendJSONString(b, *j.Schedule.Cron)
	}
	if j.Schedule.Timezone != nil {
		b = append(b, `,"timezone":`...)
		b = appendJSONString(b, *j.Schedule.Timezone)
	}
	if j.Schedule.IntervalSeconds != nil {
		b = append(b, `,"interval_seconds":`...)
		b = strconv.AppendInt(b, *j.Schedule.IntervalSeconds, 10)
	}
	b = append(b, `},"grace_seconds":`...)
	b = strconv.AppendInt(b, j.GraceSeconds, 10)
	b = append(b, `,"max_runtime_seconds":`...)
	b = strconv.AppendInt(b, j.MaxRuntimeSeconds, 10)
	b = append(b, `,"retention_days":`...)
	b = strconv.AppendInt(b, int64(j.RetentionDays), 10)
	b = append(b, `,"rpo_target_seconds":`...)
	b = strconv.AppendInt(b, j.RPOTargetSeconds, 10)
	b = append(b, `,"rto_target_seconds":`...)
	b = strconv.AppendInt(b, j.RTOTargetSeconds, 10)
	if j.OwnerID != nil {
		b = append(b, `,"owner_id":`...)
		b = appendJSONString(b, *j.OwnerID)
	}
	b = append(b, `,"tags":`...)
	if j.Tags == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range j.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, t)
		}
		b = append(b, ']')
	}
	b = append(b, `,"active":`...)
	b = strconv.AppendBool(b, j.Active)
	b = append(b, `,"paused":`...)
	b = strconv.AppendBool(b, j.Paused)
	b = append(b, `,"state":`...)
	b = appendJSONString(b, string(j.State))
	b = appendOptTime(b, `,"next_due_at":`, j.NextDueAt)
	b = appendOptTime(b, `,"last_run_at":`, j.LastRunAt)
	b = appendOptTime(b, `,"last_success_at":`, j.LastSuccessAt)
	if j.LastResult != nil {
		b = append(b, `,"last_result":`...)
		b = appendJSONString(b, string(*j.LastResult))
	}
	b = append(b, `,"consecutive_failures":`...)
	b = strconv.AppendInt(b, int64(j.ConsecutiveFailures), 10)
	if j.PingURL != nil {
		b = append(b, `,"ping_url":`...)
		b = appendJSONString(b, *j.PingURL)
	}
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, j.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, j.UpdatedAt)
	return append(b, '}')
}

func appendOptTime(b []byte, key string, t *time.Time) []byte {
	if t == nil {
		return b
	}
	b = append(b, key...)
	return appendJSONTime(b, *t)
}

// appendJSONTime writes t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds as needed). Years outside 0–9999, which MarshalJSON refuses,
// never reach a view: stored times are normalised.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as encoding/json does with HTML escaping off:
// quotes, backslashes and control characters escaped (\b \f \n \r \t by
// name), invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped for
// JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
