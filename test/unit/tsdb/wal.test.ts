import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tsdb, type TsdbOptions } from '../../../src/tsdb/db.ts';
import { STALE_NAN_BITS, staleNaN } from '../../../src/model/samples.ts';
import { crc32, crc32Portable } from '../../../src/tsdb/crc32.ts';
import { L, bitsOf, captureLogger, tempDir } from './helpers.ts';

const M = L({ __name__: 'm', job: 'wal' });

function opts(dir: string, extra: Partial<TsdbOptions> = {}): TsdbOptions {
  return { dir, now: () => 0, checkpointOnClose: false, ...extra };
}

function samplesOf(db: Tsdb, name = 'm') {
  const res = db.querier().select([{ name: '__name__', type: '=', value: name }], -1e15, 1e15);
  return res.map((s) => ({ labels: s.labels, t: [...s.timestamps], v: [...s.values] }));
}

function segments(dir: string): string[] {
  return readdirSync(join(dir, 'wal'))
    .filter((f) => /^\d{8}$/.test(f))
    .sort();
}

test('crc32: native and portable agree, known vector', () => {
  assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff));
  assert.equal(crc32(data), crc32Portable(data));
});

test('an unclean stop loses nothing acknowledged: the WAL is replayed', async (t) => {
  const dir = tempDir(t);
  const crashed = await Tsdb.open(opts(dir));
  for (let i = 0; i < 50; i++) {
    await crashed.append({
      series: [
        { labels: M, samples: [{ t: i * 1000, v: i === 49 ? staleNaN() : i }] },
        { labels: L({ __name__: 'm', job: 'wal', n: String(i) }), samples: [{ t: i * 1000, v: -i }] },
      ],
    });
  }
  // no close(): a second instance opens the same directory as after kill -9
  const db = await Tsdb.open(opts(dir));
  t.after(async () => {
    await db.close();
    await crashed.close();
  });
  assert.equal(db.replayStats!.samples, 100);
  const got = samplesOf(db);
  assert.equal(got.length, 51);
  const main = got.find((s) => s.labels.length === 2)!;
  assert.deepEqual(
    main.t,
    Array.from({ length: 50 }, (_, i) => i * 1000),
  );
  assert.equal(bitsOf(main.v[49]!), STALE_NAN_BITS, 'the staleness marker survives the WAL bit-exactly');
  // appends continue with fresh refs after the replay
  const res = await db.append({
    series: [{ labels: L({ __name__: 'm', job: 'new' }), samples: [{ t: 1, v: 1 }] }],
  });
  assert.equal(res.seriesCreated, 1);
  assert.equal(samplesOf(db).length, 52);
});

test('chunks closed during the replay are re-encoded packed afterwards', async (t) => {
  const dir = tempDir(t);
  const day = { blockDurationMs: 24 * 3_600_000 };
  const crashed = await Tsdb.open(opts(dir, day));
  const samples = Array.from({ length: 1000 }, (_, i) => ({
    t: i * 15_000,
    v: Math.round(i * 1234.56 * 100) / 100,
  }));
  await crashed.append({ series: [{ labels: M, samples }] });
  const packedSize = crashed.headChunkBytes();
  const db = await Tsdb.open(opts(dir, day));
  t.after(async () => {
    await db.close();
    await crashed.close();
  });
  await db.maintain(); // queued behind the re-encoding
  // left in XOR form these chunks take about 3.5 times the space
  assert.ok(db.headChunkBytes() < packedSize * 1.3, `packed again: ${db.headChunkBytes()} vs ${packedSize}`);
  assert.deepEqual(samplesOf(db), samplesOf(crashed));
});

test('a torn WAL tail is cut off at the last whole record, with a warning', async (t) => {
  const dir = tempDir(t);
  const crashed = await Tsdb.open(opts(dir));
  for (let i = 0; i < 10; i++)
    await crashed.append({ series: [{ labels: M, samples: [{ t: i * 1000, v: i }] }] });
  const [segment] = segments(dir);
  const file = join(dir, 'wal', segment!);
  const fullSize = statSync(file).size;
  truncateSync(file, fullSize - 5); // the last record loses its end

  const log = captureLogger();
  const db = await Tsdb.open(opts(dir, { logger: log }));
  t.after(async () => {
    await db.close();
    await crashed.close();
  });
  assert.deepEqual(
    samplesOf(db)[0]!.t,
    Array.from({ length: 9 }, (_, i) => i * 1000),
  );
  const warning = log.lines.find((l) => l.level === 'warn' && /torn WAL tail/.test(l.msg));
  assert.ok(warning, 'a warning names the repair');
  assert.match(String(warning.obj.reason), /torn record/);
  assert.ok(statSync(file).size < fullSize - 5, 'the partial record was removed from the file');
  assert.equal(db.replayStats!.repaired.length, 1);

  // garbage after the last record (e.g. a half-written frame header) is repaired the same way
  const before = statSync(file).size;
  appendFileSync(file, Buffer.from([1, 2, 3]));
  const db2 = await Tsdb.open(opts(dir, { logger: log }));
  t.after(() => db2.close());
  assert.equal(statSync(file).size, before);
  assert.equal(samplesOf(db2)[0]!.t.length, 9);
});

test('a checksum mismatch in an older segment truncates it and keeps replaying later segments', async (t) => {
  const dir = tempDir(t);
  const crashed = await Tsdb.open(opts(dir, { walSegmentBytes: 200 }));
  for (let i = 0; i < 30; i++) {
    await crashed.append({
      series: [{ labels: L({ __name__: 'm', n: String(i) }), samples: [{ t: 1000, v: i }] }],
    });
  }
  const segs = segments(dir);
  assert.ok(segs.length >= 4, `several segments written (${segs.length})`);
  const victim = join(dir, 'wal', segs[1]!);
  const bytes = readFileSync(victim);
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
  writeFileSync(victim, bytes);

  const log = captureLogger();
  const db = await Tsdb.open(opts(dir, { logger: log }));
  t.after(async () => {
    await db.close();
    await crashed.close();
  });
  assert.ok(log.lines.some((l) => l.level === 'error' && /damaged WAL segment/.test(l.msg)));
  const got = new Set(samplesOf(db).map((s) => s.labels.find((l) => l.name === 'n')!.value));
  assert.ok(got.has('0') && got.has('29'), 'records before and after the damage are replayed');
  assert.ok(got.size < 30 && got.size >= 25, `only the damaged record is lost (${got.size} series)`);
});

test('close writes a checkpoint: restart needs no replay and open chunks continue', async (t) => {
  const dir = tempDir(t);
  const first = await Tsdb.open(opts(dir, { checkpointOnClose: true }));
  const samples = Array.from({ length: 150 }, (_, i) => ({
    t: i * 1000,
    v: i % 7 === 0 ? staleNaN() : i / 4,
  }));
  await first.append({ series: [{ labels: M, samples }] });
  await first.close();
  const wal = readdirSync(join(dir, 'wal'));
  assert.equal(wal.filter((f) => f.startsWith('checkpoint.')).length, 1, String(wal));

  const db = await Tsdb.open(opts(dir, { checkpointOnClose: true }));
  assert.equal(db.replayStats!.checkpointSeries, 1);
  assert.equal(db.replayStats!.samples, 0);
  await db.append({
    series: [
      {
        labels: M,
        samples: [
          { t: 150_000, v: 1.25 },
          { t: 151_000, v: 2 },
        ],
      },
    ],
  });
  const got = samplesOf(db)[0]!;
  assert.equal(got.t.length, 152);
  assert.equal(bitsOf(got.v[7]!), STALE_NAN_BITS);
  assert.equal(got.v[149], 149 / 4);
  assert.equal(got.v[150], 1.25);
  // a crash now: checkpoint + the new segment are replayed together
  const again = await Tsdb.open(opts(dir));
  t.after(async () => {
    await again.close();
    await db.close();
  });
  assert.deepEqual(samplesOf(again), samplesOf(db));
});

test('out-of-order samples survive a replay', async (t) => {
  const dir = tempDir(t);
  const window = { outOfOrderWindowMs: () => 3_600_000 };
  const crashed = await Tsdb.open(opts(dir, window));
  await crashed.append({
    series: [{ labels: M, samples: Array.from({ length: 200 }, (_, i) => ({ t: i * 2000, v: i })) }],
  });
  await crashed.append({
    series: [
      {
        labels: M,
        samples: [
          { t: 1000, v: 0.5 },
          { t: 301_000, v: 150.5 },
        ],
      },
    ],
  });
  const before = samplesOf(crashed);
  const db = await Tsdb.open(opts(dir, window));
  t.after(async () => {
    await db.close();
    await crashed.close();
  });
  assert.deepEqual(samplesOf(db), before);
  assert.equal(before[0]!.t.length, 202);
});

test('a failed WAL write rejects the append and is retried with the next batch', async (t) => {
  const dir = tempDir(t);
  const db = await Tsdb.open(opts(dir));
  await db.append({ series: [{ labels: M, samples: [{ t: 1000, v: 1 }] }] });
  const wal = (db as unknown as { wal: { fh: { write: (...a: unknown[]) => Promise<unknown> } } }).wal;
  const realWrite = wal.fh.write.bind(wal.fh);
  wal.fh.write = () => Promise.reject(new Error('EIO: simulated disk failure'));
  await assert.rejects(
    db.append({ series: [{ labels: M, samples: [{ t: 2000, v: 2 }] }] }),
    /simulated disk failure/,
  );
  // a retry of the same sample is a duplicate in the head, but is only acknowledged once the
  // earlier batch really is on disk
  await assert.rejects(
    db.append({ series: [{ labels: M, samples: [{ t: 2000, v: 2 }] }] }),
    /simulated disk failure/,
  );
  wal.fh.write = realWrite;
  const ok = await db.append({ series: [{ labels: M, samples: [{ t: 2000, v: 2 }] }] });
  assert.deepEqual(ok.rejected, []);
  const reopened = await Tsdb.open(opts(dir));
  t.after(async () => {
    await reopened.close();
    await db.close();
  });
  assert.deepEqual(samplesOf(reopened)[0]!.t, [1000, 2000]);
});
