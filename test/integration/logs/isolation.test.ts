import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { LogSelectorExpr, MetricExpr } from '../../../src/logs/logql/ast.ts';
import { LogQLEngine } from '../../../src/logs/logql/engine.ts';
import { parseLogQL } from '../../../src/logs/logql/parser.ts';
import { injectTenantMatcher } from '../../../src/logs/logql/scope.ts';
import { LocalTenantLogStore } from '../../../src/logs/store/tenant-store.ts';
import { get, pushJson, pushProto, startHarness, TENANTS, type Harness } from './harness.ts';

/**
 * Tenant acme's read key, through every Loki endpoint and every query shape we could think of,
 * never sees anything of tenant globex — and each guard (injected tenant matcher, per-tenant
 * partition) holds on its own.
 */
let h: Harness;
const NOW = Date.now();
const ns = (o: number): string => (BigInt(NOW + o) * 1_000_000n).toString();
const SECRET = 'globex-secret-7731';

before(async () => {
  h = await startHarness();
  // globex writes its secret; and also tries to write into acme by forging the tenant label.
  assert.equal(
    (
      await pushJson(h.app, 'push:globex', {
        streams: [
          {
            stream: { job: 'billing', customer: 'globex-only-value' },
            values: [[ns(-20_000), `${SECRET} card=4111`]],
          },
          { stream: { job: 'shared', tenant: 'acme' }, values: [[ns(-10_000), `${SECRET} forged as acme`]] },
        ],
      })
    ).statusCode,
    204,
  );
  // acme tries the same the other way round.
  assert.equal(
    (
      await pushProto(h.app, 'push:acme', [
        { labels: '{job="shared", tenant="globex"}', entries: [{ ts: ns(-15_000), line: 'acme line' }] },
      ])
    ).statusCode,
    204,
  );
});
after(async () => h.close());

const window = { start: ns(-3600_000), end: ns(1000) };

function allText(body: string): string {
  return body;
}

describe('cross-tenant reads through every endpoint', () => {
  const logQueries = [
    '{tenant=~".+"}',
    '{tenant="globex"}',
    '{tenant!="acme", job=~".+"}',
    '{job=~".+"}',
    `{job=~".+"} |= "${SECRET}"`,
    '{customer="globex-only-value"}',
    '{tenant=~".+"} | label_format tenant="globex"',
    '{job=~".+"} | json | line_format "{{.tenant}}"',
    `{tenant=~"acme|globex"} |~ "${SECRET}|acme"`,
  ];

  for (const query of logQueries) {
    it(`query_range ${query}`, async () => {
      const r = await get(h.app, 'read:acme', '/loki/api/v1/query_range', {
        query,
        ...window,
        limit: '1000',
      });
      assert.equal(r.status, 200, r.body);
      assert.ok(!allText(r.body).includes(SECRET), 'no globex line');
      assert.ok(!r.body.includes('globex-only-value'), 'no globex label value');
      for (const s of r.json().data.result)
        assert.equal(s.stream.tenant === 'acme' || query.includes('label_format'), true);
    });
  }

  const metricQueries = [
    'sum by (tenant) (count_over_time({tenant=~".+"}[1h]))',
    'count_over_time({tenant="globex"}[1h])',
    `sum(count_over_time({job=~".+"} |= "${SECRET}" [1h]))`,
    'sum by (customer) (count_over_time({job="billing"}[1h]))',
    'absent_over_time({tenant="globex", job="billing"}[1h])',
    'topk(10, sum by (job, customer) (bytes_over_time({tenant=~".+"}[1h])))',
    'sum(count_over_time({tenant=~".+"}[1h])) or sum(count_over_time({tenant="globex"}[1h]))',
    'label_replace(sum by (tenant) (count_over_time({tenant=~".+"}[1h])), "x", "$1", "tenant", "(.*)")',
  ];
  for (const query of metricQueries) {
    it(`query ${query}`, async () => {
      const r = await get(h.app, 'read:acme', '/loki/api/v1/query', { query, time: ns(0) });
      assert.equal(r.status, 200, r.body);
      assert.ok(!r.body.includes('globex-only-value'), r.body);
      // absent_over_time echoes the query's own equality matchers (and says: nothing here for you).
      if (query.startsWith('absent'))
        assert.deepEqual(
          r.json().data.result.map((x: { value: [number, string] }) => x.value[1]),
          ['1'],
        );
      else assert.ok(!r.body.includes('billing'), r.body);
      const result = r.json().data.result as { metric: Record<string, string>; value: [number, string] }[];
      if (query.startsWith('sum by (tenant)'))
        assert.deepEqual(
          result.map((s) => [s.metric['tenant'], s.value[1]]),
          [['acme', '1']],
        );
      if (query.startsWith('count_over_time({tenant="globex"}')) assert.deepEqual(result, []);
      if (query.includes(SECRET)) assert.deepEqual(result, []);
    });
  }

  it('labels, label values, series and stats only show the caller', async () => {
    const labels = await get(h.app, 'read:acme', '/loki/api/v1/labels', window);
    assert.deepEqual(labels.json().data, ['job', 'tenant']);
    const tenants = await get(h.app, 'read:acme', '/loki/api/v1/label/tenant/values', window);
    assert.deepEqual(tenants.json().data, ['acme']);
    const customers = await get(h.app, 'read:acme', '/loki/api/v1/label/customer/values', {
      ...window,
      query: '{tenant="globex"}',
    });
    assert.deepEqual(customers.json().data, []);
    const series = await get(h.app, 'read:acme', '/loki/api/v1/series', {
      'match[]': ['{tenant=~".+"}', '{tenant="globex"}'],
      ...window,
    });
    assert.deepEqual(series.json().data, [{ job: 'shared', tenant: 'acme' }]);
    const stats = await get(h.app, 'read:acme', '/loki/api/v1/index/stats', {
      query: '{tenant=~".+"}',
      ...window,
    });
    assert.deepEqual(stats.json(), { streams: 1, chunks: 1, entries: 1, bytes: 'acme line'.length });
  });

  it('tenant-routing headers a client might set are ignored', async () => {
    const r = await h.app.inject({
      method: 'GET',
      url: `/loki/api/v1/query_range?query=${encodeURIComponent('{tenant=~".+"}')}&start=${window.start}&end=${window.end}`,
      headers: {
        authorization: 'Bearer read:acme',
        'x-scope-orgid': 'globex',
        'x-prom-label-policy': 'globex:tenant="globex"',
      },
    });
    assert.ok(!r.body.includes(SECRET));
    assert.ok(r.body.includes('acme line'));
  });

  it('forged tenant labels on push land in the pusher own tenant', async () => {
    const g = await get(h.app, 'read:globex', '/loki/api/v1/query_range', {
      query: '{job="shared"}',
      ...window,
    });
    const lines = g.json().data.result.flatMap((s: { values: string[][] }) => s.values.map((v) => v[1]));
    assert.deepEqual(
      lines,
      [`${SECRET} forged as acme`],
      'globex sees its own forged line, under tenant=globex',
    );
    assert.equal(g.json().data.result[0].stream.tenant, 'globex');
  });

  it('tail {tenant=~".+"} streams only the caller own lines', async () => {
    const ws = new WebSocket(
      `${h.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{tenant=~".+"}')}&start=${ns(-3600_000)}`,
      {
        headers: { authorization: 'Bearer read:acme' },
      },
    );
    const received: string[] = [];
    ws.on('message', (d) => received.push(String(d)));
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    await pushJson(h.app, 'push:globex', {
      streams: [{ stream: { job: 'live' }, values: [[ns(0), `${SECRET} live`]] }],
    });
    await pushJson(h.app, 'push:acme', {
      streams: [{ stream: { job: 'live' }, values: [[ns(0), 'acme live']] }],
    });
    const deadline = Date.now() + 5000;
    while (!received.join('').includes('acme live') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    ws.close();
    assert.ok(received.join('').includes('acme live'));
    assert.ok(!received.join('').includes(SECRET));
  });
});

describe('each guard holds alone', () => {
  it('partition guard: without the injected matcher the engine still only reads its own tenant partition', async () => {
    const acme = await h.partitions.get(TENANTS['acme']!);
    const engine = new LogQLEngine(acme.querier());
    const res = await engine.selectLogs(parseLogQL('{tenant="globex"}') as LogSelectorExpr, {
      startMs: NOW - 3600_000,
      startNs: 0,
      endMs: NOW + 1000,
      endNs: 0,
      limit: 100,
      direction: 'forward',
    });
    assert.deepEqual(res, []);
    const all = await new LogQLEngine(acme.querier()).evalInstant(
      parseLogQL('sum by (tenant) (count_over_time({job=~".+"}[1h]))') as MetricExpr,
      NOW,
    );
    assert.ok(all.type === 'vector' && all.samples.every((s) => s.labels[0]?.value === 'acme'));
  });

  it('matcher guard: with one shared store, the injected matcher alone keeps tenants apart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irin-shared-'));
    const shared = await LocalTenantLogStore.open(dir, { maintenanceIntervalMs: 0 });
    try {
      await shared.append({
        streams: [
          {
            labels: [
              { name: 'job', value: 'x' },
              { name: 'tenant', value: 'acme' },
            ],
            entries: [{ ms: NOW, ns: 0, line: Buffer.from('acme') }],
          },
          {
            labels: [
              { name: 'job', value: 'x' },
              { name: 'tenant', value: 'globex' },
            ],
            entries: [{ ms: NOW, ns: 0, line: Buffer.from(SECRET) }],
          },
        ],
        outOfOrderWindowMs: 3600_000,
        maxActiveStreams: 10,
        nowMs: NOW,
      });
      for (const q of ['{tenant=~".+"}', '{job="x"}', '{tenant="globex"}', `{job="x"} |= "${SECRET}"`]) {
        const expr = injectTenantMatcher(parseLogQL(q) as LogSelectorExpr, 'tenant', 'acme');
        const res = await new LogQLEngine(shared.querier()).selectLogs(expr, {
          startMs: NOW - 1000,
          startNs: 0,
          endMs: NOW + 1000,
          endNs: 0,
          limit: 100,
          direction: 'forward',
        });
        const lines = res.flatMap((s) => s.entries.map((e) => e.line));
        assert.ok(!lines.includes(SECRET), q);
      }
    } finally {
      await shared.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
