import { randomBytes, randomInt } from 'node:crypto';
import { compressWriteRequest, encodeWriteRequest, type WriteSeries } from '../client/remote-write.ts';
import { labelsFromRecord } from '../model/labels.ts';
import { AdminApiError, AdminClient } from './admin-client.ts';
import { basicAuth, formEncode, rawRequest, type RawResponse } from './http.ts';
import type { AttackContext, CanaryTenant, ConsoleAccess, Cred } from './types.ts';

/**
 * Canary tenants for the isolation probes, created through the admin HTTP API only (so the same
 * code serves the test suite and `irin verify-isolation` against a live deployment): two tenants
 * A (attacker) and B (victim) with servers, push tokens, read keys, a disabled probe endpoint,
 * metric series, metadata and (when the Loki API is mounted) log lines; B's revoked and expired
 * credentials; a suspended third tenant. Every name starts with `irin-canary-<random>`, and
 * `cleanup()` decommissions exactly the tenants this run created.
 */

export const CANARY_PREFIX = 'irin-canary';
export const CANARY_JOB = 'irin-canary';
/** The metric every canary tenant has (so unscoped selectors would find both). */
export const CANARY_SHARED_METRIC = 'irin_canary_up';
const SAMPLES = 9;
const SAMPLE_STEP_MS = 15_000;

export interface CanaryOptions {
  readonly url: string;
  readonly adminKey: string;
  /** `tenancy.tenant_label` of the deployment (default `tenant`). */
  readonly tenantLabel?: string;
  /** Limits for tenant A (the noisy neighbour test uses this), in the admin API's spelling. */
  readonly limitsA?: Record<string, unknown>;
  /**
   * Also create console users (A's admin, B's viewer) and sign A in, when the console API is
   * served at `consoleUrl`. Users cannot be deleted through the admin API, so this is for tests.
   */
  readonly consoleUsers?: { readonly consoleUrl: string };
  readonly log?: (line: string) => void;
}

export interface Canaries {
  readonly ctx: AttackContext;
  /** Slugs of every tenant created (A, B, the suspended one). */
  readonly slugs: readonly string[];
  /** Decommissions every canary tenant; never throws, returns the problems met. */
  cleanup(): Promise<string[]>;
}

interface IssuedCredentialJson {
  credential: { clientId: string };
  secret: string;
}

const rand = (bytes: number) => randomBytes(bytes).toString('hex');

export async function provisionCanaries(options: CanaryOptions): Promise<Canaries> {
  const admin = new AdminClient(options.url, options.adminKey);
  const log = options.log ?? (() => {});
  const run = rand(4);
  const base = `${CANARY_PREFIX}-${run}`;
  const created: string[] = [];
  const cleanup = async (): Promise<string[]> => {
    const problems: string[] = [];
    // Decommissioning revokes credentials, so the server forgets which keys it verified; if the
    // probes' bad credentials put this address over the failure limit, the admin key is then
    // refused (429) until the window passes: wait as Retry-After says, for at most two minutes.
    const giveUpAt = Date.now() + 120_000;
    for (const slug of created) {
      for (;;) {
        try {
          await admin.call('DELETE', `/tenants/${slug}`);
          log(`decommissioned canary tenant ${slug}`);
          break;
        } catch (err) {
          const wait =
            err instanceof AdminApiError && (err.status === 429 || err.status === 503)
              ? (err.retryAfterSeconds ?? 5) * 1000
              : undefined;
          if (wait !== undefined && Date.now() + wait < giveUpAt) {
            log(
              `the server asks to retry in ${Math.ceil(wait / 1000)} s (${err instanceof Error ? err.message : String(err)})`,
            );
            await new Promise((r) => setTimeout(r, wait));
            continue;
          }
          problems.push(`could not decommission canary tenant ${slug}: ${(err as Error).message}`);
          break;
        }
      }
    }
    return problems;
  };

  try {
    const createTenant = async (slug: string, limits?: Record<string, unknown>) => {
      const tenant = await admin.call<{ id: number; slug: string }>('POST', '/tenants', {
        slug,
        displayName: `Irin isolation canary ${slug}`,
        ...(limits ? { limits } : {}),
      });
      created.push(slug);
      return tenant;
    };
    const credential = async (
      slug: string,
      kind: 'tokens' | 'apikeys',
      body: Record<string, unknown> = {},
    ): Promise<Cred> => {
      const issued = await admin.call<IssuedCredentialJson>('POST', `/tenants/${slug}/${kind}`, {
        name: 'irin-canary',
        ...body,
      });
      return { clientId: issued.credential.clientId, secret: issued.secret };
    };

    const tenant = async (role: 'a' | 'b', limits?: Record<string, unknown>): Promise<CanaryTenant> => {
      const slug = `${base}-${role}`;
      const marker = rand(8);
      const { id } = await createTenant(slug, limits);
      const servers = [];
      for (const n of [1, 2]) {
        const name = `${slug}-svr${n}`;
        const added = await admin.call<{ server: { id: number }; token: IssuedCredentialJson }>(
          'POST',
          `/tenants/${slug}/servers`,
          { name },
        );
        servers.push({
          name,
          id: added.server.id,
          token: { clientId: added.token.credential.clientId, secret: added.token.secret },
        });
      }
      const endpoint = await admin.call<{ id: number; name: string }>('POST', `/tenants/${slug}/endpoints`, {
        name: `canary-${marker}`,
        url: 'http://127.0.0.1:9/',
        enabled: false,
      });
      return {
        slug,
        id,
        marker,
        metric: `irin_canary_${marker}`,
        value: String(randomInt(100_000, 999_999)),
        servers,
        push: await credential(slug, 'tokens'),
        read: await credential(slug, 'apikeys'),
        endpoint: { id: endpoint.id, name: endpoint.name },
        seriesCount: 2,
      };
    };

    const a = await tenant('a', options.limitsA);
    let b = await tenant('b');
    while (b.value === a.value) b = { ...b, value: String(randomInt(100_000, 999_999)) };

    // B's refused credentials: revoked, and expiring one second from now.
    const revokedPush = await credential(b.slug, 'tokens');
    const revokedRead = await credential(b.slug, 'apikeys');
    await admin.call('POST', `/tenants/${b.slug}/tokens/${revokedPush.clientId}/revoke`);
    await admin.call('POST', `/tenants/${b.slug}/apikeys/${revokedRead.clientId}/revoke`);
    const expiresAt = Date.now() + 1000;
    const expiredPush = await credential(b.slug, 'tokens', { expiresIn: '1s' });
    const expiredRead = await credential(b.slug, 'apikeys', { expiresIn: '1s' });
    const suspended = `${base}-s`;
    await createTenant(suspended);
    const suspendedPush = await credential(suspended, 'tokens');
    const suspendedRead = await credential(suspended, 'apikeys');
    await admin.call('POST', `/tenants/${suspended}/suspend`);
    log(`created canary tenants ${created.join(', ')}`);
    // Revocations and suspensions make the server drop its cache of verified credentials at its
    // next poll (every 250 ms): let that happen before the credentials are used and cached again.
    await new Promise((r) => setTimeout(r, 600));

    const loki = await lokiMounted(options.url);
    const tenantLabel = options.tenantLabel ?? 'tenant';
    for (const t of [a, b]) await pushCanaryData(options.url, t, tenantLabel, loki);
    // Every token used once now, so it is verified and cached before any probe presents a bad
    // credential: on a live server the failure limiter then answers 429 to uncached ids only.
    for (const t of [a, b]) {
      for (const cred of [t.push, t.servers[1]!.token]) {
        const res = await pushMetrics(options.url, cred, [
          {
            labels: labelsFromRecord({
              __name__: 'irin_canary_warmup',
              [tenantLabel]: t.slug,
              canary: t.marker,
            }),
            samples: [{ t: Date.now(), v: 1 }],
          },
        ]);
        if (res.status !== 204)
          throw new Error(
            `a push with ${t.slug}'s token ${cred.clientId} answered ${res.status}: ${res.text.slice(0, 200)}`,
          );
      }
    }
    await admin.call('GET', `/tenants/${a.slug}`);
    for (const t of [a, b]) await waitUntilReadable(options.url, t, tenantLabel, loki);
    log(`pushed canary series${loki ? ' and log lines' : ''} for ${a.slug} and ${b.slug}`);

    let consoleAccess: ConsoleAccess | undefined;
    if (options.consoleUsers && (await consoleMounted(options.consoleUsers.consoleUrl))) {
      consoleAccess = await consoleUsers(admin, options.consoleUsers.consoleUrl, a, b);
    }

    const wait = expiresAt + 400 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    let n = 0;
    const ctx: AttackContext = {
      url: options.url,
      tenantLabel,
      a,
      b,
      refused: { revokedPush, revokedRead, expiredPush, expiredRead, suspendedPush, suspendedRead },
      loki,
      console: consoleAccess,
      unique: (prefix) => `${prefix}_${run}_${++n}`,
    };
    return { ctx, slugs: [...created], cleanup };
  } catch (err) {
    const problems = await cleanup();
    if (problems.length) (err as Error).message += `; and ${problems.join('; ')}`;
    throw err;
  }
}

/**
 * The canary series of one tenant: its own metric and the shared one, 9 samples up to now, each
 * with a label name of its own (`only_<marker>`) so that label-name listings can leak it too.
 * They carry their own tenant label as a well-configured agent does (the edge overwrites it
 * anyway), so the canaries stay readable while the test suite switches label enforcement off.
 */
export function canarySeries(t: CanaryTenant, tenantLabel: string, now = Date.now()): WriteSeries[] {
  const samples = Array.from({ length: SAMPLES }, (_, i) => ({
    t: now - (SAMPLES - 1 - i) * SAMPLE_STEP_MS,
    v: Number(t.value),
  }));
  return [t.metric, CANARY_SHARED_METRIC].map((name) => ({
    labels: labelsFromRecord({
      __name__: name,
      [tenantLabel]: t.slug,
      canary: t.marker,
      job: CANARY_JOB,
      [`only_${t.marker}`]: '1',
    }),
    samples,
  }));
}

export function canaryLogLine(t: CanaryTenant, i: number): string {
  return `irin canary ${t.marker} line ${i}`;
}

export async function pushMetrics(
  url: string,
  cred: Cred,
  series: readonly WriteSeries[],
  headers: readonly (readonly [string, string])[] = [],
  metadata: Parameters<typeof encodeWriteRequest>[1] = [],
): Promise<RawResponse> {
  return rawRequest(url, {
    method: 'POST',
    path: '/api/v1/write',
    headers: [
      ['content-type', 'application/x-protobuf'],
      ['content-encoding', 'snappy'],
      ['x-prometheus-remote-write-version', '0.1.0'],
      ['authorization', basicAuth(cred.clientId, cred.secret)],
      ...headers,
    ],
    body: compressWriteRequest(encodeWriteRequest(series, metadata)),
  });
}

export interface LogStream {
  readonly labels: Record<string, string>;
  readonly lines: readonly { readonly ms: number; readonly line: string }[];
}

/** Loki JSON push body. */
export function lokiPushBody(streams: readonly LogStream[]): string {
  return JSON.stringify({
    streams: streams.map((s) => ({
      stream: s.labels,
      values: s.lines.map((l) => [`${BigInt(l.ms) * 1_000_000n}`, l.line]),
    })),
  });
}

export async function pushLogs(
  url: string,
  headers: readonly (readonly [string, string])[],
  streams: readonly LogStream[],
): Promise<RawResponse> {
  return rawRequest(url, {
    method: 'POST',
    path: '/loki/api/v1/push',
    headers: [['content-type', 'application/json'], ...headers],
    body: lokiPushBody(streams),
  });
}

async function pushCanaryData(
  url: string,
  t: CanaryTenant,
  tenantLabel: string,
  loki: boolean,
): Promise<void> {
  const res = await pushMetrics(
    url,
    t.servers[0]!.token,
    canarySeries(t, tenantLabel),
    [],
    [{ metricFamilyName: t.metric, type: 'gauge', help: `Irin isolation canary ${t.marker}` }],
  );
  if (res.status !== 204 && res.status !== 200)
    throw new Error(`pushing ${t.slug}'s canary series answered ${res.status}: ${res.text.slice(0, 200)}`);
  if (!loki) return;
  const now = Date.now();
  const logs = await pushLogs(
    url,
    [['authorization', basicAuth(t.servers[0]!.token.clientId, t.servers[0]!.token.secret)]],
    [
      {
        labels: { [tenantLabel]: t.slug, job: CANARY_JOB, canary: t.marker },
        lines: [0, 1, 2].map((i) => ({ ms: now - (3 - i) * 1000, line: canaryLogLine(t, i) })),
      },
    ],
  );
  if (logs.status !== 204 && logs.status !== 200)
    throw new Error(
      `pushing ${t.slug}'s canary log lines answered ${logs.status}: ${logs.text.slice(0, 200)}`,
    );
}

/** Waits until a tenant sees its own canaries (and so its read key is verified and cached). */
async function waitUntilReadable(
  url: string,
  t: CanaryTenant,
  tenantLabel: string,
  loki: boolean,
): Promise<void> {
  const auth: [string, string] = ['authorization', basicAuth(t.read.clientId, t.read.secret)];
  const deadline = Date.now() + 15_000;
  for (;;) {
    const q = await rawRequest(url, {
      path: `/prometheus/api/v1/query?${formEncode([['query', `${t.metric}{${tenantLabel}="${t.slug}"}`]])}`,
      headers: [auth],
    });
    const metricsOk =
      q.status === 200 && ((q.json as { data?: { result?: unknown[] } })?.data?.result?.length ?? 0) > 0;
    let logsOk = !loki;
    if (loki && metricsOk) {
      const l = await rawRequest(url, {
        path: `/loki/api/v1/query_range?${formEncode([
          ['query', `{canary="${t.marker}"}`],
          ['limit', '10'],
        ])}`,
        headers: [auth],
      });
      logsOk =
        l.status === 200 && ((l.json as { data?: { result?: unknown[] } })?.data?.result?.length ?? 0) > 0;
    }
    if (metricsOk && logsOk) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${t.slug} cannot read its own canary data (query answered ${q.status}: ${q.text.slice(0, 200)})`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when the Loki push route exists (it answers 401 to a request without credentials, 404 when not mounted). */
export async function lokiMounted(url: string): Promise<boolean> {
  const res = await rawRequest(url, {
    method: 'POST',
    path: '/loki/api/v1/push',
    headers: [['content-type', 'application/json']],
    body: '{}',
  });
  return res.status !== 404;
}

export async function consoleMounted(url: string): Promise<boolean> {
  const res = await rawRequest(url, { path: '/api/console/me' });
  return res.status !== 404;
}

/** Creates A's admin user and B's viewer (canary emails), signs A in. */
async function consoleUsers(
  admin: AdminClient,
  consoleUrl: string,
  a: CanaryTenant,
  b: CanaryTenant,
): Promise<ConsoleAccess> {
  const password = rand(16);
  const emailA = `${a.slug}@canary.invalid`;
  const emailB = `${b.slug}@canary.invalid`;
  await admin.call('POST', '/users', { email: emailA, password });
  await admin.call('POST', `/users/${encodeURIComponent(emailA)}/memberships`, {
    tenant: a.slug,
    role: 'admin',
  });
  const userB = await admin.call<{ user: { id: number } }>('POST', '/users', { email: emailB, password });
  await admin.call('POST', `/users/${encodeURIComponent(emailB)}/memberships`, {
    tenant: b.slug,
    role: 'viewer',
  });
  const res = await rawRequest(consoleUrl, {
    method: 'POST',
    path: '/api/console/sign-in',
    headers: [
      ['content-type', 'application/json'],
      ['origin', new URL(consoleUrl).origin],
    ],
    body: JSON.stringify({ email: emailA, password }),
  });
  const cookie = /irin_session=([^;]*)/.exec(String(res.headers['set-cookie'] ?? ''))?.[1];
  const me = (res.json as { me?: { csrfToken?: string } } | undefined)?.me;
  if (res.status !== 200 || !cookie || !me?.csrfToken)
    throw new Error(`console sign-in of ${emailA} failed: ${res.status} ${res.text.slice(0, 200)}`);
  return {
    url: consoleUrl,
    adminA: { cookie, csrf: me.csrfToken },
    userB: { id: userB.user.id, email: emailB },
  };
}
