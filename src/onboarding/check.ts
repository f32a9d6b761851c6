import { METRIC_NAME_LABEL, getLabel } from '../model/labels.ts';
import { isStaleNaN } from '../model/samples.ts';
import { NotFoundError } from '../tenancy/errors.ts';
import type { ControlPlaneStore, Credential, PushRejection } from '../tenancy/store.ts';
import type { Querier } from '../tsdb/types.ts';

/**
 * `irin server check`: has data from this server arrived, when last, how many series, and why
 * were pushes refused. Control-plane facts (last seen, tokens, rejections) come from the store;
 * data facts from the tenant's own TSDB querier, which only the server process may open — so the
 * querier is optional, and without it the data part is reported as not checked.
 */

export const DEFAULT_CHECK_WINDOW_MS = 15 * 60_000;
/** Newer than this, data (or a credential use) counts as "arriving now". */
export const FRESH_MS = 2 * 60_000;

export interface CheckServerInput {
  readonly store: ControlPlaneStore;
  /** The tenant's querier; absent when the caller cannot read the TSDB (the CLI without --url). */
  readonly querier?: Querier;
  readonly tenantId: number;
  readonly serverName: string;
  /** Irin's tenant label (`tenancy.tenant_label`). */
  readonly tenantLabel: string;
  /** Clock in ms. */
  readonly now?: number;
  /** How far back series are counted (default 15 min). */
  readonly windowMs?: number;
  /** How many recent rejections to list (default 10). */
  readonly rejectionLimit?: number;
}

export type CheckStatus =
  | 'receiving' // samples newer than FRESH_MS
  | 'pushing' // no data check, but the token was used within FRESH_MS
  | 'rejected' // the latest thing that happened is a refused push
  | 'stale' // data or pushes, but not recently
  | 'no_data' // nothing in the window, no recent use
  | 'never_seen' // the token was never used
  | 'no_token'; // no active push token for this server

export interface ServerCheckToken {
  clientId: string;
  name: string;
  state: 'active' | 'expired' | 'revoked';
  expiresAt: string | null;
  lastUsedAt: string | null;
  lastUsedAddr: string | null;
}

export interface ServerCheckData {
  windowSeconds: number;
  /** Series carrying instance="<server>" with a sample in the window. */
  series: number;
  /** Distinct metric names among them. */
  metrics: number;
  /** Newest sample (stale markers excluded), ISO time. */
  newestSampleAt: string | null;
}

export interface ServerCheck {
  tenantId: number;
  server: { id: number; name: string; createdAt: string };
  /** Latest successful authentication of one of its tokens. */
  lastSeenAt: string | null;
  lastSeenAddr: string | null;
  tokens: ServerCheckToken[];
  /** Null when the data was not checked (no querier). */
  data: ServerCheckData | null;
  /** Most recent first. */
  rejections: PushRejection[];
  status: CheckStatus;
  summary: string;
  checkedAt: string;
}

function tokenState(c: Credential, now: number): ServerCheckToken['state'] {
  if (c.revokedAt !== null) return 'revoked';
  if (c.expiresAt !== null && Date.parse(c.expiresAt) <= now) return 'expired';
  return 'active';
}

/** Counts the server's series in the window and finds its newest real sample. */
export function dataFacts(
  querier: Querier,
  tenantLabel: string,
  tenantSlug: string,
  instance: string,
  now: number,
  windowMs: number,
): ServerCheckData {
  const series = querier.select(
    [
      { name: tenantLabel, type: '=', value: tenantSlug },
      { name: 'instance', type: '=', value: instance },
    ],
    now - windowMs,
    now,
  );
  const names = new Set<string>();
  let newest = -Infinity;
  for (const s of series) {
    names.add(getLabel(s.labels, METRIC_NAME_LABEL) ?? '');
    for (let i = s.timestamps.length - 1; i >= 0; i--) {
      if (isStaleNaN(s.values[i]!)) continue;
      newest = Math.max(newest, s.timestamps[i]!);
      break;
    }
  }
  return {
    windowSeconds: Math.round(windowMs / 1000),
    series: series.length,
    metrics: names.size,
    newestSampleAt: Number.isFinite(newest) ? new Date(newest).toISOString() : null,
  };
}

/** "3 s ago", "4 min ago", "2 h ago", "5 d ago". */
export function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

function verdict(
  check: Omit<ServerCheck, 'status' | 'summary'>,
  now: number,
): { status: CheckStatus; summary: string } {
  const { data, lastSeenAt, tokens } = check;
  const isFresh = (iso: string | null) => iso !== null && now - Date.parse(iso) <= FRESH_MS;
  const last = check.rejections[0];
  // No successful authentication since the latest refusal. Credential refusals (401/403) mean the
  // token itself no longer works; other refusals (limits, bad samples) can come with accepted data.
  const refusedSinceSeen =
    last !== undefined && (lastSeenAt === null || Date.parse(last.at) > Date.parse(lastSeenAt));
  const credentialRefusal = last !== undefined && (last.status === 401 || last.status === 403);
  const freshData = data !== null && isFresh(data.newestSampleAt);
  const window = data === null ? '' : `${Math.round(data.windowSeconds / 60)} min`;

  if (last !== undefined && refusedSinceSeen && (credentialRefusal || !freshData)) {
    return {
      status: 'rejected',
      summary: `pushes are refused: the latest, ${ago(last.at, now)}, got ${last.status} ${last.reason}`,
    };
  }
  if (freshData) {
    const partly =
      last !== undefined && isFresh(last.at)
        ? `; some data was refused ${ago(last.at, now)}: ${last.status} ${last.reason}`
        : '';
    return {
      status: 'receiving',
      summary: `receiving: ${data.series} series in the last ${window}, newest sample ${ago(data.newestSampleAt!, now)}${partly}`,
    };
  }
  if (data === null && isFresh(lastSeenAt)) {
    return {
      status: 'pushing',
      summary: `pushing: its token was used ${ago(lastSeenAt!, now)} (series not checked)`,
    };
  }
  if (!tokens.some((t) => t.state === 'active')) {
    return {
      status: 'no_token',
      summary: 'no active push token is bound to this server: issue one (irin server config --new-token)',
    };
  }
  if (lastSeenAt === null && (data === null || data.series === 0)) {
    return { status: 'never_seen', summary: "nothing has ever been pushed with this server's token" };
  }
  if (data !== null && data.series === 0) {
    return {
      status: 'no_data',
      summary:
        `no series in the last ${window}` +
        (lastSeenAt === null ? '' : `; its token was last used ${ago(lastSeenAt, now)}`),
    };
  }
  const latest = data?.newestSampleAt ?? lastSeenAt;
  return {
    status: 'stale',
    summary: `nothing recent: the last ${data === null ? 'push' : 'sample'} was ${ago(latest!, now)}`,
  };
}

export async function checkServer(input: CheckServerInput): Promise<ServerCheck> {
  const { store, tenantId } = input;
  const now = input.now ?? Date.now();
  const [tenant, server] = await Promise.all([
    store.getTenant(tenantId),
    store.getServerByName(tenantId, input.serverName),
  ]);
  if (!tenant) throw new NotFoundError(`tenant ${tenantId} not found`);
  if (!server) throw new NotFoundError(`server "${input.serverName}" not found in tenant "${tenant.slug}"`);
  const [credentials, rejections] = await Promise.all([
    store.listCredentials({ kind: 'push', tenantId }),
    store.listPushRejections(tenantId, { serverId: server.id, limit: input.rejectionLimit ?? 10 }),
  ]);
  const bound = credentials.filter((c) => c.serverId === server.id);
  let lastSeenAt = server.lastSeenAt;
  let lastSeenAddr = server.lastSeenAddr;
  for (const c of bound) {
    if (c.lastUsedAt !== null && (lastSeenAt === null || Date.parse(c.lastUsedAt) > Date.parse(lastSeenAt))) {
      lastSeenAt = c.lastUsedAt;
      lastSeenAddr = c.lastUsedAddr;
    }
  }
  const partial = {
    tenantId,
    server: { id: server.id, name: server.name, createdAt: server.createdAt },
    lastSeenAt,
    lastSeenAddr,
    tokens: bound.map((c) => ({
      clientId: c.clientId,
      name: c.name,
      state: tokenState(c, now),
      expiresAt: c.expiresAt,
      lastUsedAt: c.lastUsedAt,
      lastUsedAddr: c.lastUsedAddr,
    })),
    data:
      input.querier === undefined
        ? null
        : dataFacts(
            input.querier,
            input.tenantLabel,
            tenant.slug,
            server.name,
            now,
            input.windowMs ?? DEFAULT_CHECK_WINDOW_MS,
          ),
    rejections,
    checkedAt: new Date(now).toISOString(),
  };
  return { ...partial, ...verdict(partial, now) };
}

/** The CLI's text form. */
export function formatServerCheck(
  check: ServerCheck,
  tenantSlug: string,
  now = Date.parse(check.checkedAt),
): string {
  const when = (iso: string | null) => (iso === null ? 'never' : `${iso} (${ago(iso, now)})`);
  const lines = [
    `Server ${check.server.name} of tenant ${tenantSlug}: ${check.status.toUpperCase().replaceAll('_', ' ')}`,
    `  ${check.summary}`,
    '',
  ];
  const rows: [string, string][] = [
    ['last seen', when(check.lastSeenAt) + (check.lastSeenAddr ? ` from ${check.lastSeenAddr}` : '')],
  ];
  if (check.data === null) {
    rows.push(['series', 'not checked (give --url and IRIN_ADMIN_KEY to ask the running server)']);
  } else {
    const minutes = Math.round(check.data.windowSeconds / 60);
    rows.push([`series (${minutes} min)`, `${check.data.series} across ${check.data.metrics} metrics`]);
    rows.push(['newest sample', when(check.data.newestSampleAt)]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${v}`);
  lines.push('', 'Push tokens bound to it:');
  if (check.tokens.length === 0) lines.push('  (none)');
  for (const t of check.tokens) {
    lines.push(
      `  ${t.clientId}  ${t.state}  last used ${t.lastUsedAt === null ? 'never' : ago(t.lastUsedAt, now)}${t.expiresAt ? `  expires ${t.expiresAt}` : ''}`,
    );
  }
  lines.push('', 'Recent rejected pushes:');
  if (check.rejections.length === 0) lines.push('  (none)');
  for (const r of check.rejections) {
    lines.push(
      `  ${r.at}  ${r.status}  ${r.reason}${r.clientId ? `  token ${r.clientId}` : ''}${r.sourceAddr ? `  from ${r.sourceAddr}` : ''}`,
    );
  }
  return lines.join('\n');
}
