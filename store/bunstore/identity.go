package bunstore

import "github.com/custos-dev/custos/store"

// Placeholder: replaced by the real repositories.
type userRepo struct {
	*conn
	store.UserStore
}
type sessionRepo struct {
	*conn
	store.SessionStore
}
type apiKeyRepo struct {
	*conn
	store.APIKeyStore
}
