import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

/**
 * For tests that drive a real Debian binary (prometheus, promtool, node_exporter, chromium…).
 * Locally a missing binary skips the test; with CI=true it fails it, since `.ci/run` installs them.
 */
export function haveBinary(t: TestContext, path: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI === 'true') throw new Error(`${path} is missing: .ci/run must install it`);
  t.skip(`${path} not installed`);
  return false;
}
