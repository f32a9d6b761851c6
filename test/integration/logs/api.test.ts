import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import snappy from 'snappy';
import WebSocket from 'ws';
import { encodePushRequest } from '../../../src/logs/push/encode.ts';
import { get, nowNs, pushJson, pushProto, startHarness, type Harness } from './harness.ts';

/** The Loki API over a bare Fastify: push encodings, query shapes, errors, limits and tail. */
let h: Harness;
before(async () => {
  h = await startHarness({ limits: { maxLineBytes: 1000 } });
});
after(async () => h.close());

const NOW_MS = Date.now();
const ns = (offsetMs: number): string => (BigInt(NOW_MS + offsetMs) * 1_000_000n).toString();

describe('push', () => {
  it('accepts snappy protobuf (204) and keeps nanosecond timestamps and structured metadata', async () => {
    const res = await pushProto(h.app, 'push:acme', [
      {
        labels: '{job="proto", host="a"}',
        entries: [{ ts: ns(-5000) + '', line: 'proto one', metadata: { trace_id: 'abc' } }],
      },
    ]);
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    const exact = (BigInt(NOW_MS - 4000) * 1_000_000n + 123_456n).toString();
    await pushProto(h.app, 'push:acme', [
      { labels: '{job="proto", host="a"}', entries: [{ ts: exact, line: 'proto two' }] },
    ]);
    const q = await get(h.app, 'read:acme', '/loki/api/v1/query_range', {
      query: '{job="proto"}',
      start: ns(-60_000),
      end: ns(1000),
      direction: 'forward',
    });
    assert.equal(q.status, 200);
    const body = q.json();
    assert.equal(body.status, 'success');
    assert.equal(body.data.resultType, 'streams');
    const values = body.data.result
      .flatMap((s: { values: string[][] }) => s.values)
      .sort((a: string[], b: string[]) => (BigInt(a[0]!) < BigInt(b[0]!) ? -1 : 1));
    assert.deepEqual(
      values.map((v: string[]) => v[1]),
      ['proto one', 'proto two'],
    );
    assert.equal(values[1][0], exact, 'nanosecond precision survives the round trip');
    const withMeta = body.data.result.find(
      (s: { stream: Record<string, string> }) => s.stream['trace_id'] === 'abc',
    );
    assert.ok(withMeta, 'structured metadata is returned with the entry');
    assert.ok(body.data.stats.summary.totalLinesProcessed >= 2);
  });

  it('accepts JSON, plain and gzip-encoded', async () => {
    const doc = {
      streams: [{ stream: { job: 'json' }, values: [[ns(-3000), 'json plain', { user: 'u1' }]] }],
    };
    assert.equal((await pushJson(h.app, 'push:acme', doc)).statusCode, 204);
    const gz = { streams: [{ stream: { job: 'json' }, values: [[ns(-2000), 'json gzip']] }] };
    const res = await pushJson(h.app, 'push:acme', gzipSync(Buffer.from(JSON.stringify(gz))), {
      'content-encoding': 'gzip',
    });
    assert.equal(res.statusCode, 204);
    const q = await get(h.app, 'read:acme', '/loki/api/v1/query_range', {
      query: '{job="json"}',
      start: ns(-60_000),
      end: ns(1000),
      direction: 'forward',
    });
    const lines = q.json().data.result.flatMap((s: { values: string[][] }) => s.values.map((v) => v[1]));
    assert.deepEqual(lines.sort(), ['json gzip', 'json plain']);
  });

  it('malformed payloads get a clear 4xx and do not disturb stored data', async () => {
    const cases: [string, Record<string, string>, Buffer | string, number, RegExp][] = [
      [
        'bad snappy',
        { 'content-type': 'application/x-protobuf' },
        Buffer.from('\x05not snappy at all'),
        400,
        /snappy/,
      ],
      [
        'bad protobuf',
        { 'content-type': 'application/x-protobuf' },
        snappy.compressSync(Buffer.from([0x0a, 0x50, 0x01])) as Buffer,
        400,
        /malformed push request/,
      ],
      ['bad json', { 'content-type': 'application/json' }, '{"streams":[', 400, /not valid JSON/],
      [
        'json number timestamp',
        { 'content-type': 'application/json' },
        '{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}',
        400,
        /nanoseconds/,
      ],
      [
        'bad gzip',
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        'not gzip',
        400,
        /not valid gzip/,
      ],
      [
        'unknown encoding',
        { 'content-type': 'application/json', 'content-encoding': 'br' },
        '{}',
        415,
        /Content-Encoding "br"/,
      ],
      ['wrong media type', { 'content-type': 'text/plain' }, 'hello', 415, /Content-Type "text\/plain"/],
    ];
    for (const [name, headers, payload, status, pattern] of cases) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/loki/api/v1/push',
        headers: { authorization: 'Bearer push:acme', ...headers },
        payload,
      });
      assert.equal(res.statusCode, status, `${name}: ${res.body}`);
      assert.match(res.body, pattern, name);
      assert.match(String(res.headers['content-type']), /^text\/plain/, name);
    }
    const q = await get(h.app, 'read:acme', '/loki/api/v1/query_range', {
      query: '{job="proto"}',
      start: ns(-60_000),
      end: ns(1000),
    });
    assert.equal(
      q.json().data.result.flatMap((s: { values: unknown[] }) => s.values).length,
      2,
      'earlier data intact',
    );
  });

  it('decompressed-size limits: a snappy bomb and an oversized gzip are refused with 413', async () => {
    const small = await startHarness({ limits: { maxDecompressedBytes: 10_000 }, listen: false });
    try {
      const big = encodePushRequest([
        { labels: '{job="x"}', entries: [{ ts: ns(0), line: 'y'.repeat(20_000) }] },
      ]);
      const res = await pushProto(small.app, 'push:acme', []);
      assert.equal(res.statusCode, 204, 'an empty push is fine');
      const bomb = await small.app.inject({
        method: 'POST',
        url: '/loki/api/v1/push',
        headers: { authorization: 'Bearer push:acme', 'content-type': 'application/x-protobuf' },
        payload: snappy.compressSync(big) as Buffer,
      });
      assert.equal(bomb.statusCode, 413);
      assert.match(bomb.body, /maxDecompressedBytes=10000/);
      const gz = gzipSync(
        Buffer.from(
          JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [[ns(0), 'z'.repeat(50_000)]] }] }),
        ),
      );
      const g = await pushJson(small.app, 'push:acme', gz, { 'content-encoding': 'gzip' });
      assert.equal(g.statusCode, 413);
      assert.match(g.body, /maxDecompressedBytes=10000/);
    } finally {
      await small.close();
    }
  });

  it('limit codes: line_too_long 400, stream_limit 429, rate_limited 429, body too large 413', async () => {
    const lim = await startHarness({
      limits: {
        maxLineBytes: 20,
        maxStreams: 1,
        logIngestionBytesPerSecond: 100,
        logIngestionBurstBytes: 200,
        maxRequestBytes: 4096,
      },
      listen: false,
    });
    try {
      const long = await pushProto(lim.app, 'push:acme', [
        { labels: '{job="a"}', entries: [{ ts: ns(0), line: 'x'.repeat(50) }] },
      ]);
      assert.equal(long.statusCode, 400);
      assert.match(long.body, /^line_too_long: .*maxLineBytes=20/m);
      assert.equal(
        (
          await pushProto(lim.app, 'push:acme', [
            { labels: '{job="a"}', entries: [{ ts: ns(0), line: 'ok' }] },
          ])
        ).statusCode,
        204,
      );
      const streams = await pushProto(lim.app, 'push:acme', [
        { labels: '{job="b"}', entries: [{ ts: ns(0), line: 'second stream' }] },
      ]);
      assert.equal(streams.statusCode, 429);
      assert.match(streams.body, /stream_limit/);
      const rate = await pushProto(lim.app, 'push:acme', [
        {
          labels: '{job="a"}',
          entries: Array.from({ length: 15 }, (_, i) => ({ ts: ns(i + 1), line: `line number ${i}` })),
        },
      ]);
      assert.equal(rate.statusCode, 429);
      assert.match(rate.body, /^rate_limited: /);
      assert.ok(Number(rate.headers['retry-after']) >= 1);
      const huge = await pushJson(lim.app, 'push:acme', 'x'.repeat(5000));
      assert.equal(huge.statusCode, 413);
      assert.match(huge.body, /maxRequestBytes=4096/);
    } finally {
      await lim.close();
    }
  });

  it('credentials: none → 401, a read key pushing → 403', async () => {
    const none = await h.app.inject({
      method: 'POST',
      url: '/loki/api/v1/push',
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(none.statusCode, 401);
    assert.equal((await pushJson(h.app, 'read:acme', { streams: [] })).statusCode, 403);
  });
});

describe('queries', () => {
  before(async () => {
    await pushJson(h.app, 'push:acme', {
      streams: [
        {
          stream: { job: 'metrics', level: 'info' },
          values: [
            [ns(-50_000), 'status=200 took=10ms'],
            [ns(-40_000), 'status=500 took=300ms'],
            [ns(-30_000), 'status=200 took=20ms'],
          ],
        },
      ],
    });
  });

  it('instant metric queries return a vector; scalars a scalar', async () => {
    const q = await get(h.app, 'read:acme', '/loki/api/v1/query', {
      query: 'sum by (status) (count_over_time({job="metrics"} | logfmt [5m]))',
      time: ns(0),
    });
    assert.equal(q.status, 200);
    const data = q.json().data;
    assert.equal(data.resultType, 'vector');
    const byStatus = Object.fromEntries(
      data.result.map((r: { metric: { status: string }; value: [number, string] }) => [
        r.metric.status,
        r.value[1],
      ]),
    );
    assert.deepEqual(byStatus, { '200': '2', '500': '1' });
    assert.equal(typeof data.result[0].value[0], 'number');
    const s = await get(h.app, 'read:acme', '/loki/api/v1/query', { query: 'vector(1) + vector(1)' });
    assert.equal(s.json().data.resultType, 'vector');
    const sc = await get(h.app, 'read:acme', '/loki/api/v1/query', { query: '2 * 3' });
    assert.deepEqual(sc.json().data.result[1], '6');
  });

  it('range metric queries return a matrix at each step', async () => {
    const q = await get(h.app, 'read:acme', '/loki/api/v1/query_range', {
      query: 'sum(count_over_time({job="metrics"}[1m]))',
      start: String(Math.floor((NOW_MS - 60_000) / 1000)),
      end: String(Math.floor(NOW_MS / 1000)),
      step: '30s',
    });
    assert.equal(q.status, 200);
    const data = q.json().data;
    assert.equal(data.resultType, 'matrix');
    assert.equal(data.result.length, 1);
    // Steps at now-60s, now-30s, now: the first window (now-120s, now-60s] holds nothing.
    assert.equal(data.result[0].values.length, 2);
    assert.equal(data.result[0].values.at(-1)[1], '3');
  });

  it('log queries on the instant endpoint are refused; bad parameters are 400 with a message', async () => {
    const logs = await get(h.app, 'read:acme', '/loki/api/v1/query', { query: '{job="metrics"}' });
    assert.equal(logs.status, 400);
    assert.match(logs.body, /use query_range/);
    for (const [params, pattern] of [
      [{ query: '{job="metrics"' }, /parse error/],
      [{ query: '{job="metrics"}', direction: 'sideways' }, /invalid direction/],
      [{ query: '{job="metrics"}', limit: 'ten' }, /not an integer/],
      [{ query: '{job="metrics"}', limit: '6000' }, /max entries limit/],
      [{ query: '{job="metrics"}', start: 'yesterday' }, /could not parse 'start'/],
      [{ query: 'rate({job="metrics"}[1m])', step: '-5' }, /step/],
      [{ query: '{job="metrics"}', start: ns(0), end: ns(-1000) }, /end timestamp must not be before/],
    ] as const) {
      const r = await get(h.app, 'read:acme', '/loki/api/v1/query_range', params as Record<string, string>);
      assert.equal(r.status, 400, JSON.stringify(params));
      assert.match(r.body, pattern, JSON.stringify(params));
    }
  });

  it('the query range limit names the limit', async () => {
    const r = await get(h.app, 'read:acme', '/loki/api/v1/query_range', {
      query: '{job="metrics"}',
      start: '0',
      end: ns(0),
    });
    assert.equal(r.status, 400);
    assert.match(r.body, /maxQueryRangeMs/);
    const reach = await get(h.app, 'read:acme', '/loki/api/v1/query', {
      query: 'count_over_time({job="metrics"}[40d])',
    });
    assert.equal(reach.status, 400);
    assert.match(reach.body, /reaches back 40d, more than the limit maxQueryRangeMs=32d/);
  });

  it('parameter hygiene: a parameter both in the URL and the body, or repeated, is refused', async () => {
    const both = await h.app.inject({
      method: 'POST',
      url: '/loki/api/v1/query_range?query=%7Bjob%3D%22metrics%22%7D',
      headers: { authorization: 'Bearer read:acme', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'query=%7Btenant%3D%22globex%22%7D',
    });
    assert.equal(both.statusCode, 400);
    assert.match(both.body, /both in the URL and in the form body/);
    const repeated = await h.app.inject({
      method: 'GET',
      url: '/loki/api/v1/query_range?query=%7Bjob%3D%22a%22%7D&query=%7Bjob%3D%22b%22%7D',
      headers: { authorization: 'Bearer read:acme' },
    });
    assert.equal(repeated.statusCode, 400);
    assert.match(repeated.body, /more than once/);
    const form = await h.app.inject({
      method: 'POST',
      url: '/loki/api/v1/query_range',
      headers: { authorization: 'Bearer read:acme', 'content-type': 'application/x-www-form-urlencoded' },
      payload: `query=${encodeURIComponent('{job="metrics"}')}&start=${ns(-60_000)}&end=${ns(1000)}`,
    });
    assert.equal(form.statusCode, 200, 'form POST works');
  });

  it('labels, label values, series and index stats', async () => {
    const labels = await get(h.app, 'read:acme', '/loki/api/v1/labels');
    assert.deepEqual(labels.json(), { status: 'success', data: ['host', 'job', 'level', 'tenant'] });
    const values = await get(h.app, 'read:acme', '/loki/api/v1/label/job/values', {
      query: '{level="info"}',
    });
    assert.deepEqual(values.json().data, ['metrics']);
    const series = await get(h.app, 'read:acme', '/loki/api/v1/series', {
      'match[]': ['{job="metrics"}', '{job="proto"}'],
    });
    assert.deepEqual(
      series
        .json()
        .data.sort((a: Record<string, string>, b: Record<string, string>) =>
          a['job']!.localeCompare(b['job']!),
        ),
      [
        { job: 'metrics', level: 'info', tenant: 'acme' },
        { host: 'a', job: 'proto', tenant: 'acme' },
      ],
    );
    assert.equal((await get(h.app, 'read:acme', '/loki/api/v1/series')).status, 400, 'match[] is required');
    const stats = await get(h.app, 'read:acme', '/loki/api/v1/index/stats', { query: '{job="metrics"}' });
    assert.deepEqual(stats.json(), { streams: 1, chunks: 1, entries: 3, bytes: 20 + 21 + 20 });
  });

  it('unknown paths under /loki are 404; push tokens cannot read (403)', async () => {
    assert.equal((await get(h.app, 'read:acme', '/loki/api/v1/nope')).status, 404);
    assert.equal((await get(h.app, 'read:acme', '/loki/api/v2/query')).status, 404);
    assert.equal((await get(h.app, 'push:acme', '/loki/api/v1/labels')).status, 403);
    assert.equal((await get(h.app, 'nobody', '/loki/api/v1/labels')).status, 401);
  });
});

describe('tail', () => {
  it('streams new matching entries over a WebSocket, with the initial batch first', async () => {
    await pushJson(h.app, 'push:acme', {
      streams: [{ stream: { job: 'tail' }, values: [[ns(-1000), 'before tail']] }],
    });
    const url = `${h.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{job="tail"} |= "tail" | line_format "T {{.job}}: {{__line__}}"')}&start=${ns(-60_000)}`;
    const ws = new WebSocket(url, { headers: { authorization: 'Bearer read:acme' } });
    const messages: { streams: { stream: Record<string, string>; values: string[][] }[] }[] = [];
    const got = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${messages.length} tail messages`)), 5000);
        const check = () => {
          if (messages.length >= n) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(check, 20);
        };
        check();
      });
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await got(1);
    assert.deepEqual(
      messages[0]!.streams[0]!.values.map((v) => v[1]),
      ['T tail: before tail'],
    );
    await pushJson(h.app, 'push:acme', {
      streams: [
        {
          stream: { job: 'tail' },
          values: [
            [ns(0), 'live tail line'],
            [ns(1), 'not matching'],
          ],
        },
      ],
    });
    await pushJson(h.app, 'push:globex', {
      streams: [{ stream: { job: 'tail' }, values: [[ns(0), 'globex tail line']] }],
    });
    await got(2);
    await new Promise((r) => setTimeout(r, 300));
    const live = messages.slice(1).flatMap((m) => m.streams.flatMap((s) => s.values.map((v) => v[1])));
    assert.deepEqual(live, ['T tail: live tail line'], 'only this tenant, only matching lines');
    assert.equal(messages[1]!.streams[0]!.stream['tenant'], 'acme');
    ws.close();
  });

  it('refuses bad tail requests before upgrading', async () => {
    const attempt = (query: string, auth?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(
          `${h.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent(query)}`,
          {
            headers: auth ? { authorization: auth } : {},
          },
        );
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.on('open', () => reject(new Error('upgrade should have been refused')));
        ws.on('error', () => undefined);
      });
    const metric = await attempt('rate({job="x"}[1m])', 'Bearer read:acme');
    assert.equal(metric.status, 400);
    assert.match(metric.body, /only accepts log queries/);
    assert.equal((await attempt('{job="x"}')).status, 401);
    assert.equal((await attempt('{job="x"}', 'Bearer push:acme')).status, 403);
  });
});

void nowNs;
