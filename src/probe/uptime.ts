/**
 * Uptime, daily calendar and incidents from the stored `probe_success` samples.
 *
 * Method (time-weighted): each sample stands for the time until the next sample, as long as the
 * next one comes within `gapFactor` × interval (default 2: tolerates jitter and one lost probe).
 * When the gap is longer, the prober was not running (or not writing): the sample stands for one
 * interval only and the rest of the gap is NO DATA — never up. The latest sample stands for one
 * interval, but not past "now". Uptime % = up time / (up time + down time); time with no data is
 * left out of both, and `coverage` (covered time / window length) says how much was observed.
 * `avg_over_time(probe_success[…])` weighs samples instead and cannot see a prober outage.
 */
import type { Matcher } from '../model/matchers.ts';
import { isStaleNaN } from '../model/samples.ts';
import type { Querier } from '../tsdb/types.ts';
import { PROBE_JOB } from './metrics.ts';
import type { FailureReason, ProbeStateEvent } from './types.ts';

export interface SuccessSample {
  readonly t: number;
  /** 1 up, 0 down. */
  readonly v: number;
}

/** Returns an endpoint's probe_success samples with t in [from, to], ascending. */
export type SampleLoader = (
  from: number,
  to: number,
) => Promise<readonly SuccessSample[]> | readonly SuccessSample[];

export interface UptimeOptions {
  readonly intervalSeconds: number;
  /** A gap longer than gapFactor × interval is no data. Default 2. */
  readonly gapFactor?: number;
}

export interface Segment {
  readonly from: number;
  readonly to: number;
  readonly up: boolean;
}

export interface UptimeSummary {
  readonly from: number;
  readonly to: number;
  readonly upSeconds: number;
  readonly downSeconds: number;
  readonly noDataSeconds: number;
  /** null when nothing in the window was observed. */
  readonly uptimePercent: number | null;
  /** Observed time / window length, 0..1. */
  readonly coverage: number;
  readonly samples: number;
  readonly failedSamples: number;
}

/** probe_success of one endpoint from a tenant's querier (series of every URL it had, merged). */
export function querierSampleLoader(querier: Querier, endpointName: string): SampleLoader {
  return (from, to) => {
    const matchers: Matcher[] = [
      { name: '__name__', type: '=', value: 'probe_success' },
      { name: 'job', type: '=', value: PROBE_JOB },
      { name: 'endpoint', type: '=', value: endpointName },
    ];
    const byTime = new Map<number, number>();
    for (const s of querier.select(matchers, from, to)) {
      for (let i = 0; i < s.timestamps.length; i++) {
        const v = s.values[i]!;
        if (Number.isNaN(v) || isStaleNaN(v)) continue;
        byTime.set(s.timestamps[i]!, v);
      }
    }
    return [...byTime].map(([t, v]) => ({ t, v })).sort((a, b) => a.t - b.t);
  };
}

/** The observed (covered) pieces of time, up or down, from ascending samples. */
export function coveredSegments(
  samples: readonly SuccessSample[],
  options: UptimeOptions,
  now: number,
): Segment[] {
  const interval = options.intervalSeconds * 1000;
  const maxGap = (options.gapFactor ?? 2) * interval;
  const out: Segment[] = [];
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const next = samples[i + 1];
    const gap = next ? next.t - s.t : Infinity;
    const end = Math.min(gap <= maxGap ? s.t + gap : s.t + interval, now);
    if (end <= s.t) continue;
    const up = s.v >= 1;
    const prev = out[out.length - 1];
    if (prev && prev.up === up && prev.to === s.t) out[out.length - 1] = { from: prev.from, to: end, up };
    else out.push({ from: s.t, to: end, up });
  }
  return out;
}

export function summarize(
  segments: readonly Segment[],
  samples: readonly SuccessSample[],
  from: number,
  to: number,
): UptimeSummary {
  let up = 0;
  let down = 0;
  for (const seg of segments) {
    const a = Math.max(seg.from, from);
    const b = Math.min(seg.to, to);
    if (b <= a) continue;
    if (seg.up) up += b - a;
    else down += b - a;
  }
  let n = 0;
  let failed = 0;
  for (const s of samples) {
    if (s.t < from || s.t >= to) continue;
    n++;
    if (s.v < 1) failed++;
  }
  const total = Math.max(0, to - from);
  return {
    from,
    to,
    upSeconds: up / 1000,
    downSeconds: down / 1000,
    noDataSeconds: Math.max(0, total - up - down) / 1000,
    uptimePercent: up + down > 0 ? (100 * up) / (up + down) : null,
    coverage: total > 0 ? (up + down) / total : 0,
    samples: n,
    failedSamples: failed,
  };
}

export const UPTIME_WINDOWS = {
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  '90d': 90 * 86_400_000,
} as const;
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;

/** Loads what the windows need once (plus the lead-in that covers the window's start). */
async function loadCovered(load: SampleLoader, options: UptimeOptions, from: number, now: number) {
  const leadIn = (options.gapFactor ?? 2) * options.intervalSeconds * 1000;
  const samples = await load(from - leadIn, now);
  return { samples, segments: coveredSegments(samples, options, now) };
}

export async function uptimeWindows(
  load: SampleLoader,
  options: UptimeOptions,
  now: number,
): Promise<Record<UptimeWindow, UptimeSummary>> {
  const { samples, segments } = await loadCovered(load, options, now - UPTIME_WINDOWS['90d'], now);
  const out = {} as Record<UptimeWindow, UptimeSummary>;
  for (const [name, ms] of Object.entries(UPTIME_WINDOWS) as [UptimeWindow, number][]) {
    out[name] = summarize(segments, samples, now - ms, now);
  }
  return out;
}

// ---- calendar -------------------------------------------------------------------------------

export type DayStatus = 'ok' | 'degraded' | 'down' | 'no_data';

export interface CalendarOptions extends UptimeOptions {
  readonly days: number;
  /** IANA time zone whose midnights bound the days. Default UTC. */
  readonly timeZone?: string;
  /** A day at or above this uptime % is ok. Default 99.9. */
  readonly okPercent?: number;
  /** Below this uptime % a day is down (between: degraded). Default 95. */
  readonly downPercent?: number;
  /** A day observed for less than this fraction (and with no downtime seen) is no_data. Default 0.5. */
  readonly minCoverage?: number;
}

export interface CalendarDay extends UptimeSummary {
  /** The local date, YYYY-MM-DD. */
  readonly date: string;
  readonly status: DayStatus;
}

/** Throws a RangeError naming the zone when it is not a known IANA time zone. */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new RangeError(
      `unknown time zone ${JSON.stringify(timeZone)} (expected an IANA name such as Europe/Berlin)`,
    );
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function localParts(t: number, timeZone: string): { y: number; m: number; d: number; offsetMs: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return { y: p.year!, m: p.month!, d: p.day!, offsetMs: asUtc - Math.floor(t / 1000) * 1000 };
}

/** The instant of local midnight starting the given local date (day may overflow the month). */
export function zonedMidnight(y: number, m: number, d: number, timeZone: string): number {
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - localParts(wall, timeZone).offsetMs;
  t = wall - localParts(t, timeZone).offsetMs; // second pass: the offset at the answer, not at the guess (DST)
  return t;
}

export function dayStatus(s: UptimeSummary, o: CalendarOptions): DayStatus {
  if (s.uptimePercent === null) return 'no_data';
  // Downtime that was seen is never hidden behind "no data", however little of the day was covered.
  if (s.downSeconds === 0 && s.coverage < (o.minCoverage ?? 0.5)) return 'no_data';
  if (s.uptimePercent >= (o.okPercent ?? 99.9)) return 'ok';
  if (s.uptimePercent < (o.downPercent ?? 95)) return 'down';
  return 'degraded';
}

/** One bucket per local day, oldest first, ending with today (covered up to `now`). */
export async function uptimeCalendar(
  load: SampleLoader,
  options: CalendarOptions,
  now: number,
): Promise<CalendarDay[]> {
  const tz = options.timeZone ?? 'UTC';
  assertTimeZone(tz);
  const today = localParts(now, tz);
  const starts: { start: number; date: string }[] = [];
  for (let k = options.days - 1; k >= -1; k--) {
    const civil = new Date(Date.UTC(today.y, today.m - 1, today.d - k));
    const [y, m, d] = [civil.getUTCFullYear(), civil.getUTCMonth() + 1, civil.getUTCDate()];
    starts.push({
      start: zonedMidnight(y, m, d, tz),
      date: `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
    });
  }
  const { samples, segments } = await loadCovered(load, options, starts[0]!.start, now);
  const out: CalendarDay[] = [];
  for (let i = 0; i + 1 < starts.length; i++) {
    const from = starts[i]!.start;
    const to = Math.min(starts[i + 1]!.start, now);
    const summary = summarize(segments, samples, from, to);
    out.push({ ...summary, date: starts[i]!.date, status: dayStatus(summary, options) });
  }
  return out;
}

// ---- incidents ------------------------------------------------------------------------------

export interface Incident {
  /** Time of the first failed probe. */
  readonly start: number;
  /** Time of the first successful probe after it; null while still down. */
  readonly end: number | null;
  readonly open: boolean;
  /** end - start (or now - start while open), seconds; includes any no-data time inside. */
  readonly durationSeconds: number;
  /** Time observed down inside the incident, seconds. */
  readonly downSeconds: number;
  readonly failedSamples: number;
  /** The failure reason of the first failed probe, when the prober recorded it. */
  readonly reason: FailureReason | null;
  /** The first sample of the range was already down: the real start may be earlier. */
  readonly startedBeforeRange: boolean;
}

/**
 * Incidents (a run of failed probes ended by a successful one) overlapping [from, now], newest
 * first. Reasons come from the state-change events: the down event at the incident's start.
 */
export async function findIncidents(
  load: SampleLoader,
  options: UptimeOptions,
  range: { from: number; now: number },
  events: readonly ProbeStateEvent[] = [],
): Promise<Incident[]> {
  const samples = await load(range.from, range.now);
  const segments = coveredSegments(samples, options, range.now);
  const interval = options.intervalSeconds * 1000;
  const downEvents = events.filter((e) => e.state === 'down');
  const reasonAt = (t: number): FailureReason | null => {
    let best: ProbeStateEvent | undefined;
    for (const e of downEvents) if (e.t <= t && e.t >= t - interval && (!best || e.t > best.t)) best = e;
    return best?.reason ?? null;
  };
  const out: Incident[] = [];
  let start: number | null = null;
  let failed = 0;
  const close = (end: number | null): void => {
    const s = start!;
    const until = end ?? range.now;
    const down = summarize(segments, [], s, until).downSeconds;
    out.push({
      start: s,
      end,
      open: end === null,
      durationSeconds: (until - s) / 1000,
      downSeconds: down,
      failedSamples: failed,
      reason: reasonAt(s),
      startedBeforeRange: s === samples[0]?.t,
    });
  };
  for (const s of samples) {
    if (s.v < 1) {
      if (start === null) {
        start = s.t;
        failed = 0;
      }
      failed++;
    } else if (start !== null) {
      close(s.t);
      start = null;
    }
  }
  if (start !== null) close(null);
  return out.reverse();
}
