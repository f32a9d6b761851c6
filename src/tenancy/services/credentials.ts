import { composeToken, newClientId, newSecret } from '../../auth/credentials.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Credential, CredentialKind, CredentialScope, NewCredentialSecret } from '../store.ts';
import { clip, parseDuration, parseTime, validateCredentialName, validateServerName } from '../validation.ts';
import { nowMs, requireLiveTenant, requireTenant, type ServiceContext } from './context.ts';

/**
 * Push tokens, read API keys and platform admin keys share one scheme (see auth/credentials.ts):
 * these operations issue, list, revoke and rotate any of them.
 */

/** A credential as issued: the only moment its secret exists outside the caller's hands. */
export interface IssuedCredential {
  credential: Credential;
  /** The secret alone (CF-Access-Client-Secret, basic-auth password). */
  secret: string;
  /** `<client id>.<secret>`: the `Authorization: Bearer` value. */
  token: string;
}

export interface ExpiryInput {
  /** ISO-8601 time. */
  expiresAt?: string;
  /** Duration from now, e.g. `90d`. */
  expiresIn?: string;
}

export function resolveExpiry(ctx: ServiceContext, input: ExpiryInput): string | undefined {
  if (input.expiresAt !== undefined && input.expiresIn !== undefined) {
    throw new ValidationError('give either an expiry time or an expiry duration, not both');
  }
  const at =
    input.expiresAt !== undefined
      ? parseTime(input.expiresAt, 'expiry time')
      : input.expiresIn !== undefined
        ? new Date(nowMs(ctx) + parseDuration(input.expiresIn)).toISOString()
        : undefined;
  if (at !== undefined && Date.parse(at) <= nowMs(ctx))
    throw new ValidationError('the expiry must be in the future');
  return at;
}

/** Generates a client id and secret and the hash the store keeps. */
export function mintSecret(
  ctx: ServiceContext,
  kind: CredentialKind,
  name: string | undefined,
  expiresAt: string | undefined,
): { record: NewCredentialSecret; secret: string } {
  const clientId = newClientId(kind);
  const secret = newSecret();
  return {
    record: {
      clientId,
      secretHash: ctx.hasher.hashCredentialSecret(clientId, secret),
      name: validateCredentialName(name),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    },
    secret,
  };
}

export function issued(credential: Credential, secret: string): IssuedCredential {
  return { credential, secret, token: composeToken(credential.clientId, secret) };
}

const NOUN: Record<CredentialKind, string> = { push: 'push token', read: 'API key', admin: 'admin key' };

async function scopeFor(
  ctx: ServiceContext,
  kind: CredentialKind,
  tenantSlug: string | undefined,
  live: boolean,
) {
  if (kind === 'admin') return { kind } as CredentialScope;
  if (tenantSlug === undefined)
    throw new ValidationError(`a ${NOUN[kind]} belongs to a tenant: name the tenant`);
  const tenant = await (live ? requireLiveTenant : requireTenant)(ctx, tenantSlug);
  return { kind, tenantId: tenant.id } as CredentialScope;
}

export interface CreateCredentialInput extends ExpiryInput {
  name?: string;
  /** Push tokens only: bind the token to this server (instance name). */
  server?: string;
}

export async function createCredential(
  ctx: ServiceContext,
  kind: CredentialKind,
  tenantSlug: string | undefined,
  input: CreateCredentialInput,
): Promise<IssuedCredential> {
  const scope = await scopeFor(ctx, kind, tenantSlug, true);
  const expiresAt = resolveExpiry(ctx, input);
  const { record, secret } = mintSecret(ctx, kind, input.name, expiresAt);
  if (scope.kind === 'admin')
    return issued(await ctx.store.createCredential({ ...record, kind: 'admin' }, ctx.by), secret);
  if (scope.kind === 'read') {
    if (input.server !== undefined)
      throw new ValidationError('API keys are org-wide: they cannot be bound to a server');
    return issued(
      await ctx.store.createCredential(
        { ...record, kind: 'read', tenantId: scope.tenantId, role: 'viewer' },
        ctx.by,
      ),
      secret,
    );
  }
  let serverId: number | undefined;
  if (input.server !== undefined) {
    const server = await ctx.store.getServerByName(scope.tenantId, validateServerName(input.server));
    if (!server) throw new NotFoundError(`server "${input.server}" not found in tenant "${tenantSlug}"`);
    serverId = server.id;
  }
  return issued(
    await ctx.store.createCredential(
      { ...record, kind: 'push', tenantId: scope.tenantId, ...(serverId !== undefined ? { serverId } : {}) },
      ctx.by,
    ),
    secret,
  );
}

export type CredentialState = 'active' | 'expired' | 'revoked';

export function credentialState(c: Credential, now = Date.now()): CredentialState {
  if (c.revokedAt !== null) return 'revoked';
  if (c.expiresAt !== null && Date.parse(c.expiresAt) <= now) return 'expired';
  return 'active';
}

export type ListedCredential = Credential & { state: CredentialState };

export async function listCredentials(
  ctx: ServiceContext,
  kind: CredentialKind,
  tenantSlug: string | undefined,
  options: { all?: boolean } = {},
): Promise<ListedCredential[]> {
  const scope = await scopeFor(ctx, kind, tenantSlug, false);
  const now = nowMs(ctx);
  return (await ctx.store.listCredentials(scope))
    .map((c) => ({ ...c, state: credentialState(c, now) }))
    .filter((c) => options.all || c.state === 'active');
}

async function requireCredential(
  ctx: ServiceContext,
  scope: CredentialScope,
  clientId: string,
): Promise<Credential> {
  const found = await ctx.store.getCredential(scope, clientId);
  if (!found) throw new NotFoundError(`${NOUN[scope.kind]} "${clip(clientId)}" not found`);
  return found;
}

export async function revokeCredential(
  ctx: ServiceContext,
  kind: CredentialKind,
  tenantSlug: string | undefined,
  clientId: string,
): Promise<Credential> {
  const scope = await scopeFor(ctx, kind, tenantSlug, false);
  const before = await requireCredential(ctx, scope, clientId);
  if (before.revokedAt !== null) throw new ConflictError(`${NOUN[kind]} ${clientId} is already revoked`);
  return (await ctx.store.revokeCredential(scope, clientId, ctx.by))!;
}

export const DEFAULT_ROTATION_GRACE = '24h';
const MAX_ROTATION_GRACE_MS = 30 * 86_400_000;

/**
 * New secret for an existing client id. The old secret keeps working for the grace period
 * (default 24 h, `0` for none) so agents can be reconfigured without a gap.
 */
export async function rotateCredential(
  ctx: ServiceContext,
  kind: CredentialKind,
  tenantSlug: string | undefined,
  clientId: string,
  options: { grace?: string } = {},
): Promise<IssuedCredential & { previousValidUntil: string | null }> {
  const scope = await scopeFor(ctx, kind, tenantSlug, true);
  await requireCredential(ctx, scope, clientId);
  const graceMs = parseDuration(options.grace ?? DEFAULT_ROTATION_GRACE);
  if (graceMs > MAX_ROTATION_GRACE_MS) throw new ValidationError('the rotation grace period is at most 30d');
  const previousValidUntil = graceMs > 0 ? new Date(nowMs(ctx) + graceMs).toISOString() : undefined;
  const secret = newSecret();
  const rotated = await ctx.store.rotateCredential(
    scope,
    clientId,
    {
      secretHash: ctx.hasher.hashCredentialSecret(clientId, secret),
      ...(previousValidUntil !== undefined ? { previousValidUntil } : {}),
    },
    ctx.by,
  );
  if (!rotated) throw new NotFoundError(`${NOUN[kind]} "${clip(clientId)}" not found`);
  return { ...issued(rotated, secret), previousValidUntil: previousValidUntil ?? null };
}
