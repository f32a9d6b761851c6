/** Timestamps are integer milliseconds since the Unix epoch throughout Irin, as in Prometheus. */
export type TimestampMs = number;

export interface Sample {
  readonly t: TimestampMs;
  readonly v: number;
}

/** Prometheus's staleness marker: a NaN with this exact bit pattern. */
export const STALE_NAN_BITS = 0x7ff0000000000002n;

const scratch = new DataView(new ArrayBuffer(8));

export function staleNaN(): number {
  scratch.setBigUint64(0, STALE_NAN_BITS);
  return scratch.getFloat64(0);
}

export function isStaleNaN(v: number): boolean {
  if (!Number.isNaN(v)) return false;
  scratch.setFloat64(0, v);
  return scratch.getBigUint64(0) === STALE_NAN_BITS;
}
