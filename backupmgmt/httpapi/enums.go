package httpapi

import (
	"reflect"

	"github.com/custos-dev/custos/store"
)

// enumValues lists the values of every store enum that may appear in a
// wire type, for the OpenAPI document and for query-parameter checks.
var enumValues = map[reflect.Type][]string{
	reflect.TypeFor[store.Role]():              enumStrings(store.RoleValues()),
	reflect.TypeFor[store.Scope]():             enumStrings(store.ScopeValues()),
	reflect.TypeFor[store.Classification]():    enumStrings(store.ClassificationValues()),
	reflect.TypeFor[store.JobType]():           enumStrings(store.JobTypeValues()),
	reflect.TypeFor[store.Tool]():              enumStrings(store.ToolValues()),
	reflect.TypeFor[store.ScheduleKind]():      enumStrings(store.ScheduleKindValues()),
	reflect.TypeFor[store.JobState]():          enumStrings(store.JobStateValues()),
	reflect.TypeFor[store.CopyRole]():          enumStrings(store.CopyRoleValues()),
	reflect.TypeFor[store.MediaType]():         enumStrings(store.MediaTypeValues()),
	reflect.TypeFor[store.CopyStatus]():        enumStrings(store.CopyStatusValues()),
	reflect.TypeFor[store.ExecutionStatus]():   enumStrings(store.ExecutionStatusValues()),
	reflect.TypeFor[store.ExecutionSource]():   enumStrings(store.ExecutionSourceValues()),
	reflect.TypeFor[store.TestType]():          enumStrings(store.TestTypeValues()),
	reflect.TypeFor[store.TestResult]():        enumStrings(store.TestResultValues()),
	reflect.TypeFor[store.Frequency]():         enumStrings(store.FrequencyValues()),
	reflect.TypeFor[store.OfflineMediaType]():  enumStrings(store.OfflineMediaTypeValues()),
	reflect.TypeFor[store.MediaStatus]():       enumStrings(store.MediaStatusValues()),
	reflect.TypeFor[store.MediaEventKind]():    enumStrings(store.MediaEventKindValues()),
	reflect.TypeFor[store.ReturnCondition]():   enumStrings(store.ReturnConditionValues()),
	reflect.TypeFor[store.RotationScheme]():    enumStrings(store.RotationSchemeValues()),
	reflect.TypeFor[store.RotationCycle]():     enumStrings(store.RotationCycleValues()),
	reflect.TypeFor[store.SubjectType]():       enumStrings(store.SubjectTypeValues()),
	reflect.TypeFor[store.ComplianceStatus]():  enumStrings(store.ComplianceStatusValues()),
	reflect.TypeFor[store.Severity]():          enumStrings(store.SeverityValues()),
	reflect.TypeFor[store.AlertType]():         enumStrings(store.AlertTypeValues()),
	reflect.TypeFor[store.AlertState]():        enumStrings(store.AlertStateValues()),
	reflect.TypeFor[store.ChannelKind]():       enumStrings(store.ChannelKindValues()),
	reflect.TypeFor[store.NotificationState](): enumStrings(store.NotificationStateValues()),
	reflect.TypeFor[store.ReportType]():        enumStrings(store.ReportTypeValues()),
	reflect.TypeFor[store.ReportFormat]():      enumStrings(store.ReportFormatValues()),
	reflect.TypeFor[store.AuditResult]():       enumStrings(store.AuditResultValues()),
}

func enumStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// enumOf returns the values of a store enum, for a queryParam.
func enumOf[T ~string]() []string { return enumValues[reflect.TypeFor[T]()] }
