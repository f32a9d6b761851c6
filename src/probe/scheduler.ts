/**
 * Runs every enabled endpoint on its interval.
 *
 * - Phase: each endpoint gets a stable offset inside its interval (a hash of tenant and id), so
 *   first runs are spread out and the cadence survives restarts, like Prometheus's scrape offsets.
 * - Concurrency: at most `concurrency` probes at once overall and `perTenantConcurrency` per
 *   tenant; tenants with work waiting are served round-robin, so one tenant with many slow
 *   endpoints cannot hold every slot.
 * - Isolation in time: a probe is bounded by its own timeout (and aborted a little after it as a
 *   guard), probes are independent async tasks, and an endpoint whose previous probe is still
 *   running (or still queued) skips that slot instead of running twice.
 * - Reload: the endpoint list is re-read every `reloadIntervalMs`; added endpoints are scheduled,
 *   removed ones stop and get staleness markers, changed ones take their new settings.
 */
import type { Labels } from '../model/labels.ts';
import { staleNaN } from '../model/samples.ts';
import type { ProbeEventStore } from './events.ts';
import { probeHttp } from './http-probe.ts';
import type { HttpProbeOptions } from './http-probe.ts';
import { outcomeSeries, staleSeries } from './metrics.ts';
import type { EndpointSource, ProbeOutcome, ProbeSink, ProbeTarget } from './types.ts';

export interface SchedulerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: SchedulerLogger = { info() {}, warn() {}, error() {} };

export interface ProbeSchedulerOptions {
  readonly source: EndpointSource;
  readonly sink: ProbeSink;
  /** HTTP probe settings (address policy, caps); used unless `probe` is given. */
  readonly http?: Omit<HttpProbeOptions, 'signal'>;
  /** Replaces the HTTP probe (tests). */
  readonly probe?: (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeOutcome>;
  readonly events?: ProbeEventStore;
  /** Probes running at once, all tenants together. Default 32. */
  readonly concurrency?: number;
  /** Probes running at once for one tenant. Default concurrency / 4 (at least 1). */
  readonly perTenantConcurrency?: number;
  /** How often the endpoint list is re-read. Default 30 s. */
  readonly reloadIntervalMs?: number;
  readonly logger?: SchedulerLogger;
}

export interface SchedulerStats {
  readonly endpoints: number;
  readonly running: number;
  readonly queued: number;
  /** Slots skipped because the endpoint's previous probe was still running or waiting. */
  readonly skipped: number;
  readonly completed: number;
}

export interface ProbeScheduler {
  /** Loads the endpoints and starts probing; rejects if the first load fails. */
  start(): Promise<void>;
  /** Stops scheduling; waits for running probes, aborting them after `graceMs` (default 10 s). */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Re-reads the endpoint list now. */
  reload(): Promise<void>;
  /** The latest outcome of an endpoint since this process started. */
  lastResult(tenantId: number, endpointId: number): ProbeOutcome | undefined;
  stats(): SchedulerStats;
}

interface Slot {
  readonly key: string;
  target: ProbeTarget;
  settings: string;
  nextDue: number;
  generation: number;
  running: AbortController | null;
  queued: boolean;
  removed: boolean;
  lastSeries: Labels[];
  lastState: 'up' | 'down' | undefined;
  last: ProbeOutcome | undefined;
}

const slotKey = (tenantId: number, id: number): string => `${tenantId}:${id}`;

/** FNV-1a, for a stable per-endpoint phase offset. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The first time after `now` on the endpoint's grid (its interval shifted by its offset). */
export function firstDue(key: string, intervalMs: number, now: number): number {
  const offset = hash32(key) % Math.max(1, Math.floor(intervalMs));
  const since = (((now - offset) % intervalMs) + intervalMs) % intervalMs;
  return now + (intervalMs - since);
}

/** A binary min-heap of (due, slot, generation); entries of an older generation are ignored. */
class DueHeap {
  private items: { due: number; slot: Slot; generation: number }[] = [];
  push(slot: Slot): void {
    const items = this.items;
    items.push({ due: slot.nextDue, slot, generation: slot.generation });
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (items[p]!.due <= items[i]!.due) break;
      [items[p], items[i]] = [items[i]!, items[p]!];
      i = p;
    }
  }
  peek(): { due: number; slot: Slot; generation: number } | undefined {
    return this.items[0];
  }
  pop(): void {
    const items = this.items;
    const last = items.pop();
    if (!last || items.length === 0) return;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && items[l]!.due < items[m]!.due) m = l;
      if (r < items.length && items[r]!.due < items[m]!.due) m = r;
      if (m === i) break;
      [items[m], items[i]] = [items[i]!, items[m]!];
      i = m;
    }
  }
  clear(): void {
    this.items = [];
  }
}

/** The settings that, when changed, make a running schedule take the new target. */
const settingsOf = (t: ProbeTarget): string => JSON.stringify(t);

export function createProbeScheduler(options: ProbeSchedulerOptions): ProbeScheduler {
  const concurrency = Math.max(1, options.concurrency ?? 32);
  const perTenant = Math.max(1, options.perTenantConcurrency ?? Math.ceil(concurrency / 4));
  const reloadIntervalMs = options.reloadIntervalMs ?? 30_000;
  const log = options.logger ?? silent;
  const probe =
    options.probe ??
    ((target: ProbeTarget, signal: AbortSignal) => {
      if (!options.http)
        throw new Error(
          'probe scheduler needs `http` options (at least the address policy) or a `probe` function',
        );
      return probeHttp(target, { ...options.http, signal });
    });

  const slots = new Map<string, Slot>();
  const heap = new DueHeap();
  const queues = new Map<number, Slot[]>();
  const tenantRunning = new Map<number, number>();
  const loadedTenants = new Set<number>();
  const inFlight = new Set<Promise<void>>();
  let tenantOrder: number[] = [];
  let rr = 0;
  let running = 0;
  let skipped = 0;
  let completed = 0;
  let stopped = true;
  let timer: NodeJS.Timeout | null = null;
  let reloadTimer: NodeJS.Timeout | null = null;
  let reloading: Promise<void> | null = null;

  const intervalMs = (t: ProbeTarget): number => Math.max(1, t.intervalSeconds * 1000);

  function arm(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stopped) return;
    let top = heap.peek();
    while (top && (top.generation !== top.slot.generation || top.slot.removed)) {
      heap.pop();
      top = heap.peek();
    }
    if (!top) return;
    timer = setTimeout(fire, Math.max(0, top.due - Date.now()));
  }

  function fire(): void {
    timer = null;
    const now = Date.now();
    for (let top = heap.peek(); top && top.due <= now; top = heap.peek()) {
      heap.pop();
      const slot = top.slot;
      if (top.generation !== slot.generation || slot.removed) continue;
      const every = intervalMs(slot.target);
      while (slot.nextDue <= now) slot.nextDue += every;
      heap.push(slot);
      if (slot.running || slot.queued) {
        skipped++;
        continue;
      }
      enqueue(slot);
    }
    dispatch();
    arm();
  }

  function enqueue(slot: Slot): void {
    const tenantId = slot.target.tenantId;
    let q = queues.get(tenantId);
    if (!q) {
      q = [];
      queues.set(tenantId, q);
      tenantOrder.push(tenantId);
    }
    q.push(slot);
    slot.queued = true;
  }

  function dispatch(): void {
    while (!stopped && running < concurrency && tenantOrder.length > 0) {
      let picked: Slot | undefined;
      for (let n = 0; n < tenantOrder.length && !picked; n++) {
        const idx = (rr + n) % tenantOrder.length;
        const tenantId = tenantOrder[idx]!;
        if ((tenantRunning.get(tenantId) ?? 0) >= perTenant) continue;
        const q = queues.get(tenantId)!;
        picked = q.shift();
        if (q.length === 0) {
          queues.delete(tenantId);
          tenantOrder.splice(idx, 1);
          rr = tenantOrder.length > 0 ? idx % tenantOrder.length : 0;
        } else {
          rr = (idx + 1) % tenantOrder.length;
        }
      }
      if (!picked) return;
      picked.queued = false;
      const p = run(picked);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  }

  async function writeSeries(tenantId: number, series: Parameters<ProbeSink>[1]): Promise<void> {
    if (series.length === 0) return;
    try {
      await options.sink(tenantId, series);
    } catch (err) {
      log.error({ err, tenantId }, 'probe: writing samples failed');
    }
  }

  async function run(slot: Slot): Promise<void> {
    const target = slot.target;
    const tenantId = target.tenantId;
    const controller = new AbortController();
    slot.running = controller;
    running++;
    tenantRunning.set(tenantId, (tenantRunning.get(tenantId) ?? 0) + 1);
    // Guard: the probe enforces its own timeout; this only catches a probe that fails to.
    let guardFired = false;
    const guard = setTimeout(
      () => {
        guardFired = true;
        controller.abort();
      },
      target.timeoutSeconds * 1000 + 5000,
    );
    try {
      let outcome = await probe(target, controller.signal);
      if (guardFired) {
        log.warn({ tenantId, endpointId: target.id }, 'probe: probe overran its timeout and was aborted');
        outcome = {
          ...outcome,
          success: false,
          reason: { code: 'timeout', detail: `no result within ${target.timeoutSeconds} s` },
        };
      }
      // Cut short by shutdown or removal: that says nothing about the endpoint, so nothing is written.
      if (slot.removed || outcome.reason?.code === 'cancelled') return;
      slot.last = outcome;
      completed++;
      const current = outcomeSeries(target, outcome);
      const stale = staleSeries(slot.lastSeries, current, outcome.startedAt);
      slot.lastSeries = current.map((s) => s.labels);
      await writeSeries(tenantId, [...current, ...stale]);
      const state = outcome.success ? 'up' : 'down';
      if (state !== slot.lastState && options.events) {
        slot.lastState = state;
        await options.events
          .append(tenantId, {
            t: outcome.startedAt,
            endpointId: target.id,
            state,
            reason: outcome.reason,
            statusCode: outcome.statusCode,
          })
          .catch((err: unknown) =>
            log.error({ err, tenantId, endpointId: target.id }, 'probe: writing state event failed'),
          );
      }
      slot.lastState = state;
    } catch (err) {
      log.error({ err, tenantId, endpointId: target.id }, 'probe: probe threw');
    } finally {
      clearTimeout(guard);
      slot.running = null;
      running--;
      const n = (tenantRunning.get(tenantId) ?? 1) - 1;
      if (n > 0) tenantRunning.set(tenantId, n);
      else tenantRunning.delete(tenantId);
      if (slot.removed) await retire(slot);
      dispatch();
    }
  }

  /** Ends an endpoint's series with staleness markers (it was removed or disabled). */
  async function retire(slot: Slot): Promise<void> {
    if (slot.lastSeries.length === 0) return;
    const t = Math.max(Date.now(), (slot.last?.startedAt ?? 0) + 1);
    const series = slot.lastSeries.map((labels) => ({ labels, samples: [{ t, v: staleNaN() }] }));
    slot.lastSeries = [];
    await writeSeries(slot.target.tenantId, series);
  }

  async function loadTenantStates(tenantId: number): Promise<void> {
    if (loadedTenants.has(tenantId) || !options.events) return;
    loadedTenants.add(tenantId);
    try {
      const states = await options.events.lastStates(tenantId);
      for (const [endpointId, e] of states) {
        const slot = slots.get(slotKey(tenantId, endpointId));
        if (slot && slot.lastState === undefined) slot.lastState = e.state;
      }
    } catch (err) {
      log.warn({ err, tenantId }, 'probe: reading previous endpoint states failed');
    }
  }

  async function doReload(): Promise<void> {
    const targets = await options.source.listEnabledEndpoints();
    const now = Date.now();
    const seen = new Set<string>();
    const newTenants = new Set<number>();
    for (const target of targets) {
      const key = slotKey(target.tenantId, target.id);
      if (seen.has(key)) continue;
      seen.add(key);
      const existing = slots.get(key);
      const settings = settingsOf(target);
      if (!existing) {
        const slot: Slot = {
          key,
          target,
          settings,
          nextDue: firstDue(key, intervalMs(target), now),
          generation: 0,
          running: null,
          queued: false,
          removed: false,
          lastSeries: [],
          lastState: undefined,
          last: undefined,
        };
        slots.set(key, slot);
        heap.push(slot);
        if (!loadedTenants.has(target.tenantId)) newTenants.add(target.tenantId);
      } else if (existing.settings !== settings) {
        const intervalChanged = existing.target.intervalSeconds !== target.intervalSeconds;
        existing.target = target;
        existing.settings = settings;
        if (intervalChanged) {
          existing.generation++;
          existing.nextDue = firstDue(key, intervalMs(target), now);
          heap.push(existing);
        }
      }
    }
    for (const [key, slot] of slots) {
      if (seen.has(key)) continue;
      slot.removed = true;
      slots.delete(key);
      if (slot.queued) {
        const q = queues.get(slot.target.tenantId);
        const i = q ? q.indexOf(slot) : -1;
        if (q && i >= 0) q.splice(i, 1);
        slot.queued = false;
      }
      if (!slot.running) await retire(slot);
    }
    for (const [tenantId, q] of queues) {
      if (q.length === 0) {
        queues.delete(tenantId);
        tenantOrder = tenantOrder.filter((t) => t !== tenantId);
      }
    }
    await Promise.all([...newTenants].map(loadTenantStates));
    arm();
  }

  function reload(): Promise<void> {
    reloading ??= doReload().finally(() => {
      reloading = null;
    });
    return reloading;
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      await reload();
      reloadTimer = setInterval(() => {
        reload().catch((err: unknown) =>
          log.error({ err }, 'probe: reloading endpoints failed; keeping the previous list'),
        );
      }, reloadIntervalMs);
      reloadTimer.unref();
      log.info({ endpoints: slots.size, concurrency, perTenant }, 'probe: scheduler started');
    },
    async stop({ graceMs = 10_000 } = {}) {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (reloadTimer) clearInterval(reloadTimer);
      timer = reloadTimer = null;
      heap.clear();
      for (const q of queues.values()) for (const s of q) s.queued = false;
      queues.clear();
      tenantOrder = [];
      const all = Promise.all([...inFlight]);
      const graceTimer = setTimeout(() => {
        for (const s of slots.values()) s.running?.abort();
      }, graceMs);
      await all;
      clearTimeout(graceTimer);
      slots.clear();
      loadedTenants.clear();
    },
    reload,
    lastResult(tenantId, endpointId) {
      return slots.get(slotKey(tenantId, endpointId))?.last;
    },
    stats() {
      let queued = 0;
      for (const q of queues.values()) queued += q.length;
      return { endpoints: slots.size, running, queued, skipped, completed };
    },
  };
}
