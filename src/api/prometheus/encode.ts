import type { Labels } from '../../model/labels.ts';
import type { QueryResult } from '../../promql/engine.ts';
import { formatApiValue } from '../../promql/literals.ts';

/**
 * JSON encoding of the Prometheus HTTP API, byte for byte as Prometheus writes it: timestamps as
 * seconds with up to three decimals (`1435781451.781`), sample values as strings in Go's float
 * format (`"+Inf"`, `"1e-07"`), label sets as objects in label order. Results are written as one
 * string rather than through generic JSON serialisation of nested arrays.
 */

export function encodeTimestamp(ms: number): string {
  const neg = ms < 0;
  const abs = Math.abs(ms);
  const whole = Math.trunc(abs / 1000);
  const fraction = abs % 1000;
  const sign = neg ? '-' : '';
  if (fraction === 0) return `${sign}${whole}`;
  return `${sign}${whole}.${String(fraction).padStart(3, '0')}`;
}

export function encodeLabels(labels: Labels): string {
  let out = '{';
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) out += ',';
    out += JSON.stringify(l.name) + ':' + JSON.stringify(l.value);
  }
  return out + '}';
}

function point(t: number, v: number): string {
  return `[${encodeTimestamp(t)},"${formatApiValue(v)}"]`;
}

/**
 * encodeQueryData for large results: series are encoded in slices of a few milliseconds with a
 * yield to the event loop in between, so a big answer does not hold up other requests.
 */
export async function encodeQueryDataCooperatively(r: QueryResult, sliceMs = 5): Promise<string> {
  if (r.resultType !== 'matrix' && r.resultType !== 'vector') return encodeQueryData(r);
  const parts: string[] = [];
  let sliceEnd = performance.now() + sliceMs;
  let done = 0;
  while (done < r.result.length) {
    let points = 0;
    const from = done;
    while (done < r.result.length && points < 2000) {
      const s = r.result[done++]!;
      points += r.resultType === 'matrix' ? (s as { t: number[] }).t.length : 1;
    }
    const chunk = encodeQueryData({ ...r, result: r.result.slice(from, done) } as QueryResult);
    parts.push(chunk.slice(chunk.indexOf('[') + 1, chunk.lastIndexOf(']')));
    if (performance.now() >= sliceEnd) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceEnd = performance.now() + sliceMs;
    }
  }
  return `{"resultType":"${r.resultType}","result":[${parts.filter((p) => p !== '').join(',')}]}`;
}

export function encodeQueryData(r: QueryResult): string {
  switch (r.resultType) {
    case 'scalar':
      return `{"resultType":"scalar","result":${point(r.result.t, r.result.v)}}`;
    case 'string':
      return `{"resultType":"string","result":[${encodeTimestamp(r.result.t)},${JSON.stringify(r.result.v)}]}`;
    case 'vector': {
      const parts = r.result.map((s) => `{"metric":${encodeLabels(s.labels)},"value":${point(s.t, s.v)}}`);
      return `{"resultType":"vector","result":[${parts.join(',')}]}`;
    }
    case 'matrix': {
      const parts = r.result.map((s) => {
        const points: string[] = new Array<string>(s.t.length);
        for (let i = 0; i < s.t.length; i++) points[i] = point(s.t[i]!, s.v[i]!);
        return `{"metric":${encodeLabels(s.labels)},"values":[${points.join(',')}]}`;
      });
      return `{"resultType":"matrix","result":[${parts.join(',')}]}`;
    }
  }
}

export function successBody(dataJson: string): string {
  return `{"status":"success","data":${dataJson}}`;
}

export type ApiErrorType =
  'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'not_found' | 'unavailable';

/** The HTTP status Prometheus answers for each errorType. */
export const ERROR_STATUS: Record<ApiErrorType, number> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 503,
  internal: 500,
  not_found: 404,
  unavailable: 503,
};

export function errorBody(errorType: string, message: string): string {
  return JSON.stringify({ status: 'error', errorType, error: message });
}
