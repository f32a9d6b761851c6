import { rm } from 'node:fs/promises';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createRequestAuthenticator } from '../auth/authenticator.ts';
import { limitsFromConfig, type IrinConfig } from '../config/schema.ts';
import { consoleRoutes } from '../console/index.ts';
import { FileMetadataStore } from '../edge/metadata-store.ts';
import { lokiApiRoutes } from '../logs/http/routes.ts';
import { LogPartitions } from '../logs/store/partitions.ts';
import { remoteWriteRoutes } from '../edge/remote-write-routes.ts';
import { adminApiRoutes } from '../api/admin/plugin.ts';
import { prometheusApiRoutes } from '../api/prometheus/routes.ts';
import { serverCheckApiRoutes } from '../onboarding/check-api.ts';
import { createLogger } from '../observability/logger.ts';
import { createSelfMetricsRegistry } from '../observability/self-metrics.ts';
import { createProber, probeApiRoutes } from '../probe/index.ts';
import { startDecommissionWatcher } from '../tenancy/decommission.ts';
import { openControlPlane } from '../tenancy/open.ts';
import { withOrgScopingFault } from '../isolation/unscoped-store.ts';
import { TenantPartitions } from '../tsdb/partitions.ts';
import { createHttpServer } from './app.ts';
import { healthRoutes, type Readiness } from './health.ts';
import { selfMetricsRoute } from './metrics-route.ts';
import { endpointInfosFor, endpointSourceFromStore } from './probe-wiring.ts';
import { TenantLimitsCache } from './tenant-limits.ts';

export interface RunningIrin {
  readonly app: FastifyInstance;
  readonly logger: Logger;
  /** Base URL the server listens on, e.g. http://127.0.0.1:9470 */
  readonly url: string;
  /** Stops accepting requests, lets in-flight ones finish, then flushes and closes every store. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

/**
 * Opens every store, registers every route and starts listening. Reading order for newcomers:
 * control plane → authenticator → storage partitions → routes (edge, query APIs, prober) →
 * background loops. `close()` undoes it in reverse.
 */
export async function startIrin(config: IrinConfig, options: StartOptions = {}): Promise<RunningIrin> {
  const logger = options.logger ?? createLogger(config.log.level);
  mkdirSync(config.data_dir, { recursive: true });
  const registry = createSelfMetricsRegistry();
  const readiness: Readiness = { ready: false };
  const closers: { name: string; close: () => Promise<void> | void }[] = [];
  const defaultLimits = limitsFromConfig(config.limits);
  const tenantLabel = config.tenancy.tenant_label;

  // Control plane (layer 3) and credentials (layer 1).
  const controlPlane = openControlPlane({ dataDir: config.data_dir });
  const store = withOrgScopingFault(controlPlane.store); // unchanged outside test fault injection (docs/security.md)
  await store.ready();
  closers.push({ name: 'control plane', close: () => store.close() });
  const authenticator = createRequestAuthenticator(store, {
    hasher: controlPlane.hasher,
    defaultLimits,
    failureLimit: config.auth.failure_limit,
    failureWindowMs: config.auth.failure_window,
    onError: (err, context) => logger.warn({ err, context }, 'credential store problem'),
  });
  closers.push({ name: 'authenticator', close: () => authenticator.close() });

  // Storage partitions (layer 4).
  const tenantLimits = new TenantLimitsCache(store, defaultLimits);
  await tenantLimits.refresh();
  closers.push({ name: 'tenant limits', close: () => tenantLimits.close() });
  const limitsOf = (tenantId: string) => tenantLimits.get(tenantId);
  const partitions = new TenantPartitions({
    dataDir: config.data_dir,
    blockDurationMs: config.tsdb.block_duration,
    retentionMs: (id) => limitsOf(id).retentionMs,
    outOfOrderWindowMs: (id) => limitsOf(id).outOfOrderWindowMs,
    logger,
  });
  closers.push({ name: 'tsdb partitions', close: () => partitions.closeAll() });
  const tsdbFor = (tenantId: number) => partitions.get(String(tenantId));
  const logPartitions = new LogPartitions({
    dataDir: config.data_dir,
    retentionMs: (tenantId) => limitsOf(String(tenantId)).logRetentionMs,
    onError: (tenantId, err) => logger.error({ err, tenantId }, 'log store problem'),
  });
  closers.push({ name: 'log partitions', close: () => logPartitions.closeAll() });
  const metadata = new FileMetadataStore({
    dataDir: config.data_dir,
    onError: (err, tenantId) => logger.warn({ err, tenantId }, 'metadata store write failed'),
  });
  closers.push({ name: 'metadata', close: () => metadata.close() });

  // Decommissioned tenants lose their partitions, whichever process decommissioned them.
  const decommissions = startDecommissionWatcher(store, {
    removeStorage: async (tenant) => {
      await partitions.drop(String(tenant.id));
      await logPartitions.drop(tenant.id);
      await metadata.dropTenant(tenant.id);
      await rm(join(config.data_dir, 'tenants', String(tenant.id)), { recursive: true, force: true });
      logger.info({ tenant: tenant.slug }, 'removed the storage of a decommissioned tenant');
    },
    onError: (err, tenant) => logger.error({ err, tenant: tenant?.slug }, 'could not remove tenant storage'),
  });

  const app = createHttpServer(config, logger);
  await app.register(async (scope) => healthRoutes(scope, readiness));
  await app.register(async (scope) => selfMetricsRoute(scope, registry));

  const enforcement = { tenantLabel, onConflict: config.tenancy.label_conflict };
  await app.register(async (scope) =>
    remoteWriteRoutes(scope, {
      authenticator,
      tsdbFor,
      enforcement,
      registry,
      metadata,
      onRejection: (report) => {
        store
          .recordPushRejection(report.tenantId, {
            serverId: report.serverId ?? null,
            status: report.status,
            reason: `${report.reason}: ${report.message}`,
          })
          .catch((err: unknown) => logger.warn({ err }, 'could not record a push rejection'));
      },
    }),
  );
  await app.register(
    async (scope) =>
      prometheusApiRoutes(scope, {
        authenticator,
        querierFor: async (tenantId) => (await tsdbFor(tenantId)).querier(),
        metadataFor: (tenantId, metric, limit) => metadata.get(tenantId, metric, limit),
        tenantLabel,
      }),
    { prefix: '/prometheus' },
  );

  await app.register(async (scope) =>
    lokiApiRoutes(scope, {
      authenticator,
      logsFor: (tenantId) => logPartitions.get(tenantId),
      enforcement,
      registry,
      tenantLabel,
      ingest: { lineTooLong: config.logs.line_too_long },
    }),
  );

  // Control-plane admin API (platform admins) and the server check that `irin server check` asks.
  await app.register(adminApiRoutes, {
    store,
    hasher: controlPlane.hasher,
    authenticator,
    defaultLimits,
    onTenantDecommissioned: () => void decommissions.poke(),
  });
  await app.register(serverCheckApiRoutes, {
    store,
    authenticator,
    querierFor: async (tenantId) => (await tsdbFor(tenantId)).querier(),
    tenantLabel,
  });

  // The web console (single-page app + its JSON API), sessions double as read credentials.
  const publicUrl = config.server.public_url || undefined;
  await app.register(async (scope) =>
    consoleRoutes(scope, {
      store,
      hasher: controlPlane.hasher,
      secure: config.server.tls_cert_file !== '' || (publicUrl?.startsWith('https:') ?? false),
      staticDir: fileURLToPath(new URL('../../console/dist', import.meta.url)),
      defaultLimits,
      tenantLabel,
      ...(publicUrl ? { publicUrl } : {}),
    }),
  );

  // Endpoint prober and its status API.
  const prober = createProber({
    dataDir: config.data_dir,
    source: endpointSourceFromStore(store),
    sink: async (tenantId, series) => {
      await (await tsdbFor(tenantId)).append({ series });
    },
    allowCidrs: config.probe.allow_cidrs,
    concurrency: config.probe.concurrency,
    logger,
  });
  await app.register(async (scope) =>
    probeApiRoutes(scope, {
      authenticator,
      endpointsFor: (tenantId) => endpointInfosFor(store, tenantId),
      querierFor: async (tenantId) => (await tsdbFor(tenantId)).querier(),
      eventsFor: (tenantId) => prober.events.read(tenantId),
      lastResult: prober.scheduler.lastResult,
    }),
  );

  // Replay every existing partition's WAL before declaring readiness, so "ready" means all
  // acknowledged data is queryable.
  await Promise.all([
    ...existingTenantIds(config.data_dir, 'tsdb').map((id) => partitions.get(id)),
    ...existingTenantIds(config.data_dir, 'logs').map((id) => logPartitions.get(Number(id))),
  ]);

  const address = await app.listen({ host: config.server.listen_address, port: config.server.port });
  if (config.probe.enabled) {
    await prober.scheduler.start();
    closers.push({ name: 'prober', close: () => prober.scheduler.stop() });
  }
  closers.push({ name: 'decommission watcher', close: () => decommissions.close() });
  readiness.ready = true;
  logger.info({ address, dataDir: config.data_dir }, 'Irin is listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    logger,
    url: address,
    close() {
      closing ??= (async () => {
        readiness.ready = false;
        await app.close();
        for (const { name, close } of closers.reverse()) {
          try {
            await close();
          } catch (err) {
            logger.error({ err, component: name }, 'error while closing');
          }
        }
      })();
      return closing;
    },
  };
}

/** Tenant ids that have a partition of this kind (`tsdb`, `logs`) on disk. */
function existingTenantIds(dataDir: string, kind: string): string[] {
  const root = join(dataDir, 'tenants');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(root, e.name, kind)))
    .map((e) => e.name);
}
