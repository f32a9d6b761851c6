import type { RangeSeries } from './api.ts';
import type { ChartSeries } from './components/TimeSeriesChart.tsx';

/** The evaluation timestamps of a range query (unix seconds), as Prometheus steps them. */
export function stepTimestamps(startMs: number, endMs: number, stepSeconds: number): number[] {
  const out: number[] = [];
  const start = startMs / 1000;
  const end = endMs / 1000;
  for (let t = start; t <= end + 1e-9; t += stepSeconds) out.push(Math.round(t * 1000) / 1000);
  return out;
}

/**
 * Aligns range-query series on the shared step grid; missing points stay null (drawn as gaps).
 * `label` names each series from its labels; `scale` converts values (e.g. bytes → bits).
 */
export function alignSeries(
  series: RangeSeries[],
  timestamps: number[],
  label: (metric: Record<string, string>) => string,
  scale = 1,
): ChartSeries[] {
  const index = new Map<number, number>();
  timestamps.forEach((t, i) => index.set(Math.round(t * 1000), i));
  return series
    .map((s) => {
      const values: (number | null)[] = new Array(timestamps.length).fill(null);
      for (const [t, v] of s.values) {
        const i = index.get(Math.round(t * 1000));
        const x = parseFloat(v);
        if (i !== undefined && Number.isFinite(x)) values[i] = x * scale;
      }
      return { label: label(s.metric), values };
    })
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** The range aligned to whole steps (stable points across refreshes, cache-friendly queries). */
export function alignedRange(
  startMs: number,
  endMs: number,
  stepSeconds: number,
): { start: number; end: number } {
  const stepMs = stepSeconds * 1000;
  return { start: Math.floor(startMs / stepMs) * stepMs, end: Math.floor(endMs / stepMs) * stepMs };
}
