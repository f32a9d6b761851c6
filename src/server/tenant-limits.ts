import { effectiveLimits, type EffectiveLimits, type TenantLimits } from '../tenancy/limits.ts';
import type { ControlPlaneStore } from '../tenancy/store.ts';

/**
 * Effective limits of every tenant for the storage engines' background work (retention, the
 * out-of-order window), which asks synchronously. Refreshed from the control plane periodically;
 * request paths get their limits from the authenticated principal instead.
 */
export class TenantLimitsCache {
  private byId = new Map<string, EffectiveLimits>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: ControlPlaneStore,
    private readonly defaults: TenantLimits,
    refreshMs = 10_000,
  ) {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    const next = new Map<string, EffectiveLimits>();
    for (const t of await this.store.listTenants())
      next.set(String(t.id), effectiveLimits(this.defaults, t.limitOverrides));
    this.byId = next;
  }

  get(tenantId: string): EffectiveLimits {
    return this.byId.get(tenantId) ?? this.defaults;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
