import { FailureLimiter } from '../auth/failure-limiter.ts';

/**
 * Rate limits of console sign-in: failed attempts are counted per client address and per account
 * (email), each in its own sliding window. Once either count reaches its limit, further attempts
 * are refused with 429 before any password is hashed, until the oldest failure leaves the window.
 *
 * Per address stops one machine guessing many accounts; per account stops many machines guessing
 * one. The per-account limit lets an attacker delay a user's sign-in for one window at most; that
 * is the usual price for making password guessing against one account infeasible.
 */
export interface SignInLimits {
  /** Failures per address (default 20 per 15 min). */
  perAddress?: { limit: number; windowMs: number };
  /** Failures per account (default 10 per 15 min). */
  perAccount?: { limit: number; windowMs: number };
}

export class SignInLimiter {
  readonly #byAddr: FailureLimiter;
  readonly #byAccount: FailureLimiter;

  constructor(limits: SignInLimits = {}) {
    this.#byAddr = new FailureLimiter(limits.perAddress ?? { limit: 20, windowMs: 15 * 60_000 });
    this.#byAccount = new FailureLimiter(limits.perAccount ?? { limit: 10, windowMs: 15 * 60_000 });
  }

  /** Seconds until this address may try this account again; 0 when allowed. */
  blockedFor(addr: string, account: string, now: number): number {
    return Math.max(this.#byAddr.blockedFor(addr, now), this.#byAccount.blockedFor(accountKey(account), now));
  }

  recordFailure(addr: string, account: string, now: number): void {
    this.#byAddr.recordFailure(addr, now);
    this.#byAccount.recordFailure(accountKey(account), now);
  }
}

function accountKey(email: string): string {
  return email.trim().toLowerCase().slice(0, 254);
}
