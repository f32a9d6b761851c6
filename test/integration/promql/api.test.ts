import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { auth, buildApiApp, T0 } from './api-harness.ts';

const NOW_S = (T0 + 30 * 60_000) / 1000;

interface ApiBody {
  status: string;
  errorType?: string;
  error?: string;
  data?: unknown;
}

async function get(
  app: FastifyInstance,
  url: string,
  headers = auth('acme'),
): Promise<{ status: number; body: ApiBody; raw: string }> {
  const res = await app.inject({ method: 'GET', url: `/prometheus${url}`, headers });
  return { status: res.statusCode, body: JSON.parse(res.body) as ApiBody, raw: res.body };
}

async function postForm(app: FastifyInstance, url: string, form: string, headers = auth('acme')) {
  const res = await app.inject({
    method: 'POST',
    url: `/prometheus${url}`,
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    payload: form,
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as ApiBody, raw: res.body };
}

const q = (query: string): string => encodeURIComponent(query);

describe('Prometheus API: response shapes', () => {
  let app: FastifyInstance;
  before(async () => ({ app } = await buildApiApp()));
  after(() => app.close());

  it('answers an instant vector query', async () => {
    const r = await get(app, `/api/v1/query?query=${q('up')}&time=${NOW_S}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          {
            metric: { __name__: 'up', instance: 'acme-1', job: 'node', tenant: 'acme' },
            value: [NOW_S, '0'],
          },
        ],
      },
    });
  });

  it('answers scalars and strings, with Prometheus number formats', async () => {
    const s = await get(app, `/api/v1/query?query=${q('1/0')}&time=1700000000.5`);
    assert.equal(
      s.raw,
      '{"status":"success","data":{"resultType":"scalar","result":[1700000000.500,"+Inf"]}}',
    );
    const small = await get(app, `/api/v1/query?query=${q('1e-7')}&time=1700000000.05`);
    assert.equal(
      small.raw,
      '{"status":"success","data":{"resultType":"scalar","result":[1700000000.050,"1e-07"]}}',
    );
    const str = await get(app, `/api/v1/query?query=${q('"hello"')}&time=1700000000`);
    assert.deepEqual(str.body.data, { resultType: 'string', result: [1700000000, 'hello'] });
  });

  it('answers range queries with a matrix, GET and form POST alike', async () => {
    const params = `query=${q('sum(http_requests_total)')}&start=${T0 / 1000}&end=${T0 / 1000 + 60}&step=30s`;
    const viaGet = await get(app, `/api/v1/query_range?${params}`);
    const viaPost = await postForm(app, '/api/v1/query_range', params);
    assert.equal(viaGet.status, 200);
    assert.deepEqual(viaGet.body, viaPost.body);
    assert.deepEqual(viaGet.body.data, {
      resultType: 'matrix',
      result: [
        {
          metric: {},
          values: [
            [T0 / 1000, '0'],
            [T0 / 1000 + 30, '6'],
            [T0 / 1000 + 60, '12'],
          ],
        },
      ],
    });
  });

  it('answers an instant query of a range vector with raw samples', async () => {
    const r = await get(app, `/api/v1/query?query=${q('up[30s]')}&time=${T0 / 1000 + 30}`);
    assert.deepEqual(r.body.data, {
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'up', instance: 'acme-1', job: 'node', tenant: 'acme' },
          values: [
            [T0 / 1000, '0'],
            [T0 / 1000 + 15, '0'],
            [T0 / 1000 + 30, '0'],
          ],
        },
      ],
    });
  });

  it('lists series, label names and label values', async () => {
    const series = await get(app, `/api/v1/series?match[]=${q('http_requests_total')}&match[]=${q('up')}`);
    assert.deepEqual(series.body.data, [
      { __name__: 'http_requests_total', instance: 'acme-1', job: 'api', tenant: 'acme' },
      { __name__: 'http_requests_total', instance: 'acme-2', job: 'api', tenant: 'acme' },
      { __name__: 'up', instance: 'acme-1', job: 'node', tenant: 'acme' },
    ]);
    const names = await get(app, '/api/v1/labels');
    assert.deepEqual(names.body.data, ['__name__', 'instance', 'job', 'label_only', 'le', 'tenant']);
    const jobValues = await get(app, `/api/v1/label/job/values?match[]=${q('up')}`);
    assert.deepEqual(jobValues.body.data, ['node']);
    const badName = await get(app, '/api/v1/label/bad-name/values');
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error, 'invalid label name: "bad-name"');
  });

  it('formats queries, reports build info, answers exemplars and metadata', async () => {
    const f = await get(app, `/api/v1/format_query?query=${q('sum(rate(x{b="1",a="2"}[5m]))by(job)')}`);
    assert.equal(f.body.data, 'sum by (job) (rate(x{a="2",b="1"}[5m]))');
    const b = await get(app, '/api/v1/status/buildinfo');
    assert.equal((b.body.data as { version: string }).version, '2.42.0');
    const e = await get(app, `/api/v1/query_exemplars?query=${q('up')}`);
    assert.deepEqual(e.body, { status: 'success', data: [] });
    const m = await get(app, '/api/v1/metadata');
    assert.deepEqual(m.body, { status: 'success', data: {} });
  });

  it('passes Grafana’s data source test with a read key', async () => {
    assert.equal((await get(app, `/api/v1/query?query=${q('1+1')}&time=${NOW_S}`)).status, 200);
    assert.equal((await get(app, '/api/v1/status/buildinfo')).status, 200);
    assert.equal((await get(app, '/api/v1/labels')).status, 200);
  });
});

describe('Prometheus API: series listing without samples', () => {
  it('uses the querier’s labels-only listing when it has one', async () => {
    const { app, queriers, listSeriesCalls } = await buildApiApp({ listSeries: true });
    try {
      const before = queriers.get(1)!.selectCalls;
      const r = await get(
        app,
        `/api/v1/series?match[]=${q('up')}&match[]=${q('http_requests_total{instance="acme-2"}')}`,
      );
      assert.deepEqual(r.body.data, [
        { __name__: 'http_requests_total', instance: 'acme-2', job: 'api', tenant: 'acme' },
        { __name__: 'up', instance: 'acme-1', job: 'node', tenant: 'acme' },
      ]);
      assert.equal(listSeriesCalls.count, 2);
      // The wrapper's listing reads through select() itself: two calls, none from the route.
      assert.equal(queriers.get(1)!.selectCalls - before, 2);
    } finally {
      await app.close();
    }
  });
});

describe('Prometheus API: errors', () => {
  let app: FastifyInstance;
  before(
    async () =>
      ({ app } = await buildApiApp({ limits: { maxQueryRangeMs: 24 * 3600_000, maxQuerySamples: 5000 } })),
  );
  after(() => app.close());

  const cases: [string, string, number, string, RegExp][] = [
    [
      'a parse error',
      `/api/v1/query?query=${q('sum(')}`,
      400,
      'bad_data',
      /^invalid parameter "query": 1:5: parse error/,
    ],
    ['an empty query', '/api/v1/query', 400, 'bad_data', /no expression found in input/],
    ['a type error', `/api/v1/query?query=${q('rate(up)')}`, 400, 'bad_data', /expected type range vector/],
    [
      'many-to-many matching',
      `/api/v1/query?query=${q('http_requests_total + on(job) http_requests_total')}&time=${NOW_S}`,
      422,
      'execution',
      /many-to-many matching not allowed/,
    ],
    [
      'a bad time',
      `/api/v1/query?query=up&time=yesterday`,
      400,
      'bad_data',
      /invalid parameter "time": Invalid time value for 'time': cannot parse "yesterday"/,
    ],
    [
      'a range vector range query',
      `/api/v1/query_range?query=${q('up[5m]')}&start=1&end=2&step=1`,
      400,
      'bad_data',
      /invalid expression type "range vector" for range query/,
    ],
    [
      'end before start',
      '/api/v1/query_range?query=up&start=10&end=1&step=1',
      400,
      'bad_data',
      /end timestamp must not be before start time/,
    ],
    [
      'a zero step',
      '/api/v1/query_range?query=up&start=1&end=10&step=0',
      400,
      'bad_data',
      /zero or negative query resolution step/,
    ],
    [
      'too many points',
      '/api/v1/query_range?query=up&start=0&end=11001&step=1',
      400,
      'bad_data',
      /exceeded maximum resolution of 11,000 points/,
    ],
    [
      'a range longer than the tenant limit',
      '/api/v1/query_range?query=up&start=0&end=90000&step=60',
      400,
      'bad_data',
      /maxQueryRangeMs=1d/,
    ],
    [
      'a selector window longer than the tenant limit',
      `/api/v1/query?query=${q('rate(up[2d])')}`,
      400,
      'bad_data',
      /maxQueryRangeMs=1d/,
    ],
    [
      'too many samples',
      `/api/v1/query?query=${q('max_over_time(http_requests_total[30m:100ms])')}&time=${NOW_S}`,
      422,
      'execution',
      /maxQuerySamples=5000/,
    ],
    ['series without match[]', '/api/v1/series', 400, 'bad_data', /no match\[\] parameter provided/],
    [
      'an empty-matching match[]',
      `/api/v1/series?match[]=${q('{job=~".*"}')}`,
      400,
      'bad_data',
      /match\[\] must contain at least one non-empty matcher/,
    ],
    ['a bad match[]', `/api/v1/labels?match[]=${q('up{')}`, 400, 'bad_data', /invalid parameter "match\[\]"/],
    ['a non-numeric metadata limit', '/api/v1/metadata?limit=x', 400, 'bad_data', /limit must be a number/],
  ];
  for (const [what, url, status, errorType, message] of cases) {
    it(`answers ${status} ${errorType} for ${what}`, async () => {
      const r = await get(app, url);
      assert.equal(r.status, status, r.raw);
      assert.equal(r.body.status, 'error');
      assert.equal(r.body.errorType, errorType);
      assert.match(r.body.error ?? '', message);
    });
  }

  it('times out with 503 timeout at the requested timeout', async () => {
    const r = await get(
      app,
      `/api/v1/query_range?query=${q('max_over_time(up[30m:1s])')}&start=${T0 / 1000}&end=${NOW_S}&step=1&timeout=0.001`,
    );
    assert.equal(r.status, 503, r.raw);
    assert.equal(r.body.errorType, 'timeout');
    assert.match(r.body.error ?? '', /timed out.*limit: timeout=1ms/);
  });

  it('answers unknown API paths with 404 in Prometheus’s error format', async () => {
    for (const [method, url] of [
      ['GET', '/prometheus/api/v1/rules'],
      ['GET', '/prometheus/api/v1/admin/tsdb/snapshot'],
      ['DELETE', '/prometheus/api/v1/series'],
      ['GET', '/prometheus/api/v2/query'],
    ] as const) {
      const res = await app.inject({ method, url, headers: auth('acme') });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.equal((JSON.parse(res.body) as ApiBody).errorType, 'not_found');
    }
  });

  it('answers credential problems with their status and no data', async () => {
    const none = await get(app, '/api/v1/query?query=up', {});
    assert.equal(none.status, 401);
    assert.equal(none.body.status, 'error');
    const push = await get(app, '/api/v1/query?query=up', { authorization: 'Bearer push-acme' });
    assert.equal(push.status, 403);
    const throttled = await app.inject({
      url: '/prometheus/api/v1/labels',
      headers: { authorization: 'Bearer throttled' },
    });
    assert.equal(throttled.statusCode, 429);
    assert.equal(throttled.headers['retry-after'], '7');
  });
});

describe('Prometheus API: request hygiene', () => {
  let app: FastifyInstance;
  before(async () => ({ app } = await buildApiApp()));
  after(() => app.close());

  it('refuses a parameter given in both the URL and the form body', async () => {
    for (const [url, form] of [
      [`/api/v1/query?query=up`, `query=${q('globex_secret_metric')}`],
      [`/api/v1/series?match[]=up`, `match[]=${q('{__name__=~".+"}')}`],
      [`/api/v1/query_range?start=1`, `query=up&start=2&end=3&step=1`],
    ] as const) {
      const r = await postForm(app, url, form);
      assert.equal(r.status, 400, `${url} + ${form}`);
      assert.equal(r.body.errorType, 'bad_data');
      assert.match(r.body.error ?? '', /both in the URL and in the form body/);
    }
  });

  it('refuses a repeated single-valued parameter but accepts repeated match[]', async () => {
    const r = await get(app, `/api/v1/query?query=up&query=${q('{__name__=~".+"}')}`);
    assert.equal(r.status, 400);
    assert.match(r.body.error ?? '', /"query" is given more than once/);
    const s = await get(app, `/api/v1/series?match[]=up&match[]=http_requests_total`);
    assert.equal(s.status, 200);
    const form = await postForm(app, '/api/v1/series', 'match[]=up&match[]=http_requests_total');
    assert.deepEqual(form.body, s.body);
  });

  it('refuses bodies that are not forms', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/prometheus/api/v1/query',
      headers: { ...auth('acme'), 'content-type': 'application/json' },
      payload: '{"query":"up"}',
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /unsupported request body content type/);
  });

  it('ignores tenant-routing headers', async () => {
    for (const header of ['x-scope-orgid', 'thanos-tenant', 'x-tenant-id', 'x-irin-tenant']) {
      const r = await get(app, `/api/v1/query?query=${q('{__name__=~".+"}')}&time=${NOW_S}`, {
        ...auth('acme'),
        [header]: 'globex',
      });
      assert.equal(r.status, 200);
      assert.doesNotMatch(r.raw, /globex/);
      assert.match(r.raw, /acme/);
    }
  });
});

describe('Prometheus API: fairness', () => {
  let app: FastifyInstance;
  before(async () => ({ app } = await buildApiApp()));
  after(() => app.close());

  it('answers another tenant’s small queries while a heavy query runs', async () => {
    const heavyStarted = performance.now();
    let heavyDone = 0;
    const heavy = get(
      app,
      `/api/v1/query_range?query=${q('quantile_over_time(0.5, http_requests_total[30m:25ms])')}&start=${T0 / 1000}&end=${NOW_S}&step=15`,
    ).then((r) => {
      heavyDone = performance.now();
      return r;
    });
    const light: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await get(app, `/api/v1/query?query=${q('up')}&time=${NOW_S}`, auth('globex'));
      assert.equal(r.status, 200);
      light.push(performance.now() - t);
    }
    const lightDone = performance.now();
    const heavyResult = await heavy;
    assert.equal(heavyResult.status, 200, heavyResult.raw.slice(0, 200));
    const heavyMs = heavyDone - heavyStarted;
    assert.ok(heavyMs > 100, `the heavy query should take a while (took ${heavyMs.toFixed(0)} ms)`);
    assert.ok(lightDone < heavyDone, 'the small queries finished only after the heavy one');
    assert.ok(
      Math.max(...light) < heavyMs / 2,
      `small queries took ${light.map((x) => x.toFixed(0)).join(', ')} ms during a ${heavyMs.toFixed(0)} ms query`,
    );
  });
});

describe('Prometheus API: one tenant never sees another', () => {
  for (const sharedStorage of [false, true]) {
    describe(sharedStorage ? 'with the storage partition layer switched off' : 'with every layer on', () => {
      let app: FastifyInstance;
      const metadataCalls: number[] = [];
      before(
        async () =>
          ({ app } = await buildApiApp({
            sharedStorage,
            metadataFor: (tenantId) => {
              metadataCalls.push(tenantId);
              return { [`tenant_${tenantId}_metric`]: [{ type: 'counter', help: 'h', unit: '' }] };
            },
          })),
      );
      after(() => app.close());

      const probes = [
        `/api/v1/query?query=${q('{__name__=~".+"}')}&time=${NOW_S}`,
        `/api/v1/query?query=${q('{tenant="globex"}')}&time=${NOW_S}`,
        `/api/v1/query?query=${q('{tenant=~".+"} or globex_secret_metric')}&time=${NOW_S}`,
        `/api/v1/query?query=${q('up unless {__name__=~".+",tenant!="acme"}')}&time=${NOW_S}`,
        `/api/v1/query?query=${q('label_replace({__name__=~".+"}, "tenant", "other", "", "")')}&time=${NOW_S}`,
        `/api/v1/query?query=${q('count_values("tenant", up) or absent(globex_secret_metric)')}&time=${NOW_S}`,
        `/api/v1/query?query=${q('max_over_time({tenant=~"glo.*"}[10m:1m])')}&time=${NOW_S}`,
        `/api/v1/query?query=${q('sum by (tenant, __name__, label_only) ({__name__=~".+"})')}&time=${NOW_S}`,
        `/api/v1/query_range?query=${q('sum by (tenant, instance) ({__name__=~".+",tenant!="acme"} or {__name__=~".+"})')}&start=${T0 / 1000}&end=${NOW_S}&step=60`,
        `/api/v1/series?match[]=${q('{__name__=~".+"}')}`,
        `/api/v1/series?match[]=${q('{tenant="globex"}')}&match[]=${q('globex_secret_metric')}`,
        '/api/v1/labels',
        `/api/v1/labels?match[]=${q('{tenant=~".+"}')}`,
        '/api/v1/label/__name__/values',
        '/api/v1/label/tenant/values',
        '/api/v1/label/label_only/values',
        '/api/v1/label/instance/values?match[]=' + q('{__name__=~".+",tenant!="acme"}'),
        '/api/v1/metadata',
      ];
      for (const url of probes) {
        it(`keeps ${decodeURIComponent(url)} within acme`, async () => {
          const r = await get(app, url);
          assert.equal(r.status, 200, r.raw);
          assert.doesNotMatch(r.raw, /globex|tenant_2_/, 'the other tenant shows through');
        });
      }

      it('asks metadata for the caller’s tenant only', () => {
        assert.ok(metadataCalls.length > 0);
        assert.ok(metadataCalls.every((id) => id === 1));
      });

      it('shows globex its own data with its own key', async () => {
        const r = await get(app, '/api/v1/label/__name__/values', auth('globex'));
        assert.match(r.raw, /globex_secret_metric/);
        assert.doesNotMatch(r.raw, /acme/);
      });
    });
  }
});
