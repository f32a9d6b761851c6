import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident and peak resident memory of a process, bytes. */
export function processMemory(pid: number): { rss: number; peakRss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
}

export function dirBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Block directories (Irin's and Prometheus's both hold meta.json with stats.numSamples). */
export function blockStats(root: string): {
  blocks: number;
  bytes: number;
  samples: number;
  bytesPerSample: number;
} {
  let blocks = 0;
  let bytes = 0;
  let samples = 0;
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const p = join(dir, entry.name);
      let meta: { stats?: { numSamples?: number } } | undefined;
      try {
        meta = JSON.parse(readFileSync(join(p, 'meta.json'), 'utf8')) as { stats?: { numSamples?: number } };
      } catch {
        meta = undefined;
      }
      if (meta?.stats?.numSamples !== undefined && !entry.name.endsWith('.tmp')) {
        blocks++;
        bytes += dirBytes(p);
        samples += meta.stats.numSamples;
      } else {
        visit(p);
      }
    }
  };
  visit(root);
  return { blocks, bytes, samples, bytesPerSample: samples > 0 ? bytes / samples : NaN };
}
