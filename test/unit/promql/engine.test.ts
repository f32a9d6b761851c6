import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { staleNaN } from '../../../src/model/samples.ts';
import { PromqlEngine, type QueryLimits, type QueryResult } from '../../../src/promql/engine.ts';
import { QueryError } from '../../../src/promql/errors.ts';
import { parseExpr } from '../../../src/promql/parser.ts';
import { labelsToRecord } from '../../../src/model/labels.ts';
import { MemoryQuerier, labels, type MemorySeries } from './memory-querier.ts';

/**
 * Engine behaviour beyond what the conformance suite compares with Prometheus: data is loaded
 * once per selector, limits and timeouts name themselves, heavy queries yield, plus a few
 * hand-checked scenarios written the way promqltest files are (load, eval at, expect).
 */

const M = 60_000;
const generous: QueryLimits = { timeoutMs: 30_000, maxSamples: 50_000_000 };

function load(spec: Record<string, (number | 'stale' | '_')[]>, intervalMs = M): MemorySeries[] {
  // promqltest-like: each entry is `metric{labels}` → values at 0, interval, 2·interval…; '_' = no sample.
  return Object.entries(spec).map(([selector, values]) => {
    const m = /^(\w+)(?:\{(.*)\})?$/.exec(selector)!;
    const record: Record<string, string> = { __name__: m[1]! };
    for (const pair of (m[2] ?? '').split(',').filter(Boolean)) {
      const [k, v] = pair.split('=');
      record[k!.trim()] = v!.trim().replace(/^"|"$/g, '');
    }
    const samples = values.flatMap((v, i) =>
      v === '_' ? [] : [{ t: i * intervalMs, v: v === 'stale' ? staleNaN() : v }],
    );
    return { labels: labels(record), samples };
  });
}

async function instant(
  series: MemorySeries[],
  query: string,
  t: number,
  limits = generous,
): Promise<QueryResult> {
  return new PromqlEngine().instantQuery(new MemoryQuerier(series), parseExpr(query), t, limits);
}

function values(r: QueryResult): Record<string, number> {
  assert.equal(r.resultType, 'vector');
  const out: Record<string, number> = {};
  if (r.resultType === 'vector')
    for (const s of r.result) out[JSON.stringify(labelsToRecord(s.labels))] = s.v;
  return out;
}

describe('engine scenarios', () => {
  const data = load({
    'http_requests{job="api",instance="1"}': [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    'http_requests{job="api",instance="2"}': [0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200],
    'gauge{job="api"}': [1, 2, 'stale', '_', '_', '_', '_', 5, '_', '_', '_'],
  });

  it('rate over a perfectly regular counter is its slope', async () => {
    const r = values(await instant(data, 'rate(http_requests[5m])', 10 * M));
    assert.deepEqual(Object.keys(r), ['{"instance":"1","job":"api"}', '{"instance":"2","job":"api"}']);
    assert.ok(Math.abs(r['{"instance":"1","job":"api"}']! - 10 / 60) < 1e-12);
    assert.ok(Math.abs(r['{"instance":"2","job":"api"}']! - 20 / 60) < 1e-12);
  });

  it('a staleness marker ends the series immediately; a sample is visible for 5 minutes', async () => {
    assert.deepEqual(values(await instant(data, 'gauge', 1 * M + 30_000)), {
      '{"__name__":"gauge","job":"api"}': 2,
    });
    assert.deepEqual(values(await instant(data, 'gauge', 2 * M)), {});
    assert.deepEqual(values(await instant(data, 'gauge', 7 * M)), { '{"__name__":"gauge","job":"api"}': 5 });
    assert.deepEqual(values(await instant(data, 'gauge', 12 * M)), { '{"__name__":"gauge","job":"api"}': 5 });
    assert.deepEqual(values(await instant(data, 'gauge', 12 * M + 1)), {});
  });

  it('names the offending series when matching is many-to-many', async () => {
    await assert.rejects(instant(data, 'http_requests + on(job) http_requests', 5 * M), (err: unknown) => {
      assert.ok(err instanceof QueryError);
      assert.equal(err.errorType, 'execution');
      assert.match(
        err.message,
        /found duplicate series for the match group \{job="api"\} on the right hand-side/,
      );
      assert.match(
        err.message,
        /many-to-many matching not allowed: matching labels must be unique on one side/,
      );
      return true;
    });
  });

  it('refuses results with two series of one label set', async () => {
    const dup = load({ 'a{x="1"}': [1, 2, 3], 'b{x="1"}': [1, 2, 3] });
    await assert.rejects(
      instant(dup, '{__name__=~"a|b"} * 2', 2 * M),
      /vector cannot contain metrics with the same labelset/,
    );
    await assert.rejects(instant(dup, 'rate({__name__=~"a|b"}[5m])', 2 * M), /same labelset/);
  });

  it('a range query returns the matrix sorted by label set, with step-aligned timestamps', async () => {
    const r = await new PromqlEngine().rangeQuery(
      new MemoryQuerier(data),
      parseExpr('http_requests * 2'),
      0,
      4 * M,
      2 * M,
      generous,
    );
    assert.equal(r.resultType, 'matrix');
    if (r.resultType !== 'matrix') return;
    assert.deepEqual(
      r.result.map((s) => [labelsToRecord(s.labels), s.t, s.v]),
      [
        [{ instance: '1', job: 'api' }, [0, 2 * M, 4 * M], [0, 40, 80]],
        [{ instance: '2', job: 'api' }, [0, 2 * M, 4 * M], [0, 80, 160]],
      ],
    );
  });
});

describe('engine data access and limits', () => {
  const many: MemorySeries[] = [];
  for (let s = 0; s < 200; s++) {
    many.push({
      labels: labels({ __name__: 'busy_total', series: String(s), group: String(s % 10) }),
      samples: Array.from({ length: 2000 }, (_, i) => ({ t: i * 15_000, v: i * (s + 1) })),
    });
  }

  it('loads each selector once for a whole range query, subqueries included', async () => {
    const querier = new MemoryQuerier(many);
    await new PromqlEngine().rangeQuery(
      querier,
      parseExpr('sum by (group) (rate(busy_total[5m])) / sum by (group) (max_over_time(busy_total[10m:1m]))'),
      60 * M,
      300 * M,
      M,
      generous,
    );
    assert.equal(querier.selectCalls, 2);
  });

  it('stops at maxSamples and names the limit', async () => {
    await assert.rejects(
      instant(many, 'sum(rate(busy_total[1h]))', 400 * M, {
        ...generous,
        maxSamples: 10_000,
        maxSamplesLimitName: 'maxQuerySamples',
      }),
      (err: unknown) => {
        assert.ok(err instanceof QueryError);
        assert.equal(err.errorType, 'execution');
        assert.match(err.message, /too many samples.*maxQuerySamples=10000/);
        return true;
      },
    );
  });

  it('times out with errorType timeout, naming the limit', async () => {
    const engine = new PromqlEngine({ sliceMs: 1 });
    await assert.rejects(
      engine.rangeQuery(
        new MemoryQuerier(many),
        parseExpr('quantile_over_time(0.5, busy_total[2h:15s])'),
        120 * M,
        480 * M,
        15_000,
        { timeoutMs: 50, timeoutLimitName: 'queryTimeoutMs', maxSamples: 1e9 },
      ),
      (err: unknown) => {
        assert.ok(err instanceof QueryError);
        assert.equal(err.errorType, 'timeout');
        assert.match(err.message, /queryTimeoutMs=50ms/);
        return true;
      },
    );
  });

  it('is canceled when the client goes away', async () => {
    const controller = new AbortController();
    const run = new PromqlEngine({ sliceMs: 1 }).rangeQuery(
      new MemoryQuerier(many),
      parseExpr('quantile_over_time(0.5, busy_total[2h:15s])'),
      120 * M,
      480 * M,
      15_000,
      { ...generous, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(run, (err: unknown) => err instanceof QueryError && err.errorType === 'canceled');
  });

  it('yields to the event loop while a heavy query runs', async () => {
    let ticks = 0;
    let longestGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 1);
    const started = performance.now();
    await new PromqlEngine().rangeQuery(
      new MemoryQuerier(many),
      parseExpr('sum by (group) (rate(busy_total[5m])) + sum by (group) (avg_over_time(busy_total[30m]))'),
      60 * M,
      480 * M,
      15_000,
      generous,
    );
    const elapsed = performance.now() - started;
    clearInterval(timer);
    assert.ok(elapsed > 50, `the query should take a while (${elapsed} ms)`);
    assert.ok(ticks > 5, `timers ran ${ticks} times during ${elapsed.toFixed(0)} ms`);
    // Generous bound: the machine is shared, but a non-yielding evaluation would block for its whole duration.
    assert.ok(
      longestGap < Math.max(100, elapsed / 2),
      `event loop blocked for ${longestGap.toFixed(0)} ms of ${elapsed.toFixed(0)} ms`,
    );
  });
});
