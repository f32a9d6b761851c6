import type { Label, Labels } from '../../model/labels.ts';
import type { Matcher } from '../../model/matchers.ts';
import { formatStreamLabels } from '../store/streams.ts';
import type { Block, BlockSource, LogQuerier } from '../store/types.ts';
import type {
  BinaryExpr,
  Grouping,
  LabelFilterExpr,
  LabelReplaceExpr,
  LogSelectorExpr,
  MetricExpr,
  RangeAggregationExpr,
  VectorAggregationExpr,
} from './ast.ts';
import { BaseLabels, labelsKeyOf, type LabelsBuilder } from './labels-builder.ts';
import { SAMPLE_EXTRACTION_ERR } from './parsers.ts';
import {
  applyMetadata,
  compileLabelFilter,
  compilePipeline,
  newEntryState,
  type CompiledPipeline,
  type EntryState,
} from './pipeline.ts';
import { goRegexToJs, inlineFlags } from './regex.ts';
import { parseBytes, parseGoDuration, parseGoFloat } from './units.ts';

/** Errors a query can end with; the HTTP layer maps `status` to the response code. */
export class LogQLEvalError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 499 | 504 = 400,
  ) {
    super(message);
    this.name = 'LogQLEvalError';
  }
}

export interface EngineLimits {
  /** Upper bound for a log query's `limit`. */
  readonly maxEntries: number;
  /** Series a metric query may produce. */
  readonly maxSeries: number;
  /** Samples a metric query may extract from log lines. */
  readonly maxSamples: number;
  readonly timeoutMs: number;
}

export const DEFAULT_ENGINE_LIMITS: EngineLimits = {
  maxEntries: 5000,
  maxSeries: 500,
  maxSamples: 50_000_000,
  timeoutMs: 60_000,
};

export interface QueryStats {
  /** Uncompressed line bytes scanned. */
  bytesProcessed: number;
  linesProcessed: number;
  /** Chunks read from disk and their compressed size (in-memory head data is counted separately). */
  chunksRead: number;
  compressedBytes: number;
  headChunkLines: number;
  headChunkBytes: number;
  /** Entries or samples returned. */
  entriesReturned: number;
  execTimeSeconds: number;
}

export interface LogEntryResult {
  readonly ms: number;
  readonly ns: number;
  readonly line: string;
}

export interface LogStreamResult {
  readonly labels: Labels;
  readonly entries: LogEntryResult[];
}

export interface SeriesResult {
  readonly labels: Labels;
  readonly points: [number, number][];
}

export type MetricResult =
  | { readonly type: 'matrix'; readonly series: SeriesResult[] }
  | { readonly type: 'vector'; readonly samples: { labels: Labels; ms: number; value: number }[] }
  | { readonly type: 'scalar'; readonly ms: number; readonly value: number };

export interface LogQueryParams {
  /** Inclusive start and exclusive end, as (ms, ns-within-ms). */
  readonly startMs: number;
  readonly startNs: number;
  readonly endMs: number;
  readonly endNs: number;
  readonly limit: number;
  readonly direction: 'forward' | 'backward';
  /** Loki's `interval`: at most one entry per interval (ms), 0 for all. */
  readonly intervalMs?: number;
}

function emptyStats(): QueryStats {
  return {
    bytesProcessed: 0,
    linesProcessed: 0,
    chunksRead: 0,
    compressedBytes: 0,
    headChunkLines: 0,
    headChunkBytes: 0,
    entriesReturned: 0,
    execTimeSeconds: 0,
  };
}

function pipelineError(lbs: LabelsBuilder): LogQLEvalError {
  const kind = lbs.error;
  return new LogQLEvalError(
    `pipeline error: '${kind}' for series ${formatStreamLabels(lbs.labels())}. ` +
      `Skip such lines with a label filter, e.g. | __error__!="${kind}", or every error with | __error__="" ` +
      `(after unwrap too: | unwrap latency | __error__="")`,
  );
}

/** Time-order of a block's entries (only head snapshots with out-of-order entries need sorting). */
function blockOrder(block: Block): Uint32Array | null {
  if (block.sorted) return null;
  const order = new Uint32Array(block.count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const { ms, ns } = block;
  return order.sort((a, b) => ms[a]! - ms[b]! || ns[a]! - ns[b]! || a - b);
}

/** Entry time as a sortable number: whole ms, plus 0.5 when there are nanoseconds beyond it, so `(a, b]` windows on whole ms are exact. */
function timeKey(ms: number, ns: number): number {
  return ns > 0 ? ms + 0.5 : ms;
}

interface StepSeries {
  labels: Labels;
  key: string;
  values: Float64Array;
  present: Uint8Array;
}

type Evaluated = { kind: 'vector'; series: StepSeries[] } | { kind: 'scalar'; values: Float64Array };

interface SampleSeries {
  labels: Labels;
  t: number[];
  v: number[];
}

/**
 * Evaluates LogQL against ONE tenant's querier (layer 4). Queries must already carry the tenant
 * matcher (layer 2, see scope.ts); the engine never reaches any other partition.
 */
export class LogQLEngine {
  readonly stats: QueryStats = emptyStats();
  private readonly started = Date.now();
  private samples = 0;

  constructor(
    private readonly querier: LogQuerier,
    private readonly limits: EngineLimits = DEFAULT_ENGINE_LIMITS,
    private readonly signal?: AbortSignal,
  ) {}

  private checkDeadline(): void {
    if (this.signal?.aborted) throw new LogQLEvalError('the request was cancelled by the client', 499);
    if (Date.now() - this.started > this.limits.timeoutMs) {
      throw new LogQLEvalError(
        `query timed out after ${this.limits.timeoutMs / 1000}s (queryTimeoutMs); narrow the time range or the stream selector`,
        504,
      );
    }
  }

  private finish(): void {
    this.stats.execTimeSeconds = (Date.now() - this.started) / 1000;
  }

  /** Loads source i of a list, keeping the next few loads in flight (decompression runs on the thread pool). */
  private async load(fetch: Prefetch, i: number): Promise<Block> {
    this.checkDeadline();
    const src = fetch.sources[i]!;
    const block = await fetch.get(i);
    if (src.compressedBytes > 0) {
      this.stats.chunksRead++;
      this.stats.compressedBytes += src.compressedBytes;
    } else {
      this.stats.headChunkLines += block.count;
      this.stats.headChunkBytes += block.linesEnd;
    }
    this.stats.bytesProcessed += block.linesEnd;
    this.stats.linesProcessed += block.count;
    return block;
  }

  // ------------------------------------------------------------------ log queries

  async selectLogs(expr: LogSelectorExpr, p: LogQueryParams): Promise<LogStreamResult[]> {
    if (p.limit > this.limits.maxEntries) {
      throw new LogQLEvalError(
        `max entries limit per query exceeded, limit > max_entries_limit (${p.limit} > ${this.limits.maxEntries})`,
      );
    }
    const pipeline = compilePipeline(expr.pipeline);
    const backward = p.direction === 'backward';
    const top = new TopEntries(p.limit, backward);
    const endInclusiveMs = p.endNs === 0 ? p.endMs - 1 : p.endMs;
    for (const stream of this.querier.streams(expr.matchers, p.startMs, endInclusiveMs)) {
      const base = new BaseLabels(stream.labels);
      const state = newEntryState(base);
      const sources = this.querier.blocks(stream.id, p.startMs, endInclusiveMs);
      sources.sort(backward ? (a, b) => b.maxMs - a.maxMs : (a, b) => a.minMs - b.minMs);
      const fetch = new Prefetch(sources, PREFETCH_DEPTH);
      for (let si = 0; si < sources.length; si++) {
        const src = sources[si]!;
        if (top.full && (backward ? src.maxMs < top.worstMs : src.minMs > top.worstMs)) break;
        const block = await this.load(fetch, si);
        const mask = pipeline.prefilter(block);
        if (mask && mask.indexOf(1) < 0) continue;
        const order = blockOrder(block);
        const n = block.count;
        for (let j = 0; j < n; j++) {
          const idx = backward ? n - 1 - j : j;
          const i = order ? order[idx]! : idx;
          if (mask && !mask[i]) continue;
          const ms = block.ms[i]!;
          const ns = block.ns[i]!;
          if (ms < p.startMs || (ms === p.startMs && ns < p.startNs)) {
            if (backward) break;
            continue;
          }
          if (ms > p.endMs || (ms === p.endMs && ns >= p.endNs)) {
            if (backward) continue;
            break;
          }
          if (top.full && !top.better(ms, ns)) break;
          const line = block.lines.toString('utf8', block.starts[i], block.starts[i + 1]);
          const out = this.runPipeline(pipeline, state, base, block, i, line);
          if (!out) continue;
          top.push({ ms, ns, line: state.line, labels: out });
        }
      }
    }
    let entries = top.result();
    if (p.intervalMs && p.intervalMs > 0) entries = thinByInterval(entries, p.intervalMs, backward);
    const streams = new Map<string, LogStreamResult>();
    for (const e of entries) {
      const key = labelsKeyOf(e.labels);
      let s = streams.get(key);
      if (!s) streams.set(key, (s = { labels: e.labels, entries: [] }));
      s.entries.push({ ms: e.ms, ns: e.ns, line: e.line });
    }
    this.stats.entriesReturned = entries.length;
    this.finish();
    return [...streams.values()].sort((a, b) => cmpKey(labelsKeyOf(a.labels), labelsKeyOf(b.labels)));
  }

  /** Runs the per-entry stages; returns the entry's final labels, or undefined when dropped. */
  private runPipeline(
    pipeline: CompiledPipeline,
    state: EntryState,
    base: BaseLabels,
    block: Block,
    i: number,
    line: string,
  ): Labels | undefined {
    state.labels.reset(base);
    applyMetadata(state.labels, block.meta?.[i]);
    state.line = line;
    state.lineChanged = false;
    state.ms = block.ms[i]!;
    state.ns = block.ns[i]!;
    if (pipeline.hasStages && !pipeline.process(state)) return undefined;
    return state.labels.labels();
  }

  // ------------------------------------------------------------------ metric queries

  async evalRange(expr: MetricExpr, startMs: number, endMs: number, stepMs: number): Promise<MetricResult> {
    if (stepMs <= 0)
      throw new LogQLEvalError(
        'zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    const count = Math.floor((endMs - startMs) / stepMs) + 1;
    if (count > 11_000) {
      throw new LogQLEvalError(
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    }
    const steps = new Float64Array(count);
    for (let k = 0; k < count; k++) steps[k] = startMs + k * stepMs;
    const v = await this.eval(expr, steps);
    this.finish();
    if (v.kind === 'scalar') {
      return {
        type: 'matrix',
        series: [{ labels: [], points: [...steps].map((t, k) => [t, v.values[k]!] as [number, number]) }],
      };
    }
    const series: SeriesResult[] = [];
    for (const s of v.series) {
      const points: [number, number][] = [];
      for (let k = 0; k < count; k++) if (s.present[k]) points.push([steps[k]!, s.values[k]!]);
      if (points.length > 0) series.push({ labels: s.labels, points });
    }
    series.sort((a, b) => cmpKey(labelsKeyOf(a.labels), labelsKeyOf(b.labels)));
    this.stats.entriesReturned = series.reduce((n, s) => n + s.points.length, 0);
    return { type: 'matrix', series };
  }

  async evalInstant(expr: MetricExpr, tMs: number): Promise<MetricResult> {
    const steps = Float64Array.of(tMs);
    const v = await this.eval(expr, steps);
    this.finish();
    if (v.kind === 'scalar') return { type: 'scalar', ms: tMs, value: v.values[0]! };
    let samples = v.series
      .filter((s) => s.present[0])
      .map((s) => ({ labels: s.labels, ms: tMs, value: s.values[0]! }));
    const sortOp = topSort(expr);
    if (sortOp === 'sort') samples.sort((a, b) => a.value - b.value);
    else if (sortOp === 'sort_desc') samples.sort((a, b) => b.value - a.value);
    else samples = samples.sort((a, b) => cmpKey(labelsKeyOf(a.labels), labelsKeyOf(b.labels)));
    this.stats.entriesReturned = samples.length;
    return { type: 'vector', samples };
  }

  private async eval(e: MetricExpr, steps: Float64Array): Promise<Evaluated> {
    switch (e.kind) {
      case 'literal':
        return { kind: 'scalar', values: new Float64Array(steps.length).fill(e.value) };
      case 'vector':
        return {
          kind: 'vector',
          series: [
            {
              labels: [],
              key: '',
              values: new Float64Array(steps.length).fill(e.value),
              present: new Uint8Array(steps.length).fill(1),
            },
          ],
        };
      case 'rangeAgg':
        return { kind: 'vector', series: this.limitSeries(await this.rangeAgg(e, steps, e.grouping)) };
      case 'vectorAgg':
        return { kind: 'vector', series: this.limitSeries(await this.vectorAgg(e, steps)) };
      case 'binary':
        return this.binary(e, steps);
      case 'labelReplace':
        return this.labelReplace(e, steps);
    }
  }

  private limitSeries(series: StepSeries[]): StepSeries[] {
    this.checkSeriesCount(series.length);
    return series;
  }

  private checkSeriesCount(n: number): void {
    if (n > this.limits.maxSeries) {
      throw new LogQLEvalError(
        `maximum of series (${this.limits.maxSeries}) reached for a single query; aggregate with sum by (…) or select fewer streams`,
      );
    }
  }

  /** Extracts samples from log lines and applies the range function at every step. */
  private async rangeAgg(
    e: RangeAggregationExpr,
    steps: Float64Array,
    grouping: Grouping | undefined,
  ): Promise<StepSeries[]> {
    const { range } = e;
    const first = steps[0]!;
    const last = steps[steps.length - 1]!;
    const fromMs = first - range.offsetMs - range.rangeMs; // exclusive
    const toMs = last - range.offsetMs; // inclusive
    const pipeline = compilePipeline(range.selector.pipeline, labelHints(e, grouping));
    const unwrap = range.unwrap;
    const postFilters = unwrap ? unwrap.postFilters.map(compileLabelFilter) : [];
    const convert = unwrap ? unwrapConverter(unwrap.conversion) : undefined;
    const bytesOp = e.op === 'bytes_over_time' || e.op === 'bytes_rate';
    const groupKey = grouping ? groupingFn(grouping) : undefined;
    const series = new Map<string, SampleSeries>();
    // count/rate/bytes only need per-window totals: every sample is added to the windows that
    // contain it through difference arrays, without keeping or sorting samples.
    const linear = !unwrap && (e.op === 'count_over_time' || e.op === 'rate' || bytesOp);
    const windows = linear ? new WindowSums(steps, range.offsetMs, range.rangeMs) : undefined;
    const sums = new Map<string, WindowSeries>();
    let anySample = false;

    for (const stream of this.querier.streams(range.selector.matchers, Math.floor(fromMs) + 1, toMs)) {
      const base = new BaseLabels(stream.labels);
      const state = newEntryState(base, pipeline.only);
      const sources = this.querier.blocks(stream.id, Math.floor(fromMs) + 1, toMs);
      const fetch = new Prefetch(sources, PREFETCH_DEPTH);
      for (let si = 0; si < sources.length; si++) {
        const block = await this.load(fetch, si);
        const mask = pipeline.prefilter(block);
        if (mask && mask.indexOf(1) < 0) continue;
        const n = block.count;
        for (let i = 0; i < n; i++) {
          if (mask && !mask[i]) continue;
          const tk = timeKey(block.ms[i]!, block.ns[i]!);
          if (tk <= fromMs || tk > toMs) continue;
          const lbs = state.labels;
          lbs.reset(base);
          applyMetadata(lbs, block.meta?.[i]);
          const lineBytes = block.starts[i + 1]! - block.starts[i]!;
          if (pipeline.hasStages) {
            state.line = block.lines.toString('utf8', block.starts[i], block.starts[i + 1]);
            state.lineChanged = false;
            state.ms = block.ms[i]!;
            state.ns = block.ns[i]!;
            if (!pipeline.process(state)) continue;
          }
          let value = 1;
          if (bytesOp) value = state.lineChanged ? Buffer.byteLength(state.line) : lineBytes;
          else if (unwrap) {
            const raw = lbs.get(unwrap.label);
            const v = raw === undefined ? undefined : convert!(raw);
            if (v === undefined) {
              lbs.setError(
                SAMPLE_EXTRACTION_ERR,
                raw === undefined
                  ? `label "${unwrap.label}" not found`
                  : `cannot convert ${JSON.stringify(raw)}`,
              );
              value = 0;
            } else value = v;
            let keep = true;
            for (const f of postFilters) {
              if (!f(lbs)) {
                keep = false;
                break;
              }
            }
            if (!keep) continue;
            lbs.delete(unwrap.label);
          }
          if (lbs.error !== '') throw pipelineError(lbs);
          anySample = true;
          if (e.op === 'absent_over_time') {
            // Only the presence of a sample matters.
            let s = series.get('');
            if (!s) series.set('', (s = { labels: [], t: [], v: [] }));
            s.t.push(tk);
            s.v.push(1);
            continue;
          }
          let key: string;
          let labels: Labels | undefined;
          if (groupKey) {
            const g = groupKey(lbs);
            key = g.key;
            labels = g.labels;
          } else key = lbs.key();
          if (windows) {
            let w = sums.get(key);
            if (!w) {
              sums.set(key, (w = windows.series(labels ?? lbs.labels())));
              this.checkSeriesCount(sums.size);
            }
            windows.add(w, tk, value);
          } else {
            let s = series.get(key);
            if (!s) {
              series.set(key, (s = { labels: labels ?? lbs.labels(), t: [], v: [] }));
              this.checkSeriesCount(series.size);
            }
            s.t.push(tk);
            s.v.push(value);
          }
          if (++this.samples > this.limits.maxSamples) {
            throw new LogQLEvalError(
              `the query would process more than ${this.limits.maxSamples} samples (maxQuerySamples); narrow the time range or the stream selector`,
            );
          }
        }
      }
    }

    if (e.op === 'absent_over_time')
      return [this.absent(e, steps, series.get(''), range.offsetMs, range.rangeMs, anySample)];
    const out: StepSeries[] = [];
    if (windows) {
      const seconds = range.rangeMs / 1000;
      for (const [key, w] of sums) {
        const { counts, totals } = windows.finish(w);
        const values = new Float64Array(steps.length);
        const present = new Uint8Array(steps.length);
        for (let k = 0; k < steps.length; k++) {
          if (counts[k]! <= 0) continue;
          present[k] = 1;
          values[k] =
            e.op === 'count_over_time'
              ? counts[k]!
              : e.op === 'rate'
                ? counts[k]! / seconds
                : e.op === 'bytes_rate'
                  ? totals[k]! / seconds
                  : totals[k]!;
        }
        if (present.some((x) => x === 1)) out.push({ labels: w.labels, key, values, present });
      }
      return out;
    }
    for (const [key, s] of series) {
      const values = new Float64Array(steps.length);
      const present = new Uint8Array(steps.length);
      const { t, v } = sortSamples(s);
      let lo = 0;
      let hi = 0;
      for (let k = 0; k < steps.length; k++) {
        const b = steps[k]! - range.offsetMs;
        const a = b - range.rangeMs;
        while (lo < t.length && t[lo]! <= a) lo++;
        if (hi < lo) hi = lo;
        while (hi < t.length && t[hi]! <= b) hi++;
        if (hi === lo) continue;
        present[k] = 1;
        values[k] = rangeValue(e, t, v, lo, hi, range.rangeMs);
      }
      if (present.some((x) => x === 1)) out.push({ labels: s.labels, key, values, present });
    }
    return out;
  }

  private absent(
    e: RangeAggregationExpr,
    steps: Float64Array,
    s: SampleSeries | undefined,
    offsetMs: number,
    rangeMs: number,
    any: boolean,
  ): StepSeries {
    const values = new Float64Array(steps.length).fill(1);
    const present = new Uint8Array(steps.length);
    const t = s && any ? sortSamples(s).t : new Float64Array(0);
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < steps.length; k++) {
      const b = steps[k]! - offsetMs;
      const a = b - rangeMs;
      while (lo < t.length && t[lo]! <= a) lo++;
      if (hi < lo) hi = lo;
      while (hi < t.length && t[hi]! <= b) hi++;
      if (hi === lo) present[k] = 1;
    }
    const labels = absentLabels(e.range.selector.matchers);
    return { labels, key: labelsKeyOf(labels), values, present };
  }

  private async vectorAgg(e: VectorAggregationExpr, steps: Float64Array): Promise<StepSeries[]> {
    // sum by/without over count/rate/bytes/sum_over_time is linear: group while extracting, so
    // per-line label sets never need to be materialised (Loki's label hints do the same).
    if (e.op === 'sum' && e.expr.kind === 'rangeAgg' && !e.expr.grouping && LINEAR_RANGE_OPS.has(e.expr.op)) {
      const grouping: Grouping = e.grouping ?? { without: false, labels: [] };
      return this.rangeAgg(e.expr, steps, grouping);
    }
    const inner = await this.eval(e.expr, steps);
    if (inner.kind === 'scalar') throw new LogQLEvalError(`${e.op} expects a vector, got a scalar`);
    const inSeries = inner.series;
    if (e.op === 'sort' || e.op === 'sort_desc') return inSeries;
    const group = e.grouping ? groupingOfLabels(e.grouping) : () => ({ key: '', labels: [] as Labels });
    const groups = new Map<string, { labels: Labels; members: StepSeries[] }>();
    for (const s of inSeries) {
      const g = group(s.labels);
      let entry = groups.get(g.key);
      if (!entry) groups.set(g.key, (entry = { labels: g.labels, members: [] }));
      entry.members.push(s);
    }
    const n = steps.length;
    if (e.op === 'topk' || e.op === 'bottomk') {
      const k = e.param!;
      const chosen = new Map<StepSeries, StepSeries>();
      for (const { members } of groups.values()) {
        for (let step = 0; step < n; step++) {
          const candidates = members.filter((m) => m.present[step]);
          candidates.sort((a, b) =>
            e.op === 'topk'
              ? cmpDesc(a.values[step]!, b.values[step]!)
              : cmpDesc(b.values[step]!, a.values[step]!),
          );
          for (const m of candidates.slice(0, k)) {
            let o = chosen.get(m);
            if (!o)
              chosen.set(
                m,
                (o = {
                  labels: m.labels,
                  key: m.key,
                  values: new Float64Array(n),
                  present: new Uint8Array(n),
                }),
              );
            o.values[step] = m.values[step]!;
            o.present[step] = 1;
          }
        }
      }
      return [...chosen.values()];
    }
    const out: StepSeries[] = [];
    for (const [key, { labels, members }] of groups) {
      const values = new Float64Array(n);
      const present = new Uint8Array(n);
      for (let step = 0; step < n; step++) {
        const vals: number[] = [];
        for (const m of members) if (m.present[step]) vals.push(m.values[step]!);
        if (vals.length === 0) continue;
        present[step] = 1;
        values[step] = aggregate(e.op, vals);
      }
      out.push({ labels, key, values, present });
    }
    return out;
  }

  private async labelReplace(e: LabelReplaceExpr, steps: Float64Array): Promise<Evaluated> {
    const inner = await this.eval(e.expr, steps);
    if (inner.kind === 'scalar') throw new LogQLEvalError('label_replace expects a vector, got a scalar');
    const re = new RegExp(`^(?:${inlineFlags(goRegexToJs(e.regex))})$`, 's');
    const repl = e.replacement.replace(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*|\d+)\}?/g, (_m, n: string) =>
      /^\d+$/.test(n) ? `$${n}` : `$<${n}>`,
    );
    const merged = new Map<string, StepSeries>();
    for (const s of inner.series) {
      const src = s.labels.find((l) => l.name === e.src)?.value ?? '';
      let labels = s.labels;
      if (re.test(src)) {
        const value = src.replace(re, repl);
        const rest = s.labels.filter((l) => l.name !== e.dst);
        labels = value === '' ? rest : [...rest, { name: e.dst, value }].sort(cmpLabel);
      }
      const key = labelsKeyOf(labels);
      const existing = merged.get(key);
      if (!existing) {
        merged.set(key, { ...s, labels, key });
        continue;
      }
      for (let k = 0; k < steps.length; k++) {
        if (!s.present[k]) continue;
        if (existing.present[k])
          throw new LogQLEvalError('vector cannot contain metrics with the same labelset');
        existing.present[k] = 1;
        existing.values[k] = s.values[k]!;
      }
    }
    return { kind: 'vector', series: [...merged.values()] };
  }

  private async binary(e: BinaryExpr, steps: Float64Array): Promise<Evaluated> {
    const left = await this.eval(e.left, steps);
    const right = await this.eval(e.right, steps);
    const n = steps.length;
    const comparison = COMPARISONS.has(e.op);
    if (left.kind === 'scalar' && right.kind === 'scalar') {
      const values = new Float64Array(n);
      for (let k = 0; k < n; k++) values[k] = arith(e.op, left.values[k]!, right.values[k]!);
      return { kind: 'scalar', values };
    }
    if (left.kind === 'scalar' || right.kind === 'scalar') {
      const vec = (left.kind === 'vector' ? left : right) as { kind: 'vector'; series: StepSeries[] };
      const sc = (left.kind === 'scalar' ? left : right) as { kind: 'scalar'; values: Float64Array };
      const vecLeft = left.kind === 'vector';
      const out: StepSeries[] = [];
      for (const s of vec.series) {
        const values = new Float64Array(n);
        const present = new Uint8Array(n);
        for (let k = 0; k < n; k++) {
          if (!s.present[k]) continue;
          const a = vecLeft ? s.values[k]! : sc.values[k]!;
          const b = vecLeft ? sc.values[k]! : s.values[k]!;
          const r = arith(e.op, a, b);
          if (comparison && !e.returnBool) {
            if (r === 1) {
              present[k] = 1;
              values[k] = s.values[k]!;
            }
          } else {
            present[k] = 1;
            values[k] = r;
          }
        }
        if (present.some((x) => x)) out.push({ labels: s.labels, key: s.key, values, present });
      }
      return { kind: 'vector', series: out };
    }
    return { kind: 'vector', series: vectorBinary(e, left.series, right.series, n) };
  }
}

interface WindowSeries {
  readonly labels: Labels;
  /** Difference arrays over the steps: +v where a sample's windows start, -v after they end. */
  readonly counts: Float64Array;
  readonly totals: Float64Array;
}

/**
 * Per-step window sums for evenly spaced steps: a sample at t belongs to the windows
 * (step - offset - range, step - offset] of steps k with t + offset <= step_k < t + offset + range.
 */
class WindowSums {
  private readonly first: number;
  private readonly step: number;

  constructor(
    private readonly steps: Float64Array,
    private readonly offsetMs: number,
    private readonly rangeMs: number,
  ) {
    this.first = steps[0]!;
    this.step = steps.length > 1 ? steps[1]! - steps[0]! : 1;
  }

  series(labels: Labels): WindowSeries {
    const n = this.steps.length + 1;
    return { labels, counts: new Float64Array(n), totals: new Float64Array(n) };
  }

  add(w: WindowSeries, t: number, value: number): void {
    const n = this.steps.length;
    const from = Math.max(0, Math.ceil((t + this.offsetMs - this.first) / this.step));
    const to = Math.min(n - 1, Math.ceil((t + this.offsetMs + this.rangeMs - this.first) / this.step) - 1);
    if (from > to) return;
    w.counts[from]! += 1;
    w.counts[to + 1]! -= 1;
    w.totals[from]! += value;
    w.totals[to + 1]! -= value;
  }

  finish(w: WindowSeries): { counts: Float64Array; totals: Float64Array } {
    const n = this.steps.length;
    const counts = new Float64Array(n);
    const totals = new Float64Array(n);
    let c = 0;
    let s = 0;
    for (let k = 0; k < n; k++) {
      c += w.counts[k]!;
      s += w.totals[k]!;
      counts[k] = c;
      totals[k] = s;
    }
    return { counts, totals };
  }
}

/**
 * The labels a metric query needs from its parsers, when that is knowable: with `by (…)` grouping
 * and nothing but filters after the parsers, parsers need to extract only the grouping labels,
 * the unwrapped label and the labels filters read (Loki's parser hints). Undefined means all.
 */
function labelHints(
  e: RangeAggregationExpr,
  grouping: Grouping | undefined,
): ReadonlySet<string> | undefined {
  if (!grouping || grouping.without) return undefined;
  const needed = new Set(grouping.labels);
  const addFilter = (f: LabelFilterExpr): void => {
    switch (f.kind) {
      case 'and':
      case 'or':
        addFilter(f.left);
        addFilter(f.right);
        return;
      case 'matcher':
        needed.add(f.matcher.name);
        return;
      default:
        needed.add(f.name);
    }
  };
  for (const stage of e.range.selector.pipeline) {
    if (stage.kind === 'labelFilter') addFilter(stage.filter);
    else if (stage.kind !== 'lineFilter' && stage.kind !== 'parser') return undefined;
  }
  if (e.range.unwrap) {
    needed.add(e.range.unwrap.label);
    for (const f of e.range.unwrap.postFilters) addFilter(f);
  }
  return needed;
}

/** Blocks loaded ahead of the one being scanned: enough to keep both cores busy decompressing. */
const PREFETCH_DEPTH = 4;

/** Loads of a list of block sources, started up to `depth` ahead of consumption. */
class Prefetch {
  private readonly pending: (Promise<Block> | undefined)[];

  constructor(
    readonly sources: readonly BlockSource[],
    private readonly depth: number,
  ) {
    this.pending = new Array<Promise<Block> | undefined>(sources.length);
  }

  get(i: number): Promise<Block> {
    const end = Math.min(this.sources.length, i + this.depth);
    for (let k = i; k < end; k++) {
      if (this.pending[k]) continue;
      const p = this.sources[k]!.load();
      // A prefetched load that is never consumed (early stop) must not become an unhandled rejection.
      p.catch(() => undefined);
      this.pending[k] = p;
    }
    const p = this.pending[i]!;
    this.pending[i] = undefined;
    return p;
  }
}

const LINEAR_RANGE_OPS = new Set([
  'count_over_time',
  'rate',
  'bytes_over_time',
  'bytes_rate',
  'sum_over_time',
]);
const COMPARISONS = new Set(['==', '!=', '>', '>=', '<', '<=']);

function topSort(e: MetricExpr): string | undefined {
  return e.kind === 'vectorAgg' && (e.op === 'sort' || e.op === 'sort_desc') ? e.op : undefined;
}

function cmpKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpLabel(a: Label, b: Label): number {
  return cmpKey(a.name, b.name);
}

/** Descending numeric order with NaN last. */
function cmpDesc(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return b - a;
}

function sortSamples(s: SampleSeries): { t: Float64Array; v: Float64Array } {
  const n = s.t.length;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (s.t[i]! < s.t[i - 1]!) {
      sorted = false;
      break;
    }
  }
  if (sorted) return { t: Float64Array.from(s.t), v: Float64Array.from(s.v) };
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => s.t[a]! - s.t[b]! || a - b);
  return { t: Float64Array.from(idx, (i) => s.t[i]!), v: Float64Array.from(idx, (i) => s.v[i]!) };
}

/** A range function over the samples [lo, hi) of one window (the non-linear and unwrapped cases). */
function rangeValue(
  e: RangeAggregationExpr,
  t: Float64Array,
  v: Float64Array,
  lo: number,
  hi: number,
  rangeMs: number,
): number {
  const seconds = rangeMs / 1000;
  const sum = (): number => {
    let s = 0;
    for (let i = lo; i < hi; i++) s += v[i]!;
    return s;
  };
  switch (e.op) {
    case 'count_over_time':
      return hi - lo;
    case 'rate':
      return sum() / seconds;
    case 'bytes_over_time':
    case 'sum_over_time':
      return sum();
    case 'bytes_rate':
      return sum() / seconds;
    case 'avg_over_time': {
      let mean = 0;
      let count = 0;
      for (let i = lo; i < hi; i++) {
        count++;
        mean += v[i]! / count - mean / count;
      }
      return mean;
    }
    case 'min_over_time': {
      let m = v[lo]!;
      for (let i = lo; i < hi; i++) if (v[i]! < m || Number.isNaN(m)) m = v[i]!;
      return m;
    }
    case 'max_over_time': {
      let m = v[lo]!;
      for (let i = lo; i < hi; i++) if (v[i]! > m || Number.isNaN(m)) m = v[i]!;
      return m;
    }
    case 'stddev_over_time':
    case 'stdvar_over_time': {
      let count = 0;
      let mean = 0;
      let aux = 0;
      for (let i = lo; i < hi; i++) {
        count++;
        const delta = v[i]! - mean;
        mean += delta / count;
        aux += delta * (v[i]! - mean);
      }
      const variance = aux / count;
      return e.op === 'stddev_over_time' ? Math.sqrt(variance) : variance;
    }
    case 'quantile_over_time':
      return quantile(e.param!, Array.from(v.subarray(lo, hi)));
    case 'first_over_time':
      return v[lo]!;
    case 'last_over_time':
      return v[hi - 1]!;
    case 'rate_counter':
      return extrapolatedRate(t, v, lo, hi, rangeMs);
    case 'absent_over_time':
      return 1;
  }
}

/** Prometheus-style quantile with linear interpolation between closest ranks. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = values.sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(sorted.length - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

/** Counter rate with Prometheus's extrapolation (rate_counter); sample times are ms. */
function extrapolatedRate(t: Float64Array, v: Float64Array, lo: number, hi: number, rangeMs: number): number {
  const n = hi - lo;
  if (n < 2) return 0;
  const firstT = t[lo]!;
  const lastT = t[hi - 1]!;
  const rangeStart = firstT - rangeMs;
  let result = v[hi - 1]! - v[lo]!;
  let prev = 0;
  for (let i = lo; i < hi; i++) {
    if (v[i]! < prev) result += prev;
    prev = v[i]!;
  }
  let durationToStart = (firstT - rangeStart) / 1000;
  const durationToEnd = (lastT - lastT) / 1000;
  const sampled = (lastT - firstT) / 1000;
  const avg = sampled / (n - 1);
  if (result > 0 && v[lo]! >= 0) {
    const toZero = sampled * (v[lo]! / result);
    if (toZero < durationToStart) durationToStart = toZero;
  }
  const threshold = avg * 1.1;
  let interval = sampled;
  interval += durationToStart < threshold ? durationToStart : avg / 2;
  interval += durationToEnd < threshold ? durationToEnd : avg / 2;
  return (result * (interval / sampled)) / (rangeMs / 1000);
}

function aggregate(op: VectorAggregationExpr['op'], vals: number[]): number {
  switch (op) {
    case 'sum':
      return vals.reduce((a, b) => a + b, 0);
    case 'avg': {
      let mean = 0;
      let count = 0;
      for (const x of vals) {
        count++;
        mean += x / count - mean / count;
      }
      return mean;
    }
    case 'min':
      return vals.reduce((a, b) => (b < a || Number.isNaN(a) ? b : a));
    case 'max':
      return vals.reduce((a, b) => (b > a || Number.isNaN(a) ? b : a));
    case 'count':
      return vals.length;
    case 'stddev':
    case 'stdvar': {
      let count = 0;
      let mean = 0;
      let aux = 0;
      for (const x of vals) {
        count++;
        const delta = x - mean;
        mean += delta / count;
        aux += delta * (x - mean);
      }
      return op === 'stddev' ? Math.sqrt(aux / count) : aux / count;
    }
    default:
      throw new LogQLEvalError(`unsupported aggregation ${op}`);
  }
}

function arith(op: BinaryExpr['op'], a: number, b: number): number {
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
      return a % b;
    case '^':
      return a ** b;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    default:
      throw new LogQLEvalError(`operator ${op} is not defined between scalars`);
  }
}

/** Group labels for an aggregation: `by` keeps only the listed names, `without` removes them. */
function groupingOfLabels(g: Grouping): (labels: Labels) => { key: string; labels: Labels } {
  const names = new Set(g.labels);
  return (labels) => {
    const kept = labels.filter((l) => (g.without ? !names.has(l.name) : names.has(l.name)));
    return { key: labelsKeyOf(kept), labels: kept };
  };
}

/** The same grouping read straight from a pipeline's label builder (no full label set built). */
function groupingFn(g: Grouping): (lbs: LabelsBuilder) => { key: string; labels: Labels | undefined } {
  if (g.without) {
    const f = groupingOfLabels(g);
    return (lbs) => f(lbs.labels());
  }
  const names = [...new Set(g.labels)].sort();
  const cache = new Map<string, Labels>();
  return (lbs) => {
    let key = '';
    for (const n of names) {
      const v = lbs.get(n);
      if (v !== undefined && v !== '') key += n + '\xff' + v + '\xfe';
    }
    let labels = cache.get(key);
    if (!labels) {
      const built: Label[] = [];
      for (const n of names) {
        const v = lbs.get(n);
        if (v !== undefined && v !== '') built.push({ name: n, value: v });
      }
      cache.set(key, (labels = built));
    }
    return { key, labels };
  };
}

function unwrapConverter(conv: string | undefined): (raw: string) => number | undefined {
  switch (conv) {
    case 'bytes':
      return parseBytes;
    case 'duration':
    case 'duration_seconds':
      return (raw) => parseGoDuration(raw);
    default:
      return parseGoFloat;
  }
}

/** Labels of absent_over_time's series: the selector's equality matchers (names used once). */
function absentLabels(matchers: readonly Matcher[]): Labels {
  const counts = new Map<string, number>();
  for (const m of matchers) counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
  return matchers
    .filter((m) => m.type === '=' && counts.get(m.name) === 1 && m.value !== '')
    .map((m) => ({ name: m.name, value: m.value }))
    .sort(cmpLabel);
}

function signature(labels: Labels, on: boolean, names: ReadonlySet<string>): string {
  return labelsKeyOf(labels.filter((l) => (on ? names.has(l.name) : !names.has(l.name))));
}

function vectorBinary(e: BinaryExpr, lhs: StepSeries[], rhs: StepSeries[], n: number): StepSeries[] {
  const m = e.matching ?? { on: false, labels: [], include: [] };
  const names = new Set(m.labels);
  const sig = (l: Labels) => signature(l, m.on, names);
  const op = e.op;

  if (op === 'and' || op === 'or' || op === 'unless') {
    const out: StepSeries[] = [];
    const rightSigs = new Map<string, StepSeries[]>();
    for (const r of rhs) {
      const s = sig(r.labels);
      const list = rightSigs.get(s);
      if (list) list.push(r);
      else rightSigs.set(s, [r]);
    }
    const rightPresent = (s: string, k: number): boolean =>
      (rightSigs.get(s) ?? []).some((r) => r.present[k] === 1);
    const leftSigsAt = new Map<string, Uint8Array>();
    for (const l of lhs) {
      const s = sig(l.labels);
      const values = new Float64Array(n);
      const present = new Uint8Array(n);
      for (let k = 0; k < n; k++) {
        if (!l.present[k]) continue;
        const keep = op === 'and' ? rightPresent(s, k) : op === 'unless' ? !rightPresent(s, k) : true;
        if (keep) {
          present[k] = 1;
          values[k] = l.values[k]!;
        }
      }
      let seen = leftSigsAt.get(s);
      if (!seen) leftSigsAt.set(s, (seen = new Uint8Array(n)));
      for (let k = 0; k < n; k++) if (l.present[k]) seen[k] = 1;
      if (present.some((x) => x)) out.push({ labels: l.labels, key: l.key, values, present });
    }
    if (op === 'or') {
      for (const r of rhs) {
        const seen = leftSigsAt.get(sig(r.labels));
        const values = new Float64Array(n);
        const present = new Uint8Array(n);
        for (let k = 0; k < n; k++) {
          if (r.present[k] && !(seen && seen[k])) {
            present[k] = 1;
            values[k] = r.values[k]!;
          }
        }
        if (present.some((x) => x)) out.push({ labels: r.labels, key: r.key, values, present });
      }
    }
    return out;
  }

  // Arithmetic and comparisons: the "one" side is indexed by signature.
  const manySide = m.group === 'right' ? rhs : lhs;
  const oneSide = m.group === 'right' ? lhs : rhs;
  const comparison = COMPARISONS.has(op);
  const out = new Map<string, StepSeries>();
  for (let k = 0; k < n; k++) {
    const ones = new Map<string, StepSeries>();
    for (const o of oneSide) {
      if (!o.present[k]) continue;
      const s = sig(o.labels);
      if (ones.has(s)) {
        throw new LogQLEvalError(
          `found duplicate series for the match group ${s.replace(/\xff/g, '=').replace(/\xfe/g, ',')} on the ${m.group === 'right' ? 'left' : 'right'} hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      ones.set(s, o);
    }
    const matchedOnce = new Set<string>();
    for (const s of manySide) {
      if (!s.present[k]) continue;
      const key = sig(s.labels);
      const o = ones.get(key);
      if (!o) continue;
      if (!m.group) {
        if (matchedOnce.has(key)) {
          throw new LogQLEvalError(
            'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
          );
        }
        matchedOnce.add(key);
      }
      const l = m.group === 'right' ? o : s;
      const r = m.group === 'right' ? s : o;
      const res = arith(op, l.values[k]!, r.values[k]!);
      let value = res;
      if (comparison && !e.returnBool) {
        if (res !== 1) continue;
        value = l.values[k]!;
      }
      const labels = resultLabels(s.labels, o.labels, m, comparison && !e.returnBool);
      const rk = labelsKeyOf(labels);
      let series = out.get(rk);
      if (!series)
        out.set(rk, (series = { labels, key: rk, values: new Float64Array(n), present: new Uint8Array(n) }));
      if (series.present[k]) throw new LogQLEvalError('vector cannot contain metrics with the same labelset');
      series.present[k] = 1;
      series.values[k] = value;
    }
  }
  return [...out.values()];
}

function resultLabels(
  many: Labels,
  one: Labels,
  m: { on: boolean; labels: readonly string[]; group?: 'left' | 'right'; include: readonly string[] },
  filter: boolean,
): Labels {
  let out: Label[] = [...many];
  if (!m.group && !filter) {
    const names = new Set(m.labels);
    out = out.filter((l) => (m.on ? names.has(l.name) : !names.has(l.name)));
  }
  for (const name of m.include) {
    out = out.filter((l) => l.name !== name);
    const v = one.find((l) => l.name === name);
    if (v) out.push(v);
  }
  return out.sort(cmpLabel);
}

// ------------------------------------------------------------------ log query helpers

interface TopEntry {
  ms: number;
  ns: number;
  line: string;
  labels: Labels;
}

/** Keeps the `limit` newest (backward) or oldest (forward) entries seen. */
class TopEntries {
  private items: TopEntry[] = [];
  full = false;
  worstMs = 0;
  private worstNs = 0;

  constructor(
    private readonly limit: number,
    private readonly backward: boolean,
  ) {}

  private cmp = (a: TopEntry, b: TopEntry): number => {
    const d = a.ms - b.ms || a.ns - b.ns;
    return this.backward ? -d : d;
  };

  /** Would an entry at this time enter the result? */
  better(ms: number, ns: number): boolean {
    const d = ms - this.worstMs || ns - this.worstNs;
    return this.backward ? d > 0 : d < 0;
  }

  push(e: TopEntry): void {
    if (this.limit <= 0) return;
    this.items.push(e);
    if (this.items.length >= this.limit * 2) this.compact();
    else if (!this.full && this.items.length >= this.limit) this.compact();
  }

  private compact(): void {
    this.items.sort(this.cmp);
    if (this.items.length > this.limit) this.items.length = this.limit;
    if (this.items.length === this.limit) {
      this.full = true;
      const w = this.items[this.items.length - 1]!;
      this.worstMs = w.ms;
      this.worstNs = w.ns;
    }
  }

  result(): TopEntry[] {
    this.items.sort(this.cmp);
    if (this.items.length > this.limit) this.items.length = this.limit;
    return this.items;
  }
}

function thinByInterval(entries: TopEntry[], intervalMs: number, backward: boolean): TopEntry[] {
  const out: TopEntry[] = [];
  let last: number | undefined;
  for (const e of entries) {
    if (last === undefined || (backward ? last - e.ms : e.ms - last) >= intervalMs) {
      out.push(e);
      last = e.ms;
    }
  }
  return out;
}
