import type { ControlPlaneStore, CredentialUse, NewAuditEntry, NewPushRejection } from '../tenancy/store.ts';

/**
 * Writes the request path must not wait for: credential last-used times, and the audit entries of
 * rejected credentials. Both are bounded so that a flood of requests cannot become a flood of
 * database writes.
 */

/** Collects last-used times in memory and writes them in one transaction every few seconds. */
export class UsageRecorder {
  readonly #pending = new Map<string, CredentialUse>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly store: ControlPlaneStore,
    intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  record(clientId: string, atMs: number, addr: string | null): void {
    this.#pending.set(clientId, { clientId, at: new Date(atMs).toISOString(), addr });
  }

  async flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    this.#flushing = this.store
      .recordCredentialUse(batch)
      .catch((err: unknown) => {
        // Keep the batch for the next attempt unless a newer use arrived meanwhile.
        for (const use of batch) if (!this.#pending.has(use.clientId)) this.#pending.set(use.clientId, use);
        this.onError(err);
      })
      .finally(() => {
        this.#flushing = undefined;
      });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#flushing;
    await this.flush();
  }
}

export interface RejectionAuditOptions {
  /** At most one audit entry per source address per this interval (default 10 s)… */
  perAddressIntervalMs?: number;
  /** …and at most this many entries per second overall (default 10). */
  maxPerSecond?: number;
}

/**
 * Audits rejected credentials without letting an attacker fill the database: per source address
 * at most one entry per interval, globally a small token bucket; entries that were held back are
 * counted into the next entry's `suppressed` detail. Known push tokens also leave a push rejection
 * for `irin server check`.
 */
export class RejectionAuditor {
  readonly #lastByAddr = new Map<string, number>();
  readonly #suppressed = new Map<string, number>();
  readonly #perAddressMs: number;
  readonly #maxPerSecond: number;
  #tokens: number;
  #refilledAt = 0;

  constructor(
    private readonly store: ControlPlaneStore,
    private readonly onError: (err: unknown) => void,
    options: RejectionAuditOptions = {},
  ) {
    this.#perAddressMs = options.perAddressIntervalMs ?? 10_000;
    this.#maxPerSecond = options.maxPerSecond ?? 10;
    this.#tokens = this.#maxPerSecond;
  }

  /** Returns the write's promise (tests await it); callers on the request path do not. */
  reject(
    nowMs: number,
    entry: Omit<NewAuditEntry, 'at' | 'details'> & { details: Record<string, unknown> },
    pushRejection?: { tenantId: number } & NewPushRejection,
  ): Promise<void> {
    const key = entry.sourceAddr ?? '-';
    if (!this.#admit(key, nowMs)) {
      this.#suppressed.set(key, (this.#suppressed.get(key) ?? 0) + 1);
      return Promise.resolve();
    }
    const suppressed = this.#suppressed.get(key) ?? 0;
    this.#suppressed.delete(key);
    const at = new Date(nowMs).toISOString();
    const details = suppressed > 0 ? { ...entry.details, suppressed } : entry.details;
    const writes = [this.store.appendAudit({ ...entry, at, details })];
    if (pushRejection) {
      const { tenantId, ...r } = pushRejection;
      writes.push(this.store.recordPushRejection(tenantId, { ...r, at }));
    }
    return Promise.all(writes).then(
      () => undefined,
      (err: unknown) => this.onError(err),
    );
  }

  #admit(key: string, now: number): boolean {
    const last = this.#lastByAddr.get(key);
    if (last !== undefined && now - last < this.#perAddressMs) return false;
    this.#tokens = Math.min(
      this.#maxPerSecond,
      this.#tokens + ((now - this.#refilledAt) / 1000) * this.#maxPerSecond,
    );
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    if (this.#lastByAddr.size >= 50_000) {
      for (const [k, t] of this.#lastByAddr) if (now - t >= this.#perAddressMs) this.#lastByAddr.delete(k);
      if (this.#lastByAddr.size >= 50_000) this.#lastByAddr.clear();
      if (this.#suppressed.size >= 50_000) this.#suppressed.clear();
    }
    this.#lastByAddr.set(key, now);
    return true;
  }
}
