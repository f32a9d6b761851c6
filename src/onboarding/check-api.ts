import type { FastifyInstance } from 'fastify';
import type { IrinAuthenticator } from '../auth/authenticator.ts';
import { guardAdminRoutes } from '../api/admin/guard.ts';
import { NotFoundError, ValidationError } from '../tenancy/errors.ts';
import type { ControlPlaneStore } from '../tenancy/store.ts';
import { validateServerName, validateSlug } from '../tenancy/validation.ts';
import type { Querier } from '../tsdb/types.ts';
import { checkServer, DEFAULT_CHECK_WINDOW_MS, type ServerCheck } from './check.ts';

/**
 * `irin server check` runs in the CLI process, which must not open a TSDB the server is writing.
 * So the data half of the check is served by the running server, to platform admins:
 *
 *   GET /api/admin/v1/tenants/:tenant/servers/:name/check[?window=<minutes>&limit=<n>]
 *   Authorization: Bearer <admin key>
 *
 * answering the ServerCheck JSON (see check.ts). The CLI calls it with --url and IRIN_ADMIN_KEY
 * and falls back to the control plane alone (no series counts) without them.
 */

export const SERVER_CHECK_PREFIX = '/api/admin/v1';
export const serverCheckPath = (tenant: string, server: string): string =>
  `${SERVER_CHECK_PREFIX}/tenants/${encodeURIComponent(tenant)}/servers/${encodeURIComponent(server)}/check`;

export interface ServerCheckApiOptions {
  readonly store: ControlPlaneStore;
  readonly authenticator: Pick<IrinAuthenticator, 'authenticateAdmin'>;
  /** The tenant's own TSDB partition. */
  querierFor(tenantId: number): Promise<Querier>;
  readonly tenantLabel: string;
  readonly now?: () => number;
}

const MAX_WINDOW_MINUTES = 24 * 60;

function intParam(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ValidationError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

/** Register as is (it applies its own prefix): `app.register(serverCheckApiRoutes, options)`. */
export async function serverCheckApiRoutes(
  app: FastifyInstance,
  options: ServerCheckApiOptions,
): Promise<void> {
  await app.register(
    async (api) => {
      guardAdminRoutes(api, options.authenticator, 'server check failed');

      api.get('/tenants/:tenant/servers/:name/check', async (request) => {
        const params = request.params as { tenant: string; name: string };
        const query = request.query as Record<string, unknown>;
        const windowMinutes = intParam(query.window, 'window (minutes)', 1, MAX_WINDOW_MINUTES);
        const limit = intParam(query.limit, 'limit', 1, 1000);
        const tenant = await options.store.getTenantBySlug(validateSlug(params.tenant));
        if (!tenant) throw new NotFoundError(`tenant "${params.tenant}" not found`);
        return checkServer({
          store: options.store,
          querier: await options.querierFor(tenant.id),
          tenantId: tenant.id,
          serverName: validateServerName(params.name),
          tenantLabel: options.tenantLabel,
          now: (options.now ?? Date.now)(),
          windowMs: windowMinutes === undefined ? DEFAULT_CHECK_WINDOW_MS : windowMinutes * 60_000,
          ...(limit === undefined ? {} : { rejectionLimit: limit }),
        });
      });
    },
    { prefix: SERVER_CHECK_PREFIX },
  );
}

/** Raised by fetchServerCheck with the server's own message. */
export class ServerCheckRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ServerCheckRequestError';
  }
}

export interface FetchServerCheckInput {
  /** Base URL of the running Irin server (its admin side), e.g. http://127.0.0.1:9470 */
  readonly url: string;
  readonly adminKey: string;
  readonly tenant: string;
  readonly server: string;
  readonly windowMinutes?: number;
  readonly limit?: number;
  readonly fetch?: typeof fetch;
}

/** The CLI's side: asks the running server for the check. */
export async function fetchServerCheck(input: FetchServerCheckInput): Promise<ServerCheck> {
  let url: URL;
  try {
    url = new URL(input.url.replace(/\/+$/, '') + serverCheckPath(input.tenant, input.server));
  } catch {
    throw new ValidationError(`--url "${input.url}" is not an absolute URL (e.g. http://127.0.0.1:9470)`);
  }
  if (input.windowMinutes !== undefined) url.searchParams.set('window', String(input.windowMinutes));
  if (input.limit !== undefined) url.searchParams.set('limit', String(input.limit));
  const doFetch = input.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      headers: { authorization: `Bearer ${input.adminKey}`, accept: 'application/json' },
    });
  } catch (err) {
    throw new ServerCheckRequestError(`cannot reach Irin at ${url.origin}: ${(err as Error).message}`, 0);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ServerCheckRequestError(
      `Irin at ${url.origin} answered ${response.status} with a body that is not JSON`,
      response.status,
    );
  }
  if (!response.ok) {
    const message = (body as { error?: unknown }).error;
    throw new ServerCheckRequestError(
      `Irin at ${url.origin} answered ${response.status}: ${typeof message === 'string' ? message : 'no error message'}`,
      response.status,
    );
  }
  return body as ServerCheck;
}
