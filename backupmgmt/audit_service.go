package backupmgmt

import (
	"context"
	"fmt"

	"github.com/custos-dev/custos/store"
)

// Audit is the audit log of a Service (DESIGN §4.8). The service writes an
// event for every audited action itself, in the transaction of the action;
// Record is for what happens outside it, such as a permission denial found
// by the HTTP layer.
type Audit Service

// Record appends an event made by the actor of ctx. Entry fields left empty
// are filled from the actor: Actor, IP and RequestID; Result defaults to
// success.
func (a *Audit) Record(ctx context.Context, e AuditEntry) (*store.AuditEvent, error) {
	return (*Service)(a).appendAudit(ctx, a.store, e)
}

// Verify walks the whole chain and reports the first broken link.
func (a *Audit) Verify(ctx context.Context) (AuditVerification, error) {
	return VerifyAudit(ctx, a.store.Audit(), 0)
}

// List returns audit events, newest first.
func (a *Audit) List(ctx context.Context, p store.ListAuditParams) (*store.Page[store.AuditEvent], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return a.store.Audit().List(ctx, p)
}

// ApplyRetention deletes the events older than Config.AuditRetention and
// reports how many went. The oldest remaining event becomes the chain's
// anchor (AuditVerification.Anchor).
func (a *Audit) ApplyRetention(ctx context.Context) (int64, error) {
	cutoff := (*Service)(a).Now().Add(-a.cfg.AuditRetention)
	n, err := a.store.Audit().DeleteBefore(ctx, cutoff)
	if err != nil {
		return 0, fmt.Errorf("backupmgmt: audit retention: %w", err)
	}
	return n, nil
}

// appendAudit writes e through repos (a store or a transaction), filling
// what the actor of ctx knows.
func (s *Service) appendAudit(ctx context.Context, repos store.Repos, e AuditEntry) (*store.AuditEvent, error) {
	actor := ActorFrom(ctx)
	if e.Actor == "" {
		e.Actor = actor.String()
	}
	if e.IP == "" {
		e.IP = actor.IP
	}
	if e.RequestID == "" {
		e.RequestID = actor.RequestID
	}
	if e.Result == "" {
		e.Result = store.AuditSuccess
	}
	return AppendAudit(ctx, repos, s.Now(), e)
}

// audit records a successful action by the actor of ctx inside tx, so the
// event commits with the action or not at all.
func (s *Service) audit(ctx context.Context, tx store.Repos, action, resourceType, resourceID string, details any) error {
	_, err := s.appendAudit(ctx, tx, AuditEntry{
		Action:       action,
		ResourceType: resourceType,
		ResourceID:   resourceID,
		Details:      details,
	})
	return err
}
