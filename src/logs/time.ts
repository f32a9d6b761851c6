/**
 * Log timestamps keep Loki's nanosecond precision without BigInt on the hot path: a timestamp is
 * a pair of integer milliseconds since the epoch (exact in a double) and the nanoseconds within
 * that millisecond (0..999_999).
 */
export interface LogTime {
  readonly ms: number;
  readonly ns: number;
}

export const NS_PER_MS = 1_000_000;

export function compareTime(aMs: number, aNs: number, bMs: number, bNs: number): number {
  return aMs !== bMs ? aMs - bMs : aNs - bNs;
}

/** Decimal nanoseconds since the epoch, as Loki writes timestamps in JSON. */
export function formatNs(ms: number, ns: number): string {
  if (ms === 0) return String(ns);
  if (ms < 0) return (BigInt(ms) * 1_000_000n + BigInt(ns)).toString();
  return `${ms}${String(ns).padStart(6, '0')}`;
}

/** Parses a decimal nanosecond count (optionally negative); undefined when it is not one. */
export function parseNs(text: string): LogTime | undefined {
  if (!/^-?\d{1,19}$/.test(text)) return undefined;
  const big = BigInt(text);
  let ms = big / 1_000_000n;
  let ns = big % 1_000_000n;
  if (ns < 0n) {
    ns += 1_000_000n;
    ms -= 1n;
  }
  return { ms: Number(ms), ns: Number(ns) };
}

export function timeFromMs(ms: number): LogTime {
  const whole = Math.floor(ms);
  return { ms: whole, ns: Math.round((ms - whole) * NS_PER_MS) };
}

/** Seconds as a float, the way Loki's matrix and vector results carry timestamps. */
export function msToSeconds(ms: number): number {
  return ms / 1000;
}
