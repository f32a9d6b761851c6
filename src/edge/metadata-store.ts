import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { layerOff, SHARED_PARTITION_ID } from '../isolation/faults.ts';

export type MetricType =
  'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';

/** One metric family's metadata as the Prometheus API `/api/v1/metadata` returns it. */
export interface MetricMetadata {
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
}

export interface MetricMetadataEntry extends MetricMetadata {
  readonly metric: string;
}

/** The remote-write `MetricMetadata.type` enum, by number. */
const TYPES_BY_NUMBER: readonly MetricType[] = [
  'unknown',
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
];

export function metricTypeFromNumber(n: number): MetricType {
  return TYPES_BY_NUMBER[n] ?? 'unknown';
}

/** Per-tenant metric metadata (type, help, unit) learnt from remote-write requests. */
export interface MetadataStore {
  record(tenantId: number, entries: readonly MetricMetadataEntry[]): void;
  /**
   * Metadata by metric name, for one tenant only; one metric when `metric` is given; at most
   * `limit` metrics when it is positive.
   */
  get(tenantId: number, metric?: string, limit?: number): Record<string, MetricMetadata[]>;
  /** Removes a tenant's metadata, in memory and on disk (tenant decommissioned). */
  dropTenant(tenantId: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface FileMetadataStoreOptions {
  readonly dataDir: string;
  readonly flushIntervalMs?: number;
  readonly maxMetricsPerTenant?: number;
  /** Distinct (type, help, unit) variants kept per metric (servers may disagree); newest first. */
  readonly maxVariantsPerMetric?: number;
  readonly onError?: (err: unknown, tenantId: number) => void;
}

interface TenantMetadata {
  readonly metrics: Map<string, MetricMetadata[]>;
  dirty: boolean;
}

const MAX_HELP_CHARS = 2048;
const MAX_NAME_CHARS = 1024;
const MAX_UNIT_CHARS = 128;

/**
 * Keeps metadata in memory and writes each changed tenant's set to
 * `<dataDir>/tenants/<id>/metadata.json` periodically and on close (atomically: temp file + rename).
 * Losing the last interval on a crash is harmless: agents resend metadata every minute.
 */
export class FileMetadataStore implements MetadataStore {
  private readonly tenants = new Map<number, TenantMetadata>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly maxMetrics: number;
  private readonly maxVariants: number;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: FileMetadataStoreOptions) {
    this.maxMetrics = options.maxMetricsPerTenant ?? 10_000;
    this.maxVariants = options.maxVariantsPerMetric ?? 4;
    const interval = options.flushIntervalMs ?? 30_000;
    if (interval > 0) {
      this.timer = setInterval(() => void this.flush(), interval);
      this.timer.unref();
    }
  }

  private file(tenantId: number): string {
    return join(this.options.dataDir, 'tenants', String(tenantId), 'metadata.json');
  }

  private tenant(tenantId: number): TenantMetadata {
    if (layerOff('partitions')) tenantId = SHARED_PARTITION_ID; // test-only fault injection (docs/security.md)
    let t = this.tenants.get(tenantId);
    if (t === undefined) {
      t = { metrics: this.load(tenantId), dirty: false };
      this.tenants.set(tenantId, t);
    }
    return t;
  }

  private load(tenantId: number): Map<string, MetricMetadata[]> {
    const metrics = new Map<string, MetricMetadata[]>();
    let text: string;
    try {
      text = readFileSync(this.file(tenantId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onError?.(err, tenantId);
      return metrics;
    }
    try {
      const parsed = JSON.parse(text) as { metrics?: Record<string, MetricMetadata[]> };
      for (const [name, variants] of Object.entries(parsed.metrics ?? {})) {
        if (!Array.isArray(variants)) continue;
        metrics.set(
          name,
          variants
            .filter((v) => v && typeof v.help === 'string' && typeof v.unit === 'string')
            .map((v) => ({
              type: TYPES_BY_NUMBER.includes(v.type) ? v.type : 'unknown',
              help: v.help,
              unit: v.unit,
            })),
        );
      }
    } catch (err) {
      // A corrupt file only loses metadata the agents will send again.
      this.options.onError?.(err, tenantId);
    }
    return metrics;
  }

  record(tenantId: number, entries: readonly MetricMetadataEntry[]): void {
    if (entries.length === 0 || this.closed) return;
    const t = this.tenant(tenantId);
    for (const e of entries) {
      if (e.metric === '' || e.metric.length > MAX_NAME_CHARS) continue;
      const variant: MetricMetadata = {
        type: e.type,
        help: e.help.length > MAX_HELP_CHARS ? e.help.slice(0, MAX_HELP_CHARS) : e.help,
        unit: e.unit.length > MAX_UNIT_CHARS ? e.unit.slice(0, MAX_UNIT_CHARS) : e.unit,
      };
      const variants = t.metrics.get(e.metric);
      if (variants === undefined) {
        if (t.metrics.size >= this.maxMetrics) continue;
        t.metrics.set(e.metric, [variant]);
        t.dirty = true;
        continue;
      }
      const at = variants.findIndex(
        (v) => v.type === variant.type && v.help === variant.help && v.unit === variant.unit,
      );
      if (at === 0) continue;
      if (at > 0) variants.splice(at, 1);
      variants.unshift(variant);
      if (variants.length > this.maxVariants) variants.length = this.maxVariants;
      t.dirty = true;
    }
  }

  get(tenantId: number, metric?: string, limit?: number): Record<string, MetricMetadata[]> {
    const t = this.tenant(tenantId);
    const out: Record<string, MetricMetadata[]> = {};
    if (metric !== undefined && metric !== '') {
      const variants = t.metrics.get(metric);
      if (variants !== undefined && (limit === undefined || limit !== 0))
        out[metric] = variants.map((v) => ({ ...v }));
      return out;
    }
    let n = 0;
    for (const [name, variants] of t.metrics) {
      if (limit !== undefined && limit > 0 && n >= limit) break;
      out[name] = variants.map((v) => ({ ...v }));
      n++;
    }
    return out;
  }

  async dropTenant(tenantId: number): Promise<void> {
    await this.flushing;
    this.tenants.delete(tenantId);
    await rm(this.file(tenantId), { force: true });
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeDirty());
    return this.flushing;
  }

  private async writeDirty(): Promise<void> {
    for (const [tenantId, t] of this.tenants) {
      if (!t.dirty) continue;
      t.dirty = false;
      const file = this.file(tenantId);
      const tmp = `${file}.tmp`;
      const body = JSON.stringify({ version: 1, metrics: Object.fromEntries(t.metrics) });
      try {
        await mkdir(join(this.options.dataDir, 'tenants', String(tenantId)), { recursive: true });
        await writeFile(tmp, body);
        await rename(tmp, file);
      } catch (err) {
        t.dirty = true;
        this.options.onError?.(err, tenantId);
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
  }
}
