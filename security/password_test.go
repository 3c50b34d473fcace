package security

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Produced by the reference C implementation (Debian's libargon2 1,
// argon2id_hash_encoded), not by this package or x/crypto.
const (
	refHashDefault  = "$argon2id$v=19$m=65536,t=3,p=2$Y3VzdG9zLXJlZi1zYWx0IQ$7qxpHHAtykQx/x1TG239FB1lpLLYjlS5UGUwSum1bww"
	refPassDefault  = "correct horse battery staple"
	refHashJapanese = "$argon2id$v=19$m=19456,t=2,p=1$Y3VzdG9zLXJlZi1zYWx0IQ$ry31uqDJHOsZ5xkkRyT3cqm/MbYmNGk8FCGX2xEm77g"
	refPassJapanese = "パスワードは十二文字以上です"
)

// argonPHC builds a PHC string with argon2.IDKey directly, independently of
// HashPassword and its formatting.
func argonPHC(pw string, salt []byte, m, t uint32, p uint8, keyLen uint32) string {
	key := argon2.IDKey([]byte(pw), salt, t, m, p, keyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func TestHashPassword(t *testing.T) {
	t.Parallel()

	t.Run("ProducesAnArgon2idPHCStringWithTheDefaultParameters", func(t *testing.T) {
		t.Parallel()
		hash, err := HashPassword("correct horse battery staple")
		require.NoError(t, err)
		require.Regexp(t, regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`), hash)
	})

	t.Run("VerifiesTheSamePasswordWithoutAskingForARehash", func(t *testing.T) {
		t.Parallel()
		hash, err := HashPassword("correct horse battery staple")
		require.NoError(t, err)
		ok, rehash, err := VerifyPassword(hash, "correct horse battery staple")
		require.NoError(t, err)
		require.True(t, ok)
		require.False(t, rehash)
	})

	t.Run("RejectsAWrongPassword", func(t *testing.T) {
		t.Parallel()
		hash, err := HashPassword("correct horse battery staple")
		require.NoError(t, err)
		for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple "} {
			ok, rehash, err := VerifyPassword(hash, wrong)
			require.NoError(t, err)
			require.False(t, ok, "password %q", wrong)
			require.False(t, rehash)
		}
	})

	t.Run("SaltsEachHashDifferently", func(t *testing.T) {
		t.Parallel()
		a, err := HashPassword("same password twice")
		require.NoError(t, err)
		b, err := HashPassword("same password twice")
		require.NoError(t, err)
		require.NotEqual(t, a, b)
	})

	t.Run("HandlesJapanesePasswords", func(t *testing.T) {
		t.Parallel()
		hash, err := HashPassword("日本語のとても長いパスワードです")
		require.NoError(t, err)
		ok, _, err := VerifyPassword(hash, "日本語のとても長いパスワードです")
		require.NoError(t, err)
		require.True(t, ok)
		// One character different (で → て) must not match.
		ok, _, err = VerifyPassword(hash, "日本語のとても長いパスワードてす")
		require.NoError(t, err)
		require.False(t, ok)
	})
}

func TestVerifyPassword(t *testing.T) {
	t.Parallel()

	t.Run("VerifiesAVectorComputedWithArgon2IDKey", func(t *testing.T) {
		t.Parallel()
		hash := argonPHC("known vector password", []byte("0123456789abcdef"), 64*1024, 3, 2, 32)
		ok, rehash, err := VerifyPassword(hash, "known vector password")
		require.NoError(t, err)
		require.True(t, ok)
		require.False(t, rehash)
		ok, _, err = VerifyPassword(hash, "known vector passwore")
		require.NoError(t, err)
		require.False(t, ok)
	})

	t.Run("VerifiesHashesFromTheReferenceImplementation", func(t *testing.T) {
		t.Parallel()
		ok, rehash, err := VerifyPassword(refHashDefault, refPassDefault)
		require.NoError(t, err)
		require.True(t, ok)
		require.False(t, rehash)

		ok, rehash, err = VerifyPassword(refHashJapanese, refPassJapanese)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, rehash, "m=19456,t=2 is weaker than the default")

		ok, _, err = VerifyPassword(refHashJapanese, refPassDefault)
		require.NoError(t, err)
		require.False(t, ok)
	})

	t.Run("VerifiesBcryptAndAsksForARehash", func(t *testing.T) {
		t.Parallel()
		for _, version := range []string{"2a", "2b", "2y"} {
			raw, err := bcrypt.GenerateFromPassword([]byte("legacy password"), bcrypt.MinCost)
			require.NoError(t, err)
			// x/crypto writes $2a$; $2b$ and $2y$ are the same algorithm.
			hash := "$" + version + string(raw[3:])

			ok, rehash, err := VerifyPassword(hash, "legacy password")
			require.NoError(t, err, version)
			require.True(t, ok, version)
			require.True(t, rehash, version)

			ok, rehash, err = VerifyPassword(hash, "legacy passwore")
			require.NoError(t, err, version)
			require.False(t, ok, version)
			require.False(t, rehash, version)
		}
	})

	t.Run("AsksForARehashOfWeakerArgon2Parameters", func(t *testing.T) {
		t.Parallel()
		salt16 := []byte("0123456789abcdef")
		tests := []struct {
			name   string
			hash   string
			rehash bool
		}{
			{"LessMemory", argonPHC("pw", salt16, 19456, 3, 2, 32), true},
			{"FewerPasses", argonPHC("pw", salt16, 64*1024, 1, 2, 32), true},
			{"ShorterSalt", argonPHC("pw", salt16[:8], 64*1024, 3, 2, 32), true},
			{"ShorterKey", argonPHC("pw", salt16, 64*1024, 3, 2, 16), true},
			{"FewerLanesOnly", argonPHC("pw", salt16, 64*1024, 3, 1, 32), false},
			{"MorePasses", argonPHC("pw", salt16, 64*1024, 4, 2, 32), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ok, rehash, err := VerifyPassword(tt.hash, "pw")
				require.NoError(t, err)
				require.True(t, ok)
				require.Equal(t, tt.rehash, rehash)
			})
		}
	})

	t.Run("RejectsMalformedHashesWithAnError", func(t *testing.T) {
		t.Parallel()
		const salt = "Y3VzdG9zLXJlZi1zYWx0IQ"
		const key = "7qxpHHAtykQx/x1TG239FB1lpLLYjlS5UGUwSum1bww"
		phc := func(version, params, salt, key string) string {
			return "$argon2id$" + version + "$" + params + "$" + salt + "$" + key
		}
		raw, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
		require.NoError(t, err)
		bc := string(raw) // $2a$04$<53 characters>

		tests := []struct {
			name string
			hash string
		}{
			{"Empty", ""},
			{"Plaintext", "correct horse battery staple"},
			{"Argon2i", strings.Replace(refHashDefault, "argon2id", "argon2i", 1)},
			{"Argon2d", strings.Replace(refHashDefault, "argon2id", "argon2d", 1)},
			{"UppercaseAlgorithm", strings.Replace(refHashDefault, "argon2id", "ARGON2ID", 1)},
			{"OldVersion", phc("v=16", "m=65536,t=3,p=2", salt, key)},
			{"FutureVersion", phc("v=20", "m=65536,t=3,p=2", salt, key)},
			{"MissingVersion", "$argon2id$m=65536,t=3,p=2$" + salt + "$" + key},
			{"MissingParams", "$argon2id$v=19$" + salt + "$" + key},
			{"MissingKey", "$argon2id$v=19$m=65536,t=3,p=2$" + salt},
			{"EmptyKey", phc("v=19", "m=65536,t=3,p=2", salt, "")},
			{"EmptySalt", phc("v=19", "m=65536,t=3,p=2", "", key)},
			{"ExtraField", refHashDefault + "$extra"},
			{"TrailingDollar", refHashDefault + "$"},
			{"NoLeadingDollar", refHashDefault[1:]},
			{"ParamsOutOfOrder", phc("v=19", "t=3,m=65536,p=2", salt, key)},
			{"MissingParam", phc("v=19", "m=65536,t=3", salt, key)},
			{"ExtraParam", phc("v=19", "m=65536,t=3,p=2,keyid=x", salt, key)},
			{"ZeroMemory", phc("v=19", "m=0,t=3,p=2", salt, key)},
			{"MemoryBelowEightKiBPerLane", phc("v=19", "m=15,t=1,p=2", salt, key)},
			{"MemoryAboveOneGiB", phc("v=19", "m=1048577,t=1,p=1", salt, key)},
			{"MemoryOverflowingUint32", phc("v=19", "m=4294967296,t=1,p=1", salt, key)},
			{"ZeroTime", phc("v=19", "m=65536,t=0,p=2", salt, key)},
			{"TimeAboveTen", phc("v=19", "m=65536,t=11,p=2", salt, key)},
			{"ZeroLanes", phc("v=19", "m=65536,t=3,p=0", salt, key)},
			{"LanesAbove255", phc("v=19", "m=65536,t=3,p=256", salt, key)},
			{"NegativeParam", phc("v=19", "m=-1,t=3,p=2", salt, key)},
			{"PlusSign", phc("v=19", "m=+65536,t=3,p=2", salt, key)},
			{"LeadingZero", phc("v=19", "m=065536,t=3,p=2", salt, key)},
			{"SpaceInParams", phc("v=19", "m=65536, t=3,p=2", salt, key)},
			{"PaddedBase64", phc("v=19", "m=65536,t=3,p=2", salt+"==", key)},
			{"URLSafeBase64", phc("v=19", "m=65536,t=3,p=2", salt, strings.ReplaceAll(key, "/", "_"))},
			{"NonBase64Character", phc("v=19", "m=65536,t=3,p=2", salt, "!"+key[1:])},
			{"NonCanonicalBase64", phc("v=19", "m=65536,t=3,p=2", salt[:len(salt)-1]+"R", key)},
			{"NewlineInBase64", phc("v=19", "m=65536,t=3,p=2", salt[:10]+"\n"+salt[10:], key)},
			{"SaltTooShort", phc("v=19", "m=65536,t=3,p=2", "c2FsdA", key)},
			{"KeyTooShort", phc("v=19", "m=65536,t=3,p=2", salt, "a2V5a2V5")},
			{"KeyTooLong", phc("v=19", "m=65536,t=3,p=2", salt, strings.Repeat("A", 88))},
			{"BcryptTruncated", bc[:40]},
			{"BcryptTrailingCharacter", bc + "x"},
			{"BcryptCostBelowMinimum", strings.Replace(bc, "$04$", "$03$", 1)},
			{"BcryptCostThatWouldHang", strings.Replace(bc, "$04$", "$31$", 1)},
			{"BcryptCostAboveLimit", strings.Replace(bc, "$04$", "$16$", 1)},
			{"BcryptUnknownVersion", strings.Replace(bc, "$2a$", "$2x$", 1)},
			{"BcryptNonNumericCost", strings.Replace(bc, "$04$", "$ab$", 1)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				var (
					ok, rehash bool
					err        error
				)
				require.NotPanics(t, func() { ok, rehash, err = VerifyPassword(tt.hash, "correct horse battery staple") })
				require.Error(t, err)
				require.False(t, ok)
				require.False(t, rehash)
				if tt.hash != "" {
					require.NotContains(t, err.Error(), tt.hash, "the error must not echo the hash")
				}
			})
		}
	})
}

func TestDummyVerify(t *testing.T) {
	t.Parallel()

	t.Run("UsesTheSameWorkAsARealVerification", func(t *testing.T) {
		t.Parallel()
		h, err := parseHash(dummyHash())
		require.NoError(t, err)
		require.False(t, h.bcrypt)
		require.Equal(t, PasswordParamsDefault, h.params)
	})

	t.Run("NeverMatches", func(t *testing.T) {
		t.Parallel()
		for _, pw := range []string{"", "correct horse battery staple"} {
			ok, _, err := VerifyPassword(dummyHash(), pw)
			require.NoError(t, err)
			require.False(t, ok)
		}
		require.NotPanics(t, func() { DummyVerify("anything at all") })
	})
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		pw       string
		username string
		rule     PasswordRule // empty for accepted
		message  string
	}{
		{"RejectsElevenCharacters", "abcdefghijk", "", PasswordRuleTooShort, "at least 12 characters"},
		{"AcceptsTwelveCharacters", "abcdefghijkl", "", "", ""},
		{"CountsJapaneseCharactersAsOneEachWhenShort", "あいうえおかきくけこさ", "", PasswordRuleTooShort, "at least 12 characters"},
		{"CountsJapaneseCharactersAsOneEachWhenLongEnough", "あいうえおかきくけこさし", "", "", ""},
		{"AcceptsExactlyOneKiB", strings.Repeat("a", 1024), "", "", ""},
		{"RejectsOneByteOverOneKiB", strings.Repeat("a", 1025), "", PasswordRuleTooLong, "at most 1024 bytes"},
		{"CountsMultibyteCharactersInBytesForTheMaximum", strings.Repeat("あ", 341) + "a", "", "", ""},
		{"RejectsMultibyteCharactersOverOneKiB", strings.Repeat("あ", 342), "", PasswordRuleTooLong, "at most 1024 bytes"},
		{"RejectsTheUsernameInOtherCase", "my-ALICE-password-1", "alice", PasswordRuleContainsUsername, "username"},
		{"RejectsTheUsernameGivenInOtherCase", "xxalicexxxxxx", "AlIcE", PasswordRuleContainsUsername, "username"},
		{"RejectsAJapaneseUsername", "たろうのパスワード123", "たろう", PasswordRuleContainsUsername, "username"},
		{"AcceptsAPasswordWithoutTheUsername", "correct horse battery staple", "alice", "", ""},
		{"IgnoresAnEmptyUsername", "correct horse battery staple", "", "", ""},
		{"IgnoresABlankUsername", "correct horse battery staple", " ", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckPassword(tt.pw, tt.username)
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			var pe *PasswordError
			require.True(t, errors.As(err, &pe), "got %v", err)
			require.Equal(t, tt.rule, pe.Rule)
			require.Contains(t, err.Error(), tt.message)
			require.NotContains(t, err.Error(), tt.pw)
		})
	}
}

func FuzzVerifyPassword(f *testing.F) {
	raw, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(f, err)
	f.Add(refHashJapanese, refPassJapanese)
	f.Add(string(raw), "pw")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw", "pw")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$", "")
	f.Add("$2a$04$", "pw")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		// Parsing runs on every input. Full verification is skipped for
		// hashes that parse with real costs, which would make each run take
		// up to seconds and a gigabyte; the limits themselves are tested in
		// TestVerifyPassword.
		h, err := parseHash(hash)
		if err == nil && (h.bcrypt && h.cost > bcrypt.MinCost || h.params.Memory > 1024 || h.params.Time > 2) {
			return
		}
		ok, rehash, err := VerifyPassword(hash, pw)
		if err != nil {
			require.False(t, ok)
			require.False(t, rehash)
		}
	})
}

func BenchmarkVerifyPassword(b *testing.B) {
	hash, err := HashPassword("correct horse battery staple")
	require.NoError(b, err)
	for b.Loop() {
		_, _, _ = VerifyPassword(hash, "correct horse battery staple")
	}
}

func BenchmarkDummyVerify(b *testing.B) {
	for b.Loop() {
		DummyVerify("correct horse battery staple")
	}
}
