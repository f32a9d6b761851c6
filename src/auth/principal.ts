import type { EffectiveLimits } from '../tenancy/limits.ts';

/** Who a push request acts for: resolved from a push token by the edge (isolation layer 1). */
export interface PushPrincipal {
  readonly kind: 'push';
  readonly tenantId: number;
  /** The tenant's slug: the value enforced as the tenant label. */
  readonly tenantSlug: string;
  readonly tokenId: string;
  /** Set for server-bound tokens: the `instance` label value pinned on everything pushed. */
  readonly serverId?: number;
  readonly instance?: string;
  readonly limits: EffectiveLimits;
}

/** Who a read request acts for: from a read API key or a console session. Always exactly one org. */
export interface ReadPrincipal {
  readonly kind: 'read';
  readonly tenantId: number;
  readonly tenantSlug: string;
  /** `apikey:<id>` or `user:<id>` — for audit and logs, never a secret. */
  readonly actor: string;
  readonly limits: EffectiveLimits;
}

/** Who an admin API request acts for: a platform admin key. */
export interface AdminPrincipal {
  readonly kind: 'admin';
  readonly clientId: string;
  /** `admin-key:<client id>` — for the audit log. */
  readonly actor: string;
}
