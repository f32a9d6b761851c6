/**
 * Immutable blocks: one directory per time range, `blocks/<id>/` with
 * - `meta.json`: id, [minTime, maxTime) (maxTime exclusive), stats, compaction lineage, the
 *   index file's size and CRC-32 and the chunks file's size;
 * - `chunks`: magic, then every chunk payload followed by its CRC-32 (LE). A series' chunks are
 *   contiguous and in time order;
 * - `index`: magic | symbols | series | postings | series offset table | footer. Series are
 *   sorted by labels (ids 0..n-1 follow that order), labels are symbol ids, chunk metas are
 *   delta-coded; postings map name → value → ascending series ids.
 *
 * A block is written into `<id>.tmp/` (files fsync'd) and renamed into place, so it either exists
 * whole or not at all. On open the index is read and checked in full (it is small); chunks are
 * checked against their CRC when read, so a damaged block is detected and reported, not trusted.
 */
import { closeSync, openSync, readSync, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Label, Labels } from '../model/labels.ts';
import type { Matcher } from '../model/matchers.ts';
import { ByteReader, ByteWriter, CorruptionError } from './bytes.ts';
import { ChunkCorruptError, decodeChunk } from './chunk.ts';
import { crc32 } from './crc32.ts';
import { postingsForMatchers, type IndexReader, type Postings } from './postings.ts';
import { SampleBuffer, type StringInterner } from './series-util.ts';
import type { SeriesData } from './types.ts';
import { fsyncDir } from './wal.ts';

const INDEX_MAGIC = Buffer.from('IRINIDX1');
const CHUNKS_MAGIC = Buffer.from('IRINCHK1');
const FOOTER_BYTES = 28;
const FOOTER_MAGIC = 0x45585249; // "IRXE"

export interface BlockMeta {
  readonly version: 1;
  readonly id: string;
  readonly minTime: number;
  /** Exclusive. */
  readonly maxTime: number;
  readonly stats: { numSeries: number; numChunks: number; numSamples: number };
  readonly compaction: { level: number; sources: string[]; parents: string[] };
  readonly index: { bytes: number; crc32: number };
  readonly chunks: { bytes: number };
}

export class BlockCorruptError extends Error {
  override name = 'BlockCorruptError';
}

export function newBlockId(): string {
  return Date.now().toString(36).padStart(9, '0') + randomBytes(5).toString('hex');
}

/** One chunk as handed to the writer. */
export interface ChunkRef {
  readonly payload: Uint8Array;
  readonly mint: number;
  readonly maxt: number;
  readonly count: number;
}

export class BlockWriter {
  private symbols = new Map<string, number>();
  private symbolList: string[] = [];
  private series = new ByteWriter(1 << 16);
  private seriesOffsets: number[] = [];
  private postings = new Map<number, Map<number, number[]>>();
  private chunkBuf = new ByteWriter(1 << 20);
  private chunksFile!: FileHandle;
  private chunksWritten = 0;
  private numChunks = 0;
  private numSamples = 0;
  private lastLabels: Labels | undefined;
  private readonly tmpDir: string;
  readonly id: string;

  private constructor(
    private readonly blocksDir: string,
    private readonly minTime: number,
    private readonly maxTime: number,
  ) {
    this.id = newBlockId();
    this.tmpDir = join(blocksDir, `${this.id}.tmp`);
  }

  static async create(blocksDir: string, minTime: number, maxTime: number): Promise<BlockWriter> {
    const w = new BlockWriter(blocksDir, minTime, maxTime);
    await fsp.mkdir(w.tmpDir, { recursive: true });
    w.chunksFile = await fsp.open(join(w.tmpDir, 'chunks'), 'w');
    w.chunkBuf.bytesRaw(CHUNKS_MAGIC);
    return w;
  }

  private symbol(s: string): number {
    let id = this.symbols.get(s);
    if (id === undefined) {
      id = this.symbolList.length;
      this.symbols.set(s, id);
      this.symbolList.push(s);
    }
    return id;
  }

  /** Adds one series; series must come in label order, chunks in time order. */
  addSeries(labels: Labels, chunks: readonly ChunkRef[]): void {
    if (chunks.length === 0) return;
    const id = this.seriesOffsets.length;
    this.lastLabels = labels;
    this.seriesOffsets.push(this.series.pos);
    const s = this.series;
    s.uvarint(labels.length);
    for (const l of labels) {
      const n = this.symbol(l.name);
      const v = this.symbol(l.value);
      s.uvarint(n);
      s.uvarint(v);
      let byValue = this.postings.get(n);
      if (!byValue) this.postings.set(n, (byValue = new Map()));
      const list = byValue.get(v);
      if (list) list.push(id);
      else byValue.set(v, [id]);
    }
    s.uvarint(chunks.length);
    let prev = this.minTime;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (i === 0) s.uvarint(this.chunksWritten + this.chunkBuf.pos); // file offset of this chunk
      s.svarint(c.mint - prev);
      s.uvarint(c.maxt - c.mint);
      s.uvarint(c.payload.length);
      prev = c.maxt;
      this.chunkBuf.bytesRaw(c.payload);
      this.chunkBuf.u32le(crc32(c.payload));
      this.numChunks++;
      this.numSamples += c.count;
    }
  }

  get seriesCount(): number {
    return this.seriesOffsets.length;
  }

  get lastSeriesLabels(): Labels | undefined {
    return this.lastLabels;
  }

  /** Writes buffered chunk bytes out once enough accumulated; call between series batches. */
  async flushChunks(force = false): Promise<void> {
    if (!force && this.chunkBuf.pos < 4 << 20) return;
    const data = this.chunkBuf.bytes();
    await this.chunksFile.write(data, 0, data.length, this.chunksWritten);
    this.chunksWritten += data.length;
    this.chunkBuf.reset();
  }

  /** Finishes the block: writes index + meta, fsyncs, renames into place. Returns the meta. */
  async finish(compaction: BlockMeta['compaction']): Promise<BlockMeta> {
    await this.flushChunks(true);
    await this.chunksFile.sync();
    await this.chunksFile.close();

    const index = new ByteWriter(1 << 16);
    index.bytesRaw(INDEX_MAGIC);
    const symbolsOff = index.pos;
    index.uvarint(this.symbolList.length);
    for (const sym of this.symbolList) index.string(sym);
    const seriesOff = index.pos;
    index.bytesRaw(this.series.bytes());
    const postingsOff = index.pos;
    index.uvarint(this.postings.size);
    for (const [name, byValue] of this.postings) {
      index.uvarint(name);
      index.uvarint(byValue.size);
      for (const [value, list] of byValue) {
        index.uvarint(value);
        index.uvarint(list.length);
        let prev = 0;
        for (const id of list) {
          index.uvarint(id - prev);
          prev = id;
        }
      }
    }
    const tableOff = index.pos;
    for (const off of this.seriesOffsets) index.u32le(seriesOff + off);
    index.u32le(symbolsOff);
    index.u32le(seriesOff);
    index.u32le(postingsOff);
    index.u32le(tableOff);
    index.u32le(this.seriesOffsets.length);
    index.u32le(crc32(index.bytes()));
    index.u32le(FOOTER_MAGIC);
    const indexBytes = index.bytes();
    const fh = await fsp.open(join(this.tmpDir, 'index'), 'w');
    try {
      await fh.write(indexBytes, 0, indexBytes.length, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }

    const meta: BlockMeta = {
      version: 1,
      id: this.id,
      minTime: this.minTime,
      maxTime: this.maxTime,
      stats: { numSeries: this.seriesOffsets.length, numChunks: this.numChunks, numSamples: this.numSamples },
      compaction,
      index: { bytes: indexBytes.length, crc32: crc32(indexBytes) },
      chunks: { bytes: this.chunksWritten },
    };
    const mh = await fsp.open(join(this.tmpDir, 'meta.json'), 'w');
    try {
      await mh.writeFile(JSON.stringify(meta, null, 1));
      await mh.sync();
    } finally {
      await mh.close();
    }
    await fsyncDir(this.tmpDir);
    await fsp.rename(this.tmpDir, join(this.blocksDir, this.id));
    await fsyncDir(this.blocksDir);
    return meta;
  }

  /** Removes the temporary directory after a failure. */
  async abort(): Promise<void> {
    await this.chunksFile?.close().catch(() => undefined);
    await fsp.rm(this.tmpDir, { recursive: true, force: true });
  }
}

/** A series entry as stored in a block index. */
export interface BlockSeries {
  readonly labels: Label[];
  readonly chunks: { mint: number; maxt: number; offset: number; length: number }[];
}

export class BlockReader implements IndexReader {
  private symbols: string[] = [];
  private postingsMap = new Map<string, Map<string, Int32Array>>();
  private seriesTable!: Uint32Array;
  private seriesEnd = 0;
  private indexFd = -1;
  private chunksFd = -1;
  private all: Int32Array | undefined;
  private scratch = Buffer.allocUnsafe(1 << 16);
  private collect = new SampleBuffer();

  private constructor(
    readonly dir: string,
    readonly meta: BlockMeta,
  ) {}

  get id(): string {
    return this.meta.id;
  }

  get numSeries(): number {
    return this.seriesTable.length;
  }

  /** Opens and verifies a block directory; throws BlockCorruptError naming what is wrong. */
  static async open(dir: string, interner?: StringInterner): Promise<BlockReader> {
    const meta = await readBlockMeta(dir);
    const block = new BlockReader(dir, meta);
    try {
      const chunksStat = await fsp.stat(join(dir, 'chunks')).catch(() => undefined);
      if (!chunksStat) throw new BlockCorruptError('chunks file is missing');
      if (chunksStat.size !== meta.chunks.bytes) {
        throw new BlockCorruptError(
          `chunks file has ${chunksStat.size} bytes, meta.json says ${meta.chunks.bytes}`,
        );
      }
      const index = await fsp.readFile(join(dir, 'index')).catch(() => undefined);
      if (!index) throw new BlockCorruptError('index file is missing');
      block.parseIndex(index, interner);
      block.indexFd = openSync(join(dir, 'index'), 'r');
      block.chunksFd = openSync(join(dir, 'chunks'), 'r');
      const magic = Buffer.alloc(CHUNKS_MAGIC.length);
      readSync(block.chunksFd, magic, 0, magic.length, 0);
      if (!magic.equals(CHUNKS_MAGIC)) throw new BlockCorruptError('chunks file has a wrong magic number');
      return block;
    } catch (err) {
      block.close();
      if (err instanceof CorruptionError) throw new BlockCorruptError(`index: ${err.message}`);
      throw err;
    }
  }

  private parseIndex(index: Buffer, interner: StringInterner | undefined): void {
    if (index.length !== this.meta.index.bytes) {
      throw new BlockCorruptError(
        `index file has ${index.length} bytes, meta.json says ${this.meta.index.bytes}`,
      );
    }
    if (
      index.length < INDEX_MAGIC.length + FOOTER_BYTES ||
      !index.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC)
    ) {
      throw new BlockCorruptError('index file has a wrong magic number');
    }
    const footer = index.length - FOOTER_BYTES;
    if (index.readUInt32LE(footer + 24) !== FOOTER_MAGIC)
      throw new BlockCorruptError('index footer is damaged');
    if (crc32(index.subarray(0, footer + 20)) !== index.readUInt32LE(footer + 20)) {
      throw new BlockCorruptError('index checksum mismatch');
    }
    const symbolsOff = index.readUInt32LE(footer);
    const seriesOff = index.readUInt32LE(footer + 4);
    const postingsOff = index.readUInt32LE(footer + 8);
    const tableOff = index.readUInt32LE(footer + 12);
    const numSeries = index.readUInt32LE(footer + 16);
    if (!(
      symbolsOff <= seriesOff &&
      seriesOff <= postingsOff &&
      postingsOff <= tableOff &&
      tableOff + numSeries * 4 === footer
    )) {
      throw new BlockCorruptError('index section offsets are inconsistent');
    }
    const r = new ByteReader(index, symbolsOff, seriesOff);
    const nsym = r.uvarint();
    const symbols = new Array<string>(nsym);
    for (let i = 0; i < nsym; i++) symbols[i] = interner ? interner.intern(r.string()) : r.string();
    this.symbols = symbols;
    const sym = (id: number): string => {
      const s = symbols[id];
      if (s === undefined) throw new CorruptionError(`symbol ${id} out of range`);
      return s;
    };
    const p = new ByteReader(index, postingsOff, tableOff);
    const nNames = p.uvarint();
    for (let i = 0; i < nNames; i++) {
      const name = sym(p.uvarint());
      const nValues = p.uvarint();
      const byValue = new Map<string, Int32Array>();
      for (let j = 0; j < nValues; j++) {
        const value = sym(p.uvarint());
        const n = p.uvarint();
        if (n > numSeries) throw new CorruptionError(`postings list longer than the series count`);
        const list = new Int32Array(n);
        let prev = 0;
        for (let k = 0; k < n; k++) list[k] = prev += p.uvarint();
        byValue.set(value, list);
      }
      this.postingsMap.set(name, byValue);
    }
    this.seriesTable = new Uint32Array(numSeries);
    for (let i = 0; i < numSeries; i++) this.seriesTable[i] = index.readUInt32LE(tableOff + i * 4);
    this.seriesEnd = postingsOff;
  }

  // ---- IndexReader -------------------------------------------------------------------------------

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
    if (!this.all) {
      this.all = new Int32Array(this.seriesTable.length);
      for (let i = 0; i < this.all.length; i++) this.all[i] = i;
    }
    return this.all;
  }

  // ---- series and chunks -------------------------------------------------------------------------

  private readIndexRange(start: number, end: number): Buffer {
    const len = end - start;
    if (this.scratch.length < len) this.scratch = Buffer.allocUnsafe(Math.max(len, this.scratch.length * 2));
    const got = readSync(this.indexFd, this.scratch, 0, len, start);
    if (got !== len) throw new BlockCorruptError(`index read returned ${got} of ${len} bytes`);
    return this.scratch;
  }

  private seriesBounds(id: number): [number, number] {
    if (!(id >= 0 && id < this.seriesTable.length))
      throw new BlockCorruptError(`series id ${id} out of range`);
    const start = this.seriesTable[id]!;
    const end = id + 1 < this.seriesTable.length ? this.seriesTable[id + 1]! : this.seriesEnd;
    return [start, end];
  }

  /**
   * Calls fn for every series id in `ids` (ascending) with its decoded entry. Entries lying close
   * together in the index file are read with one positional read.
   */
  forEachSeries(ids: Postings, fn: (id: number, s: BlockSeries) => void): void {
    let i = 0;
    while (i < ids.length) {
      const [runStart, firstEnd] = this.seriesBounds(ids[i]!);
      let runEnd = firstEnd;
      let j = i;
      while (j + 1 < ids.length) {
        const [start, end] = this.seriesBounds(ids[j + 1]!);
        if (start - runEnd > 4096 || end - runStart > 1 << 20) break;
        runEnd = end;
        j++;
      }
      const buf = this.readIndexRange(runStart, runEnd);
      for (let k = i; k <= j; k++) {
        const id = ids[k]!;
        const [start, end] = this.seriesBounds(id);
        try {
          fn(id, this.decodeSeries(new ByteReader(buf, start - runStart, end - runStart)));
        } catch (err) {
          if (err instanceof CorruptionError) throw new BlockCorruptError(`series ${id}: ${err.message}`);
          throw err;
        }
      }
      i = j + 1;
    }
  }

  private decodeSeries(r: ByteReader): BlockSeries {
    const nLabels = r.uvarint();
    const labels: Label[] = new Array(nLabels);
    for (let i = 0; i < nLabels; i++) {
      const name = this.symbols[r.uvarint()];
      const value = this.symbols[r.uvarint()];
      if (name === undefined || value === undefined) throw new CorruptionError('label symbol out of range');
      labels[i] = { name, value };
    }
    const nChunks = r.uvarint();
    const chunks: BlockSeries['chunks'] = new Array(nChunks);
    let prev = this.meta.minTime;
    let offset = 0;
    for (let i = 0; i < nChunks; i++) {
      if (i === 0) offset = r.uvarint();
      const mint = prev + r.svarint();
      const maxt = mint + r.uvarint();
      const length = r.uvarint();
      chunks[i] = { mint, maxt, offset, length };
      offset += length + 4;
      prev = maxt;
    }
    return { labels, chunks };
  }

  /**
   * Reads chunks [from, to) of a series (contiguous in the file) with one read, verifying each
   * chunk's CRC; calls fn with the payload view.
   */
  readChunks(
    s: BlockSeries,
    from: number,
    to: number,
    fn: (payload: Buffer, chunk: BlockSeries['chunks'][number]) => void,
  ): void {
    if (from >= to) return;
    const first = s.chunks[from]!;
    const last = s.chunks[to - 1]!;
    const start = first.offset;
    const end = last.offset + last.length + 4;
    if (end > this.meta.chunks.bytes || start < CHUNKS_MAGIC.length) {
      throw new BlockCorruptError(`chunk reference [${start}, ${end}) outside the chunks file`);
    }
    const len = end - start;
    const buf = Buffer.allocUnsafe(len);
    const got = readSync(this.chunksFd, buf, 0, len, start);
    if (got !== len) throw new BlockCorruptError(`chunks read returned ${got} of ${len} bytes`);
    for (let i = from; i < to; i++) {
      const c = s.chunks[i]!;
      const off = c.offset - start;
      const payload = buf.subarray(off, off + c.length);
      if (crc32(payload) !== buf.readUInt32LE(off + c.length)) {
        throw new BlockCorruptError(`chunk at offset ${c.offset} fails its checksum`);
      }
      fn(payload, c);
    }
  }

  /** Decodes a series' samples within [mint, maxt] into `out`. */
  readSamples(s: BlockSeries, mint: number, maxt: number, out: SampleBuffer): void {
    let from = 0;
    while (from < s.chunks.length && s.chunks[from]!.maxt < mint) from++;
    let to = from;
    while (to < s.chunks.length && s.chunks[to]!.mint <= maxt) to++;
    this.readChunks(s, from, to, (payload, c) => {
      const count = (payload[1]! << 8) | payload[2]!;
      out.ensure(count);
      const at = out.n;
      try {
        decodeChunk(payload, 0, payload.length, out.ts, out.vs, at, count);
      } catch (err) {
        if (err instanceof ChunkCorruptError)
          throw new BlockCorruptError(`chunk at offset ${c.offset}: ${err.message}`);
        throw err;
      }
      out.n += count;
      if (c.mint < mint || c.maxt > maxt) out.clip(at, mint, maxt);
    });
  }

  select(matchers: readonly Matcher[], mint: number, maxt: number): SeriesData[] {
    if (maxt < this.meta.minTime || mint >= this.meta.maxTime) return [];
    const ids = postingsForMatchers(this, matchers);
    const out: SeriesData[] = [];
    const buf = this.collect;
    this.forEachSeries(ids, (_id, s) => {
      buf.n = 0;
      this.readSamples(s, mint, maxt, buf);
      if (buf.n > 0) out.push(buf.take(s.labels));
    });
    return out;
  }

  /** Label sets of the series matching the matchers. */
  matchingLabels(matchers: readonly Matcher[]): Label[][] {
    const out: Label[][] = [];
    this.forEachSeries(postingsForMatchers(this, matchers), (_id, s) => out.push(s.labels));
    return out;
  }

  close(): void {
    if (this.indexFd >= 0) closeSync(this.indexFd);
    if (this.chunksFd >= 0) closeSync(this.chunksFd);
    this.indexFd = -1;
    this.chunksFd = -1;
  }
}

export async function readBlockMeta(dir: string): Promise<BlockMeta> {
  let text: string;
  try {
    text = await fsp.readFile(join(dir, 'meta.json'), 'utf8');
  } catch {
    throw new BlockCorruptError('meta.json is missing or unreadable');
  }
  let meta: BlockMeta;
  try {
    meta = JSON.parse(text) as BlockMeta;
  } catch {
    throw new BlockCorruptError('meta.json is not valid JSON');
  }
  if (
    meta?.version !== 1 ||
    typeof meta.id !== 'string' ||
    !Number.isFinite(meta.minTime) ||
    !Number.isFinite(meta.maxTime) ||
    !(meta.minTime < meta.maxTime) ||
    typeof meta.index?.bytes !== 'number' ||
    typeof meta.chunks?.bytes !== 'number' ||
    !Array.isArray(meta.compaction?.parents)
  ) {
    throw new BlockCorruptError('meta.json lacks required fields');
  }
  return meta;
}
