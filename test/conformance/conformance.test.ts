import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildDataset, type Dataset } from './dataset.ts';
import { PrometheusServer, prometheusAvailable, PROMETHEUS_BIN } from './prometheus-server.ts';
import { QUERIES } from './queries.ts';
import { runConformance } from './run.ts';
import { MemoryQuerier } from '../unit/promql/memory-querier.ts';

/**
 * PromQL conformance: every query of queries.ts is evaluated by a real Prometheus 2.42 (fed the
 * dataset over remote write) and by Irin's engine over the same samples, as instant queries at
 * three times, as a range query and through format_query; the outcomes must be equal (values to
 * 1e-9 relative, label sets exactly, errors by errorType). A deliberate difference would be
 * listed here with its entry in docs/promql-differences.md.
 */
const KNOWN_DIFFERENCES: ReadonlySet<string> = new Set<string>([]);

const ci = process.env.CI === 'true';
const skip = !prometheusAvailable() && !ci ? `${PROMETHEUS_BIN} is not installed` : false;

describe('PromQL conformance with Prometheus 2.42', { skip }, () => {
  let prom: PrometheusServer;
  let dataset: Dataset;

  before(async () => {
    if (!prometheusAvailable()) throw new Error(`${PROMETHEUS_BIN} is required in CI`);
    dataset = buildDataset(Date.now());
    prom = await PrometheusServer.start();
    await prom.push(dataset.series);
  });

  after(async () => {
    await prom?.stop();
  });

  it(`agrees with Prometheus on ${QUERIES.length} queries`, async () => {
    assert.ok(QUERIES.length >= 300, 'the suite must keep at least 300 queries');
    const cases = await runConformance(prom, new MemoryQuerier(dataset.series), QUERIES, dataset.t0);
    const failed = cases.filter((c) => c.diff);
    const failedQueries = new Set(failed.map((c) => c.query));
    const passedQueries = QUERIES.filter((q) => !failedQueries.has(q.query)).length;
    console.log(
      `PromQL conformance: ${passedQueries}/${QUERIES.length} queries pass ` +
        `(${cases.length - failed.length}/${cases.length} evaluations)`,
    );
    const unexpected = failed.filter((c) => !KNOWN_DIFFERENCES.has(c.query));
    for (const c of unexpected.slice(0, 30)) console.log(`  FAIL ${c.query} [${c.mode}]: ${c.diff}`);
    assert.equal(unexpected.length, 0, `${unexpected.length} evaluations differ from Prometheus`);
  });
});
