/**
 * Storage partitions (isolation layer 4): one TSDB per tenant under
 * `<dataDir>/tenants/<tenantId>/tsdb`, opened on first use, each with its own WAL and blocks, so
 * a tenant's data never shares a file with another's and a damaged partition affects only its
 * tenant. A background loop cuts, compacts and expires blocks tenant by tenant.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { layerOff, SHARED_PARTITION_ID } from '../isolation/faults.ts';
import { Tsdb, type TsdbOptions } from './db.ts';
import { silentLogger, type TsdbLogger } from './logger.ts';

export interface TenantPartitionsOptions {
  readonly dataDir: string;
  /** Head block span (default 2 h). */
  readonly blockDurationMs?: number;
  /** Retention per tenant (default 15 days); asked at every maintenance run. */
  readonly retentionMs?: (tenantId: string) => number;
  /** Out-of-order window per tenant (default 0 = off); asked at every append. */
  readonly outOfOrderWindowMs?: (tenantId: string) => number;
  readonly logger?: TsdbLogger;
  /** Period of the maintenance loop (default 30 s; 0 = no loop, call runMaintenance()). */
  readonly maintenanceIntervalMs?: number;
  readonly now?: () => number;
  /** Further per-partition settings (segment size, chunk sizes…), mostly for tests and benchmarks. */
  readonly tsdb?: Omit<
    TsdbOptions,
    | 'dir'
    | 'tenant'
    | 'blockDurationMs'
    | 'retentionMs'
    | 'outOfOrderWindowMs'
    | 'logger'
    | 'now'
    | 'onMaintenanceNeeded'
  >;
}

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Tenant ids become directory names: refuse anything that could escape the data directory. */
export function assertTenantId(tenantId: string): void {
  if (!TENANT_ID.test(tenantId) || tenantId.includes('..')) {
    throw new Error(
      `invalid tenant id ${JSON.stringify(tenantId)} for a storage partition: use letters, digits, '_', '-', '.'`,
    );
  }
}

export class TenantPartitions {
  private readonly open = new Map<string, Promise<Tsdb>>();
  private readonly dropping = new Map<string, Promise<void>>();
  private readonly log: TsdbLogger;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: TenantPartitionsOptions) {
    this.log = opts.logger ?? silentLogger;
    const every = opts.maintenanceIntervalMs ?? 30_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.runMaintenance(), every);
      this.timer.unref();
    }
  }

  /** `<dataDir>/tenants/<tenantId>/tsdb`. */
  dirOf(tenantId: string): string {
    assertTenantId(tenantId);
    return join(this.opts.dataDir, 'tenants', tenantId, 'tsdb');
  }

  /** The tenant's TSDB, opened (WAL replayed) on first use. */
  async get(tenantId: string): Promise<Tsdb> {
    if (this.closed) throw new Error('storage partitions are closed');
    if (layerOff('partitions')) tenantId = String(SHARED_PARTITION_ID); // test-only fault injection (docs/security.md)
    const existing = this.open.get(tenantId);
    if (existing) return existing;
    const dir = this.dirOf(tenantId);
    const pending = this.dropping.get(tenantId);
    const opening = (async () => {
      if (pending) await pending;
      return Tsdb.open({
        ...this.opts.tsdb,
        dir,
        tenant: tenantId,
        blockDurationMs: this.opts.blockDurationMs,
        retentionMs: this.opts.retentionMs && (() => this.opts.retentionMs!(tenantId)),
        outOfOrderWindowMs: this.opts.outOfOrderWindowMs && (() => this.opts.outOfOrderWindowMs!(tenantId)),
        logger: this.log,
        now: this.opts.now,
        onMaintenanceNeeded: () => this.scheduleSoon(),
      });
    })();
    this.open.set(tenantId, opening);
    try {
      return await opening;
    } catch (err) {
      if (this.open.get(tenantId) === opening) this.open.delete(tenantId);
      this.log.error({ tenant: tenantId, err: String(err) }, 'tsdb: opening the tenant partition failed');
      throw err;
    }
  }

  /** The tenant's TSDB if it is open already. */
  async peek(tenantId: string): Promise<Tsdb | undefined> {
    return this.open.get(tenantId)?.catch(() => undefined);
  }

  openTenants(): string[] {
    return [...this.open.keys()];
  }

  /** Decommissions a tenant: closes its TSDB and deletes its partition directory. */
  async drop(tenantId: string): Promise<void> {
    const dir = this.dirOf(tenantId);
    const opened = this.open.get(tenantId);
    this.open.delete(tenantId);
    const previous = this.dropping.get(tenantId);
    const dropping = (async () => {
      if (previous) await previous;
      const db = await opened?.catch(() => undefined);
      if (db) await db.destroy();
      else await fsp.rm(dir, { recursive: true, force: true });
      // the tenant directory goes too when nothing else (e.g. logs) lives there
      await fsp.rmdir(join(dir, '..')).catch(() => undefined);
      this.log.info({ tenant: tenantId }, 'tsdb: tenant partition deleted');
    })();
    this.dropping.set(tenantId, dropping);
    try {
      await dropping;
    } finally {
      if (this.dropping.get(tenantId) === dropping) this.dropping.delete(tenantId);
    }
  }

  private scheduleSoon(): void {
    if (this.soon || this.closed) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.runMaintenance();
    }, 250);
    this.soon.unref();
  }

  /** One maintenance pass over every open tenant, one tenant at a time. Never rejects. */
  runMaintenance(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        for (const [tenant, opening] of [...this.open]) {
          if (this.closed) return;
          const db = await opening.catch(() => undefined);
          if (!db) continue;
          try {
            await db.maintain();
          } catch (err) {
            this.log.error(
              { tenant, err: err instanceof Error ? err.message : String(err) },
              'tsdb: maintenance failed',
            );
          }
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Graceful shutdown: stops the loop, flushes and closes every partition. */
  async closeAll(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled([...this.dropping.values()]);
    const results = await Promise.allSettled(
      all.map(async (p) => {
        const db = await p.catch(() => undefined);
        await db?.close();
      }),
    );
    for (const r of results) {
      if (r.status === 'rejected')
        this.log.error({ err: String(r.reason) }, 'tsdb: closing a partition failed');
    }
  }
}
