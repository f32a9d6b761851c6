import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { HTTP_ATTACKS } from '../../src/isolation/attacks.ts';
import { ISOLATION_LAYERS, type IsolationLayer } from '../../src/isolation/faults.ts';
import { runAttacks } from '../../src/isolation/run.ts';
import { startIsolationTarget } from './harness.ts';
import { expectation, formatMatrix, runName, type FaultRun } from './matrix.ts';

/**
 * Independence of the isolation layers, executed: the attack table runs against the real server
 * with no layer off, with each single layer off, and with every guard of a multi-guard attack off
 * together. With one layer off every attack that has another guard must stay contained; with all
 * of its guards off an attack must get through (which shows the probe can see a breach at all).
 * The matrix is printed for the record (docs/security.md quotes it).
 */

/** Two-layer runs: the guard sets of attacks that rely on exactly those two layers. */
function guardSets(): IsolationLayer[][] {
  const sets = new Map<string, IsolationLayer[]>();
  for (const a of HTTP_ATTACKS) {
    if (a.guards.length < 2) continue;
    const sorted = ISOLATION_LAYERS.filter((l) => a.guards.includes(l));
    sets.set(sorted.join(','), sorted);
  }
  return [...sets.values()];
}

const CONFIGS: IsolationLayer[][] = [[], ...ISOLATION_LAYERS.map((l) => [l]), ...guardSets()];

describe('isolation layers switched off one at a time', () => {
  const runs: FaultRun[] = [];

  after(() => {
    if (runs.length === 0) return;
    console.log(
      `\nIsolation matrix (${HTTP_ATTACKS.length} attacks × ${runs.length} runs):\n\n${formatMatrix(HTTP_ATTACKS, runs)}\n`,
    );
  });

  for (const off of CONFIGS) {
    test(`layers off: ${runName(off)}`, async () => {
      const target = await startIsolationTarget(off);
      let results;
      try {
        results = await runAttacks(HTTP_ATTACKS, target.canaries.ctx);
      } finally {
        await target.close();
      }
      runs.push({ off, results: new Map(results.map((r) => [r.id, r])) });

      const errors = results.filter((r) => r.status === 'error');
      assert.deepEqual(
        errors.map((r) => `${r.id}: ${r.detail}`),
        [],
        'probes that could not run',
      );
      const wrong: string[] = [];
      for (const attack of HTTP_ATTACKS) {
        const r = results.find((x) => x.id === attack.id)!;
        if (r.status === 'n/a') continue;
        const expected = expectation(attack, off);
        // Runs with several layers off promise nothing beyond "the probe sees the breach".
        if (off.length > 1 && expected === 'contained') continue;
        if (expected === 'contained' && r.status !== 'contained')
          wrong.push(`${attack.id} got through with ${runName(off)} off: ${r.detail}`);
        if (expected === 'breach' && r.status !== 'BREACH') {
          wrong.push(
            `${attack.id} stayed contained with all its guards (${runName(off)}) off — the probe cannot see a breach: ${r.detail}`,
          );
        }
      }
      assert.deepEqual(wrong, []);
    });
  }
});
