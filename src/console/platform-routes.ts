import type { FastifyInstance, FastifyRequest } from 'fastify';
import { clientIdKind } from '../auth/credentials.ts';
import { queryAudit } from '../tenancy/services/audit.ts';
import { listCredentials, revokeCredential } from '../tenancy/services/credentials.ts';
import {
  createTenant,
  decommissionTenant,
  listTenants,
  setTenantStatus,
  showTenant,
  updateTenant,
} from '../tenancy/services/tenants.ts';
import { addUserToOrg, createUser, resetMfa } from '../tenancy/services/users.ts';
import type { Tenant } from '../tenancy/store.ts';
import { limitNames } from '../tenancy/validation.ts';
import { authed, type ConsoleContext } from './context.ts';
import { badRequest, bool, body, idParam, notFound, str } from './http.ts';
import { requirePlatformAdmin, type ConsoleSession } from './session.ts';

/**
 * Platform-admin pages' API (`/api/console/platform/...`): tenants (create, suspend, resume,
 * decommission, limits), tokens and keys across tenants with revoke, users, the audit log.
 * Non-admins get 404 for all of it. Every change goes through the tenancy services (audited).
 */
export async function platformRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const admin = (fn: (request: FastifyRequest, s: ConsoleSession) => Promise<unknown>) =>
    authed(ctx, async (request, s) => {
      requirePlatformAdmin(s);
      return fn(request, s);
    });

  async function tenantById(id: number): Promise<Tenant> {
    const tenant = await ctx.store.getTenant(id);
    if (!tenant) throw notFound('tenant not found');
    return tenant;
  }

  app.get(
    '/api/console/platform/tenants',
    admin(async (request, s) => {
      const services = ctx.services(request, s);
      const tenants = await listTenants(services);
      return Promise.all(
        tenants.map(async (t) => {
          const { tenant, effectiveLimits: _limits, ...counts } = await showTenant(services, t.slug);
          return { ...tenant, ...counts };
        }),
      );
    }),
  );

  app.get(
    '/api/console/platform/tenants/:id',
    admin(async (request, s) => {
      const tenant = await tenantById(idParam(request));
      const details = await showTenant(ctx.services(request, s), tenant.slug);
      return { ...details, limitNames: limitNames() };
    }),
  );

  app.post(
    '/api/console/platform/tenants',
    admin(async (request, s) => {
      const b = body(request);
      const displayName = str(b, 'displayName', { optional: true });
      return createTenant(ctx.services(request, s), {
        slug: str(b, 'slug'),
        ...(displayName !== undefined ? { displayName } : {}),
      });
    }),
  );

  app.post(
    '/api/console/platform/tenants/:id/status',
    admin(async (request, s) => {
      const tenant = await tenantById(idParam(request));
      const status = str(body(request), 'status');
      if (status !== 'active' && status !== 'suspended') {
        throw badRequest('"status" is "active" or "suspended" (decommissioning has its own action)');
      }
      return setTenantStatus(ctx.services(request, s), tenant.slug, status);
    }),
  );

  app.post(
    '/api/console/platform/tenants/:id/decommission',
    admin(async (request, s) => {
      const tenant = await tenantById(idParam(request));
      // The page asks the operator to type the slug: an irreversible action needs a deliberate input.
      if (str(body(request), 'confirmSlug') !== tenant.slug) {
        throw badRequest(`type the tenant's slug "${tenant.slug}" to confirm decommissioning`);
      }
      const result = await decommissionTenant(ctx.services(request, s), tenant.slug);
      return {
        tenant: result.tenant,
        revokedCredentials: result.revokedCredentials,
        endedSessions: result.endedSessions,
      };
    }),
  );

  app.put(
    '/api/console/platform/tenants/:id/limits',
    admin(async (request, s) => {
      const tenant = await tenantById(idParam(request));
      const b = body(request);
      const set = b.set ?? {};
      const unset = b.unset ?? [];
      if (typeof set !== 'object' || set === null || Array.isArray(set))
        throw badRequest('"set" must be an object');
      if (!Array.isArray(unset) || unset.some((u) => typeof u !== 'string')) {
        throw badRequest('"unset" must be a list of limit names');
      }
      const services = ctx.services(request, s);
      await updateTenant(services, tenant.slug, {
        setLimits: set as Record<string, unknown>,
        unsetLimits: unset as string[],
      });
      return showTenant(services, tenant.slug);
    }),
  );

  app.get(
    '/api/console/platform/credentials',
    admin(async (request, s) => {
      const services = ctx.services(request, s);
      const all = (request.query as Record<string, string | undefined>).all === 'true';
      const tenants = (await listTenants(services)).filter((t) => t.status !== 'decommissioned' || all);
      const rows = await Promise.all(
        tenants.flatMap((t) =>
          (['push', 'read'] as const).map(async (kind) =>
            (await listCredentials(services, kind, t.slug, { all })).map((c) => ({
              clientId: c.clientId,
              kind: c.kind,
              name: c.name,
              tenantId: t.id,
              tenantSlug: t.slug,
              serverName: c.serverName,
              state: c.state,
              createdAt: c.createdAt,
              expiresAt: c.expiresAt,
              lastUsedAt: c.lastUsedAt,
              lastUsedAddr: c.lastUsedAddr,
            })),
          ),
        ),
      );
      return rows.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    }),
  );

  app.post(
    '/api/console/platform/credentials/:clientId/revoke',
    admin(async (request, s) => {
      const clientId = (request.params as { clientId: string }).clientId;
      const kind = clientIdKind(clientId);
      if (kind !== 'push' && kind !== 'read') throw notFound('credential not found');
      const raw = body(request).tenantId;
      const tenant = await tenantById(typeof raw === 'number' ? raw : NaN);
      const revoked = await revokeCredential(ctx.services(request, s), kind, tenant.slug, clientId);
      return { clientId: revoked.clientId, revokedAt: revoked.revokedAt };
    }),
  );

  app.get(
    '/api/console/platform/users',
    admin(async () => {
      const users = await ctx.store.listUsers();
      return Promise.all(
        users.map(async (u) => ({
          ...u,
          memberships: (await ctx.store.listUserMemberships(u.id)).map((m) => ({
            tenantId: m.tenantId,
            tenantSlug: m.tenantSlug,
            role: m.role,
          })),
        })),
      );
    }),
  );

  app.post(
    '/api/console/platform/users',
    admin(async (request, s) => {
      const b = body(request);
      const services = ctx.services(request, s);
      const displayName = str(b, 'displayName', { optional: true });
      const platformAdmin = bool(b, 'platformAdmin') ?? false;
      const created = await createUser(services, {
        email: str(b, 'email'),
        platformAdmin,
        ...(displayName !== undefined ? { displayName } : {}),
      });
      const orgId = b.orgId;
      if (orgId !== undefined && orgId !== null) {
        const tenant = await tenantById(typeof orgId === 'number' ? orgId : NaN);
        await addUserToOrg(
          services,
          created.user.email,
          tenant.slug,
          str(b, 'role', { optional: true }) ?? 'viewer',
        );
      }
      return { user: created.user, generatedPassword: created.generatedPassword };
    }),
  );

  app.post(
    '/api/console/platform/users/:id/reset-mfa',
    admin(async (request, s) => {
      const user = await ctx.store.getUser(idParam(request));
      if (!user) throw notFound('user not found');
      return resetMfa(ctx.services(request, s), user.email);
    }),
  );

  app.get(
    '/api/console/platform/audit',
    admin(async (request, s) => {
      const q = request.query as Record<string, string | undefined>;
      return queryAudit(ctx.services(request, s), {
        limit: q.limit === undefined ? 200 : Number(q.limit),
        ...(q.tenant ? { tenant: q.tenant } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.since ? { since: q.since } : {}),
      });
    }),
  );
}
