import { compareLabelSets, type Labels } from '../model/labels.ts';
import type { Querier } from '../tsdb/types.ts';
import type { Expr } from './ast.ts';
import { QueryError } from './errors.ts';
import { Budget } from './engine/budget.ts';
import { Evaluator } from './engine/evaluator.ts';
import { gridTime, type Grid } from './engine/values.ts';
import { expressionType } from './parser.ts';

/** The PromQL engine's public face: instant and range evaluation of a parsed (and scoped) query. */

export interface EngineOptions {
  /** How far back an instant selector looks for a sample (Prometheus: 5m). */
  readonly lookbackDeltaMs?: number;
  /** Step of subqueries written without one (Prometheus: the global evaluation interval, 1m). */
  readonly defaultSubqueryStepMs?: number;
  /** Longest synchronous stretch before yielding to other requests (ms). */
  readonly sliceMs?: number;
}

export interface QueryLimits {
  readonly timeoutMs: number;
  /** How the error names the timeout, e.g. `queryTimeoutMs`. */
  readonly timeoutLimitName?: string;
  readonly maxSamples: number;
  readonly maxSamplesLimitName?: string;
  readonly signal?: AbortSignal;
}

export interface InstantSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

export interface RangeSeries {
  readonly labels: Labels;
  readonly t: number[];
  readonly v: number[];
}

export type QueryResult =
  | { readonly resultType: 'vector'; readonly result: InstantSample[] }
  | { readonly resultType: 'matrix'; readonly result: RangeSeries[] }
  | { readonly resultType: 'scalar'; readonly result: { readonly t: number; readonly v: number } }
  | { readonly resultType: 'string'; readonly result: { readonly t: number; readonly v: string } };

export const DEFAULT_LOOKBACK_DELTA_MS = 5 * 60_000;
export const DEFAULT_SUBQUERY_STEP_MS = 60_000;

export class PromqlEngine {
  private readonly lookbackDeltaMs: number;
  private readonly defaultSubqueryStepMs: number;
  private readonly sliceMs: number;

  constructor(opts: EngineOptions = {}) {
    this.lookbackDeltaMs = opts.lookbackDeltaMs ?? DEFAULT_LOOKBACK_DELTA_MS;
    this.defaultSubqueryStepMs = opts.defaultSubqueryStepMs ?? DEFAULT_SUBQUERY_STEP_MS;
    this.sliceMs = opts.sliceMs ?? 5;
  }

  private evaluator(querier: Querier, limits: QueryLimits, start: number, end: number): Evaluator {
    const budget = new Budget({
      timeoutMs: limits.timeoutMs,
      timeoutLimitName: limits.timeoutLimitName ?? 'timeout',
      maxSamples: limits.maxSamples > 0 ? limits.maxSamples : Infinity,
      maxSamplesLimitName: limits.maxSamplesLimitName ?? 'maxSamples',
      sliceMs: this.sliceMs,
      ...(limits.signal ? { signal: limits.signal } : {}),
    });
    return new Evaluator({
      querier,
      budget,
      lookbackDeltaMs: this.lookbackDeltaMs,
      defaultSubqueryStepMs: this.defaultSubqueryStepMs,
      queryStart: start,
      queryEnd: end,
    });
  }

  /** Evaluates at one instant (ms). */
  async instantQuery(
    querier: Querier,
    expr: Expr,
    timeMs: number,
    limits: QueryLimits,
  ): Promise<QueryResult> {
    const grid: Grid = { start: timeMs, step: 1, n: 1 };
    const value = await this.evaluator(querier, limits, timeMs, timeMs).eval(expr, grid);
    switch (value.kind) {
      case 'scalar':
        return { resultType: 'scalar', result: { t: timeMs, v: value.values[0]! } };
      case 'string':
        return { resultType: 'string', result: { t: timeMs, v: value.value } };
      case 'vector':
        return {
          resultType: 'vector',
          result: value.series.map((s) => ({ labels: s.labels, t: timeMs, v: s.values[0]! })),
        };
      case 'matrix':
        return {
          resultType: 'matrix',
          result: value.series.map((s) => ({ labels: s.labels, t: Array.from(s.t), v: Array.from(s.v) })),
        };
    }
  }

  /** Evaluates at start, start+step, … ≤ end (ms); the result is a matrix sorted by label set. */
  async rangeQuery(
    querier: Querier,
    expr: Expr,
    startMs: number,
    endMs: number,
    stepMs: number,
    limits: QueryLimits,
  ): Promise<QueryResult> {
    const type = expressionType(expr);
    if (type !== 'scalar' && type !== 'vector') {
      const documented = type === 'matrix' ? 'range vector' : 'string';
      throw new QueryError(
        'bad_data',
        `invalid expression type "${documented}" for range query, must be Scalar or instant Vector`,
      );
    }
    if (!(stepMs > 0))
      throw new QueryError('bad_data', 'zero or negative query resolution step widths are not accepted');
    const grid: Grid = { start: startMs, step: stepMs, n: Math.floor((endMs - startMs) / stepMs) + 1 };
    const value = await this.evaluator(querier, limits, startMs, endMs).eval(expr, grid);
    if (value.kind === 'scalar') {
      const t: number[] = [];
      const v: number[] = [];
      for (let i = 0; i < grid.n; i++) {
        t.push(gridTime(grid, i));
        v.push(value.values[i]!);
      }
      return { resultType: 'matrix', result: [{ labels: [], t, v }] };
    }
    if (value.kind !== 'vector')
      throw new QueryError('internal', `unexpected ${value.kind} result of a range query`);
    const result = value.series.map((s) => ({
      labels: s.labels,
      t: s.steps.map((i) => gridTime(grid, i)),
      v: s.values,
    }));
    result.sort((a, b) => compareLabelSets(a.labels, b.labels));
    return { resultType: 'matrix', result };
  }
}
