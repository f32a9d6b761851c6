/**
 * Counts credential failures per source address in a sliding window. Once an address reaches the
 * limit (default 20 failures per 60 s, `auth.failure_limit` / `auth.failure_window`), requests
 * from it that would need a database lookup get 429 until its oldest failure leaves the window.
 * Memory is bounded: at most `maxAddresses` addresses are tracked, oldest first out.
 */
export interface FailureLimiterOptions {
  limit: number;
  windowMs: number;
  maxAddresses?: number;
}

export class FailureLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxAddresses: number;
  /** Failure times per address, oldest first, at most `limit` of them. */
  readonly #failures = new Map<string, number[]>();

  constructor(options: FailureLimiterOptions) {
    if (!(options.limit >= 1) || !(options.windowMs > 0))
      throw new Error('failure limit and window must be positive');
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#maxAddresses = options.maxAddresses ?? 100_000;
  }

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  blockedFor(addr: string, now: number): number {
    const times = this.#recent(addr, now);
    if (!times || times.length < this.#limit) return 0;
    return Math.max(1, Math.ceil((times[0]! + this.#windowMs - now) / 1000));
  }

  recordFailure(addr: string, now: number): void {
    let times = this.#recent(addr, now);
    if (!times) {
      if (this.#failures.size >= this.#maxAddresses) this.#evict(now);
      times = [];
    } else {
      this.#failures.delete(addr); // re-insert: Map order is then least recently failed first
    }
    times.push(now);
    if (times.length > this.#limit) times.shift();
    this.#failures.set(addr, times);
  }

  get trackedAddresses(): number {
    return this.#failures.size;
  }

  #recent(addr: string, now: number): number[] | undefined {
    const times = this.#failures.get(addr);
    if (!times) return undefined;
    while (times.length > 0 && times[0]! <= now - this.#windowMs) times.shift();
    if (times.length === 0) {
      this.#failures.delete(addr);
      return undefined;
    }
    return times;
  }

  /** Map order is least recently failed first, so expired addresses are all at the front. */
  #evict(now: number): void {
    for (const [addr, times] of this.#failures) {
      if (times[times.length - 1]! > now - this.#windowMs) break;
      this.#failures.delete(addr);
    }
    if (this.#failures.size >= this.#maxAddresses) {
      const oldest = this.#failures.keys().next();
      if (!oldest.done) this.#failures.delete(oldest.value);
    }
  }
}
