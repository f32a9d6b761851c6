/**
 * Growable byte writer and a matching reader with unsigned LEB128 varints that are exact up to
 * 2^53 (arithmetic instead of 32-bit shifts), used by the WAL, chunk and registry formats.
 */
export class ByteWriter {
  private buf: Buffer;
  length = 0;

  constructor(initialCapacity = 4096) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
    return this;
  }

  varint(v: number): this {
    this.ensure(8);
    let n = v;
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Length-prefixed UTF-8 string. */
  string(s: string): this {
    const len = Buffer.byteLength(s);
    this.varint(len);
    this.ensure(len);
    this.buf.write(s, this.length, len, 'utf8');
    this.length += len;
    return this;
  }

  /** Length-prefixed bytes. */
  blob(b: Uint8Array): this {
    this.varint(b.length);
    return this.bytes(b);
  }

  /** Writes a u32 at an earlier position (for back-patched lengths). */
  patchU32(pos: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, pos);
  }

  reset(): void {
    this.length = 0;
  }

  /** A view of the written bytes (shares memory with the writer until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of the written bytes. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

export class CorruptDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptDataError';
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

  u8(): number {
    if (this.pos >= this.end) throw new CorruptDataError('unexpected end of data');
    return this.buf[this.pos++]!;
  }

  u32(): number {
    if (this.pos + 4 > this.end) throw new CorruptDataError('unexpected end of data');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new CorruptDataError('unexpected end of data in varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    throw new CorruptDataError('varint too long');
  }

  bytes(len: number): Buffer {
    if (this.pos + len > this.end) throw new CorruptDataError('unexpected end of data');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    const len = this.varint();
    if (this.pos + len > this.end) throw new CorruptDataError('unexpected end of data in string');
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  blob(): Buffer {
    return this.bytes(this.varint());
  }
}
