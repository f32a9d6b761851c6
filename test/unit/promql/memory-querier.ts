import { compareLabels, compareLabelSets, type Labels } from '../../../src/model/labels.ts';
import { matchesAll, type Matcher } from '../../../src/model/matchers.ts';
import type { Querier, SeriesData } from '../../../src/tsdb/types.ts';

export interface MemorySeries {
  readonly labels: Labels;
  readonly samples: readonly { t: number; v: number }[];
}

/** A Querier over series held in memory (tests, conformance suite, benchmark). */
export class MemoryQuerier implements Querier {
  private readonly series: { labels: Labels; t: Float64Array; v: Float64Array }[];

  constructor(series: readonly MemorySeries[]) {
    this.series = series
      .map((s) => {
        const samples = [...s.samples].sort((a, b) => a.t - b.t);
        return {
          labels: [...s.labels].sort(compareLabels),
          t: Float64Array.from(samples, (x) => x.t),
          v: Float64Array.from(samples, (x) => x.v),
        };
      })
      .sort((a, b) => compareLabelSets(a.labels, b.labels));
  }

  /** How many select() calls were made (tests check that selectors are loaded once). */
  selectCalls = 0;

  select(matchers: readonly Matcher[], mint: number, maxt: number): SeriesData[] {
    this.selectCalls++;
    const out: SeriesData[] = [];
    for (const s of this.series) {
      if (!matchesAll(s.labels, matchers)) continue;
      let lo = 0;
      while (lo < s.t.length && s.t[lo]! < mint) lo++;
      let hi = lo;
      while (hi < s.t.length && s.t[hi]! <= maxt) hi++;
      if (hi > lo)
        out.push({ labels: s.labels, timestamps: s.t.subarray(lo, hi), values: s.v.subarray(lo, hi) });
    }
    return out;
  }

  labelNames(matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    const names = new Set<string>();
    for (const s of this.select(matchers, mint, maxt)) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  labelValues(name: string, matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    const values = new Set<string>();
    for (const s of this.select(matchers, mint, maxt)) {
      for (const l of s.labels) if (l.name === name) values.add(l.value);
    }
    return [...values].sort();
  }
}

/** Builds labels from a record: `labels({__name__: 'up', job: 'x'})`. */
export function labels(record: Record<string, string>): Labels {
  return Object.entries(record)
    .map(([name, value]) => ({ name, value }))
    .sort(compareLabels);
}
