import type { PushPrincipal } from '../auth/principal.ts';
import { labelsKey, type Labels } from '../model/labels.ts';
import type { AppendResult, AppendSeries, SampleRejection, TenantTsdb } from '../tsdb/types.ts';
import type { EdgeMetrics } from './edge-metrics.ts';
import type { EnforcementPolicy } from './enforce-labels.ts';
import { metricTypeFromNumber, type MetadataStore, type MetricMetadataEntry } from './metadata-store.ts';
import { ProblemList } from './problems.ts';
import { IngestionRateLimiter } from './rate-limit.ts';
import type { RejectionReporter } from './rejection-reporter.ts';
import { describePrincipal, describeSeries, describeTimestamp, type RejectionReason } from './rejections.ts';
import { SeriesLabelValidator, type SeriesLabelValidatorOptions } from './series-labels.ts';
import { decompressSnappyBlock, SnappyBodyError } from './snappy-block.ts';
import { decodeWriteRequest, DecodedWriteRequest, MalformedProtobufError } from './write-request.ts';

/** The pino / Fastify logger methods the edge uses. */
export interface EdgeLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface IngestResponse {
  readonly status: number;
  /** Plain text, empty on success (remote-write senders log it as is). */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface IngesterDeps {
  tsdbFor(tenantId: number): Promise<TenantTsdb>;
  readonly enforcement: EnforcementPolicy;
  readonly metrics: EdgeMetrics;
  readonly metadata: MetadataStore;
  readonly reporter: RejectionReporter;
  readonly logger?: EdgeLogger;
  readonly now: () => number;
  readonly labelCache?: SeriesLabelValidatorOptions;
}

/** Earliest storable timestamp (the TSDB keeps times within ±2^52 ms). */
const MIN_TIMESTAMP = -(2 ** 52);

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const STORED: IngestResponse = Object.freeze({ status: 204, body: '', headers: NO_HEADERS });

/** Error codes of storage trouble that goes away (the agent should retry): answered 503, not 500. */
const TRANSIENT_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EROFS',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'EAGAIN',
  'ENOMEM',
]);

function storageStatus(err: unknown): 500 | 503 {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return 503;
  const message = err instanceof Error ? err.message : String(err);
  return /closed|closing|shut ?down|unavailable|not open|busy/i.test(message) ? 503 : 500;
}

const TSDB_REASONS: Record<SampleRejection, RejectionReason> = {
  out_of_order: 'out_of_order',
  duplicate_sample: 'duplicate_sample',
  too_old: 'too_old',
  series_limit: 'series_limit',
};

/**
 * Decides, once per series new to the head, whether the tenant's and (for server-bound tokens) the
 * server's active-series limits leave room for it. Counts admitted series itself too, so it is
 * right whether or not the TSDB updates its counts during the append.
 */
class SeriesAdmission {
  private tenantBase = -1;
  private serverBase = -1;
  private admitted = 0;
  readonly refusedByServerLimit = new Set<string>();

  constructor(
    private readonly tsdb: TenantTsdb,
    private readonly principal: PushPrincipal,
  ) {}

  readonly admit = (labels: Labels): boolean => {
    const limits = this.principal.limits;
    const tenantSeries = this.tsdb.headStats().series;
    if (this.tenantBase < 0) this.tenantBase = tenantSeries;
    if (Math.max(tenantSeries, this.tenantBase + this.admitted) >= limits.maxSeries) return false;
    const instance = this.principal.instance;
    if (instance !== undefined) {
      const serverSeries = this.tsdb.activeSeriesWith('instance', instance);
      if (this.serverBase < 0) this.serverBase = serverSeries;
      if (Math.max(serverSeries, this.serverBase + this.admitted) >= limits.serverMaxSeries) {
        this.refusedByServerLimit.add(labelsKey(labels));
        return false;
      }
    }
    this.admitted++;
    return true;
  };
}

/**
 * The remote-write pipeline behind the HTTP route, for one authenticated request body:
 * snappy → protobuf → validation and label enforcement → rate limits → TSDB append (with the
 * active-series limits) → an answer whose status tells the agent whether to retry.
 */
export class RemoteWriteIngester {
  private readonly validator: SeriesLabelValidator;
  private readonly limiter = new IngestionRateLimiter();
  /** Reused between requests: everything read from it happens before the first await. */
  private readonly decoded = new DecodedWriteRequest();

  constructor(private readonly deps: IngesterDeps) {
    this.validator = new SeriesLabelValidator(deps.labelCache);
  }

  /** Refuses a whole request: counts it, reports it and builds the plain-text answer. */
  refuse(
    principal: PushPrincipal | undefined,
    status: number,
    reason: RejectionReason,
    message: string,
    options: { samples?: number; headers?: Record<string, string> } = {},
  ): IngestResponse {
    const tenant = principal?.tenantSlug ?? '';
    this.deps.metrics.rejections.inc({ tenant, reason });
    if (options.samples) this.deps.metrics.discardedSamples.inc({ tenant, reason }, options.samples);
    if (principal !== undefined) {
      this.deps.reporter.report(
        { tenantId: principal.tenantId, serverId: principal.serverId, status, reason, message },
        this.deps.now(),
      );
    }
    return { status, body: message + '\n', headers: options.headers ?? NO_HEADERS };
  }

  async ingest(principal: PushPrincipal, body: Buffer): Promise<IngestResponse> {
    const now = this.deps.now();
    const limits = principal.limits;
    const who = describePrincipal(principal);
    if (body.length === 0) {
      return this.refuse(
        principal,
        400,
        'empty_body',
        `${who}: empty request body; expected a snappy-compressed protobuf WriteRequest`,
      );
    }

    let raw: Buffer;
    try {
      raw = decompressSnappyBlock(body, limits.maxDecompressedBytes);
    } catch (err) {
      if (!(err instanceof SnappyBodyError)) throw err;
      return err.status === 413
        ? this.refuse(
            principal,
            413,
            'decompressed_too_large',
            `${who}: the request would decompress to ${err.declaredLength} bytes, over the limit ` +
              `maxDecompressedBytes=${limits.maxDecompressedBytes}; send smaller batches (max_samples_per_send)`,
          )
        : this.refuse(principal, 400, 'invalid_snappy', `${who}: ${err.message}`);
    }

    const req = this.decoded;
    try {
      decodeWriteRequest(raw, req);
    } catch (err) {
      if (!(err instanceof MalformedProtobufError)) throw err;
      return this.malformed(principal, who, err);
    }

    // Validation and enforcement: synchronous, and done before anything is stored.
    const problems = new ProblemList();
    const ctx = this.validator.context(principal, this.deps.enforcement, now);
    const maxT = now + limits.creationGracePeriodMs;
    const series: AppendSeries[] = [];
    let valid = 0;
    try {
      for (let i = 0; i < req.seriesCount; i++) {
        const s0 = req.sampleStart[i]!;
        const s1 = req.sampleStart[i + 1]!;
        const histograms = req.histograms[i]!;
        if (s1 === s0 && histograms === 0) continue; // nothing to store (labels or exemplars only)
        const verdict = this.validator.validate(req, i, ctx);
        if (!verdict.ok) {
          problems.add(verdict.reason, s1 - s0 + histograms, () => verdict.message);
          continue;
        }
        const labels = verdict.labels;
        if (histograms > 0) {
          problems.add(
            'native_histograms_unsupported',
            histograms,
            () =>
              `series ${describeSeries(labels)}: ${histograms} native histogram sample(s) refused: native histograms ` +
              `are not supported (send classic histograms: turn off send_native_histograms / native histogram scraping)`,
          );
        }
        if (s1 === s0) continue;
        const samples: { t: number; v: number }[] = [];
        for (let j = s0; j < s1; j++) {
          const t = req.timestamps[j]!;
          if (t < MIN_TIMESTAMP) {
            problems.add(
              'too_old',
              1,
              () =>
                `series ${describeSeries(labels)}: sample at ${t} ms refused: timestamp out of the supported range`,
            );
            continue;
          }
          if (t > maxT) {
            problems.add(
              'too_far_in_future',
              1,
              () =>
                `series ${describeSeries(labels)}: sample at ${describeTimestamp(t)} refused: too far in the future, ` +
                `more than creationGracePeriodMs=${limits.creationGracePeriodMs} ahead of the server's clock`,
            );
            continue;
          }
          samples.push({ t, v: req.values[j]! });
        }
        if (samples.length > 0) {
          series.push({ labels, samples });
          valid += samples.length;
        }
      }
    } catch (err) {
      if (!(err instanceof MalformedProtobufError)) throw err;
      return this.malformed(principal, who, err);
    }
    const totalSamples = req.sampleCount + req.histogramCount;
    const metadata = req.metadata;

    if (valid > 0) {
      const decision = this.limiter.admit(principal, valid, now);
      if (!decision.ok) {
        const [rate, burst] =
          decision.scope === 'server'
            ? ['serverIngestionRate', 'serverIngestionBurst']
            : ['ingestionRate', 'ingestionBurst'];
        return this.refuse(
          principal,
          429,
          decision.scope === 'server' ? 'server_rate_limited' : 'rate_limited',
          `${who}: ingestion rate limit exceeded: the ${decision.scope} may send ${rate}=${decision.rate} samples/s ` +
            `(${burst}=${decision.burst}); this request carries ${valid} samples; nothing was stored, ` +
            `retry after ${decision.retryAfterSeconds} s`,
          { samples: valid, headers: { 'retry-after': String(decision.retryAfterSeconds) } },
        );
      }
    }

    if (metadata.length > 0) this.recordMetadata(principal.tenantId, metadata);

    let stored = 0;
    if (series.length > 0) {
      let tsdb: TenantTsdb;
      let result: AppendResult;
      let admission: SeriesAdmission;
      try {
        tsdb = await this.deps.tsdbFor(principal.tenantId);
        admission = new SeriesAdmission(tsdb, principal);
        result = await tsdb.append({ series, admitNewSeries: admission.admit });
      } catch (err) {
        const status = storageStatus(err);
        this.deps.logger?.error(
          { err, tenant: principal.tenantSlug },
          'remote write: storing samples failed',
        );
        return this.refuse(
          principal,
          status,
          'storage_unavailable',
          `${who}: the samples could not be stored (${status === 503 ? 'storage temporarily unavailable' : 'internal error'}); ` +
            `nothing was acknowledged, retry later`,
          { samples: valid, headers: status === 503 ? { 'retry-after': '5' } : {} },
        );
      }
      stored = result.samplesAppended;
      if (stored > 0) this.deps.metrics.samples.inc({ tenant: principal.tenantSlug }, stored);
      for (const r of result.rejected) this.addStorageRejection(problems, principal, admission, r);
    }

    if (problems.empty) return STORED;
    return this.partial(principal, who, problems, totalSamples, stored);
  }

  private addStorageRejection(
    problems: ProblemList,
    principal: PushPrincipal,
    admission: SeriesAdmission,
    r: AppendResult['rejected'][number],
  ): void {
    const limits = principal.limits;
    const series = (): string => describeSeries(r.labels);
    const window =
      limits.outOfOrderWindowMs > 0 ? ` by more than outOfOrderWindowMs=${limits.outOfOrderWindowMs}` : '';
    switch (r.reason) {
      case 'series_limit':
        if (admission.refusedByServerLimit.has(labelsKey(r.labels))) {
          problems.add(
            'server_series_limit',
            1,
            () =>
              `series ${series()} refused: the server has reached its limit of serverMaxSeries=${limits.serverMaxSeries} active series`,
          );
        } else {
          problems.add(
            'series_limit',
            1,
            () =>
              `series ${series()} refused: the tenant has reached its limit of maxSeries=${limits.maxSeries} active series`,
          );
        }
        return;
      case 'out_of_order':
        problems.add(
          TSDB_REASONS[r.reason],
          1,
          () =>
            `series ${series()}: sample at ${describeTimestamp(r.t)} refused: out of order (older than the series' newest sample${window})`,
        );
        return;
      case 'duplicate_sample':
        problems.add(
          TSDB_REASONS[r.reason],
          1,
          () =>
            `series ${series()}: sample at ${describeTimestamp(r.t)} refused: a different value is already stored for that timestamp`,
        );
        return;
      case 'too_old':
        problems.add(
          TSDB_REASONS[r.reason],
          1,
          () =>
            `series ${series()}: sample at ${describeTimestamp(r.t)} refused: too old, before the time range the head still accepts`,
        );
        return;
    }
  }

  private partial(
    principal: PushPrincipal,
    who: string,
    problems: ProblemList,
    total: number,
    stored: number,
  ): IngestResponse {
    const tenant = principal.tenantSlug;
    const now = this.deps.now();
    for (const { reason, samples, message } of problems.byReason()) {
      this.deps.metrics.rejections.inc({ tenant, reason });
      if (samples > 0) this.deps.metrics.discardedSamples.inc({ tenant, reason }, samples);
      this.deps.reporter.report(
        {
          tenantId: principal.tenantId,
          serverId: principal.serverId,
          status: 400,
          reason,
          message: `${who}: ${message}`,
        },
        now,
      );
    }
    return { status: 400, body: problems.format(who, total, stored), headers: NO_HEADERS };
  }

  private malformed(principal: PushPrincipal, who: string, err: MalformedProtobufError): IngestResponse {
    return this.refuse(
      principal,
      400,
      'invalid_protobuf',
      `${who}: the request is not a valid protobuf prometheus.WriteRequest (${err.message}); nothing was stored`,
    );
  }

  private recordMetadata(tenantId: number, metadata: DecodedWriteRequest['metadata']): void {
    const entries: MetricMetadataEntry[] = metadata.map((m) => ({
      metric: m.metricFamilyName,
      type: metricTypeFromNumber(m.type),
      help: m.help,
      unit: m.unit,
    }));
    this.deps.metadata.record(tenantId, entries);
  }

  /** Drops a tenant's rate-limit state (tenant deleted or suspended). */
  forgetTenant(tenantId: number): void {
    this.limiter.forgetTenant(tenantId);
  }

  /** Cached validated label sets (for tests and diagnostics). */
  get cachedSeries(): number {
    return this.validator.cachedSeries;
  }
}
