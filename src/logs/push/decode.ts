import type { Label } from '../../model/labels.ts';

/**
 * Decoders for the two Loki push encodings into one shape. The protobuf decoder is hand-written
 * for the hot path: lines stay zero-copy views into the decompressed body all the way to the WAL.
 *
 * logproto.PushRequest:   1 streams (StreamAdapter, repeated)
 * StreamAdapter:          1 labels (string), 2 entries (EntryAdapter, repeated), 3 hash (uint64)
 * EntryAdapter:           1 timestamp (google.protobuf.Timestamp), 2 line (string),
 *                         3 structuredMetadata (LabelPairAdapter, repeated)
 * Timestamp:              1 seconds (int64), 2 nanos (int32)
 * LabelPairAdapter:       1 name (string), 2 value (string)
 */
export interface DecodedEntry {
  /** Milliseconds since the epoch and nanoseconds within the millisecond. */
  readonly ms: number;
  readonly ns: number;
  readonly line: Buffer;
  readonly meta: Label[] | undefined;
}

export interface DecodedStream {
  /** The stream's labels: as the selector text protobuf carries, or as JSON's object. */
  readonly labels: string | Record<string, unknown>;
  readonly entries: DecodedEntry[];
}

export class PushDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushDecodeError';
  }
}

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new PushDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new PushDecodeError('malformed varint');
  }

  /** A signed 64-bit varint, exact within ±2^53 (two's complement for negatives). */
  int64(): number {
    const v = this.varint();
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
  }

  lengthDelimited(): { start: number; end: number } {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new PushDecodeError('length-delimited field runs past the end of its message');
    this.pos = end;
    return { start, end };
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.lengthDelimited();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new PushDecodeError(`unsupported protobuf wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new PushDecodeError('fixed-size field runs past the end of its message');
  }
}

export function decodePushProtobuf(buf: Buffer): DecodedStream[] {
  const streams: DecodedStream[] = [];
  const r = new Reader(buf, 0, buf.length);
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === 2) {
      const { start, end } = r.lengthDelimited();
      streams.push(decodeStream(buf, start, end));
    } else r.skip(tag & 7);
  }
  return streams;
}

function decodeStream(buf: Buffer, start: number, end: number): DecodedStream {
  const r = new Reader(buf, start, end);
  let labels = '';
  const entries: DecodedEntry[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) {
      const f = r.lengthDelimited();
      labels = buf.toString('utf8', f.start, f.end);
    } else if (field === 2 && wire === 2) {
      const f = r.lengthDelimited();
      entries.push(decodeEntry(buf, f.start, f.end));
    } else r.skip(wire);
  }
  return { labels, entries };
}

function decodeEntry(buf: Buffer, start: number, end: number): DecodedEntry {
  const r = new Reader(buf, start, end);
  let seconds = 0;
  let nanos = 0;
  let line: Buffer = buf.subarray(start, start);
  let meta: Label[] | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) {
      const f = r.lengthDelimited();
      const t = new Reader(buf, f.start, f.end);
      while (t.pos < t.end) {
        const ttag = t.varint();
        if (ttag === 0x08) seconds = t.int64();
        else if (ttag === 0x10) nanos = t.int64();
        else t.skip(ttag & 7);
      }
    } else if (field === 2 && wire === 2) {
      const f = r.lengthDelimited();
      line = buf.subarray(f.start, f.end);
    } else if (field === 3 && wire === 2) {
      const f = r.lengthDelimited();
      const p = new Reader(buf, f.start, f.end);
      let name = '';
      let value = '';
      while (p.pos < p.end) {
        const ptag = p.varint();
        if (ptag === 0x0a) {
          const s = p.lengthDelimited();
          name = buf.toString('utf8', s.start, s.end);
        } else if (ptag === 0x12) {
          const s = p.lengthDelimited();
          value = buf.toString('utf8', s.start, s.end);
        } else p.skip(ptag & 7);
      }
      (meta ??= []).push({ name, value });
    } else r.skip(wire);
  }
  if (nanos < 0 || nanos > 999_999_999) throw new PushDecodeError(`timestamp nanos ${nanos} out of range`);
  return toEntry(seconds, nanos, line, meta);
}

function toEntry(seconds: number, nanos: number, line: Buffer, meta: Label[] | undefined): DecodedEntry {
  const subMs = Math.floor(nanos / 1_000_000);
  return { ms: seconds * 1000 + subMs, ns: nanos - subMs * 1_000_000, line, meta };
}

const NS_RE = /^-?\d{1,19}$/;

/** `{"streams":[{"stream":{…},"values":[["<ns>","<line>",{meta}]…]}]}` */
export function decodePushJson(body: Buffer): DecodedStream[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new PushDecodeError(`body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc['streams'])) {
    throw new PushDecodeError('JSON body must be an object with a "streams" array');
  }
  return doc['streams'].map((s: unknown, i: number): DecodedStream => {
    if (!isObject(s)) throw new PushDecodeError(`streams[${i}] is not an object`);
    const stream = s['stream'] ?? {};
    if (!isObject(stream))
      throw new PushDecodeError(`streams[${i}].stream must be an object of label names to values`);
    const values = s['values'];
    if (!Array.isArray(values)) throw new PushDecodeError(`streams[${i}].values must be an array`);
    const entries = values.map((v: unknown, j: number): DecodedEntry => {
      const where = `streams[${i}].values[${j}]`;
      if (!Array.isArray(v) || v.length < 2 || v.length > 3) {
        throw new PushDecodeError(
          `${where} must be ["<unix epoch in nanoseconds>", "<log line>"] with optional structured metadata`,
        );
      }
      const [ts, line, meta] = v as unknown[];
      if (typeof ts !== 'string' || !NS_RE.test(ts)) {
        throw new PushDecodeError(
          `${where}: the timestamp must be a string of Unix epoch nanoseconds, got ${JSON.stringify(ts)}`,
        );
      }
      if (typeof line !== 'string') throw new PushDecodeError(`${where}: the log line must be a string`);
      let labels: Label[] | undefined;
      if (meta !== undefined) {
        if (!isObject(meta))
          throw new PushDecodeError(`${where}: structured metadata must be an object of string values`);
        labels = [];
        for (const [name, value] of Object.entries(meta)) {
          if (typeof value !== 'string')
            throw new PushDecodeError(`${where}: structured metadata "${name}" must be a string`);
          labels.push({ name, value });
        }
      }
      const big = BigInt(ts);
      const seconds = Number(big / 1_000_000_000n);
      const nanos = Number(big % 1_000_000_000n);
      if (nanos < 0) throw new PushDecodeError(`${where}: negative timestamps are not accepted`);
      return toEntry(seconds, nanos, Buffer.from(line, 'utf8'), labels);
    });
    return { labels: stream, entries };
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
