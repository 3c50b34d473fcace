package bunstore

import "github.com/custos-dev/custos/store"

// Placeholder: replaced by the real repositories.
type verificationTestRepo struct {
	*conn
	store.VerificationTestStore
}
type verificationScheduleRepo struct {
	*conn
	store.VerificationScheduleStore
}
type complianceRepo struct {
	*conn
	store.ComplianceStore
}
type rollupRepo struct {
	*conn
	store.RollupStore
}
