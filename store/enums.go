package store

import "slices"

// Role is the RBAC role of a user.
type Role string

// Role values.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
	RoleAuditor  Role = "auditor"
)

var roleValues = []Role{RoleAdmin, RoleOperator, RoleViewer, RoleAuditor}

// Valid reports whether v is one of the defined Role values.
func (v Role) Valid() bool { return slices.Contains(roleValues, v) }

// RoleValues returns every defined Role, in order.
func RoleValues() []Role { return slices.Clone(roleValues) }

// Scope is what an API key may do.
type Scope string

// Scope values.
const (
	ScopeRead   Scope = "read"
	ScopeWrite  Scope = "write"
	ScopeIngest Scope = "ingest"
	ScopeAdmin  Scope = "admin"
)

var scopeValues = []Scope{ScopeRead, ScopeWrite, ScopeIngest, ScopeAdmin}

// Valid reports whether v is one of the defined Scope values.
func (v Scope) Valid() bool { return slices.Contains(scopeValues, v) }

// ScopeValues returns every defined Scope, in order.
func ScopeValues() []Scope { return slices.Clone(scopeValues) }

// Classification is the sensitivity class of an asset; it picks the compliance policy preset.
type Classification string

// Classification values.
const (
	ClassificationRestricted   Classification = "restricted"
	ClassificationConfidential Classification = "confidential"
	ClassificationInternal     Classification = "internal"
	ClassificationPublic       Classification = "public"
)

var classificationValues = []Classification{ClassificationRestricted, ClassificationConfidential, ClassificationInternal, ClassificationPublic}

// Valid reports whether v is one of the defined Classification values.
func (v Classification) Valid() bool { return slices.Contains(classificationValues, v) }

// ClassificationValues returns every defined Classification, in order.
func ClassificationValues() []Classification { return slices.Clone(classificationValues) }

// JobType is what a job backs up.
type JobType string

// JobType values.
const (
	JobTypeSystemImage   JobType = "system_image"
	JobTypeFile          JobType = "file"
	JobTypeDatabase      JobType = "database"
	JobTypeVM            JobType = "vm"
	JobTypeContainer     JobType = "container"
	JobTypeObjectStorage JobType = "object_storage"
	JobTypeOther         JobType = "other"
)

var jobTypeValues = []JobType{JobTypeSystemImage, JobTypeFile, JobTypeDatabase, JobTypeVM, JobTypeContainer, JobTypeObjectStorage, JobTypeOther}

// Valid reports whether v is one of the defined JobType values.
func (v JobType) Valid() bool { return slices.Contains(jobTypeValues, v) }

// JobTypeValues returns every defined JobType, in order.
func JobTypeValues() []JobType { return slices.Clone(jobTypeValues) }

// Tool is the program that makes a job's backups.
type Tool string

// Tool values.
const (
	ToolVeeam     Tool = "veeam"
	ToolWSB       Tool = "wsb"
	ToolAOMEI     Tool = "aomei"
	ToolRestic    Tool = "restic"
	ToolBorg      Tool = "borg"
	ToolKopia     Tool = "kopia"
	ToolBareos    Tool = "bareos"
	ToolVelero    Tool = "velero"
	ToolPgDump    Tool = "pg_dump"
	ToolMySQLDump Tool = "mysqldump"
	ToolRsync     Tool = "rsync"
	ToolCustom    Tool = "custom"
)

var toolValues = []Tool{ToolVeeam, ToolWSB, ToolAOMEI, ToolRestic, ToolBorg, ToolKopia, ToolBareos, ToolVelero, ToolPgDump, ToolMySQLDump, ToolRsync, ToolCustom}

// Valid reports whether v is one of the defined Tool values.
func (v Tool) Valid() bool { return slices.Contains(toolValues, v) }

// ToolValues returns every defined Tool, in order.
func ToolValues() []Tool { return slices.Clone(toolValues) }

// ScheduleKind is how a job's runs are expected.
type ScheduleKind string

// ScheduleKind values.
const (
	ScheduleCron     ScheduleKind = "cron"
	ScheduleInterval ScheduleKind = "interval"
	ScheduleManual   ScheduleKind = "manual"
)

var scheduleKindValues = []ScheduleKind{ScheduleCron, ScheduleInterval, ScheduleManual}

// Valid reports whether v is one of the defined ScheduleKind values.
func (v ScheduleKind) Valid() bool { return slices.Contains(scheduleKindValues, v) }

// ScheduleKindValues returns every defined ScheduleKind, in order.
func ScheduleKindValues() []ScheduleKind { return slices.Clone(scheduleKindValues) }

// JobState is the watchdog's view of a job.
type JobState string

// JobState values.
const (
	JobStateNew     JobState = "new"
	JobStateUp      JobState = "up"
	JobStateRunning JobState = "running"
	JobStateLate    JobState = "late"
	JobStateMissed  JobState = "missed"
	JobStateFailed  JobState = "failed"
	JobStatePaused  JobState = "paused"
)

var jobStateValues = []JobState{JobStateNew, JobStateUp, JobStateRunning, JobStateLate, JobStateMissed, JobStateFailed, JobStatePaused}

// Valid reports whether v is one of the defined JobState values.
func (v JobState) Valid() bool { return slices.Contains(jobStateValues, v) }

// JobStateValues returns every defined JobState, in order.
func JobStateValues() []JobState { return slices.Clone(jobStateValues) }

// CopyRole is the part a copy plays in the 3-2-1-1-0 rule.
type CopyRole string

// CopyRole values.
const (
	CopyRolePrimary   CopyRole = "primary"
	CopyRoleSecondary CopyRole = "secondary"
	CopyRoleOffsite   CopyRole = "offsite"
	CopyRoleOffline   CopyRole = "offline"
)

var copyRoleValues = []CopyRole{CopyRolePrimary, CopyRoleSecondary, CopyRoleOffsite, CopyRoleOffline}

// Valid reports whether v is one of the defined CopyRole values.
func (v CopyRole) Valid() bool { return slices.Contains(copyRoleValues, v) }

// CopyRoleValues returns every defined CopyRole, in order.
func CopyRoleValues() []CopyRole { return slices.Clone(copyRoleValues) }

// MediaType is the kind of media a copy is written to.
type MediaType string

// MediaType values.
const (
	MediaDisk        MediaType = "disk"
	MediaNAS         MediaType = "nas"
	MediaTape        MediaType = "tape"
	MediaCloudObject MediaType = "cloud_object"
	MediaExternalHDD MediaType = "external_hdd"
	MediaUSB         MediaType = "usb"
	MediaOptical     MediaType = "optical"
)

var mediaTypeValues = []MediaType{MediaDisk, MediaNAS, MediaTape, MediaCloudObject, MediaExternalHDD, MediaUSB, MediaOptical}

// Valid reports whether v is one of the defined MediaType values.
func (v MediaType) Valid() bool { return slices.Contains(mediaTypeValues, v) }

// MediaTypeValues returns every defined MediaType, in order.
func MediaTypeValues() []MediaType { return slices.Clone(mediaTypeValues) }

// CopyStatus is the health of a copy.
type CopyStatus string

// CopyStatus values.
const (
	CopyStatusOK      CopyStatus = "ok"
	CopyStatusWarning CopyStatus = "warning"
	CopyStatusFailed  CopyStatus = "failed"
	CopyStatusUnknown CopyStatus = "unknown"
)

var copyStatusValues = []CopyStatus{CopyStatusOK, CopyStatusWarning, CopyStatusFailed, CopyStatusUnknown}

// Valid reports whether v is one of the defined CopyStatus values.
func (v CopyStatus) Valid() bool { return slices.Contains(copyStatusValues, v) }

// CopyStatusValues returns every defined CopyStatus, in order.
func CopyStatusValues() []CopyStatus { return slices.Clone(copyStatusValues) }

// ExecutionStatus is the outcome of one run.
type ExecutionStatus string

// ExecutionStatus values.
const (
	ExecutionRunning  ExecutionStatus = "running"
	ExecutionSuccess  ExecutionStatus = "success"
	ExecutionWarning  ExecutionStatus = "warning"
	ExecutionFailed   ExecutionStatus = "failed"
	ExecutionCanceled ExecutionStatus = "canceled"
	ExecutionMissed   ExecutionStatus = "missed"
)

var executionStatusValues = []ExecutionStatus{ExecutionRunning, ExecutionSuccess, ExecutionWarning, ExecutionFailed, ExecutionCanceled, ExecutionMissed}

// Valid reports whether v is one of the defined ExecutionStatus values.
func (v ExecutionStatus) Valid() bool { return slices.Contains(executionStatusValues, v) }

// ExecutionStatusValues returns every defined ExecutionStatus, in order.
func ExecutionStatusValues() []ExecutionStatus { return slices.Clone(executionStatusValues) }

// ExecutionSource is where an execution record came from.
type ExecutionSource string

// ExecutionSource values.
const (
	SourceAPI       ExecutionSource = "api"
	SourcePing      ExecutionSource = "ping"
	SourceRestic    ExecutionSource = "restic"
	SourceBorg      ExecutionSource = "borg"
	SourceKopia     ExecutionSource = "kopia"
	SourceVeeam     ExecutionSource = "veeam"
	SourceWSB       ExecutionSource = "wsb"
	SourceAOMEI     ExecutionSource = "aomei"
	SourceVelero    ExecutionSource = "velero"
	SourceBareos    ExecutionSource = "bareos"
	SourceScheduler ExecutionSource = "scheduler"
	SourceManual    ExecutionSource = "manual"
	SourceImport    ExecutionSource = "import"
)

var executionSourceValues = []ExecutionSource{SourceAPI, SourcePing, SourceRestic, SourceBorg, SourceKopia, SourceVeeam, SourceWSB, SourceAOMEI, SourceVelero, SourceBareos, SourceScheduler, SourceManual, SourceImport}

// Valid reports whether v is one of the defined ExecutionSource values.
func (v ExecutionSource) Valid() bool { return slices.Contains(executionSourceValues, v) }

// ExecutionSourceValues returns every defined ExecutionSource, in order.
func ExecutionSourceValues() []ExecutionSource { return slices.Clone(executionSourceValues) }

// TestType is the kind of restore test.
type TestType string

// TestType values.
const (
	TestFullRestore    TestType = "full_restore"
	TestPartialRestore TestType = "partial_restore"
	TestIntegrity      TestType = "integrity"
	TestBoot           TestType = "boot"
	TestApplication    TestType = "application"
)

var testTypeValues = []TestType{TestFullRestore, TestPartialRestore, TestIntegrity, TestBoot, TestApplication}

// Valid reports whether v is one of the defined TestType values.
func (v TestType) Valid() bool { return slices.Contains(testTypeValues, v) }

// TestTypeValues returns every defined TestType, in order.
func TestTypeValues() []TestType { return slices.Clone(testTypeValues) }

// TestResult is the outcome of a restore test.
type TestResult string

// TestResult values.
const (
	TestSuccess TestResult = "success"
	TestWarning TestResult = "warning"
	TestFailed  TestResult = "failed"
)

var testResultValues = []TestResult{TestSuccess, TestWarning, TestFailed}

// Valid reports whether v is one of the defined TestResult values.
func (v TestResult) Valid() bool { return slices.Contains(testResultValues, v) }

// TestResultValues returns every defined TestResult, in order.
func TestResultValues() []TestResult { return slices.Clone(testResultValues) }

// Frequency is how often a restore test is due.
type Frequency string

// Frequency values.
const (
	FrequencyMonthly    Frequency = "monthly"
	FrequencyQuarterly  Frequency = "quarterly"
	FrequencySemiannual Frequency = "semiannual"
	FrequencyAnnual     Frequency = "annual"
)

var frequencyValues = []Frequency{FrequencyMonthly, FrequencyQuarterly, FrequencySemiannual, FrequencyAnnual}

// Valid reports whether v is one of the defined Frequency values.
func (v Frequency) Valid() bool { return slices.Contains(frequencyValues, v) }

// FrequencyValues returns every defined Frequency, in order.
func FrequencyValues() []Frequency { return slices.Clone(frequencyValues) }

// OfflineMediaType is the kind of an offline medium.
type OfflineMediaType string

// OfflineMediaType values.
const (
	OfflineTape        OfflineMediaType = "tape"
	OfflineExternalHDD OfflineMediaType = "external_hdd"
	OfflineUSB         OfflineMediaType = "usb"
	OfflineOptical     OfflineMediaType = "optical"
	OfflineCartridge   OfflineMediaType = "cartridge"
)

var offlineMediaTypeValues = []OfflineMediaType{OfflineTape, OfflineExternalHDD, OfflineUSB, OfflineOptical, OfflineCartridge}

// Valid reports whether v is one of the defined OfflineMediaType values.
func (v OfflineMediaType) Valid() bool { return slices.Contains(offlineMediaTypeValues, v) }

// OfflineMediaTypeValues returns every defined OfflineMediaType, in order.
func OfflineMediaTypeValues() []OfflineMediaType { return slices.Clone(offlineMediaTypeValues) }

// MediaStatus is where an offline medium is in its life.
type MediaStatus string

// MediaStatus values.
const (
	MediaAvailable     MediaStatus = "available"
	MediaInUse         MediaStatus = "in_use"
	MediaStoredOffsite MediaStatus = "stored_offsite"
	MediaLent          MediaStatus = "lent"
	MediaRetired       MediaStatus = "retired"
)

var mediaStatusValues = []MediaStatus{MediaAvailable, MediaInUse, MediaStoredOffsite, MediaLent, MediaRetired}

// Valid reports whether v is one of the defined MediaStatus values.
func (v MediaStatus) Valid() bool { return slices.Contains(mediaStatusValues, v) }

// MediaStatusValues returns every defined MediaStatus, in order.
func MediaStatusValues() []MediaStatus { return slices.Clone(mediaStatusValues) }

// MediaEventKind is a step in a medium's chain of custody.
type MediaEventKind string

// MediaEventKind values.
const (
	MediaEventRegistered MediaEventKind = "registered"
	MediaEventLent       MediaEventKind = "lent"
	MediaEventReturned   MediaEventKind = "returned"
	MediaEventMoved      MediaEventKind = "moved"
	MediaEventWritten    MediaEventKind = "written"
	MediaEventRotated    MediaEventKind = "rotated"
	MediaEventRetired    MediaEventKind = "retired"
)

var mediaEventKindValues = []MediaEventKind{MediaEventRegistered, MediaEventLent, MediaEventReturned, MediaEventMoved, MediaEventWritten, MediaEventRotated, MediaEventRetired}

// Valid reports whether v is one of the defined MediaEventKind values.
func (v MediaEventKind) Valid() bool { return slices.Contains(mediaEventKindValues, v) }

// MediaEventKindValues returns every defined MediaEventKind, in order.
func MediaEventKindValues() []MediaEventKind { return slices.Clone(mediaEventKindValues) }

// ReturnCondition is the state a lent medium came back in.
type ReturnCondition string

// ReturnCondition values.
const (
	ReturnNormal  ReturnCondition = "normal"
	ReturnDamaged ReturnCondition = "damaged"
	ReturnLost    ReturnCondition = "lost"
)

var returnConditionValues = []ReturnCondition{ReturnNormal, ReturnDamaged, ReturnLost}

// Valid reports whether v is one of the defined ReturnCondition values.
func (v ReturnCondition) Valid() bool { return slices.Contains(returnConditionValues, v) }

// ReturnConditionValues returns every defined ReturnCondition, in order.
func ReturnConditionValues() []ReturnCondition { return slices.Clone(returnConditionValues) }

// RotationScheme is a media rotation scheme.
type RotationScheme string

// RotationScheme values.
const (
	SchemeGFS          RotationScheme = "gfs"
	SchemeTowerOfHanoi RotationScheme = "tower_of_hanoi"
	SchemeRoundRobin   RotationScheme = "round_robin"
)

var rotationSchemeValues = []RotationScheme{SchemeGFS, SchemeTowerOfHanoi, SchemeRoundRobin}

// Valid reports whether v is one of the defined RotationScheme values.
func (v RotationScheme) Valid() bool { return slices.Contains(rotationSchemeValues, v) }

// RotationSchemeValues returns every defined RotationScheme, in order.
func RotationSchemeValues() []RotationScheme { return slices.Clone(rotationSchemeValues) }

// RotationCycle is how often a rotation plan turns.
type RotationCycle string

// RotationCycle values.
const (
	CycleDaily   RotationCycle = "daily"
	CycleWeekly  RotationCycle = "weekly"
	CycleMonthly RotationCycle = "monthly"
)

var rotationCycleValues = []RotationCycle{CycleDaily, CycleWeekly, CycleMonthly}

// Valid reports whether v is one of the defined RotationCycle values.
func (v RotationCycle) Valid() bool { return slices.Contains(rotationCycleValues, v) }

// RotationCycleValues returns every defined RotationCycle, in order.
func RotationCycleValues() []RotationCycle { return slices.Clone(rotationCycleValues) }

// SubjectType is what a compliance evaluation is about.
type SubjectType string

// SubjectType values.
const (
	SubjectJob   SubjectType = "job"
	SubjectAsset SubjectType = "asset"
)

var subjectTypeValues = []SubjectType{SubjectJob, SubjectAsset}

// Valid reports whether v is one of the defined SubjectType values.
func (v SubjectType) Valid() bool { return slices.Contains(subjectTypeValues, v) }

// SubjectTypeValues returns every defined SubjectType, in order.
func SubjectTypeValues() []SubjectType { return slices.Clone(subjectTypeValues) }

// ComplianceStatus is the verdict of the 3-2-1-1-0 evaluation.
type ComplianceStatus string

// ComplianceStatus values.
const (
	ComplianceCompliant    ComplianceStatus = "compliant"
	ComplianceWarning      ComplianceStatus = "warning"
	ComplianceNonCompliant ComplianceStatus = "non_compliant"
	ComplianceUnknown      ComplianceStatus = "unknown"
)

var complianceStatusValues = []ComplianceStatus{ComplianceCompliant, ComplianceWarning, ComplianceNonCompliant, ComplianceUnknown}

// Valid reports whether v is one of the defined ComplianceStatus values.
func (v ComplianceStatus) Valid() bool { return slices.Contains(complianceStatusValues, v) }

// ComplianceStatusValues returns every defined ComplianceStatus, in order.
func ComplianceStatusValues() []ComplianceStatus { return slices.Clone(complianceStatusValues) }

// Severity is how bad an alert is; the order of the constants is the order of severity.
type Severity string

// Severity values.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityError    Severity = "error"
	SeverityCritical Severity = "critical"
)

var severityValues = []Severity{SeverityInfo, SeverityWarning, SeverityError, SeverityCritical}

// Valid reports whether v is one of the defined Severity values.
func (v Severity) Valid() bool { return slices.Contains(severityValues, v) }

// SeverityValues returns every defined Severity, in order.
func SeverityValues() []Severity { return slices.Clone(severityValues) }

// AlertType is why an alert was raised.
type AlertType string

// AlertType values.
const (
	AlertBackupFailed        AlertType = "backup_failed"
	AlertBackupMissed        AlertType = "backup_missed"
	AlertBackupStuck         AlertType = "backup_stuck"
	AlertBackupAnomaly       AlertType = "backup_anomaly"
	AlertComplianceViolation AlertType = "compliance_violation"
	AlertComplianceWarning   AlertType = "compliance_warning"
	AlertVerificationFailed  AlertType = "verification_failed"
	AlertVerificationOverdue AlertType = "verification_overdue"
	AlertMediaLendingOverdue AlertType = "media_lending_overdue"
	AlertMediaRotationDue    AlertType = "media_rotation_due"
	AlertSLABreach           AlertType = "sla_breach"
)

var alertTypeValues = []AlertType{AlertBackupFailed, AlertBackupMissed, AlertBackupStuck, AlertBackupAnomaly, AlertComplianceViolation, AlertComplianceWarning, AlertVerificationFailed, AlertVerificationOverdue, AlertMediaLendingOverdue, AlertMediaRotationDue, AlertSLABreach}

// Valid reports whether v is one of the defined AlertType values.
func (v AlertType) Valid() bool { return slices.Contains(alertTypeValues, v) }

// AlertTypeValues returns every defined AlertType, in order.
func AlertTypeValues() []AlertType { return slices.Clone(alertTypeValues) }

// AlertState is where an alert is in its lifecycle.
type AlertState string

// AlertState values.
const (
	AlertOpen         AlertState = "open"
	AlertAcknowledged AlertState = "acknowledged"
	AlertResolved     AlertState = "resolved"
)

var alertStateValues = []AlertState{AlertOpen, AlertAcknowledged, AlertResolved}

// Valid reports whether v is one of the defined AlertState values.
func (v AlertState) Valid() bool { return slices.Contains(alertStateValues, v) }

// AlertStateValues returns every defined AlertState, in order.
func AlertStateValues() []AlertState { return slices.Clone(alertStateValues) }

// ChannelKind is a notification transport.
type ChannelKind string

// ChannelKind values.
const (
	ChannelEmail   ChannelKind = "email"
	ChannelSlack   ChannelKind = "slack"
	ChannelTeams   ChannelKind = "teams"
	ChannelWebhook ChannelKind = "webhook"
)

var channelKindValues = []ChannelKind{ChannelEmail, ChannelSlack, ChannelTeams, ChannelWebhook}

// Valid reports whether v is one of the defined ChannelKind values.
func (v ChannelKind) Valid() bool { return slices.Contains(channelKindValues, v) }

// ChannelKindValues returns every defined ChannelKind, in order.
func ChannelKindValues() []ChannelKind { return slices.Clone(channelKindValues) }

// NotificationState is where an outbox row is in delivery.
type NotificationState string

// NotificationState values.
const (
	NotificationPending NotificationState = "pending"
	NotificationSent    NotificationState = "sent"
	NotificationFailed  NotificationState = "failed"
	NotificationDead    NotificationState = "dead"
)

var notificationStateValues = []NotificationState{NotificationPending, NotificationSent, NotificationFailed, NotificationDead}

// Valid reports whether v is one of the defined NotificationState values.
func (v NotificationState) Valid() bool { return slices.Contains(notificationStateValues, v) }

// NotificationStateValues returns every defined NotificationState, in order.
func NotificationStateValues() []NotificationState { return slices.Clone(notificationStateValues) }

// ReportType is a kind of report.
type ReportType string

// ReportType values.
const (
	ReportDaily        ReportType = "daily"
	ReportWeekly       ReportType = "weekly"
	ReportMonthly      ReportType = "monthly"
	ReportCompliance   ReportType = "compliance"
	ReportVerification ReportType = "verification"
	ReportMedia        ReportType = "media"
	ReportAudit        ReportType = "audit"
	ReportISO27001     ReportType = "iso27001"
)

var reportTypeValues = []ReportType{ReportDaily, ReportWeekly, ReportMonthly, ReportCompliance, ReportVerification, ReportMedia, ReportAudit, ReportISO27001}

// Valid reports whether v is one of the defined ReportType values.
func (v ReportType) Valid() bool { return slices.Contains(reportTypeValues, v) }

// ReportTypeValues returns every defined ReportType, in order.
func ReportTypeValues() []ReportType { return slices.Clone(reportTypeValues) }

// ReportFormat is a report's file format.
type ReportFormat string

// ReportFormat values.
const (
	FormatHTML ReportFormat = "html"
	FormatCSV  ReportFormat = "csv"
	FormatJSON ReportFormat = "json"
	FormatPDF  ReportFormat = "pdf"
)

var reportFormatValues = []ReportFormat{FormatHTML, FormatCSV, FormatJSON, FormatPDF}

// Valid reports whether v is one of the defined ReportFormat values.
func (v ReportFormat) Valid() bool { return slices.Contains(reportFormatValues, v) }

// ReportFormatValues returns every defined ReportFormat, in order.
func ReportFormatValues() []ReportFormat { return slices.Clone(reportFormatValues) }

// AuditResult is the outcome of an audited action.
type AuditResult string

// AuditResult values.
const (
	AuditSuccess AuditResult = "success"
	AuditDenied  AuditResult = "denied"
	AuditFailed  AuditResult = "failed"
)

var auditResultValues = []AuditResult{AuditSuccess, AuditDenied, AuditFailed}

// Valid reports whether v is one of the defined AuditResult values.
func (v AuditResult) Valid() bool { return slices.Contains(auditResultValues, v) }

// AuditResultValues returns every defined AuditResult, in order.
func AuditResultValues() []AuditResult { return slices.Clone(auditResultValues) }
