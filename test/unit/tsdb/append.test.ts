import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tsdb } from '../../../src/tsdb/db.ts';
import { STALE_NAN_BITS, isStaleNaN, staleNaN } from '../../../src/model/samples.ts';
import { L, bitsOf, tempDir } from './helpers.ts';

const BD = 60_000; // 1-minute blocks keep the tests small
const M = L({ __name__: 'm', instance: 'a' });

async function open(t: Parameters<typeof tempDir>[0], extra: Partial<Parameters<typeof Tsdb.open>[0]> = {}) {
  // now = 0: retention never drops the 1970 blocks these tests write
  const db = await Tsdb.open({
    dir: tempDir(t),
    blockDurationMs: BD,
    checkpointOnClose: false,
    now: () => 0,
    ...extra,
  });
  t.after(() => db.close());
  return db;
}

function all(db: Tsdb, matchers = [{ name: '__name__', type: '=' as const, value: 'm' }]) {
  return db.querier().select(matchers, -1e15, 1e15);
}

test('appended samples come back bit-exactly, including staleness markers and ±Inf', async (t) => {
  const db = await open(t);
  const weird = new Float64Array(1);
  new DataView(weird.buffer).setBigUint64(0, 0x7ff8000000000abcn, true);
  // Note: a plain JS array of numbers would canonicalise NaN payloads (V8 double arrays), so the
  // values travel in sample objects, as the remote-write decoder produces them.
  const samples = [
    { t: 1000, v: 1 },
    { t: 2000, v: 2.5 },
    { t: 3000, v: staleNaN() },
    { t: 4000, v: Infinity },
    { t: 5000, v: -Infinity },
    { t: 6000, v: weird[0]! },
    { t: 7000, v: -0 },
    { t: 8000, v: 3 },
  ];
  const res = await db.append({ series: [{ labels: M, samples }] });
  assert.deepEqual(res, { samplesAppended: samples.length, seriesCreated: 1, rejected: [] });
  const [s] = all(db);
  assert.ok(s);
  assert.deepEqual(
    [...s.timestamps],
    samples.map((x) => x.t),
  );
  samples.forEach((x, i) => assert.equal(bitsOf(s.values[i]!), bitsOf(x.v), `value ${i}`));
  assert.ok(isStaleNaN(s.values[2]!));
  assert.equal(bitsOf(s.values[2]!), STALE_NAN_BITS);
  assert.equal(bitsOf(s.values[5]!), 0x7ff8000000000abcn);
});

test('select range bounds are inclusive', async (t) => {
  const db = await open(t);
  await db.append({
    series: [{ labels: M, samples: [1000, 2000, 3000, 4000].map((ts) => ({ t: ts, v: ts })) }],
  });
  const [s] = db.querier().select([{ name: '__name__', type: '=', value: 'm' }], 2000, 3000);
  assert.deepEqual([...s!.timestamps], [2000, 3000]);
  assert.equal(db.querier().select([{ name: '__name__', type: '=', value: 'm' }], 4001, 9000).length, 0);
});

test('out-of-order, duplicate and identical re-sent samples follow Prometheus', async (t) => {
  const db = await open(t);
  await db.append({ series: [{ labels: M, samples: [{ t: 2000, v: 2 }] }] });
  const res = await db.append({
    series: [
      {
        labels: M,
        samples: [
          { t: 1000, v: 1 }, // older than the newest sample
          { t: 2000, v: 2 }, // same timestamp, same value: ignored silently
          { t: 2000, v: 5 }, // same timestamp, other value
          { t: 3000, v: 3 },
          { t: 3000, v: 3 },
        ],
      },
    ],
  });
  assert.equal(res.samplesAppended, 1);
  assert.deepEqual(
    res.rejected.map((r) => [r.t, r.reason]),
    [
      [1000, 'out_of_order'],
      [2000, 'duplicate_sample'],
    ],
  );
  assert.deepEqual([...all(db)[0]!.values], [2, 3]);
  // NaN re-sent with the same bits is a duplicate of itself, not a conflict
  await db.append({ series: [{ labels: M, samples: [{ t: 4000, v: staleNaN() }] }] });
  const again = await db.append({ series: [{ labels: M, samples: [{ t: 4000, v: staleNaN() }] }] });
  assert.deepEqual(again.rejected, []);
  const otherNaN = await db.append({ series: [{ labels: M, samples: [{ t: 4000, v: NaN }] }] });
  assert.deepEqual(
    otherNaN.rejected.map((r) => r.reason),
    ['duplicate_sample'],
  );
});

test('samples older than the persisted range are too_old; a new series with only those is not created', async (t) => {
  const db = await open(t);
  const samples = Array.from({ length: 100 }, (_, i) => ({ t: i * 1000, v: i }));
  await db.append({ series: [{ labels: M, samples }] });
  await db.maintain(); // head spans 99 s > 1.5 blocks: [0, 60 s) is cut into a block
  assert.equal(db.blockMetas().length, 1);
  assert.equal(db.headStats().minTime, 60_000);
  const other = L({ __name__: 'm', instance: 'b' });
  const res = await db.append({
    series: [
      { labels: other, samples: [{ t: 30_000, v: 1 }] },
      {
        labels: L({ __name__: 'm', instance: 'c' }),
        samples: [
          { t: 59_999, v: 1 },
          { t: 60_000, v: 2 },
        ],
      },
    ],
  });
  assert.deepEqual(
    res.rejected.map((r) => [r.t, r.reason]),
    [
      [30_000, 'too_old'],
      [59_999, 'too_old'],
    ],
  );
  assert.equal(res.seriesCreated, 1);
  assert.equal(db.activeSeriesWith('instance', 'b'), 0);
  assert.equal(db.activeSeriesWith('instance', 'c'), 1);
});

test('the out-of-order window accepts older samples, in open and closed chunks and gaps', async (t) => {
  const db = await open(t, { outOfOrderWindowMs: () => 30_000, blockDurationMs: 3_600_000 });
  // every other second from 0 to 398 s: 200 samples = one closed chunk and an open one
  const even = Array.from({ length: 200 }, (_, i) => ({ t: i * 2000, v: i * 2 }));
  await db.append({ series: [{ labels: M, samples: even }] });
  const newest = 398_000;
  const res = await db.append({
    series: [
      {
        labels: M,
        samples: [
          { t: newest - 1000, v: 397 }, // open chunk
          { t: newest - 29_000, v: 369 }, // still within the window
          { t: newest - 31_000, v: 367 }, // beyond the window
          { t: newest - 2000, v: 396 }, // exists, same value
          { t: newest - 4000, v: -1 }, // exists, different value
        ],
      },
    ],
  });
  assert.equal(res.samplesAppended, 2);
  assert.deepEqual(
    res.rejected.map((r) => [r.t, r.reason]),
    [
      [newest - 31_000, 'out_of_order'],
      [newest - 4000, 'duplicate_sample'],
    ],
  );
  const s = all(db)[0]!;
  assert.equal(s.timestamps.length, 202);
  for (let i = 1; i < s.timestamps.length; i++)
    assert.ok(s.timestamps[i]! > s.timestamps[i - 1]!, 'ascending');
  const at = (ts: number) => s.values[s.timestamps.indexOf(ts)];
  assert.equal(at(newest - 1000), 397);
  assert.equal(at(newest - 29_000), 369);

  // a closed chunk (the first 120 samples, 0..238 s) receives an insert when the window allows it
  const wide = await open(t, { outOfOrderWindowMs: () => 1_000_000, blockDurationMs: 3_600_000 });
  await wide.append({ series: [{ labels: M, samples: even }] });
  const r2 = await wide.append({
    series: [
      {
        labels: M,
        samples: [
          { t: 1000, v: 1 },
          { t: 237_000, v: 237 },
        ],
      },
    ],
  });
  assert.deepEqual(r2.rejected, []);
  const w = all(wide)[0]!;
  assert.equal(w.timestamps.length, 202);
  assert.deepEqual([...w.timestamps.slice(0, 3)], [0, 1000, 2000]);
  assert.equal(w.values[w.timestamps.indexOf(237_000)], 237);

  // a gap: a series whose samples skip an hour-long block window gets a new chunk there
  const gap = await open(t, { outOfOrderWindowMs: () => 10 * 3_600_000, blockDurationMs: 3_600_000 });
  await gap.append({
    series: [
      {
        labels: M,
        samples: [
          { t: 0, v: 0 },
          { t: 3 * 3_600_000, v: 3 },
        ],
      },
    ],
  });
  await gap.append({
    series: [
      {
        labels: M,
        samples: [
          { t: 3_600_000 + 5, v: 1 },
          { t: 2 * 3_600_000 + 5, v: 2 },
        ],
      },
    ],
  });
  assert.deepEqual([...all(gap)[0]!.values], [0, 1, 2, 3]);
});

test('admitNewSeries is asked once per new series; refused series are series_limit', async (t) => {
  const db = await open(t);
  await db.append({ series: [{ labels: M, samples: [{ t: 1, v: 1 }] }] });
  const asked: string[] = [];
  const res = await db.append({
    admitNewSeries: (labels) => {
      asked.push(labels.find((l) => l.name === 'instance')!.value);
      return labels.some((l) => l.value === 'ok');
    },
    series: [
      { labels: M, samples: [{ t: 2, v: 2 }] },
      { labels: L({ __name__: 'm', instance: 'ok' }), samples: [{ t: 2, v: 2 }] },
      {
        labels: L({ __name__: 'm', instance: 'no' }),
        samples: [
          { t: 2, v: 2 },
          { t: 3, v: 3 },
        ],
      },
    ],
  });
  assert.deepEqual(asked, ['ok', 'no']);
  assert.equal(res.samplesAppended, 2);
  assert.equal(res.seriesCreated, 1);
  assert.deepEqual(
    res.rejected.map((r) => [r.t, r.reason]),
    [
      [2, 'series_limit'],
      [3, 'series_limit'],
    ],
  );
  assert.equal(db.headStats().series, 2);
});

test('activeSeriesWith and headStats describe the head', async (t) => {
  const db = await open(t);
  assert.equal(db.headStats().series, 0);
  await db.append({
    series: ['a', 'a', 'b'].map((inst, i) => ({
      labels: L({ __name__: `m${i}`, instance: inst }),
      samples: [{ t: 1000 * (i + 1), v: i }],
    })),
  });
  assert.equal(db.activeSeriesWith('instance', 'a'), 2);
  assert.equal(db.activeSeriesWith('instance', 'b'), 1);
  assert.equal(db.activeSeriesWith('instance', 'zzz'), 0);
  assert.deepEqual(db.headStats(), { series: 3, minTime: 1000, maxTime: 3000 });
});

test('a non-integer timestamp is refused before anything is stored', async (t) => {
  const db = await open(t);
  await assert.rejects(
    db.append({
      series: [
        {
          labels: M,
          samples: [
            { t: 1, v: 1 },
            { t: 1.5, v: 2 },
          ],
        },
      ],
    }),
    /timestamp 1.5 is not an integer/,
  );
  assert.equal(db.headStats().series, 0);
});

test('concurrent appends share WAL fsyncs (group commit)', async (t) => {
  const db = await open(t);
  const wal = (db as unknown as { wal: { fsyncs: number } }).wal;
  const before = wal.fsyncs;
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      db.append({ series: [{ labels: L({ __name__: 'm', i: String(i) }), samples: [{ t: 1000, v: i }] }] }),
    ),
  );
  const used = wal.fsyncs - before;
  assert.ok(used >= 1 && used < 10, `50 concurrent appends used ${used} fsyncs`);
});
