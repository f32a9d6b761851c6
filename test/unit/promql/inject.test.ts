import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { walkExpr, type Expr } from '../../../src/promql/ast.ts';
import { PromqlEngine, type QueryResult } from '../../../src/promql/engine.ts';
import { formatExpr } from '../../../src/promql/format.ts';
import { injectTenantMatcher, scopeMatchers } from '../../../src/promql/inject.ts';
import { parseExpr } from '../../../src/promql/parser.ts';
import { MemoryQuerier, labels, type MemorySeries } from './memory-querier.ts';

const T0 = 1_700_000_000_000;

function series(tenant: string, base: number): MemorySeries[] {
  const mk = (record: Record<string, string>, f: (i: number) => number): MemorySeries => ({
    labels: labels({ ...record, tenant }),
    samples: Array.from({ length: 121 }, (_, i) => ({ t: T0 + i * 15_000, v: f(i) })),
  });
  return [
    mk({ __name__: 'requests_total', job: 'api', instance: `${tenant}-1` }, (i) => base * i),
    mk({ __name__: 'requests_total', job: 'api', instance: `${tenant}-2` }, (i) => base * 2 * i),
    mk({ __name__: `${tenant}_private`, job: 'secret' }, () => base),
    mk({ __name__: 'load', job: 'node', instance: `${tenant}-1` }, (i) => base + (i % 7)),
    ...['1', '+Inf'].map((le) =>
      mk({ __name__: 'lat_bucket', job: 'api', le }, (i) => base * i * Number(le === '1' ? 1 : 2)),
    ),
  ];
}

const acme = series('acme', 1);
const globex = series('globex', 1000);

/** Queries trying every way out of the tenant's scope. */
const ESCAPES = [
  'requests_total',
  'requests_total{tenant="globex"}',
  'requests_total{tenant!="acme"}',
  'requests_total{tenant=~".*"}',
  'requests_total{tenant=~"globex|acme"}',
  'requests_total{tenant!~"acme"}',
  '{__name__=~".+"}',
  '{__name__=~".+", tenant=""}',
  '{tenant="globex"}',
  'globex_private',
  '{__name__=~"globex.*"}',
  'requests_total or globex_private',
  'requests_total or {tenant="globex"}',
  'requests_total unless {tenant="globex"}',
  'requests_total and on() {tenant="globex"}',
  'load + on(job) group_left load{tenant="globex"}',
  'label_replace(requests_total, "tenant", "globex", "", "")',
  'label_replace({__name__=~".+"}, "tenant", "$1", "tenant", "(.*)")',
  'sum by (tenant) ({__name__=~".+"})',
  'count by (tenant, __name__) ({__name__=~".+"})',
  'count_values("tenant", load)',
  'count_values("v", {__name__=~".+"})',
  'absent(globex_private)',
  'absent(requests_total{tenant="globex"})',
  'absent_over_time(globex_private[5m])',
  'max_over_time({__name__=~".+"}[10m:1m])',
  'rate({__name__=~"requests.*", tenant=~".+"}[5m])',
  'sum_over_time(sum by (tenant) ({tenant=~".+"})[10m:2m] offset 1m)',
  'topk(100, {__name__=~".+"})',
  'histogram_quantile(0.5, rate(lat_bucket{tenant=~".*"}[5m]))',
  'scalar(count({__name__=~".+"}))',
  'vector(1) * on() group_left count({tenant=~".+"})',
  'timestamp({__name__=~".+"})',
  'label_join({__name__=~".+"}, "x", ",", "tenant", "__name__")',
  '{__name__=~".+"} @ end()',
  '{__name__=~".+"}[5m]',
  'globex_private[5m:1m]',
];

const limits = { timeoutMs: 10_000, maxSamples: 10_000_000 };

async function evaluate(querier: MemoryQuerier, expr: Expr, range: boolean): Promise<QueryResult> {
  const engine = new PromqlEngine();
  try {
    return range
      ? await engine.rangeQuery(querier, expr, T0 + 600_000, T0 + 1_800_000, 60_000, limits)
      : await engine.instantQuery(querier, expr, T0 + 1_200_000, limits);
  } catch (err) {
    return { resultType: 'string', result: { t: 0, v: `error: ${(err as Error).message}` } };
  }
}

describe('tenant matcher injection', () => {
  it('adds the tenant matcher to every selector, at any depth, keeping the query’s own matchers', () => {
    const expr = parseExpr(
      'sum by (job) (rate(a{tenant=~".*"}[5m])) / on(job) group_left count(max_over_time(b[10m:1m] offset 1m)) or absent(c) unless label_replace(d @ 100, "tenant", "x", "", "")',
    );
    const scoped = injectTenantMatcher(expr, 'tenant', 'acme');
    let selectors = 0;
    walkExpr(scoped, (node) => {
      if (node.type !== 'VectorSelector') return;
      selectors++;
      assert.ok(
        node.matchers.some((m) => m.name === 'tenant' && m.type === '=' && m.value === 'acme'),
        `selector ${formatExpr(node)} lacks the tenant matcher`,
      );
    });
    assert.equal(selectors, 4);
    assert.match(formatExpr(scoped), /a\{tenant="acme",tenant=~"\.\*"\}\[5m\]/);
    // The original tree is not modified.
    assert.doesNotMatch(formatExpr(expr), /acme/);
  });

  it('scopes match[] selectors the same way', () => {
    const m = scopeMatchers([{ name: '__name__', type: '=~', value: '.+' }], 'tenant', 'acme');
    assert.deepEqual(m[m.length - 1], { name: 'tenant', type: '=', value: 'acme' });
  });

  for (const query of ESCAPES) {
    it(`keeps ${query} inside the tenant even when storage is shared`, async () => {
      const scoped = injectTenantMatcher(parseExpr(query), 'tenant', 'acme');
      // Layer 4 switched off: one querier holding both tenants' data. Layer 2 alone must hide globex.
      const shared = new MemoryQuerier([...acme, ...globex]);
      const own = new MemoryQuerier(acme);
      for (const range of [false, true]) {
        const leaked = await evaluate(shared, scoped, range);
        const isolated = await evaluate(own, scoped, range);
        assert.deepEqual(
          leaked,
          isolated,
          `${range ? 'range' : 'instant'} result depends on the other tenant's data`,
        );
        const text = JSON.stringify(leaked);
        assert.doesNotMatch(
          text,
          /globex_private|globex-1|globex-2/,
          'another tenant’s names or label values appear',
        );
      }
    });
  }
});
