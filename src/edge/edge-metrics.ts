import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * The edge's self-metrics. Label values are bounded: the tenant slug, a reason from the closed
 * RejectionReason set, an HTTP status code.
 */
export interface EdgeMetrics {
  /** Samples stored (appended to the TSDB). */
  readonly samples: Counter<'tenant'>;
  /** Samples not stored, by reason. */
  readonly discardedSamples: Counter<'tenant' | 'reason'>;
  /** Requests not answered 2xx, once per distinct reason in the request. */
  readonly rejections: Counter<'tenant' | 'reason'>;
  readonly requestDuration: Histogram<'code'>;
}

function counter<T extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly T[],
): Counter<T> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<T>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** Registers (or, for a second edge on the same registry, reuses) the edge's metrics. */
export function edgeMetrics(registry: Registry): EdgeMetrics {
  const existing = registry.getSingleMetric('irin_ingest_request_duration_seconds');
  const requestDuration =
    (existing as Histogram<'code'> | undefined) ??
    new Histogram({
      name: 'irin_ingest_request_duration_seconds',
      help: 'Remote-write request handling time, from arrival to response, by HTTP status code.',
      labelNames: ['code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  return {
    samples: counter(registry, 'irin_ingest_samples_total', 'Remote-write samples stored, by tenant.', [
      'tenant',
    ]),
    discardedSamples: counter(
      registry,
      'irin_ingest_discarded_samples_total',
      'Remote-write samples not stored, by tenant and reason.',
      ['tenant', 'reason'],
    ),
    rejections: counter(
      registry,
      'irin_ingest_rejections_total',
      'Remote-write requests refused in whole or in part, by tenant and reason (tenant is empty for credential failures).',
      ['tenant', 'reason'],
    ),
    requestDuration,
  };
}
