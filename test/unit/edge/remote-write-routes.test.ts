import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CredentialError } from '../../../src/auth/request-auth.ts';
import { getLabel } from '../../../src/model/labels.ts';
import { isStaleNaN, staleNaN } from '../../../src/model/samples.ts';
import {
  bits,
  body,
  encodeRequest,
  metricValue,
  NOW,
  push,
  snappyBody,
  startEdge,
  type TestEdge,
} from './helpers.ts';

const up = (labels: Record<string, string> = {}, t = NOW, v = 1) => ({
  labels: { __name__: 'up', job: 'node', ...labels },
  samples: [{ t, v }],
});

describe('remote write: success and label enforcement', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge();
  });
  after(() => edge.close());

  it('stores samples with the enforced tenant label and answers 204 on both paths', async () => {
    const r1 = await push(edge, body([up({ instance: 'a' })]));
    assert.equal(r1.statusCode, 204, r1.body);
    assert.equal(r1.body, '');
    const r2 = await push(edge, body([up({ instance: 'b' })]), { url: '/api/v1/push' });
    assert.equal(r2.statusCode, 204, r2.body);
    const stored = edge.tsdb.find({ __name__: 'up', job: 'node' });
    assert.equal(stored.length, 2);
    for (const s of stored) assert.equal(getLabel(s.labels, 'tenant'), 'acme');
    assert.equal(await metricValue(edge.registry, 'irin_ingest_samples_total', { tenant: 'acme' }), 2);
  });

  it('overwrites a forged tenant label with the token tenant (default overwrite policy)', async () => {
    const r = await push(edge, body([up({ tenant: 'globex', instance: 'forged' })]));
    assert.equal(r.statusCode, 204, r.body);
    assert.equal(edge.tsdbs.get(2)?.series.size ?? 0, 0, 'nothing lands in the forged tenant');
    const [s] = edge.tsdb.find({ instance: 'forged' });
    assert.ok(s);
    assert.equal(getLabel(s.labels, 'tenant'), 'acme');
  });

  it('pins instance for a server-bound token: it cannot write as another instance', async () => {
    const r = await push(edge, body([up({ instance: 'db-9', probe: 'x' })]), { token: 't-web1' });
    assert.equal(r.statusCode, 204, r.body);
    const [s] = edge.tsdb.find({ probe: 'x' });
    assert.ok(s);
    assert.equal(getLabel(s.labels, 'instance'), 'web-1');
    assert.equal(edge.tsdb.find({ instance: 'db-9' }).length, 0);
  });

  it('sorts unsorted labels, drops empty values, keeps the stale marker bits, accepts NaN and ±Inf', async () => {
    const stale = staleNaN();
    const r = await push(
      edge,
      body([
        {
          labels: [
            ['zone', 'z1'],
            ['__name__', 'temp'],
            ['empty', ''],
            ['abc', 'x'],
          ],
          samples: [
            { t: NOW - 4000, v: 1 },
            { t: NOW - 3000, v: NaN },
            { t: NOW - 2000, v: Infinity },
            { t: NOW - 1000, v: -Infinity },
            { t: NOW, v: stale },
          ],
        },
      ]),
    );
    assert.equal(r.statusCode, 204, r.body);
    const [s] = edge.tsdb.find({ __name__: 'temp' });
    assert.ok(s);
    assert.deepEqual(
      s.labels.map((l) => l.name),
      ['__name__', 'abc', 'tenant', 'zone'],
    );
    assert.equal(s.v.length, 5);
    assert.ok(Number.isNaN(s.v[1]!) && !isStaleNaN(s.v[1]!));
    assert.equal(s.v[2], Infinity);
    assert.equal(s.v[3], -Infinity);
    assert.ok(isStaleNaN(s.v[4]!), `stale marker preserved, got bits ${bits(s.v[4]!)}`);
    assert.equal(bits(s.v[4]!), '7ff0000000000002');
  });

  it('keeps concurrent requests apart (the decoder state is reused between requests)', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        push(
          edge,
          body([
            {
              labels: { __name__: 'conc', req: String(i) },
              samples: Array.from({ length: i + 1 }, (_, k) => ({ t: NOW - 60_000 + k, v: i * 100 + k })),
            },
          ]),
          { token: i % 2 ? 't-acme' : 't-globex' },
        ),
      ),
    );
    for (const r of results) assert.equal(r.statusCode, 204, r.body);
    for (let i = 0; i < 12; i++) {
      const [s] = (i % 2 ? edge.tsdb : edge.tsdbs.get(2)!).find({ __name__: 'conc', req: String(i) });
      assert.ok(s, `request ${i} stored`);
      assert.deepEqual(
        [...s.v],
        Array.from({ length: i + 1 }, (_, k) => i * 100 + k),
      );
      assert.equal(getLabel(s.labels, 'tenant'), i % 2 ? 'acme' : 'globex');
    }
  });

  it('answers 204 to an empty WriteRequest (how 2.0 senders probe the receiver)', async () => {
    const r = await push(edge, snappyBody(new Uint8Array(0)));
    assert.equal(r.statusCode, 204, r.body);
  });

  it('does not touch other routes: the raw-body parser is scoped to the plugin', async () => {
    const { default: Fastify } = await import('fastify');
    const { remoteWriteRoutes } = await import('../../../src/edge/remote-write-routes.ts');
    const app = Fastify();
    app.post('/json', async (req) => ({ got: req.body }));
    await app.register(remoteWriteRoutes, {
      authenticator: edge.auth,
      tsdbFor: async () => edge.tsdb,
      enforcement: { tenantLabel: 'tenant', onConflict: 'overwrite' },
      registry: edge.registry,
      metadata: edge.metadata,
    });
    const r = await app.inject({ method: 'POST', url: '/json', payload: { a: 1 } });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { got: { a: 1 } });
    await app.close();
  });
});

describe('remote write: label conflict policy reject', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge({ enforcement: { tenantLabel: 'org', onConflict: 'reject' } });
  });
  after(() => edge.close());

  it('refuses the conflicting series with 400 naming the label, stores the others', async () => {
    const r = await push(
      edge,
      body([up({ org: 'globex', instance: 'a' }), up({ org: 'acme', instance: 'b' }), up({ instance: 'c' })]),
    );
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /tenant "acme"/);
    assert.match(r.body, /org="globex"/);
    assert.match(r.body, /may only write org="acme"/);
    assert.match(r.body, /1 of 3 samples refused, 2 stored/);
    assert.deepEqual(
      edge.tsdb
        .find({ __name__: 'up' })
        .map((s) => getLabel(s.labels, 'instance'))
        .sort(),
      ['b', 'c'],
    );
    for (const s of edge.tsdb.find({ __name__: 'up' })) assert.equal(getLabel(s.labels, 'org'), 'acme');
  });

  it('refuses a server-bound token writing another instance', async () => {
    const r = await push(edge, body([up({ instance: 'db-9' })]), { token: 't-web1' });
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /server "web-1"/);
    assert.match(r.body, /instance="db-9"/);
    assert.equal(edge.tsdb.find({ instance: 'db-9' }).length, 0);
    assert.equal(edge.reports.at(-1)?.reason, 'label_conflict');
    assert.equal(edge.reports.at(-1)?.status, 400);
    assert.equal(edge.reports.at(-1)?.serverId, 7);
  });
});

describe('remote write: validation, partial success', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge({
      limits: { maxLabelNamesPerSeries: 5, maxLabelNameLength: 20, maxLabelValueLength: 30 },
    });
  });
  after(() => edge.close());

  const cases: [string, Record<string, string> | [string, string][], RegExp][] = [
    ['missing_metric_name', { job: 'x' }, /no metric name/],
    ['invalid_metric_name', { __name__: '1up' }, /metric name "1up" is invalid/],
    ['invalid_label_name', { __name__: 'up', 'bad-name': 'x' }, /label name "bad-name" is invalid/],
    ['reserved_label_name', { __name__: 'up', __meta_x: 'x' }, /"__meta_x" is reserved/],
    [
      'duplicate_label_name',
      [
        ['__name__', 'up'],
        ['job', 'a'],
        ['job', 'b'],
      ],
      /"job" appears more than once/,
    ],
    [
      'max_label_names_per_series',
      { __name__: 'up', a: '1', b: '2', c: '3', d: '4' },
      /6 labels .* maxLabelNamesPerSeries=5/,
    ],
    [
      'label_name_too_long',
      { __name__: 'up', ['n'.repeat(21)]: 'x' },
      /21 characters long, over the limit maxLabelNameLength=20/,
    ],
    [
      'label_value_too_long',
      { __name__: 'up', a: 'é'.repeat(31) },
      /31 characters long, over the limit maxLabelValueLength=30/,
    ],
  ];

  for (const [reason, labels, message] of cases) {
    it(`${reason}: 400 naming the series and the limit, valid series stored`, async () => {
      const marker = `ok-${reason}`;
      const r = await push(edge, body([{ labels, samples: [{ t: NOW, v: 1 }] }, up({ instance: marker })]));
      assert.equal(r.statusCode, 400, r.body);
      assert.match(r.body, message);
      assert.match(r.body, /^tenant "acme" \(tenant-wide token\): 1 of 2 samples refused, 1 stored/);
      assert.equal(edge.tsdb.find({ instance: marker }).length, 1, 'the valid series is stored');
      assert.equal(edge.reports.at(-1)?.reason, reason);
      assert.match(edge.reports.at(-1)!.message, /tenant "acme"/);
      assert.ok(
        (await metricValue(edge.registry, 'irin_ingest_discarded_samples_total', {
          tenant: 'acme',
          reason,
        })) >= 1,
      );
      assert.ok(
        (await metricValue(edge.registry, 'irin_ingest_rejections_total', { tenant: 'acme', reason })) >= 1,
      );
    });
  }

  it('refuses samples too far in the future, keeps the others of the same series', async () => {
    const r = await push(
      edge,
      body([
        {
          labels: { __name__: 'future', job: 'x' },
          samples: [
            { t: NOW - 1000, v: 1 },
            { t: NOW + 9 * 60_000, v: 2 },
            { t: NOW + 11 * 60_000, v: 3 },
          ],
        },
      ]),
    );
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /too far in the future, more than creationGracePeriodMs=600000/);
    assert.match(r.body, /1 of 3 samples refused, 2 stored/);
    assert.deepEqual(edge.tsdb.find({ __name__: 'future' })[0]?.t, [NOW - 1000, NOW + 9 * 60_000]);
  });

  it('refuses native histograms with a clear 400, stores the float samples', async () => {
    const r = await push(
      edge,
      body([{ labels: { __name__: 'lat', job: 'x' }, histograms: 2 }, up({ instance: 'hist-ok' })]),
    );
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /native histograms are not supported/);
    assert.equal(edge.tsdb.find({ instance: 'hist-ok' }).length, 1);
  });

  it('ignores exemplars', async () => {
    const r = await push(edge, body([{ ...up({ instance: 'ex' }), exemplars: 2 }]));
    assert.equal(r.statusCode, 204, r.body);
  });

  it('names the first few problems and counts the rest', async () => {
    const bad = Array.from({ length: 12 }, (_, i) => ({
      labels: { __name__: `${i}bad` },
      samples: [{ t: NOW, v: 1 }],
    }));
    const r = await push(edge, body(bad));
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /12 of 12 samples refused, 0 stored; 12 problems, the first 5:/);
    assert.equal(r.body.trim().split('\n').length, 6);
  });

  it('answers 400 to out-of-order and duplicate samples reported by the TSDB', async () => {
    assert.equal((await push(edge, body([up({ instance: 'ooo' }, NOW, 1)]))).statusCode, 204);
    const r = await push(
      edge,
      body([up({ instance: 'ooo' }, NOW - 5000, 1), up({ instance: 'ooo2' }, NOW, 1)]),
    );
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /out of order/);
    const d = await push(edge, body([up({ instance: 'ooo' }, NOW, 2)]));
    assert.equal(d.statusCode, 400);
    assert.match(d.body, /different value is already stored/);
    const same = await push(edge, body([up({ instance: 'ooo' }, NOW, 1)]));
    assert.equal(same.statusCode, 204, 'an identical resend is fine');
  });
});

describe('remote write: malformed requests', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge({ limits: { maxRequestBytes: 4096, maxDecompressedBytes: 1 << 20 } });
  });
  after(() => edge.close());

  it('empty body → 400', async () => {
    const r = await push(edge, Buffer.alloc(0));
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /empty request body/);
  });

  it('bad snappy → 400', async () => {
    const r = await push(edge, Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff]));
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /not valid snappy/);
    const r2 = await push(edge, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    assert.equal(r2.statusCode, 400);
    assert.match(r2.body, /invalid length preamble/);
  });

  it('malformed protobuf → 400, nothing stored', async () => {
    const good = encodeRequest([up({ instance: 'mal' })]);
    const truncated = good.subarray(0, good.length - 3);
    const r = await push(edge, snappyBody(truncated));
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /not a valid protobuf prometheus\.WriteRequest/);
    const r2 = await push(edge, snappyBody(Buffer.from('this is not protobuf at all')));
    assert.equal(r2.statusCode, 400);
    assert.equal(edge.tsdb.find({ instance: 'mal' }).length, 0);
  });

  it('wrong Content-Type → 415; remote write 2.0 → 415 naming it', async () => {
    const r = await push(edge, body([up()]), { headers: { 'content-type': 'application/json' } });
    assert.equal(r.statusCode, 415);
    assert.match(r.body, /Content-Type "application\/json" is not supported/);
    const v2 = await push(edge, body([up()]), {
      headers: { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' },
    });
    assert.equal(v2.statusCode, 415);
    assert.match(v2.body, /remote write 2\.0/);
    const v1 = await push(edge, body([up({ instance: 'ct-v1' })]), {
      headers: { 'content-type': 'application/x-protobuf; proto=prometheus.WriteRequest' },
    });
    assert.equal(v1.statusCode, 204, v1.body);
  });

  it('Content-Encoding other than snappy → 415; absent → treated as snappy', async () => {
    const r = await push(edge, body([up()]), { headers: { 'content-encoding': 'gzip' } });
    assert.equal(r.statusCode, 415);
    assert.match(r.body, /Content-Encoding "gzip" is not supported/);
    const absent = await push(edge, body([up({ instance: 'no-ce' })]), {
      headers: { 'content-encoding': undefined },
    });
    assert.equal(absent.statusCode, 204, absent.body);
    const plain = await push(edge, Buffer.from(encodeRequest([up()])), {
      headers: { 'content-encoding': undefined },
    });
    assert.equal(plain.statusCode, 400, 'an uncompressed body is not valid snappy');
  });

  it('body over maxRequestBytes → 413 (declared length, checked before reading)', async () => {
    const big = Buffer.alloc(5000, 1);
    const r = await push(edge, big);
    assert.equal(r.statusCode, 413);
    assert.match(r.body, /5000 bytes is over the limit maxRequestBytes=4096/);
    assert.equal(r.headers.connection, 'close');
  });

  it('snappy bomb: a huge declared length is refused with 413 before decompressing', async () => {
    const before = process.memoryUsage().arrayBuffers;
    // Preamble declaring 0xfffffff0 bytes (~4 GiB), then a few junk bytes.
    const bomb = Buffer.from([0xf0, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x01, 0x02]);
    const r = await push(edge, bomb);
    assert.equal(r.statusCode, 413);
    assert.match(r.body, /decompress to 4294967280 bytes, over the limit maxDecompressedBytes=1048576/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'nothing large was allocated');
    // Just over the limit is refused too, even though it would be cheap.
    const over = Buffer.concat([Buffer.from([0x81, 0x80, 0x40]), Buffer.alloc(4)]);
    const r2 = await push(edge, over);
    assert.equal(r2.statusCode, 413);
    assert.equal(
      await metricValue(edge.registry, 'irin_ingest_rejections_total', {
        tenant: 'acme',
        reason: 'decompressed_too_large',
      }),
      2,
    );
  });
});

describe('remote write: credentials', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge();
  });
  after(() => edge.close());

  it('401 on a bad or missing token, nothing stored', async () => {
    const r = await push(edge, body([up({ instance: 'unauth' })]), { token: 'nope' });
    assert.equal(r.statusCode, 401);
    assert.match(r.body, /invalid or missing push token/);
    const r2 = await push(edge, body([up({ instance: 'unauth' })]), { token: undefined });
    assert.equal(r2.statusCode, 401);
    assert.equal(edge.tsdb.find({ instance: 'unauth' }).length, 0);
    assert.equal(
      await metricValue(edge.registry, 'irin_ingest_rejections_total', {
        tenant: '',
        reason: 'unauthorized',
      }),
      2,
    );
  });

  it('authentication is checked before the content type (no information to strangers)', async () => {
    const r = await push(edge, body([up()]), { token: 'nope', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.statusCode, 401);
  });

  it('503 with Retry-After when the credential store cannot answer', async () => {
    edge.auth.failure = new CredentialError(503, 'credential store unavailable', 7);
    try {
      const r = await push(edge, body([up()]));
      assert.equal(r.statusCode, 503);
      assert.equal(r.headers['retry-after'], '7');
      edge.auth.failure = new Error('sqlite busy');
      const r2 = await push(edge, body([up()]));
      assert.equal(r2.statusCode, 503);
      assert.equal(r2.headers['retry-after'], '5');
      edge.auth.failure = new CredentialError(429, 'too many failures', 30);
      const r3 = await push(edge, body([up()]));
      assert.equal(r3.statusCode, 429);
      assert.equal(r3.headers['retry-after'], '30');
      edge.auth.failure = new CredentialError(403, 'a read key cannot push');
      assert.equal((await push(edge, body([up()]))).statusCode, 403);
    } finally {
      edge.auth.failure = undefined;
    }
  });
});

describe('remote write: storage failures', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge();
  });
  after(() => edge.close());

  it('503 with Retry-After when the TSDB cannot store (disk full), so the agent retries', async () => {
    edge.tsdb.failWith = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
    });
    const r = await push(edge, body([up({ instance: 'full' })]));
    assert.equal(r.statusCode, 503);
    assert.equal(r.headers['retry-after'], '5');
    assert.match(r.body, /could not be stored/);
    edge.tsdb.failWith = new Error('tsdb is closed');
    assert.equal((await push(edge, body([up({ instance: 'full' })]))).statusCode, 503);
    edge.tsdb.failWith = new TypeError('x is undefined');
    assert.equal((await push(edge, body([up({ instance: 'full' })]))).statusCode, 500);
    edge.tsdb.failWith = undefined;
    assert.equal((await push(edge, body([up({ instance: 'full' })]))).statusCode, 204);
  });
});

describe('remote write: rate limits', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge({
      limits: { ingestionRate: 100, ingestionBurst: 10, serverIngestionRate: 10, serverIngestionBurst: 4 },
    });
  });
  after(() => edge.close());

  const batch = (n: number, instance: string) =>
    body(Array.from({ length: n }, (_, i) => up({ instance, i: String(i) }, edge.clock.now)));

  it('server-bound token: 429 with Retry-After naming serverIngestionRate, tenant, server; nothing stored', async () => {
    assert.equal((await push(edge, batch(4, 'x'), { token: 't-web1' })).statusCode, 204);
    const r = await push(edge, batch(3, 'x'), { token: 't-web1' });
    assert.equal(r.statusCode, 429);
    assert.equal(r.headers['retry-after'], '1');
    assert.match(
      r.body,
      /tenant "acme", server "web-1": ingestion rate limit exceeded: the server may send serverIngestionRate=10 samples\/s \(serverIngestionBurst=4\)/,
    );
    assert.equal(edge.tsdb.find({ instance: 'web-1' }).length, 4);
    assert.equal(edge.reports.at(-1)?.reason, 'server_rate_limited');
    assert.equal(edge.reports.at(-1)?.status, 429);
  });

  it('tenant bucket: 429 naming ingestionRate; the refused request charged nothing', async () => {
    // The server bucket above took 4 of the tenant's 10.
    const r = await push(edge, batch(7, 'tw'));
    assert.equal(r.statusCode, 429);
    assert.match(r.body, /the tenant may send ingestionRate=100 samples\/s \(ingestionBurst=10\)/);
    assert.equal(edge.tsdb.find({ instance: 'tw' }).length, 0);
    assert.equal((await push(edge, batch(6, 'tw'))).statusCode, 204);
    assert.equal(
      await metricValue(edge.registry, 'irin_ingest_discarded_samples_total', {
        tenant: 'acme',
        reason: 'rate_limited',
      }),
      7,
    );
  });

  it('refills with time', async () => {
    assert.equal((await push(edge, batch(5, 'later'))).statusCode, 429);
    edge.clock.now += 100; // 100 samples/s × 0.1 s = 10 tokens
    assert.equal((await push(edge, batch(5, 'later'))).statusCode, 204);
  });

  it('other tenants have their own buckets', async () => {
    const r = await push(edge, batch(10, 'g'), { token: 't-globex' });
    assert.equal(r.statusCode, 204, r.body);
  });
});

describe('remote write: active series limits', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge({ limits: { maxSeries: 5, serverMaxSeries: 2 } });
  });
  after(() => edge.close());

  it('per server: the series over serverMaxSeries are refused with 400 naming the limit', async () => {
    const r = await push(edge, body([up({ i: '1' }), up({ i: '2' }), up({ i: '3' })]), { token: 't-web1' });
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /tenant "acme", server "web-1": 1 of 3 samples refused, 2 stored/);
    assert.match(r.body, /server has reached its limit of serverMaxSeries=2 active series/);
    assert.equal(edge.tsdb.find({ instance: 'web-1' }).length, 2);
    // Existing series keep receiving samples.
    const again = await push(edge, body([up({ i: '1' }, NOW + 15_000), up({ i: '2' }, NOW + 15_000)]), {
      token: 't-web1',
    });
    assert.equal(again.statusCode, 204, again.body);
    assert.equal(edge.reports.at(-1)?.reason, 'server_series_limit');
  });

  it('per tenant: the series over maxSeries are refused with 400 naming the limit', async () => {
    const r = await push(edge, body([up({ i: 'a' }), up({ i: 'b' }), up({ i: 'c' }), up({ i: 'd' })]));
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /tenant has reached its limit of maxSeries=5 active series/);
    assert.equal(edge.tsdb.series.size, 5);
  });
});

describe('remote write: metadata and self-metrics', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge();
  });
  after(() => edge.close());

  it('keeps metric metadata per tenant', async () => {
    const r = await push(
      edge,
      body([], [{ type: 1, metricFamilyName: 'http_requests_total', help: 'Requests.', unit: '' }]),
    );
    assert.equal(r.statusCode, 204, r.body);
    assert.deepEqual(edge.metadata.get(1), {
      http_requests_total: [{ type: 'counter', help: 'Requests.', unit: '' }],
    });
    assert.deepEqual(edge.metadata.get(2), {});
  });

  it('records request durations by status code', async () => {
    await push(edge, body([up()]));
    await push(edge, body([up()]), { token: 'bad' });
    const text = await edge.registry.metrics();
    assert.match(text, /irin_ingest_request_duration_seconds_count\{code="204"\} \d+/);
    assert.match(text, /irin_ingest_request_duration_seconds_count\{code="401"\} 1/);
  });

  it('reports rejections at most once per second per tenant, server and reason', async () => {
    const start = edge.reports.length;
    for (let i = 0; i < 5; i++)
      await push(edge, body([{ labels: { job: 'no-name' }, samples: [{ t: NOW, v: 1 }] }]));
    assert.equal(edge.reports.length - start, 1);
    edge.clock.now += 1000;
    await push(edge, body([{ labels: { job: 'no-name' }, samples: [{ t: NOW, v: 1 }] }]));
    assert.equal(edge.reports.length - start, 2);
    assert.deepEqual(
      { tenantId: edge.reports.at(-1)?.tenantId, reason: edge.reports.at(-1)?.reason },
      { tenantId: 1, reason: 'missing_metric_name' },
    );
  });
});
