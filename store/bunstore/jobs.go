package bunstore

import "github.com/custos-dev/custos/store"

// Placeholder: replaced by the real repositories.
type assetRepo struct {
	*conn
	store.AssetStore
}
type jobRepo struct {
	*conn
	store.JobStore
}
type copyRepo struct {
	*conn
	store.CopyStore
}
type executionRepo struct {
	*conn
	store.ExecutionStore
}
