import type { Label } from '../../model/labels.ts';
import type { Block } from './types.ts';

/**
 * The in-memory, not-yet-chunked entries of one stream. Arrays are append-only and replaced (never
 * reused) when they grow or when the head is cut, so a snapshot handed to a query stays valid
 * while appends continue.
 */
export class StreamHead {
  count = 0;
  rawBytes = 0;
  sorted = true;
  minMs = Infinity;
  maxMs = -Infinity;
  private lastMs = -Infinity;
  private lastNs = 0;
  private ms: Float64Array;
  private ns: Uint32Array;
  private starts: Uint32Array;
  private arena: Buffer;
  private meta: (readonly Label[] | undefined)[] | null = null;
  /** WAL segment of the oldest entry held, and position of the newest record applied. */
  firstWalSegment = Infinity;
  lastWalPos = 0;
  /** Wall-clock time the first entry arrived (for the maximum chunk age). */
  openedAt = 0;

  /**
   * `expectedBytes` is the size at which the store cuts a head: once a head has shown it is busy
   * (outgrown its first small buffers) it grows straight to that size instead of doubling, which
   * saves copying most of a chunk's lines several times over.
   */
  constructor(
    readonly streamId: number,
    private readonly expectedBytes = 1024 * 1024,
    capacityEntries = 64,
    capacityBytes = 8192,
  ) {
    this.ms = new Float64Array(capacityEntries);
    this.ns = new Uint32Array(capacityEntries);
    this.starts = new Uint32Array(capacityEntries + 1);
    this.arena = Buffer.allocUnsafe(capacityBytes);
  }

  append(ms: number, ns: number, line: Buffer, meta: readonly Label[] | undefined): void {
    const i = this.count;
    if (i + 1 >= this.ms.length) this.growEntries();
    const start = this.starts[i]!;
    if (start + line.length > this.arena.length) this.growArena(start + line.length);
    line.copy(this.arena, start);
    this.ms[i] = ms;
    this.ns[i] = ns;
    this.starts[i + 1] = start + line.length;
    if (meta && meta.length > 0) {
      this.meta ??= new Array<readonly Label[] | undefined>(i);
      this.meta[i] = meta;
    } else if (this.meta) this.meta[i] = undefined;
    if (ms < this.lastMs || (ms === this.lastMs && ns < this.lastNs)) this.sorted = false;
    else {
      this.lastMs = ms;
      this.lastNs = ns;
    }
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
    this.rawBytes += line.length;
    this.count = i + 1;
  }

  /** Time-sorted entry indices for lookups in an unsorted head, rebuilt when entries were added. */
  private index: Uint32Array | null = null;
  private indexCount = -1;

  /** True when the head already holds an entry with this exact timestamp and line. */
  has(ms: number, ns: number, line: Buffer): boolean {
    const n = this.count;
    let order: Uint32Array | null = null;
    if (!this.sorted) {
      if (this.indexCount !== n) {
        this.index = timeOrder(this.snapshot());
        this.indexCount = n;
      }
      order = this.index;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const j = order ? order[mid]! : mid;
      if (this.ms[j]! < ms || (this.ms[j] === ms && this.ns[j]! < ns)) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < n; k++) {
      const j = order ? order[k]! : k;
      if (this.ms[j] !== ms || this.ns[j] !== ns) break;
      if (this.arena.compare(line, 0, line.length, this.starts[j], this.starts[j + 1]) === 0) return true;
    }
    return false;
  }

  private growEntries(): void {
    const avgLine = this.count > 0 ? this.starts[this.count]! / this.count : 128;
    const expected = Math.ceil((this.expectedBytes * 1.1) / Math.max(16, avgLine));
    const cap = this.ms.length >= 1024 && expected > this.ms.length * 2 ? expected : this.ms.length * 2;
    const ms = new Float64Array(cap);
    ms.set(this.ms);
    const ns = new Uint32Array(cap);
    ns.set(this.ns);
    const starts = new Uint32Array(cap + 1);
    starts.set(this.starts);
    this.ms = ms;
    this.ns = ns;
    this.starts = starts;
  }

  private growArena(need: number): void {
    let cap = this.arena.length * 2;
    if (this.arena.length >= 64 * 1024) cap = Math.max(cap, Math.ceil(this.expectedBytes * 1.1));
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.arena.copy(next, 0, 0, this.starts[this.count]!);
    this.arena = next;
  }

  /** A consistent view of the entries so far (shares memory; appends do not disturb it). */
  snapshot(): Block {
    const n = this.count;
    return {
      streamId: this.streamId,
      count: n,
      ms: this.ms.subarray(0, n),
      ns: this.ns.subarray(0, n),
      starts: this.starts.subarray(0, n + 1),
      lines: this.arena,
      linesEnd: this.starts[n]!,
      meta: this.meta ? this.meta.slice(0, n) : null,
      sorted: this.sorted,
    };
  }
}

/** Indices of a block's entries in time order (stable for equal timestamps). */
export function timeOrder(block: Block): Uint32Array {
  const order = new Uint32Array(block.count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  if (block.sorted) return order;
  const { ms, ns } = block;
  return order.sort((a, b) => ms[a]! - ms[b]! || ns[a]! - ns[b]! || a - b);
}
