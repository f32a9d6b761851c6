import type { AuditActor, ControlPlaneStore, Tenant } from './store.ts';

/**
 * Removes the storage partitions of decommissioned tenants (isolation layer 4), whichever process
 * decommissioned them: the CLI only marks the tenant in the database, and the running server
 * notices through the change counter and calls `removeStorage` — the server wires that to the
 * TSDB and log store. A tenant is marked done only after `removeStorage` succeeds; a failure is
 * retried on the next tick.
 */
export interface DecommissionWatcherOptions {
  /** Deletes every partition of the tenant (metrics, logs, probe data). Must be idempotent. */
  removeStorage: (tenant: Tenant) => Promise<void>;
  /** How often to look (default 2 s; a look is one cheap counter read unless something changed). */
  intervalMs?: number;
  onError?: (err: unknown, tenant: Tenant | undefined) => void;
  /** Recorded in the audit log (default `system`). */
  by?: AuditActor;
}

export interface DecommissionWatcher {
  /** Looks now (e.g. right after an in-process decommission); resolves when done. */
  poke(): Promise<void>;
  close(): Promise<void>;
}

export function startDecommissionWatcher(
  store: ControlPlaneStore,
  options: DecommissionWatcherOptions,
): DecommissionWatcher {
  const by = options.by ?? { actor: 'system', sourceAddr: null };
  const onError = options.onError ?? (() => {});
  let seenSeq: number | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  async function sweep(): Promise<void> {
    let seq: number;
    try {
      seq = await store.getChangeSeq('credentials');
      if (seq === seenSeq) return;
    } catch (err) {
      onError(err, undefined);
      return;
    }
    let allDone = true;
    try {
      for (const tenant of await store.listTenantsAwaitingStorageRemoval()) {
        if (closed) return;
        try {
          await options.removeStorage(tenant);
          await store.markTenantStorageRemoved(tenant.id, by);
        } catch (err) {
          allDone = false;
          onError(err, tenant);
        }
      }
    } catch (err) {
      allDone = false;
      onError(err, undefined);
    }
    // Marking a tenant done moves no counter, so remembering `seq` is safe; after a failure it is
    // not remembered, which makes the next tick try again.
    if (allDone) seenSeq = seq;
  }

  function poke(): Promise<void> {
    running ??= sweep().finally(() => {
      running = undefined;
    });
    return running;
  }

  const timer = setInterval(() => void poke(), options.intervalMs ?? 2000);
  timer.unref();
  void poke();

  return {
    poke,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
