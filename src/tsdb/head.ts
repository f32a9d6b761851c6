/**
 * The in-memory head: series index (label set → slot), postings (name=value → slots) and each
 * series' chunks.
 *
 * Memory layout, chosen to stay well under 4 KiB per series with hours of samples:
 * - per-series state lives in typed-array columns indexed by slot (no per-series objects besides
 *   the label set), so appends allocate nothing;
 * - each series owns ONE byte buffer: its closed chunks as records `[u32 len][u32 maxt-mint]
 *   [payload]`, followed by the open chunk record (header reserved, streaming XOR payload).
 *   Closed chunks are re-encoded into the packed format when they close.
 *
 * Buffer discipline (relied upon by block cuts and checkpoints, which keep references to a
 * buffer while they write it out asynchronously): bytes before `openStart` are never modified
 * in place — truncation and out-of-order inserts build a new buffer — and the open chunk only
 * ever gains bits after its current bit position (plus its header being filled when it closes).
 */
import { compareLabelSets, type Labels } from '../model/labels.ts';
import type { Matcher } from '../model/matchers.ts';
import {
  CHUNK_HEADER_BYTES,
  XOR_MAX_SAMPLE_BYTES,
  XS_BITPOS,
  XS_COUNT,
  XS_F64_SLOTS,
  XS_I32_SLOTS,
  XS_LAST_T,
  XS_MINT,
  XV_LEAD,
  XV_PREV_HI,
  XV_PREV_LO,
  CHUNK_XOR,
  chunkCount,
  chunkMinTime,
  decodeChunk,
  encodePacked,
  packedMaxBytes,
  xorAppend,
  xorFinish,
  xorStart,
} from './chunk.ts';
import type { ChunkRef } from './block.ts';
import { postingsForMatchers, type IndexReader, type Postings } from './postings.ts';
import { SampleBuffer, StringInterner } from './series-util.ts';
import type { SeriesData } from './types.ts';

/**
 * Per-series state is one 64-byte row (a cache line) in a shared buffer, seen through a
 * Float64Array and an Int32Array: float64 slots 0..3 (the XOR appender's, then the open chunk's
 * window end), int32 slots from byte 32 (the XOR appender's, the open chunk record's offset,
 * the WAL ref).
 */
const ROW_BYTES = 64;
const F_STRIDE = ROW_BYTES / 8;
const I_STRIDE = ROW_BYTES / 4;
const I_BASE = 32 / 4;
const F_WINDOW_END = XS_F64_SLOTS;
const F_SLOTS = XS_F64_SLOTS + 1;
/** Float64 values in a HeadSeriesState. */
export const SERIES_STATE_F64_SLOTS = F_SLOTS;
const I_OPEN_START = XS_I32_SLOTS;
const I_REF = XS_I32_SLOTS + 1;
const I_SLOTS = XS_I32_SLOTS + 2;
if (F_SLOTS * 8 > 32 || I_BASE * 4 + I_SLOTS * 4 > ROW_BYTES)
  throw new Error('head state row layout overflow');

function fbase(slot: number): number {
  return slot * F_STRIDE;
}

function ibase(slot: number): number {
  return slot * I_STRIDE + I_BASE;
}

/** Closed chunk record header: u32 payload length, u32 (maxt - mint). */
const REC_HEADER = 8;
/** Room kept free for the next chunk start: record header, chunk header, t0 + v0. */
const START_ROOM = REC_HEADER + CHUNK_HEADER_BYTES + 16;

export type InsertOutcome = 'inserted' | 'exists_same' | 'exists_different';

/** What a block cut takes from one series: its records before the cut, by reference. */
export interface HeadCutSeries {
  readonly labels: Labels;
  readonly buf: Uint8Array;
  /** The chunk records in buf[0, end) are the series' chunks before the cut time. */
  readonly end: number;
}

/** A series as captured for a WAL checkpoint (see wal.ts for the record layout). */
export interface HeadSeriesState {
  readonly ref: number;
  readonly labels: Labels;
  /** Closed chunk records (a view, immutable by the buffer discipline). */
  readonly closed: Uint8Array;
  /** Copy of the open chunk payload (empty when no open chunk). */
  readonly open: Uint8Array;
  /** lastT, lastDelta, open-chunk mint, window end. */
  readonly f64: Float64Array;
  /** prevHi, prevLo, leading, trailing, count, bit position relative to the open payload. */
  readonly i32: Int32Array;
}

function readU32(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}

function writeU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = (v >>> 24) & 0xff;
}

export interface HeadOptions {
  readonly blockDurationMs: number;
  /** Samples per chunk before it is closed (default 120). */
  readonly chunkSamples?: number;
}

export class Head implements IndexReader {
  readonly blockDurationMs: number;
  readonly chunkSamples: number;
  /** Re-encode chunks packed when they close (off during WAL replay, see repack()). */
  packOnClose = true;

  /** Label-set hash → slot; the rare second series with the same hash goes to `collisions`. */
  private byHash = new Map<number, number>();
  private collisions = new Map<number, number[]>();
  private slotLabels: (Labels | undefined)[] = [];
  private slotHashes = new Int32Array(1024);
  private bufs: (Uint8Array | undefined)[] = [];
  private rows = new ArrayBuffer(1024 * ROW_BYTES);
  private sf = new Float64Array(this.rows);
  private si = new Int32Array(this.rows);
  private capacity = 1024;
  private slotsUsed = 0;
  private freeSlots: number[] = [];
  private postingsMap = new Map<string, Map<string, number[]>>();
  private interner = new StringInterner();
  private nextRef = 1;
  /** During WAL replay: ref → slot + 1 (0 = unknown ref). */
  private refSlots: Int32Array | undefined;

  numSeries = 0;
  minTime = Infinity;
  maxTime = -Infinity;

  // scratch for chunk re-encoding and inserts
  private decT = new Float64Array(256);
  private decV = new Float64Array(256);
  private packOut = new Uint8Array(packedMaxBytes(256));
  private packOutUsed = 0;
  private collect = new SampleBuffer();

  constructor(opts: HeadOptions) {
    this.blockDurationMs = opts.blockDurationMs;
    this.chunkSamples = opts.chunkSamples ?? 120;
  }

  // ---- series index ----------------------------------------------------------------------------

  /** Slot of an existing series, or -1. `hash` is hashLabels(labels). */
  lookup(labels: Labels, hash: number): number {
    const slot = this.byHash.get(hash);
    if (slot === undefined) return -1;
    if (labelsEqual(this.slotLabels[slot]!, labels)) return slot;
    const more = this.collisions.get(hash);
    if (more) for (const s of more) if (labelsEqual(this.slotLabels[s]!, labels)) return s;
    return -1;
  }

  labelsOf(slot: number): Labels {
    return this.slotLabels[slot]!;
  }

  refOf(slot: number): number {
    return this.si[ibase(slot) + I_REF]!;
  }

  lastTime(slot: number): number {
    return this.sf[fbase(slot) + XS_LAST_T]!;
  }

  /** True when the series' newest sample has exactly these value bits. */
  lastValueIs(slot: number, hi: number, lo: number): boolean {
    const ib = ibase(slot);
    return this.si[ib + XV_PREV_HI] === hi && this.si[ib + XV_PREV_LO] === lo;
  }

  /** Creates a series; `ref` is given when replaying the WAL, else a new one is assigned. */
  createSeries(labels: Labels, hash: number, ref?: number): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slotsUsed++;
      if (slot >= this.capacity) this.grow();
    }
    const interned = this.interner.internLabels(labels);
    const r = ref ?? this.nextRef;
    if (r >= this.nextRef) this.nextRef = r + 1;
    this.slotLabels[slot] = interned;
    this.slotHashes[slot] = hash;
    this.bufs[slot] = undefined;
    const fb = fbase(slot);
    const ib = ibase(slot);
    this.sf.fill(0, fb, fb + F_SLOTS);
    this.si.fill(0, ib, ib + I_SLOTS);
    this.si[ib + I_REF] = r;
    this.sf[fb + XS_LAST_T] = -Infinity;
    this.si[ib + XV_LEAD] = -1;
    if (!this.byHash.has(hash)) this.byHash.set(hash, slot);
    else {
      const more = this.collisions.get(hash);
      if (more) more.push(slot);
      else this.collisions.set(hash, [slot]);
    }
    if (this.refSlots) this.mapRef(r, slot);
    for (const l of interned) {
      let byValue = this.postingsMap.get(l.name);
      if (!byValue) {
        byValue = new Map();
        this.postingsMap.set(l.name, byValue);
      }
      const list = byValue.get(l.value);
      if (!list) byValue.set(l.value, [slot]);
      else insertSorted(list, slot);
    }
    this.numSeries++;
    return slot;
  }

  /** Removes a slot from the hash index (its labels are still set). */
  private unindex(slot: number): void {
    const hash = this.slotHashes[slot]!;
    const more = this.collisions.get(hash);
    if (this.byHash.get(hash) === slot) {
      if (more && more.length > 0) {
        this.byHash.set(hash, more.pop()!);
        if (more.length === 0) this.collisions.delete(hash);
      } else this.byHash.delete(hash);
    } else if (more) {
      const i = more.indexOf(slot);
      if (i >= 0) more.splice(i, 1);
      if (more.length === 0) this.collisions.delete(hash);
    }
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const hashes = new Int32Array(cap);
    hashes.set(this.slotHashes);
    this.slotHashes = hashes;
    const rows = new ArrayBuffer(cap * ROW_BYTES);
    new Uint8Array(rows).set(new Uint8Array(this.rows));
    this.rows = rows;
    this.sf = new Float64Array(rows);
    this.si = new Int32Array(rows);
    this.capacity = cap;
  }

  /** Enables ref → slot lookups for the WAL replay. */
  beginReplay(): void {
    this.refSlots = new Int32Array(Math.max(1024, this.nextRef * 2));
    for (let s = 0; s < this.slotsUsed; s++) if (this.slotLabels[s]) this.mapRef(this.refOf(s), s);
  }

  /** Slot of a WAL ref during replay, or -1. */
  slotOfRef(ref: number): number {
    const m = this.refSlots!;
    return ref < m.length ? m[ref]! - 1 : -1;
  }

  mapRef(ref: number, slot: number): void {
    let m = this.refSlots!;
    if (ref >= m.length) {
      let cap = m.length * 2;
      while (cap <= ref) cap *= 2;
      const next = new Int32Array(cap);
      next.set(m);
      this.refSlots = m = next;
    }
    m[ref] = slot + 1;
  }

  endReplay(): void {
    this.refSlots = undefined;
  }

  /** Makes sure refs assigned later are above `ref` (a WAL ref seen during replay). */
  noteRef(ref: number): void {
    if (ref >= this.nextRef) this.nextRef = ref + 1;
  }

  // ---- IndexReader -----------------------------------------------------------------------------

  labelValues(name: string): Iterable<string> {
    return this.postingsMap.get(name)?.keys() ?? [];
  }

  labelNames(): Iterable<string> {
    return this.postingsMap.keys();
  }

  postings(name: string, value: string): Postings | undefined {
    return this.postingsMap.get(name)?.get(value);
  }

  allPostings(): Postings {
    const out: number[] = [];
    for (let s = 0; s < this.slotsUsed; s++) if (this.slotLabels[s]) out.push(s);
    return out;
  }

  /** Number of head series carrying name=value. */
  countWith(name: string, value: string): number {
    return this.postingsMap.get(name)?.get(value)?.length ?? 0;
  }

  // ---- appending -------------------------------------------------------------------------------

  /** Appends a sample newer than the series' newest one (the caller checked). */
  append(slot: number, t: number, hi: number, lo: number): void {
    const fb = fbase(slot);
    const ib = ibase(slot);
    const sf = this.sf;
    const si = this.si;
    let count = si[ib + XS_COUNT]!;
    if (count > 0 && (count >= this.chunkSamples || t >= sf[fb + F_WINDOW_END]!)) {
      this.closeChunk(slot);
      count = 0;
    }
    let buf = this.bufs[slot];
    if (count === 0) {
      const openStart = si[ib + I_OPEN_START]!;
      if (!buf || openStart + START_ROOM + XOR_MAX_SAMPLE_BYTES > buf.length) {
        buf = this.resize(slot, openStart + START_ROOM + XOR_MAX_SAMPLE_BYTES);
      }
      xorStart(buf, openStart + REC_HEADER, si, ib);
      const bd = this.blockDurationMs;
      sf[fb + F_WINDOW_END] = Math.floor(t / bd) * bd + bd;
    } else if ((si[ib + XS_BITPOS]! >>> 3) + 1 + XOR_MAX_SAMPLE_BYTES > buf!.length) {
      buf = this.resize(slot, (si[ib + XS_BITPOS]! >>> 3) + 1 + XOR_MAX_SAMPLE_BYTES);
    }
    xorAppend(buf!, sf, fb, si, ib, t, hi, lo);
    if (t < this.minTime) this.minTime = t;
    if (t > this.maxTime) this.maxTime = t;
  }

  /** Grows a series buffer to at least `need` bytes (with slack so this is rare). */
  private resize(slot: number, need: number): Uint8Array {
    const old = this.bufs[slot];
    const used = old ? this.usedBytes(slot) : 0;
    const buf = new Uint8Array(bufferCapacity(need, used));
    if (old) buf.set(old.subarray(0, used));
    this.bufs[slot] = buf;
    return buf;
  }

  private usedBytes(slot: number): number {
    const ib = ibase(slot);
    if (this.si[ib + XS_COUNT] === 0) return this.si[ib + I_OPEN_START]!;
    return (this.si[ib + XS_BITPOS]! + 7) >>> 3;
  }

  /** Closes the open chunk: re-encodes it packed when smaller and fills in its record header. */
  private closeChunk(slot: number): void {
    const fb = fbase(slot);
    const ib = ibase(slot);
    const buf = this.bufs[slot]!;
    const openStart = this.si[ib + I_OPEN_START]!;
    const payloadStart = openStart + REC_HEADER;
    let len = xorFinish(buf, payloadStart, this.si, ib);
    if (this.packOnClose) {
      const packedLen = this.pack(buf, payloadStart, len, this.si[ib + XS_COUNT]!);
      if (packedLen < len) {
        buf.set(this.packOut.subarray(0, packedLen), payloadStart);
        buf.fill(0, payloadStart + packedLen, payloadStart + len);
        len = packedLen;
      }
    }
    writeU32(buf, openStart, len);
    writeU32(buf, openStart + 4, this.sf[fb + XS_LAST_T]! - this.sf[fb + XS_MINT]!);
    this.si[ib + I_OPEN_START] = payloadStart + len;
    this.si[ib + XS_COUNT] = 0;
  }

  /** Encodes the chunk at buf[off, off+len) packed into this.packOut; returns the packed length. */
  private pack(buf: Uint8Array, off: number, len: number, count: number): number {
    this.ensureScratch(count);
    decodeChunk(buf, off, len, this.decT, this.decV, 0, count);
    this.packOut.fill(0, 0, this.packOutUsed); // the encoder ORs bits into zeroed bytes
    this.packOutUsed = encodePacked(this.decT, this.decV, 0, count, this.packOut);
    return this.packOutUsed;
  }

  /**
   * Re-encodes closed XOR-stream chunks (left so by a WAL replay with packOnClose off) packed,
   * for the series slots [from, from + n). Returns the bytes saved.
   */
  repack(from: number, n: number): number {
    let saved = 0;
    for (let slot = from; slot < from + n && slot < this.slotsUsed; slot++) {
      const old = this.bufs[slot];
      if (!old || !this.slotLabels[slot]) continue;
      const ib = ibase(slot);
      const openStart = this.si[ib + I_OPEN_START]!;
      const parts: Uint8Array[] = [];
      let shrink = 0;
      let p = 0;
      while (p < openStart) {
        const len = readU32(old, p);
        const rec = old.subarray(p, p + REC_HEADER + len);
        p += REC_HEADER + len;
        if (rec[REC_HEADER] === CHUNK_XOR) {
          const packedLen = this.pack(old, p - len, len, chunkCount(old, p - len));
          if (packedLen < len) {
            const next = new Uint8Array(REC_HEADER + packedLen);
            next.set(rec.subarray(0, REC_HEADER));
            writeU32(next, 0, packedLen);
            next.set(this.packOut.subarray(0, packedLen), REC_HEADER);
            parts.push(next);
            shrink += len - packedLen;
            continue;
          }
        }
        parts.push(rec);
      }
      if (shrink === 0) continue;
      // a new buffer: views of the old one (checkpoints, cuts) must stay valid
      const used = this.usedBytes(slot);
      const buf = new Uint8Array(
        bufferCapacity(used - shrink + START_ROOM + XOR_MAX_SAMPLE_BYTES, used - shrink),
      );
      let w = 0;
      for (const part of parts) {
        buf.set(part, w);
        w += part.length;
      }
      buf.set(old.subarray(openStart, used), w);
      this.si[ib + I_OPEN_START] = openStart - shrink;
      if (this.si[ib + XS_COUNT]! > 0) this.si[ib + XS_BITPOS] = this.si[ib + XS_BITPOS]! - shrink * 8;
      this.bufs[slot] = buf;
      saved += shrink;
    }
    return saved;
  }

  /** Number of slots (live or free) — the range repack() iterates. */
  get slotCount(): number {
    return this.slotsUsed;
  }

  private ensureScratch(n: number): void {
    if (this.decT.length >= n) return;
    let cap = this.decT.length;
    while (cap < n) cap *= 2;
    this.decT = new Float64Array(cap);
    this.decV = new Float64Array(cap);
    this.packOut = new Uint8Array(packedMaxBytes(cap));
    this.packOutUsed = 0;
  }

  // ---- reading ---------------------------------------------------------------------------------

  /**
   * Calls fn(payloadOffset, payloadLength, mint, maxt, count) for each chunk of the series in
   * time order (closed records, then the open chunk with its live count).
   */
  private forEachChunk(
    slot: number,
    fn: (
      buf: Uint8Array,
      off: number,
      len: number,
      mint: number,
      maxt: number,
      count: number,
    ) => boolean | void,
  ): void {
    const buf = this.bufs[slot];
    if (!buf) return;
    const ib = ibase(slot);
    const fb = fbase(slot);
    const openStart = this.si[ib + I_OPEN_START]!;
    let p = 0;
    while (p < openStart) {
      const len = readU32(buf, p);
      const mint = chunkMinTime(buf, p + REC_HEADER);
      const maxt = mint + readU32(buf, p + 4);
      const count = (buf[p + REC_HEADER + 1]! << 8) | buf[p + REC_HEADER + 2]!;
      if (fn(buf, p + REC_HEADER, len, mint, maxt, count) === false) return;
      p += REC_HEADER + len;
    }
    const count = this.si[ib + XS_COUNT]!;
    if (count > 0) {
      const payloadStart = openStart + REC_HEADER;
      const len = ((this.si[ib + XS_BITPOS]! + 7) >>> 3) - payloadStart;
      fn(buf, payloadStart, len, this.sf[fb + XS_MINT]!, this.sf[fb + XS_LAST_T]!, count);
    }
  }

  /** Decodes the series' samples in [mint, maxt] into `out` (appending). */
  readSamples(slot: number, mint: number, maxt: number, out: SampleBuffer): void {
    this.forEachChunk(slot, (buf, off, len, cmin, cmax, count) => {
      if (cmax < mint || cmin > maxt) return;
      out.ensure(count);
      const from = out.n;
      decodeChunk(buf, off, len, out.ts, out.vs, out.n, count);
      out.n += count;
      if (cmin < mint || cmax > maxt) out.clip(from, mint, maxt);
    });
  }

  /** Earliest and latest sample time of a series in the head. */
  seriesRange(slot: number): { mint: number; maxt: number } {
    let mint = Infinity;
    let maxt = -Infinity;
    this.forEachChunk(slot, (_b, _o, _l, cmin, cmax) => {
      if (cmin < mint) mint = cmin;
      if (cmax > maxt) maxt = cmax;
    });
    return { mint, maxt };
  }

  select(matchers: readonly Matcher[], mint: number, maxt: number): SeriesData[] {
    if (this.numSeries === 0 || maxt < this.minTime || mint > this.maxTime) return [];
    const slots = postingsForMatchers(this, matchers);
    const out: SeriesData[] = [];
    const buf = this.collect;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      buf.n = 0;
      this.readSamples(slot, mint, maxt, buf);
      if (buf.n > 0) out.push(buf.take(this.slotLabels[slot]!));
    }
    return out;
  }

  /** Slots matching the matchers that have samples in [mint, maxt]. */
  matchingSlots(matchers: readonly Matcher[], mint: number, maxt: number): number[] {
    const slots = postingsForMatchers(this, matchers);
    const out: number[] = [];
    for (let i = 0; i < slots.length; i++) {
      const r = this.seriesRange(slots[i]!);
      if (r.maxt >= mint && r.mint <= maxt) out.push(slots[i]!);
    }
    return out;
  }

  // ---- out-of-order inserts ----------------------------------------------------------------------

  /**
   * Inserts a sample older than the series' newest one (within the head), or reports that the
   * timestamp exists. Rebuilds the series buffer (rare path).
   */
  insert(slot: number, t: number, value: number, hi: number, lo: number): InsertOutcome {
    const bd = this.blockDurationMs;
    const window = Math.floor(t / bd);
    const fb = fbase(slot);
    const ib = ibase(slot);
    // find the target chunk: the last chunk of t's window starting at or before t, else the
    // first chunk of that window
    type Target = { off: number; len: number; count: number; recStart: number; open: boolean };
    let target: Target | undefined;
    let insertAt = -1; // record offset where a new chunk goes when the window has none
    const openStart = this.si[ib + I_OPEN_START]!;
    this.forEachChunk(slot, (_buf, off, len, cmin, _cmax, count) => {
      const w = Math.floor(cmin / bd);
      const recStart = off - REC_HEADER;
      const open = recStart === openStart;
      if (w === window && (cmin <= t || !target)) target = { off, len, count, recStart, open };
      if (w > window && insertAt < 0 && !target) insertAt = recStart;
      return w <= window;
    });
    const old = this.bufs[slot]!;
    if (!target) {
      // a new single-sample chunk, placed before the first later chunk (or before the open one)
      const at = insertAt >= 0 ? insertAt : openStart;
      const single = new Float64Array([t]);
      const singleV = new Float64Array(1);
      singleV[0] = value;
      const out = new Uint8Array(packedMaxBytes(1));
      const len = encodePacked(single, singleV, 0, 1, out);
      const rec = new Uint8Array(REC_HEADER + len);
      writeU32(rec, 0, len);
      rec.set(out.subarray(0, len), REC_HEADER);
      this.spliceRecords(slot, at, at, rec);
      this.noteTime(t);
      return 'inserted';
    }
    const tg: Target = target;
    this.ensureScratch(tg.count + 1);
    decodeChunk(old, tg.off, tg.len, this.decT, this.decV, 0, tg.count);
    // position of t
    let lo2 = 0;
    let hi2 = tg.count;
    while (lo2 < hi2) {
      const mid = (lo2 + hi2) >>> 1;
      if (this.decT[mid]! < t) lo2 = mid + 1;
      else hi2 = mid;
    }
    if (lo2 < tg.count && this.decT[lo2] === t) {
      const existing = this.decV.subarray(lo2, lo2 + 1);
      const bits = new Int32Array(existing.buffer, existing.byteOffset, 2);
      return bits[1] === hi && bits[0] === lo ? 'exists_same' : 'exists_different';
    }
    this.decT.copyWithin(lo2 + 1, lo2, tg.count);
    this.decV.copyWithin(lo2 + 1, lo2, tg.count);
    this.decT[lo2] = t;
    this.decV[lo2] = value;
    const n = tg.count + 1;
    if (tg.open) {
      // re-stream the open chunk so appends can continue from its state
      const keepLastT = this.sf[fb + XS_LAST_T]!;
      const buf = new Uint8Array(openStart + START_ROOM + n * XOR_MAX_SAMPLE_BYTES + 64);
      buf.set(old.subarray(0, openStart));
      xorStart(buf, openStart + REC_HEADER, this.si, ib);
      const bits = new Int32Array(this.decV.buffer, 0, n * 2);
      for (let i = 0; i < n; i++)
        xorAppend(buf, this.sf, fb, this.si, ib, this.decT[i]!, bits[2 * i + 1]!, bits[2 * i]!);
      this.sf[fb + XS_LAST_T] = keepLastT;
      this.bufs[slot] = buf;
    } else {
      const out = new Uint8Array(packedMaxBytes(n));
      const len = encodePacked(this.decT, this.decV, 0, n, out);
      const rec = new Uint8Array(REC_HEADER + len);
      writeU32(rec, 0, len);
      writeU32(rec, 4, this.decT[n - 1]! - this.decT[0]!);
      rec.set(out.subarray(0, len), REC_HEADER);
      this.spliceRecords(slot, tg.recStart, tg.recStart + REC_HEADER + tg.len, rec);
    }
    this.noteTime(t);
    return 'inserted';
  }

  private noteTime(t: number): void {
    if (t < this.minTime) this.minTime = t;
    if (t > this.maxTime) this.maxTime = t;
  }

  /** Replaces buf[from, to) of the closed-record region with `rec`, shifting the open chunk. */
  private spliceRecords(slot: number, from: number, to: number, rec: Uint8Array): void {
    const ib = ibase(slot);
    const old = this.bufs[slot]!;
    const used = this.usedBytes(slot);
    const shift = rec.length - (to - from);
    const buf = new Uint8Array(used + shift + START_ROOM + XOR_MAX_SAMPLE_BYTES + 32);
    buf.set(old.subarray(0, from));
    buf.set(rec, from);
    buf.set(old.subarray(to, used), from + rec.length);
    this.si[ib + I_OPEN_START] = this.si[ib + I_OPEN_START]! + shift;
    if (this.si[ib + XS_COUNT]! > 0) this.si[ib + XS_BITPOS] = this.si[ib + XS_BITPOS]! + shift * 8;
    this.bufs[slot] = buf;
  }

  // ---- block cuts --------------------------------------------------------------------------------

  /**
   * Freezes and returns every series' chunks with data before `cutTime` (a block boundary):
   * open chunks starting before it are closed first. The caller must already refuse samples
   * older than cutTime. Sorted by labels.
   */
  chunksBefore(cutTime: number): HeadCutSeries[] {
    const out: HeadCutSeries[] = [];
    for (let slot = 0; slot < this.slotsUsed; slot++) {
      if (!this.slotLabels[slot]) continue;
      const ib = ibase(slot);
      if (this.si[ib + XS_COUNT]! > 0 && this.sf[fbase(slot) + XS_MINT]! < cutTime) this.closeChunk(slot);
      const end = this.closedEndBefore(slot, cutTime);
      if (end > 0) out.push({ labels: this.slotLabels[slot]!, buf: this.bufs[slot]!, end });
    }
    out.sort((a, b) => compareLabelSets(a.labels, b.labels));
    return out;
  }

  private closedEndBefore(slot: number, cutTime: number): number {
    const buf = this.bufs[slot];
    if (!buf) return 0;
    const openStart = this.si[ibase(slot) + I_OPEN_START]!;
    let p = 0;
    while (p < openStart && chunkMinTime(buf, p + REC_HEADER) < cutTime) p += REC_HEADER + readU32(buf, p);
    return p;
  }

  /**
   * Drops every chunk before `cutTime` (now persisted in a block) and the series left without
   * data. Returns the number of series removed.
   */
  truncateBefore(cutTime: number): number {
    const removed = new Set<number>();
    let minTime = Infinity;
    for (let slot = 0; slot < this.slotsUsed; slot++) {
      if (!this.slotLabels[slot]) continue;
      const ib = ibase(slot);
      const end = this.closedEndBefore(slot, cutTime);
      if (end > 0) {
        const old = this.bufs[slot]!;
        const used = this.usedBytes(slot);
        const buf = new Uint8Array(
          bufferCapacity(used - end + START_ROOM + XOR_MAX_SAMPLE_BYTES, used - end),
        );
        buf.set(old.subarray(end, used));
        this.bufs[slot] = buf;
        this.si[ib + I_OPEN_START] = this.si[ib + I_OPEN_START]! - end;
        if (this.si[ib + XS_COUNT]! > 0) this.si[ib + XS_BITPOS] = this.si[ib + XS_BITPOS]! - end * 8;
      }
      if (this.si[ib + I_OPEN_START] === 0 && this.si[ib + XS_COUNT] === 0) {
        removed.add(slot);
        continue;
      }
      const r = this.seriesRange(slot);
      if (r.mint < minTime) minTime = r.mint;
    }
    if (removed.size > 0) this.removeSeries(removed);
    this.minTime = minTime;
    if (this.numSeries === 0) this.maxTime = -Infinity;
    return removed.size;
  }

  private removeSeries(slots: Set<number>): void {
    const touched = new Set<number[]>();
    for (const slot of slots) {
      for (const l of this.slotLabels[slot]!) {
        const list = this.postingsMap.get(l.name)?.get(l.value);
        if (list) touched.add(list);
      }
      this.unindex(slot);
      this.slotLabels[slot] = undefined;
      this.bufs[slot] = undefined;
      this.freeSlots.push(slot);
      this.numSeries--;
    }
    for (const list of touched) {
      let w = 0;
      for (let i = 0; i < list.length; i++) if (!slots.has(list[i]!)) list[w++] = list[i]!;
      list.length = w;
    }
    for (const [name, byValue] of this.postingsMap) {
      for (const [value, list] of byValue) if (list.length === 0) byValue.delete(value);
      if (byValue.size === 0) this.postingsMap.delete(name);
    }
    // let strings of removed series go
    this.interner.clear();
    for (let s = 0; s < this.slotsUsed; s++) {
      const labels = this.slotLabels[s];
      if (!labels) continue;
      for (const l of labels) {
        this.interner.intern(l.name);
        this.interner.intern(l.value);
      }
    }
  }

  // ---- checkpoints -------------------------------------------------------------------------------

  /** Captures every series' state for a checkpoint (cheap: closed chunks are shared views). */
  capture(): HeadSeriesState[] {
    const out: HeadSeriesState[] = [];
    for (let slot = 0; slot < this.slotsUsed; slot++) {
      const labels = this.slotLabels[slot];
      if (!labels) continue;
      const ib = ibase(slot);
      const fb = fbase(slot);
      const buf = this.bufs[slot] ?? new Uint8Array(0);
      const openStart = this.si[ib + I_OPEN_START]!;
      const count = this.si[ib + XS_COUNT]!;
      const payloadStart = openStart + REC_HEADER;
      const i32 = this.si.slice(ib, ib + XS_I32_SLOTS);
      let open = new Uint8Array(0);
      if (count > 0) {
        open = buf.slice(payloadStart, (this.si[ib + XS_BITPOS]! + 7) >>> 3);
        i32[XS_BITPOS] = this.si[ib + XS_BITPOS]! - payloadStart * 8;
      }
      out.push({
        ref: this.refOf(slot),
        labels,
        closed: buf.subarray(0, openStart),
        open,
        f64: this.sf.slice(fb, fb + F_SLOTS),
        i32,
      });
    }
    return out;
  }

  /** Recreates a series from a checkpoint record. */
  restore(state: HeadSeriesState, hash: number): void {
    const slot = this.createSeries(state.labels, hash, state.ref);
    const fb = fbase(slot);
    const ib = ibase(slot);
    const closedLen = state.closed.length;
    const count = state.i32[XS_COUNT]!;
    const buf = new Uint8Array(closedLen + START_ROOM + state.open.length + XOR_MAX_SAMPLE_BYTES * 4);
    buf.set(state.closed);
    this.sf.set(state.f64, fb);
    this.si.set(state.i32, ib);
    this.si[ib + I_OPEN_START] = closedLen;
    const payloadStart = closedLen + REC_HEADER;
    if (count > 0) {
      buf.set(state.open, payloadStart);
      const bitPos = payloadStart * 8 + state.i32[XS_BITPOS]!;
      this.si[ib + XS_BITPOS] = bitPos;
      // bits after the position may have been set after the capture copied the byte
      if (bitPos & 7) buf[bitPos >>> 3]! &= (0xff00 >>> (bitPos & 7)) & 0xff;
      buf.fill(0, (bitPos + 7) >>> 3);
    }
    this.bufs[slot] = closedLen > 0 || count > 0 ? buf : undefined;
    const r = this.seriesRange(slot);
    if (r.mint < this.minTime) this.minTime = r.mint;
    if (r.maxt > this.maxTime) this.maxTime = r.maxt;
  }

  // ---- accounting --------------------------------------------------------------------------------

  /** Bytes held by chunk buffers (capacity) — the dominant per-series cost. */
  chunkBytes(): number {
    let n = 0;
    for (let s = 0; s < this.slotsUsed; s++) n += this.bufs[s]?.length ?? 0;
    return n;
  }

  /** Every live slot's labels, for label-name/value listings without matchers. */
  *liveSlots(): Iterable<number> {
    for (let s = 0; s < this.slotsUsed; s++) if (this.slotLabels[s]) yield s;
  }
}

/** Capacity for a series buffer that needs `need` bytes now and holds `used`: slack so growth is rare. */
function bufferCapacity(need: number, used: number): number {
  return (need + 64 + (used >>> 2) + 15) & ~15;
}

/** The chunks in a head buffer's records [0, end), as views (see HeadCutSeries). */
export function headRecordChunks(buf: Uint8Array, end: number): ChunkRef[] {
  const out: ChunkRef[] = [];
  let p = 0;
  while (p < end) {
    const len = readU32(buf, p);
    const payload = buf.subarray(p + REC_HEADER, p + REC_HEADER + len);
    const mint = chunkMinTime(payload, 0);
    out.push({ payload, mint, maxt: mint + readU32(buf, p + 4), count: chunkCount(payload) });
    p += REC_HEADER + len;
  }
  return out;
}

/**
 * The series index key: FNV-1a over every label value, and over each name's length and first
 * and last character (names come from a small vocabulary; a collision only costs a comparison).
 */
export function hashLabels(labels: Labels): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const name = l.name;
    const n = name.length;
    h = Math.imul(
      h ^ (n | (n > 0 ? (name.charCodeAt(0) << 8) ^ (name.charCodeAt(n - 1) << 16) : 0)),
      16777619,
    );
    const value = l.value;
    for (let j = 0; j < value.length; j++) h = Math.imul(h ^ value.charCodeAt(j), 16777619);
    h = Math.imul(h ^ 0xfe, 16777619);
  }
  // 30 bits: small integers stay unboxed as Map keys in V8
  return (h ^ (h >>> 30)) & 0x3fffffff;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.value !== y.value) return false;
  }
  return true;
}

function insertSorted(list: number[], v: number): void {
  if (list.length === 0 || list[list.length - 1]! < v) {
    list.push(v);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== v) list.splice(lo, 0, v);
}
