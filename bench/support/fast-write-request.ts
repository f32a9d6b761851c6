import type { Labels } from '../../src/model/labels.ts';

/**
 * A load generator's remote-write encoder: each series' label bytes are encoded once and reused,
 * so the generator spends its CPU on samples and stays far from being the bottleneck. Produces
 * byte-for-byte the same messages as src/client/remote-write.ts (checked in test/unit/bench).
 */
export class PreEncodedSeries {
  readonly labelBytes: Buffer;

  constructor(labels: Labels) {
    const parts: Buffer[] = [];
    for (const l of labels) {
      const name = Buffer.from(l.name, 'utf8');
      const value = Buffer.from(l.value, 'utf8');
      const inner = Buffer.concat([
        Buffer.from([0x0a]),
        varint(name.length),
        name,
        Buffer.from([0x12]),
        varint(value.length),
        value,
      ]);
      parts.push(Buffer.from([0x0a]), varint(inner.length), inner);
    }
    this.labelBytes = Buffer.concat(parts);
  }
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

function varintSize(n: number): number {
  let size = 1;
  while (n > 127) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n > 127) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** Encodes series × (timestamps, values[seriesIndex][i]) into one WriteRequest. */
export function encodeBatch(
  series: readonly PreEncodedSeries[],
  timestamps: readonly number[],
  values: readonly Float64Array[],
): Buffer {
  const sampleSizes = timestamps.map((t) => 1 + 8 + 1 + varintSize(t));
  let total = 0;
  const seriesSizes = new Array<number>(series.length);
  for (let i = 0; i < series.length; i++) {
    let size = series[i]!.labelBytes.length;
    for (const s of sampleSizes) size += 1 + varintSize(s) + s;
    seriesSizes[i] = size;
    total += 1 + varintSize(size) + size;
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < series.length; i++) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, seriesSizes[i]!);
    pos += series[i]!.labelBytes.copy(buf, pos);
    const vs = values[i]!;
    for (let j = 0; j < timestamps.length; j++) {
      buf[pos++] = 0x12;
      pos = writeVarint(buf, pos, sampleSizes[j]!);
      buf[pos++] = 0x09;
      buf.writeDoubleLE(vs[j]!, pos);
      pos += 8;
      buf[pos++] = 0x10;
      pos = writeVarint(buf, pos, timestamps[j]!);
    }
  }
  return buf;
}
