import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * Append-only files of framed records: `[u32 payload length][u32 crc32(payload)][payload]`.
 * A crash can leave a torn last record; reading stops at the first record that is incomplete or
 * fails its checksum and reports the length of the valid prefix so the caller can truncate there.
 */
export const RECORD_HEADER_BYTES = 8;

export interface FramedRecord {
  readonly payload: Buffer;
  /** Offset just past this record in the file. */
  readonly end: number;
}

export interface ReadRecordsResult {
  readonly records: FramedRecord[];
  readonly validLength: number;
  readonly fileLength: number;
}

export function frameRecord(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, RECORD_HEADER_BYTES);
  return out;
}

export function parseRecords(data: Buffer): ReadRecordsResult {
  const records: FramedRecord[] = [];
  let pos = 0;
  while (pos + RECORD_HEADER_BYTES <= data.length) {
    const len = data.readUInt32LE(pos);
    const crc = data.readUInt32LE(pos + 4);
    const end = pos + RECORD_HEADER_BYTES + len;
    if (end > data.length) break;
    const payload = data.subarray(pos + RECORD_HEADER_BYTES, end);
    if (crc32(payload) !== crc) break;
    records.push({ payload, end });
    pos = end;
  }
  return { records, validLength: pos, fileLength: data.length };
}

/** Reads a record file, truncating a torn or corrupt tail in place. Missing file = no records. */
export function readRecordFileRepairing(path: string): ReadRecordsResult {
  if (!existsSync(path)) return { records: [], validLength: 0, fileLength: 0 };
  const result = parseRecords(readFileSync(path));
  if (result.validLength < result.fileLength) truncateSync(path, result.validLength);
  return result;
}

/** fsync a directory so that file creations, renames and deletions in it are durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces a file atomically: write to a temp file, fsync, rename over, fsync the directory. */
export function writeFileAtomic(path: string, data: Buffer): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** An append handle on a record file, with explicit durability (`sync`). */
export class RecordAppender {
  private constructor(
    private readonly fh: FileHandle,
    public size: number,
  ) {}

  static async open(path: string, size: number): Promise<RecordAppender> {
    const fh = await open(path, 'a');
    return new RecordAppender(fh, size);
  }

  /**
   * Appends framed records (not yet durable); returns the end offset of each. A record may be
   * given in parts (written back to back, checksummed together) to avoid copying them into one.
   */
  async append(payloads: readonly (Buffer | readonly Buffer[])[]): Promise<number[]> {
    const out: Buffer[] = [];
    const ends: number[] = [];
    let pos = this.size;
    for (const p of payloads) {
      const parts = Buffer.isBuffer(p) ? [p] : p;
      let len = 0;
      let crc = 0;
      for (const part of parts) {
        len += part.length;
        crc = crc32(part, crc);
      }
      const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
      header.writeUInt32LE(len, 0);
      header.writeUInt32LE(crc, 4);
      out.push(header, ...parts);
      pos += RECORD_HEADER_BYTES + len;
      ends.push(pos);
    }
    await writeAll(this.fh, out);
    this.size = pos;
    return ends;
  }

  async sync(): Promise<void> {
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Writes every buffer fully (writev may write partially). */
export async function writeAll(fh: FileHandle, buffers: readonly Buffer[]): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  while (pending.length > 0) {
    const { bytesWritten } = await fh.writev(pending);
    let n = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (n >= b.length) {
        n -= b.length;
        continue;
      }
      rest.push(n > 0 ? b.subarray(n) : b);
      n = 0;
    }
    pending = rest;
  }
}
