package security

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const validKey = "cst_abcd2345_abcdefghijklmnopqrstuvwxyz234567"

func TestNewAPIKey(t *testing.T) {
	t.Parallel()

	t.Run("HasTheDocumentedFormat", func(t *testing.T) {
		t.Parallel()
		key, err := NewAPIKey()
		require.NoError(t, err)
		require.Regexp(t, regexp.MustCompile(`^[a-z2-7]{8}$`), key.Prefix)
		require.Regexp(t, regexp.MustCompile(`^[a-z2-7]{32}$`), key.Secret.Reveal())
		require.Equal(t, "cst_"+key.Prefix+"_"+key.Secret.Reveal(), key.Text.Reveal())
	})

	t.Run("RoundTripsThroughParseHashAndMatch", func(t *testing.T) {
		t.Parallel()
		key, err := NewAPIKey()
		require.NoError(t, err)

		prefix, secret, err := ParseAPIKey(key.Text.Reveal())
		require.NoError(t, err)
		require.Equal(t, key.Prefix, prefix)
		require.Equal(t, key.Secret.Reveal(), secret)

		stored := HashSecret(key.Secret.Reveal())
		require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{64}$`), stored)
		require.NotContains(t, stored, secret)
		require.True(t, SecretMatches(secret, stored))

		other, err := NewAPIKey()
		require.NoError(t, err)
		require.False(t, SecretMatches(other.Secret.Reveal(), stored))
	})

	t.Run("GeneratesUniqueKeys", func(t *testing.T) {
		t.Parallel()
		prefixes := make(map[string]bool)
		secrets := make(map[string]bool)
		for range 1000 {
			key, err := NewAPIKey()
			require.NoError(t, err)
			require.False(t, prefixes[key.Prefix], "duplicate prefix")
			require.False(t, secrets[key.Secret.Reveal()], "duplicate secret")
			prefixes[key.Prefix] = true
			secrets[key.Secret.Reveal()] = true
		}
	})
}

func TestParseAPIKey(t *testing.T) {
	t.Parallel()

	t.Run("AcceptsAWellFormedKey", func(t *testing.T) {
		t.Parallel()
		prefix, secret, err := ParseAPIKey(validKey)
		require.NoError(t, err)
		require.Equal(t, "abcd2345", prefix)
		require.Equal(t, "abcdefghijklmnopqrstuvwxyz234567", secret)
	})

	t.Run("RejectsMalformedKeys", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			text string
		}{
			{"Empty", ""},
			{"SchemeOnly", "cst_"},
			{"WrongScheme", "abc_abcd2345_abcdefghijklmnopqrstuvwxyz234567"},
			{"UppercaseScheme", "CST_abcd2345_abcdefghijklmnopqrstuvwxyz234567"},
			{"NoScheme", "abcd2345_abcdefghijklmnopqrstuvwxyz234567"},
			{"UppercaseLetter", "cst_abcd2345_abcdefghijklmnopqrstuvwxyZ234567"},
			{"DigitZero", "cst_abcd2340_abcdefghijklmnopqrstuvwxyz234567"},
			{"DigitOne", "cst_abcd2345_abcdefghijklmnopqrstuvwxyz234561"},
			{"DigitEight", "cst_abcd2345_abcdefghijklmnopqrstuvwxyz234568"},
			{"PaddingCharacter", "cst_abcd2345_abcdefghijklmnopqrstuvwxyz23456="},
			{"ShortPrefix", "cst_abcd234_aabcdefghijklmnopqrstuvwxyz234567"},
			{"LongPrefix", "cst_abcd23455abcdefghijklmnopqrstuvwxyz234567"},
			{"ShortSecret", "cst_abcd2345_abcdefghijklmnopqrstuvwxyz23456"},
			{"LongSecret", validKey + "a"},
			{"DashSeparator", "cst_abcd2345-abcdefghijklmnopqrstuvwxyz234567"},
			{"MissingSeparator", "cst_abcd2345abcdefghijklmnopqrstuvwxyz234567"},
			{"ExtraSeparator", "cst_abcd2345_abcdefghijklmnopq_stuvwxyz234567"},
			{"LeadingSpace", " " + validKey[1:]},
			{"TrailingNewline", validKey[:len(validKey)-1] + "\n"},
			{"BearerPrefix", "Bearer " + validKey},
			{"NonASCII", "cst_abcd2345_abcdefghijklmnopqrstuvwxyzé3456"},
			{"NULByte", "cst_abcd2345_abcdefghijklmnopqrstuvwxyz\x0034567"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				prefix, secret, err := ParseAPIKey(tt.text)
				require.ErrorIs(t, err, ErrMalformedKey)
				require.Empty(t, prefix)
				require.Empty(t, secret)
			})
		}
	})
}

func TestSecretMatches(t *testing.T) {
	t.Parallel()

	stored := HashSecret("abcdefghijklmnopqrstuvwxyz234567")
	tests := []struct {
		name    string
		secret  string
		hexHash string
		want    bool
	}{
		{"MatchesTheRightSecret", "abcdefghijklmnopqrstuvwxyz234567", stored, true},
		{"AcceptsUppercaseHex", "abcdefghijklmnopqrstuvwxyz234567", strings.ToUpper(stored), true},
		{"RejectsAnotherSecret", "abcdefghijklmnopqrstuvwxyz234566", stored, false},
		{"RejectsTheHashItself", stored, stored, false},
		{"RejectsAnEmptyHash", "abcdefghijklmnopqrstuvwxyz234567", "", false},
		{"RejectsATruncatedHash", "abcdefghijklmnopqrstuvwxyz234567", stored[:62], false},
		{"RejectsAnOddLengthHash", "abcdefghijklmnopqrstuvwxyz234567", stored[:63], false},
		{"RejectsNonHex", "abcdefghijklmnopqrstuvwxyz234567", "zz" + stored[2:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, SecretMatches(tt.secret, tt.hexHash))
		})
	}

	t.Run("HashSecretIsHexSHA256", func(t *testing.T) {
		t.Parallel()
		// sha256("abc") from FIPS 180-2.
		require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HashSecret("abc"))
	})
}

func TestNewSessionToken(t *testing.T) {
	t.Parallel()

	t.Run("Is256BitsOfUnpaddedBase64URL", func(t *testing.T) {
		t.Parallel()
		token, err := NewSessionToken()
		require.NoError(t, err)
		require.Len(t, token, 43)
		require.Regexp(t, regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`), token)
		raw, err := base64.RawURLEncoding.DecodeString(token)
		require.NoError(t, err)
		require.Len(t, raw, 32)
	})

	t.Run("GeneratesUniqueTokens", func(t *testing.T) {
		t.Parallel()
		seen := make(map[string]bool)
		for range 1000 {
			token, err := NewSessionToken()
			require.NoError(t, err)
			require.False(t, seen[token], "duplicate token")
			seen[token] = true
		}
	})

	t.Run("HashesTokensDeterministicallyToHexSHA256", func(t *testing.T) {
		t.Parallel()
		a, err := NewSessionToken()
		require.NoError(t, err)
		b, err := NewSessionToken()
		require.NoError(t, err)
		require.Equal(t, HashToken(a), HashToken(a))
		require.NotEqual(t, HashToken(a), HashToken(b))
		raw, err := hex.DecodeString(HashToken(a))
		require.NoError(t, err)
		require.Len(t, raw, 32)
		require.Equal(t, HashSecret(a), HashToken(a))
	})
}

func TestSecretRedaction(t *testing.T) {
	t.Parallel()

	key, err := NewAPIKey()
	require.NoError(t, err)
	secret := key.Secret.Reveal()

	t.Run("FormatsASecretAsRedactedWithEveryVerb", func(t *testing.T) {
		t.Parallel()
		for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s", "%-20v"} {
			out := fmt.Sprintf(verb, key.Secret)
			require.NotContains(t, out, secret, verb)
			require.Contains(t, out, "[redacted]", verb)
		}
		require.Equal(t, "[redacted]", key.Secret.String())
		require.Equal(t, "[redacted]", fmt.Sprint(key.Secret))
		require.Equal(t, `"[redacted]"`, fmt.Sprintf("%q", key.Secret))
	})

	t.Run("FormatsAnAPIKeyWithoutItsSecret", func(t *testing.T) {
		t.Parallel()
		for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x"} {
			for _, arg := range []any{key, &key, []APIKey{key}, map[string]APIKey{"k": key}} {
				out := fmt.Sprintf(verb, arg)
				require.NotContains(t, out, secret, "%s of %T", verb, arg)
				require.NotContains(t, strings.ToLower(out), hex.EncodeToString([]byte(secret)), "%s of %T", verb, arg)
			}
		}
		require.Contains(t, fmt.Sprintf("%+v", key), key.Prefix)
		wrapped := fmt.Errorf("creating key %v: %w", key, errors.New("boom"))
		require.NotContains(t, wrapped.Error(), secret)
	})

	t.Run("LogsSecretsAsRedactedInJSONAndText", func(t *testing.T) {
		t.Parallel()
		for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		} {
			var buf bytes.Buffer
			logger := slog.New(newHandler(&buf))
			logger.Info("api key created",
				"secret", key.Secret,
				"text", key.Text,
				"key", key,
				"key_ptr", &key,
				slog.Group("nested", "key", key, "secret", key.Secret),
				slog.Any("any_secret", key.Secret),
			)
			out := buf.String()
			require.NotContains(t, out, secret, name)
			require.Contains(t, out, "[redacted]", name)
			require.Contains(t, out, key.Prefix, name)
		}
	})

	t.Run("LogsAnAPIKeyAsItsPrefix", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("used", "key", key)
		var line struct {
			Key map[string]string `json:"key"`
		}
		require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
		require.Equal(t, map[string]string{"prefix": key.Prefix}, line.Key)
	})

	t.Run("MarshalsSecretsAsRedactedInJSON", func(t *testing.T) {
		t.Parallel()
		out, err := json.Marshal(key)
		require.NoError(t, err)
		require.NotContains(t, string(out), secret)
		require.JSONEq(t, fmt.Sprintf(`{"Prefix":%q,"Secret":"[redacted]","Text":"[redacted]"}`, key.Prefix), string(out))
	})
}

func FuzzParseAPIKey(f *testing.F) {
	f.Add(validKey)
	f.Add("")
	f.Add("cst_")
	f.Add("cst_abcd2345_")
	f.Add("cst_ABCD2345_abcdefghijklmnopqrstuvwxyz234567")
	f.Add("cst_abcd2345_abcdefghijklmnopqrstuvwxyz23456é")
	f.Fuzz(func(t *testing.T, text string) {
		prefix, secret, err := ParseAPIKey(text)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformedKey)
			require.Empty(t, prefix)
			require.Empty(t, secret)
			return
		}
		require.Equal(t, text, "cst_"+prefix+"_"+secret)
		require.Regexp(t, `^[a-z2-7]{8}$`, prefix)
		require.Regexp(t, `^[a-z2-7]{32}$`, secret)
	})
}
