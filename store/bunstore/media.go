package bunstore

import "github.com/custos-dev/custos/store"

// Placeholder: replaced by the real repositories.
type mediaRepo struct {
	*conn
	store.MediaStore
}
type mediaEventRepo struct {
	*conn
	store.MediaEventStore
}
type lendingRepo struct {
	*conn
	store.LendingStore
}
type rotationPlanRepo struct {
	*conn
	store.RotationPlanStore
}
