import { METRIC_NAME_LABEL, isValidLabelName, type Labels } from '../../model/labels.ts';
import type { AggregateExpr } from '../ast.ts';
import { executionError } from '../errors.ts';
import { formatFloatF, formatFloatG, goQuote } from '../literals.ts';
import type { Budget } from './budget.ts';
import { keepLabels, labelsKey, removeLabels, setLabel } from './labelset.ts';
import { quantile } from './quantile.ts';
import {
  SeriesCollector,
  StepCursor,
  vectorValue,
  type Grid,
  type StepSeries,
  type VectorValue,
} from './values.ts';

/** Aggregation operators (sum, avg, topk, count_values, …) with by/without, Prometheus 2.x semantics. */

interface Entry {
  v: number;
  si: number;
}

/**
 * A binary heap with the exact sift rules of Go's container/heap, so that topk/bottomk pick the
 * same series among equal values as Prometheus does.
 */
class GoHeap {
  readonly items: Entry[] = [];
  constructor(private readonly less: (a: Entry, b: Entry) => boolean) {}

  private swap(i: number, j: number): void {
    const t = this.items[i]!;
    this.items[i] = this.items[j]!;
    this.items[j] = t;
  }

  private up(j: number): void {
    for (;;) {
      const i = Math.trunc((j - 1) / 2);
      if (i === j || !this.less(this.items[j]!, this.items[i]!)) break;
      this.swap(i, j);
      j = i;
    }
  }

  private down(i0: number, n: number): void {
    let i = i0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n || j1 < 0) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && this.less(this.items[j2]!, this.items[j1]!)) j = j2;
      if (!this.less(this.items[j]!, this.items[i]!)) break;
      this.swap(i, j);
      i = j;
    }
  }

  push(e: Entry): void {
    this.items.push(e);
    this.up(this.items.length - 1);
  }

  pop(): void {
    const n = this.items.length - 1;
    this.swap(0, n);
    this.down(0, n);
    this.items.pop();
  }
}

// vectorByValueHeap / vectorByReverseValueHeap: NaN counts as the smallest (resp. largest).
const lessAsc = (a: Entry, b: Entry): boolean => Number.isNaN(a.v) || a.v < b.v;
const lessDesc = (a: Entry, b: Entry): boolean => Number.isNaN(a.v) || a.v > b.v;

interface Acc {
  stamp: number;
  value: number;
  mean: number;
  count: number;
  heap: GoHeap | null;
  values: number[];
}

/** `without`: every label except the names; `by`: only the names (none for a plain aggregation). */
function groupingLabels(labels: Labels, without: boolean, names: ReadonlySet<string>): Labels {
  if (without) return removeLabels(labels, names);
  if (names.size > 0) return keepLabels(labels, names);
  return [];
}

function toInt64(f: number): number {
  if (!(f <= 2 ** 63 && f >= -(2 ** 63))) {
    throw executionError(`Scalar value ${formatFloatG(f)} overflows int64`);
  }
  return Math.trunc(f);
}

export async function aggregate(
  e: AggregateExpr,
  input: readonly StepSeries[],
  param: Float64Array | string | undefined,
  grid: Grid,
  budget: Budget,
): Promise<VectorValue> {
  const op = e.op;
  const names = new Set(e.grouping);
  if (e.without) names.add(METRIC_NAME_LABEL);
  let valueLabel = '';
  if (op === 'count_values') {
    valueLabel = param as string;
    if (!isValidLabelName(valueLabel)) throw executionError(`invalid label name ${goQuote(valueLabel)}`);
  }
  const countValuesNames = new Set(names);
  if (op === 'count_values' && !e.without) countValuesNames.add(valueLabel);

  // Group of each input series (count_values groups per sample value instead).
  const groupIds = new Int32Array(input.length);
  const groupLabels: Labels[] = [];
  const groupKeys: string[] = [];
  const keyToGroup = new Map<string, number>();
  const groupFor = (labels: Labels): number => {
    const key = labelsKey(labels);
    let g = keyToGroup.get(key);
    if (g === undefined) {
      g = groupLabels.length;
      keyToGroup.set(key, g);
      groupLabels.push(labels);
      groupKeys.push(key);
    }
    return g;
  };
  if (op !== 'count_values') {
    for (let i = 0; i < input.length; i++)
      groupIds[i] = groupFor(groupingLabels(input[i]!.labels, e.without, names));
  }

  const accs: Acc[] = [];
  const accFor = (g: number): Acc => {
    let a = accs[g];
    if (!a) {
      a = { stamp: -1, value: 0, mean: 0, count: 0, heap: null, values: [] };
      accs[g] = a;
    }
    return a;
  };
  const seriesKeys = op === 'topk' || op === 'bottomk' ? input.map((s) => labelsKey(s.labels)) : [];
  const out = new SeriesCollector();
  const cursor = new StepCursor(input);
  const active: number[] = [];

  for (let step = 0; step < grid.n; step++) {
    await budget.tick(input.length);
    cursor.load(step);
    if (cursor.count === 0) continue;
    let k = 0;
    if (op === 'topk' || op === 'bottomk') {
      k = toInt64((param as Float64Array)[step]!);
      if (k < 1) continue;
    }
    active.length = 0;
    for (let c = 0; c < cursor.count; c++) {
      const si = cursor.idx[c]!;
      const v = cursor.val[c]!;
      let g: number;
      if (op === 'count_values') {
        const labels = setLabel(input[si]!.labels, valueLabel, formatFloatF(v));
        g = groupFor(groupingLabels(labels, e.without, countValuesNames));
      } else {
        g = groupIds[si]!;
      }
      const a = accFor(g);
      if (a.stamp !== step) {
        a.stamp = step;
        active.push(g);
        a.value = v;
        a.mean = v;
        a.count = 1;
        a.values = [];
        switch (op) {
          case 'stddev':
          case 'stdvar':
            a.value = 0;
            break;
          case 'group':
            a.value = 1;
            break;
          case 'topk':
          case 'bottomk':
            a.heap = new GoHeap(op === 'topk' ? lessAsc : lessDesc);
            a.heap.items.push({ v, si });
            break;
          case 'quantile':
            a.values.push(v);
            break;
        }
        continue;
      }
      switch (op) {
        case 'sum':
          a.value += v;
          break;
        case 'avg': {
          a.count++;
          if (a.mean === Infinity || a.mean === -Infinity) {
            if ((v === Infinity || v === -Infinity) && a.mean > 0 === v > 0) break;
            if (Number.isFinite(v)) break;
          }
          a.mean += v / a.count - a.mean / a.count;
          break;
        }
        case 'max':
          if (a.value < v || Number.isNaN(a.value)) a.value = v;
          break;
        case 'min':
          if (a.value > v || Number.isNaN(a.value)) a.value = v;
          break;
        case 'count':
        case 'count_values':
          a.count++;
          break;
        case 'stddev':
        case 'stdvar': {
          a.count++;
          const delta = v - a.mean;
          a.mean += delta / a.count;
          a.value += delta * (v - a.mean);
          break;
        }
        case 'topk':
        case 'bottomk': {
          const heap = a.heap!;
          const top = heap.items[0]!;
          const better = op === 'topk' ? top.v < v : top.v > v;
          if (heap.items.length < k || better || Number.isNaN(top.v)) {
            if (heap.items.length === k) {
              if (k === 1) {
                heap.items[0] = { v, si };
                break;
              }
              heap.pop();
            }
            heap.push({ v, si });
          }
          break;
        }
        case 'quantile':
          a.values.push(v);
          break;
        case 'group':
          break;
      }
    }
    for (const g of active) {
      const a = accs[g]!;
      let value: number;
      switch (op) {
        case 'avg':
          value = a.mean;
          break;
        case 'count':
        case 'count_values':
          value = a.count;
          break;
        case 'stdvar':
          value = a.value / a.count;
          break;
        case 'stddev':
          value = Math.sqrt(a.value / a.count);
          break;
        case 'quantile':
          value = quantile((param as Float64Array)[step]!, a.values);
          break;
        case 'topk':
        case 'bottomk': {
          const items = [...a.heap!.items].sort((x, y) => {
            const xn = Number.isNaN(x.v);
            const yn = Number.isNaN(y.v);
            if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1;
            return op === 'topk' ? y.v - x.v : x.v - y.v;
          });
          for (const it of items) out.add(seriesKeys[it.si]!, input[it.si]!.labels, step, it.v);
          continue;
        }
        default:
          value = a.value;
      }
      out.add(groupKeys[g]!, groupLabels[g]!, step, value);
    }
  }
  return vectorValue(out.result());
}
