package app

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/readiness"
	"github.com/cutover/cutover/internal/store"
)

// The checks a lead runs against Microsoft Graph (dir) before and during a
// migration: the tenant's hybrid readiness, the dry run of a group's or a
// wave's users, and the deployment's readiness as workers last checked it.

// TenantReadiness checks the tenant's hybrid configuration.
func (s *Service) TenantReadiness(ctx context.Context, dir migration.Directory, now time.Time, maxSyncAge time.Duration) (readiness.TenantReadiness, error) {
	return readiness.Tenant(ctx, s.q(), dir, now, maxSyncAge)
}

// DryRun checks members as a move's pre-flight would, without moving
// anyone, and keeps each member's result.
func (s *Service) DryRun(ctx context.Context, dir migration.Directory, members []store.GroupMember, now time.Time, licenceSettle time.Duration) (readiness.Report, error) {
	return readiness.Members(ctx, s.q(), dir, members, now, licenceSettle)
}

// DeploymentReadiness reports the deployment's readiness: the workers' host
// checks, the holds, and the hybrid configuration.
func (s *Service) DeploymentReadiness(ctx context.Context, dir migration.Directory, now time.Time, maxSyncAge time.Duration) (readiness.Deployment, error) {
	return readiness.DeploymentReadiness(ctx, s.q(), dir, now, maxSyncAge)
}

// Authenticate implements auth.Authenticator with the API tokens.
func (s *Service) Authenticate(ctx context.Context, credential string) (auth.Principal, error) {
	return s.q().Authenticate(ctx, credential)
}
