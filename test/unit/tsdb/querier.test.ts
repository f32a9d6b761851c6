import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tsdb } from '../../../src/tsdb/db.ts';
import type { Matcher, MatchType } from '../../../src/model/matchers.ts';
import { formatLabels } from '../../../src/model/labels.ts';
import { L, tempDir } from './helpers.ts';

const SERIES = {
  A: L({ __name__: 'up', job: 'node', instance: 'a' }),
  B: L({ __name__: 'up', job: 'node', instance: 'b', env: 'prod' }),
  C: L({ __name__: 'up', job: 'prom', instance: 'c' }),
  D: L({ __name__: 'http_requests_total', job: 'api', instance: 'a', path: '/x' }),
  E: L({ __name__: 'foo', instance: 'ab' }),
};
type Name = keyof typeof SERIES;
const names = Object.keys(SERIES) as Name[];
const nameOf = new Map(names.map((n) => [formatLabels(SERIES[n]), n]));

const m = (name: string, type: MatchType, value: string): Matcher => ({ name, type, value });

/** The same data in three layouts: head only; block + head; reopened from disk. */
async function layouts(t: Parameters<typeof tempDir>[0]): Promise<[string, Tsdb][]> {
  const out: [string, Tsdb][] = [];
  for (const layout of ['head', 'block+head', 'reopened']) {
    const dir = tempDir(t);
    const opts = { dir, blockDurationMs: 60_000, now: () => 0 };
    let db = await Tsdb.open(opts);
    await db.append({
      series: names.map((n, k) => ({
        labels: SERIES[n],
        samples: Array.from({ length: 100 }, (_, i) => ({ t: i * 1000, v: k * 1000 + i })),
      })),
    });
    if (layout !== 'head') await db.maintain();
    if (layout === 'reopened') {
      await db.close();
      db = await Tsdb.open(opts);
    }
    const opened = db;
    t.after(() => opened.close());
    out.push([layout, db]);
  }
  assert.equal(out[1]![1].blockMetas().length, 1, 'the block+head layout has a block');
  return out;
}

function selectNames(db: Tsdb, matchers: Matcher[], mint = 0, maxt = 1e9): Name[] {
  return db
    .querier()
    .select(matchers, mint, maxt)
    .map((s) => nameOf.get(formatLabels(s.labels))!);
}

test('matchers of all four types, empty-value semantics and anchored regexes', async (t) => {
  const cases: [Matcher[], Name[]][] = [
    [[m('__name__', '=', 'up')], ['A', 'B', 'C']],
    [[m('job', '!=', 'node')], ['E', 'D', 'C']],
    [[m('env', '=', '')], ['E', 'D', 'A', 'C']],
    [[m('env', '!=', '')], ['B']],
    [[m('instance', '=~', 'a')], ['D', 'A']],
    [[m('instance', '=~', 'a.*')], ['E', 'D', 'A']],
    [[m('instance', '=~', 'A')], []],
    [[m('instance', '!~', 'a|b')], ['E', 'C']],
    [
      [m('__name__', '=', 'up'), m('env', '=~', '|prod')],
      ['A', 'B', 'C'],
    ],
    [[m('env', '!~', 'prod')], ['E', 'D', 'A', 'C']],
    [
      [m('__name__', '=~', 'up|foo'), m('instance', '=~', '.+')],
      ['E', 'A', 'B', 'C'],
    ],
    [
      [m('__name__', '=~', 'up|foo'), m('job', '=~', '.*')],
      ['E', 'A', 'B', 'C'],
    ],
    [[m('__name__', '=', 'nope')], []],
    [[m('job', '=~', '.*')], ['E', 'D', 'A', 'B', 'C']],
    [[m('job', '=~', 'node|api'), m('instance', '!=', 'a')], ['B']],
    [[m('path', '=', '/x'), m('job', '=', 'api')], ['D']],
    [[m('nolabel', '!=', 'x')], ['E', 'D', 'A', 'B', 'C']],
    [[m('nolabel', '=~', '.+')], []],
  ];
  // Prometheus order: label pairs compared position by position, name first, then value
  const ORDER: Name[] = ['E', 'D', 'B', 'A', 'C'];
  for (const [layout, db] of await layouts(t)) {
    for (const [matchers, expected] of cases) {
      assert.deepEqual(
        selectNames(db, matchers),
        [...expected].sort((x, y) => ORDER.indexOf(x) - ORDER.indexOf(y)),
        `${layout}: ${matchers.map((x) => `${x.name}${x.type}"${x.value}"`).join(',')}`,
      );
    }
  }
});

test('samples merge across block and head, in range, and results are sorted by labels', async (t) => {
  for (const [layout, db] of await layouts(t)) {
    const res = db.querier().select([m('__name__', '=', 'up')], 50_000, 70_000);
    assert.equal(res.length, 3, layout);
    for (const s of res) {
      assert.deepEqual(
        [...s.timestamps],
        Array.from({ length: 21 }, (_, i) => 50_000 + i * 1000),
        `${layout}: contiguous across the block boundary`,
      );
    }
    const b = res.find((s) => s.labels.some((l) => l.value === 'b'))!;
    assert.equal(b.values[0], 1000 + 50);
    const full = db.querier().select([m('instance', '=', 'c')], 0, 99_000);
    assert.equal(full[0]!.timestamps.length, 100, `${layout}: every sample once`);
    assert.equal(db.querier().select([m('__name__', '=', 'up')], 200_000, 300_000).length, 0);
  }
});

test('label names and values are filtered by matchers and time', async (t) => {
  for (const [layout, db] of await layouts(t)) {
    const q = db.querier();
    assert.deepEqual(q.labelNames([], 0, 1e9), ['__name__', 'env', 'instance', 'job', 'path'], layout);
    assert.deepEqual(
      q.labelNames([m('job', '=', 'node')], 0, 1e9),
      ['__name__', 'env', 'instance', 'job'],
      layout,
    );
    assert.deepEqual(q.labelNames([m('__name__', '=', 'foo')], 0, 1e9), ['__name__', 'instance'], layout);
    assert.deepEqual(q.labelNames([], 500_000, 600_000), [], `${layout}: nothing in that range`);
    assert.deepEqual(q.labelValues('instance', [], 0, 1e9), ['a', 'ab', 'b', 'c'], layout);
    assert.deepEqual(q.labelValues('instance', [m('__name__', '=', 'up')], 0, 1e9), ['a', 'b', 'c'], layout);
    assert.deepEqual(q.labelValues('env', [m('job', '=', 'prom')], 0, 1e9), [], layout);
    assert.deepEqual(q.labelValues('job', [m('instance', '=~', 'a.*')], 0, 1e9), ['api', 'node'], layout);
    assert.deepEqual(q.labelValues('nolabel', [], 0, 1e9), [], layout);
  }
});

test('select sees appends immediately and keeps returned data stable', async (t) => {
  const db = await Tsdb.open({ dir: tempDir(t), now: () => 0 });
  t.after(() => db.close());
  const labels = L({ __name__: 'x' });
  await db.append({ series: [{ labels, samples: [{ t: 1, v: 1 }] }] });
  const first = db.querier().select([m('__name__', '=', 'x')], 0, 10)[0]!;
  await db.append({ series: [{ labels, samples: [{ t: 2, v: 2 }] }] });
  assert.deepEqual([...first.timestamps], [1], 'earlier results are copies');
  assert.deepEqual([...db.querier().select([m('__name__', '=', 'x')], 0, 10)[0]!.timestamps], [1, 2]);
});
