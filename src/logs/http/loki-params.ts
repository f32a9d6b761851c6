import { ParamError, parseDurationParam, type RequestParams } from '../../api/params.ts';
import type { LogTime } from '../time.ts';
import { parseNs } from '../time.ts';

/**
 * Loki's parameter formats on top of the shared parameter hygiene (src/api/params.ts): timestamps
 * are nanosecond integers (10 digits or fewer: seconds), floats (seconds) or RFC 3339 with
 * nanoseconds; `since` and `step` are durations or seconds.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseLokiTime(name: string, text: string): LogTime {
  const fail = (): never => {
    throw new ParamError(
      name,
      `could not parse '${name}' parameter: ${JSON.stringify(text)} is not a Unix timestamp (ns, or seconds with a fraction) or an RFC 3339 time`,
    );
  };
  const t = text.trim();
  if (t.includes('.') && /^[+-]?\d*\.\d*(e[+-]?\d+)?$/i.test(t)) {
    const f = Number(t);
    if (!Number.isFinite(f)) fail();
    const whole = Math.trunc(f);
    const fracMs = Math.round((f - whole) * 1000);
    return { ms: whole * 1000 + fracMs, ns: 0 };
  }
  if (/^-?\d+$/.test(t)) {
    if (t.replace('-', '').length <= 10) return { ms: Number(t) * 1000, ns: 0 };
    return parseNs(t) ?? fail();
  }
  const m = RFC3339.exec(t);
  if (!m) return fail();
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const nanos = Number(frac.padEnd(9, '0'));
  let ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    Math.floor(nanos / 1e6),
  );
  if (Number.isNaN(ms)) fail();
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  return { ms, ns: nanos % 1e6 };
}

export function durationParam(params: RequestParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === undefined) return undefined;
  try {
    return parseDurationParam(text);
  } catch {
    throw new ParamError(
      name,
      `could not parse '${name}' parameter: ${JSON.stringify(text)} is not a duration (e.g. 5m) or a number of seconds`,
    );
  }
}

export interface TimeRange {
  readonly start: LogTime;
  readonly end: LogTime;
}

/** start / end / since as Loki reads them: `since` counts back from end (or now, if end is later). */
export function timeRange(params: RequestParams, nowMs: number, defaultSinceMs: number): TimeRange {
  const endText = params.get('end');
  const end = endText !== undefined ? parseLokiTime('end', endText) : { ms: nowMs, ns: 0 };
  const since = durationParam(params, 'since') ?? defaultSinceMs;
  const endOrNow = end.ms > nowMs ? nowMs : end.ms;
  const startText = params.get('start');
  const start = startText !== undefined ? parseLokiTime('start', startText) : { ms: endOrNow - since, ns: 0 };
  if (start.ms > end.ms || (start.ms === end.ms && start.ns > end.ns)) {
    throw new ParamError('end', 'the end timestamp must not be before the start time');
  }
  return { start, end };
}

export function intParam(params: RequestParams, name: string, fallback: number): number {
  const text = params.get(name);
  if (text === undefined) return fallback;
  if (!/^-?\d+$/.test(text.trim()))
    throw new ParamError(
      name,
      `could not parse '${name}' parameter: ${JSON.stringify(text)} is not an integer`,
    );
  return Number(text);
}

export function directionParam(params: RequestParams): 'forward' | 'backward' {
  const text = params.get('direction');
  if (text === undefined) return 'backward';
  const d = text.toLowerCase();
  if (d !== 'forward' && d !== 'backward') {
    throw new ParamError('direction', `invalid direction ${JSON.stringify(text)}: use forward or backward`);
  }
  return d;
}

/** Loki's default step: the range over 250 points, at least one second. */
export function defaultStepMs(startMs: number, endMs: number): number {
  return Math.max(Math.floor((endMs - startMs) / 1000 / 250), 1) * 1000;
}
