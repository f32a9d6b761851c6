import { injectIsolationFaults, type IsolationLayer } from '../../src/isolation/faults.ts';
import { provisionCanaries, type Canaries } from '../../src/isolation/canaries.ts';
import { openControlPlane } from '../../src/tenancy/open.ts';
import { createCredential } from '../../src/tenancy/services/credentials.ts';
import { startTestIrin, type TestIrin } from '../support/irin.ts';

/**
 * The phrase that unlocks src/isolation/faults.ts. It lives only here (faults.ts keeps its
 * SHA-256), so no code outside the tests can switch a layer off.
 */
export const FAULT_MARKER =
  'test/isolation only: switch one isolation layer off to prove the other layers contain every attack';

/** An admin key made the way `irin admin-key create` makes it: on the data dir's control plane. */
export async function createAdminKey(dataDir: string): Promise<string> {
  const cp = openControlPlane({ dataDir });
  try {
    const issued = await createCredential(
      { store: cp.store, hasher: cp.hasher, by: { actor: 'test', sourceAddr: null } },
      'admin',
      undefined,
      {
        name: 'isolation-test',
      },
    );
    return issued.token;
  } finally {
    await cp.store.close();
  }
}

export interface IsolationTarget {
  readonly irin: TestIrin;
  readonly canaries: Canaries;
  close(): Promise<void>;
}

/**
 * The real server in this process with the given layers switched off (switched before it starts,
 * so stores and caches are built with the fault), holding two canary tenants with data and two
 * console users. The failure limiter is relaxed: the probes present many bad credentials from one
 * address on purpose, and a 429 must not hide what the layer under test would have done.
 */
export async function startIsolationTarget(
  layersOff: readonly IsolationLayer[] = [],
): Promise<IsolationTarget> {
  injectIsolationFaults(layersOff, FAULT_MARKER);
  let irin: TestIrin | undefined;
  try {
    irin = await startTestIrin({ 'auth.failure_limit': 1_000_000 });
    const adminKey = await createAdminKey(irin.dataDir);
    const canaries = await provisionCanaries({
      url: irin.url,
      adminKey,
      consoleUsers: { consoleUrl: irin.url },
    });
    const running = irin;
    return {
      irin: running,
      canaries,
      async close() {
        try {
          await canaries.cleanup();
          await running.stop();
        } finally {
          injectIsolationFaults([], FAULT_MARKER);
        }
      },
    };
  } catch (err) {
    await irin?.stop();
    injectIsolationFaults([], FAULT_MARKER);
    throw err;
  }
}
