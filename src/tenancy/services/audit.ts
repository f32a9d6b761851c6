import { ValidationError } from '../errors.ts';
import type { AuditEntry, AuditQuery } from '../store.ts';
import { parseDuration, parseTime } from '../validation.ts';
import { nowMs, requireTenant, type ServiceContext } from './context.ts';

export interface AuditFilter {
  /** One org's entries; omitted: platform-wide. */
  tenant?: string;
  /** ISO time, or a duration back from now such as `24h`. */
  since?: string;
  until?: string;
  /** Exact action, or a prefix ending in `*` (e.g. `token.*`). */
  action?: string;
  limit?: number;
}

function timeOrAgo(ctx: ServiceContext, value: string, what: string): string {
  return /^\d+[smhd]?$/.test(value.trim())
    ? new Date(nowMs(ctx) - parseDuration(value)).toISOString()
    : parseTime(value, what);
}

export async function queryAudit(ctx: ServiceContext, filter: AuditFilter = {}): Promise<AuditEntry[]> {
  if (
    filter.limit !== undefined &&
    (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > 10_000)
  ) {
    throw new ValidationError(`invalid limit ${filter.limit}: a whole number from 1 to 10000`);
  }
  const query: AuditQuery = {
    ...(filter.since !== undefined ? { since: timeOrAgo(ctx, filter.since, 'since') } : {}),
    ...(filter.until !== undefined ? { until: timeOrAgo(ctx, filter.until, 'until') } : {}),
    ...(filter.action !== undefined ? { action: filter.action } : {}),
    ...(filter.limit !== undefined ? { limit: filter.limit } : {}),
  };
  if (filter.tenant === undefined) return ctx.store.listPlatformAudit(query);
  const tenant = await requireTenant(ctx, filter.tenant);
  return ctx.store.listAudit(tenant.id, query);
}
