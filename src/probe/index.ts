/**
 * The prober's public surface. Typical wiring (server side):
 *
 *   const prober = createProber({ dataDir, source, sink, allowCidrs: config.probe.allow_cidrs,
 *                                 concurrency: config.probe.concurrency, logger });
 *   await prober.scheduler.start();                       // on shutdown: await prober.scheduler.stop()
 *   await probeApiRoutes(app, { authenticator, endpointsFor, querierFor,
 *                               eventsFor: (id) => prober.events.read(id),
 *                               lastResult: prober.scheduler.lastResult });
 */
import { createAddressPolicy } from './address-policy.ts';
import type { AddressPolicy } from './address-policy.ts';
import { createJsonlEventStore } from './events.ts';
import type { ProbeEventStore } from './events.ts';
import { createProbeScheduler } from './scheduler.ts';
import type { ProbeScheduler, SchedulerLogger } from './scheduler.ts';
import { parsePemCertificates } from './tls-info.ts';
import type { EndpointSource, ProbeSink } from './types.ts';

export { createAddressPolicy, guardedLookup, RefusedAddressError } from './address-policy.ts';
export type { AddressPolicy, Refusal, Resolver } from './address-policy.ts';
export { probeHttp, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_REDIRECTS } from './http-probe.ts';
export type { HttpProbeOptions, ProbeSpec } from './http-probe.ts';
export { createProbeScheduler } from './scheduler.ts';
export type { ProbeScheduler, ProbeSchedulerOptions, SchedulerLogger, SchedulerStats } from './scheduler.ts';
export { createJsonlEventStore, createMemoryEventStore, probeEventsPath } from './events.ts';
export type { ProbeEventStore } from './events.ts';
export { outcomeSeries, PROBE_JOB } from './metrics.ts';
export { uptimeWindows, uptimeCalendar, findIncidents, querierSampleLoader } from './uptime.ts';
export { probeApiRoutes } from './api.ts';
export type { ProbeApiDeps, EndpointInfo } from './api.ts';
export type * from './types.ts';

export interface ProberOptions {
  /** Irin's data directory: state changes go to <dataDir>/tenants/<id>/probe-events.jsonl. */
  readonly dataDir: string;
  readonly source: EndpointSource;
  readonly sink: ProbeSink;
  /** CIDRs probes may reach although internal (config `probe.allow_cidrs`). */
  readonly allowCidrs?: readonly string[];
  readonly concurrency?: number;
  readonly perTenantConcurrency?: number;
  readonly maxBodyBytes?: number;
  /** PEM texts of CAs trusted beyond node's bundled roots. */
  readonly extraCaPem?: readonly string[];
  readonly reloadIntervalMs?: number;
  readonly logger?: SchedulerLogger;
}

export interface Prober {
  readonly scheduler: ProbeScheduler;
  readonly events: ProbeEventStore;
  readonly policy: AddressPolicy;
}

export function createProber(options: ProberOptions): Prober {
  const policy = createAddressPolicy({ allow: options.allowCidrs ?? [] });
  const events = createJsonlEventStore(options.dataDir);
  const scheduler = createProbeScheduler({
    source: options.source,
    sink: options.sink,
    events,
    http: {
      policy,
      ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
      extraCa: parsePemCertificates(options.extraCaPem ?? []),
    },
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.perTenantConcurrency !== undefined
      ? { perTenantConcurrency: options.perTenantConcurrency }
      : {}),
    ...(options.reloadIntervalMs !== undefined ? { reloadIntervalMs: options.reloadIntervalMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { scheduler, events, policy };
}
