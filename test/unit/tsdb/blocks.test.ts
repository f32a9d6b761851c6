import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tsdb, type TsdbOptions } from '../../../src/tsdb/db.ts';
import { compactionRanges, planCompaction } from '../../../src/tsdb/compact.ts';
import type { BlockMeta } from '../../../src/tsdb/block.ts';
import { L, captureLogger, tempDir } from './helpers.ts';

const BD = 60_000;
const S = 1000;

function series(n: number) {
  return Array.from({ length: n }, (_, k) =>
    L({ __name__: 'metric', idx: String(k), job: k % 2 ? 'odd' : 'even' }),
  );
}

/** Appends one sample per second per series in [from, to) seconds. */
async function fill(db: Tsdb, labels: ReturnType<typeof series>, from: number, to: number) {
  for (let sec = from; sec < to; sec += 10) {
    await db.append({
      series: labels.map((l, k) => ({
        labels: l,
        samples: Array.from({ length: Math.min(10, to - sec) }, (_, i) => ({
          t: (sec + i) * S,
          v: k * 1e6 + (sec + i) * 1.5,
        })),
      })),
    });
  }
}

function countSamples(db: Tsdb): number {
  return db
    .querier()
    .select([{ name: '__name__', type: '=', value: 'metric' }], -1e15, 1e15)
    .reduce((n, s) => n + s.timestamps.length, 0);
}

function checkValues(db: Tsdb, labels: ReturnType<typeof series>, from: number, to: number) {
  const res = db.querier().select([{ name: '__name__', type: '=', value: 'metric' }], -1e15, 1e15);
  assert.equal(res.length, labels.length);
  for (const s of res) {
    const k = Number(s.labels.find((l) => l.name === 'idx')!.value);
    assert.equal(s.timestamps.length, to - from, `series ${k} sample count`);
    for (let i = 0; i < s.timestamps.length; i++) {
      assert.equal(s.timestamps[i], (from + i) * S);
      assert.equal(s.values[i], k * 1e6 + (from + i) * 1.5);
    }
  }
}

function opts(dir: string, extra: Partial<TsdbOptions> = {}): TsdbOptions {
  return { dir, blockDurationMs: BD, now: () => 0, maxBlockDurationMs: () => 9 * BD, ...extra };
}

test('the head is cut into blocks, blocks are compacted 3x by 3x, the WAL is truncated', async (t) => {
  const dir = tempDir(t);
  const labels = series(20);
  const db = await Tsdb.open(opts(dir));
  t.after(() => db.close());
  await fill(db, labels, 0, 600);
  await db.maintain();
  // head spans 599 s: cut until its span is under 1.5 blocks, i.e. [0, 540 s) persisted;
  // nine 1-minute blocks compact into three 3-minute blocks, those into one 9-minute block
  const metas = db.blockMetas();
  assert.deepEqual(
    metas.map((m) => [m.minTime, m.maxTime]),
    [[0, 540_000]],
  );
  assert.equal(metas[0]!.compaction.level, 3);
  assert.equal(metas[0]!.compaction.sources.length, 9);
  assert.equal(metas[0]!.stats.numSamples, 540 * 20);
  assert.equal(metas[0]!.stats.numSeries, 20);
  assert.equal(db.headStats().minTime, 540_000);
  checkValues(db, labels, 0, 600);
  assert.deepEqual(readdirSync(join(dir, 'blocks')), [metas[0]!.id], 'source blocks deleted');
  const wal = readdirSync(join(dir, 'wal')).sort();
  assert.equal(wal.filter((f) => f.startsWith('checkpoint.')).length, 1, `one checkpoint in ${wal}`);
  assert.equal(wal.filter((f) => /^\d+$/.test(f)).length, 1, `only the live segment remains in ${wal}`);
  // and it all comes back after a restart
  await db.close();
  const again = await Tsdb.open(opts(dir));
  t.after(() => again.close());
  checkValues(again, labels, 0, 600);
});

test('retention drops whole blocks older than the tenant retention', async (t) => {
  const dir = tempDir(t);
  let now = 0;
  let retention = 24 * 3_600_000;
  const db = await Tsdb.open(
    opts(dir, { now: () => now, retentionMs: () => retention, maxBlockDurationMs: () => BD }),
  );
  t.after(() => db.close());
  const labels = series(3);
  await fill(db, labels, 0, 300);
  await db.maintain();
  assert.deepEqual(
    db.blockMetas().map((m) => m.maxTime),
    [60_000, 120_000, 180_000, 240_000],
  );
  now = 200_000;
  retention = 60_000; // cutoff 140 s: blocks ending at or before it go
  await db.maintain();
  assert.deepEqual(
    db.blockMetas().map((m) => m.maxTime),
    [180_000, 240_000],
  );
  assert.equal(readdirSync(join(dir, 'blocks')).length, 2);
  assert.equal(countSamples(db), (300 - 120) * 3);
});

test('a corrupt block is reported and skipped, the rest stays readable', async (t) => {
  const dir = tempDir(t);
  const labels = series(4);
  const first = await Tsdb.open(opts(dir, { maxBlockDurationMs: () => BD }));
  await fill(first, labels, 0, 200);
  await first.maintain();
  const ids = first.blockMetas().map((m) => m.id);
  assert.equal(ids.length, 2);
  await first.close();

  // damage one block's index; another gets an unparsable meta.json
  const indexPath = join(dir, 'blocks', ids[0]!, 'index');
  const index = readFileSync(indexPath);
  index[20] = index[20]! ^ 0xff;
  writeFileSync(indexPath, index);
  cpSync(join(dir, 'blocks', ids[1]!), join(dir, 'blocks', 'broken'), { recursive: true });
  writeFileSync(join(dir, 'blocks', 'broken', 'meta.json'), '{"version":');

  const log = captureLogger();
  const db = await Tsdb.open(opts(dir, { logger: log, maxBlockDurationMs: () => BD }));
  t.after(() => db.close());
  assert.deepEqual(db.corruptBlocks.map((c) => c.id).sort(), [ids[0]!, 'broken'].sort());
  assert.match(db.corruptBlocks.find((c) => c.id === ids[0])!.reason, /checksum/);
  assert.equal(log.lines.filter((l) => l.level === 'error' && /corrupt block/.test(l.msg)).length, 2);
  // samples of the damaged block [0, 60 s) are gone, everything else is served
  assert.equal(countSamples(db), (200 - 60) * 4);
  // new data still goes in and a restart does not make things worse
  await fill(db, labels, 200, 210);
  assert.equal(countSamples(db), (210 - 60) * 4);
});

test('a chunk damaged on disk is detected when read: the block is dropped from queries', async (t) => {
  const dir = tempDir(t);
  const labels = series(4);
  const first = await Tsdb.open(opts(dir, { maxBlockDurationMs: () => BD }));
  await fill(first, labels, 0, 200);
  await first.maintain();
  const [bad, good] = first.blockMetas().map((m) => m.id);
  await first.close();
  const chunksPath = join(dir, 'blocks', bad!, 'chunks');
  const chunks = readFileSync(chunksPath);
  chunks[40] = chunks[40]! ^ 0x10; // inside the first chunk's payload
  writeFileSync(chunksPath, chunks);

  const log = captureLogger();
  const db = await Tsdb.open(opts(dir, { logger: log, maxBlockDurationMs: () => BD }));
  t.after(() => db.close());
  assert.equal(db.corruptBlocks.length, 0, 'chunks are verified lazily');
  const n = countSamples(db); // must not throw
  assert.equal(n, (200 - 60) * 4);
  assert.deepEqual(
    db.corruptBlocks.map((c) => c.id),
    [bad],
  );
  assert.match(db.corruptBlocks[0]!.reason, /checksum/);
  assert.deepEqual(
    db.blockMetas().map((m) => m.id),
    [good],
  );
  assert.ok(log.lines.some((l) => l.level === 'error'));
});

test('blocks replaced by a compaction are removed on open after a crash', async (t) => {
  const dir = tempDir(t);
  const labels = series(3);
  const db = await Tsdb.open(opts(dir, { maxBlockDurationMs: () => BD }));
  await fill(db, labels, 0, 300);
  await db.maintain();
  const parents = db.blockMetas().map((m) => m.id);
  assert.equal(parents.length, 4);
  // keep copies, let compaction run (3-minute windows), then put the parents back
  for (const id of parents) cpSync(join(dir, 'blocks', id), join(dir, `copy-${id}`), { recursive: true });
  await db.close();
  const compacting = await Tsdb.open(opts(dir));
  await compacting.maintain();
  assert.ok(compacting.blockMetas().length < 4);
  await compacting.close();
  for (const id of parents) cpSync(join(dir, `copy-${id}`), join(dir, 'blocks', id), { recursive: true });

  const reopened = await Tsdb.open(opts(dir));
  t.after(() => reopened.close());
  const remaining = reopened.blockMetas().map((m) => m.id);
  const merged = reopened.blockMetas().find((m) => m.compaction.level > 1)!;
  assert.ok(merged);
  for (const p of merged.compaction.parents) assert.ok(!remaining.includes(p), `parent ${p} removed`);
  assert.equal(countSamples(reopened), 300 * 3);
});

test('compaction planning: overlaps first, then complete aligned windows, small ranges first', () => {
  const meta = (id: string, min: number, max: number): BlockMeta => ({
    version: 1,
    id,
    minTime: min,
    maxTime: max,
    stats: { numSeries: 1, numChunks: 1, numSamples: 1 },
    compaction: { level: 1, sources: [id], parents: [] },
    index: { bytes: 0, crc32: 0 },
    chunks: { bytes: 0 },
  });
  const H = 3_600_000;
  const ranges = compactionRanges(2 * H, 24 * H);
  assert.deepEqual(ranges, [2 * H, 6 * H, 18 * H]);
  const ids = (p: BlockMeta[] | undefined) => p?.map((m) => m.id);
  // [0,2h) [2h,4h): the 6 h window is not complete until the head is past 6 h
  const two = [meta('a', 0, 2 * H), meta('b', 2 * H, 4 * H)];
  assert.equal(planCompaction(two, ranges, 4 * H), undefined);
  assert.deepEqual(ids(planCompaction(two, ranges, 6 * H)), ['a', 'b']);
  // overlapping blocks are merged before anything else
  const overlap = [...two, meta('c', 8 * H, 10 * H), meta('d', 9 * H, 11 * H)];
  assert.deepEqual(ids(planCompaction(overlap, ranges, 0)), ['c', 'd']);
  // three 6 h blocks in an 18 h window
  const sixes = [
    meta('x', 0, 6 * H),
    meta('y', 6 * H, 12 * H),
    meta('z', 12 * H, 18 * H),
    meta('n', 18 * H, 20 * H),
  ];
  assert.deepEqual(ids(planCompaction(sixes, ranges, 20 * H)), ['x', 'y', 'z']);
  // a single block per window: nothing to do
  assert.equal(planCompaction([meta('x', 0, 6 * H), meta('n', 18 * H, 20 * H)], ranges, 40 * H), undefined);
});
