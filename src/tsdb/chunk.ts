/**
 * Irin's chunk codec. A chunk payload is `[encoding u8][sample count u16 BE][bitstream]`.
 *
 * - CHUNK_XOR (1): the streaming Gorilla layout the head appends to, one sample at a time:
 *   t0 and v0 raw (64 bits each), then per sample a delta-of-delta timestamp in one of five buckets
 *   and the value XOR-ed with the previous value (leading/trailing-zero window reuse).
 * - CHUNK_PACKED (2): written when a chunk is closed (the whole chunk is known). Timestamps:
 *   t0 and the first delta length-prefixed, then delta-of-deltas with a bit width chosen per chunk.
 *   Values: either Gorilla XOR, or — when every value is an exact decimal m·10^-e (what exporters
 *   print: counters, bytes, "12.34" seconds) — the integers m as deltas or delta-of-deltas divided
 *   by their GCD, with a per-chunk width. Whichever is smaller is kept. Floats stay bit-exact:
 *   the decimal path is only taken when m / 10^e reproduces every value exactly, and NaN
 *   (incl. the staleness marker's payload), ±Inf and -0 always go through XOR.
 */
import {
  BitReader,
  bitLength,
  ctz32,
  unzigzag,
  writeBits,
  writeBits64,
  writeLP,
  writeUint,
  zigzag,
} from './bits.ts';

export const CHUNK_XOR = 1;
export const CHUNK_PACKED = 2;
/** Bytes before the bitstream: encoding + u16 count. */
export const CHUNK_HEADER_BYTES = 3;
/** Upper bound of the bytes one XOR-stream sample can take (68 + 77 bits). */
export const XOR_MAX_SAMPLE_BYTES = 19;
export const MAX_CHUNK_SAMPLES = 0xffff;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('tsdb chunk codec: big-endian hosts are not supported');
}

// Raw float64 bits. Values are moved as (hi, lo) halves so NaN payloads are never touched by
// float arithmetic; the aliasing Float64Array is the only float view.
const scratchF = new Float64Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

/** Loads v's bits: read them back with valueHi() / valueLo(). */
export function loadValue(v: number): void {
  scratchF[0] = v;
}
export function valueHi(): number {
  return scratchU[1]! | 0;
}
export function valueLo(): number {
  return scratchU[0]! | 0;
}
export function valueFromBits(hi: number, lo: number): number {
  scratchU[1] = hi;
  scratchU[0] = lo;
  return scratchF[0]!;
}

const TWO_32 = 4294967296;

// ---- shared pieces of the Gorilla coding -------------------------------------------------------

/** Delta-of-delta timestamp buckets: 0 | ±64 | ±8192 | ±2^19 | raw 64 bits. */
function writeDod(buf: Uint8Array, pos: number, dod: number): number {
  if (dod === 0) return pos + 1; // a single 0 bit (buffer is zero-filled)
  if (dod >= -64 && dod <= 63) return writeBits(buf, pos, (0b10 << 7) | (dod & 0x7f), 9);
  if (dod >= -8192 && dod <= 8191) return writeBits(buf, pos, (0b110 << 14) | (dod & 0x3fff), 17);
  if (dod >= -524288 && dod <= 524287) return writeBits(buf, pos, (0b1110 << 20) | (dod & 0xfffff), 24);
  pos = writeBits(buf, pos, 0b1111, 4);
  return writeBits64(buf, pos, Math.floor(dod / TWO_32) | 0, dod >>> 0, 64);
}

function readDod(r: BitReader): number {
  if (r.readBit() === 0) return 0;
  if (r.readBit() === 0) return (r.readBits(7) << 25) >> 25;
  if (r.readBit() === 0) return (r.readBits(14) << 18) >> 18;
  if (r.readBit() === 0) return (r.readBits(20) << 12) >> 12;
  const hi = r.readBits(32) | 0;
  return hi * TWO_32 + r.readBits(32);
}

/**
 * XOR value state, 4 int32 slots at `base`: previous hi, previous lo, leading, trailing
 * (leading < 0 means "no window yet").
 */
export const XV_PREV_HI = 0;
export const XV_PREV_LO = 1;
export const XV_LEAD = 2;
export const XV_TRAIL = 3;

function writeXorValue(
  buf: Uint8Array,
  pos: number,
  hi: number,
  lo: number,
  st: Int32Array,
  b: number,
): number {
  const xh = (hi ^ st[b + XV_PREV_HI]!) | 0;
  const xl = (lo ^ st[b + XV_PREV_LO]!) | 0;
  st[b + XV_PREV_HI] = hi;
  st[b + XV_PREV_LO] = lo;
  if (xh === 0 && xl === 0) return pos + 1; // '0'
  let lead = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
  const trail = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
  if (lead > 31) lead = 31;
  const prevLead = st[b + XV_LEAD]!;
  const prevTrail = st[b + XV_TRAIL]!;
  let shift: number;
  let sig: number;
  let control: number;
  let controlBits: number;
  if (prevLead >= 0 && lead >= prevLead && trail >= prevTrail) {
    control = 0b10;
    controlBits = 2;
    shift = prevTrail;
    sig = 64 - prevLead - prevTrail;
  } else {
    sig = 64 - lead - trail;
    // '11', 5 bits leading, 6 bits significant count (64 stored as 0)
    control = (0b11 << 11) | (lead << 6) | (sig & 63);
    controlBits = 13;
    st[b + XV_LEAD] = lead;
    st[b + XV_TRAIL] = trail;
    shift = trail;
  }
  let sh: number;
  let sl: number;
  if (shift === 0) {
    sh = xh;
    sl = xl;
  } else if (shift < 32) {
    sl = (xl >>> shift) | (xh << (32 - shift));
    sh = xh >>> shift;
  } else {
    sl = xh >>> (shift - 32);
    sh = 0;
  }
  if (sig + controlBits <= 32) return writeBits(buf, pos, (control << sig) | sl, sig + controlBits);
  pos = writeBits(buf, pos, control, controlBits);
  return writeBits64(buf, pos, sh, sl, sig);
}

/** Reads one XOR-coded value into st[prev hi/lo]. */
function readXorValue(r: BitReader, st: Int32Array, b: number): void {
  if (r.readBit() === 0) return;
  let shift: number;
  let sig: number;
  if (r.readBit() === 0) {
    shift = st[b + XV_TRAIL]!;
    sig = 64 - st[b + XV_LEAD]! - shift;
  } else {
    const lead = r.readBits(5);
    sig = r.readBits(6);
    if (sig === 0) sig = 64;
    shift = 64 - lead - sig;
    st[b + XV_LEAD] = lead;
    st[b + XV_TRAIL] = shift;
  }
  r.readBits64(sig);
  let h = r.hi;
  let l = r.lo;
  if (shift >= 32) {
    h = l << (shift - 32);
    l = 0;
  } else if (shift > 0) {
    h = (h << shift) | (l >>> (32 - shift));
    l = l << shift;
  }
  st[b + XV_PREV_HI] = (st[b + XV_PREV_HI]! ^ h) | 0;
  st[b + XV_PREV_LO] = (st[b + XV_PREV_LO]! ^ l) | 0;
}

// ---- streaming XOR chunk (head) ----------------------------------------------------------------

/** Float64 state slots of a streaming XOR appender. */
export const XS_LAST_T = 0;
export const XS_LAST_DELTA = 1;
export const XS_MINT = 2;
export const XS_F64_SLOTS = 3;
/** Int32 state slots: the 4 XOR value slots, then count and bit position. */
export const XS_COUNT = 4;
export const XS_BITPOS = 5;
export const XS_I32_SLOTS = 6;

/** Starts a streaming XOR chunk whose payload begins at byte `payloadStart` (bytes must be zero). */
export function xorStart(buf: Uint8Array, payloadStart: number, si: Int32Array, ib: number): void {
  buf[payloadStart] = CHUNK_XOR;
  si[ib + XS_COUNT] = 0;
  si[ib + XS_BITPOS] = (payloadStart + CHUNK_HEADER_BYTES) * 8;
}

/**
 * Appends one sample (t > last t; value given as raw bits) to a streaming XOR chunk. The caller
 * guarantees XOR_MAX_SAMPLE_BYTES of zeroed room after the current position.
 */
export function xorAppend(
  buf: Uint8Array,
  sf: Float64Array,
  fb: number,
  si: Int32Array,
  ib: number,
  t: number,
  hi: number,
  lo: number,
): void {
  const count = si[ib + XS_COUNT]!;
  let pos = si[ib + XS_BITPOS]!;
  if (count === 0) {
    pos = writeBits64(buf, pos, Math.floor(t / TWO_32) | 0, t >>> 0, 64);
    pos = writeBits64(buf, pos, hi, lo, 64);
    sf[fb + XS_MINT] = t;
    sf[fb + XS_LAST_DELTA] = 0;
    si[ib + XV_PREV_HI] = hi;
    si[ib + XV_PREV_LO] = lo;
    si[ib + XV_LEAD] = -1;
    si[ib + XV_TRAIL] = 0;
  } else {
    const delta = t - sf[fb + XS_LAST_T]!;
    pos = writeDod(buf, pos, delta - sf[fb + XS_LAST_DELTA]!);
    sf[fb + XS_LAST_DELTA] = delta;
    pos = writeXorValue(buf, pos, hi, lo, si, ib);
  }
  sf[fb + XS_LAST_T] = t;
  si[ib + XS_COUNT] = count + 1;
  si[ib + XS_BITPOS] = pos;
}

/** Stores the sample count in a streaming chunk's header; returns the payload length in bytes. */
export function xorFinish(buf: Uint8Array, payloadStart: number, si: Int32Array, ib: number): number {
  const count = si[ib + XS_COUNT]!;
  buf[payloadStart + 1] = count >>> 8;
  buf[payloadStart + 2] = count & 0xff;
  return ((si[ib + XS_BITPOS]! + 7) >>> 3) - payloadStart;
}

function decodeXor(r: BitReader, count: number, outT: Float64Array, outV: Float64Array, at: number): void {
  const st = xorReadState;
  const t0 = (r.readBits(32) | 0) * TWO_32 + r.readBits(32);
  st[XV_PREV_HI] = r.readBits(32);
  st[XV_PREV_LO] = r.readBits(32);
  st[XV_LEAD] = -1;
  outT[at] = t0;
  outV[at] = valueFromBits(st[XV_PREV_HI]!, st[XV_PREV_LO]!);
  let t = t0;
  let delta = 0;
  for (let i = 1; i < count; i++) {
    delta += readDod(r);
    t += delta;
    outT[at + i] = t;
    readXorValue(r, st, 0);
    outV[at + i] = valueFromBits(st[XV_PREV_HI]!, st[XV_PREV_LO]!);
  }
}
const xorReadState = new Int32Array(4);

// ---- packed chunk ------------------------------------------------------------------------------

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const MAX_DECIMAL_MANTISSA = 2 ** 50;
const VALUES_XOR = 0;
const VALUES_DEC_DELTA = 1;
const VALUES_DEC_DOD = 2;

let scratchZ = new Float64Array(256);
let scratchZ2 = new Float64Array(256);
let scratchM = new Float64Array(256);
const histogram = new Int32Array(64);
const packState = new Int32Array(4);

function ensureScratch(n: number): void {
  if (scratchZ.length >= n) return;
  let cap = scratchZ.length;
  while (cap < n) cap *= 2;
  scratchZ = new Float64Array(cap);
  scratchZ2 = new Float64Array(cap);
  scratchM = new Float64Array(cap);
}

/** Chosen by widthCost: the width (bits) for the "small" class of widthCoded values. */
let chosenWidth = 0;
/** Width header value meaning "every value is 0, nothing follows" (regular timestamps, constants). */
const ALL_ZERO = 63;

/**
 * Cost in bits of coding zs[0..n) as: 0 → '0'; below 2^w → '10' + w bits; else '11' + 6-bit
 * length + bits — for the best w, which is left in `chosenWidth`. Includes the 6-bit w header.
 */
function widthCost(zs: Float64Array, n: number): number {
  histogram.fill(0);
  let zeros = 0;
  let maxLen = 0;
  for (let i = 0; i < n; i++) {
    const z = zs[i]!;
    if (z === 0) zeros++;
    else {
      const len = bitLength(z);
      histogram[len]!++;
      if (len > maxLen) maxLen = len;
    }
  }
  if (zeros === n) {
    chosenWidth = ALL_ZERO;
    return 6;
  }
  // cost(w) = zeros + (#len<=w)*(2+w) + sum_{len>w}(8+len)
  let above = 0;
  for (let len = 1; len <= maxLen; len++) above += histogram[len]! * (8 + len);
  let atOrBelow = 0;
  let best = zeros + above;
  chosenWidth = 0;
  for (let w = 1; w <= maxLen; w++) {
    atOrBelow += histogram[w]!;
    above -= histogram[w]! * (8 + w);
    const cost = zeros + atOrBelow * (2 + w) + above;
    if (cost < best) {
      best = cost;
      chosenWidth = w;
    }
  }
  return best + 6;
}

function writeWidthCoded(buf: Uint8Array, pos: number, zs: Float64Array, n: number, w: number): number {
  pos = writeBits(buf, pos, w, 6);
  if (w === ALL_ZERO) return pos;
  for (let i = 0; i < n; i++) {
    const z = zs[i]!;
    if (z === 0) {
      pos += 1;
      continue;
    }
    const len = bitLength(z);
    if (len <= w) {
      pos = writeBits(buf, pos, 0b10, 2);
      pos = writeUint(buf, pos, z, w);
    } else {
      pos = writeBits(buf, pos, (0b11 << 6) | len, 8);
      pos = writeUint(buf, pos, z, len);
    }
  }
  return pos;
}

function readWidthCoded(r: BitReader, w: number): number {
  if (w === ALL_ZERO || r.readBit() === 0) return 0;
  if (r.readBit() === 0) return r.readUint(w);
  return r.readUint(r.readBits(6));
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * Smallest e (0..15) with every value exactly m·10^-e for an integer |m| <= 2^50, mantissas left
 * in scratchM; -1 when some value is not such a decimal (NaN, ±Inf, -0, too precise, too large).
 */
function decimalExponent(vs: Float64Array, start: number, n: number): number {
  let e = 0;
  for (let i = 0; i < n; i++) {
    const v = vs[start + i]!;
    if (v === 0) {
      if (1 / v < 0) return -1; // -0 would come back as +0
      continue;
    }
    if (!Number.isFinite(v)) return -1;
    for (;;) {
      const m = Math.round(v * POW10[e]!);
      if (m / POW10[e]! === v && Math.abs(m) <= MAX_DECIMAL_MANTISSA) break;
      if (++e > 15) return -1;
    }
  }
  const p = POW10[e]!;
  for (let i = 0; i < n; i++) {
    const v = vs[start + i]!;
    const m = Math.round(v * p);
    if (m / p !== v || Math.abs(m) > MAX_DECIMAL_MANTISSA) return -1;
    scratchM[i] = m;
  }
  return e;
}

/** Upper bound of a packed chunk's size, for sizing the output buffer. */
export function packedMaxBytes(n: number): number {
  return CHUNK_HEADER_BYTES + 24 + n * 19;
}

/**
 * Encodes samples [start, start+n) (strictly increasing timestamps) as a CHUNK_PACKED payload
 * into `out` (zero-filled, at least packedMaxBytes(n) long). Returns the payload length.
 */
export function encodePacked(
  ts: Float64Array,
  vs: Float64Array,
  start: number,
  n: number,
  out: Uint8Array,
): number {
  if (n < 1 || n > MAX_CHUNK_SAMPLES) throw new RangeError(`chunk sample count ${n} out of range`);
  ensureScratch(n);
  out[0] = CHUNK_PACKED;
  out[1] = n >>> 8;
  out[2] = n & 0xff;
  let pos = CHUNK_HEADER_BYTES * 8;

  // timestamps
  pos = writeLP(out, pos, zigzag(ts[start]!));
  if (n >= 2) {
    let prevDelta = ts[start + 1]! - ts[start]!;
    pos = writeLP(out, pos, prevDelta);
    if (n >= 3) {
      for (let i = 2; i < n; i++) {
        const delta = ts[start + i]! - ts[start + i - 1]!;
        if (!(delta > 0)) throw new RangeError(`chunk timestamps must increase (index ${start + i})`);
        scratchZ[i - 2] = zigzag(delta - prevDelta);
        prevDelta = delta;
      }
      widthCost(scratchZ, n - 2);
      pos = writeWidthCoded(out, pos, scratchZ, n - 2, chosenWidth);
    }
  }

  // values: the decimal coding when every value is a decimal, unless XOR is smaller
  const valuesStart = pos;
  const e = decimalExponent(vs, start, n);
  let decimalBits = Infinity;
  let useDod = false;
  let width = 0;
  let g = 1;
  if (e >= 0) {
    g = 0;
    for (let i = 1; i < n && g !== 1; i++) g = gcd(g, Math.abs(scratchM[i]! - scratchM[i - 1]!));
    if (g === 0) g = 1;
    let prevD = 0;
    for (let i = 1; i < n; i++) {
      const d = (scratchM[i]! - scratchM[i - 1]!) / g;
      scratchZ[i - 1] = zigzag(d);
      scratchZ2[i - 1] = zigzag(d - prevD);
      prevD = d;
    }
    const header = 2 + 4 + 6 + bitLength(g) + 6 + bitLength(zigzag(scratchM[0]!));
    const deltaCost = widthCost(scratchZ, n - 1);
    const deltaWidth = chosenWidth;
    const dodCost = widthCost(scratchZ2, n - 1);
    useDod = dodCost < deltaCost;
    width = useDod ? chosenWidth : deltaWidth;
    decimalBits = header + (useDod ? dodCost : deltaCost);
  }
  // XOR beats a decimal coding only for values with long mantissas; skip trying it otherwise
  if (decimalBits > 16 * n) {
    pos = writeBits(out, pos, VALUES_XOR, 2);
    loadValue(vs[start]!);
    let hi = valueHi();
    let lo = valueLo();
    pos = writeBits64(out, pos, hi, lo, 64);
    packState[XV_PREV_HI] = hi;
    packState[XV_PREV_LO] = lo;
    packState[XV_LEAD] = -1;
    for (let i = 1; i < n; i++) {
      loadValue(vs[start + i]!);
      hi = valueHi();
      lo = valueLo();
      pos = writeXorValue(out, pos, hi, lo, packState, 0);
    }
    if (pos - valuesStart <= decimalBits) return (pos + 7) >>> 3;
    // clear the XOR bits written from valuesStart on
    const firstByte = valuesStart >>> 3;
    out.fill(0, firstByte + 1, (pos + 7) >>> 3);
    out[firstByte]! &= ~(0xff >>> (valuesStart & 7)) & 0xff;
    pos = valuesStart;
  }
  pos = writeBits(out, pos, useDod ? VALUES_DEC_DOD : VALUES_DEC_DELTA, 2);
  pos = writeBits(out, pos, e, 4);
  pos = writeLP(out, pos, g);
  pos = writeLP(out, pos, zigzag(scratchM[0]!));
  pos = writeWidthCoded(out, pos, useDod ? scratchZ2 : scratchZ, n - 1, width);
  return (pos + 7) >>> 3;
}

function decodePacked(r: BitReader, n: number, outT: Float64Array, outV: Float64Array, at: number): void {
  let t = unzigzag(r.readLP());
  outT[at] = t;
  if (n >= 2) {
    let delta = r.readLP();
    t += delta;
    outT[at + 1] = t;
    if (n >= 3) {
      const w = r.readBits(6);
      for (let i = 2; i < n; i++) {
        delta += unzigzag(readWidthCoded(r, w));
        t += delta;
        outT[at + i] = t;
      }
    }
  }
  const mode = r.readBits(2);
  if (mode === VALUES_XOR) {
    const st = xorReadState;
    st[XV_PREV_HI] = r.readBits(32);
    st[XV_PREV_LO] = r.readBits(32);
    st[XV_LEAD] = -1;
    outV[at] = valueFromBits(st[XV_PREV_HI]!, st[XV_PREV_LO]!);
    for (let i = 1; i < n; i++) {
      readXorValue(r, st, 0);
      outV[at + i] = valueFromBits(st[XV_PREV_HI]!, st[XV_PREV_LO]!);
    }
    return;
  }
  const p = POW10[r.readBits(4)]!;
  const g = r.readLP();
  let m = unzigzag(r.readLP());
  outV[at] = m / p;
  const w = r.readBits(6);
  let d = 0;
  for (let i = 1; i < n; i++) {
    const x = unzigzag(readWidthCoded(r, w)) * g;
    if (mode === VALUES_DEC_DOD) d += x;
    else d = x;
    m += d;
    outV[at + i] = m / p;
  }
}

// ---- generic access ----------------------------------------------------------------------------

const reader = new BitReader(new Uint8Array(0));

export class ChunkCorruptError extends Error {
  override name = 'ChunkCorruptError';
}

/** Sample count stored in a finished chunk payload. */
export function chunkCount(payload: Uint8Array, offset = 0): number {
  return (payload[offset + 1]! << 8) | payload[offset + 2]!;
}

/**
 * Decodes the chunk payload at buf[offset, offset+length) into outT/outV starting at `at`.
 * `count` overrides the stored count (the head's open chunk has not written it yet).
 * Returns the number of samples decoded. Throws ChunkCorruptError on unreadable data.
 */
export function decodeChunk(
  buf: Uint8Array,
  offset: number,
  length: number,
  outT: Float64Array,
  outV: Float64Array,
  at: number,
  count = chunkCount(buf, offset),
): number {
  if (count === 0) return 0;
  if (length < CHUNK_HEADER_BYTES)
    throw new ChunkCorruptError(`chunk of ${length} bytes is shorter than its header`);
  const r = reader;
  r.reset(buf, (offset + CHUNK_HEADER_BYTES) * 8, (offset + length) * 8);
  const enc = buf[offset];
  if (enc === CHUNK_XOR) decodeXor(r, count, outT, outV, at);
  else if (enc === CHUNK_PACKED) decodePacked(r, count, outT, outV, at);
  else throw new ChunkCorruptError(`unknown chunk encoding ${String(enc)}`);
  if (r.overrun) throw new ChunkCorruptError(`chunk bitstream ends before its ${count} samples`);
  return count;
}

/** The first timestamp of a chunk payload without decoding the rest. */
export function chunkMinTime(buf: Uint8Array, offset: number): number {
  const r = reader;
  r.reset(buf, (offset + CHUNK_HEADER_BYTES) * 8, buf.length * 8);
  if (buf[offset] === CHUNK_XOR) return (r.readBits(32) | 0) * TWO_32 + r.readBits(32);
  return unzigzag(r.readLP());
}
