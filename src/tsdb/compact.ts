/**
 * Writing blocks: from the head (a block cut) and from existing blocks (compaction), plus the
 * compaction planner. Both paths work in slices and yield to the event loop between them, so a
 * large block never stalls request handling for long.
 */
import { compareLabelSets, type Labels } from '../model/labels.ts';
import {
  BlockCorruptError,
  BlockWriter,
  type BlockMeta,
  type BlockReader,
  type BlockSeries,
  type ChunkRef,
} from './block.ts';
import { chunkCount, decodeChunk, encodePacked, packedMaxBytes } from './chunk.ts';
import { headRecordChunks, type HeadCutSeries } from './head.ts';

/** Yields to the event loop when the current slice has run for more than `sliceMs`. */
export class Slicer {
  private start = performance.now();
  constructor(private readonly sliceMs = 8) {}

  async maybeYield(): Promise<void> {
    if (performance.now() - this.start < this.sliceMs) return;
    await new Promise((r) => setImmediate(r));
    this.start = performance.now();
  }
}

/**
 * Groups a series' consecutive chunks into chunks of up to `maxSamples` (fewer, larger chunks
 * cost less per sample on disk), re-encoding only groups of several. Overlapping chunks are
 * decoded, de-duplicated by timestamp and re-encoded.
 */
export class ChunkMerger {
  private ts = new Float64Array(1024);
  private vs = new Float64Array(1024);

  constructor(private readonly maxSamples: number) {}

  private ensure(n: number): void {
    if (this.ts.length >= n) return;
    let cap = this.ts.length;
    while (cap < n) cap *= 2;
    this.ts = new Float64Array(cap);
    this.vs = new Float64Array(cap);
  }

  merge(chunks: ChunkRef[]): ChunkRef[] {
    let overlapping = false;
    for (let i = 1; i < chunks.length; i++) if (chunks[i]!.mint <= chunks[i - 1]!.maxt) overlapping = true;
    if (overlapping) return this.mergeOverlapping(chunks);
    const out: ChunkRef[] = [];
    let group: ChunkRef[] = [];
    let groupCount = 0;
    const flush = (): void => {
      if (group.length === 1) out.push(group[0]!);
      else if (group.length > 1) {
        let n = 0;
        this.ensure(groupCount);
        for (const c of group) n += decodeChunk(c.payload, 0, c.payload.length, this.ts, this.vs, n, c.count);
        out.push(this.encode(0, n));
      }
      group = [];
      groupCount = 0;
    };
    for (const c of chunks) {
      if (groupCount + c.count > this.maxSamples) flush();
      group.push(c);
      groupCount += c.count;
    }
    flush();
    return out;
  }

  private mergeOverlapping(chunks: ChunkRef[]): ChunkRef[] {
    let total = 0;
    for (const c of chunks) total += c.count;
    this.ensure(total);
    // decode everything, then a stable sort by time keeps the first occurrence of a timestamp
    let n = 0;
    for (const c of chunks) n += decodeChunk(c.payload, 0, c.payload.length, this.ts, this.vs, n, c.count);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.ts[a]! - this.ts[b]! || a - b);
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    let m = 0;
    for (const i of order) {
      if (m > 0 && ts[m - 1] === this.ts[i]) continue;
      ts[m] = this.ts[i]!;
      vs[m] = this.vs[i]!;
      m++;
    }
    this.ts.set(ts.subarray(0, m));
    this.vs.set(vs.subarray(0, m));
    const out: ChunkRef[] = [];
    for (let start = 0; start < m; start += this.maxSamples)
      out.push(this.encode(start, Math.min(this.maxSamples, m - start)));
    return out;
  }

  private encode(start: number, n: number): ChunkRef {
    const buf = new Uint8Array(packedMaxBytes(n));
    const len = encodePacked(this.ts, this.vs, start, n, buf);
    return { payload: buf.subarray(0, len), mint: this.ts[start]!, maxt: this.ts[start + n - 1]!, count: n };
  }
}

export interface WriteOptions {
  /** Largest chunk written into blocks, in samples. */
  readonly maxChunkSamples: number;
}

/** Writes the head's chunks before a cut as block [minTime, maxTime); undefined when empty. */
export async function writeHeadBlock(
  blocksDir: string,
  series: readonly HeadCutSeries[],
  minTime: number,
  maxTime: number,
  opts: WriteOptions,
): Promise<BlockMeta | undefined> {
  if (series.length === 0) return undefined;
  const writer = await BlockWriter.create(blocksDir, minTime, maxTime);
  try {
    const merger = new ChunkMerger(opts.maxChunkSamples);
    const slicer = new Slicer();
    for (const s of series) {
      writer.addSeries(s.labels, merger.merge(headRecordChunks(s.buf, s.end)));
      await writer.flushChunks();
      await slicer.maybeYield();
    }
    if (writer.seriesCount === 0) {
      await writer.abort();
      return undefined;
    }
    return await writer.finish({ level: 1, sources: [writer.id], parents: [] });
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** Iterates one block's series in index order, in batches. */
class SeriesCursor {
  private batch: BlockSeries[] = [];
  private pos = 0;
  private nextId = 0;

  constructor(readonly block: BlockReader) {}

  current(): BlockSeries | undefined {
    if (this.pos >= this.batch.length) this.fill();
    return this.batch[this.pos];
  }

  advance(): void {
    this.pos++;
  }

  private fill(): void {
    this.batch = [];
    this.pos = 0;
    const n = Math.min(512, this.block.numSeries - this.nextId);
    if (n <= 0) return;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = this.nextId + i;
    this.nextId += n;
    this.block.forEachSeries(ids, (_id, s) => this.batch.push(s));
  }
}

/** A block that failed while being read for compaction. */
export class SourceBlockError extends Error {
  override name = 'SourceBlockError';
  constructor(
    readonly blockId: string,
    override readonly cause: BlockCorruptError,
  ) {
    super(`block ${blockId}: ${cause.message}`);
  }
}

function guard<T>(block: BlockReader, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BlockCorruptError) throw new SourceBlockError(block.id, err);
    throw err;
  }
}

/** Merges blocks into one new block. Throws SourceBlockError naming a corrupt source. */
export async function compactBlocks(
  blocksDir: string,
  sources: readonly BlockReader[],
  opts: WriteOptions,
): Promise<BlockMeta | undefined> {
  const minTime = Math.min(...sources.map((b) => b.meta.minTime));
  const maxTime = Math.max(...sources.map((b) => b.meta.maxTime));
  const writer = await BlockWriter.create(blocksDir, minTime, maxTime);
  try {
    const ordered = [...sources].sort((a, b) => a.meta.minTime - b.meta.minTime);
    const cursors = ordered.map((b) => new SeriesCursor(b));
    const merger = new ChunkMerger(opts.maxChunkSamples);
    const slicer = new Slicer();
    for (;;) {
      let labels: Labels | undefined;
      for (const c of cursors) {
        const s = guard(c.block, () => c.current());
        if (s && (!labels || compareLabelSets(s.labels, labels) < 0)) labels = s.labels;
      }
      if (!labels) break;
      const chunks: ChunkRef[] = [];
      for (const c of cursors) {
        const s = c.current();
        if (!s || compareLabelSets(s.labels, labels) !== 0) continue;
        guard(c.block, () =>
          c.block.readChunks(s, 0, s.chunks.length, (payload, meta) => {
            chunks.push({ payload, mint: meta.mint, maxt: meta.maxt, count: chunkCount(payload) });
          }),
        );
        c.advance();
      }
      chunks.sort((a, b) => a.mint - b.mint);
      writer.addSeries(labels, merger.merge(chunks));
      await writer.flushChunks();
      await slicer.maybeYield();
    }
    const level = Math.max(...sources.map((b) => b.meta.compaction.level)) + 1;
    const sourceIds = [...new Set(sources.flatMap((b) => b.meta.compaction.sources))].sort();
    return await writer.finish({ level, sources: sourceIds, parents: ordered.map((b) => b.id) });
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** Compaction ranges: the block duration times powers of 3, up to maxBlockDurationMs. */
export function compactionRanges(blockDurationMs: number, maxBlockDurationMs: number): number[] {
  const out = [blockDurationMs];
  for (let r = blockDurationMs * 3; r <= maxBlockDurationMs; r *= 3) out.push(r);
  return out;
}

/**
 * Picks the next set of blocks to compact, or undefined: first any overlapping blocks, then, for
 * each range from small to large, the first aligned window holding at least two blocks that is
 * complete (no data can still arrive for it: its end is at or before `completeBefore`).
 */
export function planCompaction(
  metas: readonly BlockMeta[],
  ranges: readonly number[],
  completeBefore: number,
): BlockMeta[] | undefined {
  const sorted = [...metas].sort((a, b) => a.minTime - b.minTime);
  for (let i = 0; i < sorted.length;) {
    let end = sorted[i]!.maxTime;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.minTime < end) end = Math.max(end, sorted[j++]!.maxTime);
    if (j - i > 1) return sorted.slice(i, j);
    i = j;
  }
  for (const r of ranges.slice(1)) {
    const windows = new Map<number, BlockMeta[]>();
    for (const m of sorted) {
      const w = Math.floor(m.minTime / r);
      if (m.maxTime > (w + 1) * r) continue; // larger than this window
      let list = windows.get(w);
      if (!list) windows.set(w, (list = []));
      list.push(m);
    }
    for (const [w, list] of [...windows].sort((a, b) => a[0] - b[0])) {
      if (list.length >= 2 && (w + 1) * r <= completeBefore) return list;
    }
  }
  return undefined;
}
