package backupmgmt_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

const policyTestDay = 24 * time.Hour

func TestDefaultPolicy(t *testing.T) {
	t.Parallel()

	p := backupmgmt.DefaultPolicy()
	require.Equal(t, backupmgmt.Policy{
		Copies:                      backupmgmt.Required,
		MinBackupCopies:             2,
		MediaTypes:                  backupmgmt.Required,
		MinMediaTypes:               2,
		Offsite:                     backupmgmt.Required,
		OfflineOrImmutable:          backupmgmt.Required,
		Verification:                backupmgmt.Required,
		Encryption:                  backupmgmt.Recommended,
		RetentionDays:               0,
		OfflineFreshness:            7 * policyTestDay,
		VerificationMaxAge:          92 * policyTestDay,
		DueSoon:                     7 * policyTestDay,
		FreshnessFallbackMultiplier: 2,
	}, p)
	require.NoError(t, p.Validate())
}

func TestPresetFor(t *testing.T) {
	t.Parallel()

	// The table of DESIGN §4.3, plus the media and verification levels the
	// presets document.
	tests := []struct {
		class                                      store.Classification
		copies                                     int
		copiesLevel                                backupmgmt.Requirement
		mediaTypes                                 int
		mediaLevel                                 backupmgmt.Requirement
		offsite, offline, encryption, verification backupmgmt.Requirement
		retentionDays                              int
	}{
		{
			class: store.ClassificationRestricted, copies: 2, copiesLevel: backupmgmt.Required,
			mediaTypes: 2, mediaLevel: backupmgmt.Required,
			offsite: backupmgmt.Required, offline: backupmgmt.Required,
			encryption: backupmgmt.Required, verification: backupmgmt.Required,
			retentionDays: 7 * 365,
		},
		{
			class: store.ClassificationConfidential, copies: 2, copiesLevel: backupmgmt.Required,
			mediaTypes: 2, mediaLevel: backupmgmt.Required,
			offsite: backupmgmt.Required, offline: backupmgmt.Recommended,
			encryption: backupmgmt.Required, verification: backupmgmt.Required,
			retentionDays: 5 * 365,
		},
		{
			class: store.ClassificationInternal, copies: 1, copiesLevel: backupmgmt.Required,
			mediaTypes: 1, mediaLevel: backupmgmt.Required,
			offsite: backupmgmt.Recommended, offline: backupmgmt.Recommended,
			encryption: backupmgmt.Recommended, verification: backupmgmt.Recommended,
			retentionDays: 3 * 365,
		},
		{
			class: store.ClassificationPublic, copies: 0, copiesLevel: backupmgmt.NotRequired,
			mediaTypes: 0, mediaLevel: backupmgmt.NotRequired,
			offsite: backupmgmt.NotRequired, offline: backupmgmt.NotRequired,
			encryption: backupmgmt.NotRequired, verification: backupmgmt.NotRequired,
			retentionDays: 365,
		},
	}
	for _, tt := range tests {
		t.Run(string(tt.class), func(t *testing.T) {
			t.Parallel()

			p := backupmgmt.PresetFor(tt.class)
			require.Equal(t, backupmgmt.Policy{
				Copies:                      tt.copiesLevel,
				MinBackupCopies:             tt.copies,
				MediaTypes:                  tt.mediaLevel,
				MinMediaTypes:               tt.mediaTypes,
				Offsite:                     tt.offsite,
				OfflineOrImmutable:          tt.offline,
				Verification:                tt.verification,
				Encryption:                  tt.encryption,
				RetentionDays:               tt.retentionDays,
				OfflineFreshness:            7 * policyTestDay,
				VerificationMaxAge:          92 * policyTestDay,
				DueSoon:                     7 * policyTestDay,
				FreshnessFallbackMultiplier: 2,
			}, p)
			require.NoError(t, p.Validate())
		})
	}

	t.Run("CoversEveryClassification", func(t *testing.T) {
		t.Parallel()

		var covered []store.Classification
		for _, tt := range tests {
			covered = append(covered, tt.class)
		}
		require.ElementsMatch(t, store.ClassificationValues(), covered)
	})

	t.Run("UnknownClassificationGetsTheDefault", func(t *testing.T) {
		t.Parallel()

		require.Equal(t, backupmgmt.DefaultPolicy(), backupmgmt.PresetFor(""))
		require.Equal(t, backupmgmt.DefaultPolicy(), backupmgmt.PresetFor("secret"))
	})
}

func TestRequirementValid(t *testing.T) {
	t.Parallel()

	for _, r := range []backupmgmt.Requirement{backupmgmt.Required, backupmgmt.Recommended, backupmgmt.NotRequired} {
		require.True(t, r.Valid(), r)
	}
	for _, r := range []backupmgmt.Requirement{"", "Required", "optional"} {
		require.False(t, r.Valid(), r)
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		modify func(p *backupmgmt.Policy)
		fields map[string]string // nil: valid
	}{
		{name: "AcceptsTheDefault", modify: func(*backupmgmt.Policy) {}},
		{
			name: "AcceptsZeroDurationsAsDefaults",
			modify: func(p *backupmgmt.Policy) {
				p.OfflineFreshness, p.VerificationMaxAge, p.DueSoon, p.FreshnessFallbackMultiplier = 0, 0, 0, 0
			},
		},
		{
			name: "AcceptsZeroCountsWhenNotRequired",
			modify: func(p *backupmgmt.Policy) {
				p.Copies, p.MinBackupCopies = backupmgmt.NotRequired, 0
				p.MediaTypes, p.MinMediaTypes = backupmgmt.NotRequired, 0
			},
		},
		{
			name:   "AcceptsEveryMediaType",
			modify: func(p *backupmgmt.Policy) { p.MinMediaTypes = len(store.MediaTypeValues()) },
		},
		{
			name: "RejectsMissingLevels",
			modify: func(p *backupmgmt.Policy) {
				p.Copies, p.MediaTypes, p.Offsite, p.OfflineOrImmutable, p.Verification, p.Encryption = "", "", "", "", "", "mandatory"
			},
			fields: map[string]string{
				"copies":               `must be "required", "recommended" or "not_required"`,
				"media_types":          `must be "required", "recommended" or "not_required"`,
				"offsite":              `must be "required", "recommended" or "not_required"`,
				"offline_or_immutable": `must be "required", "recommended" or "not_required"`,
				"verification":         `must be "required", "recommended" or "not_required"`,
				"encryption":           `must be "required", "recommended" or "not_required"`,
			},
		},
		{
			name: "RejectsNegativeNumbers",
			modify: func(p *backupmgmt.Policy) {
				p.MinBackupCopies, p.MinMediaTypes, p.RetentionDays = -1, -1, -1
				p.OfflineFreshness, p.VerificationMaxAge, p.DueSoon = -time.Hour, -time.Hour, -policyTestDay
				p.FreshnessFallbackMultiplier = -2
			},
			fields: map[string]string{
				"min_backup_copies":             "must not be negative",
				"min_media_types":               "must not be negative",
				"retention_days":                "must not be negative",
				"offline_freshness":             "must not be negative",
				"verification_max_age":          "must not be negative",
				"due_soon":                      "must not be negative",
				"freshness_fallback_multiplier": "must not be negative",
			},
		},
		{
			name:   "RejectsZeroCopiesWhenRequired",
			modify: func(p *backupmgmt.Policy) { p.MinBackupCopies, p.MinMediaTypes = 0, 0 },
			fields: map[string]string{
				"min_backup_copies": "must be at least 1 unless copies is not_required",
				"min_media_types":   "must be at least 1 unless media_types is not_required",
			},
		},
		{
			name:   "RejectsZeroCopiesWhenRecommended",
			modify: func(p *backupmgmt.Policy) { p.Copies, p.MinBackupCopies = backupmgmt.Recommended, 0 },
			fields: map[string]string{"min_backup_copies": "must be at least 1 unless copies is not_required"},
		},
		{
			name:   "RejectsMoreMediaTypesThanExist",
			modify: func(p *backupmgmt.Policy) { p.MinMediaTypes = len(store.MediaTypeValues()) + 1 },
			fields: map[string]string{"min_media_types": "must be at most 7, the number of media types"},
		},
		{
			name:   "RejectsDueSoonInPartialDays",
			modify: func(p *backupmgmt.Policy) { p.DueSoon = 36 * time.Hour },
			fields: map[string]string{"due_soon": "must be whole days"},
		},
		{
			name:   "RejectsAHugeMultiplier",
			modify: func(p *backupmgmt.Policy) { p.FreshnessFallbackMultiplier = 101 },
			fields: map[string]string{"freshness_fallback_multiplier": "must be at most 100"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			p := backupmgmt.DefaultPolicy()
			tt.modify(&p)
			err := p.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			var ve *store.ValidationError
			require.True(t, errors.As(err, &ve), "want *store.ValidationError, got %v", err)
			require.Equal(t, tt.fields, ve.Fields, "fields %v", slices.Sorted(maps.Keys(ve.Fields)))
		})
	}
}
