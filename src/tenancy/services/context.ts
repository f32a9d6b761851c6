import type { SecretHasher } from '../../auth/credentials.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { BUILTIN_DEFAULT_LIMITS, type TenantLimits } from '../limits.ts';
import type { AuditActor, ControlPlaneStore, Tenant } from '../store.ts';
import { validateSlug } from '../validation.ts';

/**
 * The control-plane operations shared by the CLI and the admin HTTP API. Each takes this context:
 * who acts (for the audit log), the store, and the hasher for new secrets. Neither front end
 * writes SQL or repeats a rule: they parse their input, call a service, and format the result.
 */
export interface ServiceContext {
  readonly store: ControlPlaneStore;
  readonly hasher: SecretHasher;
  readonly by: AuditActor;
  /** Platform default limits (from configuration), for showing effective limits. */
  readonly defaultLimits?: TenantLimits;
  readonly now?: () => number;
}

export function nowMs(ctx: ServiceContext): number {
  return (ctx.now ?? Date.now)();
}

export function defaultLimits(ctx: ServiceContext): TenantLimits {
  return ctx.defaultLimits ?? BUILTIN_DEFAULT_LIMITS;
}

/** Finds a tenant by slug (404 when absent). */
export async function requireTenant(ctx: ServiceContext, slug: string): Promise<Tenant> {
  const tenant = await ctx.store.getTenantBySlug(validateSlug(slug));
  if (!tenant) throw new NotFoundError(`tenant "${slug}" not found`);
  return tenant;
}

/** As requireTenant, but refuses a decommissioned tenant (409): nothing can be added to it. */
export async function requireLiveTenant(ctx: ServiceContext, slug: string): Promise<Tenant> {
  const tenant = await requireTenant(ctx, slug);
  if (tenant.status === 'decommissioned') throw new ConflictError(`tenant "${slug}" is decommissioned`);
  return tenant;
}
