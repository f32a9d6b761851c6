import { NotFoundError } from '../errors.ts';
import type { Credential, PushRejection, Server } from '../store.ts';
import { validateServerName } from '../validation.ts';
import { requireLiveTenant, requireTenant, type ServiceContext } from './context.ts';
import {
  credentialState,
  issued,
  mintSecret,
  resolveExpiry,
  type ExpiryInput,
  type IssuedCredential,
} from './credentials.ts';

export interface AddServerInput extends ExpiryInput {
  name: string;
  /** Name of the server-bound token issued with it (default: the server name). */
  tokenName?: string;
}

/** Adds a server and issues its server-bound push token (in one transaction); the secret is shown once. */
export async function addServer(
  ctx: ServiceContext,
  tenantSlug: string,
  input: AddServerInput,
): Promise<{ server: Server; token: IssuedCredential }> {
  const tenant = await requireLiveTenant(ctx, tenantSlug);
  const name = validateServerName(input.name);
  const { record, secret } = mintSecret(ctx, 'push', input.tokenName ?? name, resolveExpiry(ctx, input));
  const { server, token } = await ctx.store.addServer(tenant.id, { name, token: record }, ctx.by);
  return { server, token: issued(token!, secret) };
}

export async function listServers(ctx: ServiceContext, tenantSlug: string): Promise<Server[]> {
  const tenant = await requireTenant(ctx, tenantSlug);
  return ctx.store.listServers(tenant.id);
}

async function requireServer(ctx: ServiceContext, tenantSlug: string, name: string) {
  const tenant = await requireTenant(ctx, tenantSlug);
  const server = await ctx.store.getServerByName(tenant.id, validateServerName(name));
  if (!server) throw new NotFoundError(`server "${name}" not found in tenant "${tenantSlug}"`);
  return { tenant, server };
}

/** Removes a server; its server-bound tokens are revoked with it. */
export async function removeServer(
  ctx: ServiceContext,
  tenantSlug: string,
  name: string,
): Promise<{ server: Server; revokedTokens: number }> {
  const { tenant, server } = await requireServer(ctx, tenantSlug, name);
  const result = await ctx.store.removeServer(tenant.id, server.id, ctx.by);
  if (!result) throw new NotFoundError(`server "${name}" not found in tenant "${tenantSlug}"`);
  return { server, revokedTokens: result.revokedTokens };
}

export interface ServerCheck {
  server: Server;
  tokens: (Credential & { state: string })[];
  /** Most recent first. */
  recentRejections: PushRejection[];
}

/** What an operator needs when a server's data is missing: last seen, its tokens, why pushes failed. */
export async function checkServer(
  ctx: ServiceContext,
  tenantSlug: string,
  name: string,
  limit = 20,
): Promise<ServerCheck> {
  const { tenant, server } = await requireServer(ctx, tenantSlug, name);
  const [tokens, rejections] = await Promise.all([
    ctx.store.listCredentials({ kind: 'push', tenantId: tenant.id }),
    ctx.store.listPushRejections(tenant.id, { serverId: server.id, limit }),
  ]);
  return {
    server,
    tokens: tokens.filter((t) => t.serverId === server.id).map((t) => ({ ...t, state: credentialState(t) })),
    recentRejections: rejections,
  };
}
