import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import type { PushPrincipal, ReadPrincipal } from '../../../src/auth/principal.ts';
import { CredentialError, type RequestAuthenticator } from '../../../src/auth/request-auth.ts';
import { lokiApiRoutes, type LokiApiDeps } from '../../../src/logs/http/routes.ts';
import { encodePushBody, type PushStreamInput } from '../../../src/logs/push/encode.ts';
import { LogPartitions } from '../../../src/logs/store/partitions.ts';
import type { LogStoreOptions } from '../../../src/logs/store/tenant-store.ts';
import { BUILTIN_DEFAULT_LIMITS, effectiveLimits, type TenantLimits } from '../../../src/tenancy/limits.ts';

/**
 * A bare Fastify with the Loki API and a fake authenticator:
 *   Authorization: Bearer push:<tenant>[:<instance>]   a push token
 *   Authorization: Bearer read:<tenant>                a read key
 * Tenants: acme (id 1) and globex (id 2). Anything else is 401.
 */
export const TENANTS: Record<string, number> = { acme: 1, globex: 2 };

export interface Harness {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly partitions: LogPartitions;
  readonly dataDir: string;
  readonly registry: Registry;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    limits?: Partial<TenantLimits>;
    store?: Partial<LogStoreOptions>;
    deps?: Partial<LokiApiDeps>;
    dataDir?: string;
    listen?: boolean;
  } = {},
): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'irin-loki-'));
  const limits = effectiveLimits(BUILTIN_DEFAULT_LIMITS, options.limits);
  const credential = (request: FastifyRequest): [string, string, string | undefined] => {
    const auth = request.headers.authorization ?? '';
    const m = /^Bearer (push|read):([a-z]+)(?::([a-z0-9-]+))?$/.exec(auth);
    if (!m || TENANTS[m[2]!] === undefined) throw new CredentialError(401, 'invalid or missing credentials');
    return [m[1]!, m[2]!, m[3]];
  };
  const authenticator: RequestAuthenticator = {
    async authenticatePush(request): Promise<PushPrincipal> {
      const [kind, tenant, instance] = credential(request);
      if (kind !== 'push') throw new CredentialError(403, 'a read key cannot push');
      return {
        kind: 'push',
        tenantId: TENANTS[tenant]!,
        tenantSlug: tenant,
        tokenId: `tok-${tenant}`,
        ...(instance ? { instance, serverId: 7 } : {}),
        limits,
      };
    },
    async authenticateRead(request): Promise<ReadPrincipal> {
      const [kind, tenant] = credential(request);
      if (kind !== 'read') throw new CredentialError(403, 'a push token cannot read');
      return {
        kind: 'read',
        tenantId: TENANTS[tenant]!,
        tenantSlug: tenant,
        actor: `apikey:${tenant}`,
        limits,
      };
    },
  };
  const partitions = new LogPartitions({ dataDir, store: { maintenanceIntervalMs: 0, ...options.store } });
  const registry = new Registry();
  const app = Fastify({ bodyLimit: 1024 * 1024 });
  await app.register(lokiApiRoutes, {
    authenticator,
    logsFor: (id) => partitions.get(id),
    enforcement: { tenantLabel: 'tenant', onConflict: 'overwrite' },
    registry,
    ...options.deps,
  });
  let url = '';
  if (options.listen !== false) url = await app.listen({ host: '127.0.0.1', port: 0 });
  else await app.ready();
  return {
    app,
    url,
    partitions,
    dataDir,
    registry,
    async close() {
      await app.close();
      await partitions.closeAll();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function nowNs(offsetMs = 0): string {
  return (BigInt(Date.now() + offsetMs) * 1_000_000n).toString();
}

export async function pushProto(app: FastifyInstance, token: string, streams: readonly PushStreamInput[]) {
  return app.inject({
    method: 'POST',
    url: '/loki/api/v1/push',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' },
    payload: encodePushBody(streams),
  });
}

export async function pushJson(
  app: FastifyInstance,
  token: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/loki/api/v1/push',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

export async function get(
  app: FastifyInstance,
  token: string,
  path: string,
  query: Record<string, string | string[]> = {},
) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
  const res = await app.inject({
    method: 'GET',
    url: `${path}${qs.size ? `?${qs}` : ''}`,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: res.statusCode,
    body: res.body,
    // Response bodies are arbitrary JSON; tests index into them freely.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    json: () => JSON.parse(res.body) as any,
    headers: res.headers,
  };
}
