package backupmgmt

import (
	"cmp"
	"strconv"
	"time"

	"github.com/custos-dev/custos/store"
)

// Requirement is how strongly a Policy asks for one part of the 3-2-1-1-0
// rule. A Required part that fails makes the subject non_compliant, a
// Recommended one only a warning; a NotRequired one is not checked and
// counts as met in the score.
type Requirement string

// Requirement values.
const (
	Required    Requirement = "required"
	Recommended Requirement = "recommended"
	NotRequired Requirement = "not_required"
)

// Valid reports whether r is one of the defined Requirement values.
func (r Requirement) Valid() bool {
	return r == Required || r == Recommended || r == NotRequired
}

// Defaults of the Policy durations and multiplier, used when a field is 0.
const (
	// PolicyOfflineFreshnessDefault is how old an offline copy may be: the
	// seed's "offline media not updated in 7 days" warning.
	PolicyOfflineFreshnessDefault = 7 * policyDay
	// PolicyVerificationMaxAgeDefault is how old the latest passing restore
	// test may be when no verification schedule applies: about a quarter.
	PolicyVerificationMaxAgeDefault = 92 * policyDay
	// PolicyDueSoonDefault is how far ahead a restore test counts as due
	// soon.
	PolicyDueSoonDefault = 7 * policyDay
	// PolicyFreshnessMultiplierDefault is how many schedule intervals a copy
	// may miss before it is stale when its job has no RPO target.
	PolicyFreshnessMultiplierDefault = 2
)

const (
	policyDay = 24 * time.Hour
	// policyDaysPerYear turns the retention years of DESIGN §4.3 into days;
	// a year counts as 365 days.
	policyDaysPerYear = 365
	// policyMaxMultiplier keeps multiplier × interval far from overflowing.
	policyMaxMultiplier = 100
)

// Policy holds the thresholds a job or an asset is evaluated against (DESIGN
// §1 and §4.3). DefaultPolicy is the full 3-2-1-1-0 rule; PresetFor gives the
// preset of an asset classification. The durations and the multiplier
// default when 0; the requirement levels have no default and must be set.
type Policy struct {
	// Copies is how strongly the "3" is asked for.
	Copies Requirement
	// MinBackupCopies is how many fresh backup copies the "3" needs. The
	// production data counts as one more, so 2 makes three copies.
	MinBackupCopies int
	// MediaTypes is how strongly the "2" is asked for.
	MediaTypes Requirement
	// MinMediaTypes is how many distinct media types the fresh backup copies
	// must be on.
	MinMediaTypes int
	// Offsite is how strongly the first "1" (a fresh offsite copy) is asked
	// for.
	Offsite Requirement
	// OfflineOrImmutable is how strongly the second "1" (a fresh offline
	// copy, or an immutable one whose immutability has not ended) is asked
	// for.
	OfflineOrImmutable Requirement
	// Verification is how strongly the "0" is asked for: the latest restore
	// test passed and is within its cadence, and no copy is in failed state.
	Verification Requirement
	// Encryption is how strongly every copy is asked to be encrypted.
	Encryption Requirement
	// RetentionDays is the least retention a job should declare; 0 means no
	// check. Falling short, or a job whose retention is unknown, is a
	// warning, never a violation.
	RetentionDays int
	// OfflineFreshness is how old an offline copy may be. Defaults to
	// PolicyOfflineFreshnessDefault (7 days).
	OfflineFreshness time.Duration
	// VerificationMaxAge is how old the latest passing restore test may be
	// when the job has no active verification schedule. Defaults to
	// PolicyVerificationMaxAgeDefault (92 days).
	VerificationMaxAge time.Duration
	// DueSoon is how far ahead a restore test that falls due is a warning;
	// whole days. Defaults to PolicyDueSoonDefault (7 days).
	DueSoon time.Duration
	// FreshnessFallbackMultiplier sets the freshness window of a job without
	// an RPO target to this many schedule intervals. Defaults to
	// PolicyFreshnessMultiplierDefault (2).
	FreshnessFallbackMultiplier int
}

// DefaultPolicy is the full 3-2-1-1-0 rule, for jobs without an asset: 2
// fresh backup copies on 2 media types, a fresh offsite copy, a fresh
// offline or immutable copy and a passing, timely restore test are
// required; encryption is recommended; retention is not checked.
func DefaultPolicy() Policy {
	return Policy{
		Copies:                      Required,
		MinBackupCopies:             2,
		MediaTypes:                  Required,
		MinMediaTypes:               2,
		Offsite:                     Required,
		OfflineOrImmutable:          Required,
		Verification:                Required,
		Encryption:                  Recommended,
		OfflineFreshness:            PolicyOfflineFreshnessDefault,
		VerificationMaxAge:          PolicyVerificationMaxAgeDefault,
		DueSoon:                     PolicyDueSoonDefault,
		FreshnessFallbackMultiplier: PolicyFreshnessMultiplierDefault,
	}
}

// PresetFor returns the policy preset of an asset classification, the
// table of DESIGN §4.3 (a year of retention counts as 365 days):
//
//	classification  copies  media  offsite      offline/immutable  encryption   verification  retention
//	restricted      2       2      required     required           required     required      7 years
//	confidential    2       2      required     recommended        required     required      5 years
//	internal        1       1      recommended  recommended        recommended  recommended   3 years
//	public          0       0      —            —                  —            —             1 year
//
// DESIGN leaves media types and verification open; the presets follow the
// copies: two media types whenever two copies are required, one (any
// medium) for internal, none for public; verification is required where
// offsite is, recommended for internal, not checked for public. The copy
// and media counts are Required wherever they are above 0. Any other
// classification gets DefaultPolicy.
func PresetFor(c store.Classification) Policy {
	p := DefaultPolicy()
	switch c {
	case store.ClassificationRestricted:
		p.Encryption = Required
		p.RetentionDays = 7 * policyDaysPerYear
	case store.ClassificationConfidential:
		p.OfflineOrImmutable = Recommended
		p.Encryption = Required
		p.RetentionDays = 5 * policyDaysPerYear
	case store.ClassificationInternal:
		p.MinBackupCopies = 1
		p.MinMediaTypes = 1
		p.Offsite = Recommended
		p.OfflineOrImmutable = Recommended
		p.Encryption = Recommended
		p.Verification = Recommended
		p.RetentionDays = 3 * policyDaysPerYear
	case store.ClassificationPublic:
		p.Copies = NotRequired
		p.MinBackupCopies = 0
		p.MediaTypes = NotRequired
		p.MinMediaTypes = 0
		p.Offsite = NotRequired
		p.OfflineOrImmutable = NotRequired
		p.Encryption = NotRequired
		p.Verification = NotRequired
		p.RetentionDays = 1 * policyDaysPerYear
	}
	return p
}

// policyMediaTypes is how many media types there are: the most
// MinMediaTypes can ask for.
var policyMediaTypes = len(store.MediaTypeValues())

// Validate reports the fields of p that cannot be evaluated, as a
// *store.ValidationError naming them.
func (p Policy) Validate() error {
	// The evaluator validates on every call, a sweep 10,000 times: the map
	// is made only for a policy that has something wrong.
	var fields map[string]string
	bad := func(field, msg string) {
		if fields == nil {
			fields = make(map[string]string)
		}
		if _, ok := fields[field]; !ok {
			fields[field] = msg
		}
	}
	for _, r := range [...]struct {
		field string
		level Requirement
	}{
		{"copies", p.Copies},
		{"media_types", p.MediaTypes},
		{"offsite", p.Offsite},
		{"offline_or_immutable", p.OfflineOrImmutable},
		{"verification", p.Verification},
		{"encryption", p.Encryption},
	} {
		if !r.level.Valid() {
			bad(r.field, `must be "required", "recommended" or "not_required"`)
		}
	}
	switch {
	case p.MinBackupCopies < 0:
		bad("min_backup_copies", "must not be negative")
	case p.MinBackupCopies == 0 && p.Copies != NotRequired:
		bad("min_backup_copies", "must be at least 1 unless copies is not_required")
	}
	switch maxTypes := policyMediaTypes; {
	case p.MinMediaTypes < 0:
		bad("min_media_types", "must not be negative")
	case p.MinMediaTypes == 0 && p.MediaTypes != NotRequired:
		bad("min_media_types", "must be at least 1 unless media_types is not_required")
	case p.MinMediaTypes > maxTypes:
		bad("min_media_types", "must be at most "+strconv.Itoa(maxTypes)+", the number of media types")
	}
	if p.RetentionDays < 0 {
		bad("retention_days", "must not be negative")
	}
	for _, d := range [...]struct {
		field string
		d     time.Duration
	}{
		{"offline_freshness", p.OfflineFreshness},
		{"verification_max_age", p.VerificationMaxAge},
		{"due_soon", p.DueSoon},
	} {
		if d.d < 0 {
			bad(d.field, "must not be negative")
		}
	}
	if p.DueSoon%policyDay != 0 {
		bad("due_soon", "must be whole days")
	}
	switch {
	case p.FreshnessFallbackMultiplier < 0:
		bad("freshness_fallback_multiplier", "must not be negative")
	case p.FreshnessFallbackMultiplier > policyMaxMultiplier:
		bad("freshness_fallback_multiplier", "must be at most "+strconv.Itoa(policyMaxMultiplier))
	}
	if fields == nil {
		return nil
	}
	return &store.ValidationError{Fields: fields}
}

// withDefaults fills the durations and the multiplier left at 0.
func (p Policy) withDefaults() Policy {
	p.OfflineFreshness = cmp.Or(p.OfflineFreshness, PolicyOfflineFreshnessDefault)
	p.VerificationMaxAge = cmp.Or(p.VerificationMaxAge, PolicyVerificationMaxAgeDefault)
	p.DueSoon = cmp.Or(p.DueSoon, PolicyDueSoonDefault)
	p.FreshnessFallbackMultiplier = cmp.Or(p.FreshnessFallbackMultiplier, PolicyFreshnessMultiplierDefault)
	return p
}
