import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { effectiveLimits, type EffectiveLimits, type TenantLimits } from '../limits.ts';
import type { DecommissionResult, Tenant, TenantStatus } from '../store.ts';
import {
  resolveLimitName,
  validateDisplayName,
  validateLimitOverrides,
  validateSlug,
} from '../validation.ts';
import { defaultLimits, requireTenant, type ServiceContext } from './context.ts';

export interface CreateTenantInput {
  slug: string;
  displayName?: string;
  limits?: Record<string, unknown>;
}

export async function createTenant(ctx: ServiceContext, input: CreateTenantInput): Promise<Tenant> {
  const slug = validateSlug(input.slug);
  return ctx.store.createTenant(
    {
      slug,
      displayName: validateDisplayName(input.displayName ?? slug),
      limitOverrides: validateLimitOverrides(input.limits ?? {}),
    },
    ctx.by,
  );
}

export async function listTenants(ctx: ServiceContext, filter: { status?: string } = {}): Promise<Tenant[]> {
  if (filter.status !== undefined && !['active', 'suspended', 'decommissioned'].includes(filter.status)) {
    throw new ValidationError(
      `invalid status "${filter.status}": the status is one of active, suspended, decommissioned`,
    );
  }
  return ctx.store.listTenants(filter.status ? { status: filter.status as TenantStatus } : {});
}

export interface TenantDetails {
  tenant: Tenant;
  effectiveLimits: EffectiveLimits;
  servers: number;
  activePushTokens: number;
  activeReadKeys: number;
  members: number;
  endpoints: number;
}

export async function showTenant(ctx: ServiceContext, slug: string): Promise<TenantDetails> {
  const tenant = await requireTenant(ctx, slug);
  const now = Date.now();
  const active = (c: { revokedAt: string | null; expiresAt: string | null }) =>
    c.revokedAt === null && (c.expiresAt === null || Date.parse(c.expiresAt) > now);
  const [servers, tokens, keys, members, endpoints] = await Promise.all([
    ctx.store.listServers(tenant.id),
    ctx.store.listCredentials({ kind: 'push', tenantId: tenant.id }),
    ctx.store.listCredentials({ kind: 'read', tenantId: tenant.id }),
    ctx.store.listTenantMembers(tenant.id),
    ctx.store.listEndpoints(tenant.id),
  ]);
  return {
    tenant,
    effectiveLimits: effectiveLimits(defaultLimits(ctx), tenant.limitOverrides),
    servers: servers.length,
    activePushTokens: tokens.filter(active).length,
    activeReadKeys: keys.filter(active).length,
    members: members.length,
    endpoints: endpoints.length,
  };
}

export interface UpdateTenantInput {
  displayName?: string;
  /** Limits to set (merged over the current overrides). */
  setLimits?: Record<string, unknown>;
  /** Limit overrides to drop (back to the platform default). */
  unsetLimits?: string[];
}

export async function updateTenant(
  ctx: ServiceContext,
  slug: string,
  input: UpdateTenantInput,
): Promise<Tenant> {
  const tenant = await requireTenant(ctx, slug);
  let limitOverrides: Partial<TenantLimits> | undefined;
  if (input.setLimits !== undefined || input.unsetLimits !== undefined) {
    const merged: Record<string, unknown> = {
      ...tenant.limitOverrides,
      ...validateLimitOverrides(input.setLimits ?? {}),
    };
    for (const name of input.unsetLimits ?? []) delete merged[resolveLimitName(name)];
    limitOverrides = validateLimitOverrides(merged);
  }
  const updated = await ctx.store.updateTenant(
    tenant.id,
    {
      ...(input.displayName !== undefined ? { displayName: validateDisplayName(input.displayName) } : {}),
      ...(limitOverrides !== undefined ? { limitOverrides } : {}),
    },
    ctx.by,
  );
  if (!updated) throw new NotFoundError(`tenant "${slug}" not found`);
  return updated;
}

export async function setTenantStatus(
  ctx: ServiceContext,
  slug: string,
  status: 'active' | 'suspended',
): Promise<Tenant> {
  const tenant = await requireTenant(ctx, slug);
  const updated = await ctx.store.setTenantStatus(tenant.id, status, ctx.by);
  if (!updated) throw new NotFoundError(`tenant "${slug}" not found`);
  return updated;
}

/**
 * Decommissions a tenant: it can no longer push, read or be changed, its credentials are revoked
 * and its sessions ended. Its storage partitions are removed by the running server (see
 * ../decommission.ts), which notices the change even when the CLI made it.
 */
export async function decommissionTenant(ctx: ServiceContext, slug: string): Promise<DecommissionResult> {
  const tenant = await requireTenant(ctx, slug);
  if (tenant.status === 'decommissioned')
    throw new ConflictError(`tenant "${slug}" is already decommissioned`);
  const result = await ctx.store.decommissionTenant(tenant.id, ctx.by);
  if (!result) throw new NotFoundError(`tenant "${slug}" not found`);
  return result;
}
