import type { Label, Labels } from '../model/labels.ts';
import type { SeriesData } from './types.ts';

/** Shares equal strings between series (label names and values repeat a lot). */
export class StringInterner {
  private map = new Map<string, string>();

  intern(s: string): string {
    const got = this.map.get(s);
    if (got !== undefined) return got;
    this.map.set(s, s);
    return s;
  }

  internLabels(labels: Labels): Label[] {
    const out: Label[] = new Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i]!;
      out[i] = { name: this.intern(l.name), value: this.intern(l.value) };
    }
    return out;
  }

  clear(): void {
    this.map.clear();
  }
}

/** Growable pair of sample columns used while collecting a series' samples from its chunks. */
export class SampleBuffer {
  ts = new Float64Array(1024);
  vs = new Float64Array(1024);
  n = 0;

  ensure(extra: number): void {
    const need = this.n + extra;
    if (need <= this.ts.length) return;
    let cap = this.ts.length * 2;
    while (cap < need) cap *= 2;
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    ts.set(this.ts.subarray(0, this.n));
    vs.set(this.vs.subarray(0, this.n));
    this.ts = ts;
    this.vs = vs;
  }

  /** Drops samples decoded at [from, n) that fall outside [mint, maxt] (chunks overlap the range). */
  clip(from: number, mint: number, maxt: number): void {
    let w = from;
    for (let i = from; i < this.n; i++) {
      const t = this.ts[i]!;
      if (t < mint || t > maxt) continue;
      this.ts[w] = t;
      this.vs[w] = this.vs[i]!;
      w++;
    }
    this.n = w;
  }

  take(labels: Labels): SeriesData {
    const out: SeriesData = {
      labels,
      timestamps: this.ts.slice(0, this.n),
      values: this.vs.slice(0, this.n),
    };
    this.n = 0;
    return out;
  }
}

/**
 * Merges per-source results for the same label set (head + blocks) into one series. Each part is
 * ascending; a timestamp present in several parts is kept once (from the part starting first).
 */
export function mergeSeriesData(parts: SeriesData[]): SeriesData {
  if (parts.length === 1) return parts[0]!;
  parts.sort((a, b) => (a.timestamps[0] ?? 0) - (b.timestamps[0] ?? 0));
  let disjoint = true;
  for (let i = 1; i < parts.length; i++) {
    const prev = parts[i - 1]!;
    if (prev.timestamps[prev.timestamps.length - 1]! >= parts[i]!.timestamps[0]!) disjoint = false;
  }
  let total = 0;
  for (const p of parts) total += p.timestamps.length;
  const ts = new Float64Array(total);
  const vs = new Float64Array(total);
  let n = 0;
  if (disjoint) {
    for (const p of parts) {
      ts.set(p.timestamps, n);
      vs.set(p.values, n);
      n += p.timestamps.length;
    }
  } else {
    const idx = new Array<number>(parts.length).fill(0);
    for (;;) {
      let best = -1;
      let bestT = Infinity;
      for (let k = 0; k < parts.length; k++) {
        const i = idx[k]!;
        const p = parts[k]!;
        if (i < p.timestamps.length && p.timestamps[i]! < bestT) {
          bestT = p.timestamps[i]!;
          best = k;
        }
      }
      if (best < 0) break;
      ts[n] = bestT;
      vs[n] = parts[best]!.values[idx[best]!]!;
      n++;
      for (let k = 0; k < parts.length; k++) {
        const p = parts[k]!;
        while (idx[k]! < p.timestamps.length && p.timestamps[idx[k]!] === bestT) idx[k]!++;
      }
    }
  }
  return { labels: parts[0]!.labels, timestamps: ts.subarray(0, n), values: vs.subarray(0, n) };
}
