import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTsdb, type Tsdb } from '../../src/tsdb/db.ts';
import { buildDataset, type Dataset } from './dataset.ts';
import { missingBinaries } from '../support/binaries.ts';
import { PrometheusServer, PROMETHEUS_BIN } from './prometheus-server.ts';
import { QUERIES } from './queries.ts';
import { runConformance, type Backend } from './run.ts';
import { MemoryQuerier } from '../unit/promql/memory-querier.ts';

/**
 * PromQL conformance: every query of queries.ts is evaluated by a real Prometheus 2.42 (fed the
 * dataset over remote write) and by Irin's engine over the same samples — held in memory and
 * stored in Irin's own TSDB — as instant queries at three times, as a range query and through
 * format_query. The outcomes must be equal (values to 1e-9 relative, label sets exactly, errors
 * by errorType). A deliberate difference would be listed here with its entry in
 * docs/promql-differences.md.
 */
const KNOWN_DIFFERENCES: ReadonlySet<string> = new Set<string>([]);

const skip = missingBinaries(PROMETHEUS_BIN);

describe('PromQL conformance with Prometheus 2.42', { skip }, () => {
  let prom: PrometheusServer;
  let dataset: Dataset;
  let tsdb: Tsdb;
  let tsdbDir: string;

  before(async () => {
    dataset = buildDataset(Date.now());
    tsdbDir = mkdtempSync(join(tmpdir(), 'irin-conformance-'));
    tsdb = await openTsdb({ dir: tsdbDir });
    const appended = await tsdb.append({ series: dataset.series });
    assert.equal(appended.rejected.length, 0, 'the TSDB refused samples of the dataset');
    prom = await PrometheusServer.start();
    await prom.push(dataset.series);
  });

  after(async () => {
    await prom?.stop();
    await tsdb?.close();
    if (tsdbDir) rmSync(tsdbDir, { recursive: true, force: true });
  });

  it(`agrees with Prometheus on ${QUERIES.length} queries`, async () => {
    assert.ok(QUERIES.length >= 300, 'the suite must keep at least 300 queries');
    const backends: Backend[] = [
      { name: 'memory', querier: new MemoryQuerier(dataset.series) },
      { name: 'tsdb', querier: tsdb.querier() },
    ];
    const cases = await runConformance(prom, backends, QUERIES, dataset.t0);
    const failed = cases.filter((c) => c.diff);
    const failedQueries = new Set(failed.map((c) => c.query));
    const passedQueries = QUERIES.filter((q) => !failedQueries.has(q.query)).length;
    console.log(
      `PromQL conformance: ${passedQueries}/${QUERIES.length} queries pass ` +
        `(${cases.length - failed.length}/${cases.length} checks: instant and range evaluations over ${backends.map((b) => b.name).join(' and ')} storage, and format_query)`,
    );
    const unexpected = failed.filter((c) => !KNOWN_DIFFERENCES.has(c.query));
    for (const c of unexpected.slice(0, 30))
      console.log(`  FAIL ${c.query} [${c.mode}, ${c.backend}]: ${c.diff}`);
    assert.equal(unexpected.length, 0, `${unexpected.length} evaluations differ from Prometheus`);
  });
});
