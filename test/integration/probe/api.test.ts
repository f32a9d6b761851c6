import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CredentialError } from '../../../src/auth/request-auth.ts';
import type { ReadPrincipal } from '../../../src/auth/principal.ts';
import { labelsFromRecord } from '../../../src/model/labels.ts';
import type { Querier } from '../../../src/tsdb/types.ts';
import { probeApiRoutes } from '../../../src/probe/api.ts';
import type { EndpointInfo } from '../../../src/probe/api.ts';
import { createMemoryEventStore } from '../../../src/probe/events.ts';
import { memoryQuerier } from './helpers.ts';

const MIN = 60_000;
const now = Date.parse('2026-03-03T12:00:00Z');
const endpoints: EndpointInfo[] = [
  {
    id: 1,
    tenantId: 10,
    name: 'Shop',
    url: 'https://shop.acme.test/',
    method: 'GET',
    intervalSeconds: 60,
    timeoutSeconds: 10,
    enabled: true,
  },
  {
    id: 2,
    tenantId: 10,
    name: 'Paused',
    url: 'https://old.acme.test/',
    method: 'GET',
    intervalSeconds: 60,
    timeoutSeconds: 10,
    enabled: false,
  },
  {
    id: 3,
    tenantId: 20,
    name: 'Other org',
    url: 'https://globex.test/',
    method: 'GET',
    intervalSeconds: 60,
    timeoutSeconds: 10,
    enabled: true,
  },
];
// Shop: up for the last 2 hours except 11:00–11:10, down again for the last 3 minutes.
const shopSamples: [number, number][] = [];
for (let t = now - 2 * 60 * MIN; t < now; t += MIN) {
  const down =
    (t >= Date.parse('2026-03-03T11:00:00Z') && t < Date.parse('2026-03-03T11:10:00Z')) || t >= now - 3 * MIN;
  shopSamples.push([t, down ? 0 : 1]);
}
const base = { tenant: 'acme', instance: 'https://shop.acme.test/', job: 'probe', endpoint: 'Shop' };
const queriers: Record<number, Querier> = {
  10: memoryQuerier([
    { labels: labelsFromRecord({ ...base, __name__: 'probe_success' }), samples: shopSamples },
    {
      labels: labelsFromRecord({ ...base, __name__: 'probe_http_status_code' }),
      samples: shopSamples.map(([t, v]) => [t, v ? 200 : 503]),
    },
    {
      labels: labelsFromRecord({ ...base, __name__: 'probe_duration_seconds' }),
      samples: shopSamples.map(([t]) => [t, 0.125]),
    },
  ]),
  20: memoryQuerier([]),
};
const events = createMemoryEventStore();

let app: FastifyInstance;
before(async () => {
  await events.append(10, {
    t: Date.parse('2026-03-03T11:00:00Z'),
    endpointId: 1,
    state: 'down',
    reason: { code: 'status_mismatch', detail: 'status 503, expected 2xx' },
    statusCode: 503,
  });
  await events.append(10, {
    t: Date.parse('2026-03-03T11:10:00Z'),
    endpointId: 1,
    state: 'up',
    reason: null,
    statusCode: 200,
  });
  await events.append(10, {
    t: now - 3 * MIN,
    endpointId: 1,
    state: 'down',
    reason: { code: 'timeout', detail: 'no answer within 10 s (stuck in processing)' },
    statusCode: 0,
  });
  app = Fastify();
  await probeApiRoutes(app, {
    authenticator: {
      async authenticateRead(request: FastifyRequest): Promise<ReadPrincipal> {
        const key = request.headers.authorization;
        if (key === 'Bearer acme')
          return {
            kind: 'read',
            tenantId: 10,
            tenantSlug: 'acme',
            actor: 'apikey:1',
            limits: {} as ReadPrincipal['limits'],
          };
        if (key === 'Bearer globex')
          return {
            kind: 'read',
            tenantId: 20,
            tenantSlug: 'globex',
            actor: 'apikey:2',
            limits: {} as ReadPrincipal['limits'],
          };
        throw new CredentialError(401, 'missing or invalid credential');
      },
    },
    endpointsFor: (tenantId) => endpoints.filter((e) => e.tenantId === tenantId),
    querierFor: (tenantId) => queriers[tenantId]!,
    eventsFor: (tenantId) => events.read(tenantId),
    now: () => now,
  });
});
after(() => app.close());

const get = (url: string, who = 'acme') =>
  app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${who}` } });

test("status of all endpoints of the caller's org only", async () => {
  const res = await get('/api/v1/endpoints/status');
  assert.equal(res.statusCode, 200);
  const data = res.json().data as {
    id: number;
    state: string;
    lastResult: { reason: { code: string } | null; statusCode: number; source: string } | null;
    uptime: Record<string, { uptimePercent: number | null; coverage: number }>;
  }[];
  assert.deepEqual(
    data.map((d) => d.id),
    [1, 2],
  );
  const shop = data[0]!;
  assert.equal(shop.state, 'down');
  assert.equal(shop.lastResult?.statusCode, 503);
  assert.equal(shop.lastResult?.source, 'tsdb');
  assert.equal(shop.lastResult?.reason?.code, 'timeout');
  // 2 h observed of 24 h; 13 minutes down.
  assert.equal(shop.uptime['24h']!.uptimePercent!.toFixed(4), ((100 * (120 - 13)) / 120).toFixed(4));
  assert.equal(shop.uptime['24h']!.coverage.toFixed(4), (2 / 24).toFixed(4));
  assert.equal(data[1]!.state, 'paused');
  assert.equal(JSON.stringify(res.json()).includes('globex'), false);
});

test("another org's endpoint answers 404, like a missing one", async () => {
  for (const path of ['status', 'uptime', 'calendar', 'incidents']) {
    const foreign = await get(`/api/v1/endpoints/3/${path}`);
    assert.equal(foreign.statusCode, 404, path);
    const missing = await get(`/api/v1/endpoints/999/${path}`);
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(Object.keys(foreign.json()), Object.keys(missing.json()));
  }
  assert.equal((await get('/api/v1/endpoints/3/status', 'globex')).statusCode, 200);
  assert.equal((await get('/api/v1/endpoints/1/status', 'globex')).statusCode, 404);
});

test('no credential: 401', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/v1/endpoints/status' });
  assert.equal(res.statusCode, 401);
  assert.equal(res.json().error, 'missing or invalid credential');
});

test('calendar with days and tz; bad tz and days are 400', async () => {
  const res = await get('/api/v1/endpoints/1/calendar?days=2&tz=Europe/Berlin');
  assert.equal(res.statusCode, 200);
  const body = res.json().data as {
    timeZone: string;
    days: { date: string; status: string; coverage: number }[];
  };
  assert.equal(body.timeZone, 'Europe/Berlin');
  // Berlin's Mar 3 began at 23:00 UTC; 2 h of its 13 elapsed hours were observed, 13 min of them
  // down (89 %): little coverage, but downtime that was seen is never hidden as "no data".
  assert.deepEqual(
    body.days.map((d) => [d.date, d.status]),
    [
      ['2026-03-02', 'no_data'],
      ['2026-03-03', 'down'],
    ],
  );
  assert.equal(body.days[1]!.coverage.toFixed(4), (2 / 13).toFixed(4));
  assert.equal((await get('/api/v1/endpoints/1/calendar?tz=Nowhere/Land')).statusCode, 400);
  assert.equal((await get('/api/v1/endpoints/1/calendar?days=0')).statusCode, 400);
  assert.match(
    (await get('/api/v1/endpoints/1/calendar?days=abc')).json().error,
    /days must be an integer from 1 to 366/,
  );
});

test('incidents with reasons, newest first; the current one is open', async () => {
  const res = await get('/api/v1/endpoints/1/incidents?days=7');
  assert.equal(res.statusCode, 200);
  const list = res.json().data as {
    start: number;
    end: number | null;
    open: boolean;
    durationSeconds: number;
    reason: { code: string } | null;
  }[];
  assert.equal(list.length, 2);
  assert.equal(list[0]!.open, true);
  assert.equal(list[0]!.reason?.code, 'timeout');
  assert.equal(list[1]!.start, Date.parse('2026-03-03T11:00:00Z'));
  assert.equal(list[1]!.end, Date.parse('2026-03-03T11:10:00Z'));
  assert.equal(list[1]!.durationSeconds, 600);
  assert.equal(list[1]!.reason?.code, 'status_mismatch');
});

test('uptime windows', async () => {
  const res = await get('/api/v1/endpoints/1/uptime');
  const body = res.json().data as { method: string; windows: Record<string, { downSeconds: number }> };
  assert.equal(body.method, 'time-weighted');
  assert.equal(body.windows['7d']!.downSeconds, 13 * 60);
  assert.deepEqual(Object.keys(body.windows), ['24h', '7d', '30d', '90d']);
});
