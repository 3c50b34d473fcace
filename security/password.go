package security

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// PasswordParams are the argon2id cost parameters of a password hash.
type PasswordParams struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLength is the length of the random salt in bytes.
	SaltLength uint32
	// KeyLength is the length of the derived key in bytes.
	KeyLength uint32
}

// PasswordParamsDefault are the parameters [HashPassword] uses: 64 MiB, 3
// passes, 2 lanes, a 16-byte salt and a 32-byte key (the second recommended
// option of RFC 9106 with a little more time). Hashes made with weaker
// parameters are reported by [VerifyPassword] as needing a rehash. Treat it as
// read-only.
var PasswordParamsDefault = PasswordParams{
	Memory:     64 * 1024,
	Time:       3,
	Threads:    2,
	SaltLength: 16,
	KeyLength:  32,
}

// Limits on parameters read from a stored hash. A hash is data, and a
// corrupted or planted one must not make a login exhaust memory or CPU.
const (
	maxArgonMemory  = 1 << 20 // KiB, so 1 GiB
	maxArgonTime    = 10
	minArgonSaltLen = 8 // RFC 9106 minimum
	maxArgonSaltLen = 64
	minArgonKeyLen  = 16
	maxArgonKeyLen  = 64
	maxBcryptCost   = 15 // cost 15 already takes seconds; legitimate hashes use 10-14
)

const (
	// PasswordMinLength is the minimum length of a password in characters
	// (Unicode code points, so a Japanese character counts as one).
	PasswordMinLength = 12
	// PasswordMaxBytes is the maximum length of a password in bytes of
	// UTF-8; it bounds the work and memory a single login can cost.
	PasswordMaxBytes = 1024
)

// errMalformedHash is returned for stored hashes that cannot be parsed. It
// never includes the hash itself, which is sensitive.
var errMalformedHash = errors.New("security: malformed password hash")

var b64 = base64.RawStdEncoding.Strict()

// HashPassword hashes pw with argon2id and [PasswordParamsDefault] and
// returns it as a PHC string. It does not check the password policy; call
// [CheckPassword] first when a user chooses a password.
func HashPassword(pw string) (string, error) {
	p := PasswordParamsDefault
	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("security: reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLength)
	return formatArgon2id(p, salt, key), nil
}

func formatArgon2id(p PasswordParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// VerifyPassword reports whether pw matches hash, which is either an argon2id
// PHC string or a bcrypt hash ($2a$, $2b$ or $2y$). needsRehash is true when
// the password matched but the hash is bcrypt or uses weaker parameters than
// [PasswordParamsDefault]; the caller should then store [HashPassword](pw).
// A hash that cannot be parsed, or whose parameters are beyond sane limits,
// returns an error rather than false so that corruption is noticed.
func VerifyPassword(hash, pw string) (ok bool, needsRehash bool, err error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, false, err
	}
	if h.bcrypt {
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, errMalformedHash
		}
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLength)
	if subtle.ConstantTimeCompare(key, h.key) != 1 {
		return false, false, nil
	}
	return true, weaker(h.params, PasswordParamsDefault), nil
}

// weaker reports whether p costs an attacker less than def. Parallelism is
// not compared: with the same memory and time it does not change the cost of
// a guess, and stronger hashes are kept as they are.
func weaker(p, def PasswordParams) bool {
	return p.Memory < def.Memory || p.Time < def.Time ||
		p.SaltLength < def.SaltLength || p.KeyLength < def.KeyLength
}

// DummyVerify does the work of verifying pw against an argon2id hash with
// [PasswordParamsDefault] and discards the result. A login handler calls it
// when the user does not exist, so that the response takes the same time as
// for a wrong password and does not reveal which usernames exist.
func DummyVerify(pw string) {
	_, _, _ = VerifyPassword(dummyHash(), pw)
}

// dummyHash is a well-formed hash with the default parameters, so that
// [DummyVerify] takes the same code path as a real verification. Its key is
// all zeros, which no password derives in practice.
func dummyHash() string {
	p := PasswordParamsDefault
	return formatArgon2id(p, make([]byte, p.SaltLength), make([]byte, p.KeyLength))
}

type parsedHash struct {
	bcrypt bool
	cost   int // bcrypt only
	params PasswordParams
	salt   []byte
	key    []byte
}

func parseHash(hash string) (parsedHash, error) {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		return parseArgon2id(hash)
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		// bcrypt.Cost validates the format; the cost is checked here because
		// bcrypt accepts up to 31, which would hang a login for days.
		cost, err := bcrypt.Cost([]byte(hash))
		if err != nil || len(hash) != 60 || cost > maxBcryptCost {
			return parsedHash{}, errMalformedHash
		}
		return parsedHash{bcrypt: true, cost: cost}, nil
	default:
		return parsedHash{}, errMalformedHash
	}
}

// parseArgon2id parses $argon2id$v=19$m=M,t=T,p=P$salt$key strictly: fields
// in that order, canonical decimal numbers, unpadded standard base64.
func parseArgon2id(hash string) (parsedHash, error) {
	// The base64 decoder skips newlines; reject them so that only one
	// spelling of a hash is accepted.
	if strings.ContainsAny(hash, "\r\n") {
		return parsedHash{}, errMalformedHash
	}
	fields := strings.Split(hash, "$")
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" {
		return parsedHash{}, errMalformedHash
	}
	if fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return parsedHash{}, errMalformedHash
	}
	kv := strings.Split(fields[3], ",")
	if len(kv) != 3 {
		return parsedHash{}, errMalformedHash
	}
	m, okM := parseParam(kv[0], "m=", maxArgonMemory)
	t, okT := parseParam(kv[1], "t=", maxArgonTime)
	p, okP := parseParam(kv[2], "p=", 255)
	// RFC 9106 requires at least 8 KiB of memory per lane.
	if !okM || !okT || !okP || t < 1 || p < 1 || m < 8*p {
		return parsedHash{}, errMalformedHash
	}
	salt, err := b64.DecodeString(fields[4])
	if err != nil || len(salt) < minArgonSaltLen || len(salt) > maxArgonSaltLen {
		return parsedHash{}, errMalformedHash
	}
	key, err := b64.DecodeString(fields[5])
	if err != nil || len(key) < minArgonKeyLen || len(key) > maxArgonKeyLen {
		return parsedHash{}, errMalformedHash
	}
	return parsedHash{
		params: PasswordParams{
			Memory:     m,
			Time:       t,
			Threads:    uint8(p),
			SaltLength: uint32(len(salt)),
			KeyLength:  uint32(len(key)),
		},
		salt: salt,
		key:  key,
	}, nil
}

// parseParam parses "name=N" with N a canonical decimal (no sign, no leading
// zeros) of at most limit.
func parseParam(s, name string, limit uint32) (uint32, bool) {
	digits, found := strings.CutPrefix(s, name)
	if !found {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != digits || n > uint64(limit) {
		return 0, false
	}
	return uint32(n), true
}

// PasswordRule names the password policy rule a password broke.
type PasswordRule string

// The rules of [CheckPassword].
const (
	PasswordRuleTooShort         PasswordRule = "too_short"
	PasswordRuleTooLong          PasswordRule = "too_long"
	PasswordRuleContainsUsername PasswordRule = "contains_username"
)

// PasswordError is returned by [CheckPassword] for a password that breaks
// the policy. Its message is fit to show to the user and never includes the
// password.
type PasswordError struct {
	Rule PasswordRule
}

// Error describes the broken rule.
func (e *PasswordError) Error() string {
	switch e.Rule {
	case PasswordRuleTooShort:
		return fmt.Sprintf("password must be at least %d characters long", PasswordMinLength)
	case PasswordRuleTooLong:
		return fmt.Sprintf("password must be at most %d bytes long", PasswordMaxBytes)
	case PasswordRuleContainsUsername:
		return "password must not contain the username"
	default:
		return "password is not allowed: " + string(e.Rule)
	}
}

// CheckPassword checks pw against the password policy: at least
// [PasswordMinLength] characters, at most [PasswordMaxBytes] bytes, and not
// containing username in any letter case. It returns a [*PasswordError]
// naming the first rule broken, or nil.
func CheckPassword(pw, username string) error {
	// Length is counted in characters so that a 12-character Japanese
	// password passes; the upper bound is in bytes because it limits work.
	if utf8.RuneCountInString(pw) < PasswordMinLength {
		return &PasswordError{Rule: PasswordRuleTooShort}
	}
	if len(pw) > PasswordMaxBytes {
		return &PasswordError{Rule: PasswordRuleTooLong}
	}
	// An empty username is contained in every string; skip the rule then.
	if u := strings.ToLower(strings.TrimSpace(username)); u != "" && strings.Contains(strings.ToLower(pw), u) {
		return &PasswordError{Rule: PasswordRuleContainsUsername}
	}
	return nil
}
