import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { provisionCanaries, type Canaries } from '../../src/isolation/canaries.ts';
import { runAttacks } from '../../src/isolation/run.ts';
import type { AttackResult } from '../../src/isolation/types.ts';
import { tempDir } from '../support/irin.ts';
import { exitOf, spawnIrin, type IrinProcess } from '../support/process.ts';
import { ALL_ATTACKS, NOISY_LIMITS_A } from './attacks.ts';
import { createAdminKey } from './harness.ts';

/**
 * Breaches the design does not contain today, each stated in docs/security.md ("Known gaps"). They
 * are still run and printed, and must still run cleanly (an `error` fails the test).
 */
const KNOWN_GAPS = new Map([
  [
    'limits.noisy-neighbour',
    "no per-tenant query concurrency or CPU budget: A's back-to-back load shares B's event loop",
  ],
]);

/**
 * The cross-tenant attack suite against `irin serve` as a real process (so the noisy-neighbour
 * latencies are the server's, not this test's event loop): two canary tenants with metrics, logs,
 * probe endpoints and console users; every attack of the table must be contained.
 */
describe('cross-tenant attack suite against irin serve', () => {
  let dataDir: string;
  let irin: IrinProcess;
  let canaries: Canaries;
  let results: AttackResult[] = [];

  before(async () => {
    dataDir = tempDir('irin-isolation-');
    // The probes present bad credentials from one address on purpose; a 429 would hide the answer.
    irin = await spawnIrin(dataDir, { IRIN_AUTH_FAILURE_LIMIT: '1000000' });
    canaries = await provisionCanaries({
      url: irin.url,
      adminKey: await createAdminKey(dataDir),
      limitsA: NOISY_LIMITS_A,
      consoleUsers: { consoleUrl: irin.url },
    });
  });

  after(async () => {
    if (results.length) {
      const width = Math.max(...results.map((r) => r.id.length));
      console.log(
        `\nAttack suite (${results.length} attacks, no layer off):\n` +
          results
            .map(
              (r) =>
                `  ${r.status.padEnd(9)} ${r.id.padEnd(width)}  ${r.detail}${r.status === 'BREACH' && KNOWN_GAPS.has(r.id) ? ` [known gap: ${KNOWN_GAPS.get(r.id)}]` : ''}`,
            )
            .join('\n') +
          '\n',
      );
    }
    await canaries?.cleanup();
    irin?.child.kill('SIGTERM');
    if (irin) await exitOf(irin.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('every attack is contained', async () => {
    results = await runAttacks(ALL_ATTACKS, canaries.ctx);
    const notContained = results.filter(
      (r) => r.status === 'error' || (r.status === 'BREACH' && !KNOWN_GAPS.has(r.id)),
    );
    assert.deepEqual(
      notContained.map((r) => `${r.status} ${r.id}: ${r.detail}`),
      [],
    );
    // Loki and the console are mounted by the runtime: nothing may be skipped here.
    assert.deepEqual(
      results.filter((r) => r.status === 'n/a').map((r) => r.id),
      [],
    );
  });
});
