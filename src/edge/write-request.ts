/**
 * A hand-written decoder for Prometheus remote-write 1.0 `prometheus.WriteRequest` messages.
 *
 * It decodes into flat, reusable typed arrays instead of one object per series and sample: labels
 * are not decoded here at all, only located (their bytes become the key of the validated-label
 * cache, so a series seen before costs one map lookup). bench/edge-decode.ts shows the difference
 * with protobufjs.
 *
 * Schema (field numbers from prometheus/prompb):
 *   WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
 *                  repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 *   MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
 */

export class MalformedProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedProtobufError';
  }
}

export interface RawMetadata {
  readonly type: number;
  readonly metricFamilyName: string;
  readonly help: string;
  readonly unit: string;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/**
 * One decoded request. Series `i` has its label fields between `labelsStart[i]` and `labelsEnd[i]`
 * (the tags included; -1 when it has none) and its samples at indexes
 * `sampleStart[i] .. sampleStart[i+1]` of `timestamps` / `values`.
 * Instances are reused from request to request: read everything before the next decode.
 */
export class DecodedWriteRequest {
  buf: Buffer = Buffer.alloc(0);
  seriesCount = 0;
  sampleCount = 0;
  histogramCount = 0;
  labelsStart = new Int32Array(256);
  labelsEnd = new Int32Array(256);
  /** 1 when other fields sit between the series' label fields (the label bytes are then not a usable cache key). */
  labelsSplit = new Uint8Array(256);
  /** Length seriesCount + 1. */
  sampleStart = new Int32Array(257);
  histograms = new Int32Array(256);
  timestamps = new Float64Array(1024);
  values = new Float64Array(1024);
  /** Byte view of `values`: doubles are copied byte for byte so every NaN payload (the stale marker) survives. */
  private valueBytes = new Uint8Array(this.values.buffer);
  metadata: RawMetadata[] = [];

  reset(buf: Buffer): void {
    this.buf = buf;
    this.seriesCount = 0;
    this.sampleCount = 0;
    this.histogramCount = 0;
    this.sampleStart[0] = 0;
    this.metadata = [];
  }

  /** Reserves the slot of a new series and returns its index. */
  addSeries(): number {
    const i = this.seriesCount;
    if (i + 1 >= this.labelsStart.length) this.growSeries();
    this.seriesCount = i + 1;
    this.labelsStart[i] = -1;
    this.labelsEnd[i] = -1;
    this.labelsSplit[i] = 0;
    this.histograms[i] = 0;
    return i;
  }

  addSample(buf: Buffer, valuePos: number, timestamp: number): void {
    const n = this.sampleCount;
    if (n >= this.timestamps.length) this.growSamples();
    this.timestamps[n] = timestamp;
    const vb = this.valueBytes;
    const o = n * 8;
    if (valuePos < 0) {
      // Field absent: proto3 default 0.
      this.values[n] = 0;
    } else {
      vb[o] = buf[valuePos]!;
      vb[o + 1] = buf[valuePos + 1]!;
      vb[o + 2] = buf[valuePos + 2]!;
      vb[o + 3] = buf[valuePos + 3]!;
      vb[o + 4] = buf[valuePos + 4]!;
      vb[o + 5] = buf[valuePos + 5]!;
      vb[o + 6] = buf[valuePos + 6]!;
      vb[o + 7] = buf[valuePos + 7]!;
    }
    this.sampleCount = n + 1;
  }

  private growSeries(): void {
    const size = this.labelsStart.length * 2;
    this.labelsStart = grow(this.labelsStart, new Int32Array(size));
    this.labelsEnd = grow(this.labelsEnd, new Int32Array(size));
    this.labelsSplit = grow(this.labelsSplit, new Uint8Array(size));
    this.histograms = grow(this.histograms, new Int32Array(size));
    this.sampleStart = grow(this.sampleStart, new Int32Array(size + 1));
  }

  private growSamples(): void {
    const size = this.timestamps.length * 2;
    this.timestamps = grow(this.timestamps, new Float64Array(size));
    this.values = grow(this.values, new Float64Array(size));
    this.valueBytes = new Uint8Array(this.values.buffer);
  }
}

function grow<T extends Int32Array | Uint8Array | Float64Array>(old: T, next: T): T {
  // Typed-array copies keep raw bits (NaN payloads included).
  (next as Uint8Array).set(old as Uint8Array);
  return next;
}

/** A cursor over protobuf bytes; every read checks bounds and throws MalformedProtobufError. */
class Cursor {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;

  varint32(end: number): number {
    // Fast path, small enough to be inlined: tags and most lengths are one byte.
    const pos = this.pos;
    if (pos < end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.varint32Slow(end);
  }

  private varint32Slow(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) throw new MalformedProtobufError(`truncated varint at byte ${pos}`);
      const b = buf[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
    }
    // Lengths and tags never need more than 32 bits; longer (negative int32) encodings are skipped as varints.
    for (let i = 0; i < 5; i++) {
      if (pos >= end) throw new MalformedProtobufError(`truncated varint at byte ${pos}`);
      if (buf[pos++]! < 0x80) {
        this.pos = pos;
        return result > 0xffffffff ? result % 2 ** 32 : result;
      }
    }
    throw new MalformedProtobufError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** An int64 varint as a JS number (exact up to ±2^53; timestamps beyond that are refused anyway). */
  int64(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let mul = 1;
    // Up to 9 bytes (63 bits) the float sum is exact wherever it matters; only negative values use all 10.
    for (let i = 0; i < 9; i++) {
      if (pos >= end) throw new MalformedProtobufError(`truncated varint at byte ${pos}`);
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
      mul *= 128;
    }
    return this.int64TenBytes(end);
  }

  /** The 10-byte (negative) case, as two's complement from 32-bit halves so small negatives stay exact. */
  private int64TenBytes(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos + 10 > end) throw new MalformedProtobufError(`truncated varint at byte ${pos}`);
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 4; i++) lo |= (buf[pos++]! & 0x7f) << (7 * i);
    const b4 = buf[pos++]!;
    lo |= (b4 & 0x7f) << 28;
    hi = (b4 & 0x7f) >> 4;
    for (let i = 0; i < 5; i++) hi |= (buf[pos++]! & 0x7f) << (7 * i + 3);
    if (buf[pos - 1]! >= 0x80)
      throw new MalformedProtobufError(`varint longer than 10 bytes at byte ${this.pos}`);
    this.pos = pos;
    if (hi < 0) return -((~hi >>> 0) * 2 ** 32 + (~lo >>> 0) + 1);
    return hi * 2 ** 32 + (lo >>> 0);
  }

  /** Reads a length prefix and returns the end offset of the field it announces. */
  lengthDelimited(end: number): number {
    const len = this.varint32(end);
    const fieldEnd = this.pos + len;
    if (fieldEnd > end) {
      throw new MalformedProtobufError(
        `field of ${len} bytes at byte ${this.pos} runs past the end of its message`,
      );
    }
    return fieldEnd;
  }

  skip(wireType: number, end: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.int64(end);
        return;
      case WIRE_FIXED64:
        this.advance(8, end);
        return;
      case WIRE_BYTES:
        this.pos = this.lengthDelimited(end);
        return;
      case WIRE_FIXED32:
        this.advance(4, end);
        return;
      default:
        throw new MalformedProtobufError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }

  advance(n: number, end: number): void {
    if (this.pos + n > end)
      throw new MalformedProtobufError(`truncated fixed-size field at byte ${this.pos}`);
    this.pos += n;
  }

  tag(end: number): number {
    const tag = this.varint32(end);
    if (tag < 8) throw new MalformedProtobufError(`invalid field number 0 at byte ${this.pos}`);
    return tag;
  }
}

function expectWireType(field: string, wireType: number, expected: number, pos: number): void {
  if (wireType !== expected) {
    throw new MalformedProtobufError(
      `${field} has wire type ${wireType}, expected ${expected} (byte ${pos})`,
    );
  }
}

/** Decodes a whole WriteRequest into `out`; throws MalformedProtobufError. */
export function decodeWriteRequest(
  buf: Buffer,
  out: DecodedWriteRequest = new DecodedWriteRequest(),
): DecodedWriteRequest {
  out.reset(buf);
  const c = new Cursor();
  c.buf = buf;
  const end = buf.length;
  while (c.pos < end) {
    const tag = c.tag(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1) {
      expectWireType('WriteRequest.timeseries', wt, WIRE_BYTES, c.pos);
      const seriesEnd = c.lengthDelimited(end);
      decodeTimeSeries(c, seriesEnd, out);
    } else if (field === 3) {
      expectWireType('WriteRequest.metadata', wt, WIRE_BYTES, c.pos);
      const metaEnd = c.lengthDelimited(end);
      out.metadata.push(decodeMetadata(c, metaEnd));
    } else {
      c.skip(wt, end);
    }
  }
  return out;
}

function decodeTimeSeries(c: Cursor, end: number, out: DecodedWriteRequest): void {
  const i = out.addSeries();
  let labelsStart = -1;
  let labelsEnd = -1;
  let split = 0;
  let histograms = 0;
  while (c.pos < end) {
    const tagPos = c.pos;
    const tag = c.tag(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1) {
      expectWireType('TimeSeries.labels', wt, WIRE_BYTES, c.pos);
      if (labelsStart < 0) labelsStart = tagPos;
      else if (labelsEnd !== tagPos) split = 1;
      c.pos = c.lengthDelimited(end);
      labelsEnd = c.pos;
    } else if (field === 2) {
      expectWireType('TimeSeries.samples', wt, WIRE_BYTES, c.pos);
      const sampleEnd = c.lengthDelimited(end);
      decodeSample(c, sampleEnd, out);
    } else if (field === 4) {
      c.skip(wt, end);
      histograms++;
    } else {
      // Exemplars (3) and unknown fields.
      c.skip(wt, end);
    }
  }
  out.labelsStart[i] = labelsStart;
  out.labelsEnd[i] = labelsEnd;
  out.labelsSplit[i] = split;
  out.histograms[i] = histograms;
  out.histogramCount += histograms;
  out.sampleStart[i + 1] = out.sampleCount;
}

function decodeSample(c: Cursor, end: number, out: DecodedWriteRequest): void {
  let valuePos = -1;
  let timestamp = 0;
  while (c.pos < end) {
    const tag = c.tag(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1) {
      expectWireType('Sample.value', wt, WIRE_FIXED64, c.pos);
      valuePos = c.pos;
      c.advance(8, end);
    } else if (field === 2) {
      expectWireType('Sample.timestamp', wt, WIRE_VARINT, c.pos);
      timestamp = c.int64(end);
    } else {
      c.skip(wt, end);
    }
  }
  out.addSample(c.buf, valuePos, timestamp);
}

function decodeMetadata(c: Cursor, end: number): RawMetadata {
  let type = 0;
  let metricFamilyName = '';
  let help = '';
  let unit = '';
  while (c.pos < end) {
    const tag = c.tag(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_VARINT) {
      type = c.varint32(end);
    } else if ((field === 2 || field === 4 || field === 5) && wt === WIRE_BYTES) {
      const strEnd = c.lengthDelimited(end);
      const s = c.buf.toString('utf8', c.pos, strEnd);
      c.pos = strEnd;
      if (field === 2) metricFamilyName = s;
      else if (field === 4) help = s;
      else unit = s;
    } else {
      c.skip(wt, end);
    }
  }
  return { type, metricFamilyName, help, unit };
}

/** Byte offsets of one Label message's name and value (start === end when absent or empty). */
export interface RawLabel {
  nameStart: number;
  nameEnd: number;
  valueStart: number;
  valueEnd: number;
}

/**
 * Locates the labels of one series (the region recorded by decodeWriteRequest), skipping any other
 * field in between. Appends to `out` (reusing its objects) and returns how many were found.
 */
export function locateLabels(buf: Buffer, start: number, end: number, out: RawLabel[]): number {
  if (start < 0) return 0;
  const c = new Cursor();
  c.buf = buf;
  c.pos = start;
  let n = 0;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag >>> 3 !== 1) {
      c.skip(tag & 7, end);
      continue;
    }
    expectWireType('TimeSeries.labels', tag & 7, WIRE_BYTES, c.pos);
    const labelEnd = c.lengthDelimited(end);
    let l = out[n];
    if (l === undefined) {
      l = { nameStart: 0, nameEnd: 0, valueStart: 0, valueEnd: 0 };
      out[n] = l;
    }
    l.nameStart = l.nameEnd = l.valueStart = l.valueEnd = 0;
    while (c.pos < labelEnd) {
      const ltag = c.tag(labelEnd);
      const field = ltag >>> 3;
      if ((field === 1 || field === 2) && (ltag & 7) === WIRE_BYTES) {
        const strEnd = c.lengthDelimited(labelEnd);
        if (field === 1) {
          l.nameStart = c.pos;
          l.nameEnd = strEnd;
        } else {
          l.valueStart = c.pos;
          l.valueEnd = strEnd;
        }
        c.pos = strEnd;
      } else {
        c.skip(ltag & 7, labelEnd);
      }
    }
    n++;
  }
  return n;
}
