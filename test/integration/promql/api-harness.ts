import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { PushPrincipal, ReadPrincipal } from '../../../src/auth/principal.ts';
import { CredentialError, type RequestAuthenticator } from '../../../src/auth/request-auth.ts';
import { prometheusApiRoutes, type PrometheusApiDeps } from '../../../src/api/prometheus/routes.ts';
import { BUILTIN_DEFAULT_LIMITS, effectiveLimits, type TenantLimits } from '../../../src/tenancy/limits.ts';
import type { Querier } from '../../../src/tsdb/types.ts';
import { MemoryQuerier, labels, type MemorySeries } from '../../unit/promql/memory-querier.ts';

/**
 * A Fastify app with only the Prometheus API mounted under /prometheus, two tenants ("acme" with
 * id 1, "globex" with id 2), bearer read keys `read-acme` / `read-globex`, a push token `push-acme`.
 */

export const T0 = 1_700_000_000_000;
export const STEP = 15_000;

function counter(record: Record<string, string>, perStep: number, n = 241): MemorySeries {
  return {
    labels: labels(record),
    samples: Array.from({ length: n }, (_, i) => ({ t: T0 + i * STEP, v: i * perStep })),
  };
}

/** Each tenant's own series; globex's values are all ≥ 1e6 so any leak is visible in values too. */
export function tenantSeries(tenant: 'acme' | 'globex'): MemorySeries[] {
  const base = tenant === 'acme' ? 1 : 1e6;
  const secret = tenant === 'acme' ? 'acme-only' : 'globex-only';
  return [
    counter({ __name__: 'http_requests_total', tenant, job: 'api', instance: `${tenant}-1` }, base),
    counter({ __name__: 'http_requests_total', tenant, job: 'api', instance: `${tenant}-2` }, base * 2),
    counter({ __name__: `${tenant}_secret_metric`, tenant, job: 'secret', label_only: secret }, base),
    counter({ __name__: 'up', tenant, job: 'node', instance: `${tenant}-1` }, 0),
    ...['0.1', '1', '+Inf'].map((le, i) =>
      counter(
        { __name__: 'latency_seconds_bucket', tenant, job: 'api', instance: `${tenant}-1`, le },
        base * (i + 1),
      ),
    ),
  ];
}

interface TenantDef {
  readonly id: number;
  readonly slug: string;
  readonly limits?: Partial<TenantLimits>;
}

export interface HarnessOptions {
  /** Simulates a broken storage partition layer: every tenant's querier sees every tenant's data. */
  readonly sharedStorage?: boolean;
  readonly limits?: Partial<TenantLimits>;
  readonly metadataFor?: PrometheusApiDeps['metadataFor'];
  readonly now?: () => number;
  /** Gives the queriers a labels-only `listSeries` (counted in `listSeriesCalls`). */
  readonly listSeries?: boolean;
}

export interface Harness {
  readonly app: FastifyInstance;
  readonly queriers: Map<number, MemoryQuerier>;
  readonly listSeriesCalls: { count: number };
}

export async function buildApiApp(opts: HarnessOptions = {}): Promise<Harness> {
  const tenants: TenantDef[] = [
    { id: 1, slug: 'acme', ...(opts.limits ? { limits: opts.limits } : {}) },
    { id: 2, slug: 'globex' },
  ];
  const all = [...tenantSeries('acme'), ...tenantSeries('globex')];
  const queriers = new Map<number, MemoryQuerier>();
  for (const t of tenants) {
    const own = opts.sharedStorage ? all : tenantSeries(t.slug as 'acme' | 'globex');
    queriers.set(t.id, new MemoryQuerier(own));
  }
  const authenticator: RequestAuthenticator = {
    async authenticatePush(): Promise<PushPrincipal> {
      throw new CredentialError(401, 'not used');
    },
    async authenticateRead(request: FastifyRequest): Promise<ReadPrincipal> {
      let auth = request.headers.authorization ?? '';
      // Basic auth carries the key as the password (what promtool sends for http://user:key@host/).
      if (auth.startsWith('Basic '))
        auth = `Bearer ${Buffer.from(auth.slice(6), 'base64').toString().split(':')[1] ?? ''}`;
      if (auth === 'Bearer push-acme') throw new CredentialError(403, 'a push token cannot read');
      if (auth === 'Bearer throttled') throw new CredentialError(429, 'too many failed attempts', 7);
      const m = /^Bearer read-(\w+)$/.exec(auth);
      const tenant = tenants.find((t) => t.slug === m?.[1]);
      if (!tenant) throw new CredentialError(401, 'missing or invalid credentials');
      return {
        kind: 'read',
        tenantId: tenant.id,
        tenantSlug: tenant.slug,
        actor: `apikey:${tenant.slug}`,
        limits: effectiveLimits(BUILTIN_DEFAULT_LIMITS, tenant.limits),
      };
    },
  };
  const listSeriesCalls = { count: 0 };
  const app = Fastify();
  const deps: PrometheusApiDeps = {
    authenticator,
    querierFor: async (id): Promise<Querier> => {
      const q = queriers.get(id)!;
      if (!opts.listSeries) return q;
      return {
        select: (m, a, b) => q.select(m, a, b),
        labelNames: (m, a, b) => q.labelNames(m, a, b),
        labelValues: (n, m, a, b) => q.labelValues(n, m, a, b),
        listSeries: (m: Parameters<Querier['select']>[0], a: number, b: number) => {
          listSeriesCalls.count++;
          return q.select(m, a, b).map((s) => s.labels);
        },
      } as Querier;
    },
    tenantLabel: 'tenant',
    now: opts.now ?? (() => T0 + 30 * 60_000),
    ...(opts.metadataFor ? { metadataFor: opts.metadataFor } : {}),
  };
  await app.register(async (scope) => prometheusApiRoutes(scope, deps), { prefix: '/prometheus' });
  await app.ready();
  return { app, queriers, listSeriesCalls };
}

export const auth = (tenant: string): Record<string, string> => ({ authorization: `Bearer read-${tenant}` });
