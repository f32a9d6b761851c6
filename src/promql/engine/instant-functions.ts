import { METRIC_NAME_LABEL, isValidLabelName, type Labels } from '../../model/labels.ts';
import type { Matcher } from '../../model/matchers.ts';
import { unwrapParens, type Expr } from '../ast.ts';
import { executionError } from '../errors.ts';
import { compileGoRegex, expandTemplate } from '../go-regex.ts';
import { parseGoFloat } from '../literals.ts';
import type { Budget } from './budget.ts';
import { dropMetricName, labelValue, labelsKey, removeLabels, setLabel } from './labelset.ts';
import { bucketQuantile, type Bucket } from './quantile.ts';
import {
  SeriesCollector,
  StepCursor,
  gridTime,
  scalarValue,
  vectorValue,
  type Grid,
  type ScalarValue,
  type StepSeries,
  type Value,
  type VectorValue,
} from './values.ts';

/** Functions taking instant vectors and scalars, evaluated over a whole step grid at once. */

export interface InstantCall {
  readonly grid: Grid;
  readonly args: readonly Value[];
  readonly argExprs: readonly Expr[];
  readonly budget: Budget;
}

export type InstantFunction = (call: InstantCall) => Value | Promise<Value>;

function vectorArg(call: InstantCall, i: number): StepSeries[] {
  const v = call.args[i];
  if (!v || v.kind !== 'vector') throw new Error(`argument ${i} is not an instant vector`);
  return v.series;
}

function scalarArg(call: InstantCall, i: number): Float64Array {
  const v = call.args[i];
  if (!v || v.kind !== 'scalar') throw new Error(`argument ${i} is not a scalar`);
  return v.values;
}

function stringArg(call: InstantCall, i: number): string {
  const v = call.args[i];
  if (!v || v.kind !== 'string') throw new Error(`argument ${i} is not a string`);
  return v.value;
}

/**
 * Applies a per-sample transformation to every series, series by series. Outputs whose label
 * sets coincide are merged (and refused if both have a sample at one step).
 */
export async function mapSeries(
  series: readonly StepSeries[],
  budget: Budget,
  relabel: (labels: Labels) => Labels,
  value: (v: number, step: number, index: number, s: StepSeries) => number | undefined,
): Promise<VectorValue> {
  const out = new SeriesCollector();
  for (const s of series) {
    await budget.tick(s.steps.length);
    const labels = relabel(s.labels);
    const steps: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < s.steps.length; i++) {
      const r = value(s.values[i]!, s.steps[i]!, i, s);
      if (r !== undefined) {
        steps.push(s.steps[i]!);
        values.push(r);
      }
    }
    if (steps.length > 0) out.addSeries(labelsKey(labels), labels, steps, values);
  }
  return vectorValue(out.result());
}

function simple(f: (v: number) => number): InstantFunction {
  return (call) => mapSeries(vectorArg(call, 0), call.budget, dropMetricName, (v) => f(v));
}

const sgn = (v: number): number => (v < 0 ? -1 : v > 0 ? 1 : v);

// Go's time package: day_of_week is 0 for Sunday; all date functions work in UTC on whole seconds.
function dateFunction(f: (d: Date) => number): InstantFunction {
  return (call) => {
    if (call.args.length === 0) {
      const steps: number[] = [];
      const values: number[] = [];
      for (let i = 0; i < call.grid.n; i++) {
        steps.push(i);
        values.push(f(new Date(Math.trunc(gridTime(call.grid, i) / 1000) * 1000)));
      }
      return vectorValue(steps.length ? [{ labels: [], steps, values }] : []);
    }
    return mapSeries(vectorArg(call, 0), call.budget, dropMetricName, (v) =>
      f(new Date(Math.trunc(v) * 1000)),
    );
  };
}

const daysInMonth = (d: Date): number =>
  new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
const dayOfYear = (d: Date): number =>
  Math.floor(
    (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) /
      86_400_000,
  ) + 1;

/** The labels absent() reports: the equality matchers of its selector argument, except the name. */
function absentLabels(arg: Expr | undefined): Labels {
  if (!arg) return [];
  const e = unwrapParens(arg);
  let matchers: readonly Matcher[];
  if (e.type === 'VectorSelector') matchers = e.matchers;
  else if (e.type === 'MatrixSelector') matchers = e.selector.matchers;
  else return [];
  // Prometheus keeps the first equality matcher of a label and drops the label on any other matcher.
  const values = new Map<string, string>();
  const seen = new Set<string>();
  for (const m of matchers) {
    if (m.name === METRIC_NAME_LABEL) continue;
    if (m.type === '=' && !seen.has(m.name)) {
      seen.add(m.name);
      if (m.value !== '') values.set(m.name, m.value);
    } else {
      values.delete(m.name);
    }
  }
  return [...values]
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export { absentLabels };

function absent(call: InstantCall): Value {
  const series = vectorArg(call, 0);
  const present = new Uint8Array(call.grid.n);
  for (const s of series) for (const st of s.steps) present[st] = 1;
  const steps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < call.grid.n; i++) {
    if (!present[i]) {
      steps.push(i);
      values.push(1);
    }
  }
  return vectorValue(steps.length ? [{ labels: absentLabels(call.argExprs[0]), steps, values }] : []);
}

function scalarFn(call: InstantCall): ScalarValue {
  const series = vectorArg(call, 0);
  const count = new Int32Array(call.grid.n);
  const value = new Float64Array(call.grid.n);
  for (const s of series) {
    for (let i = 0; i < s.steps.length; i++) {
      const st = s.steps[i]!;
      count[st]!++;
      value[st] = s.values[i]!;
    }
  }
  const out = new Float64Array(call.grid.n);
  for (let i = 0; i < call.grid.n; i++) out[i] = count[i] === 1 ? value[i]! : NaN;
  return scalarValue(out);
}

function vectorFn(call: InstantCall): VectorValue {
  const v = scalarArg(call, 0);
  const steps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < call.grid.n; i++) {
    steps.push(i);
    values.push(v[i]!);
  }
  return vectorValue(steps.length ? [{ labels: [], steps, values }] : []);
}

/** Value ordering of sort() / sort_desc(): NaN always last. Only an instant query's order is observable. */
function sortFn(descending: boolean): InstantFunction {
  return (call) => {
    const series = vectorArg(call, 0);
    if (call.grid.n !== 1) return vectorValue([...series]);
    const sorted = [...series].sort((a, b) => {
      const x = a.values[0]!;
      const y = b.values[0]!;
      const xn = Number.isNaN(x);
      const yn = Number.isNaN(y);
      if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1;
      return descending ? y - x : x - y;
    });
    return vectorValue(sorted);
  };
}

function timestampFn(call: InstantCall): Promise<VectorValue> {
  return mapSeries(vectorArg(call, 0), call.budget, dropMetricName, (_v, step, i, s) =>
    s.sampleTimes ? s.sampleTimes[i]! / 1000 : gridTime(call.grid, step) / 1000,
  );
}

function clampFn(call: InstantCall): Promise<VectorValue> {
  const lo = scalarArg(call, 1);
  const hi = scalarArg(call, 2);
  return mapSeries(vectorArg(call, 0), call.budget, dropMetricName, (v, step) => {
    const min = lo[step]!;
    const max = hi[step]!;
    if (max < min) return undefined;
    return Math.max(min, Math.min(max, v));
  });
}

// Go's math.Max/Min propagate NaN; JavaScript's do too.
function clampMinFn(call: InstantCall): Promise<VectorValue> {
  const lo = scalarArg(call, 1);
  return mapSeries(vectorArg(call, 0), call.budget, dropMetricName, (v, step) => Math.max(lo[step]!, v));
}

function clampMaxFn(call: InstantCall): Promise<VectorValue> {
  const hi = scalarArg(call, 1);
  return mapSeries(vectorArg(call, 0), call.budget, dropMetricName, (v, step) => Math.min(hi[step]!, v));
}

function roundFn(call: InstantCall): Promise<VectorValue> {
  const nearest = call.args.length > 1 ? scalarArg(call, 1) : undefined;
  return mapSeries(vectorArg(call, 0), call.budget, dropMetricName, (v, step) => {
    const inverse = 1 / (nearest ? nearest[step]! : 1);
    return Math.floor(v * inverse + 0.5) / inverse;
  });
}

function labelReplace(call: InstantCall): Promise<VectorValue> {
  const dst = stringArg(call, 1);
  const template = stringArg(call, 2);
  const src = stringArg(call, 3);
  const regexText = stringArg(call, 4);
  let regex: RegExp;
  try {
    regex = compileGoRegex(regexText, true);
  } catch {
    throw executionError(`invalid regular expression in label_replace(): ${regexText}`);
  }
  if (!isValidLabelName(dst))
    throw executionError(`invalid destination label name in label_replace(): ${dst}`);
  return mapSeries(
    vectorArg(call, 0),
    call.budget,
    (labels) => {
      const m = regex.exec(labelValue(labels, src));
      if (!m) return labels;
      return setLabel(labels, dst, expandTemplate(template, m));
    },
    (v) => v,
  );
}

function labelJoin(call: InstantCall): Promise<VectorValue> {
  const dst = stringArg(call, 1);
  const sep = stringArg(call, 2);
  const sources: string[] = [];
  for (let i = 3; i < call.args.length; i++) {
    const src = stringArg(call, i);
    if (!isValidLabelName(src)) throw executionError(`invalid source label name in label_join(): ${src}`);
    sources.push(src);
  }
  if (!isValidLabelName(dst)) throw executionError(`invalid destination label name in label_join(): ${dst}`);
  return mapSeries(
    vectorArg(call, 0),
    call.budget,
    (labels) => setLabel(labels, dst, sources.map((s) => labelValue(labels, s)).join(sep)),
    (v) => v,
  );
}

const BUCKET_EXCLUDED = new Set([METRIC_NAME_LABEL, 'le']);
const LE_ONLY = new Set(['le']);

/** histogram_quantile over classic buckets: series are grouped by their labels without `le`. */
async function histogramQuantile(call: InstantCall): Promise<VectorValue> {
  const q = scalarArg(call, 0);
  const series = vectorArg(call, 1);
  interface Group {
    readonly labels: Labels;
    readonly outKey: string;
    buckets: Bucket[];
  }
  const groups: Group[] = [];
  const byKey = new Map<string, Group>();
  const groupOf: (Group | undefined)[] = [];
  const bounds: number[] = [];
  for (const s of series) {
    const bound = parseGoFloat(labelValue(s.labels, 'le'));
    if (bound === undefined || labelValue(s.labels, 'le') === '') {
      groupOf.push(undefined);
      bounds.push(NaN);
      continue;
    }
    const key = labelsKey(removeLabels(s.labels, LE_ONLY));
    let g = byKey.get(key);
    if (!g) {
      const labels = removeLabels(s.labels, BUCKET_EXCLUDED);
      g = { labels, outKey: labelsKey(labels), buckets: [] };
      byKey.set(key, g);
      groups.push(g);
    }
    groupOf.push(g);
    bounds.push(bound);
  }
  const out = new SeriesCollector();
  const cursor = new StepCursor(series);
  const active: Group[] = [];
  for (let step = 0; step < call.grid.n; step++) {
    await call.budget.tick(series.length);
    cursor.load(step);
    active.length = 0;
    for (let k = 0; k < cursor.count; k++) {
      const si = cursor.idx[k]!;
      const g = groupOf[si];
      if (!g) continue;
      if (g.buckets.length === 0) active.push(g);
      g.buckets.push({ upperBound: bounds[si]!, count: cursor.val[k]! });
    }
    for (const g of active) {
      out.add(g.outKey, g.labels, step, bucketQuantile(q[step]!, g.buckets));
      g.buckets = [];
    }
  }
  return vectorValue(out.result());
}

/** Native-histogram functions: float samples carry no histogram, so they yield nothing. */
const nothing: InstantFunction = () => vectorValue([]);

export const INSTANT_FUNCTIONS: ReadonlyMap<string, InstantFunction> = new Map<string, InstantFunction>([
  ['abs', simple(Math.abs)],
  ['ceil', simple(Math.ceil)],
  ['floor', simple(Math.floor)],
  ['exp', simple(Math.exp)],
  ['sqrt', simple(Math.sqrt)],
  ['ln', simple(Math.log)],
  ['log2', simple(Math.log2)],
  ['log10', simple(Math.log10)],
  ['sgn', simple(sgn)],
  ['deg', simple((v) => (v * 180) / Math.PI)],
  ['rad', simple((v) => (v * Math.PI) / 180)],
  ['acos', simple(Math.acos)],
  ['acosh', simple(Math.acosh)],
  ['asin', simple(Math.asin)],
  ['asinh', simple(Math.asinh)],
  ['atan', simple(Math.atan)],
  ['atanh', simple(Math.atanh)],
  ['cos', simple(Math.cos)],
  ['cosh', simple(Math.cosh)],
  ['sin', simple(Math.sin)],
  ['sinh', simple(Math.sinh)],
  ['tan', simple(Math.tan)],
  ['tanh', simple(Math.tanh)],
  ['clamp', clampFn],
  ['clamp_min', clampMinFn],
  ['clamp_max', clampMaxFn],
  ['round', roundFn],
  ['absent', absent],
  ['scalar', scalarFn],
  ['vector', vectorFn],
  ['sort', sortFn(false)],
  ['sort_desc', sortFn(true)],
  ['timestamp', timestampFn],
  ['label_replace', labelReplace],
  ['label_join', labelJoin],
  ['histogram_quantile', histogramQuantile],
  ['histogram_count', nothing],
  ['histogram_sum', nothing],
  ['histogram_fraction', nothing],
  [
    'time',
    (call) =>
      scalarValue(Float64Array.from({ length: call.grid.n }, (_, i) => gridTime(call.grid, i) / 1000)),
  ],
  ['pi', (call) => scalarValue(new Float64Array(call.grid.n).fill(Math.PI))],
  ['days_in_month', dateFunction(daysInMonth)],
  ['day_of_month', dateFunction((d) => d.getUTCDate())],
  ['day_of_week', dateFunction((d) => d.getUTCDay())],
  ['day_of_year', dateFunction(dayOfYear)],
  ['hour', dateFunction((d) => d.getUTCHours())],
  ['minute', dateFunction((d) => d.getUTCMinutes())],
  ['month', dateFunction((d) => d.getUTCMonth() + 1)],
  ['year', dateFunction((d) => d.getUTCFullYear())],
]);
