import { METRIC_NAME_LABEL, type Labels } from '../../model/labels.ts';
import {
  dropsMetricName,
  isComparisonOp,
  type BinaryExpr,
  type BinaryOp,
  type VectorMatching,
} from '../ast.ts';
import { executionError } from '../errors.ts';
import type { Budget } from './budget.ts';
import {
  dropMetricName,
  keepLabels,
  labelValue,
  labelsKey,
  labelsString,
  removeLabels,
  setLabel,
  signatureOn,
  signatureWithout,
} from './labelset.ts';
import { mapSeries } from './instant-functions.ts';
import {
  SeriesCollector,
  StepCursor,
  scalarValue,
  vectorValue,
  type Grid,
  type StepSeries,
  type VectorValue,
} from './values.ts';

/** Binary operators: arithmetic, comparisons (filtering or `bool`), set operators, vector matching. */

function goMod(a: number, b: number): number {
  // Go's math.Mod has the sign of the dividend, like JavaScript's %.
  return a % b;
}

/** The arithmetic result, or for comparisons whether the pair compares true. */
export function arithmetic(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return goMod(a, b);
    case '^':
      return goPow(a, b);
    case 'atan2':
      return Math.atan2(a, b);
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    default:
      throw new Error(`operator ${op} not allowed on samples`);
  }
}

/** Go's math.Pow differs from JavaScript's for a base of ±1 with an infinite or NaN exponent. */
function goPow(a: number, b: number): number {
  if (b === 0) return 1;
  if (a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}

export function scalarBinary(op: BinaryOp, l: Float64Array, r: Float64Array): ReturnType<typeof scalarValue> {
  const out = new Float64Array(l.length);
  for (let i = 0; i < l.length; i++) out[i] = arithmetic(op, l[i]!, r[i]!);
  return scalarValue(out);
}

/** vector <op> scalar (or scalar <op> vector when `scalarOnLeft`). */
export function vectorScalarBinary(
  e: BinaryExpr,
  series: readonly StepSeries[],
  scalar: Float64Array,
  scalarOnLeft: boolean,
  budget: Budget,
): Promise<VectorValue> {
  const comparison = isComparisonOp(e.op);
  const dropName = dropsMetricName(e.op) || e.returnBool;
  return mapSeries(
    series,
    budget,
    (labels) => (dropName ? dropMetricName(labels) : labels),
    (v, step) => {
      const s = scalar[step]!;
      const r = scalarOnLeft ? arithmetic(e.op, s, v) : arithmetic(e.op, v, s);
      if (!comparison) return r;
      if (e.returnBool) return r;
      // A filtering comparison keeps the vector element's value, whichever side it is on.
      return r === 1 ? v : undefined;
    },
  );
}

/** Per-series matching signatures, interned to small integers shared by both sides. */
function signatures(
  series: readonly StepSeries[],
  m: VectorMatching,
  intern: Map<string, number>,
): Int32Array {
  const ignored = new Set([METRIC_NAME_LABEL, ...m.labels]);
  const onLabels = [...m.labels].sort();
  const out = new Int32Array(series.length);
  for (let i = 0; i < series.length; i++) {
    const labels = series[i]!.labels;
    const key = m.on ? signatureOn(labels, onLabels) : signatureWithout(labels, ignored);
    let id = intern.get(key);
    if (id === undefined) {
      id = intern.size;
      intern.set(key, id);
    }
    out[i] = id;
  }
  return out;
}

export async function setOperation(
  e: BinaryExpr,
  lhs: readonly StepSeries[],
  rhs: readonly StepSeries[],
  grid: Grid,
  budget: Budget,
): Promise<VectorValue> {
  const m = e.matching!;
  const intern = new Map<string, number>();
  const lsig = signatures(lhs, m, intern);
  const rsig = signatures(rhs, m, intern);
  const lkeys = lhs.map((s) => labelsKey(s.labels));
  const rkeys = rhs.map((s) => labelsKey(s.labels));
  const mark = new Int32Array(intern.size).fill(-1);
  const lc = new StepCursor(lhs);
  const rc = new StepCursor(rhs);
  const out = new SeriesCollector();
  for (let step = 0; step < grid.n; step++) {
    await budget.tick(lhs.length + rhs.length);
    lc.load(step);
    rc.load(step);
    const emitLeft = (k: number): void => {
      const si = lc.idx[k]!;
      out.add(lkeys[si]!, lhs[si]!.labels, step, lc.val[k]!);
    };
    const emitRight = (k: number): void => {
      const si = rc.idx[k]!;
      out.add(rkeys[si]!, rhs[si]!.labels, step, rc.val[k]!);
    };
    switch (e.op) {
      case 'and':
        if (lc.count === 0 || rc.count === 0) break;
        for (let k = 0; k < rc.count; k++) mark[rsig[rc.idx[k]!]!] = step;
        for (let k = 0; k < lc.count; k++) if (mark[lsig[lc.idx[k]!]!] === step) emitLeft(k);
        break;
      case 'or':
        for (let k = 0; k < lc.count; k++) {
          mark[lsig[lc.idx[k]!]!] = step;
          emitLeft(k);
        }
        for (let k = 0; k < rc.count; k++) if (mark[rsig[rc.idx[k]!]!] !== step) emitRight(k);
        break;
      case 'unless':
        for (let k = 0; k < rc.count; k++) mark[rsig[rc.idx[k]!]!] = step;
        for (let k = 0; k < lc.count; k++) if (mark[lsig[lc.idx[k]!]!] !== step) emitLeft(k);
        break;
      default:
        throw new Error(`${e.op} is not a set operator`);
    }
  }
  return vectorValue(out.result());
}

/** The result labels of a matched pair (the "many" side's labels, as Prometheus builds them). */
function resultLabels(e: BinaryExpr, many: Labels, one: Labels): Labels {
  const m = e.matching!;
  let labels = many;
  if (dropsMetricName(e.op)) labels = dropMetricName(labels);
  if (m.card === 'one-to-one') {
    labels = m.on ? keepLabels(labels, new Set(m.labels)) : removeLabels(labels, new Set(m.labels));
  }
  for (const name of m.include) labels = setLabel(labels, name, labelValue(one, name));
  if (e.returnBool) labels = dropMetricName(labels);
  return labels;
}

function matchedLabelsString(labels: Labels, m: VectorMatching): string {
  const names = new Set(m.labels);
  const kept = m.on
    ? keepLabels(labels, names)
    : removeLabels(labels, new Set([...names, METRIC_NAME_LABEL]));
  return labelsString(kept);
}

export async function vectorBinary(
  e: BinaryExpr,
  lhs: readonly StepSeries[],
  rhs: readonly StepSeries[],
  grid: Grid,
  budget: Budget,
): Promise<VectorValue> {
  const m = e.matching!;
  const intern = new Map<string, number>();
  const lsig = signatures(lhs, m, intern);
  const rsig = signatures(rhs, m, intern);
  // With group_right the right side is the "many" side: swap so that `many` is always iterated.
  const swapped = m.card === 'one-to-many';
  const many = swapped ? rhs : lhs;
  const one = swapped ? lhs : rhs;
  const manySig = swapped ? rsig : lsig;
  const oneSig = swapped ? lsig : rsig;
  const manyCursor = new StepCursor(many);
  const oneCursor = new StepCursor(one);
  const oneAt = new Int32Array(intern.size).fill(-1);
  const oneStamp = new Int32Array(intern.size).fill(-1);
  const matchedStamp = new Int32Array(intern.size).fill(-1);
  const matchedOutputs = new Map<number, Set<string>>();
  const pairCache = new Map<number, { key: string; labels: Labels }>();
  const comparison = isComparisonOp(e.op);
  const out = new SeriesCollector();
  for (let step = 0; step < grid.n; step++) {
    await budget.tick(lhs.length + rhs.length);
    manyCursor.load(step);
    oneCursor.load(step);
    if (manyCursor.count === 0 || oneCursor.count === 0) continue;
    for (let k = 0; k < oneCursor.count; k++) {
      const si = oneCursor.idx[k]!;
      const sig = oneSig[si]!;
      if (oneStamp[sig] === step) {
        const side = swapped ? 'left' : 'right';
        const prev = one[oneCursor.idx[oneAt[sig]!]!]!;
        throw executionError(
          `found duplicate series for the match group ${matchedLabelsString(one[si]!.labels, m)} on the ${side} hand-side of the operation: [${labelsString(one[si]!.labels)}, ${labelsString(prev.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      oneStamp[sig] = step;
      oneAt[sig] = k;
    }
    if (m.card !== 'one-to-one') matchedOutputs.clear();
    for (let k = 0; k < manyCursor.count; k++) {
      const mi = manyCursor.idx[k]!;
      const sig = manySig[mi]!;
      if (oneStamp[sig] !== step) continue;
      const ok = oneAt[sig]!;
      const oi = oneCursor.idx[ok]!;
      const mv = manyCursor.val[k]!;
      const ov = oneCursor.val[ok]!;
      const lv = swapped ? ov : mv;
      const rv = swapped ? mv : ov;
      let value = arithmetic(e.op, lv, rv);
      if (comparison) {
        if (e.returnBool) {
          // value already 0 or 1
        } else if (value === 1) {
          value = lv;
        } else {
          continue;
        }
      }
      const pairId = mi * one.length + oi;
      let result = pairCache.get(pairId);
      if (!result) {
        const labels = resultLabels(e, many[mi]!.labels, one[oi]!.labels);
        result = { key: labelsKey(labels), labels };
        pairCache.set(pairId, result);
      }
      if (m.card === 'one-to-one') {
        if (matchedStamp[sig] === step) {
          throw executionError(
            'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
          );
        }
        matchedStamp[sig] = step;
      } else {
        let seen = matchedOutputs.get(sig);
        if (!seen) {
          seen = new Set();
          matchedOutputs.set(sig, seen);
        } else if (seen.has(result.key)) {
          throw executionError('multiple matches for labels: grouping labels must ensure unique matches');
        }
        seen.add(result.key);
      }
      out.add(result.key, result.labels, step, value);
    }
  }
  return vectorValue(out.result());
}
