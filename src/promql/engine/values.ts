import type { Labels } from '../../model/labels.ts';
import { DUPLICATE_LABELSET, executionError } from '../errors.ts';

/**
 * Values flowing between evaluator nodes. Every node is evaluated once over a step grid (one
 * step for instant queries); an instant-vector result is a list of series with the step
 * indices where they have a value.
 */

export interface Grid {
  /** Timestamp (ms) of step 0. */
  readonly start: number;
  /** Step width (ms); irrelevant when n = 1. */
  readonly step: number;
  /** Number of steps (0 for an empty subquery window). */
  readonly n: number;
}

export function gridTime(g: Grid, i: number): number {
  return g.start + i * g.step;
}

export interface StepSeries {
  readonly labels: Labels;
  /** Ascending step indices with a value. */
  readonly steps: number[];
  readonly values: number[];
  /** For plain selectors: the timestamps of the samples picked at each step (timestamp() needs them). */
  readonly sampleTimes?: number[];
}

/** Raw samples in time order (a range selection or a subquery's points), stale markers removed. */
export interface RawSeries {
  readonly labels: Labels;
  readonly t: ArrayLike<number>;
  readonly v: ArrayLike<number>;
}

export type Value =
  | { readonly kind: 'vector'; readonly series: StepSeries[] }
  | { readonly kind: 'scalar'; readonly values: Float64Array }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'matrix'; readonly series: RawSeries[] };

export type VectorValue = Extract<Value, { kind: 'vector' }>;
export type ScalarValue = Extract<Value, { kind: 'scalar' }>;

export function vectorValue(series: StepSeries[]): VectorValue {
  return { kind: 'vector', series };
}

export function scalarValue(values: Float64Array): ScalarValue {
  return { kind: 'scalar', values };
}

interface Building {
  labels: Labels;
  steps: number[];
  values: number[];
}

/**
 * Assembles result series from per-step outputs, merging outputs with the same label set (as
 * Prometheus does across steps) and refusing two outputs with the same label set at one step.
 * Series come out in order of first appearance (the order of an instant query's result).
 */
export class SeriesCollector {
  private readonly byKey = new Map<string, Building>();
  private readonly order: Building[] = [];

  add(key: string, labels: Labels | (() => Labels), step: number, value: number): void {
    let s = this.byKey.get(key);
    if (!s) {
      s = { labels: typeof labels === 'function' ? labels() : labels, steps: [], values: [] };
      this.byKey.set(key, s);
      this.order.push(s);
    } else if (s.steps[s.steps.length - 1] === step) {
      throw executionError(DUPLICATE_LABELSET);
    }
    s.steps.push(step);
    s.values.push(value);
  }

  /** Adds a whole series; its steps must not overlap with what is already collected under the key. */
  addSeries(key: string, labels: Labels, steps: readonly number[], values: readonly number[]): void {
    const s = this.byKey.get(key);
    if (!s) {
      const b = { labels, steps: [...steps], values: [...values] };
      this.byKey.set(key, b);
      this.order.push(b);
      return;
    }
    // Merge two ascending step lists, refusing a step present in both.
    const steps2: number[] = [];
    const values2: number[] = [];
    let i = 0;
    let j = 0;
    while (i < s.steps.length || j < steps.length) {
      const a = i < s.steps.length ? s.steps[i]! : Infinity;
      const b = j < steps.length ? steps[j]! : Infinity;
      if (a === b) throw executionError(DUPLICATE_LABELSET);
      if (a < b) {
        steps2.push(a);
        values2.push(s.values[i++]!);
      } else {
        steps2.push(b);
        values2.push(values[j++]!);
      }
    }
    s.steps = steps2;
    s.values = values2;
  }

  get size(): number {
    return this.order.length;
  }

  result(): StepSeries[] {
    return this.order;
  }
}

/**
 * Walks a list of series step by step (steps visited in increasing order), exposing the series
 * that have a value at the current step: `idx[0..count)` and their `val`.
 */
export class StepCursor {
  private readonly pos: Int32Array;
  readonly idx: Int32Array;
  readonly val: Float64Array;
  count = 0;

  constructor(readonly series: readonly StepSeries[]) {
    this.pos = new Int32Array(series.length);
    this.idx = new Int32Array(series.length);
    this.val = new Float64Array(series.length);
  }

  load(step: number): void {
    let c = 0;
    const series = this.series;
    for (let s = 0; s < series.length; s++) {
      const p = this.pos[s]!;
      const steps = series[s]!.steps;
      if (p < steps.length && steps[p] === step) {
        this.idx[c] = s;
        this.val[c] = series[s]!.values[p]!;
        c++;
        this.pos[s] = p + 1;
      }
    }
    this.count = c;
  }
}

export function totalPoints(series: readonly StepSeries[]): number {
  let n = 0;
  for (const s of series) n += s.steps.length;
  return n;
}
