import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonlEventStore } from '../probe/events.ts';
import { currentTotp } from '../auth/totp.ts';
import { pushSeries, type WriteSeries } from '../client/remote-write.ts';
import { SimulatedNode } from '../client/simulated-node.ts';
import { labelsFromRecord } from '../model/labels.ts';
import { openControlPlane, type ControlPlane } from '../tenancy/open.ts';
import type { ServiceContext } from '../tenancy/services/context.ts';
import { createCredential } from '../tenancy/services/credentials.ts';
import { addEndpoint } from '../tenancy/services/endpoints.ts';
import { addServer } from '../tenancy/services/servers.ts';
import { createTenant } from '../tenancy/services/tenants.ts';
import { addUserToOrg, confirmMfa, createUser, enrolMfa } from '../tenancy/services/users.ts';

/**
 * Demo data for a running Irin (`irin serve --demo`, the browser tests), through Irin's own
 * front doors: tenants, users and servers through the tenancy
 * services (as the CLI does), metrics through remote write with each server's own token, probe
 * history through remote write with an org-wide token, logs through the Loki push API, and live
 * websites on 127.0.0.1 for the prober. Two orgs, so isolation is visible.
 */

export const DEMO_PASSWORD = 'demo password 1234';
const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface DemoUser {
  email: string;
  password: string;
  /** Set when the user has MFA on. */
  totpSecret?: string;
}

export interface Demo {
  plane: ControlPlane;
  services: ServiceContext;
  orgs: { acme: { id: number; slug: string }; globex: { id: number; slug: string } };
  users: { owner: DemoUser; viewer: DemoUser; bob: DemoUser; ops: DemoUser };
  servers: Record<string, { id: number; token: string }>;
  endpoints: Record<string, { id: number; url: string }>;
  /** The next TOTP code for a user: one time step on from the last one used (each step works once). */
  totp(user: DemoUser): string;
  /** Stops the live pushers and the websites. */
  close(): Promise<void>;
}

interface Website {
  readonly url: string;
  close(): Promise<void>;
}

/** A tiny website on 127.0.0.1 answering every request with one status and body. */
async function website(status: number, body: string, tls?: { key: string; cert: string }): Promise<Website> {
  const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(status, { 'content-type': 'text/html' });
    res.end(body);
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A self-signed certificate for 127.0.0.1 valid `days` days, made with the openssl CLI (node
 * cannot issue certificates); undefined when openssl is missing (the site is then plain HTTP).
 */
function selfSignedCert(
  name: string,
  days: number,
): { key: string; cert: string; notAfter: number } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'irin-demo-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        String(days),
        '-subj',
        `/O=Irin demo/CN=${name}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    const end = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-enddate'], { encoding: 'utf8' });
    const notAfter = Date.parse(end.replace(/^notAfter=/, '').trim()) / 1000;
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), notAfter };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function push(url: string, series: WriteSeries[], token: string): Promise<void> {
  const res = await pushSeries(`${url}/api/v1/write`, series, { kind: 'bearer', token });
  if (res.status !== 204 && res.status !== 200)
    throw new Error(`demo push failed: ${res.status} ${res.body}`);
}

async function pushLogs(
  url: string,
  token: string,
  streams: { stream: Record<string, string>; values: [string, string][] }[],
) {
  const res = await fetch(`${url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ streams }),
  });
  if (res.status !== 204 && res.status !== 200)
    throw new Error(`demo log push failed: ${res.status} ${await res.text()}`);
}

/** Scrapes of a simulated host over [from, to], merged per series (one push). */
function nodeHistory(node: SimulatedNode, from: number, to: number, stepMs: number): WriteSeries[] {
  const merged = new Map<number, { t: number; v: number }[]>();
  for (let t = from; t <= to; t += stepMs) {
    node.scrape(t, stepMs).forEach((s, i) => {
      const list = merged.get(i) ?? [];
      list.push(...s.samples);
      merged.set(i, list);
    });
  }
  return node.series.map((s, i) => ({ labels: s.labels, samples: merged.get(i) ?? [] }));
}

interface ProbeHistory {
  /** Times (ms) of down probes. */
  down(t: number): boolean;
  /** No probe ran in these times (the prober was off). */
  gap?(t: number): boolean;
  since: number;
  /** Response time in seconds, by phase. */
  phases: Record<string, number>;
  /** HTTP status of the down probes (0: no response). */
  downStatus?: number;
  /** notAfter of the certificate (unix seconds), for https endpoints. */
  certExpiry?: number;
}

/** blackbox-named samples of one endpoint's past, as the prober would have written them. */
function probeHistory(
  tenant: string,
  name: string,
  url: string,
  h: ProbeHistory,
  now: number,
): WriteSeries[] {
  const base = { tenant, instance: url, job: 'probe', endpoint: name };
  // One probe a minute: the endpoints' interval (a longer gap would count as "no data").
  const times: number[] = [];
  for (let t = h.since; t < now - 30_000; t += 60_000) times.push(t);
  const probed = times.filter((t) => !h.gap?.(t));
  const success = probed.map((t) => ({ t, v: h.down(t) ? 0 : 1 }));
  const recent = probed.filter((t) => t >= now - 2 * DAY);
  const wobble = (t: number) => 0.85 + 0.3 * Math.abs(Math.sin(t / 3_600_000));
  const series: WriteSeries[] = [
    { labels: labelsFromRecord({ ...base, __name__: 'probe_success' }), samples: success },
    {
      labels: labelsFromRecord({ ...base, __name__: 'probe_http_status_code' }),
      samples: recent.map((t) => ({ t, v: h.down(t) ? (h.downStatus ?? 0) : 200 })),
    },
    {
      labels: labelsFromRecord({ ...base, __name__: 'probe_duration_seconds' }),
      samples: recent.map((t) => ({ t, v: Object.values(h.phases).reduce((a, b) => a + b, 0) * wobble(t) })),
    },
  ];
  if (h.certExpiry !== undefined) {
    series.push({
      labels: labelsFromRecord({ ...base, __name__: 'probe_ssl_earliest_cert_expiry' }),
      samples: recent.map((t) => ({ t, v: h.certExpiry! })),
    });
  }
  for (const [phase, v] of Object.entries(h.phases)) {
    series.push({
      labels: labelsFromRecord({ ...base, __name__: 'probe_http_duration_seconds', phase }),
      samples: recent.map((t) => ({ t, v: v * wobble(t) })),
    });
  }
  return series;
}

function logLines(
  instance: string,
  now: number,
): { stream: Record<string, string>; values: [string, string][] }[] {
  if (instance.includes('db')) {
    const values: [string, string][] = [];
    for (let i = 0; i < 120; i++) {
      const t = now - HOUR + i * 30_000;
      const line =
        i % 23 === 0
          ? `ERROR:  deadlock detected DETAIL: Process ${4000 + i} waits for ShareLock on transaction ${88000 + i}`
          : i % 7 === 0
            ? `LOG:  checkpoint complete: wrote ${100 + i} buffers (0.${i % 10}%); write=${(i % 9) + 1}.2 s`
            : `LOG:  duration: ${(5 + ((i * 7) % 90)).toFixed(1)} ms  statement: SELECT * FROM orders WHERE id = ${1000 + i}`;
      values.push([`${t}000000`, line]);
    }
    return [
      {
        stream: { job: 'postgresql', filename: '/var/log/postgresql/postgresql-15-main.log', instance },
        values,
      },
    ];
  }
  const paths = ['/', '/products', '/cart', '/checkout', '/api/orders', '/static/app.js', '/login'];
  const access: [string, string][] = [];
  const app: Record<string, [string, string][]> = { info: [], warn: [], error: [] };
  for (let i = 0; i < 240; i++) {
    const t = now - HOUR + i * 15_000;
    const status = i % 37 === 0 ? 502 : i % 11 === 0 ? 404 : 200;
    const path = paths[i % paths.length]!;
    access.push([
      `${t}000000`,
      `10.0.${i % 7}.${(i * 13) % 250} - - "GET ${path} HTTP/1.1" ${status} ${1200 + ((i * 97) % 9000)} "-" "Mozilla/5.0"`,
    ]);
    const level = i % 29 === 0 ? 'error' : i % 9 === 0 ? 'warn' : 'info';
    const msg =
      level === 'error'
        ? `payment provider timeout after 5000ms order_id=${1000 + i}`
        : level === 'warn'
          ? `slow query took ${300 + i}ms table=orders`
          : `handled request path=${path} duration_ms=${10 + (i % 40)}`;
    app[level]!.push([`${t + 500}000000`, `level=${level} msg="${msg}"`]);
  }
  return [
    { stream: { job: 'nginx', filename: '/var/log/nginx/access.log', instance }, values: access },
    ...Object.entries(app).map(([level, values]) => ({
      stream: { job: 'shop-app', level, instance },
      values,
    })),
  ];
}

/**
 * Seeds the demo into a running Irin whose data dir is `dataDir` (a fresh one: the demo refuses a
 * control plane that already has its tenants) and, with `live` (default), keeps its servers
 * pushing every 10 s until `close()`. Irin's prober must be allowed to reach 127.0.0.0/8.
 */
export async function seedDemo(
  url: string,
  dataDir: string,
  options: { live?: boolean } = {},
): Promise<Demo> {
  const now = Date.now();
  const plane = openControlPlane({ dataDir });
  await plane.store.ready();
  if (await plane.store.getTenantBySlug('acme')) {
    await plane.store.close();
    throw new Error(
      `the data dir ${dataDir} already has the demo tenants: start the demo on a fresh data dir`,
    );
  }
  const services: ServiceContext = {
    store: plane.store,
    hasher: plane.hasher,
    by: { actor: 'system', sourceAddr: null },
  };

  const acme = await createTenant(services, { slug: 'acme', displayName: 'Acme Inc.' });
  const globex = await createTenant(services, { slug: 'globex', displayName: 'Globex Corporation' });

  const lastStep = new Map<string, number>();
  const totp = (user: DemoUser) => {
    // Each time step is accepted once per user, and one step either side of now: start one step
    // back, then move forward, so three sign-ins in a row need no waiting.
    const step = Math.max(Math.floor(Date.now() / 30_000) - 1, (lastStep.get(user.email) ?? 0) + 1);
    lastStep.set(user.email, step);
    return currentTotp(user.totpSecret!, step * 30_000);
  };
  async function user(
    email: string,
    displayName: string,
    orgs: [string, 'viewer' | 'editor' | 'admin'][],
    mfa: boolean,
    platformAdmin = false,
  ): Promise<DemoUser> {
    await createUser(services, { email, displayName, password: DEMO_PASSWORD, platformAdmin });
    for (const [slug, role] of orgs) await addUserToOrg(services, email, slug, role);
    if (!mfa) return { email, password: DEMO_PASSWORD };
    const { otpauthUri } = await enrolMfa(services, email);
    const totpSecret = new URL(otpauthUri).searchParams.get('secret')!;
    const u = { email, password: DEMO_PASSWORD, totpSecret };
    await confirmMfa(services, email, totp(u));
    return u;
  }
  const users = {
    owner: await user('owner@acme.test', 'Ada Owner', [['acme', 'admin']], true),
    viewer: await user('dev@acme.test', 'Dev Viewer', [['acme', 'viewer']], false),
    bob: await user('bob@globex.test', 'Bob Globex', [['globex', 'admin']], true),
    ops: await user(
      'ops@irin.test',
      'Olga Ops',
      [
        ['acme', 'admin'],
        ['globex', 'viewer'],
      ],
      true,
      true,
    ),
  };

  // Websites the prober checks, on loopback (probe.allow_cidrs must include 127.0.0.0/8).
  const sites: Website[] = [];
  const site = async (status: number, body: string, tls?: { key: string; cert: string }) => {
    const s = await website(status, body, tls);
    sites.push(s);
    return s;
  };
  // Expires in 10 days: the console warns (under 14 days).
  const shopCert = selfSignedCert('shop.acme.test', 10);
  const shop = await site(200, '<h1>Acme shop</h1>', shopCert);
  const api = await site(200, '{"ok":true}');
  const billing = await site(503, 'maintenance');
  const globexSite = await site(200, '<h1>Globex</h1>');

  // Probe history first (oldest samples), through an org-wide push token.
  const acmePush = await createCredential(services, 'push', 'acme', { name: 'demo-probe-history' });
  const globexPush = await createCredential(services, 'push', 'globex', { name: 'demo-probe-history' });
  const day = (n: number) => now - n * DAY;
  const within = (t: number, from: number, to: number) => t >= from && t < to;
  const phases = { resolve: 0.002, connect: 0.004, tls: 0.018, processing: 0.065, transfer: 0.006 };
  await push(
    url,
    [
      ...probeHistory(
        'acme',
        'shop',
        shop.url,
        {
          since: day(30),
          down: (t) => within(t, day(9) - 3 * HOUR, day(9)) || within(t, day(3), day(3) + 40 * 60_000),
          gap: (t) => within(t, day(17), day(15)),
          phases,
          ...(shopCert ? { certExpiry: shopCert.notAfter } : {}),
        },
        now,
      ),
      ...probeHistory(
        'acme',
        'api',
        api.url,
        { since: day(7), down: () => false, phases: { ...phases, tls: 0 } },
        now,
      ),
      ...probeHistory(
        'acme',
        'billing',
        billing.url,
        {
          since: day(2),
          down: (t) => t >= now - 30 * 60_000,
          downStatus: 503,
          phases: { ...phases, tls: 0 },
        },
        now,
      ),
    ],
    acmePush.token,
  );
  await push(
    url,
    probeHistory(
      'globex',
      'globex-site',
      globexSite.url,
      { since: day(14), down: () => false, phases: { ...phases, tls: 0 } },
      now,
    ),
    globexPush.token,
  );

  // Servers, each with its own server-bound token; an hour of metrics history each.
  const servers: Demo['servers'] = {};
  const nodes: { node: SimulatedNode; token: string }[] = [];
  for (const [slug, name, cpus] of [
    ['acme', 'acme-web-1', 4],
    ['acme', 'acme-db-1', 8],
    ['globex', 'globex-app-1', 2],
  ] as const) {
    const { server, token } = await addServer(services, slug, { name });
    servers[name] = { id: server.id, token: token.token };
    const node = new SimulatedNode({ instance: name, cpus });
    nodes.push({ node, token: token.token });
    await push(url, nodeHistory(node, now - HOUR, now - 10_000, 30_000), token.token);
    await pushLogs(url, token.token, logLines(name, now));
  }

  // Endpoints last: the prober starts on them at once and must only add samples after the history.
  const endpoints: Demo['endpoints'] = {};
  const ep = async (slug: string, name: string, target: string, extra: Record<string, unknown> = {}) => {
    const e = await addEndpoint(services, slug, {
      name,
      url: target,
      intervalSeconds: 60,
      timeoutSeconds: 5,
      ...extra,
    });
    endpoints[name] = { id: e.id, url: target };
    return e;
  };
  await ep('acme', 'shop', shop.url, { tlsVerify: false });
  await ep('acme', 'api', api.url);
  await ep('acme', 'billing', billing.url);
  await ep('globex', 'globex-site', globexSite.url);
  const events = createJsonlEventStore(dataDir);
  const shopId = endpoints.shop!.id;
  await events.append(acme.id, {
    t: day(9) - 3 * HOUR,
    endpointId: shopId,
    state: 'down',
    statusCode: 0,
    reason: { code: 'timeout', detail: 'no response within 5 s' },
  });
  await events.append(acme.id, { t: day(9), endpointId: shopId, state: 'up', statusCode: 200, reason: null });
  await events.append(acme.id, {
    t: day(3),
    endpointId: shopId,
    state: 'down',
    statusCode: 502,
    reason: { code: 'status_mismatch', detail: 'status 502, expected 2xx' },
  });
  await events.append(acme.id, {
    t: day(3) + 40 * 60_000,
    endpointId: shopId,
    state: 'up',
    statusCode: 200,
    reason: null,
  });

  // Keep the servers "up": a scrape every 10 s, as an agent would push.
  let timer: NodeJS.Timeout | undefined;
  if (options.live !== false) {
    timer = setInterval(() => {
      const t = Date.now();
      for (const { node, token } of nodes)
        void push(url, node.scrape(t, 10_000), token).catch(() => undefined);
    }, 10_000);
    timer.unref();
    const t = Date.now();
    await Promise.all(nodes.map(({ node, token }) => push(url, node.scrape(t, 10_000), token)));
  }

  return {
    plane,
    services,
    orgs: { acme: { id: acme.id, slug: 'acme' }, globex: { id: globex.id, slug: 'globex' } },
    users,
    servers,
    endpoints,
    totp,
    async close() {
      if (timer) clearInterval(timer);
      await Promise.all(sites.map((s) => s.close()));
      await plane.store.close();
    },
  };
}

/** What to tell the person who started the demo: where to go and how to sign in. */
export function demoBanner(url: string, demo: Demo): string {
  const { viewer, owner, bob, ops } = demo.users;
  return [
    `Irin demo: open ${url}/console/`,
    `  ${viewer.email}  password "${viewer.password}"  (Acme Inc., viewer, no second factor)`,
    ...[owner, bob, ops].map(
      (u) =>
        `  ${u.email}  password "${u.password}"  TOTP secret ${u.totpSecret} (add it to an authenticator app)`,
    ),
    '  acme and globex each have simulated servers pushing metrics and logs every 10 s and probed websites.',
  ].join('\n');
}
