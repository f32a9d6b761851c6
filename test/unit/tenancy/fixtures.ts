import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openControlPlane, type ControlPlane } from '../../../src/tenancy/open.ts';
import type { ServiceContext } from '../../../src/tenancy/services/context.ts';
import type { AuditActor } from '../../../src/tenancy/store.ts';

/** Shared by the tenancy, auth, cli and admin tests: a throw-away data dir with a control plane. */
export interface TestPlane extends ControlPlane {
  ctx: ServiceContext;
  cleanup(): Promise<void>;
}

export const TEST_ACTOR: AuditActor = { actor: 'test', sourceAddr: '127.0.0.1' };

export function tempDir(prefix = 'irin-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function openTestPlane(
  options: { dataDir?: string; busyTimeoutMs?: number; now?: () => number } = {},
): Promise<TestPlane> {
  const dataDir = options.dataDir ?? tempDir();
  const plane = openControlPlane({
    dataDir,
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  await plane.store.ready();
  return {
    ...plane,
    ctx: {
      store: plane.store,
      hasher: plane.hasher,
      by: TEST_ACTOR,
      ...(options.now ? { now: options.now } : {}),
    },
    async cleanup() {
      await plane.store.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
