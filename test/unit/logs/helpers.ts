import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Label } from '../../../src/model/labels.ts';
import { LocalTenantLogStore } from '../../../src/logs/store/tenant-store.ts';

/** Test fixtures: a throwaway store loaded with hand-written streams. */
export interface FixtureStream {
  readonly labels: Record<string, string>;
  /** [ms, line] or [ms, line, metadata] */
  readonly entries: readonly (
    readonly [number, string] | readonly [number, string, Record<string, string>]
  )[];
}

export function toLabels(rec: Record<string, string>): Label[] {
  return Object.entries(rec)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function storeWith(streams: readonly FixtureStream[], opts: { flush?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'irin-logql-'));
  const store = await LocalTenantLogStore.open(dir, { maintenanceIntervalMs: 0, partitionMs: 3600_000 });
  await store.append({
    streams: streams.map((s) => ({
      labels: toLabels(s.labels),
      entries: s.entries.map(([ms, line, meta]) => ({
        ms,
        ns: 0,
        line: Buffer.from(line),
        ...(meta ? { meta: toLabels(meta) } : {}),
      })),
    })),
    outOfOrderWindowMs: 365 * 86_400_000,
    maxActiveStreams: 1000,
    nowMs: Date.now(),
  });
  if (opts.flush) await store.flush();
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
