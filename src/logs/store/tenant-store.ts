import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Label, Labels } from '../../model/labels.ts';
import { labelsKey } from '../../model/labels.ts';
import type { Matcher } from '../../model/matchers.ts';
import { ByteReader, ByteWriter, CorruptDataError } from './bytes.ts';
import {
  compressChunk,
  decodeChunkPayload,
  decompressChunk,
  defaultLevel,
  encodeChunkPayload,
  type ChunkCodec,
} from './chunk.ts';
import { StreamHead, timeOrder } from './head.ts';
import { Partition, parsePartitionFileName, partitionFileName, type ChunkRef } from './partition.ts';
import { parseRecords, frameRecord, writeFileAtomic } from './record-file.ts';
import { formatStreamLabels, StreamRegistry, type FlushingBlock, type StreamState } from './streams.ts';
import type {
  AppendEntry,
  AppendRequest,
  AppendResult,
  Block,
  BlockSource,
  IndexStats,
  LogQuerier,
  StreamMeta,
  StreamRejection,
  TenantLogStore,
  TenantLogStoreStats,
} from './types.ts';
import { WriteAheadLog, walSegmentOf, type WalPosition } from './wal.ts';

export interface LogStoreOptions {
  /** Width of a time partition; retention drops whole partitions. */
  readonly partitionMs: number;
  /** A head is cut into a chunk once it holds this many line bytes. */
  readonly chunkTargetBytes: number;
  /** ...or once its first entry arrived this long ago (wall clock)... */
  readonly maxChunkAgeMs: number;
  /** ...or once its stream received nothing for this long. */
  readonly chunkIdleMs: number;
  readonly codec: ChunkCodec;
  readonly compressionLevel: number;
  readonly walSegmentBytes: number;
  readonly walCompress: boolean;
  /** Heads whose oldest entry sits this many WAL segments back are cut so segments can go. */
  readonly maxWalSegments: number;
  /** Upper bound on un-chunked line bytes held in memory; the largest heads are cut beyond it. */
  readonly maxHeadBytes: number;
  /** A stream counts as active (for the stream limit) this long after its last entry. */
  readonly activeStreamWindowMs: number;
  /** Minimum spacing of checkpoints (chunk files fsync'd, WAL segments released). */
  readonly checkpointIntervalMs: number;
  /** Background maintenance period; 0 disables the timer (tests drive maintenance by hand). */
  readonly maintenanceIntervalMs: number;
  /** Head cuts compressing at once (each uses a thread-pool thread). */
  readonly cutConcurrency: number;
  readonly onError?: (err: Error) => void;
}

export const DEFAULT_LOG_STORE_OPTIONS: LogStoreOptions = {
  partitionMs: 24 * 3600_000,
  chunkTargetBytes: 1024 * 1024,
  maxChunkAgeMs: 3600_000,
  chunkIdleMs: 5 * 60_000,
  // Raw deflate at level 6: ~9% of raw nginx logs and the fastest decompression of the zlib
  // codecs (brotli 4 compresses to the same size but decompresses slower); see bench/logs.ts.
  codec: 'deflate',
  compressionLevel: defaultLevel('deflate'),
  walSegmentBytes: 64 * 1024 * 1024,
  walCompress: true,
  maxWalSegments: 8,
  maxHeadBytes: 128 * 1024 * 1024,
  activeStreamWindowMs: 3600_000,
  checkpointIntervalMs: 5_000,
  maintenanceIntervalMs: 1_000,
  cutConcurrency: 2,
};

const CHECKPOINT_VERSION = 1;

interface Checkpoint {
  readonly markers: Map<number, WalPosition>;
  readonly lengths: Map<string, number>;
}

function readCheckpoint(path: string): Checkpoint {
  const markers = new Map<number, WalPosition>();
  const lengths = new Map<string, number>();
  if (!existsSync(path)) return { markers, lengths };
  const { records } = parseRecords(readFileSync(path));
  const rec = records[0];
  // The checkpoint is replaced atomically, so a damaged one is real corruption, not a torn write.
  if (!rec) throw new CorruptDataError(`log store checkpoint ${path} is damaged`);
  const r = new ByteReader(rec.payload);
  const version = r.varint();
  if (version !== CHECKPOINT_VERSION) throw new CorruptDataError(`unsupported checkpoint version ${version}`);
  for (let n = r.varint(); n > 0; n--) {
    const start = r.varint();
    const span = r.varint();
    lengths.set(partitionFileName(start, span), r.varint());
  }
  for (let n = r.varint(); n > 0; n--) markers.set(r.varint(), r.varint());
  return { markers, lengths };
}

/** Entries kept so far in one request, by millisecond, to find repeats within the request. */
function pushKept(kept: Map<number, AppendEntry[]>, e: AppendEntry): void {
  const list = kept.get(e.ms);
  if (list) list.push(e);
  else kept.set(e.ms, [e]);
}

function encodeEntries(w: ByteWriter, streamId: number, entries: readonly AppendEntry[]): void {
  w.varint(streamId).varint(entries.length);
  for (const e of entries) {
    w.varint(e.ms).varint(e.ns).blob(e.line);
    const meta = e.meta ?? [];
    w.varint(meta.length);
    for (const l of meta) w.string(l.name).string(l.value);
  }
}

/**
 * One tenant's log store on local disk: stream registry + label index, WAL with group commit,
 * per-stream heads cut into compressed chunks, chunks in time-partition files, and an atomic
 * checkpoint recording what is durable in chunks so the WAL can be released.
 *
 * Crash safety: an append is acknowledged after its WAL record is fsync'd. Chunk files are
 * fsync'd before a checkpoint records their length and each stream's "chunked up to" WAL
 * position; recovery cuts chunk files back to the checkpointed lengths and replays every WAL
 * record past each stream's position, so nothing acknowledged is lost and nothing is doubled.
 */
export class LocalTenantLogStore implements TenantLogStore {
  private readonly partitions = new Map<number, Partition>();
  private readonly opening = new Map<number, Promise<Partition>>();
  private readonly active = new Set<StreamState>();
  /** Per stream: WAL position up to which its entries are in (possibly not yet fsync'd) chunks. */
  private readonly chunkedUpTo = new Map<number, WalPosition>();
  private readonly cutQueue = new Set<StreamState>();
  private readonly listeners = new Set<(stream: StreamMeta, entries: readonly AppendEntry[]) => void>();
  /** Appends between WAL durability and head application, with a lower bound on their segment. */
  private readonly unapplied = new Map<number, number>();
  private unappliedSeq = 0;
  private inflightCuts = 0;
  private cutsIdle: (() => void)[] = [];
  private barrier = false;
  private cutsSinceCheckpoint = 0;
  private lastCheckpoint = 0;
  private checkpointing: Promise<void> | undefined;
  private headBytes = 0;
  private failure: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Opened after the partitions, because replaying it needs to know what is already chunked. */
  private wal!: WriteAheadLog;

  private constructor(
    readonly dir: string,
    readonly options: LogStoreOptions,
    private readonly registry: StreamRegistry,
  ) {}

  static async open(dir: string, options: Partial<LogStoreOptions> = {}): Promise<LocalTenantLogStore> {
    const opts: LogStoreOptions = {
      ...DEFAULT_LOG_STORE_OPTIONS,
      ...(options.codec && options.compressionLevel === undefined
        ? { compressionLevel: defaultLevel(options.codec) }
        : {}),
      ...options,
    };
    mkdirSync(join(dir, 'chunks'), { recursive: true });
    const registry = await StreamRegistry.open(join(dir, 'streams.log'));
    const checkpoint = readCheckpoint(join(dir, 'checkpoint'));
    const store = new LocalTenantLogStore(dir, opts, registry);
    await store.openPartitions(checkpoint);
    for (const [id, pos] of checkpoint.markers) store.chunkedUpTo.set(id, pos);
    store.wal = await WriteAheadLog.open(
      join(dir, 'wal'),
      { segmentBytes: opts.walSegmentBytes, compress: opts.walCompress },
      (pos, body) => store.replay(pos, body, checkpoint.markers),
    );
    if (opts.maintenanceIntervalMs > 0) {
      store.timer = setInterval(() => {
        store.maintenance(Date.now()).catch((err: unknown) => store.reportError(err));
      }, opts.maintenanceIntervalMs);
      store.timer.unref();
    }
    return store;
  }

  private async openPartitions(checkpoint: Checkpoint): Promise<void> {
    const chunkDir = join(this.dir, 'chunks');
    for (const name of readdirSync(chunkDir)) {
      const path = join(chunkDir, name);
      const parsed = parsePartitionFileName(name);
      const committed = checkpoint.lengths.get(name) ?? 0;
      if (!parsed || committed === 0) {
        // Written after the last checkpoint (or a leftover temp file): its data is in the WAL.
        unlinkSync(path);
        continue;
      }
      const p = await Partition.open(
        path,
        parsed.startMs,
        parsed.spanMs,
        Math.min(committed, statSync(path).size),
      );
      this.partitions.set(p.startMs, p);
      for (const ref of p.chunks) {
        const s = this.registry.get(ref.streamId);
        if (s) this.noteNewest(s, ref.maxMs, ref.maxNs);
      }
    }
  }

  private replay(pos: WalPosition, body: Buffer, markers: Map<number, WalPosition>): void {
    const r = new ByteReader(body);
    while (r.remaining > 0) {
      const streamId = r.varint();
      const n = r.varint();
      const state = this.registry.get(streamId);
      const skip = !state || pos <= (markers.get(streamId) ?? 0);
      if (!state)
        this.reportError(
          new CorruptDataError(
            `WAL record at ${pos} names unknown stream ${streamId}; its ${n} entries are skipped`,
          ),
        );
      for (let i = 0; i < n; i++) {
        const ms = r.varint();
        const ns = r.varint();
        const line = r.blob();
        const pairs = r.varint();
        let meta: Label[] | undefined;
        if (pairs > 0) {
          meta = [];
          for (let p = 0; p < pairs; p++) meta.push({ name: r.string(), value: r.string() });
        }
        if (skip || !state) continue;
        this.applyEntry(state, pos, ms, ns, line, meta, 0);
        this.noteNewest(state, ms, ns);
      }
    }
  }

  private noteNewest(s: StreamState, ms: number, ns: number): void {
    if (ms > s.newestMs || (ms === s.newestMs && ns > s.newestNs)) {
      s.newestMs = ms;
      s.newestNs = ns;
    }
  }

  private applyEntry(
    state: StreamState,
    pos: WalPosition,
    ms: number,
    ns: number,
    line: Buffer,
    meta: readonly Label[] | undefined,
    wallMs: number,
  ): void {
    let head = state.head;
    if (!head) {
      head = state.head = new StreamHead(state.id, this.options.chunkTargetBytes);
      head.firstWalSegment = walSegmentOf(pos);
      head.openedAt = wallMs || Date.now();
    }
    head.append(ms, ns, line, meta);
    head.lastWalPos = pos;
    this.headBytes += line.length;
  }

  private reportError(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.options.onError) this.options.onError(e);
  }

  // ---------------------------------------------------------------- writes

  async append(request: AppendRequest): Promise<AppendResult> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('the log store is closed');
    const now = request.nowMs;
    const rejected: StreamRejection[] = [];
    // Merge repeated label sets of one request into one stream.
    const groups = new Map<string, { labels: Labels; entries: AppendEntry[] }>();
    for (const s of request.streams) {
      if (s.entries.length === 0) continue;
      const key = labelsKey(s.labels);
      const g = groups.get(key);
      if (g) g.entries.push(...s.entries);
      else groups.set(key, { labels: s.labels, entries: [...s.entries] });
    }

    // Admission against the active-stream limit, then registration of new streams.
    const admitted: { labels: Labels; entries: AppendEntry[] }[] = [];
    let swept = false;
    let admittedNew = 0;
    for (const g of groups.values()) {
      const existing = this.registry.getByKey(labelsKey(g.labels));
      if (!existing || !this.active.has(existing)) {
        if (this.active.size + admittedNew >= request.maxActiveStreams && !swept) {
          this.sweepActive(now);
          swept = true;
        }
        if (this.active.size + admittedNew >= request.maxActiveStreams) {
          const first = g.entries[0]!;
          rejected.push({
            stream: existing?.text ?? formatStreamLabels(g.labels),
            reason: 'stream_limit',
            count: g.entries.length,
            firstMs: first.ms,
            firstNs: first.ns,
          });
          continue;
        }
        admittedNew++;
      }
      admitted.push(g);
    }
    const newLabelSets = admitted
      .filter((g) => !this.registry.getByKey(labelsKey(g.labels)))
      .map((g) => g.labels);
    let streamsCreated = 0;
    if (newLabelSets.length > 0) {
      await this.registry.create(newLabelSets);
      streamsCreated = newLabelSets.length;
    }
    await this.registry.whenDurable(admitted.map((g) => this.registry.getByKey(labelsKey(g.labels))!.id));

    // Ordering checks against each stream's newest entry; build the WAL record.
    let estimate = 64;
    for (const g of admitted) for (const e of g.entries) estimate += e.line.length + 24;
    const w = new ByteWriter(estimate);
    const accepted: { state: StreamState; entries: AppendEntry[] }[] = [];
    let duplicates = 0;
    let bytes = 0;
    for (const g of admitted) {
      const state = this.registry.getByKey(labelsKey(g.labels))!;
      const keep: AppendEntry[] = [];
      let behind: StreamRejection | undefined;
      let behindCount = 0;
      // Exact repeats (same timestamp and line) are dropped as Loki does, so a client retrying a
      // batch that was in fact stored does not double it. Only entries not newer than the stream's
      // newest one can be repeats; they are looked up in the head and earlier in this request.
      let kept: Map<number, AppendEntry[]> | undefined;
      for (const e of g.entries) {
        if (state.newestMs !== -Infinity) {
          const oldest = state.newestMs - request.outOfOrderWindowMs;
          if (e.ms < oldest) {
            behindCount++;
            behind ??= {
              stream: state.text,
              reason: 'too_far_behind',
              count: 0,
              firstMs: e.ms,
              firstNs: e.ns,
              oldestAcceptableMs: oldest,
            };
            continue;
          }
          if (e.ms < state.newestMs || (e.ms === state.newestMs && e.ns <= state.newestNs)) {
            if (!kept) {
              kept = new Map();
              for (const k of keep) pushKept(kept, k);
            }
            if (
              state.head?.has(e.ms, e.ns, e.line) ||
              kept.get(e.ms)?.some((k) => k.ns === e.ns && k.line.equals(e.line))
            ) {
              duplicates++;
              continue;
            }
          }
        }
        keep.push(e);
        if (kept) pushKept(kept, e);
        this.noteNewest(state, e.ms, e.ns);
        bytes += e.line.length;
      }
      if (behind) rejected.push({ ...behind, count: behindCount });
      state.lastActive = now;
      this.active.add(state);
      if (keep.length > 0) {
        encodeEntries(w, state.id, keep);
        accepted.push({ state, entries: keep });
      }
    }
    const entriesAppended = accepted.reduce((n, a) => n + a.entries.length, 0);
    if (entriesAppended === 0) {
      return { entriesAppended: 0, bytesAppended: 0, duplicates, streamsCreated, rejected };
    }

    const token = ++this.unappliedSeq;
    this.unapplied.set(token, this.wal.currentSegment);
    let pos: WalPosition;
    try {
      pos = await this.wal.append(w.view());
    } finally {
      this.unapplied.delete(token);
    }
    // Durable: make the entries visible (same microtask as the WAL acknowledgement, in WAL order).
    for (const a of accepted) {
      for (const e of a.entries) this.applyEntry(a.state, pos, e.ms, e.ns, e.line, e.meta, now);
      if (a.state.head && a.state.head.rawBytes >= this.options.chunkTargetBytes) this.cutQueue.add(a.state);
    }
    if (this.headBytes > this.options.maxHeadBytes) this.queueLargestHeads();
    if (this.cutQueue.size > 0) this.runCuts();
    if (this.listeners.size > 0) {
      for (const a of accepted) {
        for (const l of this.listeners) {
          try {
            l({ id: a.state.id, labels: a.state.labels, text: a.state.text }, a.entries);
          } catch (err) {
            this.reportError(err);
          }
        }
      }
    }
    return { entriesAppended, bytesAppended: bytes, duplicates, streamsCreated, rejected };
  }

  private sweepActive(now: number): void {
    const cutoff = now - this.options.activeStreamWindowMs;
    for (const s of this.active) if (s.lastActive < cutoff) this.active.delete(s);
  }

  activeStreams(nowMs: number): number {
    this.sweepActive(nowMs);
    return this.active.size;
  }

  private queueLargestHeads(): void {
    const heads = this.registry
      .all()
      .filter((s) => s.head && !this.cutQueue.has(s))
      .sort((a, b) => b.head!.rawBytes - a.head!.rawBytes);
    let excess = this.headBytes - this.options.maxHeadBytes / 2;
    for (const s of heads) {
      if (excess <= 0) break;
      excess -= s.head!.rawBytes;
      this.cutQueue.add(s);
    }
  }

  // ---------------------------------------------------------------- head cuts

  private runCuts(): void {
    while (!this.barrier && this.cutQueue.size > 0 && this.inflightCuts < this.options.cutConcurrency) {
      const state = this.cutQueue.values().next().value as StreamState;
      this.cutQueue.delete(state);
      if (!state.head || state.head.count === 0) continue;
      this.inflightCuts++;
      this.cut(state)
        .catch((err: unknown) => {
          // The entries stay in the WAL; stop accepting writes until a restart replays them.
          this.failure ??= new Error(`log store could not write a chunk: ${(err as Error).message}`);
          this.reportError(err);
        })
        .finally(() => {
          this.inflightCuts--;
          if (this.inflightCuts === 0) for (const r of this.cutsIdle.splice(0)) r();
          this.runCuts();
        });
    }
  }

  private waitForCuts(): Promise<void> {
    if (this.inflightCuts === 0) return Promise.resolve();
    return new Promise((r) => this.cutsIdle.push(r));
  }

  private async cut(state: StreamState): Promise<void> {
    const head = state.head!;
    state.head = null;
    this.headBytes -= head.rawBytes;
    const block = head.snapshot();
    const flushing: FlushingBlock = {
      block,
      minMs: head.minMs,
      maxMs: head.maxMs,
      rawBytes: head.rawBytes,
      firstWalSegment: head.firstWalSegment,
    };
    state.flushing.push(flushing);
    try {
      const order = timeOrder(block);
      const refs: ChunkRef[] = [];
      let i = 0;
      while (i < order.length) {
        const pStart = this.partitionStart(block.ms[order[i]!]!);
        let j = i;
        while (j < order.length && this.partitionStart(block.ms[order[j]!]!) === pStart) j++;
        const sub = order.subarray(i, j);
        const payload = encodeChunkPayload(block, sub);
        const compressed = await compressChunk(this.options.codec, this.options.compressionLevel, payload);
        const first = sub[0]!;
        const last = sub[sub.length - 1]!;
        let rawBytes = 0;
        for (const k of sub) rawBytes += block.starts[k + 1]! - block.starts[k]!;
        const partition = await this.partition(pStart);
        refs.push(
          await partition.appendChunk(
            {
              streamId: state.id,
              count: sub.length,
              minMs: block.ms[first]!,
              minNs: block.ns[first]!,
              maxMs: block.ms[last]!,
              maxNs: block.ns[last]!,
              rawBytes,
              walPos: head.lastWalPos,
              codec: this.options.codec,
            },
            compressed,
          ),
        );
        i = j;
      }
      // Publish all chunks of the cut and retire the in-memory copy in one step, so a query
      // never sees the same entries twice.
      for (const ref of refs) ref.partition.register(ref);
      this.chunkedUpTo.set(state.id, head.lastWalPos);
      this.cutsSinceCheckpoint++;
    } finally {
      state.flushing.splice(state.flushing.indexOf(flushing), 1);
    }
  }

  private partitionStart(ms: number): number {
    return Math.floor(ms / this.options.partitionMs) * this.options.partitionMs;
  }

  private async partition(startMs: number): Promise<Partition> {
    const existing = this.partitions.get(startMs);
    if (existing) return existing;
    let pending = this.opening.get(startMs);
    if (!pending) {
      const path = join(this.dir, 'chunks', partitionFileName(startMs, this.options.partitionMs));
      pending = Partition.open(path, startMs, this.options.partitionMs, 0).then((p) => {
        this.partitions.set(startMs, p);
        this.opening.delete(startMs);
        return p;
      });
      this.opening.set(startMs, pending);
    }
    return pending;
  }

  // ---------------------------------------------------------------- checkpoints & maintenance

  /**
   * Makes chunk files durable, records their lengths and each stream's chunked-up-to position in
   * an atomically replaced checkpoint, then deletes WAL segments no head still needs.
   */
  checkpoint(): Promise<void> {
    this.checkpointing ??= this.doCheckpoint().finally(() => {
      this.checkpointing = undefined;
    });
    return this.checkpointing;
  }

  private async doCheckpoint(): Promise<void> {
    // No cut may be half-written while lengths and markers are captured.
    this.barrier = true;
    try {
      await this.waitForCuts();
      const w = new ByteWriter(1024).varint(CHECKPOINT_VERSION);
      const parts = [...this.partitions.values()];
      const lengths: number[] = [];
      for (const p of parts) lengths.push(await p.sync());
      w.varint(parts.length);
      parts.forEach((p, i) => w.varint(p.startMs).varint(p.spanMs).varint(lengths[i]!));
      w.varint(this.chunkedUpTo.size);
      for (const [id, pos] of this.chunkedUpTo) w.varint(id).varint(pos);
      writeFileAtomic(join(this.dir, 'checkpoint'), frameRecord(w.view()));
      this.cutsSinceCheckpoint = 0;
      this.lastCheckpoint = Date.now();
      let minNeeded = this.wal.currentSegment;
      for (const s of this.registry.all()) {
        if (s.head) minNeeded = Math.min(minNeeded, s.head.firstWalSegment);
        for (const f of s.flushing) minNeeded = Math.min(minNeeded, f.firstWalSegment);
      }
      for (const seg of this.unapplied.values()) minNeeded = Math.min(minNeeded, seg);
      this.wal.removeSegmentsBefore(minNeeded);
    } finally {
      this.barrier = false;
      this.runCuts();
    }
  }

  /** Cuts heads that are old, idle or pinning old WAL segments; checkpoints when due. */
  async maintenance(nowMs: number): Promise<void> {
    if (this.closed || this.failure) return;
    const oldestAllowedSegment = this.wal.currentSegment - this.options.maxWalSegments + 1;
    for (const s of this.registry.all()) {
      const h = s.head;
      if (!h || this.cutQueue.has(s)) continue;
      if (
        h.rawBytes >= this.options.chunkTargetBytes ||
        nowMs - h.openedAt >= this.options.maxChunkAgeMs ||
        nowMs - s.lastActive >= this.options.chunkIdleMs ||
        h.firstWalSegment < oldestAllowedSegment
      ) {
        this.cutQueue.add(s);
      }
    }
    this.runCuts();
    this.sweepActive(nowMs);
    const due = nowMs - this.lastCheckpoint >= this.options.checkpointIntervalMs;
    if (
      (due && (this.cutsSinceCheckpoint > 0 || this.wal.segmentCount > 1)) ||
      this.wal.segmentCount > this.options.maxWalSegments
    ) {
      await this.checkpoint();
    }
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    await this.wal.rotateNow();
    for (const s of this.registry.all()) if (s.head) this.cutQueue.add(s);
    this.runCuts();
    while (this.cutQueue.size > 0 || this.inflightCuts > 0) {
      await this.waitForCuts();
      this.runCuts();
    }
    if (this.failure) throw this.failure;
    await this.checkpoint();
  }

  async applyRetention(nowMs: number, retentionMs: number): Promise<number> {
    const cutoff = nowMs - retentionMs;
    let dropped = 0;
    for (const [start, p] of [...this.partitions]) {
      if (p.endMs <= cutoff) {
        this.partitions.delete(start);
        await p.remove();
        dropped++;
      }
    }
    return dropped;
  }

  // ---------------------------------------------------------------- reads

  subscribe(listener: (stream: StreamMeta, entries: readonly AppendEntry[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  querier(): LogQuerier {
    return {
      streams: (matchers, fromMs, toMs) => this.selectStreams(matchers, fromMs, toMs).map(toMeta),
      blocks: (streamId, fromMs, toMs) => this.blockSources(streamId, fromMs, toMs),
      labelNames: (matchers, fromMs, toMs) => {
        const names = new Set<string>();
        for (const s of this.selectStreams(matchers, fromMs, toMs))
          for (const l of s.labels) names.add(l.name);
        return [...names].sort();
      },
      labelValues: (name, matchers, fromMs, toMs) => {
        const values = new Set<string>();
        for (const s of this.selectStreams(matchers, fromMs, toMs)) {
          for (const l of s.labels) if (l.name === name) values.add(l.value);
        }
        return [...values].sort();
      },
      stats: (matchers, fromMs, toMs) => this.indexStats(matchers, fromMs, toMs),
    };
  }

  private selectStreams(matchers: readonly Matcher[], fromMs: number, toMs: number): StreamState[] {
    return this.registry
      .select(matchers)
      .filter((s) => this.hasData(s, fromMs, toMs))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private hasData(s: StreamState, fromMs: number, toMs: number): boolean {
    const h = s.head;
    if (h && h.count > 0 && h.minMs <= toMs && h.maxMs >= fromMs) return true;
    for (const f of s.flushing) if (f.minMs <= toMs && f.maxMs >= fromMs) return true;
    for (const p of this.partitions.values()) {
      if (p.startMs > toMs || p.endMs <= fromMs) continue;
      const refs = p.byStream.get(s.id);
      if (refs) for (const r of refs) if (r.minMs <= toMs && r.maxMs >= fromMs) return true;
    }
    return false;
  }

  private blockSources(streamId: number, fromMs: number, toMs: number): BlockSource[] {
    const s = this.registry.get(streamId);
    if (!s) return [];
    const out: BlockSource[] = [];
    for (const p of this.partitions.values()) {
      if (p.startMs > toMs || p.endMs <= fromMs) continue;
      const refs = p.byStream.get(streamId);
      if (!refs) continue;
      for (const ref of refs) {
        if (ref.minMs > toMs || ref.maxMs < fromMs) continue;
        out.push({
          minMs: ref.minMs,
          maxMs: ref.maxMs,
          count: ref.count,
          rawBytes: ref.rawBytes,
          compressedBytes: ref.payloadLength,
          load: () => loadChunk(ref),
        });
      }
    }
    for (const f of s.flushing) {
      if (f.minMs > toMs || f.maxMs < fromMs) continue;
      const block = f.block;
      out.push({
        minMs: f.minMs,
        maxMs: f.maxMs,
        count: block.count,
        rawBytes: f.rawBytes,
        compressedBytes: 0,
        load: async () => block,
      });
    }
    const h = s.head;
    if (h && h.count > 0 && h.minMs <= toMs && h.maxMs >= fromMs) {
      const block = h.snapshot();
      out.push({
        minMs: h.minMs,
        maxMs: h.maxMs,
        count: block.count,
        rawBytes: h.rawBytes,
        compressedBytes: 0,
        load: async () => block,
      });
    }
    return out.sort((a, b) => a.minMs - b.minMs);
  }

  private indexStats(matchers: readonly Matcher[], fromMs: number, toMs: number): IndexStats {
    const stats: IndexStats = { streams: 0, chunks: 0, entries: 0, bytes: 0 };
    for (const s of this.selectStreams(matchers, fromMs, toMs)) {
      stats.streams++;
      for (const b of this.blockSources(s.id, fromMs, toMs)) {
        stats.chunks++;
        stats.entries += b.count;
        stats.bytes += b.rawBytes;
      }
    }
    return stats;
  }

  stats(): TenantLogStoreStats {
    let chunks = 0;
    let diskBytes = 0;
    for (const p of this.partitions.values()) {
      chunks += p.chunks.length;
      diskBytes += p.size;
    }
    diskBytes += dirSize(join(this.dir, 'wal'));
    for (const f of ['streams.log', 'checkpoint']) {
      const path = join(this.dir, f);
      if (existsSync(path)) diskBytes += statSync(path).size;
    }
    return {
      streams: this.registry.size,
      activeStreams: this.active.size,
      headBytes: this.headBytes,
      chunks,
      partitions: this.partitions.size,
      walSegments: this.wal.segmentCount,
      diskBytes,
    };
  }

  async close(options: { flush?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if ((options.flush ?? true) && !this.failure) {
      try {
        await this.flush();
      } catch (err) {
        this.reportError(err);
      }
    }
    this.closed = true;
    await this.waitForCuts();
    await this.checkpointing;
    await this.wal.close();
    await this.registry.close();
    for (const p of this.partitions.values()) await p.close();
    this.partitions.clear();
  }
}

function toMeta(s: StreamState): StreamMeta {
  return { id: s.id, labels: s.labels, text: s.text };
}

async function loadChunk(ref: ChunkRef): Promise<Block> {
  const compressed = await ref.partition.readPayload(ref);
  const raw = await decompressChunk(ref.codec, compressed, ref.rawBytes + ref.count * 12 + 64);
  return decodeChunkPayload(ref.streamId, raw, ref.rawBytes);
}

function dirSize(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const f of readdirSync(dir)) total += statSync(join(dir, f)).size;
  return total;
}
