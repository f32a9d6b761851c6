import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IssuedCredential } from '../tenancy/services/credentials.ts';
import type { EndpointFields } from '../tenancy/endpoint-rules.ts';
import { queryAudit } from '../tenancy/services/audit.ts';
import {
  createCredential,
  listCredentials,
  revokeCredential,
  type ListedCredential,
} from '../tenancy/services/credentials.ts';
import { addEndpoint, listEndpoints, removeEndpoint, updateEndpoint } from '../tenancy/services/endpoints.ts';
import { addServer, checkServer, listServers, removeServer } from '../tenancy/services/servers.ts';
import { addUserToOrg, createUser, removeUserFromOrg, setUserRole } from '../tenancy/services/users.ts';
import type { Credential, Endpoint, Server } from '../tenancy/store.ts';
import { authed, type ConsoleContext } from './context.ts';
import { badRequest, body, ConsoleError, idParam, notFound, str } from './http.ts';
import { requireOrg } from './session.ts';
import { grafanaSettings, pushSettings } from './settings.ts';

/**
 * The current org's objects (`/api/console/...`): servers and their push tokens, endpoints, read
 * API keys, members, the org's audit log. The org is always the session's current org; an object
 * is looked up inside it (the store filters by tenant id), so another org's id answers 404 exactly
 * like an id that never existed. Every change goes through the tenancy services, which audit it.
 *
 * Roles: viewers read; editors also manage endpoints; admins manage servers, tokens, keys, members.
 */

export type ServerState = 'up' | 'stale' | 'never-seen';

export function serverState(server: Server, now: number, staleAfterMs: number): ServerState {
  if (server.lastSeenAt === null) return 'never-seen';
  return now - Date.parse(server.lastSeenAt) <= staleAfterMs ? 'up' : 'stale';
}

/** Credentials as listed to the console: metadata only (the store never returns secrets anyway). */
function describeCredential(c: ListedCredential | Credential) {
  return {
    clientId: c.clientId,
    kind: c.kind,
    name: c.name,
    serverId: c.serverId,
    serverName: c.serverName,
    createdAt: c.createdAt,
    createdBy: c.createdBy,
    expiresAt: c.expiresAt,
    revokedAt: c.revokedAt,
    lastUsedAt: c.lastUsedAt,
    lastUsedAddr: c.lastUsedAddr,
    ...('state' in c ? { state: c.state } : {}),
  };
}

/** The endpoint fields a request may set; unknown fields are refused by name. */
const ENDPOINT_FIELD_NAMES = new Set([
  'name',
  'url',
  'method',
  'intervalSeconds',
  'timeoutSeconds',
  'expectedStatus',
  'bodyMatch',
  'tlsVerify',
  'followRedirects',
  'headers',
  'enabled',
]);

function endpointFields(b: Record<string, unknown>): EndpointFields {
  for (const key of Object.keys(b)) {
    if (!ENDPOINT_FIELD_NAMES.has(key)) throw badRequest(`unknown endpoint field "${key.slice(0, 50)}"`);
  }
  return b as EndpointFields;
}

function expiry(b: Record<string, unknown>) {
  const expiresIn = str(b, 'expiresIn', { optional: true });
  return expiresIn !== undefined ? { expiresIn } : {};
}

export async function orgRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const now = () => ctx.now();

  async function findEndpoint(tenantId: number, id: number): Promise<Endpoint> {
    const found = (await ctx.store.listEndpoints(tenantId)).find((e) => e.id === id);
    if (!found) throw notFound('endpoint not found');
    return found;
  }

  const withState = (server: Server) => ({
    ...server,
    state: serverState(server, now(), ctx.serverStaleAfterMs),
  });

  /** A freshly issued push token as the console shows it once: the token and the agent settings. */
  const pushTokenAnswer = (request: FastifyRequest, slug: string, issued: IssuedCredential) => ({
    token: describeCredential(issued.credential),
    settings: pushSettings(ctx.baseUrl(request), issued, { slug, tenantLabel: ctx.tenantLabel }),
  });

  async function findServer(tenantId: number, id: number): Promise<Server> {
    const server = await ctx.store.getServer(tenantId, id);
    if (!server) throw notFound('server not found');
    return server;
  }

  // ---- servers -------------------------------------------------------------------------------

  app.get(
    '/api/console/servers',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s);
      const servers = await listServers(ctx.services(request, s), tenant.slug);
      return servers.map(withState).sort((a, b) => a.name.localeCompare(b.name));
    }),
  );

  app.get(
    '/api/console/servers/:id',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const server = await findServer(tenant.id, idParam(request));
      const check = await checkServer(ctx.services(request, s), tenant.slug, server.name);
      return {
        server: withState(check.server),
        tokens: check.tokens.map(describeCredential),
        recentRejections: check.recentRejections,
      };
    }),
  );

  app.post(
    '/api/console/servers',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const b = body(request);
      const added = await addServer(ctx.services(request, s), tenant.slug, {
        name: str(b, 'name'),
        ...expiry(b),
      });
      return {
        server: withState(added.server),
        ...pushTokenAnswer(request, tenant.slug, added.token),
      };
    }),
  );

  /** A further server-bound token for an existing server (e.g. to replace a leaked one). */
  app.post(
    '/api/console/servers/:id/tokens',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const server = await findServer(tenant.id, idParam(request));
      const b = body(request);
      const issued = await createCredential(ctx.services(request, s), 'push', tenant.slug, {
        server: server.name,
        name: str(b, 'name', { optional: true }) ?? server.name,
        ...expiry(b),
      });
      return pushTokenAnswer(request, tenant.slug, issued);
    }),
  );

  app.delete(
    '/api/console/servers/:id',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const server = await findServer(tenant.id, idParam(request));
      const removed = await removeServer(ctx.services(request, s), tenant.slug, server.name);
      return { removed: removed.server.name, revokedTokens: removed.revokedTokens };
    }),
  );

  // ---- push tokens and read API keys ---------------------------------------------------------

  for (const [path, kind] of [
    ['push-tokens', 'push'],
    ['api-keys', 'read'],
  ] as const) {
    app.get(
      `/api/console/${path}`,
      authed(ctx, async (request, s) => {
        const { tenant } = requireOrg(s, 'admin');
        const all = (request.query as Record<string, string | undefined>).all === 'true';
        const list = await listCredentials(ctx.services(request, s), kind, tenant.slug, { all });
        return list.map(describeCredential);
      }),
    );
    app.delete(
      `/api/console/${path}/:clientId`,
      authed(ctx, async (request, s) => {
        const { tenant } = requireOrg(s, 'admin');
        const clientId = (request.params as { clientId: string }).clientId;
        const revoked = await revokeCredential(ctx.services(request, s), kind, tenant.slug, clientId);
        return describeCredential(revoked);
      }),
    );
  }

  app.post(
    '/api/console/push-tokens',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const b = body(request);
      const issued = await createCredential(ctx.services(request, s), 'push', tenant.slug, {
        name: str(b, 'name', { optional: true }) ?? '',
        ...expiry(b),
      });
      return pushTokenAnswer(request, tenant.slug, issued);
    }),
  );

  app.post(
    '/api/console/api-keys',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const b = body(request);
      const issued = await createCredential(ctx.services(request, s), 'read', tenant.slug, {
        name: str(b, 'name', { optional: true }) ?? '',
        ...expiry(b),
      });
      return {
        key: describeCredential(issued.credential),
        grafana: grafanaSettings(ctx.baseUrl(request), issued, tenant.slug),
      };
    }),
  );

  // ---- endpoints -----------------------------------------------------------------------------

  app.get(
    '/api/console/endpoints',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s);
      return listEndpoints(ctx.services(request, s), tenant.slug);
    }),
  );

  app.post(
    '/api/console/endpoints',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'editor');
      return addEndpoint(ctx.services(request, s), tenant.slug, endpointFields(body(request)));
    }),
  );

  app.put(
    '/api/console/endpoints/:id',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'editor');
      const endpoint = await findEndpoint(tenant.id, idParam(request));
      return updateEndpoint(
        ctx.services(request, s),
        tenant.slug,
        endpoint.name,
        endpointFields(body(request)),
      );
    }),
  );

  app.delete(
    '/api/console/endpoints/:id',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'editor');
      const endpoint = await findEndpoint(tenant.id, idParam(request));
      await removeEndpoint(ctx.services(request, s), tenant.slug, endpoint.name);
      return { removed: endpoint.name };
    }),
  );

  // ---- members -------------------------------------------------------------------------------

  app.get(
    '/api/console/members',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const members = await ctx.store.listTenantMembers(tenant.id);
      const users = await Promise.all(members.map((m) => ctx.store.getUser(m.userId)));
      return members.map((m, i) => ({
        userId: m.userId,
        email: m.userEmail,
        displayName: users[i]?.displayName ?? '',
        mfaEnabled: users[i]?.mfaEnabled ?? false,
        role: m.role,
        since: m.createdAt,
      }));
    }),
  );

  app.post(
    '/api/console/members',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const b = body(request);
      const email = str(b, 'email');
      const role = str(b, 'role');
      const services = ctx.services(request, s);
      let generatedPassword: string | undefined;
      if (!(await ctx.store.getUserByEmail(email.trim().toLowerCase()))) {
        const displayName = str(b, 'displayName', { optional: true });
        const created = await createUser(services, { email, ...(displayName ? { displayName } : {}) });
        generatedPassword = created.generatedPassword;
      }
      const membership = await addUserToOrg(services, email, tenant.slug, role);
      return {
        userId: membership.userId,
        email: membership.userEmail,
        role: membership.role,
        // Shown once to the admin, who passes it on; the user should change it.
        ...(generatedPassword !== undefined ? { generatedPassword } : {}),
      };
    }),
  );

  /** Refuses a change that would leave the org without an admin. */
  async function keepAnAdmin(tenantId: number, userId: number, newRole: string | null): Promise<void> {
    if (newRole === 'admin') return;
    const members = await ctx.store.listTenantMembers(tenantId);
    const target = members.find((m) => m.userId === userId);
    if (!target) throw notFound('member not found');
    if (target.role === 'admin' && members.filter((m) => m.role === 'admin').length === 1) {
      throw new ConsoleError(409, 'an organisation keeps at least one admin: make someone else admin first');
    }
  }

  app.patch(
    '/api/console/members/:id',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const userId = idParam(request);
      const role = str(body(request), 'role');
      const member = await ctx.store.getMembership(tenant.id, userId);
      if (!member) throw notFound('member not found');
      await keepAnAdmin(tenant.id, userId, role);
      const updated = await setUserRole(ctx.services(request, s), member.userEmail, tenant.slug, role);
      return { userId, email: updated.userEmail, role: updated.role };
    }),
  );

  app.delete(
    '/api/console/members/:id',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const userId = idParam(request);
      const member = await ctx.store.getMembership(tenant.id, userId);
      if (!member) throw notFound('member not found');
      await keepAnAdmin(tenant.id, userId, null);
      await removeUserFromOrg(ctx.services(request, s), member.userEmail, tenant.slug);
      return { removed: member.userEmail };
    }),
  );

  // ---- audit ---------------------------------------------------------------------------------

  app.get(
    '/api/console/audit',
    authed(ctx, async (request, s) => {
      const { tenant } = requireOrg(s, 'admin');
      const q = request.query as Record<string, string | undefined>;
      const limit = q.limit === undefined ? 200 : Number(q.limit);
      return queryAudit(ctx.services(request, s), {
        tenant: tenant.slug,
        limit,
        ...(q.action ? { action: q.action } : {}),
        ...(q.since ? { since: q.since } : {}),
      });
    }),
  );
}
