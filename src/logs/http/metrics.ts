import { Counter, Histogram, type Registry } from 'prom-client';

/** Self-metrics of the Loki API. Label values are bounded (tenant slug, reason code, status, endpoint). */
export interface LogApiMetrics {
  readonly entries: Counter<'tenant'>;
  readonly bytes: Counter<'tenant'>;
  readonly discarded: Counter<'tenant' | 'reason'>;
  readonly pushDuration: Histogram<'code'>;
  readonly queryDuration: Histogram<'endpoint' | 'code'>;
}

function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function logApiMetrics(registry: Registry): LogApiMetrics {
  const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    entries: reuse(
      registry,
      'irin_logs_received_entries_total',
      () =>
        new Counter({
          name: 'irin_logs_received_entries_total',
          help: 'Log entries stored, by tenant.',
          labelNames: ['tenant'],
          registers: [registry],
        }),
    ),
    bytes: reuse(
      registry,
      'irin_logs_received_bytes_total',
      () =>
        new Counter({
          name: 'irin_logs_received_bytes_total',
          help: 'Log line bytes stored, by tenant.',
          labelNames: ['tenant'],
          registers: [registry],
        }),
    ),
    discarded: reuse(
      registry,
      'irin_logs_discarded_entries_total',
      () =>
        new Counter({
          name: 'irin_logs_discarded_entries_total',
          help: 'Log entries refused, by tenant and Loki reason code.',
          labelNames: ['tenant', 'reason'],
          registers: [registry],
        }),
    ),
    pushDuration: reuse(
      registry,
      'irin_logs_push_duration_seconds',
      () =>
        new Histogram({
          name: 'irin_logs_push_duration_seconds',
          help: 'Loki push handling time, by HTTP status code.',
          labelNames: ['code'],
          buckets,
          registers: [registry],
        }),
    ),
    queryDuration: reuse(
      registry,
      'irin_logs_query_duration_seconds',
      () =>
        new Histogram({
          name: 'irin_logs_query_duration_seconds',
          help: 'Loki query API handling time, by endpoint and HTTP status code.',
          labelNames: ['endpoint', 'code'],
          buckets,
          registers: [registry],
        }),
    ),
  };
}
