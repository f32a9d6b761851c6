import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

/** Debian's binaries as `.ci/run` installs them (packages prometheus, prometheus-node-exporter, prometheus-blackbox-exporter). */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const PROMTOOL_BIN = '/usr/bin/promtool';
export const NODE_EXPORTER_BIN = '/usr/bin/prometheus-node-exporter';
export const BLACKBOX_EXPORTER_BIN = '/usr/bin/prometheus-blackbox-exporter';

/**
 * For tests that drive real binaries (prometheus, promtool, node_exporter, chromium…): why they
 * cannot run here — a skip reason — or undefined when all are installed. With CI=true a missing
 * binary throws instead, since `.ci/run` installs them: CI never skips.
 */
export function missingBinaries(...paths: string[]): string | undefined {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length === 0) return undefined;
  if (process.env.CI === 'true')
    throw new Error(
      `${missing.join(' and ')} missing: .ci/run must install ${missing.length > 1 ? 'them' : 'it'}`,
    );
  return `${missing.join(', ')} not installed`;
}

/** missingBinaries for one test: skips it locally (returning false), fails it under CI=true. */
export function haveBinary(t: TestContext, path: string): boolean {
  const reason = missingBinaries(path);
  if (reason === undefined) return true;
  t.skip(reason);
  return false;
}
