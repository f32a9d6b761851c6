import { ParseError, parseExpr } from '../../src/promql/parser.ts';
import { prettyExpr } from '../../src/promql/format.ts';
import { PromqlEngine } from '../../src/promql/engine.ts';
import { QueryError } from '../../src/promql/errors.ts';
import type { Querier } from '../../src/tsdb/types.ts';
import { compareOutcomes, fromIrin, fromPrometheus, type Outcome } from './compare.ts';
import type { PrometheusServer } from './prometheus-server.ts';
import type { ConformanceQuery } from './queries.ts';

/** Runs every query against Prometheus and Irin and compares the outcomes. */

export interface Case {
  readonly query: string;
  readonly mode: string;
  /** Which storage Irin's engine read from. */
  readonly backend: string;
  readonly diff?: string;
}

export interface Backend {
  readonly name: string;
  readonly querier: Querier;
}

export interface Evaluation {
  readonly kind: 'instant' | 'range';
  readonly time?: number;
  readonly start?: number;
  readonly end?: number;
  readonly step?: number;
}

export function expandQuery(query: string, t0: number): string {
  return query.replace(/\{AT:([\d.]+)\}/g, (_, s: string) => String(t0 / 1000 + Number(s)));
}

function describe(e: Evaluation, t0: number): string {
  const rel = (t: number): string => `t0+${(t - t0) / 1000}s`;
  return e.kind === 'instant'
    ? `instant@${rel(e.time!)}`
    : `range ${rel(e.start!)}..${rel(e.end!)} step ${e.step! / 1000}s`;
}

const secs = (ms: number): string => (ms / 1000).toFixed(3);

async function irinOutcome(
  engine: PromqlEngine,
  querier: Querier,
  query: string,
  e: Evaluation,
): Promise<Outcome> {
  try {
    const expr = parseExpr(query);
    const limits = { timeoutMs: 30_000, maxSamples: 50_000_000 };
    const result =
      e.kind === 'instant'
        ? await engine.instantQuery(querier, expr, e.time!, limits)
        : await engine.rangeQuery(querier, expr, e.start!, e.end!, e.step!, limits);
    return fromIrin(result);
  } catch (err) {
    if (err instanceof ParseError) return { error: 'bad_data', message: err.message };
    if (err instanceof QueryError) return { error: err.errorType, message: err.message };
    return { error: 'internal', message: (err as Error).stack ?? String(err) };
  }
}

async function prometheusOutcome(prom: PrometheusServer, query: string, e: Evaluation): Promise<Outcome> {
  const res =
    e.kind === 'instant'
      ? await prom.get('/api/v1/query', { query, time: secs(e.time!) })
      : await prom.get('/api/v1/query_range', {
          query,
          start: secs(e.start!),
          end: secs(e.end!),
          step: secs(e.step!),
        });
  return fromPrometheus(res.body);
}

/** format_query: the same canonical text, or an error from both. */
async function compareFormatting(prom: PrometheusServer, query: string): Promise<string | undefined> {
  const res = await prom.get('/api/v1/format_query', { query });
  const body = res.body as { status: string; data?: string };
  let ours: string | undefined;
  try {
    ours = prettyExpr(parseExpr(query));
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
  if (body.status !== 'success')
    return ours === undefined ? undefined : `Prometheus refuses it, Irin formats it as ${ours}`;
  if (ours === undefined) return `Prometheus formats it as ${body.data}, Irin refuses it`;
  return ours === body.data
    ? undefined
    : `formatted as ${JSON.stringify(ours)}, Prometheus: ${JSON.stringify(body.data)}`;
}

export function evaluationsFor(index: number, t0: number): Evaluation[] {
  const m = 60_000;
  const instants = [t0 + 61 * m + 7_500, t0 + 40 * m + 10_000, t0 + 123 * m];
  const range: Evaluation =
    index % 2 === 0
      ? { kind: 'range', start: t0 + 5 * m, end: t0 + 115 * m, step: 60_000 }
      : { kind: 'range', start: t0 + 5 * m + 13_000, end: t0 + 124 * m, step: 37_000 };
  return [...instants.map((time): Evaluation => ({ kind: 'instant', time })), range];
}

export async function runConformance(
  prom: PrometheusServer,
  backends: readonly Backend[],
  queries: readonly ConformanceQuery[],
  t0: number,
): Promise<Case[]> {
  const engine = new PromqlEngine();
  const cases: Case[] = [];
  for (let i = 0; i < queries.length; i++) {
    const { query: template, ordered, instantOnly } = queries[i]!;
    const query = expandQuery(template, t0);
    const evaluations = evaluationsFor(i, t0).filter((e) => !instantOnly || e.kind === 'instant');
    // Prometheus answers concurrently; Irin's engine runs one evaluation at a time.
    const expectedAll = await Promise.all(evaluations.map((e) => prometheusOutcome(prom, query, e)));
    for (const [k, e] of evaluations.entries()) {
      const expected = expectedAll[k]!;
      for (const { name, querier } of backends) {
        const actual = await irinOutcome(engine, querier, query, e);
        const diff = compareOutcomes(expected, actual, Boolean(ordered) && e.kind === 'instant');
        cases.push({ query: template, mode: describe(e, t0), backend: name, ...(diff ? { diff } : {}) });
      }
    }
    const diff = await compareFormatting(prom, query);
    cases.push({ query: template, mode: 'format_query', backend: 'parser', ...(diff ? { diff } : {}) });
  }
  return cases;
}
