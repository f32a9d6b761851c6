import type { PushPrincipal } from '../auth/principal.ts';

/**
 * A token bucket refilled continuously at `rate` tokens per second up to `burst`. A request for
 * more than the bucket can ever hold is admitted when the bucket is full and leaves it in debt,
 * so an agent whose batches are larger than the burst is slowed down to the rate rather than
 * refused forever.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(burst: number, nowMs: number) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Refills and returns how many more tokens `n` needs now (0 when it would be admitted). */
  deficit(n: number, rate: number, burst: number, nowMs: number): number {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(burst, this.tokens + ((nowMs - this.lastMs) / 1000) * rate);
      this.lastMs = nowMs;
    } else if (this.tokens > burst) {
      this.tokens = burst; // the limit was lowered
    }
    return Math.max(0, Math.min(n, burst) - this.tokens);
  }

  take(n: number): void {
    this.tokens -= n;
  }
}

export type RateDecision =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly scope: 'tenant' | 'server';
      readonly retryAfterSeconds: number;
      readonly rate: number;
      readonly burst: number;
    };

function retryAfter(deficit: number, rate: number): number {
  return rate > 0 ? Math.max(1, Math.ceil(deficit / rate)) : 60;
}

/**
 * Samples-per-second limits: one bucket per tenant and, for server-bound tokens, one per server
 * under it. A request is admitted only when both buckets can pay for all its samples; then both
 * are charged. A refused request charges nothing.
 */
export class IngestionRateLimiter {
  private readonly tenants = new Map<number, TokenBucket>();
  private readonly servers = new Map<string, TokenBucket>();

  admit(principal: PushPrincipal, samples: number, nowMs: number): RateDecision {
    const l = principal.limits;
    let tenant = this.tenants.get(principal.tenantId);
    if (tenant === undefined) {
      tenant = new TokenBucket(l.ingestionBurst, nowMs);
      this.tenants.set(principal.tenantId, tenant);
    }
    let server: TokenBucket | undefined;
    if (principal.serverId !== undefined) {
      const key = `${principal.tenantId}/${principal.serverId}`;
      server = this.servers.get(key);
      if (server === undefined) {
        server = new TokenBucket(l.serverIngestionBurst, nowMs);
        this.servers.set(key, server);
      }
      const d = server.deficit(samples, l.serverIngestionRate, l.serverIngestionBurst, nowMs);
      if (d > 0) {
        return {
          ok: false,
          scope: 'server',
          retryAfterSeconds: retryAfter(d, l.serverIngestionRate),
          rate: l.serverIngestionRate,
          burst: l.serverIngestionBurst,
        };
      }
    }
    const d = tenant.deficit(samples, l.ingestionRate, l.ingestionBurst, nowMs);
    if (d > 0) {
      return {
        ok: false,
        scope: 'tenant',
        retryAfterSeconds: retryAfter(d, l.ingestionRate),
        rate: l.ingestionRate,
        burst: l.ingestionBurst,
      };
    }
    tenant.take(samples);
    server?.take(samples);
    return { ok: true };
  }

  /** Forgets a tenant's buckets (tenant deleted or suspended). */
  forgetTenant(tenantId: number): void {
    this.tenants.delete(tenantId);
    const prefix = `${tenantId}/`;
    for (const key of this.servers.keys()) if (key.startsWith(prefix)) this.servers.delete(key);
  }
}
