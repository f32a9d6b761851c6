import snappy from 'snappy';

/**
 * Client side of the Loki push protocol: encodes a logproto.PushRequest and snappy-compresses it,
 * as Promtail and Alloy send it. Used by tests, the benchmark and the isolation probes.
 */
export interface PushEntryInput {
  /** Nanoseconds since the epoch as a decimal string, or milliseconds as a number. */
  readonly ts: string | number;
  readonly line: string | Buffer;
  readonly metadata?: Record<string, string>;
}

export interface PushStreamInput {
  /** A stream selector string such as `{job="x"}`. */
  readonly labels: string;
  readonly entries: readonly PushEntryInput[];
}

class Writer {
  private parts: Buffer[] = [];
  private scratch = Buffer.allocUnsafe(10);
  length = 0;

  varint(v: number): void {
    let n = v;
    let i = 0;
    while (n >= 0x80) {
      this.scratch[i++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.scratch[i++] = n;
    this.push(Buffer.from(this.scratch.subarray(0, i)));
  }

  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }

  field(num: number, bytes: Buffer): void {
    this.varint((num << 3) | 2);
    this.varint(bytes.length);
    this.push(bytes);
  }

  finish(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

function timestamp(ts: string | number): Buffer {
  let seconds: number;
  let nanos: number;
  if (typeof ts === 'number') {
    seconds = Math.floor(ts / 1000);
    nanos = Math.round((ts - seconds * 1000) * 1e6);
  } else {
    const big = BigInt(ts);
    seconds = Number(big / 1_000_000_000n);
    nanos = Number(big % 1_000_000_000n);
  }
  const w = new Writer();
  if (seconds !== 0) {
    w.varint(0x08);
    w.varint(seconds);
  }
  if (nanos !== 0) {
    w.varint(0x10);
    w.varint(nanos);
  }
  return w.finish();
}

export function encodePushRequest(streams: readonly PushStreamInput[]): Buffer {
  const req = new Writer();
  for (const s of streams) {
    const sw = new Writer();
    sw.field(1, Buffer.from(s.labels, 'utf8'));
    for (const e of s.entries) {
      const ew = new Writer();
      ew.field(1, timestamp(e.ts));
      ew.field(2, typeof e.line === 'string' ? Buffer.from(e.line, 'utf8') : e.line);
      for (const [name, value] of Object.entries(e.metadata ?? {})) {
        const pw = new Writer();
        pw.field(1, Buffer.from(name, 'utf8'));
        pw.field(2, Buffer.from(value, 'utf8'));
        ew.field(3, pw.finish());
      }
      sw.field(2, ew.finish());
    }
    req.field(1, sw.finish());
  }
  return req.finish();
}

/** The body Promtail sends: snappy block-compressed protobuf. */
export function encodePushBody(streams: readonly PushStreamInput[]): Buffer {
  return snappy.compressSync(encodePushRequest(streams)) as Buffer;
}
