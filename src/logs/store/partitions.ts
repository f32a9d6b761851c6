import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { layerOff, SHARED_PARTITION_ID } from '../../isolation/faults.ts';
import { LocalTenantLogStore, type LogStoreOptions } from './tenant-store.ts';

export interface LogPartitionsOptions {
  /** Irin's data directory; a tenant's logs live in `<dataDir>/tenants/<tenantId>/logs`. */
  readonly dataDir: string;
  readonly store?: Partial<LogStoreOptions>;
  /** Log retention for a tenant (ms); consulted by the periodic retention pass. */
  readonly retentionMs?: (tenantId: number) => number;
  /** Period of the retention pass; 0 disables it. */
  readonly retentionIntervalMs?: number;
  readonly onError?: (tenantId: number, err: Error) => void;
}

/**
 * The per-tenant log partitions (isolation layer 4): each tenant's store is opened lazily in its
 * own directory, and only ever handed out by tenant id.
 */
export class LogPartitions {
  private readonly stores = new Map<number, Promise<LocalTenantLogStore>>();
  private readonly dropping = new Map<number, Promise<void>>();
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: LogPartitionsOptions) {
    const every = options.retentionIntervalMs ?? 10 * 60_000;
    if (every > 0 && options.retentionMs) {
      this.timer = setInterval(() => void this.applyRetention(Date.now()), every);
      this.timer.unref();
    }
  }

  dirFor(tenantId: number): string {
    if (!Number.isSafeInteger(tenantId) || tenantId < 0) throw new Error(`invalid tenant id ${tenantId}`);
    return join(this.options.dataDir, 'tenants', String(tenantId), 'logs');
  }

  /** The tenant's store, opened on first use (after a drop of it in progress has finished). */
  get(tenantId: number): Promise<LocalTenantLogStore> {
    if (this.closed) return Promise.reject(new Error('log partitions are closed'));
    if (layerOff('partitions')) tenantId = SHARED_PARTITION_ID; // test-only fault injection (docs/security.md)
    let store = this.stores.get(tenantId);
    if (!store) {
      const onError = this.options.onError;
      const retention = this.options.retentionMs;
      const dir = this.dirFor(tenantId);
      const dropping = this.dropping.get(tenantId);
      store = (async () => {
        if (dropping) await dropping;
        return LocalTenantLogStore.open(dir, {
          ...this.options.store,
          ...(onError ? { onError: (err: Error) => onError(tenantId, err) } : {}),
        });
      })().then(async (s) => {
        // A store not opened for a while may hold partitions past retention: drop them first.
        if (retention) await s.applyRetention(Date.now(), retention(tenantId));
        return s;
      });
      this.stores.set(tenantId, store);
      store.catch(() => this.stores.delete(tenantId));
    }
    return store;
  }

  /** Closes and deletes a tenant's logs (tenant decommissioning); a get() meanwhile waits for it. */
  drop(tenantId: number): Promise<void> {
    const store = this.stores.get(tenantId);
    this.stores.delete(tenantId);
    const previous = this.dropping.get(tenantId);
    const done: Promise<void> = (async () => {
      if (previous) await previous;
      if (store) {
        try {
          await (await store).close({ flush: false });
        } catch {
          // Being deleted anyway.
        }
      }
      rmSync(this.dirFor(tenantId), { recursive: true, force: true });
    })().finally(() => {
      if (this.dropping.get(tenantId) === done) this.dropping.delete(tenantId);
    });
    this.dropping.set(tenantId, done);
    return done;
  }

  /** Drops partitions past each open tenant's retention. */
  async applyRetention(nowMs: number): Promise<void> {
    const retention = this.options.retentionMs;
    if (!retention) return;
    for (const [tenantId, pending] of this.stores) {
      try {
        const store = await pending;
        await store.applyRetention(nowMs, retention(tenantId));
      } catch (err) {
        this.options.onError?.(tenantId, err as Error);
      }
    }
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const all = [...this.stores.values()];
    this.stores.clear();
    for (const pending of all) {
      try {
        await (await pending).close();
      } catch (err) {
        this.options.onError?.(-1, err as Error);
      }
    }
  }
}
