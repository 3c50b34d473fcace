package bunstore

import "github.com/custos-dev/custos/store"

func (c *conn) Users() store.UserStore                 { return userRepo{conn: c} }
func (c *conn) Sessions() store.SessionStore           { return sessionRepo{conn: c} }
func (c *conn) APIKeys() store.APIKeyStore             { return apiKeyRepo{conn: c} }
func (c *conn) Settings() store.SettingStore           { return settingRepo{conn: c} }
func (c *conn) Audit() store.AuditStore                { return auditRepo{conn: c} }
func (c *conn) Assets() store.AssetStore               { return assetRepo{conn: c} }
func (c *conn) Jobs() store.JobStore                   { return jobRepo{conn: c} }
func (c *conn) Copies() store.CopyStore                { return copyRepo{conn: c} }
func (c *conn) Executions() store.ExecutionStore       { return executionRepo{conn: c} }
func (c *conn) Media() store.MediaStore                { return mediaRepo{conn: c} }
func (c *conn) MediaEvents() store.MediaEventStore     { return mediaEventRepo{conn: c} }
func (c *conn) Lendings() store.LendingStore           { return lendingRepo{conn: c} }
func (c *conn) RotationPlans() store.RotationPlanStore { return rotationPlanRepo{conn: c} }
func (c *conn) VerificationTests() store.VerificationTestStore {
	return verificationTestRepo{conn: c}
}
func (c *conn) VerificationSchedules() store.VerificationScheduleStore {
	return verificationScheduleRepo{conn: c}
}
func (c *conn) Compliance() store.ComplianceStore      { return complianceRepo{conn: c} }
func (c *conn) Rollups() store.RollupStore             { return rollupRepo{conn: c} }
func (c *conn) Alerts() store.AlertStore               { return alertRepo{conn: c} }
func (c *conn) Channels() store.ChannelStore           { return channelRepo{conn: c} }
func (c *conn) Notifications() store.NotificationStore { return notificationRepo{conn: c} }
func (c *conn) Reports() store.ReportStore             { return reportRepo{conn: c} }
