import type { WebSocket } from 'ws';
import type { Labels } from '../../model/labels.ts';
import { matchesAll } from '../../model/matchers.ts';
import type { LogSelectorExpr } from '../logql/ast.ts';
import { LogQLEngine, type EngineLimits } from '../logql/engine.ts';
import { BaseLabels, labelsKeyOf } from '../logql/labels-builder.ts';
import { applyMetadata, compilePipeline, newEntryState } from '../logql/pipeline.ts';
import type { TenantLogStore } from '../store/types.ts';
import { formatNs } from '../time.ts';
import { labelsObject, streamsData } from './encode.ts';

/** What the tail endpoint needs once the request has been authenticated and validated. */
export interface TailRequest {
  /** The query with the tenant matcher already injected. */
  readonly selector: LogSelectorExpr;
  readonly store: TenantLogStore;
  readonly startMs: number;
  readonly limit: number;
  /** Loki's delay_for: hold new entries this long so late ones can be sent in order (ms, ≤ 5 s). */
  readonly delayMs: number;
  readonly limits: EngineLimits;
  readonly now: () => number;
}

/** Pending bytes on the socket above which new entries are dropped (and reported) rather than queued. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const FLUSH_INTERVAL_MS = 100;
const MAX_DROPPED_REPORTED = 1000;

interface Pending {
  labels: Labels;
  values: [string, string][];
}

/**
 * `/loki/api/v1/tail`: sends the last `limit` entries since `start`, then every new matching entry
 * as it is stored, as Loki's `{"streams": […], "dropped_entries": […]}` messages.
 */
export async function runTail(
  socket: WebSocket,
  req: TailRequest,
  onError: (err: unknown) => void,
): Promise<void> {
  const pipeline = compilePipeline(req.selector.pipeline);
  const matchers = req.selector.matchers;
  let pending = new Map<string, Pending>();
  let dueAt = 0;
  let dropped: { labels: Record<string, string>; timestamp: string }[] = [];
  let closed = false;
  const bases = new Map<number, BaseLabels>();

  const unsubscribe = req.store.subscribe((stream, entries) => {
    if (closed || !matchesAll(stream.labels, matchers)) return;
    let base = bases.get(stream.id);
    if (!base) bases.set(stream.id, (base = new BaseLabels(stream.labels)));
    const state = newEntryState(base);
    for (const e of entries) {
      state.labels.reset(base);
      applyMetadata(state.labels, e.meta);
      state.line = e.line.toString('utf8');
      state.lineChanged = false;
      state.ms = e.ms;
      state.ns = e.ns;
      const mask = pipeline.prefilter({
        streamId: stream.id,
        count: 1,
        ms: Float64Array.of(e.ms),
        ns: Uint32Array.of(e.ns),
        starts: Uint32Array.of(0, e.line.length),
        lines: e.line,
        linesEnd: e.line.length,
        meta: null,
        sorted: true,
      });
      if (mask && !mask[0]) continue;
      if (pipeline.hasStages && !pipeline.process(state)) continue;
      const labels = state.labels.labels();
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        if (dropped.length < MAX_DROPPED_REPORTED)
          dropped.push({ labels: labelsObject(labels), timestamp: formatNs(e.ms, e.ns) });
        continue;
      }
      const key = labelsKeyOf(labels);
      let p = pending.get(key);
      if (!p) pending.set(key, (p = { labels, values: [] }));
      p.values.push([formatNs(e.ms, e.ns), state.line]);
      if (dueAt === 0) dueAt = req.now() + req.delayMs;
    }
  });

  const flush = (): void => {
    if (closed || (pending.size === 0 && dropped.length === 0) || req.now() < dueAt) return;
    const streams = [...pending.values()].map((p) => ({
      stream: labelsObject(p.labels),
      values: p.values.sort((a, b) => a[0].length - b[0].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    }));
    const message = JSON.stringify({ streams, dropped_entries: dropped.length > 0 ? dropped : null });
    pending = new Map();
    dropped = [];
    dueAt = 0;
    socket.send(message, (err) => {
      if (err) onError(err);
    });
  };
  const timer = setInterval(flush, FLUSH_INTERVAL_MS);
  const stop = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    unsubscribe();
  };
  socket.on('close', stop);
  socket.on('error', stop);

  try {
    // The initial batch: the newest `limit` entries since start, sent oldest first.
    const engine = new LogQLEngine(req.store.querier(), req.limits);
    const now = req.now();
    const initial = await engine.selectLogs(req.selector, {
      startMs: req.startMs,
      startNs: 0,
      endMs: now + 1,
      endNs: 0,
      limit: req.limit,
      direction: 'backward',
    });
    for (const s of initial) s.entries.reverse();
    if (!closed && initial.length > 0)
      socket.send(JSON.stringify({ streams: streamsData(initial), dropped_entries: null }));
  } catch (err) {
    onError(err);
    if (!closed) socket.close(1011, 'tail query failed');
    stop();
  }
}
