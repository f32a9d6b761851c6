import { closeSync, existsSync, openSync, readSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { ByteReader, ByteWriter, CorruptDataError } from './bytes.ts';
import { codecById, codecId, type ChunkCodec } from './chunk.ts';
import { writeAll } from './record-file.ts';

/**
 * One time partition of a tenant's chunks: a single append-only file
 * `<startMs>_<spanMs>.chk` holding every chunk whose entries fall in [startMs, startMs + span).
 * Retention deletes the whole file.
 *
 * Record: u32 length of the rest, u32 crc32(header), u16 header length, header, payload.
 * Header: varint streamId, count, minMs, minNs, maxMs, maxNs, rawBytes, walPos; u8 codec;
 *         varint payloadLength; u32 crc32(payload).
 */
export interface ChunkMeta {
  readonly streamId: number;
  readonly count: number;
  readonly minMs: number;
  readonly minNs: number;
  readonly maxMs: number;
  readonly maxNs: number;
  readonly rawBytes: number;
  /** WAL position of the newest record whose entries this chunk holds. */
  readonly walPos: number;
  readonly codec: ChunkCodec;
}

export interface ChunkRef extends ChunkMeta {
  readonly partition: Partition;
  readonly payloadOffset: number;
  readonly payloadLength: number;
  readonly payloadCrc: number;
}

const FIXED_PREFIX = 10;

export function partitionFileName(startMs: number, spanMs: number): string {
  return `${startMs}_${spanMs}.chk`;
}

export function parsePartitionFileName(name: string): { startMs: number; spanMs: number } | undefined {
  const m = /^(-?\d+)_(\d+)\.chk$/.exec(name);
  return m ? { startMs: Number(m[1]), spanMs: Number(m[2]) } : undefined;
}

export class Partition {
  readonly chunks: ChunkRef[] = [];
  readonly byStream = new Map<number, ChunkRef[]>();
  /** Bytes appended, and bytes known durable (fsync'd). */
  size = 0;
  syncedSize = 0;
  private writeChain: Promise<unknown> = Promise.resolve();
  private fh: FileHandle | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    readonly startMs: number,
    readonly spanMs: number,
  ) {}

  get endMs(): number {
    return this.startMs + this.spanMs;
  }

  /**
   * Opens a partition file, first cutting it back to `committedLength` (the length recorded by the
   * last checkpoint; anything beyond was written after it and is still in the WAL).
   */
  static async open(
    path: string,
    startMs: number,
    spanMs: number,
    committedLength: number,
  ): Promise<Partition> {
    const p = new Partition(path, startMs, spanMs);
    if (existsSync(path)) {
      if (statSync(path).size > committedLength) truncateSync(path, committedLength);
      p.scan(committedLength);
    }
    p.fh = await open(path, 'a+');
    p.size = p.syncedSize = committedLength;
    return p;
  }

  private scan(length: number): void {
    const fd = openSync(this.path, 'r');
    try {
      const prefix = Buffer.allocUnsafe(FIXED_PREFIX);
      let pos = 0;
      while (pos + FIXED_PREFIX <= length) {
        readFully(fd, prefix, pos);
        const recordLen = prefix.readUInt32LE(0);
        const headerCrc = prefix.readUInt32LE(4);
        const headerLen = prefix.readUInt16LE(8);
        const header = Buffer.allocUnsafe(headerLen);
        readFully(fd, header, pos + FIXED_PREFIX);
        if (crc32(header) !== headerCrc) {
          throw new CorruptDataError(`chunk header checksum mismatch in ${this.path} at offset ${pos}`);
        }
        const meta = decodeHeader(header);
        const payloadOffset = pos + FIXED_PREFIX + headerLen;
        this.register({
          ...meta.meta,
          partition: this,
          payloadOffset,
          payloadLength: meta.payloadLength,
          payloadCrc: meta.payloadCrc,
        });
        pos += 4 + recordLen;
      }
      if (pos !== length) throw new CorruptDataError(`partition ${this.path} ends inside a chunk record`);
    } finally {
      closeSync(fd);
    }
  }

  /** Makes a written chunk visible to queries (the store does this once a whole head cut has landed). */
  register(ref: ChunkRef): void {
    this.chunks.push(ref);
    let list = this.byStream.get(ref.streamId);
    if (!list) this.byStream.set(ref.streamId, (list = []));
    list.push(ref);
  }

  /**
   * Appends a chunk (not yet durable; see sync) without registering it. Appends are serialized in
   * call order.
   */
  appendChunk(meta: ChunkMeta, payload: Buffer): Promise<ChunkRef> {
    const result = this.writeChain.then(async () => {
      if (this.closed || !this.fh) throw new Error(`partition ${this.path} is closed`);
      const w = new ByteWriter(64);
      w.varint(meta.streamId).varint(meta.count).varint(meta.minMs).varint(meta.minNs);
      w.varint(meta.maxMs).varint(meta.maxNs).varint(meta.rawBytes).varint(meta.walPos);
      w.u8(codecId(meta.codec)).varint(payload.length);
      const payloadCrc = crc32(payload);
      w.u32(payloadCrc);
      const header = w.toBuffer();
      const prefix = Buffer.allocUnsafe(FIXED_PREFIX);
      prefix.writeUInt32LE(FIXED_PREFIX - 4 + header.length + payload.length, 0);
      prefix.writeUInt32LE(crc32(header), 4);
      prefix.writeUInt16LE(header.length, 8);
      const start = this.size;
      await writeAll(this.fh, [prefix, header, payload]);
      this.size = start + FIXED_PREFIX + header.length + payload.length;
      const ref: ChunkRef = {
        ...meta,
        partition: this,
        payloadOffset: start + FIXED_PREFIX + header.length,
        payloadLength: payload.length,
        payloadCrc,
      };
      return ref;
    });
    this.writeChain = result.catch(() => undefined);
    return result;
  }

  async readPayload(ref: ChunkRef): Promise<Buffer> {
    if (!this.fh) throw new Error(`partition ${this.path} is closed`);
    const buf = Buffer.allocUnsafe(ref.payloadLength);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await this.fh.read(buf, off, buf.length - off, ref.payloadOffset + off);
      if (bytesRead === 0)
        throw new CorruptDataError(`chunk at ${ref.payloadOffset} in ${this.path} is truncated`);
      off += bytesRead;
    }
    if (crc32(buf) !== ref.payloadCrc) {
      throw new CorruptDataError(
        `chunk payload checksum mismatch in ${this.path} at offset ${ref.payloadOffset}`,
      );
    }
    return buf;
  }

  /** Makes everything appended so far durable; returns the durable length. */
  async sync(): Promise<number> {
    await this.writeChain;
    const size = this.size;
    if (size !== this.syncedSize && this.fh) {
      await this.fh.datasync();
      this.syncedSize = size;
    }
    return this.syncedSize;
  }

  async close(): Promise<void> {
    await this.writeChain;
    this.closed = true;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  async remove(): Promise<void> {
    await this.close();
    if (existsSync(this.path)) unlinkSync(this.path);
  }
}

function readFully(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw new CorruptDataError('unexpected end of partition file');
    off += n;
  }
}

function decodeHeader(header: Buffer): { meta: ChunkMeta; payloadLength: number; payloadCrc: number } {
  const r = new ByteReader(header);
  const meta: ChunkMeta = {
    streamId: r.varint(),
    count: r.varint(),
    minMs: r.varint(),
    minNs: r.varint(),
    maxMs: r.varint(),
    maxNs: r.varint(),
    rawBytes: r.varint(),
    walPos: r.varint(),
    codec: codecById(r.u8()),
  };
  return { meta, payloadLength: r.varint(), payloadCrc: r.u32() };
}
