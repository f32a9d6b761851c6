import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { PushPrincipal } from '../../../src/auth/principal.ts';
import { decodePushJson, decodePushProtobuf, PushDecodeError } from '../../../src/logs/push/decode.ts';
import { encodePushRequest } from '../../../src/logs/push/encode.ts';
import { DEFAULT_LOG_INGEST_OPTIONS, LogIngester, truncateUtf8 } from '../../../src/logs/push/ingest.ts';
import { parseStreamLabels, StreamLabelsError } from '../../../src/logs/push/stream-selector.ts';
import { LocalTenantLogStore } from '../../../src/logs/store/tenant-store.ts';
import { BUILTIN_DEFAULT_LIMITS, effectiveLimits, type TenantLimits } from '../../../src/tenancy/limits.ts';

const NOW = Date.UTC(2024, 5, 1, 12);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function store() {
  const d = mkdtempSync(join(tmpdir(), 'irin-push-'));
  dirs.push(d);
  return LocalTenantLogStore.open(d, { maintenanceIntervalMs: 0 });
}

function principal(overrides: Partial<TenantLimits> = {}, instance?: string): PushPrincipal {
  return {
    kind: 'push',
    tenantId: 1,
    tenantSlug: 'acme',
    tokenId: 't1',
    ...(instance ? { instance, serverId: 3 } : {}),
    limits: effectiveLimits(BUILTIN_DEFAULT_LIMITS, overrides),
  };
}

const policy = { tenantLabel: 'tenant', onConflict: 'overwrite' as const };

async function allLines(s: LocalTenantLogStore) {
  const q = s.querier();
  const out: string[] = [];
  for (const st of q.streams([{ name: 'tenant', type: '=~', value: '.*' }], 0, Number.MAX_SAFE_INTEGER)) {
    for (const src of q.blocks(st.id, 0, Number.MAX_SAFE_INTEGER)) {
      const b = await src.load();
      for (let i = 0; i < b.count; i++)
        out.push(`${st.text} ${b.lines.toString('utf8', b.starts[i], b.starts[i + 1])}`);
    }
  }
  return out.sort();
}

describe('stream label strings', () => {
  it('parses selectors with Go string escapes, raw strings and trailing commas', () => {
    assert.deepEqual(parseStreamLabels('{job="x", host = "a\\"b\\\\c\\n", raw=`no\\escape`,}'), [
      { name: 'job', value: 'x' },
      { name: 'host', value: 'a"b\\c\n' },
      { name: 'raw', value: 'no\\escape' },
    ]);
    assert.deepEqual(parseStreamLabels('  {}  '), []);
    assert.deepEqual(parseStreamLabels('{a="\\u00e9\\x41"}'), [{ name: 'a', value: 'éA' }]);
  });

  it('refuses malformed selectors with the position', () => {
    for (const [text, pattern] of [
      ['job="x"', /expected "\{"/],
      ['{job=~"x"}', /only "="/],
      ['{job="x"', /expected "," or "\}"/],
      ['{1job="x"}', /expected a label name/],
      ['{job="x} ', /unterminated string/],
      ['{job="x"} extra', /unexpected text/],
      ['{job="\\q"}', /invalid escape/],
    ] as const) {
      assert.throws(
        () => parseStreamLabels(text),
        (err: unknown) => err instanceof StreamLabelsError && pattern.test((err as Error).message),
        text,
      );
    }
  });
});

describe('push decoding', () => {
  it('round-trips protobuf with nanosecond timestamps and structured metadata', () => {
    const buf = encodePushRequest([
      {
        labels: '{job="x"}',
        entries: [
          { ts: '1717243200123456789', line: 'first', metadata: { trace_id: 'abc', user: 'u1' } },
          { ts: 1717243200500, line: 'second' },
        ],
      },
      { labels: '{job="y"}', entries: [{ ts: '1717243201000000000', line: Buffer.from('bytes\u00e9') }] },
    ]);
    const streams = decodePushProtobuf(buf);
    assert.equal(streams.length, 2);
    assert.equal(streams[0]!.labels, '{job="x"}');
    const [a, b] = streams[0]!.entries;
    assert.deepEqual([a!.ms, a!.ns, a!.line.toString()], [1717243200123, 456789, 'first']);
    assert.deepEqual(a!.meta, [
      { name: 'trace_id', value: 'abc' },
      { name: 'user', value: 'u1' },
    ]);
    assert.deepEqual([b!.ms, b!.ns, b!.meta], [1717243200500, 0, undefined]);
    assert.equal(streams[1]!.entries[0]!.line.toString(), 'bytes\u00e9');
  });

  it('skips unknown protobuf fields and refuses truncated messages', () => {
    const good = encodePushRequest([{ labels: '{a="b"}', entries: [{ ts: 1000, line: 'x' }] }]);
    // An unknown varint field (number 9) before the streams.
    const withUnknown = Buffer.concat([Buffer.from([0x48, 0x96, 0x01]), good]);
    assert.equal(decodePushProtobuf(withUnknown)[0]!.entries[0]!.line.toString(), 'x');
    assert.throws(() => decodePushProtobuf(good.subarray(0, good.length - 2)), PushDecodeError);
    assert.throws(
      () => decodePushProtobuf(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])),
      PushDecodeError,
    );
  });

  it('decodes JSON with structured metadata and refuses bad shapes clearly', () => {
    const [s] = decodePushJson(
      Buffer.from(
        JSON.stringify({
          streams: [{ stream: { job: 'x' }, values: [['1717243200000000001', 'hi', { k: 'v' }]] }],
        }),
      ),
    );
    assert.deepEqual(s!.labels, { job: 'x' });
    assert.deepEqual(
      [s!.entries[0]!.ms, s!.entries[0]!.ns, s!.entries[0]!.meta],
      [1717243200000, 1, [{ name: 'k', value: 'v' }]],
    );
    for (const [body, pattern] of [
      ['{"streams": [', /not valid JSON/],
      ['{"stream": []}', /"streams" array/],
      [
        '{"streams":[{"stream":{"a":"b"},"values":[[1717243200000000000,"x"]]}]}',
        /string of Unix epoch nanoseconds/,
      ],
      ['{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"k":1}]]}]}', /must be a string/],
      ['{"streams":[{"stream":{"a":"b"},"values":[["1"]]}]}', /must be \[/],
    ] as const) {
      assert.throws(
        () => decodePushJson(Buffer.from(body)),
        (err: unknown) => err instanceof PushDecodeError && pattern.test((err as Error).message),
        body,
      );
    }
  });
});

describe('ingest validation and limits', () => {
  const ns = (ms: number) => ({ ms, ns: 0 });
  const entry = (ms: number, line: string) => ({ ...ns(ms), line: Buffer.from(line), meta: undefined });

  it('pins tenant and instance labels, overwriting what the client sent', async () => {
    const s = await store();
    const ing = new LogIngester(policy, DEFAULT_LOG_INGEST_OPTIONS, () => NOW);
    const out = await ing.push(
      principal({}, 'web-1'),
      [{ labels: '{job="x", tenant="globex", instance="db-9"}', entries: [entry(NOW, 'hello')] }],
      s,
    );
    assert.equal(out.status, 204);
    assert.deepEqual(await allLines(s), ['{instance="web-1", job="x", tenant="acme"} hello']);
    await s.close();
  });

  it('refuses a conflicting tenant label under the reject policy', async () => {
    const s = await store();
    const ing = new LogIngester(
      { tenantLabel: 'tenant', onConflict: 'reject' },
      DEFAULT_LOG_INGEST_OPTIONS,
      () => NOW,
    );
    const out = await ing.push(
      principal(),
      [{ labels: '{job="x", tenant="globex"}', entries: [entry(NOW, 'hello')] }],
      s,
    );
    assert.equal(out.status, 400);
    assert.match(out.body, /label_conflict: .*tenant="globex".*tenant="acme"/);
    assert.deepEqual(await allLines(s), []);
    await s.close();
  });

  it('partial success: valid streams and entries are stored, every problem is named', async () => {
    const s = await store();
    const ing = new LogIngester(policy, DEFAULT_LOG_INGEST_OPTIONS, () => NOW);
    const out = await ing.push(
      principal({
        maxLineBytes: 10,
        maxLabelNameLength: 8,
        maxLabelValueLength: 5,
        maxLabelNamesPerSeries: 3,
      }),
      [
        {
          labels: '{job="ok"}',
          entries: [
            entry(NOW, 'fine'),
            entry(NOW + 1, 'way too long a line'),
            entry(NOW - 8 * 86_400_000, 'ancient'),
            entry(NOW + 3600_000, 'future'),
          ],
        },
        { labels: '{job=~"bad"}', entries: [entry(NOW, 'x')] },
        { labels: '{__reserved="x"}', entries: [entry(NOW, 'x')] },
        { labels: '{averylongname="x"}', entries: [entry(NOW, 'x')] },
        { labels: '{job="abcdef"}', entries: [entry(NOW, 'x')] },
        { labels: '{a="1", b="2", c="3"}', entries: [entry(NOW, 'x')] },
        { labels: '{job="x", job="y"}', entries: [entry(NOW, 'x')] },
        { labels: '{}', entries: [entry(NOW, 'x')] },
        { labels: { job: 7 } as unknown as Record<string, unknown>, entries: [entry(NOW, 'x')] },
      ],
      s,
    );
    assert.equal(out.status, 400);
    for (const code of [
      'line_too_long',
      'greater_than_max_sample_age',
      'too_far_in_future',
      'invalid_labels',
      'label_name_too_long',
      'label_value_too_long',
      'max_label_names_per_series',
      'duplicate_label_names',
      'missing_labels',
    ]) {
      assert.match(out.body, new RegExp(`${code}: `), `response names ${code}`);
    }
    assert.match(out.body, /total ignored: 11 out of 12 entries/);
    assert.equal(out.entriesAccepted, 1);
    assert.deepEqual(await allLines(s), ['{job="ok", tenant="acme"} fine']);
    await s.close();
  });

  it('truncates long lines at a character boundary when configured to', async () => {
    assert.equal(truncateUtf8(Buffer.from('aé€'), 4).toString(), 'aé');
    const s = await store();
    const ing = new LogIngester(
      policy,
      { ...DEFAULT_LOG_INGEST_OPTIONS, lineTooLong: 'truncate' },
      () => NOW,
    );
    const out = await ing.push(
      principal({ maxLineBytes: 5 }),
      [{ labels: '{job="x"}', entries: [entry(NOW, 'abcdefgh')] }],
      s,
    );
    assert.equal(out.status, 204);
    assert.deepEqual(await allLines(s), ['{job="x", tenant="acme"} abcde']);
    await s.close();
  });

  it('rate limit: a request over the byte budget is refused whole with 429 and Retry-After', async () => {
    const s = await store();
    let now = NOW;
    const ing = new LogIngester(policy, DEFAULT_LOG_INGEST_OPTIONS, () => now);
    const p = principal({ logIngestionBytesPerSecond: 100, logIngestionBurstBytes: 150 });
    const line = 'x'.repeat(60);
    assert.equal(
      (await ing.push(p, [{ labels: '{job="x"}', entries: [entry(now, line), entry(now + 1, line)] }], s))
        .status,
      204,
    );
    const refused = await ing.push(p, [{ labels: '{job="x"}', entries: [entry(now + 2, line)] }], s);
    assert.equal(refused.status, 429);
    assert.match(refused.body, /^rate_limited: .*logIngestionBytesPerSecond=100/);
    assert.ok((refused.retryAfterSeconds ?? 0) >= 1);
    now += 2000;
    assert.equal(
      (await ing.push(p, [{ labels: '{job="x"}', entries: [entry(now, line)] }], s)).status,
      204,
      'the bucket refills',
    );
    assert.equal((await allLines(s)).length, 3);
    await s.close();
  });

  it('stream limit: new streams beyond maxStreams get 429 stream_limit, others are stored', async () => {
    const s = await store();
    const ing = new LogIngester(policy, DEFAULT_LOG_INGEST_OPTIONS, () => NOW);
    const p = principal({ maxStreams: 2 });
    const out = await ing.push(
      p,
      [
        { labels: '{job="a"}', entries: [entry(NOW, '1')] },
        { labels: '{job="b"}', entries: [entry(NOW, '2')] },
        { labels: '{job="c"}', entries: [entry(NOW, '3')] },
      ],
      s,
    );
    assert.equal(out.status, 429);
    assert.match(out.body, /stream_limit: stream .*job="c".* maxStreams=2/);
    assert.equal((await allLines(s)).length, 2);
    await s.close();
  });

  it('out-of-order entries are accepted within the window and refused beyond it', async () => {
    const s = await store();
    const ing = new LogIngester(
      policy,
      { ...DEFAULT_LOG_INGEST_OPTIONS, outOfOrderWindowMs: 60_000 },
      () => NOW,
    );
    assert.equal(
      (await ing.push(principal(), [{ labels: '{job="x"}', entries: [entry(NOW, 'newest')] }], s)).status,
      204,
    );
    const out = await ing.push(
      principal(),
      [{ labels: '{job="x"}', entries: [entry(NOW - 30_000, 'late'), entry(NOW - 120_000, 'too late')] }],
      s,
    );
    assert.equal(out.status, 400);
    assert.match(
      out.body,
      /too_far_behind: entry for stream \{job="x", tenant="acme"\} at .* is too far behind/,
    );
    assert.deepEqual(await allLines(s), ['{job="x", tenant="acme"} late', '{job="x", tenant="acme"} newest']);
    await s.close();
  });

  it('structured metadata names must be valid label names', async () => {
    const s = await store();
    const ing = new LogIngester(policy, DEFAULT_LOG_INGEST_OPTIONS, () => NOW);
    const out = await ing.push(
      principal(),
      [{ labels: '{job="x"}', entries: [{ ...entry(NOW, 'a'), meta: [{ name: 'bad-name', value: 'v' }] }] }],
      s,
    );
    assert.equal(out.status, 400);
    assert.match(out.body, /invalid_structured_metadata: .*"bad-name"/);
    await s.close();
  });
});
