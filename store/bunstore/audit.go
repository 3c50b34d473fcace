package bunstore

import "github.com/custos-dev/custos/store"

// Placeholder: replaced by the real repositories.
type auditRepo struct {
	*conn
	store.AuditStore
}
type settingRepo struct {
	*conn
	store.SettingStore
}
