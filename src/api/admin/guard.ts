import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IrinAuthenticator } from '../../auth/authenticator.ts';
import type { AdminPrincipal } from '../../auth/principal.ts';
import { CredentialError } from '../../auth/request-auth.ts';
import { ControlPlaneError, StoreUnavailableError } from '../../tenancy/errors.ts';

/**
 * The front door of every route under /api/admin/v1 (the admin API, the server-check API): each
 * request needs an admin key (401 with WWW-Authenticate, 403, or 429 with Retry-After otherwise),
 * and errors answer as JSON `{ error }` — a control-plane error with its own status (503 with
 * Retry-After), a 4xx from Fastify as it is, anything else 500 and logged as `failure`.
 * Returns who made each request.
 */
export function guardAdminRoutes(
  api: FastifyInstance,
  authenticator: Pick<IrinAuthenticator, 'authenticateAdmin'>,
  failure: string,
): (request: FastifyRequest) => AdminPrincipal {
  const principals = new WeakMap<FastifyRequest, AdminPrincipal>();

  api.addHook('onRequest', async (request, reply) => {
    try {
      principals.set(request, await authenticator.authenticateAdmin(request));
    } catch (err) {
      if (!(err instanceof CredentialError)) throw err;
      if (err.retryAfterSeconds !== undefined) reply.header('Retry-After', String(err.retryAfterSeconds));
      if (err.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="irin-admin"');
      return reply.code(err.status).send({ error: err.message });
    }
  });

  api.setErrorHandler((err: unknown, request, reply) => {
    if (err instanceof ControlPlaneError) {
      if (err instanceof StoreUnavailableError) reply.header('Retry-After', String(err.retryAfterSeconds));
      return reply.code(err.status).send({ error: err.message });
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ error: (err as Error).message });
    }
    request.log.error({ err }, failure);
    return reply.code(500).send({ error: 'internal error' });
  });

  return (request) => {
    const principal = principals.get(request);
    if (!principal) throw new Error('admin route reached without an authenticated admin principal');
    return principal;
  };
}
