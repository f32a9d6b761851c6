import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Label } from '../../model/labels.ts';
import { ByteReader, ByteWriter, CorruptDataError } from './bytes.ts';
import type { Block } from './types.ts';

/**
 * Chunk format: one stream's entries, sorted by time, stored column by column so that the lines
 * are one contiguous region after decompression (filters search it with Buffer.indexOf) and the
 * timestamps compress to a byte or two each.
 *
 *   varint count, varint baseMs
 *   count × (varint msDelta from the previous entry, varint ns)
 *   count × varint lineLength
 *   u8 hasMeta; if 1: count × (varint pairs, pairs × (string name, string value))
 *   lines, back to back, to the end
 */
export type ChunkCodec = 'none' | 'deflate' | 'gzip' | 'brotli';

const CODEC_IDS: Record<ChunkCodec, number> = { none: 0, deflate: 1, gzip: 2, brotli: 3 };
const CODEC_BY_ID: ChunkCodec[] = ['none', 'deflate', 'gzip', 'brotli'];

export function codecId(codec: ChunkCodec): number {
  return CODEC_IDS[codec];
}

export function codecById(id: number): ChunkCodec {
  const c = CODEC_BY_ID[id];
  if (!c) throw new CorruptDataError(`unknown chunk codec id ${id}`);
  return c;
}

/**
 * Encodes the block's entries listed in `order` (time-sorted indices, possibly a subset), or all of
 * them in stored order when `order` is null.
 */
export function encodeChunkPayload(block: Block, order: Uint32Array | null): Buffer {
  const n = order ? order.length : block.count;
  const w = new ByteWriter(64 + n * 8);
  const idx = (i: number): number => (order ? order[i]! : i);
  const baseMs = n > 0 ? block.ms[idx(0)]! : 0;
  w.varint(n).varint(baseMs);
  let prev = baseMs;
  for (let i = 0; i < n; i++) {
    const j = idx(i);
    const ms = block.ms[j]!;
    w.varint(ms - prev).varint(block.ns[j]!);
    prev = ms;
  }
  let lineBytes = 0;
  for (let i = 0; i < n; i++) {
    const j = idx(i);
    const len = block.starts[j + 1]! - block.starts[j]!;
    w.varint(len);
    lineBytes += len;
  }
  const meta = block.meta;
  if (meta && meta.some((m) => m && m.length > 0)) {
    w.u8(1);
    for (let i = 0; i < n; i++) {
      const m = meta[idx(i)];
      w.varint(m ? m.length : 0);
      if (m) for (const l of m) w.string(l.name).string(l.value);
    }
  } else w.u8(0);
  const head = w.view();
  const out = Buffer.allocUnsafe(head.length + lineBytes);
  head.copy(out, 0);
  let pos = head.length;
  if (order === null) {
    block.lines.copy(out, pos, block.starts[0]!, block.starts[n]!);
  } else {
    for (let i = 0; i < n; i++) {
      const j = order[i]!;
      pos += block.lines.copy(out, pos, block.starts[j]!, block.starts[j + 1]!);
    }
  }
  return out;
}

/**
 * A decoded chunk whose columns are parsed on first use: the lines region is the payload's last
 * `lineBytes` bytes, so a line filter can search it (and usually skip the chunk) without decoding
 * a single timestamp.
 */
class ChunkBlock implements Block {
  readonly sorted = true;
  readonly count: number;
  readonly lines: Buffer;
  readonly linesEnd: number;
  private cols:
    | { ms: Float64Array; ns: Uint32Array; starts: Uint32Array; meta: (Label[] | undefined)[] | null }
    | undefined;

  constructor(
    readonly streamId: number,
    private readonly payload: Buffer,
    lineBytes: number,
  ) {
    const r = new ByteReader(payload);
    this.count = r.varint();
    if (lineBytes > payload.length)
      throw new CorruptDataError(`chunk lines region (${lineBytes} bytes) is larger than the chunk`);
    this.lines = payload.subarray(payload.length - lineBytes);
    this.linesEnd = lineBytes;
  }

  private columns() {
    if (this.cols) return this.cols;
    const r = new ByteReader(this.payload);
    const count = r.varint();
    const ms = new Float64Array(count);
    const ns = new Uint32Array(count);
    let t = r.varint();
    for (let i = 0; i < count; i++) {
      t += r.varint();
      ms[i] = t;
      ns[i] = r.varint();
    }
    const starts = new Uint32Array(count + 1);
    let off = 0;
    for (let i = 0; i < count; i++) {
      starts[i] = off;
      off += r.varint();
    }
    starts[count] = off;
    let meta: (Label[] | undefined)[] | null = null;
    if (r.u8() === 1) {
      meta = new Array<Label[] | undefined>(count);
      for (let i = 0; i < count; i++) {
        const pairs = r.varint();
        if (pairs === 0) continue;
        const m: Label[] = [];
        for (let p = 0; p < pairs; p++) m.push({ name: r.string(), value: r.string() });
        meta[i] = m;
      }
    }
    if (r.remaining !== off || off !== this.linesEnd) {
      throw new CorruptDataError(`chunk lines region is ${r.remaining} bytes, its columns say ${off}`);
    }
    this.cols = { ms, ns, starts, meta };
    return this.cols;
  }

  get ms(): Float64Array {
    return this.columns().ms;
  }

  get ns(): Uint32Array {
    return this.columns().ns;
  }

  get starts(): Uint32Array {
    return this.columns().starts;
  }

  get meta(): readonly (readonly Label[] | undefined)[] | null {
    return this.columns().meta;
  }
}

/** Decodes a chunk payload holding `lineBytes` bytes of lines (recorded in the chunk header). */
export function decodeChunkPayload(streamId: number, buf: Buffer, lineBytes: number): Block {
  return new ChunkBlock(streamId, buf, lineBytes);
}

const brotliCompress = promisify(zlib.brotliCompress);
const brotliDecompress = promisify(zlib.brotliDecompress);
const deflateRaw = promisify(zlib.deflateRaw);
const inflateRaw = promisify(zlib.inflateRaw);
const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/**
 * Output buffer size for async zlib calls. Node's default (16 KiB) makes a 1 MiB chunk cost dozens
 * of thread-pool round trips and callbacks on the event loop; one buffer of about the expected size
 * makes (de)compression 3-5x cheaper.
 */
function chunkSizeFor(expected: number): number {
  return Math.min(Math.max(expected, 64 * 1024), 16 * 1024 * 1024);
}

/** Compresses on libuv's thread pool, so several chunks compress in parallel off the event loop. */
export async function compressChunk(codec: ChunkCodec, level: number, data: Buffer): Promise<Buffer> {
  const chunkSize = chunkSizeFor(data.length);
  switch (codec) {
    case 'none':
      return data;
    case 'deflate':
      return deflateRaw(data, { level, chunkSize });
    case 'gzip':
      return gzip(data, { level, chunkSize });
    case 'brotli':
      return brotliCompress(data, {
        chunkSize,
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: level,
          [zlib.constants.BROTLI_PARAM_LGWIN]: 22,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        },
      });
  }
}

/** Decompresses a chunk payload; `sizeHint` is the expected output size (line bytes plus columns). */
export async function decompressChunk(codec: ChunkCodec, data: Buffer, sizeHint: number): Promise<Buffer> {
  const chunkSize = chunkSizeFor(sizeHint);
  switch (codec) {
    case 'none':
      return data;
    case 'deflate':
      return inflateRaw(data, { chunkSize });
    case 'gzip':
      return gunzip(data, { chunkSize });
    case 'brotli':
      return brotliDecompress(data, { chunkSize });
  }
}

/** Default compression level per codec. */
export function defaultLevel(codec: ChunkCodec): number {
  return codec === 'brotli' ? 4 : 6;
}
