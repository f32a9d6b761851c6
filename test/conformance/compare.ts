import { labelsToRecord } from '../../src/model/labels.ts';
import type { QueryResult } from '../../src/promql/engine.ts';

/** Normalised query outcomes of Prometheus (from its JSON API) and of Irin's engine, and their comparison. */

export interface NormalSeries {
  readonly metric: Record<string, string>;
  readonly points: [number, number][];
}

export type Outcome =
  | { readonly error: string; readonly message: string }
  | { readonly resultType: string; readonly series: NormalSeries[]; readonly text?: string };

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  return Number(s);
}

const toMs = (seconds: number): number => Math.round(seconds * 1000);

interface PromBody {
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

export function fromPrometheus(body: unknown): Outcome {
  const b = body as PromBody;
  if (b.status !== 'success' || !b.data) return { error: b.errorType ?? 'unknown', message: b.error ?? '' };
  const { resultType, result } = b.data;
  switch (resultType) {
    case 'vector':
      return {
        resultType,
        series: (result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
          metric: s.metric,
          points: [[toMs(s.value[0]), parseValue(s.value[1])]],
        })),
      };
    case 'matrix':
      return {
        resultType,
        series: (result as { metric: Record<string, string>; values: [number, string][] }[]).map((s) => ({
          metric: s.metric,
          points: s.values.map(([t, v]): [number, number] => [toMs(t), parseValue(v)]),
        })),
      };
    case 'scalar': {
      const [t, v] = result as [number, string];
      return { resultType, series: [{ metric: {}, points: [[toMs(t), parseValue(v)]] }] };
    }
    case 'string': {
      const [t, v] = result as [number, string];
      return { resultType, series: [{ metric: {}, points: [[toMs(t), 0]] }], text: v };
    }
    default:
      return { error: 'unknown', message: `unknown result type ${resultType}` };
  }
}

export function fromIrin(r: QueryResult): Outcome {
  switch (r.resultType) {
    case 'vector':
      return {
        resultType: 'vector',
        series: r.result.map((s) => ({ metric: labelsToRecord(s.labels), points: [[s.t, s.v]] })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        series: r.result.map((s) => ({
          metric: labelsToRecord(s.labels),
          points: s.t.map((t, i): [number, number] => [t, s.v[i]!]),
        })),
      };
    case 'scalar':
      return { resultType: 'scalar', series: [{ metric: {}, points: [[r.result.t, r.result.v]] }] };
    case 'string':
      return { resultType: 'string', series: [{ metric: {}, points: [[r.result.t, 0]] }], text: r.result.v };
  }
}

function metricKey(m: Record<string, string>): string {
  return JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function valuesEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const diff = Math.abs(a - b);
  return diff <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) || diff < 1e-12;
}

/** undefined when equal, else a description of the first difference. */
export function compareOutcomes(expected: Outcome, actual: Outcome, ordered: boolean): string | undefined {
  if ('error' in expected || 'error' in actual) {
    if ('error' in expected && 'error' in actual) {
      return expected.error === actual.error
        ? undefined
        : `error types differ: ${expected.error} vs ${actual.error}`;
    }
    return 'error' in expected
      ? `Prometheus: ${expected.error}: ${expected.message}; Irin succeeded`
      : `Irin: ${(actual as { error: string; message: string }).error}: ${(actual as { message: string }).message}; Prometheus succeeded`;
  }
  if (expected.resultType !== actual.resultType)
    return `result type ${expected.resultType} vs ${actual.resultType}`;
  if (expected.text !== actual.text) return `string ${expected.text} vs ${actual.text}`;
  const sort = (s: NormalSeries[]): NormalSeries[] =>
    ordered ? s : [...s].sort((x, y) => (metricKey(x.metric) < metricKey(y.metric) ? -1 : 1));
  const e = sort(expected.series);
  const a = sort(actual.series);
  if (e.length !== a.length) {
    return `series count ${e.length} vs ${a.length}: expected ${e
      .slice(0, 4)
      .map((s) => metricKey(s.metric))
      .join(' ')} got ${a
      .slice(0, 4)
      .map((s) => metricKey(s.metric))
      .join(' ')}`;
  }
  for (let i = 0; i < e.length; i++) {
    const es = e[i]!;
    const as = a[i]!;
    if (metricKey(es.metric) !== metricKey(as.metric))
      return `series ${i}: labels ${metricKey(es.metric)} vs ${metricKey(as.metric)}`;
    if (es.points.length !== as.points.length) {
      return `series ${metricKey(es.metric)}: ${es.points.length} vs ${as.points.length} points (first expected t=${es.points[0]?.[0]}, got t=${as.points[0]?.[0]})`;
    }
    for (let j = 0; j < es.points.length; j++) {
      const [et, ev] = es.points[j]!;
      const [at, av] = as.points[j]!;
      if (et !== at) return `series ${metricKey(es.metric)} point ${j}: t ${et} vs ${at}`;
      if (!valuesEqual(ev, av)) return `series ${metricKey(es.metric)} point ${j} (t=${et}): ${ev} vs ${av}`;
    }
  }
  return undefined;
}
