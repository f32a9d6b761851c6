import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflateRaw, inflateRawSync } from 'node:zlib';
import { fsyncDir, readRecordFileRepairing, RecordAppender } from './record-file.ts';

const deflateRawAsync = promisify(deflateRaw);

/**
 * Write-ahead log with group commit. Every append is framed and checksummed; concurrent appends
 * share one write + fdatasync, and an append resolves only once its bytes are durable.
 *
 * A position identifies the end of a record: `segment * 2^32 + byteOffset`. Positions grow
 * monotonically, which lets the store record "everything of stream S up to position P is in
 * fsync'd chunks" and skip those records on replay.
 */
export type WalPosition = number;

const SEGMENT_SPAN = 2 ** 32;
const ENCODING_RAW = 0;
const ENCODING_DEFLATE = 1;
const COMPRESS_MIN_BYTES = 512;
const ENCODING_RAW_BYTE = Buffer.of(ENCODING_RAW);
const ENCODING_DEFLATE_BYTE = Buffer.of(ENCODING_DEFLATE);

export function walPosition(segment: number, offset: number): WalPosition {
  return segment * SEGMENT_SPAN + offset;
}

export function walSegmentOf(pos: WalPosition): number {
  return Math.floor(pos / SEGMENT_SPAN);
}

export interface WalOptions {
  /** A segment is closed and a new one started once it reaches this size. */
  readonly segmentBytes: number;
  /** Compress record bodies (deflate, fast level) before writing. */
  readonly compress: boolean;
}

interface Waiter {
  /** Encoding byte and body, written as one record without concatenating them. */
  readonly payload: readonly Buffer[];
  resolve(pos: WalPosition): void;
  reject(err: Error): void;
}

function segmentName(seq: number): string {
  return `${String(seq).padStart(10, '0')}.wal`;
}

export class WriteAheadLog {
  private queue: Waiter[] = [];
  private flushing = false;
  private failed: Error | undefined;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  private constructor(
    private readonly dir: string,
    private readonly options: WalOptions,
    private segments: number[],
    private current: RecordAppender,
    private seq: number,
  ) {}

  /**
   * Opens the WAL in `dir`, replaying every intact record in order through `onRecord`; a torn tail
   * of the last segment is truncated. New appends always go to a fresh segment.
   */
  static async open(
    dir: string,
    options: WalOptions,
    onRecord: (pos: WalPosition, body: Buffer) => void,
  ): Promise<WriteAheadLog> {
    mkdirSync(dir, { recursive: true });
    const segments = readdirSync(dir)
      .filter((f) => /^\d{10}\.wal$/.test(f))
      .map((f) => Number(f.slice(0, 10)))
      .sort((a, b) => a - b);
    for (const seq of segments) {
      const { records } = readRecordFileRepairing(join(dir, segmentName(seq)));
      for (const r of records) onRecord(walPosition(seq, r.end), decodeBody(r.payload));
    }
    const seq = (segments.at(-1) ?? 0) + 1;
    const current = await RecordAppender.open(join(dir, segmentName(seq)), 0);
    fsyncDir(dir);
    return new WriteAheadLog(dir, options, [...segments, seq], current, seq);
  }

  get currentSegment(): number {
    return this.seq;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  get oldestSegment(): number {
    return this.segments[0] ?? this.seq;
  }

  /** Appends one record; resolves with its position once it is durable. */
  async append(body: Buffer): Promise<WalPosition> {
    if (this.failed) throw this.failed;
    if (this.closed) throw new Error('the log store is closed');
    let payload: Buffer[];
    if (this.options.compress && body.length >= COMPRESS_MIN_BYTES) {
      const packed = await deflateRawAsync(body, { level: 1, chunkSize: Math.max(64 * 1024, body.length) });
      payload = [ENCODING_DEFLATE_BYTE, packed];
    } else {
      payload = [ENCODING_RAW_BYTE, body];
    }
    return new Promise<WalPosition>((resolve, reject) => {
      this.queue.push({ payload, resolve, reject });
      if (!this.flushing) void this.commitLoop();
    });
  }

  private async commitLoop(): Promise<void> {
    this.flushing = true;
    this.idle = new Promise((r) => (this.markIdle = r));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          if (this.failed) throw this.failed;
          if (this.current.size >= this.options.segmentBytes) await this.rotate();
          const ends = await this.current.append(batch.map((w) => w.payload));
          await this.current.sync();
          for (let i = 0; i < batch.length; i++) batch[i]!.resolve(walPosition(this.seq, ends[i]!));
        } catch (err) {
          // An I/O error leaves the segment in an unknown state: refuse further writes rather
          // than acknowledge data that might not be recoverable.
          this.failed ??= new Error(`write-ahead log failed: ${(err as Error).message}`);
          for (const w of batch) w.reject(this.failed);
        }
      }
    } finally {
      this.flushing = false;
      this.markIdle();
    }
  }

  private async rotate(): Promise<void> {
    await this.current.close();
    this.seq += 1;
    this.current = await RecordAppender.open(join(this.dir, segmentName(this.seq)), 0);
    this.segments.push(this.seq);
    fsyncDir(this.dir);
  }

  /** Starts a new segment (when idle) so older ones can be deleted after a full flush. */
  async rotateNow(): Promise<void> {
    while (this.flushing) await this.idle;
    if (this.current.size === 0 || this.failed) return;
    this.flushing = true;
    this.idle = new Promise((r) => (this.markIdle = r));
    try {
      await this.rotate();
    } finally {
      this.flushing = false;
      this.markIdle();
      if (this.queue.length > 0) void this.commitLoop();
    }
  }

  /** Deletes segments older than `seq` (never the current one). */
  removeSegmentsBefore(seq: number): number {
    let removed = 0;
    const keep: number[] = [];
    for (const s of this.segments) {
      if (s < seq && s !== this.seq) {
        unlinkSync(join(this.dir, segmentName(s)));
        removed++;
      } else keep.push(s);
    }
    this.segments = keep;
    if (removed > 0) fsyncDir(this.dir);
    return removed;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.idle;
    await this.current.close();
  }
}

function decodeBody(payload: Buffer): Buffer {
  const encoding = payload[0];
  const body = payload.subarray(1);
  if (encoding === ENCODING_RAW) return body;
  if (encoding === ENCODING_DEFLATE) return inflateRawSync(body);
  throw new Error(`unknown WAL record encoding ${String(encoding)}`);
}
