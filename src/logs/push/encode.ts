import snappy from 'snappy';

/**
 * Client side of the Loki push protocol: encodes a logproto.PushRequest and snappy-compresses it,
 * as Promtail and Alloy send it. Used by tests, the benchmark and the isolation probes. Sizes are
 * computed first so the message is written into one buffer without intermediate copies.
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

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

function splitTs(ts: string | number): [number, number] {
  if (typeof ts === 'number') {
    const seconds = Math.floor(ts / 1000);
    return [seconds, Math.round((ts - seconds * 1000) * 1e6)];
  }
  const big = BigInt(ts);
  return [Number(big / 1_000_000_000n), Number(big % 1_000_000_000n)];
}

interface SizedEntry {
  seconds: number;
  nanos: number;
  tsSize: number;
  line: Buffer;
  meta: [Buffer, Buffer, number][];
  size: number;
}

/** Length of a length-delimited field (tag + length prefix + bytes). */
const field = (len: number): number => 1 + varintSize(len) + len;

export function encodePushRequest(streams: readonly PushStreamInput[]): Buffer {
  const sized = streams.map((s) => {
    const labels = Buffer.from(s.labels, 'utf8');
    const entries: SizedEntry[] = s.entries.map((e) => {
      const [seconds, nanos] = splitTs(e.ts);
      const tsSize =
        (seconds !== 0 ? 1 + varintSize(seconds) : 0) + (nanos !== 0 ? 1 + varintSize(nanos) : 0);
      const line = typeof e.line === 'string' ? Buffer.from(e.line, 'utf8') : e.line;
      const meta = Object.entries(e.metadata ?? {}).map(([n, v]): [Buffer, Buffer, number] => {
        const nb = Buffer.from(n, 'utf8');
        const vb = Buffer.from(v, 'utf8');
        return [nb, vb, field(nb.length) + field(vb.length)];
      });
      const size = field(tsSize) + field(line.length) + meta.reduce((a, m) => a + field(m[2]), 0);
      return { seconds, nanos, tsSize, line, meta, size };
    });
    const size = field(labels.length) + entries.reduce((a, e) => a + field(e.size), 0);
    return { labels, entries, size };
  });
  const total = sized.reduce((a, s) => a + field(s.size), 0);
  const buf = Buffer.allocUnsafe(total);
  let p = 0;
  const bytesField = (num: number, b: Buffer): void => {
    buf[p++] = (num << 3) | 2;
    p = writeVarint(buf, p, b.length);
    p += b.copy(buf, p);
  };
  for (const s of sized) {
    buf[p++] = 0x0a;
    p = writeVarint(buf, p, s.size);
    bytesField(1, s.labels);
    for (const e of s.entries) {
      buf[p++] = 0x12;
      p = writeVarint(buf, p, e.size);
      buf[p++] = 0x0a;
      p = writeVarint(buf, p, e.tsSize);
      if (e.seconds !== 0) {
        buf[p++] = 0x08;
        p = writeVarint(buf, p, e.seconds);
      }
      if (e.nanos !== 0) {
        buf[p++] = 0x10;
        p = writeVarint(buf, p, e.nanos);
      }
      bytesField(2, e.line);
      for (const [nb, vb, size] of e.meta) {
        buf[p++] = 0x1a;
        p = writeVarint(buf, p, size);
        bytesField(1, nb);
        bytesField(2, vb);
      }
    }
  }
  return buf;
}

/** The body Promtail sends: snappy block-compressed protobuf. */
export function encodePushBody(streams: readonly PushStreamInput[]): Buffer {
  return snappy.compressSync(encodePushRequest(streams)) as Buffer;
}
