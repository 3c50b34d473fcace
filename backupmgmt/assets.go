package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/custos-dev/custos/store"
)

// Assets manages the protected systems and data sets whose classification
// picks the compliance policy of their jobs (DESIGN §4.3).
type Assets Service

// Assets gives the asset operations.
func (s *Service) Assets() *Assets { return (*Assets)(s) }

// ErrAssetInUse is returned when deleting an asset that jobs still belong
// to: move or delete the jobs first.
var ErrAssetInUse = errors.New("backupmgmt: asset is in use by jobs")

// AssetParams are the user-settable fields of a new asset.
type AssetParams struct {
	Name           string
	Description    string
	Classification store.Classification
	OwnerID        *string // optional; must name a user
}

// AssetUpdate changes some fields of an asset: a nil field is kept.
type AssetUpdate struct {
	Name           *string
	Description    *string
	Classification *store.Classification
	// OwnerID names the owner; a pointer to "" removes it.
	OwnerID *string
}

// Create validates p and stores a new asset, evaluating its compliance
// (an asset no job protects yet fails every digit its policy requires). A
// taken name is store.ErrConflict.
func (as *Assets) Create(ctx context.Context, p AssetParams) (*store.Asset, error) {
	s := (*Service)(as)
	now := s.Now()
	a := &store.Asset{
		ID:             s.cfg.NewID(),
		Name:           p.Name,
		Description:    p.Description,
		Classification: p.Classification,
		OwnerID:        jobsOptionalID(p.OwnerID),
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	var out store.Asset
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		if err := assetsValidate(ctx, tx, a, true); err != nil {
			return err
		}
		out = *a
		if err := tx.Assets().Create(ctx, &out); err != nil {
			return jobsWriteErr(err, "asset", out.Name)
		}
		if _, err := s.reevaluateAsset(ctx, tx, out.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "asset.create", "asset", out.ID, map[string]any{
			"name": out.Name, "classification": out.Classification,
		})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns one asset.
func (as *Assets) Get(ctx context.Context, id string) (*store.Asset, error) {
	return as.store.Assets().Get(ctx, id)
}

// List returns assets ordered by name.
func (as *Assets) List(ctx context.Context, p store.ListAssetsParams) (*store.Page[store.Asset], error) {
	fields := make(map[string]string)
	jobsMergeFields(fields, p.Validate())
	if p.Classification != "" && !p.Classification.Valid() {
		fields["classification"] = "unknown classification"
	}
	if len(fields) > 0 {
		return nil, &store.ValidationError{Fields: fields}
	}
	return as.store.Assets().List(ctx, p)
}

// Update applies u to an asset. A new classification changes the policy of
// every job of the asset, so each active one is re-evaluated, and the asset
// with them. An update that changes nothing writes nothing.
func (as *Assets) Update(ctx context.Context, id string, u AssetUpdate) (*store.Asset, error) {
	s := (*Service)(as)
	var out *store.Asset
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		a, err := tx.Assets().Get(ctx, id)
		if err != nil {
			return err
		}
		out = a
		var changed []string
		if u.Name != nil && *u.Name != a.Name {
			a.Name = *u.Name
			changed = append(changed, "name")
		}
		if u.Description != nil && *u.Description != a.Description {
			a.Description = *u.Description
			changed = append(changed, "description")
		}
		if u.Classification != nil && *u.Classification != a.Classification {
			a.Classification = *u.Classification
			changed = append(changed, "classification")
		}
		ownerChanged := false
		if u.OwnerID != nil {
			if owner := jobsOptionalID(u.OwnerID); !jobsSameID(owner, a.OwnerID) {
				a.OwnerID = owner
				changed = append(changed, "owner_id")
				ownerChanged = true
			}
		}
		if len(changed) == 0 {
			return nil
		}
		if err := assetsValidate(ctx, tx, a, ownerChanged); err != nil {
			return err
		}
		if err := tx.Assets().Update(ctx, a); err != nil {
			return jobsWriteErr(err, "asset", a.Name)
		}
		if slices.Contains(changed, "classification") {
			if err := assetsReevaluate(ctx, s, tx, a.ID); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, "asset.update", "asset", a.ID, map[string]any{"changed": changed})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// assetsReevaluate re-evaluates every active job of an asset, then the
// asset.
func assetsReevaluate(ctx context.Context, s *Service, tx store.Repos, assetID string) error {
	active := true
	p := store.ListJobsParams{AssetID: assetID, Active: &active}
	p.Limit = store.LimitMax
	for {
		page, err := tx.Jobs().List(ctx, p)
		if err != nil {
			return err
		}
		for i := range page.Items {
			if _, err := s.reevaluateJob(ctx, tx, &page.Items[i], nil); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	_, err := s.reevaluateAsset(ctx, tx, assetID)
	return err
}

// Delete removes an asset that no job belongs to, with its compliance state,
// resolving its compliance alerts. An asset with jobs is refused with
// ErrAssetInUse: the jobs' policy would change silently.
func (as *Assets) Delete(ctx context.Context, id string) error {
	s := (*Service)(as)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		a, err := tx.Assets().Get(ctx, id)
		if err != nil {
			return err
		}
		n, err := assetsCountJobs(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return assetsInUse(a, n)
		}
		for _, t := range []store.AlertType{store.AlertComplianceViolation, store.AlertComplianceWarning} {
			if _, err := s.resolveAlert(ctx, tx, t, assetSubject(a.ID), store.ResolvedByAuto); err != nil {
				return err
			}
		}
		if err := tx.Assets().Delete(ctx, a.ID); err != nil {
			if errors.Is(err, store.ErrForeignKey) {
				// A job joined the asset after the count.
				return assetsInUse(a, 1)
			}
			return err
		}
		return s.audit(ctx, tx, "asset.delete", "asset", a.ID, map[string]any{"name": a.Name})
	})
}

func assetsInUse(a *store.Asset, n int) error {
	noun := "jobs"
	if n == 1 {
		noun = "job"
	}
	return fmt.Errorf("%w: %d %s belong to asset %q", ErrAssetInUse, n, noun, a.Name)
}

// assetsCountJobs counts the jobs of an asset, active or not.
func assetsCountJobs(ctx context.Context, tx store.Repos, assetID string) (int, error) {
	p := store.ListJobsParams{AssetID: assetID}
	p.Limit = store.LimitMax
	n := 0
	for {
		page, err := tx.Jobs().List(ctx, p)
		if err != nil {
			return 0, err
		}
		n += len(page.Items)
		if page.NextCursor == "" {
			return n, nil
		}
		p.Cursor = page.NextCursor
	}
}

// assetsValidate checks a, and that its owner exists when checkOwner.
func assetsValidate(ctx context.Context, tx store.Repos, a *store.Asset, checkOwner bool) error {
	fields := make(map[string]string)
	jobsMergeFields(fields, a.Validate())
	var owner *string
	if checkOwner {
		owner = a.OwnerID
	}
	if err := jobsCheckRefs(ctx, tx, nil, owner, fields); err != nil {
		return err
	}
	if len(fields) > 0 {
		return &store.ValidationError{Fields: fields}
	}
	return nil
}
