/**
 * Byte-level helpers shared by the WAL, checkpoint and block index formats: a growable writer and a
 * bounds-checked reader with LEB128 varints. Numbers up to 2^53 are supported without BigInt.
 */

/** Thrown when stored bytes cannot be parsed; callers turn it into "corrupt" handling, never a crash. */
export class CorruptionError extends Error {
  override name = 'CorruptionError';
}

const TWO_32 = 4294967296;

// Raw float64 <-> bytes without going through JS arrays (which canonicalise NaN payloads).
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

const utf8 = new TextEncoder();

export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initialCapacity = 4096) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  reset(): void {
    this.pos = 0;
  }

  /** The written bytes (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32le(v: number): void {
    this.ensure(4);
    const b = this.buf;
    let p = this.pos;
    b[p++] = v & 0xff;
    b[p++] = (v >>> 8) & 0xff;
    b[p++] = (v >>> 16) & 0xff;
    b[p++] = (v >>> 24) & 0xff;
    this.pos = p;
  }

  /** Overwrites 4 bytes at an earlier position (used to back-fill lengths and checksums). */
  putU32le(at: number, v: number): void {
    const b = this.buf;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
  }

  /** Unsigned LEB128 for integers in [0, 2^53). */
  uvarint(v: number): void {
    this.ensure(8);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80000000) {
      b[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Zigzag + LEB128 for integers in (-2^52, 2^52). */
  svarint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** A WAL sample entry: uvarint ref, zigzag varint dt, the value's 8 bytes (lo, hi words LE). */
  sampleEntry(ref: number, dt: number, hi: number, lo: number): void {
    this.ensure(32);
    const b = this.buf;
    let p = this.pos;
    let v = ref >>> 0; // WAL refs are below 2^31
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    const z = dt >= 0 ? dt * 2 : -dt * 2 - 1;
    if (z < 0x80000000) {
      v = z;
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
    } else {
      this.pos = p;
      this.uvarint(z);
      p = this.pos;
    }
    b[p++] = lo;
    b[p++] = lo >>> 8;
    b[p++] = lo >>> 16;
    b[p++] = lo >>> 24;
    b[p++] = hi;
    b[p++] = hi >>> 8;
    b[p++] = hi >>> 16;
    b[p++] = hi >>> 24;
    this.pos = p;
  }

  /** The exact 8 bytes of a float64 (NaN payloads included), little-endian. */
  f64raw(v: number): void {
    this.ensure(8);
    f64[0] = v;
    this.buf.set(f64Bytes, this.pos);
    this.pos += 8;
  }

  /** A float64 given as its two 32-bit halves (bit-exact by construction). */
  f64bits(hi: number, lo: number): void {
    this.u32le(lo);
    this.u32le(hi);
  }

  bytesRaw(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Length-prefixed UTF-8 string. */
  string(s: string): void {
    // Worst case 3 bytes per UTF-16 unit; ASCII label strings are the norm.
    this.ensure(s.length * 3 + 5);
    const lenPos = this.pos;
    if (s.length < 43) {
      // one-byte length prefix is enough (<= 42 * 3 = 126 bytes)
      const { written } = utf8.encodeInto(s, this.buf.subarray(lenPos + 1));
      this.buf[lenPos] = written;
      this.pos = lenPos + 1 + written;
      return;
    }
    const bytes = Buffer.from(s, 'utf8');
    this.uvarint(bytes.length);
    this.bytesRaw(bytes);
  }
}

export class ByteReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      throw new CorruptionError(
        `unexpected end of data: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`,
      );
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32le(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  uvarint(): number {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    if (p >= end) throw new CorruptionError(`truncated varint at offset ${p}`);
    let byte = b[p++]!;
    if (byte < 0x80) {
      this.pos = p;
      return byte;
    }
    // up to 4 bytes (28 bits) with int arithmetic, then floats up to 2^53
    let result = byte & 0x7f;
    for (let shift = 7; shift < 28; shift += 7) {
      if (p >= end) throw new CorruptionError(`truncated varint at offset ${this.pos}`);
      byte = b[p++]!;
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = p;
        return result;
      }
    }
    let mul = 2 ** 28;
    for (let i = 0; i < 4; i++) {
      if (p >= end) throw new CorruptionError(`truncated varint at offset ${this.pos}`);
      byte = b[p++]!;
      result += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        this.pos = p;
        return result;
      }
      mul *= 128;
    }
    throw new CorruptionError(`varint too long at offset ${this.pos}`);
  }

  svarint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** Reads 8 raw bytes into `outBits` (lo, hi) so NaN payloads survive; returns nothing. */
  f64bitsInto(out: Uint32Array, index: number): void {
    this.need(8);
    const b = this.buf;
    const p = this.pos;
    out[index] = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    out[index + 1] = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
    this.pos = p + 8;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = this.uvarint();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/** Splits an integer in (-2^53, 2^53) into two's-complement 32-bit halves. */
export function hi32(v: number): number {
  return Math.floor(v / TWO_32) | 0;
}

export function lo32(v: number): number {
  return v >>> 0;
}

export function join64(hi: number, lo: number): number {
  return (hi | 0) * TWO_32 + (lo >>> 0);
}
