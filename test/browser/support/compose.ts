import Fastify from 'fastify';
import { fileURLToPath } from 'node:url';
import { createRequestAuthenticator } from '../../../src/auth/authenticator.ts';
import { consoleRoutes } from '../../../src/console/index.ts';
import { FileMetadataStore } from '../../../src/edge/metadata-store.ts';
import { remoteWriteRoutes } from '../../../src/edge/remote-write-routes.ts';
import { prometheusApiRoutes } from '../../../src/api/prometheus/routes.ts';
import { lokiApiRoutes } from '../../../src/logs/http/routes.ts';
import { LogPartitions } from '../../../src/logs/store/partitions.ts';
import { createSelfMetricsRegistry } from '../../../src/observability/self-metrics.ts';
import { createProber, probeApiRoutes } from '../../../src/probe/index.ts';
import type { ProbeTarget } from '../../../src/probe/types.ts';
import { BUILTIN_DEFAULT_LIMITS, type TenantLimits } from '../../../src/tenancy/limits.ts';
import { openControlPlane } from '../../../src/tenancy/open.ts';
import { TenantPartitions } from '../../../src/tsdb/partitions.ts';

/**
 * Irin's parts composed by hand: control plane, authenticator, TSDB and log partitions, remote
 * write, the Prometheus and Loki APIs, the prober with its status API, and the console. Used by
 * the browser tests while src/server/runtime.ts does not register the console yet (see stack.ts,
 * which prefers the real runtime as soon as it does).
 */

export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist', import.meta.url));

export interface ComposedIrin {
  readonly url: string;
  close(): Promise<void>;
}

export async function composeIrin(
  dataDir: string,
  options: { port?: number; limits?: Partial<TenantLimits> } = {},
): Promise<ComposedIrin> {
  const defaultLimits = { ...BUILTIN_DEFAULT_LIMITS, ...options.limits };
  const plane = openControlPlane({ dataDir });
  const { store, hasher } = plane;
  await store.ready();
  const authenticator = createRequestAuthenticator(store, { hasher, defaultLimits });
  const registry = createSelfMetricsRegistry();
  const partitions = new TenantPartitions({
    dataDir,
    maintenanceIntervalMs: 0,
    retentionMs: () => defaultLimits.retentionMs,
  });
  const tsdbFor = (tenantId: number) => partitions.get(String(tenantId));
  const logs = new LogPartitions({ dataDir });
  const metadata = new FileMetadataStore({ dataDir });
  const enforcement = { tenantLabel: 'tenant', onConflict: 'overwrite' as const };

  const prober = createProber({
    dataDir,
    allowCidrs: ['127.0.0.0/8'],
    reloadIntervalMs: 1000,
    source: {
      async listEnabledEndpoints() {
        const targets: ProbeTarget[] = [];
        for (const tenant of await store.listTenants({ status: 'active' })) {
          for (const e of await store.listEndpointsForProbing(tenant.id)) {
            if (!e.enabled) continue;
            targets.push({ ...e, tenantSlug: tenant.slug });
          }
        }
        return targets;
      },
    },
    sink: async (tenantId, series) => {
      await (await tsdbFor(tenantId)).append({ series });
    },
  });

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  await app.register(async (scope) =>
    remoteWriteRoutes(scope, { authenticator, tsdbFor, enforcement, registry, metadata }),
  );
  await app.register(
    async (scope) =>
      prometheusApiRoutes(scope, {
        authenticator,
        querierFor: async (id) => (await tsdbFor(id)).querier(),
        metadataFor: (id, metric, limit) => metadata.get(id, metric, limit),
        tenantLabel: 'tenant',
      }),
    { prefix: '/prometheus' },
  );
  await app.register(async (scope) =>
    lokiApiRoutes(scope, { authenticator, logsFor: (id) => logs.get(id), enforcement, registry }),
  );
  await app.register(async (scope) =>
    probeApiRoutes(scope, {
      authenticator,
      endpointsFor: async (tenantId) => store.listEndpoints(tenantId),
      querierFor: async (id) => (await tsdbFor(id)).querier(),
      eventsFor: (id) => prober.events.read(id),
      lastResult: prober.scheduler.lastResult,
    }),
  );
  await app.register(async (scope) =>
    consoleRoutes(scope, { store, hasher, secure: false, staticDir: CONSOLE_DIST, defaultLimits }),
  );
  const url = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  await prober.scheduler.start();
  return {
    url,
    async close() {
      await prober.scheduler.stop();
      await app.close();
      await authenticator.close();
      await metadata.close();
      await logs.closeAll();
      await partitions.closeAll();
      await store.close();
    },
  };
}
