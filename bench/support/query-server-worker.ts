import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import Fastify, { type FastifyRequest } from 'fastify';
import type { ReadPrincipal } from '../../src/auth/principal.ts';
import { CredentialError, type RequestAuthenticator } from '../../src/auth/request-auth.ts';
import { prometheusApiRoutes } from '../../src/api/prometheus/routes.ts';
import { BUILTIN_DEFAULT_LIMITS } from '../../src/tenancy/limits.ts';
import { openTsdb, type Tsdb } from '../../src/tsdb/db.ts';
import { buildFleet, nextValues } from './workload.ts';

/**
 * bench:query's Irin side, in a worker thread: one TSDB partition per tenant loaded with the
 * benchmark fleet's samples (the same deterministic stream the main thread sends Prometheus),
 * served by the Prometheus HTTP API behind a bench-only authenticator (`Bearer <tenant slug>`).
 */
export interface QueryServerOptions {
  readonly tenants: number;
  readonly start: number;
  readonly scrapes: number;
  readonly intervalMs: number;
  readonly batch: number;
}

async function serve(opts: QueryServerOptions): Promise<void> {
  const fleet = buildFleet(opts.tenants, true);
  const dir = mkdtempSync(join(tmpdir(), 'irin-bench-query-'));
  const tsdbs = new Map<string, Tsdb>();
  for (const tenant of new Set(fleet.map((s) => s.tenant)))
    tsdbs.set(tenant, await openTsdb({ dir: join(dir, tenant), tenant }));
  for (let done = 0; done < opts.scrapes; done += opts.batch) {
    const n = Math.min(opts.batch, opts.scrapes - done);
    for (const server of fleet) {
      const { timestamps, values } = nextValues(
        server,
        opts.start + done * opts.intervalMs,
        n,
        opts.intervalMs,
      );
      const series = server.node.series.map((s, i) => ({
        labels: s.labels,
        samples: timestamps.map((t, k) => ({ t, v: values[i]![k]! })),
      }));
      const result = await tsdbs.get(server.tenant)!.append({ series });
      if (result.rejected.length) throw new Error(`Irin's TSDB rejected ${result.rejected.length} samples`);
    }
  }
  const slugs = [...tsdbs.keys()];
  const authenticator: RequestAuthenticator = {
    authenticatePush: async () => {
      throw new CredentialError(403, 'bench: reads only');
    },
    authenticateRead: async (request: FastifyRequest): Promise<ReadPrincipal> => {
      const slug = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
      const tenantId = slugs.indexOf(slug);
      if (tenantId < 0) throw new CredentialError(401, 'unknown bench tenant');
      return { kind: 'read', tenantId, tenantSlug: slug, actor: 'bench', limits: BUILTIN_DEFAULT_LIMITS };
    },
  };
  const app = Fastify();
  await app.register(
    async (scope) =>
      prometheusApiRoutes(scope, {
        authenticator,
        querierFor: async (id) => tsdbs.get(slugs[id]!)!.querier(),
        tenantLabel: 'tenant',
      }),
    { prefix: '/prometheus' },
  );
  const url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/prometheus`;
  parentPort!.once('message', () => {
    void (async () => {
      await app.close();
      for (const t of tsdbs.values()) await t.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
  parentPort!.postMessage({ url });
}

serve(workerData as QueryServerOptions).catch((err: unknown) => {
  parentPort!.postMessage({ error: err instanceof Error ? err.stack : String(err) });
});
