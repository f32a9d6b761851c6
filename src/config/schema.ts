import { z } from 'zod';
import { isValidLabelName } from '../model/labels.ts';
import { BUILTIN_DEFAULT_LIMITS, type TenantLimits } from '../tenancy/limits.ts';
import { parseDuration } from './duration.ts';

const duration = z.union([z.string(), z.number().nonnegative()]).transform((value, ctx) => {
  if (typeof value === 'number') return value * 1000; // bare numbers are seconds
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const positiveInt = z.number().int().positive();
const L = BUILTIN_DEFAULT_LIMITS;

/** Platform-wide default limits; YAML keys are snake_case, durations accept `15d`-style strings. */
const limitsSchema = z
  .object({
    ingestion_rate: positiveInt.default(L.ingestionRate),
    ingestion_burst: positiveInt.default(L.ingestionBurst),
    max_series: positiveInt.default(L.maxSeries),
    server_ingestion_rate: positiveInt.default(L.serverIngestionRate),
    server_ingestion_burst: positiveInt.default(L.serverIngestionBurst),
    server_max_series: positiveInt.default(L.serverMaxSeries),
    max_label_names_per_series: positiveInt.default(L.maxLabelNamesPerSeries),
    max_label_name_length: positiveInt.default(L.maxLabelNameLength),
    max_label_value_length: positiveInt.default(L.maxLabelValueLength),
    max_request_bytes: positiveInt.default(L.maxRequestBytes),
    max_decompressed_bytes: positiveInt.default(L.maxDecompressedBytes),
    creation_grace_period: duration.default(L.creationGracePeriodMs),
    out_of_order_window: duration.default(L.outOfOrderWindowMs),
    retention: duration.default(L.retentionMs),
    log_ingestion_bytes_per_second: positiveInt.default(L.logIngestionBytesPerSecond),
    log_ingestion_burst_bytes: positiveInt.default(L.logIngestionBurstBytes),
    max_line_bytes: positiveInt.default(L.maxLineBytes),
    max_streams: positiveInt.default(L.maxStreams),
    log_retention: duration.default(L.logRetentionMs),
    max_query_range: duration.default(L.maxQueryRangeMs),
    max_query_samples: positiveInt.default(L.maxQuerySamples),
    query_timeout: duration.default(L.queryTimeoutMs),
  })
  .strict()
  .prefault({});

export const configSchema = z
  .object({
    data_dir: z.string().min(1).default('./data'),
    server: z
      .object({
        listen_address: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(9470),
        tls_cert_file: z.string().default(''),
        tls_key_file: z.string().default(''),
        trusted_proxies: z.array(z.string()).default([]),
        public_url: z
          .string()
          .refine((u) => u === '' || /^https?:\/\/[^/]+/.test(u), {
            message: 'must be an http(s) URL such as https://irin.example.com',
          })
          .default(''),
        shutdown_timeout: duration.default(30_000),
      })
      .strict()
      .prefault({})
      .refine((s) => (s.tls_cert_file === '') === (s.tls_key_file === ''), {
        message: 'tls_cert_file and tls_key_file must be set together',
      }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    tenancy: z
      .object({
        tenant_label: z
          .string()
          .refine(isValidLabelName, { message: 'must be a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)' })
          .default('tenant'),
        label_conflict: z.enum(['overwrite', 'reject']).default('overwrite'),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        failure_limit: positiveInt.default(20),
        failure_window: duration.default(60_000),
      })
      .strict()
      .prefault({}),
    limits: limitsSchema,
    tsdb: z
      .object({
        block_duration: duration.default(7_200_000),
      })
      .strict()
      .prefault({}),
    logs: z
      .object({
        line_too_long: z.enum(['refuse', 'truncate']).default('refuse'),
      })
      .strict()
      .prefault({}),
    probe: z
      .object({
        enabled: z.boolean().default(true),
        concurrency: positiveInt.default(32),
        allow_cidrs: z.array(z.string()).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type IrinConfig = z.output<typeof configSchema>;
type LimitsConfig = IrinConfig['limits'];

/** Converts the YAML form of the limits into the TenantLimits the rest of Irin uses. */
export function limitsFromConfig(c: LimitsConfig): TenantLimits {
  return {
    ingestionRate: c.ingestion_rate,
    ingestionBurst: c.ingestion_burst,
    maxSeries: c.max_series,
    serverIngestionRate: c.server_ingestion_rate,
    serverIngestionBurst: c.server_ingestion_burst,
    serverMaxSeries: c.server_max_series,
    maxLabelNamesPerSeries: c.max_label_names_per_series,
    maxLabelNameLength: c.max_label_name_length,
    maxLabelValueLength: c.max_label_value_length,
    maxRequestBytes: c.max_request_bytes,
    maxDecompressedBytes: c.max_decompressed_bytes,
    creationGracePeriodMs: c.creation_grace_period,
    outOfOrderWindowMs: c.out_of_order_window,
    retentionMs: c.retention,
    logIngestionBytesPerSecond: c.log_ingestion_bytes_per_second,
    logIngestionBurstBytes: c.log_ingestion_burst_bytes,
    maxLineBytes: c.max_line_bytes,
    maxStreams: c.max_streams,
    logRetentionMs: c.log_retention,
    maxQueryRangeMs: c.max_query_range,
    maxQuerySamples: c.max_query_samples,
    queryTimeoutMs: c.query_timeout,
  };
}
