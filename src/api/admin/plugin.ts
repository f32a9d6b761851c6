import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IrinAuthenticator } from '../../auth/authenticator.ts';
import type { SecretHasher } from '../../auth/credentials.ts';
import type { TenantLimits } from '../../tenancy/limits.ts';
import { queryAudit } from '../../tenancy/services/audit.ts';
import type { ServiceContext } from '../../tenancy/services/context.ts';
import {
  createCredential,
  listCredentials,
  revokeCredential,
  rotateCredential,
} from '../../tenancy/services/credentials.ts';
import {
  addEndpoint,
  listEndpoints,
  removeEndpoint,
  showEndpoint,
  updateEndpoint,
} from '../../tenancy/services/endpoints.ts';
import { addServer, checkServer, listServers, removeServer } from '../../tenancy/services/servers.ts';
import {
  createTenant,
  decommissionTenant,
  listTenants,
  setTenantStatus,
  showTenant,
  updateTenant,
} from '../../tenancy/services/tenants.ts';
import {
  addUserToOrg,
  confirmMfa,
  createUser,
  enrolMfa,
  listUsers,
  removeUserFromOrg,
  resetMfa,
  setPlatformAdmin,
  setUserPassword,
  setUserRole,
  showUser,
} from '../../tenancy/services/users.ts';
import type { ControlPlaneStore, CredentialKind } from '../../tenancy/store.ts';
import { guardAdminRoutes } from './guard.ts';
import * as S from './schemas.ts';

export const ADMIN_API_PREFIX = '/api/admin/v1';

export interface AdminApiOptions {
  store: ControlPlaneStore;
  hasher: SecretHasher;
  /** The server's authenticator: admin keys, failure limiting, audit of rejections. */
  authenticator: Pick<IrinAuthenticator, 'authenticateAdmin'>;
  /** Platform default limits, for the effective limits `GET /tenants/:slug` shows. */
  defaultLimits?: TenantLimits;
  /** Called after a tenant is decommissioned through the API (e.g. to poke the storage-removal watcher). */
  onTenantDecommissioned?: (tenantId: number) => void;
}

type Params = Record<string, string>;

/**
 * The admin HTTP API: the CLI's operations over JSON, for platform admins (admin keys, see
 * `irin admin-key create`). Register it as is — it applies its own prefix:
 *   app.register(adminApiRoutes, { store, hasher, authenticator, defaultLimits })
 * Every route runs a service from src/tenancy/services, the same function the CLI calls.
 * Documented in docs/admin-api.md.
 */
export async function adminApiRoutes(app: FastifyInstance, options: AdminApiOptions): Promise<void> {
  await app.register(async (api) => routes(api, options), { prefix: ADMIN_API_PREFIX });
}

async function routes(api: FastifyInstance, options: AdminApiOptions): Promise<void> {
  const principal = guardAdminRoutes(api, options.authenticator, 'admin API request failed');

  const ctx = (request: FastifyRequest): ServiceContext => ({
    store: options.store,
    hasher: options.hasher,
    by: { actor: principal(request).actor, sourceAddr: request.ip },
    ...(options.defaultLimits ? { defaultLimits: options.defaultLimits } : {}),
  });
  const p = (request: FastifyRequest) => request.params as Params;
  const created = <T>(reply: FastifyReply, value: T) => reply.code(201).send(value);

  // ---- tenants
  api.get('/tenants', async (req) => {
    const q = S.parse(S.listQuery, req.query, 'query');
    return listTenants(ctx(req), S.defined({ status: q.status }));
  });
  api.post('/tenants', async (req, reply) =>
    created(reply, await createTenant(ctx(req), S.defined(S.parse(S.createTenantBody, req.body)))),
  );
  api.get('/tenants/:tenant', async (req) => showTenant(ctx(req), p(req).tenant!));
  api.patch('/tenants/:tenant', async (req) =>
    updateTenant(ctx(req), p(req).tenant!, S.defined(S.parse(S.updateTenantBody, req.body))),
  );
  api.post('/tenants/:tenant/suspend', async (req) => setTenantStatus(ctx(req), p(req).tenant!, 'suspended'));
  api.post('/tenants/:tenant/resume', async (req) => setTenantStatus(ctx(req), p(req).tenant!, 'active'));
  api.delete('/tenants/:tenant', async (req) => {
    const result = await decommissionTenant(ctx(req), p(req).tenant!);
    options.onTenantDecommissioned?.(result.tenant.id);
    return result;
  });
  api.get('/tenants/:tenant/members', async (req) => listUsers(ctx(req), p(req).tenant!));
  api.get('/tenants/:tenant/audit', async (req) => {
    const q = S.parse(S.auditQuery.omit({ tenant: true }), req.query, 'query');
    return queryAudit(ctx(req), S.defined({ ...q, tenant: p(req).tenant! }));
  });

  // ---- servers
  api.get('/tenants/:tenant/servers', async (req) => listServers(ctx(req), p(req).tenant!));
  api.post('/tenants/:tenant/servers', async (req, reply) =>
    created(reply, await addServer(ctx(req), p(req).tenant!, S.defined(S.parse(S.addServerBody, req.body)))),
  );
  api.get('/tenants/:tenant/servers/:name', async (req) =>
    checkServer(ctx(req), p(req).tenant!, p(req).name!),
  );
  api.delete('/tenants/:tenant/servers/:name', async (req) =>
    removeServer(ctx(req), p(req).tenant!, p(req).name!),
  );

  // ---- credentials: push tokens and API keys under a tenant, admin keys at the top
  const credentialRoutes = (base: string, kind: CredentialKind) => {
    const tenantOf = (req: FastifyRequest) => (kind === 'admin' ? undefined : p(req).tenant!);
    api.get(base, async (req) => {
      const q = S.parse(S.listQuery, req.query, 'query');
      return listCredentials(ctx(req), kind, tenantOf(req), { all: q.all === 'true' });
    });
    api.post(base, async (req, reply) =>
      created(
        reply,
        await createCredential(
          ctx(req),
          kind,
          tenantOf(req),
          S.defined(S.parse(S.createCredentialBody, req.body ?? {})),
        ),
      ),
    );
    const revoke = async (req: FastifyRequest) =>
      revokeCredential(ctx(req), kind, tenantOf(req), p(req).clientId!);
    api.post(`${base}/:clientId/revoke`, revoke);
    api.delete(`${base}/:clientId`, revoke);
    api.post(`${base}/:clientId/rotate`, async (req) =>
      rotateCredential(
        ctx(req),
        kind,
        tenantOf(req),
        p(req).clientId!,
        S.defined(S.parse(S.rotateBody, req.body) ?? {}),
      ),
    );
  };
  credentialRoutes('/tenants/:tenant/tokens', 'push');
  credentialRoutes('/tenants/:tenant/apikeys', 'read');
  credentialRoutes('/admin-keys', 'admin');

  // ---- users
  api.get('/users', async (req) => listUsers(ctx(req)));
  api.post('/users', async (req, reply) =>
    created(reply, await createUser(ctx(req), S.defined(S.parse(S.createUserBody, req.body)))),
  );
  api.get('/users/:email', async (req) => showUser(ctx(req), p(req).email!));
  api.post('/users/:email/memberships', async (req, reply) => {
    const b = S.parse(S.addMembershipBody, req.body);
    return created(reply, await addUserToOrg(ctx(req), p(req).email!, b.tenant, b.role));
  });
  api.patch('/users/:email/memberships/:tenant', async (req) =>
    setUserRole(ctx(req), p(req).email!, p(req).tenant!, S.parse(S.setRoleBody, req.body).role),
  );
  api.delete('/users/:email/memberships/:tenant', async (req, reply) => {
    await removeUserFromOrg(ctx(req), p(req).email!, p(req).tenant!);
    return reply.code(204).send();
  });
  api.post('/users/:email/password', async (req) =>
    setUserPassword(ctx(req), p(req).email!, S.parse(S.passwordBody, req.body)?.password),
  );
  api.put('/users/:email/platform-admin', async (req) =>
    setPlatformAdmin(ctx(req), p(req).email!, S.parse(S.platformAdminBody, req.body).platformAdmin),
  );
  api.post('/users/:email/enrol-mfa', async (req) => enrolMfa(ctx(req), p(req).email!));
  api.post('/users/:email/confirm-mfa', async (req) =>
    confirmMfa(ctx(req), p(req).email!, S.parse(S.confirmMfaBody, req.body).code),
  );
  api.post('/users/:email/reset-mfa', async (req) => resetMfa(ctx(req), p(req).email!));

  // ---- endpoints
  api.get('/tenants/:tenant/endpoints', async (req) => listEndpoints(ctx(req), p(req).tenant!));
  api.post('/tenants/:tenant/endpoints', async (req, reply) =>
    created(
      reply,
      await addEndpoint(ctx(req), p(req).tenant!, S.defined(S.parse(S.createEndpointBody, req.body))),
    ),
  );
  api.get('/tenants/:tenant/endpoints/:name', async (req) =>
    showEndpoint(ctx(req), p(req).tenant!, p(req).name!),
  );
  api.patch('/tenants/:tenant/endpoints/:name', async (req) =>
    updateEndpoint(
      ctx(req),
      p(req).tenant!,
      p(req).name!,
      S.defined(S.parse(S.updateEndpointBody, req.body)),
    ),
  );
  api.delete('/tenants/:tenant/endpoints/:name', async (req) =>
    removeEndpoint(ctx(req), p(req).tenant!, p(req).name!),
  );

  // ---- audit
  api.get('/audit', async (req) =>
    queryAudit(ctx(req), S.defined(S.parse(S.auditQuery, req.query, 'query'))),
  );
}
