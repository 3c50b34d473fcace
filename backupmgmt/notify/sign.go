package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureToleranceDefault is how far a webhook timestamp may be from the
// receiver's clock when VerifySignature is given no tolerance.
const SignatureToleranceDefault = 5 * time.Minute

// Errors of VerifySignature.
var (
	ErrBadSignature = errors.New("notify: webhook signature does not match")
	ErrStaleRequest = errors.New("notify: webhook timestamp outside the tolerance")
)

// Sign returns the X-Custos-Signature of a webhook body sent at timestamp
// (unix seconds, as in X-Custos-Timestamp): "sha256=" and the hex
// HMAC-SHA256, keyed with secret, of timestamp + "." + body.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a received webhook: signature must be Sign of
// the body and timestamp (compared in constant time), and timestamp within
// tolerance of now either way (SignatureToleranceDefault when 0), so that a
// captured request cannot be replayed later. It returns ErrBadSignature or
// ErrStaleRequest. Spaces around timestamp and signature are ignored.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = SignatureToleranceDefault
	}
	// The value parsed is the value signed: a padded header must not pass
	// the time check as one timestamp and the HMAC as another.
	timestamp = strings.TrimSpace(timestamp)
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStaleRequest
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStaleRequest
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(strings.TrimSpace(signature))) {
		return ErrBadSignature
	}
	return nil
}
