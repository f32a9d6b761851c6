import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { Labels } from '../../../src/model/labels.ts';
import { LogPartitions } from '../../../src/logs/store/partitions.ts';
import { LocalTenantLogStore, type LogStoreOptions } from '../../../src/logs/store/tenant-store.ts';
import type { AppendEntry, LogQuerier } from '../../../src/logs/store/types.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'irin-logstore-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2024, 0, 1, 12);
const manual: Partial<LogStoreOptions> = { maintenanceIntervalMs: 0, partitionMs: 3600_000 };

function labels(rec: Record<string, string>): Labels {
  return Object.entries(rec)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function entry(ms: number, line: string, ns = 0, meta?: Record<string, string>): AppendEntry {
  return { ms, ns, line: Buffer.from(line), ...(meta ? { meta: labels(meta) } : {}) };
}

function req(
  streams: { labels: Labels; entries: AppendEntry[] }[],
  extra: { window?: number; maxStreams?: number } = {},
) {
  return {
    streams,
    outOfOrderWindowMs: extra.window ?? 3600_000,
    maxActiveStreams: extra.maxStreams ?? 100,
    nowMs: T0,
  };
}

async function readAll(q: LogQuerier, sel: { name: string; value: string }[] = []) {
  const out: { stream: string; ms: number; ns: number; line: string; meta?: string }[] = [];
  for (const s of q.streams(
    sel.map((m) => ({ ...m, type: '=' as const })),
    0,
    Number.MAX_SAFE_INTEGER,
  )) {
    for (const src of q.blocks(s.id, 0, Number.MAX_SAFE_INTEGER)) {
      const b = await src.load();
      for (let i = 0; i < b.count; i++) {
        const m = b.meta?.[i];
        out.push({
          stream: s.text,
          ms: b.ms[i]!,
          ns: b.ns[i]!,
          line: b.lines.toString('utf8', b.starts[i], b.starts[i + 1]),
          ...(m ? { meta: m.map((l) => `${l.name}=${l.value}`).join(',') } : {}),
        });
      }
    }
  }
  return out.sort((a, b) => a.stream.localeCompare(b.stream) || a.ms - b.ms || a.ns - b.ns);
}

describe('log store', () => {
  it('appends, queries head data, cuts chunks and reads them back after reopening', async () => {
    const dir = tempDir();
    const a = labels({ tenant: 'acme', job: 'nginx' });
    const b = labels({ tenant: 'acme', job: 'app' });
    let store = await LocalTenantLogStore.open(dir, manual);
    const r = await store.append(
      req([
        { labels: a, entries: [entry(T0, 'GET /a', 5), entry(T0 + 1, 'GET /b', 0, { trace_id: 'abc' })] },
        { labels: b, entries: [entry(T0 + 2, 'started')] },
      ]),
    );
    assert.equal(r.entriesAppended, 3);
    assert.equal(r.streamsCreated, 2);
    const before = await readAll(store.querier());
    assert.equal(before.length, 3);
    await store.flush();
    assert.equal(store.stats().headBytes, 0);
    assert.ok(store.stats().chunks >= 2);
    assert.deepEqual(await readAll(store.querier()), before);
    await store.close();

    store = await LocalTenantLogStore.open(dir, manual);
    const after = await readAll(store.querier());
    assert.deepEqual(after, before);
    assert.deepEqual(after[2], {
      stream: '{job="nginx", tenant="acme"}',
      ms: T0 + 1,
      ns: 0,
      line: 'GET /b',
      meta: 'trace_id=abc',
    });
    assert.equal(after[1]!.ns, 5);
    await store.close();
  });

  it('recovers acknowledged entries from the WAL when closed without flushing', async () => {
    const dir = tempDir();
    const s = labels({ tenant: 't', job: 'x' });
    let store = await LocalTenantLogStore.open(dir, manual);
    await store.append(req([{ labels: s, entries: [entry(T0, 'one'), entry(T0 + 1, 'two')] }]));
    await store.flush();
    await store.append(req([{ labels: s, entries: [entry(T0 + 2, 'three')] }]));
    await store.close({ flush: false });
    store = await LocalTenantLogStore.open(dir, manual);
    assert.deepEqual(
      (await readAll(store.querier())).map((e) => e.line),
      ['one', 'two', 'three'],
      'flushed entries are not replayed twice and unflushed ones come back',
    );
    await store.close();
  });

  it('repairs a torn WAL tail and ignores chunk bytes written after the last checkpoint', async () => {
    const dir = tempDir();
    const s = labels({ tenant: 't', job: 'x' });
    let store = await LocalTenantLogStore.open(dir, manual);
    await store.append(req([{ labels: s, entries: [entry(T0, 'kept')] }]));
    await store.close({ flush: false });
    const walDir = join(dir, 'wal');
    const seg = readdirSync(walDir)
      .sort()
      .find((f) => statSync(join(walDir, f)).size > 0)!;
    appendFileSync(join(walDir, seg), Buffer.from([0x20, 0, 0, 0, 1, 2, 3])); // torn record header
    const chunkDir = join(dir, 'chunks');
    store = await LocalTenantLogStore.open(dir, manual);
    assert.deepEqual(
      (await readAll(store.querier())).map((e) => e.line),
      ['kept'],
    );
    await store.flush();
    const file = readdirSync(chunkDir)[0]!;
    const committed = statSync(join(chunkDir, file)).size;
    await store.append(req([{ labels: s, entries: [entry(T0 + 5, 'later')] }]));
    await store.close({ flush: false });
    appendFileSync(join(chunkDir, file), Buffer.alloc(100, 7)); // garbage past the checkpoint
    store = await LocalTenantLogStore.open(dir, manual);
    assert.equal(statSync(join(chunkDir, file)).size, committed);
    assert.deepEqual(
      (await readAll(store.querier())).map((e) => e.line),
      ['kept', 'later'],
    );
    await store.close();
  });

  it('refuses entries too far behind the newest one and drops exact duplicates', async () => {
    const store = await LocalTenantLogStore.open(tempDir(), manual);
    const s = labels({ tenant: 't' });
    await store.append(req([{ labels: s, entries: [entry(T0, 'new')] }]));
    const r = await store.append(
      req(
        [
          {
            labels: s,
            entries: [entry(T0 - 120_000, 'too old'), entry(T0 - 30_000, 'ok'), entry(T0, 'new')],
          },
        ],
        { window: 60_000 },
      ),
    );
    assert.equal(r.entriesAppended, 1, 'only "ok" is new: "new" repeats the stored entry');
    assert.equal(r.duplicates, 1);
    assert.equal(r.rejected.length, 1);
    assert.equal(r.rejected[0]!.reason, 'too_far_behind');
    assert.equal(r.rejected[0]!.oldestAcceptableMs, T0 - 60_000);
    const r2 = await store.append(
      req([
        {
          labels: s,
          entries: [
            entry(T0 - 30_000, 'ok'),
            entry(T0 - 30_000, 'ok, same time'),
            entry(T0 - 20_000, 'x'),
            entry(T0 - 20_000, 'x'),
          ],
        },
      ]),
    );
    assert.equal(r2.duplicates, 2, 'a retried entry and a repeat within the request are dropped');
    assert.equal(r2.entriesAppended, 2);
    const lines = (await readAll(store.querier())).map((e) => e.line);
    assert.deepEqual(lines, ['ok', 'ok, same time', 'x', 'new']);
    await store.close();
  });

  it('enforces the active-stream limit per request, keeping the admitted streams', async () => {
    const store = await LocalTenantLogStore.open(tempDir(), manual);
    const r = await store.append(
      req(
        [
          { labels: labels({ tenant: 't', n: '1' }), entries: [entry(T0, 'a')] },
          { labels: labels({ tenant: 't', n: '2' }), entries: [entry(T0, 'b')] },
          { labels: labels({ tenant: 't', n: '3' }), entries: [entry(T0, 'c')] },
        ],
        { maxStreams: 2 },
      ),
    );
    assert.equal(r.entriesAppended, 2);
    assert.deepEqual(
      r.rejected.map((x) => x.reason),
      ['stream_limit'],
    );
    const again = await store.append(
      req([{ labels: labels({ tenant: 't', n: '1' }), entries: [entry(T0 + 1, 'a2')] }], { maxStreams: 2 }),
    );
    assert.equal(again.entriesAppended, 1, 'an active stream keeps being accepted at the limit');
    assert.equal(store.activeStreams(T0), 2);
    await store.close();
  });

  it('splits heads across time partitions and drops whole partitions for retention', async () => {
    const store = await LocalTenantLogStore.open(tempDir(), manual);
    const s = labels({ tenant: 't' });
    await store.append(
      req(
        [
          {
            labels: s,
            entries: [entry(T0 - 2 * 3600_000, 'old'), entry(T0 - 10, 'recent'), entry(T0 + 10, 'now')],
          },
        ],
        { window: 86_400_000 },
      ),
    );
    await store.flush();
    assert.equal(store.stats().partitions, 3);
    const dropped = await store.applyRetention(T0 + 10, 3600_000);
    assert.equal(dropped, 1);
    assert.deepEqual(
      (await readAll(store.querier())).map((e) => e.line),
      ['recent', 'now'],
    );
    await store.close();
  });

  it('selects streams by matchers and time, and answers label metadata', async () => {
    const store = await LocalTenantLogStore.open(tempDir(), manual);
    await store.append(
      req([
        { labels: labels({ tenant: 't', job: 'nginx', host: 'a' }), entries: [entry(T0, 'x')] },
        { labels: labels({ tenant: 't', job: 'nginx', host: 'b' }), entries: [entry(T0 + 60_000, 'y')] },
        { labels: labels({ tenant: 't', job: 'app' }), entries: [entry(T0, 'z')] },
      ]),
    );
    const q = store.querier();
    assert.deepEqual(
      q.streams([{ name: 'job', type: '=', value: 'nginx' }], 0, Number.MAX_SAFE_INTEGER).map((s) => s.text),
      ['{host="a", job="nginx", tenant="t"}', '{host="b", job="nginx", tenant="t"}'],
    );
    assert.equal(q.streams([{ name: 'job', type: '=', value: 'nginx' }], T0 + 1, T0 + 120_000).length, 1);
    assert.deepEqual(q.labelNames([], 0, Number.MAX_SAFE_INTEGER), ['host', 'job', 'tenant']);
    assert.deepEqual(
      q.labelValues('host', [{ name: 'job', type: '!=', value: 'app' }], 0, Number.MAX_SAFE_INTEGER),
      ['a', 'b'],
    );
    assert.deepEqual(q.stats([{ name: 'host', type: '=~', value: '.+' }], 0, Number.MAX_SAFE_INTEGER), {
      streams: 2,
      chunks: 2,
      entries: 2,
      bytes: 2,
    });
    await store.close();
  });

  it('cuts a head into chunks when it reaches the target size and checkpoints the WAL away', async () => {
    const dir = tempDir();
    const store = await LocalTenantLogStore.open(dir, {
      ...manual,
      chunkTargetBytes: 4096,
      walSegmentBytes: 8192,
    });
    const s = labels({ tenant: 't' });
    for (let i = 0; i < 50; i++) {
      const entries = Array.from({ length: 20 }, (_, k) =>
        entry(T0 + i * 20 + k, `line ${i}-${k} ${'x'.repeat(40)}`),
      );
      await store.append(req([{ labels: s, entries }]));
    }
    await store.maintenance(T0 + 10_000_000);
    await store.checkpoint();
    const st = store.stats();
    assert.ok(st.chunks >= 10, `expected many chunks, got ${st.chunks}`);
    assert.ok(st.walSegments <= 3, `WAL segments should be released, ${st.walSegments} left`);
    assert.equal((await readAll(store.querier())).length, 1000);
    await store.close();
  });

  it('LogPartitions opens one directory per tenant and drop removes it', async () => {
    const dataDir = tempDir();
    const parts = new LogPartitions({ dataDir, store: manual });
    const s1 = await parts.get(1);
    assert.equal(s1, await parts.get(1));
    await s1.append(req([{ labels: labels({ tenant: 'one' }), entries: [entry(T0, 'hello')] }]));
    const s2 = await parts.get(2);
    assert.deepEqual(await readAll(s2.querier()), [], 'tenant 2 sees nothing of tenant 1');
    assert.ok(existsSync(join(dataDir, 'tenants', '1', 'logs')));
    await parts.drop(1);
    assert.ok(!existsSync(join(dataDir, 'tenants', '1', 'logs')));
    const again = await parts.get(1);
    assert.deepEqual(await readAll(again.querier()), []);
    await again.append(req([{ labels: labels({ tenant: 'one' }), entries: [entry(T0, 'second life')] }]));
    // A get() while a drop is under way waits for it and starts from an empty store.
    const dropping = parts.drop(1);
    const reborn = await parts.get(1);
    await dropping;
    assert.deepEqual(await readAll(reborn.querier()), []);
    await reborn.append(req([{ labels: labels({ tenant: 'one' }), entries: [entry(T0, 'third')] }]));
    assert.deepEqual(
      (await readAll(reborn.querier())).map((e) => e.line),
      ['third'],
    );
    await parts.closeAll();
  });

  it('LogPartitions applies each tenant retention when a store is opened and on its timer', async () => {
    const dataDir = tempDir();
    const now = Date.now();
    let parts = new LogPartitions({ dataDir, store: manual });
    const s = await parts.get(5);
    await s.append({
      ...req(
        [{ labels: labels({ tenant: 'x' }), entries: [entry(now - 3 * 3600_000, 'old'), entry(now, 'new')] }],
        { window: 86_400_000 },
      ),
      nowMs: now,
    });
    await parts.closeAll();
    parts = new LogPartitions({
      dataDir,
      store: manual,
      retentionMs: () => 3600_000,
      retentionIntervalMs: 0,
    });
    const reopened = await parts.get(5);
    assert.deepEqual(
      (await readAll(reopened.querier())).map((e) => e.line),
      ['new'],
    );
    await parts.closeAll();
  });

  it('fails loudly on a damaged checkpoint instead of guessing', async () => {
    const dir = tempDir();
    const store = await LocalTenantLogStore.open(dir, manual);
    await store.append(req([{ labels: labels({ tenant: 't' }), entries: [entry(T0, 'x')] }]));
    await store.close();
    truncateSync(join(dir, 'checkpoint'), 5);
    await assert.rejects(LocalTenantLogStore.open(dir, manual), /checkpoint .* is damaged/);
  });
});
