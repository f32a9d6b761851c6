/**
 * Per-tenant limits. Platform defaults come from configuration; a tenant row may override any of
 * them; server-bound tokens are additionally held to the per-server share below.
 */
export interface TenantLimits {
  /** Remote write: samples per second, token-bucket refill rate. */
  ingestionRate: number;
  /** Remote write: token-bucket size. */
  ingestionBurst: number;
  /** Active (head) series per tenant. */
  maxSeries: number;
  /** Per-server caps under the tenant's, applied to server-bound tokens. */
  serverIngestionRate: number;
  serverIngestionBurst: number;
  serverMaxSeries: number;
  maxLabelNamesPerSeries: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  /** Compressed request body limit, bytes (413 above). */
  maxRequestBytes: number;
  /** Decompressed request limit, bytes, checked from the snappy header before allocating. */
  maxDecompressedBytes: number;
  /** Samples newer than now + this are refused (ms). */
  creationGracePeriodMs: number;
  /** Out-of-order samples accepted within this window behind the series' newest sample (ms, 0 = off). */
  outOfOrderWindowMs: number;
  /** Metrics retention (ms). */
  retentionMs: number;
  /** Logs: bytes per second and burst, max line size, max active streams, retention. */
  logIngestionBytesPerSecond: number;
  logIngestionBurstBytes: number;
  maxLineBytes: number;
  maxStreams: number;
  logRetentionMs: number;
  /** Queries. */
  maxQueryRangeMs: number;
  maxQuerySamples: number;
  queryTimeoutMs: number;
}

export type EffectiveLimits = Readonly<TenantLimits>;

export const BUILTIN_DEFAULT_LIMITS: TenantLimits = {
  ingestionRate: 10_000,
  ingestionBurst: 200_000,
  maxSeries: 150_000,
  serverIngestionRate: 5_000,
  serverIngestionBurst: 100_000,
  serverMaxSeries: 20_000,
  maxLabelNamesPerSeries: 30,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
  maxRequestBytes: 10 * 1024 * 1024,
  maxDecompressedBytes: 64 * 1024 * 1024,
  creationGracePeriodMs: 10 * 60 * 1000,
  outOfOrderWindowMs: 0,
  retentionMs: 15 * 24 * 3600 * 1000,
  logIngestionBytesPerSecond: 4 * 1024 * 1024,
  logIngestionBurstBytes: 6 * 1024 * 1024,
  maxLineBytes: 256 * 1024,
  maxStreams: 5000,
  logRetentionMs: 15 * 24 * 3600 * 1000,
  maxQueryRangeMs: 32 * 24 * 3600 * 1000,
  maxQuerySamples: 50_000_000,
  queryTimeoutMs: 60_000,
};

/** Merges a tenant's overrides over the platform defaults. */
export function effectiveLimits(
  defaults: TenantLimits,
  overrides: Partial<TenantLimits> | undefined,
): EffectiveLimits {
  return Object.freeze({ ...defaults, ...(overrides ?? {}) });
}
