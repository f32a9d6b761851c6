/**
 * Bit-level I/O for the chunk codecs. Writers are free functions over (buffer, bit position) so the
 * head can keep each series' position in a typed-array column; the target bytes must be zero
 * beyond the write position (bits are OR-ed in). 64-bit quantities travel as two 32-bit halves.
 */

const TWO_32 = 4294967296;

/** Writes the low `n` bits (0..32) of `value`, most significant first; returns the new bit position. */
export function writeBits(buf: Uint8Array, pos: number, value: number, n: number): number {
  if (n === 0) return pos;
  if (n < 32) value &= (1 << n) - 1;
  let i = pos >>> 3;
  // bits still to place, counted from the start of byte i
  let rem = n + (pos & 7);
  if (rem <= 8) {
    buf[i]! |= value << (8 - rem);
    return pos + n;
  }
  rem -= 8;
  buf[i++]! |= value >>> rem;
  while (rem >= 8) {
    rem -= 8;
    buf[i++] = value >>> rem;
  }
  if (rem > 0) buf[i] = value << (8 - rem);
  return pos + n;
}

/** Writes the low `n` bits (0..64) of the 64-bit value (hi, lo). */
export function writeBits64(buf: Uint8Array, pos: number, hi: number, lo: number, n: number): number {
  if (n > 32) {
    pos = writeBits(buf, pos, hi, n - 32);
    return writeBits(buf, pos, lo, 32);
  }
  return writeBits(buf, pos, lo, n);
}

/** Number of significant bits of a non-negative integer < 2^53 (0 for 0). */
export function bitLength(z: number): number {
  if (z < TWO_32) return 32 - Math.clz32(z);
  return 64 - Math.clz32(Math.floor(z / TWO_32));
}

/** Writes a non-negative integer < 2^53 using exactly `n` bits. */
export function writeUint(buf: Uint8Array, pos: number, z: number, n: number): number {
  if (n > 32) return writeBits64(buf, pos, Math.floor(z / TWO_32), z >>> 0, n);
  return writeBits(buf, pos, z >>> 0, n);
}

/** Length-prefixed non-negative integer < 2^53: 6 bits of length, then that many bits. */
export function writeLP(buf: Uint8Array, pos: number, z: number): number {
  const n = bitLength(z);
  pos = writeBits(buf, pos, n, 6);
  return writeUint(buf, pos, z, n);
}

export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

export class BitReader {
  buf: Uint8Array;
  pos: number;
  /** Bit position one past the last readable bit. */
  end: number;
  /** Results of readBits64. */
  hi = 0;
  lo = 0;

  constructor(buf: Uint8Array, pos = 0, end = buf.length * 8) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  reset(buf: Uint8Array, pos: number, end: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** True when reads went past the end (the data was truncated or corrupt). */
  get overrun(): boolean {
    return this.pos > this.end;
  }

  readBit(): number {
    const p = this.pos++;
    return (this.buf[p >>> 3]! >>> (7 - (p & 7))) & 1;
  }

  /** Reads `n` (0..32) bits as an unsigned integer. */
  readBits(n: number): number {
    let result = 0;
    let pos = this.pos;
    const buf = this.buf;
    while (n > 0) {
      const avail = 8 - (pos & 7);
      const take = n < avail ? n : avail;
      const byte = buf[pos >>> 3]! | 0;
      result = (result << take) | ((byte >>> (avail - take)) & ((1 << take) - 1));
      pos += take;
      n -= take;
    }
    this.pos = pos;
    return result >>> 0;
  }

  /** Reads `n` (0..64) bits into this.hi / this.lo. */
  readBits64(n: number): void {
    if (n > 32) {
      this.hi = this.readBits(n - 32);
      this.lo = this.readBits(32);
    } else {
      this.hi = 0;
      this.lo = this.readBits(n);
    }
  }

  /** Reads a non-negative integer written with writeUint(…, n). */
  readUint(n: number): number {
    if (n > 32) {
      const hi = this.readBits(n - 32);
      return hi * TWO_32 + this.readBits(32);
    }
    return this.readBits(n);
  }

  readLP(): number {
    return this.readUint(this.readBits(6));
  }
}
