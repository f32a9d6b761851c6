import { isStaleNaN } from '../../model/samples.ts';
import type { Querier, SeriesData } from '../../tsdb/types.ts';
import {
  unwrapParens,
  type AtModifier,
  type Call,
  type Expr,
  type MatrixSelector,
  type SubqueryExpr,
  type VectorSelector,
} from '../ast.ts';
import { DUPLICATE_LABELSET, executionError } from '../errors.ts';
import { AT_MODIFIER_UNSAFE, FUNCTIONS } from '../function-signatures.ts';
import { aggregate } from './aggregate.ts';
import { scalarBinary, setOperation, vectorBinary, vectorScalarBinary } from './binary.ts';
import type { Budget } from './budget.ts';
import { INSTANT_FUNCTIONS, absentLabels } from './instant-functions.ts';
import { dropMetricName, labelsKey } from './labelset.ts';
import { RANGE_FUNCTIONS, type Window } from './range-functions.ts';
import {
  gridTime,
  scalarValue,
  totalPoints,
  vectorValue,
  type Grid,
  type RawSeries,
  type StepSeries,
  type Value,
  type VectorValue,
} from './values.ts';

export interface EvaluatorOptions {
  readonly querier: Querier;
  readonly budget: Budget;
  readonly lookbackDeltaMs: number;
  /** Step of subqueries written without one (`[1h:]`). */
  readonly defaultSubqueryStepMs: number;
  /** The query's own start and end (what `@ start()` / `@ end()` mean, also inside subqueries). */
  readonly queryStart: number;
  readonly queryEnd: number;
}

/** A range argument's samples and window geometry, as a range function sees them. */
interface RangeSource {
  readonly series: RawSeries[];
  readonly rangeMs: number;
  readonly offsetMs: number;
  readonly at?: AtModifier;
}

/**
 * Evaluates a type-checked AST. Each node is evaluated exactly once, over a grid of steps; every
 * selector's data is fetched once for the whole grid (mint = first step − offset − range or
 * lookback, maxt = last step − offset) and windows slide over it with indices.
 */
export class Evaluator {
  private readonly selectCache = new Map<string, SeriesData[]>();

  constructor(private readonly opts: EvaluatorOptions) {}

  private get budget(): Budget {
    return this.opts.budget;
  }

  private atTime(at: AtModifier): number {
    if (at.kind === 'start') return this.opts.queryStart;
    if (at.kind === 'end') return this.opts.queryEnd;
    return at.ms;
  }

  /** The reference time of step i for something with this offset and @ modifier. */
  private refTime(grid: Grid, i: number, offsetMs: number, at: AtModifier | undefined): number {
    return (at ? this.atTime(at) : gridTime(grid, i)) - offsetMs;
  }

  private refBounds(grid: Grid, offsetMs: number, at: AtModifier | undefined): [number, number] {
    if (at) {
      const t = this.atTime(at) - offsetMs;
      return [t, t];
    }
    return [grid.start - offsetMs, gridTime(grid, grid.n - 1) - offsetMs];
  }

  private select(vs: VectorSelector, mint: number, maxt: number): SeriesData[] {
    const key = `${JSON.stringify(vs.matchers.map((m) => [m.name, m.type, m.value]).sort())}@${mint}:${maxt}`;
    let data = this.selectCache.get(key);
    if (!data) {
      data = this.opts.querier.select(vs.matchers, mint, maxt);
      let samples = 0;
      for (const s of data) samples += s.timestamps.length;
      this.budget.addSamples(samples);
      this.selectCache.set(key, data);
    }
    return data;
  }

  async eval(e: Expr, grid: Grid): Promise<Value> {
    await this.budget.tick();
    if (grid.n > 1 && e.type !== 'NumberLiteral' && e.type !== 'StringLiteral' && isStepInvariant(e)) {
      // Prometheus evaluates step-invariant subtrees (only @-pinned selectors) once and repeats the result.
      const once = await this.evalNode(e, { start: grid.start, step: grid.step, n: 1 });
      return repeat(once, grid);
    }
    return this.evalNode(e, grid);
  }

  private async evalNode(e: Expr, grid: Grid): Promise<Value> {
    switch (e.type) {
      case 'NumberLiteral':
        return scalarValue(new Float64Array(grid.n).fill(e.value));
      case 'StringLiteral':
        return { kind: 'string', value: e.value };
      case 'ParenExpr':
        return this.eval(e.expr, grid);
      case 'VectorSelector':
        return this.vectorSelector(e, grid, false);
      case 'MatrixSelector':
      case 'SubqueryExpr': {
        const source = await this.rangeSource(e, grid);
        return { kind: 'matrix', series: this.windowAt(source, grid, 0) };
      }
      case 'UnaryExpr':
        return this.unary(e, grid);
      case 'BinaryExpr':
        return this.binary(e, grid);
      case 'AggregateExpr': {
        const input = this.expectVector(await this.eval(e.expr, grid));
        let param: Float64Array | string | undefined;
        if (e.param) {
          const p = await this.eval(e.param, grid);
          param = p.kind === 'string' ? p.value : p.kind === 'scalar' ? p.values : undefined;
        }
        const result = await aggregate(e, input.series, param, grid, this.budget);
        this.budget.addSamples(totalPoints(result.series));
        return result;
      }
      case 'Call':
        return this.call(e, grid);
    }
  }

  private expectVector(v: Value): VectorValue {
    if (v.kind !== 'vector') throw new Error(`expected an instant vector, got ${v.kind}`);
    return v;
  }

  /** An instant vector selector: per step the newest sample within the lookback window, unless stale. */
  private async vectorSelector(
    vs: VectorSelector,
    grid: Grid,
    withSampleTimes: boolean,
  ): Promise<VectorValue> {
    const [first, last] = this.refBounds(grid, vs.offsetMs, vs.at);
    const lookback = this.opts.lookbackDeltaMs;
    const data = this.select(vs, first - lookback, last);
    const out: StepSeries[] = [];
    let produced = 0;
    for (const s of data) {
      await this.budget.tick(grid.n + s.timestamps.length);
      const ts = s.timestamps;
      const vals = s.values;
      const steps: number[] = [];
      const values: number[] = [];
      const sampleTimes: number[] | undefined = withSampleTimes ? [] : undefined;
      let j = -1; // index of the newest sample at or before the reference time
      for (let i = 0; i < grid.n; i++) {
        const ref = this.refTime(grid, i, vs.offsetMs, vs.at);
        while (j + 1 < ts.length && ts[j + 1]! <= ref) j++;
        if (j < 0) continue;
        const t = ts[j]!;
        if (t < ref - lookback) continue;
        const v = vals[j]!;
        if (isStaleNaN(v)) continue;
        steps.push(i);
        values.push(v);
        sampleTimes?.push(t);
      }
      if (steps.length > 0) {
        produced += steps.length;
        out.push(
          sampleTimes
            ? { labels: s.labels, steps, values, sampleTimes }
            : { labels: s.labels, steps, values },
        );
      }
    }
    this.budget.addSamples(produced);
    return vectorValue(out);
  }

  /** The samples a range function slides over: a range selection, or a subquery's results. */
  private async rangeSource(e: MatrixSelector | SubqueryExpr, grid: Grid): Promise<RangeSource> {
    if (e.type === 'MatrixSelector') {
      const vs = e.selector;
      const [first, last] = this.refBounds(grid, vs.offsetMs, vs.at);
      const data = this.select(vs, first - e.rangeMs, last);
      const series = data.map((s) => withoutStaleMarkers(s)).filter((s) => s.t.length > 0);
      return { series, rangeMs: e.rangeMs, offsetMs: vs.offsetMs, ...(vs.at ? { at: vs.at } : {}) };
    }
    const step = e.stepMs || this.opts.defaultSubqueryStepMs;
    const [first, last] = this.refBounds(grid, e.offsetMs, e.at);
    // Subquery steps are aligned to absolute multiples of the step, as in Prometheus.
    let start = step * Math.trunc((first - e.rangeMs) / step);
    if (start < first - e.rangeMs) start += step;
    const n = last >= start ? Math.floor((last - start) / step) + 1 : 0;
    const inner = n > 0 ? this.expectVector(await this.eval(e.expr, { start, step, n })) : vectorValue([]);
    const series: RawSeries[] = inner.series.map((s) => ({
      labels: s.labels,
      t: Float64Array.from(s.steps, (i) => start + i * step),
      v: Float64Array.from(s.values),
    }));
    return { series, rangeMs: e.rangeMs, offsetMs: e.offsetMs, ...(e.at ? { at: e.at } : {}) };
  }

  /** The raw samples of each series inside the window of step i (an instant query of a range vector). */
  private windowAt(source: RangeSource, grid: Grid, i: number): RawSeries[] {
    const end = this.refTime(grid, i, source.offsetMs, source.at);
    const start = end - source.rangeMs;
    const out: RawSeries[] = [];
    for (const s of source.series) {
      const lo = lowerBound(s.t, start);
      const hi = upperBound(s.t, end);
      if (hi > lo)
        out.push({ labels: s.labels, t: Array.from(s.t).slice(lo, hi), v: Array.from(s.v).slice(lo, hi) });
    }
    return out;
  }

  private async call(e: Call, grid: Grid): Promise<Value> {
    const sig = FUNCTIONS.get(e.func);
    if (!sig) throw executionError(`unknown function ${e.func}`);
    const rangeArgIndex = sig.args.indexOf('matrix');
    if (rangeArgIndex >= 0) return this.rangeCall(e, grid, rangeArgIndex);
    const fn = INSTANT_FUNCTIONS.get(e.func);
    if (!fn) throw executionError(`function ${e.func} is not implemented`);
    const args: Value[] = [];
    for (let i = 0; i < e.args.length; i++) {
      const arg = unwrapParens(e.args[i]!);
      if (e.func === 'timestamp' && arg.type === 'VectorSelector')
        args.push(await this.vectorSelector(arg, grid, true));
      else args.push(await this.eval(e.args[i]!, grid));
    }
    const result = await fn({ grid, args, argExprs: e.args, budget: this.budget });
    if (result.kind === 'vector') this.budget.addSamples(totalPoints(result.series));
    return result;
  }

  /** A function over a range vector: windows slide over each series' samples, step by step. */
  private async rangeCall(e: Call, grid: Grid, rangeArgIndex: number): Promise<Value> {
    const fn = RANGE_FUNCTIONS.get(e.func);
    if (!fn) throw executionError(`function ${e.func} is not implemented`);
    const rangeArg = unwrapParens(e.args[rangeArgIndex]!);
    if (rangeArg.type !== 'MatrixSelector' && rangeArg.type !== 'SubqueryExpr') {
      throw executionError(`expected a range vector argument to ${e.func}`);
    }
    const params: Float64Array[] = [];
    for (let i = 0; i < e.args.length; i++) {
      if (i === rangeArgIndex) continue;
      const v = await this.eval(e.args[i]!, grid);
      if (v.kind !== 'scalar') throw executionError(`expected a scalar argument to ${e.func}`);
      params.push(v.values);
    }
    const source = await this.rangeSource(rangeArg, grid);
    const keepName = e.func === 'last_over_time';
    const out: StepSeries[] = [];
    const stepParams: number[] = new Array<number>(params.length).fill(0);
    let produced = 0;
    for (const s of source.series) {
      const steps: number[] = [];
      const values: number[] = [];
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < grid.n; i++) {
        if (this.budget.shouldYield(hi - lo + 1)) await this.budget.yield();
        const rangeEnd = this.refTime(grid, i, source.offsetMs, source.at);
        const rangeStart = rangeEnd - source.rangeMs;
        // Window bounds only move forward (or stay, with @), so two indices suffice.
        if (source.at) {
          lo = lowerBound(s.t, rangeStart);
          hi = upperBound(s.t, rangeEnd);
        } else {
          while (lo < s.t.length && s.t[lo]! < rangeStart) lo++;
          if (hi < lo) hi = lo;
          while (hi < s.t.length && s.t[hi]! <= rangeEnd) hi++;
        }
        if (hi <= lo) continue;
        for (let p = 0; p < params.length; p++) stepParams[p] = params[p]![i]!;
        const w: Window = {
          t: s.t,
          v: s.v,
          lo,
          hi,
          stepTime: gridTime(grid, i),
          rangeStart,
          rangeEnd,
          rangeMs: source.rangeMs,
          params: stepParams,
        };
        const r = fn(w);
        if (r !== undefined) {
          steps.push(i);
          values.push(r);
        }
      }
      if (steps.length > 0) {
        produced += steps.length;
        out.push({ labels: keepName ? s.labels : dropMetricName(s.labels), steps, values });
      }
    }
    this.budget.addSamples(produced);
    if (e.func === 'absent_over_time') return absentOverTime(e, out, grid);
    assertUniqueLabelSets(out);
    return vectorValue(out);
  }

  private async unary(e: Extract<Expr, { type: 'UnaryExpr' }>, grid: Grid): Promise<Value> {
    const v = await this.eval(e.expr, grid);
    if (e.op === '+') return v;
    if (v.kind === 'scalar') return scalarValue(v.values.map((x) => -x));
    const series = this.expectVector(v).series.map((s) => ({
      labels: dropMetricName(s.labels),
      steps: s.steps,
      values: s.values.map((x) => -x),
    }));
    assertUniqueLabelSets(series);
    return vectorValue(series);
  }

  private async binary(e: Extract<Expr, { type: 'BinaryExpr' }>, grid: Grid): Promise<Value> {
    const l = await this.eval(e.lhs, grid);
    const r = await this.eval(e.rhs, grid);
    let result: VectorValue;
    if (l.kind === 'scalar' && r.kind === 'scalar') return scalarBinary(e.op, l.values, r.values);
    if (l.kind === 'vector' && r.kind === 'scalar') {
      result = await vectorScalarBinary(e, l.series, r.values, false, this.budget);
    } else if (l.kind === 'scalar' && r.kind === 'vector') {
      result = await vectorScalarBinary(e, r.series, l.values, true, this.budget);
    } else if (l.kind === 'vector' && r.kind === 'vector') {
      result =
        e.op === 'and' || e.op === 'or' || e.op === 'unless'
          ? await setOperation(e, l.series, r.series, grid, this.budget)
          : await vectorBinary(e, l.series, r.series, grid, this.budget);
    } else {
      throw executionError('binary expression must contain only scalar and instant vector types');
    }
    this.budget.addSamples(totalPoints(result.series));
    return result;
  }
}

/** Prometheus refuses a range function's result with two series of one label set (e.g. rate over two metric names). */
function assertUniqueLabelSets(series: readonly StepSeries[]): void {
  if (series.length < 2) return;
  const seen = new Set<string>();
  for (const s of series) {
    const key = labelsKey(s.labels);
    if (seen.has(key)) throw executionError(DUPLICATE_LABELSET);
    seen.add(key);
  }
}

function absentOverTime(e: Call, present: readonly StepSeries[], grid: Grid): VectorValue {
  const has = new Uint8Array(grid.n);
  for (const s of present) for (const st of s.steps) has[st] = 1;
  const steps: number[] = [];
  for (let i = 0; i < grid.n; i++) if (!has[i]) steps.push(i);
  if (steps.length === 0) return vectorValue([]);
  const arg = unwrapParens(e.args[0]!);
  const labels = arg.type === 'MatrixSelector' ? absentLabels(arg) : [];
  return vectorValue([{ labels, steps, values: steps.map(() => 1) }]);
}

function withoutStaleMarkers(s: SeriesData): RawSeries {
  let stale = 0;
  for (let i = 0; i < s.values.length; i++) if (isStaleNaN(s.values[i]!)) stale++;
  if (stale === 0) return { labels: s.labels, t: s.timestamps, v: s.values };
  const t = new Float64Array(s.values.length - stale);
  const v = new Float64Array(s.values.length - stale);
  let k = 0;
  for (let i = 0; i < s.values.length; i++) {
    if (isStaleNaN(s.values[i]!)) continue;
    t[k] = s.timestamps[i]!;
    v[k] = s.values[i]!;
    k++;
  }
  return { labels: s.labels, t, v };
}

/** First index with t[i] >= x. */
function lowerBound(t: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with t[i] > x. */
function upperBound(t: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether an expression's value is the same at every step: literals, @-pinned selectors and
 * subqueries, and anything built only from those (Prometheus's step-invariant preprocessing).
 */
export function isStepInvariant(e: Expr): boolean {
  switch (e.type) {
    case 'NumberLiteral':
    case 'StringLiteral':
      return true;
    case 'VectorSelector':
      return e.at !== undefined;
    case 'MatrixSelector':
      return e.selector.at !== undefined;
    case 'SubqueryExpr':
      return e.at !== undefined;
    case 'ParenExpr':
    case 'UnaryExpr':
      return isStepInvariant(e.expr);
    case 'AggregateExpr':
      return isStepInvariant(e.expr);
    case 'BinaryExpr':
      return isStepInvariant(e.lhs) && isStepInvariant(e.rhs);
    case 'Call':
      return !AT_MODIFIER_UNSAFE.has(e.func) && e.args.every(isStepInvariant);
  }
}

/** Repeats a one-step value over every step of the grid. */
function repeat(v: Value, grid: Grid): Value {
  switch (v.kind) {
    case 'scalar':
      return scalarValue(new Float64Array(grid.n).fill(v.values[0] ?? NaN));
    case 'vector':
      return vectorValue(
        v.series.map((s) => ({
          labels: s.labels,
          steps: Array.from({ length: grid.n }, (_, i) => i),
          values: new Array<number>(grid.n).fill(s.values[0]!),
        })),
      );
    default:
      return v;
  }
}
