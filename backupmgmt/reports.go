package backupmgmt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/custos-dev/custos/store"
)

// Reports keeps generated reports (DESIGN §11): the renderers are in
// backupmgmt/report; this is where a report is stored, listed and deleted,
// with the audit event of each change.
type Reports Service

// Reports gives the report operations.
func (s *Service) Reports() *Reports { return (*Reports)(s) }

// Save stores a rendered report: the ID, size, SHA-256 and generation
// time are filled in here, and the generating actor is recorded when r has
// none and the context carries a user.
func (rs *Reports) Save(ctx context.Context, r *store.Report) error {
	s := (*Service)(rs)
	if err := rs.prepare(ctx, r); err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		return s.createReport(ctx, tx, r, "report.generate")
	})
}

// DigestAction is the audit action of a saved daily digest; the digest
// tick looks for it to send each day's digest once.
const DigestAction = "report.digest"

// SaveDigest stores the daily digest r like Save, audits it as
// DigestAction, and writes one outbox row about it (a ReportNotice) for
// every active email channel, all in one transaction: a digest is stored
// only together with its mail. It returns how many rows it wrote.
func (rs *Reports) SaveDigest(ctx context.Context, r *store.Report, title, summary string) (queued int, err error) {
	s := (*Service)(rs)
	if err := rs.prepare(ctx, r); err != nil {
		return 0, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		if err := s.createReport(ctx, tx, r, DigestAction); err != nil {
			return err
		}
		var err error
		queued, err = s.queueReport(ctx, tx, r, title, summary, []store.ChannelKind{store.ChannelEmail})
		return err
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}

// prepare fills in what Save fills in and validates r.
func (rs *Reports) prepare(ctx context.Context, r *store.Report) error {
	s := (*Service)(rs)
	now := s.Now()
	if r.ID == "" {
		r.ID = s.cfg.NewID()
	}
	if r.GeneratedAt.IsZero() {
		r.GeneratedAt = now
	}
	r.CreatedAt = now
	r.SizeBytes = int64(len(r.Content))
	sum := sha256.Sum256(r.Content)
	r.SHA256 = hex.EncodeToString(sum[:])
	if r.GeneratedBy == nil {
		r.GeneratedBy = ActorFrom(ctx).userIDPtr()
	}
	return r.Validate()
}

// createReport stores r in tx with its audit event.
func (s *Service) createReport(ctx context.Context, tx store.Repos, r *store.Report, action string) error {
	if err := tx.Reports().Create(ctx, r); err != nil {
		return err
	}
	return s.audit(ctx, tx, action, "report", r.ID, map[string]any{
		"type": r.Type, "format": r.Format, "period_from": r.PeriodFrom, "period_to": r.PeriodTo,
		"size_bytes": r.SizeBytes, "sha256": r.SHA256,
	})
}

// Get returns a report without its content.
func (rs *Reports) Get(ctx context.Context, id string) (*store.Report, error) {
	return rs.store.Reports().Get(ctx, id)
}

// Content returns a report with its content.
func (rs *Reports) Content(ctx context.Context, id string) (*store.Report, error) {
	return rs.store.Reports().GetContent(ctx, id)
}

// List returns reports, newest first, without their content.
func (rs *Reports) List(ctx context.Context, p store.ListReportsParams) (*store.Page[store.Report], error) {
	if err := listFilterErr(p.PageParams, "type", p.Type, store.ReportTypeValues()); err != nil {
		return nil, err
	}
	return rs.store.Reports().List(ctx, p)
}

// Delete removes a report; outbox rows that named it keep their payload.
func (rs *Reports) Delete(ctx context.Context, id string) error {
	s := (*Service)(rs)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		r, err := tx.Reports().Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.Reports().Delete(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "report.delete", "report", id, map[string]any{"type": r.Type, "format": r.Format})
	})
}
