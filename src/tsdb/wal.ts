/**
 * Write-ahead log: numbered segment files `wal/00000001, …` of checksummed records, plus
 * checkpoints `wal/checkpoint.<N>` that replace every segment <= N with a snapshot of the head.
 *
 * Record frame: [u32 LE payload length][u32 LE CRC-32 of payload][payload]; payload[0] = type.
 * - SERIES:        repeated { uvarint ref, uvarint nLabels, (string name, string value)* }
 * - SAMPLES:       svarint base t, then repeated { uvarint ref, svarint (t - base), 8 raw value bytes }
 * - SERIES_STATE:  (checkpoints) repeated head series states, see encodeSeriesState
 *
 * Group commit: appends encode their records into the pending batch and wait on the batch's
 * promise; one writer loop writes a batch and fdatasyncs it while the next batch accumulates, so
 * concurrent appends share an fsync. A batch that failed to write is kept and written again in
 * front of the next batch, so an acknowledgement always implies every earlier record is durable.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Labels } from '../model/labels.ts';
import { ByteReader, ByteWriter, CorruptionError } from './bytes.ts';
import { crc32 } from './crc32.ts';
import type { HeadSeriesState } from './head.ts';

export const REC_SERIES = 1;
export const REC_SAMPLES = 2;
export const REC_SERIES_STATE = 3;

const FRAME_HEADER = 8;
const SEGMENT_NAME = /^(\d{8})$/;
const CHECKPOINT_NAME = /^checkpoint\.(\d{8})$/;

export function segmentName(index: number): string {
  return String(index).padStart(8, '0');
}

export function checkpointName(index: number): string {
  return `checkpoint.${segmentName(index)}`;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // a batch nobody awaits any more must not become an unhandled rejection
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Appends one framed record (type + body) to a writer. */
export function frameRecord(out: ByteWriter, type: number, body: Uint8Array): void {
  out.ensure(FRAME_HEADER + 1 + body.length);
  const start = out.pos;
  out.pos += FRAME_HEADER;
  out.buf[out.pos++] = type;
  out.buf.set(body, out.pos);
  out.pos += body.length;
  out.putU32le(start, body.length + 1);
  out.putU32le(start + 4, crc32(out.buf.subarray(start + FRAME_HEADER, out.pos)));
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface WalListing {
  segments: number[];
  checkpoints: number[];
}

export async function listWal(dir: string): Promise<WalListing> {
  const segments: number[] = [];
  const checkpoints: number[] = [];
  for (const name of await fsp.readdir(dir)) {
    let m = SEGMENT_NAME.exec(name);
    if (m) segments.push(Number(m[1]));
    else if ((m = CHECKPOINT_NAME.exec(name))) checkpoints.push(Number(m[1]));
    else if (name.endsWith('.tmp')) await fsp.rm(join(dir, name), { force: true });
  }
  segments.sort((a, b) => a - b);
  checkpoints.sort((a, b) => a - b);
  return { segments, checkpoints };
}

export class WalWriter {
  private fh: FileHandle | undefined;
  private size = 0;
  private pending: ByteWriter = new ByteWriter(1 << 16);
  private spare: ByteWriter = new ByteWriter(1 << 16);
  private pendingBatch: Deferred | undefined;
  private inflight: Promise<void> | undefined;
  private carry: Uint8Array | undefined;
  private flushing = false;
  private rotateWaiters: { resolve: (closed: number) => void; reject: (err: unknown) => void }[] = [];
  private closed = false;
  /** Bytes handed to the OS (for stats). */
  bytesWritten = 0;
  fsyncs = 0;

  private constructor(
    private readonly dir: string,
    private segment: number,
    private readonly segmentBytes: number,
  ) {}

  /** Opens a new, empty segment `index` for writing. */
  static async create(dir: string, index: number, segmentBytes: number): Promise<WalWriter> {
    const w = new WalWriter(dir, index, segmentBytes);
    w.fh = await fsp.open(join(dir, segmentName(index)), 'wx');
    await fsyncDir(dir);
    return w;
  }

  get currentSegment(): number {
    return this.segment;
  }

  /** Adds a record to the pending batch; call commit() to wait for it to be durable. */
  append(type: number, body: Uint8Array): void {
    if (this.closed) throw new Error('WAL is closed');
    frameRecord(this.pending, type, body);
  }

  /**
   * Resolves when every record appended so far is on disk (fsync'd). Rejects when writing the
   * batch failed; the records are retried with the next batch.
   */
  commit(): Promise<void> {
    if (this.pending.pos > 0 || this.carry) {
      this.pendingBatch ??= deferred();
      const batch = this.pendingBatch;
      this.startFlushing();
      return batch.promise;
    }
    return this.inflight ?? Promise.resolve();
  }

  /**
   * Ends the current segment and starts the next one. Resolves with the index of the ended
   * segment: every record appended before the call is in a segment <= that index.
   */
  rotate(): Promise<number> {
    if (this.closed) return Promise.reject(new Error('WAL is closed'));
    return new Promise((resolve, reject) => {
      this.rotateWaiters.push({ resolve, reject });
      this.startFlushing();
    });
  }

  /**
   * Starts the writer loop on the next turn of the event loop, so appends arriving in the same
   * turn (e.g. several requests parsed from one socket read) share the first write + fsync.
   */
  private startFlushing(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flushLoop());
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pendingBatch || this.rotateWaiters.length > 0) {
        if (this.pendingBatch) await this.flushBatch();
        if (this.rotateWaiters.length > 0 || this.size >= this.segmentBytes) await this.rotateNow();
      }
    } finally {
      this.flushing = false;
      this.inflight = undefined;
    }
  }

  private async flushBatch(): Promise<void> {
    const batch = this.pending;
    const done = this.pendingBatch!;
    this.pending = this.spare;
    this.pendingBatch = undefined;
    this.inflight = done.promise;
    let data: Uint8Array = batch.bytes();
    if (this.carry) data = Buffer.concat([this.carry, data]);
    try {
      await this.ensureOpen();
      await this.writeAll(data);
      await this.fh!.datasync();
      this.fsyncs++;
      this.size += data.length;
      this.bytesWritten += data.length;
      this.carry = undefined;
      done.resolve();
    } catch (err) {
      // Keep the bytes for the next attempt and cut off whatever part of them reached the file.
      this.carry = Uint8Array.from(data);
      await this.fh?.truncate(this.size).catch(() => undefined);
      done.reject(err);
    }
    batch.reset();
    if (batch.buf.length > 8 << 20) batch.buf = Buffer.allocUnsafe(1 << 16);
    this.spare = batch;
  }

  private async writeAll(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.fh!.write(data, off, data.length - off, this.size + off);
      off += bytesWritten;
    }
  }

  private async rotateNow(): Promise<void> {
    const waiters = this.rotateWaiters;
    this.rotateWaiters = [];
    const ended = this.segment;
    try {
      await this.fh?.close();
      this.fh = undefined;
      this.segment = ended + 1;
      this.size = 0;
      await this.ensureOpen();
      for (const w of waiters) w.resolve(ended);
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }

  /** (Re)opens the current segment for appending, e.g. after a failed rotation. */
  private async ensureOpen(): Promise<void> {
    if (this.fh) return;
    const path = join(this.dir, segmentName(this.segment));
    this.fh = await fsp.open(path, 'a+');
    this.size = (await this.fh.stat()).size;
    await fsyncDir(this.dir);
  }

  /** Waits for pending records to be written, then closes the segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.commit();
    } finally {
      this.closed = true;
      while (this.flushing) await new Promise((r) => setImmediate(r));
      await this.fh?.close();
      this.fh = undefined;
    }
  }
}

// ---- record bodies -------------------------------------------------------------------------------

export function encodeSeriesEntry(out: ByteWriter, ref: number, labels: Labels): void {
  out.uvarint(ref);
  out.uvarint(labels.length);
  for (const l of labels) {
    out.string(l.name);
    out.string(l.value);
  }
}

export function decodeLabels(r: ByteReader): { name: string; value: string }[] {
  const n = r.uvarint();
  if (n > 10_000) throw new CorruptionError(`implausible label count ${n}`);
  const labels = new Array<{ name: string; value: string }>(n);
  for (let i = 0; i < n; i++) labels[i] = { name: r.string(), value: r.string() };
  return labels;
}

export function encodeSeriesState(out: ByteWriter, s: HeadSeriesState): void {
  encodeSeriesEntry(out, s.ref, s.labels);
  for (let i = 0; i < s.f64.length; i++) out.f64raw(s.f64[i]!);
  out.uvarint(s.i32.length);
  for (let i = 0; i < s.i32.length; i++) out.u32le(s.i32[i]!);
  out.uvarint(s.closed.length);
  out.bytesRaw(s.closed);
  out.uvarint(s.open.length);
  out.bytesRaw(s.open);
}

export function decodeSeriesState(r: ByteReader, f64Slots: number): HeadSeriesState {
  const ref = r.uvarint();
  const labels = decodeLabels(r);
  const f64 = new Float64Array(f64Slots);
  const f64Bits = new Uint32Array(f64.buffer);
  for (let i = 0; i < f64Slots; i++) r.f64bitsInto(f64Bits, i * 2);
  const n = r.uvarint();
  if (n > 64) throw new CorruptionError(`implausible state size ${n}`);
  const i32 = new Int32Array(n);
  for (let i = 0; i < n; i++) i32[i] = r.u32le();
  const closed = Uint8Array.from(r.bytes(r.uvarint()));
  const open = Uint8Array.from(r.bytes(r.uvarint()));
  return { ref, labels, closed, open, f64, i32 };
}

// ---- reading ---------------------------------------------------------------------------------

export interface ReadProblem {
  /** Offset of the first byte that could not be used; the file is valid up to here. */
  offset: number;
  reason: string;
}

/**
 * Reads a WAL file record by record, calling onRecord(type, reader over the body). Stops at the
 * first torn or corrupt record and reports where. Yields to the event loop now and then.
 */
export async function readWalFile(
  path: string,
  onRecord: (type: number, body: ByteReader) => void,
): Promise<ReadProblem | undefined> {
  const data = await fsp.readFile(path);
  let pos = 0;
  let lastYield = performance.now();
  while (pos < data.length) {
    if (data.length - pos < FRAME_HEADER) return { offset: pos, reason: 'torn record header at end of file' };
    const len = data.readUInt32LE(pos);
    const crc = data.readUInt32LE(pos + 4);
    if (len === 0) return { offset: pos, reason: 'zero-length record' };
    if (pos + FRAME_HEADER + len > data.length) {
      return {
        offset: pos,
        reason: `torn record: ${len} bytes announced, ${data.length - pos - FRAME_HEADER} present`,
      };
    }
    const bodyStart = pos + FRAME_HEADER;
    if (crc32(data.subarray(bodyStart, bodyStart + len)) !== crc) {
      return { offset: pos, reason: 'record checksum mismatch' };
    }
    try {
      onRecord(data[bodyStart]!, new ByteReader(data, bodyStart + 1, bodyStart + len));
    } catch (err) {
      if (err instanceof CorruptionError) return { offset: pos, reason: `malformed record: ${err.message}` };
      throw err;
    }
    pos = bodyStart + len;
    if (performance.now() - lastYield > 20) {
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
  return undefined;
}
