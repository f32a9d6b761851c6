import { executionError } from '../errors.ts';
import { formatFloatFixed6 } from '../literals.ts';
import { quantile } from './quantile.ts';

/**
 * Functions over a range-vector window, Prometheus 2.x float semantics. A window is the slice
 * [lo, hi) of one series' time-ordered samples (never empty); they return undefined when they
 * produce no sample for the step.
 */
export interface Window {
  readonly t: ArrayLike<number>;
  readonly v: ArrayLike<number>;
  readonly lo: number;
  readonly hi: number;
  /** The evaluation step's time (ms). */
  readonly stepTime: number;
  /** Window bounds (ms, inclusive) after offset / @. */
  readonly rangeStart: number;
  readonly rangeEnd: number;
  readonly rangeMs: number;
  /** Scalar arguments of the call at this step, in argument order (the range argument excluded). */
  readonly params: readonly number[];
}

export type RangeFunction = (w: Window) => number | undefined;

/** Kahan–Babuška compensated summation (as Prometheus's kahanSumInc), without allocating per addition. */
export class KahanSum {
  sum = 0;
  c = 0;

  add(inc: number): void {
    const t = this.sum + inc;
    if (Math.abs(this.sum) >= Math.abs(inc)) this.c += this.sum - t + inc;
    else this.c += inc - t + this.sum;
    this.sum = t;
  }

  /** The compensated total; an infinite sum is returned as is (the compensation would make it NaN). */
  value(): number {
    if (this.sum === Infinity || this.sum === -Infinity) return this.sum;
    return this.sum + this.c;
  }
}

function extrapolatedRate(w: Window, isCounter: boolean, isRate: boolean): number | undefined {
  const { t, v, lo, hi } = w;
  const count = hi - lo;
  if (count < 2) return undefined;
  const first = v[lo]!;
  const last = v[hi - 1]!;
  let result = last - first;
  if (isCounter) {
    let prev = first;
    for (let i = lo + 1; i < hi; i++) {
      const cur = v[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  let durationToStart = (t[lo]! - w.rangeStart) / 1000;
  const durationToEnd = (w.rangeEnd - t[hi - 1]!) / 1000;
  const sampledInterval = (t[hi - 1]! - t[lo]!) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (count - 1);
  if (isCounter && result > 0 && first >= 0) {
    // A counter cannot go below zero: do not extrapolate further back than its zero point.
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval += durationToStart < threshold ? durationToStart : averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd < threshold ? durationToEnd : averageDurationBetweenSamples / 2;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= w.rangeMs / 1000;
  return result * factor;
}

function instantValue(w: Window, isRate: boolean): number | undefined {
  const { t, v, lo, hi } = w;
  if (hi - lo < 2) return undefined;
  const last = v[hi - 1]!;
  const prev = v[hi - 2]!;
  let result = isRate && last < prev ? last : last - prev;
  const interval = t[hi - 1]! - t[hi - 2]!;
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

/** Least-squares fit of value over time (seconds relative to interceptTime): [slope, intercept]. */
function linearRegression(w: Window, interceptTime: number): [number, number] {
  const { t, v, lo, hi } = w;
  let n = 0;
  const sumX = new KahanSum();
  const sumY = new KahanSum();
  const sumXY = new KahanSum();
  const sumX2 = new KahanSum();
  const initY = v[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const y = v[i]!;
    if (constY && i > lo && y !== initY) constY = false;
    n += 1;
    const x = (t[i]! - interceptTime) / 1e3;
    sumX.add(x);
    sumY.add(y);
    sumXY.add(x * y);
    sumX2.add(x * x);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  const sx = sumX.sum + sumX.c;
  const sy = sumY.sum + sumY.c;
  const sxy = sumXY.sum + sumXY.c;
  const sx2 = sumX2.sum + sumX2.c;
  const covXY = sxy - (sx * sy) / n;
  const varX = sx2 - (sx * sx) / n;
  const slope = covXY / varX;
  return [slope, sy / n - (slope * sx) / n];
}

function holtWinters(w: Window): number | undefined {
  const sf = w.params[0]!;
  const tf = w.params[1]!;
  if (!(sf > 0 && sf < 1)) {
    throw executionError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatFloatFixed6(sf)}`);
  }
  if (!(tf > 0 && tf < 1)) {
    throw executionError(`invalid trend factor. Expected: 0 < tf < 1, got: ${formatFloatFixed6(tf)}`);
  }
  const { v, lo, hi } = w;
  const l = hi - lo;
  if (l < 2) return undefined;
  let s0 = 0;
  let s1 = v[lo]!;
  let b = v[lo + 1]! - v[lo]!;
  for (let i = 1; i < l; i++) {
    const x = sf * v[lo + i]!;
    // The trend at step i-1 (the raw first difference at the start).
    b = i - 1 === 0 ? b : tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

function avgOverTime(w: Window): number {
  const { v, lo, hi } = w;
  const mean = new KahanSum();
  let count = 0;
  for (let i = lo; i < hi; i++) {
    const x = v[i]!;
    count++;
    if (mean.sum === Infinity || mean.sum === -Infinity) {
      // Inf stays Inf unless the other infinity or a NaN arrives.
      if ((x === Infinity || x === -Infinity) && mean.sum > 0 === x > 0) continue;
      if (Number.isFinite(x)) continue;
    }
    mean.add(x / count - mean.sum / count);
  }
  return mean.value();
}

function sumOverTime(w: Window): number {
  const sum = new KahanSum();
  for (let i = w.lo; i < w.hi; i++) sum.add(w.v[i]!);
  return sum.value();
}

function variance(w: Window): number {
  let count = 0;
  const mean = new KahanSum();
  const aux = new KahanSum();
  for (let i = w.lo; i < w.hi; i++) {
    const x = w.v[i]!;
    count++;
    const delta = x - (mean.sum + mean.c);
    mean.add(delta / count);
    aux.add(delta * (x - (mean.sum + mean.c)));
  }
  return (aux.sum + aux.c) / count;
}

function minMax(w: Window, max: boolean): number {
  let m = w.v[w.lo]!;
  for (let i = w.lo; i < w.hi; i++) {
    const x = w.v[i]!;
    if ((max ? x > m : x < m) || Number.isNaN(m)) m = x;
  }
  return m;
}

export const RANGE_FUNCTIONS: ReadonlyMap<string, RangeFunction> = new Map<string, RangeFunction>([
  ['rate', (w) => extrapolatedRate(w, true, true)],
  ['increase', (w) => extrapolatedRate(w, true, false)],
  ['delta', (w) => extrapolatedRate(w, false, false)],
  ['irate', (w) => instantValue(w, true)],
  ['idelta', (w) => instantValue(w, false)],
  ['deriv', (w) => (w.hi - w.lo < 2 ? undefined : linearRegression(w, w.t[w.lo]!)[0])],
  [
    'predict_linear',
    (w) => {
      if (w.hi - w.lo < 2) return undefined;
      const [slope, intercept] = linearRegression(w, w.stepTime);
      return slope * w.params[0]! + intercept;
    },
  ],
  ['holt_winters', holtWinters],
  [
    'resets',
    (w) => {
      let n = 0;
      for (let i = w.lo + 1; i < w.hi; i++) if (w.v[i]! < w.v[i - 1]!) n++;
      return n;
    },
  ],
  [
    'changes',
    (w) => {
      let n = 0;
      for (let i = w.lo + 1; i < w.hi; i++) {
        const cur = w.v[i]!;
        const prev = w.v[i - 1]!;
        if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) n++;
      }
      return n;
    },
  ],
  ['avg_over_time', avgOverTime],
  ['sum_over_time', sumOverTime],
  ['count_over_time', (w) => w.hi - w.lo],
  ['min_over_time', (w) => minMax(w, false)],
  ['max_over_time', (w) => minMax(w, true)],
  ['stddev_over_time', (w) => Math.sqrt(variance(w))],
  ['stdvar_over_time', variance],
  ['last_over_time', (w) => w.v[w.hi - 1]!],
  ['present_over_time', () => 1],
  ['absent_over_time', () => 1],
  [
    'quantile_over_time',
    (w) => {
      const values: number[] = [];
      for (let i = w.lo; i < w.hi; i++) values.push(w.v[i]!);
      return quantile(w.params[0]!, values);
    },
  ],
]);
