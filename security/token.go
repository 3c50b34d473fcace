package security

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Secret is a sensitive string such as an API key secret. It prints, logs
// and marshals as "[redacted]" so that it cannot leak through a log line,
// an error message or a JSON body by accident; use [Secret.Reveal] where the
// value itself is needed.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret value. Calls are easy to find in review.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (s Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb, so that %x or %q cannot expose
// the value either.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, strconv.Quote(redacted))
		return
	}
	_, _ = io.WriteString(f, redacted)
}

// LogValue implements [slog.LogValuer] and returns "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[redacted]", so that encoding/json and other encoders
// do not write the value either.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// ErrMalformedKey is returned by [ParseAPIKey] for text that is not an API
// key. The error never includes the text, which may be a real secret.
var ErrMalformedKey = errors.New("security: malformed API key")

const (
	apiKeyScheme    = "cst_"
	apiKeyPrefixLen = 8  // 40 bits: enough to make lookups unique in practice
	apiKeySecretLen = 32 // 160 bits of entropy
	apiKeyLen       = len(apiKeyScheme) + apiKeyPrefixLen + 1 + apiKeySecretLen
)

// Lowercase so keys are easy to read aloud and survive case-insensitive
// systems unchanged; 5 and 20 random bytes encode to exactly 8 and 32
// characters, so there is no padding.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// APIKey is a newly generated API key. Only Prefix and [HashSecret] of Secret
// are stored; Text is shown to the user once.
type APIKey struct {
	// Prefix identifies the key and is stored in clear to look it up.
	Prefix string
	// Secret is the part that proves possession of the key.
	Secret Secret
	// Text is the whole key as the client sends it: cst_<prefix>_<secret>.
	Text Secret
}

// LogValue implements [slog.LogValuer]: only the prefix is logged.
func (k APIKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("prefix", k.Prefix))
}

// NewAPIKey generates an API key from crypto/rand.
func NewAPIKey() (key APIKey, err error) {
	prefix, err := randomKeyPart(apiKeyPrefixLen * 5 / 8)
	if err != nil {
		return APIKey{}, err
	}
	secret, err := randomKeyPart(apiKeySecretLen * 5 / 8)
	if err != nil {
		return APIKey{}, err
	}
	return APIKey{
		Prefix: prefix,
		Secret: Secret(secret),
		Text:   Secret(apiKeyScheme + prefix + "_" + secret),
	}, nil
}

func randomKeyPart(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("security: reading random bytes: %w", err)
	}
	return keyEncoding.EncodeToString(b), nil
}

// ParseAPIKey splits text of the form cst_<prefix>_<secret> into its prefix
// and secret. It is strict: anything but the exact lengths and the lowercase
// base32 alphabet returns [ErrMalformedKey], so that junk never reaches the
// database lookup.
func ParseAPIKey(text string) (prefix, secret string, err error) {
	if len(text) != apiKeyLen || text[:len(apiKeyScheme)] != apiKeyScheme {
		return "", "", ErrMalformedKey
	}
	rest := text[len(apiKeyScheme):]
	if rest[apiKeyPrefixLen] != '_' {
		return "", "", ErrMalformedKey
	}
	prefix, secret = rest[:apiKeyPrefixLen], rest[apiKeyPrefixLen+1:]
	if !isKeyAlphabet(prefix) || !isKeyAlphabet(secret) {
		return "", "", ErrMalformedKey
	}
	return prefix, secret, nil
}

func isKeyAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// HashSecret returns the hex SHA-256 of an API key secret, the form in which
// it is stored. A fast hash is enough: the secret has 160 random bits, so
// there is nothing to guess.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretMatches reports whether secret hashes to hexHash, comparing in
// constant time. A hexHash that is not a hex SHA-256 never matches.
func SecretMatches(secret, hexHash string) bool {
	want, err := hex.DecodeString(hexHash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// NewSessionToken returns a browser session token: 256 random bits in
// unpadded base64url (43 characters), safe in a cookie without escaping.
func NewSessionToken() (token string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("security: reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hex SHA-256 of a session token, the form in which it
// is stored, so that a leaked sessions table does not yield live sessions.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
