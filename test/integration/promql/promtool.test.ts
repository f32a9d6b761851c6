import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { missingBinaries, PROMTOOL_BIN } from '../../support/binaries.ts';
import { buildApiApp, T0 } from './api-harness.ts';

/** Debian's promtool (Prometheus 2.42) queries Irin's Prometheus API with a read key. */

const PROMTOOL = process.env.PROMTOOL_BIN ?? PROMTOOL_BIN;
const run = promisify(execFile);
const skip = missingBinaries(PROMTOOL);

describe('promtool against the Prometheus API', { skip }, () => {
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    ({ app } = await buildApiApp());
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    base = `${address}/prometheus`;
  });
  after(() => app.close());

  it('runs an instant query with the key as basic-auth password', async () => {
    const url = base.replace('http://', 'http://apikey:read-acme@');
    const { stdout } = await run(PROMTOOL, [
      'query',
      'instant',
      `--time=${(T0 + 1_800_000) / 1000}`,
      url,
      'sum by (job) (rate(http_requests_total[5m]))',
    ]);
    assert.match(stdout, /\{job="api"\} => 0\.2 @\[1700001800\]/);
  });

  it('runs a range query with the key in an Authorization header', async () => {
    const { stdout } = await run(PROMTOOL, [
      'query',
      'range',
      '--header=Authorization: Bearer read-acme',
      `--start=${T0 / 1000}`,
      `--end=${T0 / 1000 + 60}`,
      '--step=30s',
      base,
      'up',
    ]);
    assert.match(stdout, /up\{instance="acme-1", job="node", tenant="acme"\} =>/);
    assert.match(stdout, /0 @\[1700000000\]\n0 @\[1700000030\]\n0 @\[1700000060\]/);
  });

  it('fails without a key', async () => {
    await assert.rejects(run(PROMTOOL, ['query', 'instant', base, 'up']), /401|unauthorized|credentials/i);
  });
});
