/**
 * One tenant's TSDB: head + WAL + blocks. Layout under `dir`:
 *   wal/00000001 …, wal/checkpoint.N   (see wal.ts)
 *   blocks/<id>/{meta.json,index,chunks} (see block.ts)
 *
 * Lifecycle of a sample: validated against the head and appended to it, logged to the WAL,
 * acknowledged after the WAL batch is fsync'd; later its chunk is cut into a 2 h block, the head
 * drops it and the WAL segments holding it are replaced by a checkpoint; blocks are compacted
 * into larger ones and deleted whole when they fall out of retention.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { compareLabelSets, labelsKey, type Labels } from '../model/labels.ts';
import type { Matcher } from '../model/matchers.ts';
import { BlockCorruptError, BlockReader, readBlockMeta, type BlockMeta } from './block.ts';
import { ByteWriter, CorruptionError, type ByteReader } from './bytes.ts';
import { loadValue, valueFromBits, valueHi, valueLo } from './chunk.ts';
import {
  SourceBlockError,
  Slicer,
  compactBlocks,
  compactionRanges,
  planCompaction,
  writeHeadBlock,
} from './compact.ts';
import { Head, SERIES_STATE_F64_SLOTS, hashLabels } from './head.ts';
import { silentLogger, type TsdbLogger } from './logger.ts';
import { StringInterner, mergeSeriesData } from './series-util.ts';
import type {
  AppendRequest,
  AppendResult,
  HeadStats,
  Querier,
  SampleRejection,
  SeriesData,
  TenantTsdb,
} from './types.ts';
import {
  REC_SAMPLES,
  REC_SERIES,
  REC_SERIES_STATE,
  WalWriter,
  checkpointName,
  decodeLabels,
  decodeSeriesState,
  encodeSeriesEntry,
  encodeSeriesState,
  frameRecord,
  fsyncDir,
  listWal,
  readWalFile,
  segmentName,
} from './wal.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_SAFE_TIME = 2 ** 52;

export interface TsdbOptions {
  /** The partition's directory (created when missing). */
  readonly dir: string;
  /** For log lines. */
  readonly tenant?: string;
  /** Head block span and the smallest block (default 2 h). */
  readonly blockDurationMs?: number;
  /** Blocks whose end is older than now - retention are deleted (default 15 days). */
  readonly retentionMs?: () => number;
  /** Samples up to this far behind their series' newest sample are accepted (default 0 = off). */
  readonly outOfOrderWindowMs?: () => number;
  /** Largest compacted block (default: 10 % of retention, at most 24 h). */
  readonly maxBlockDurationMs?: () => number;
  readonly logger?: TsdbLogger;
  readonly now?: () => number;
  /** WAL segment size before rolling to the next file (default 64 MiB). */
  readonly walSegmentBytes?: number;
  /** Samples per head chunk (default 120). */
  readonly chunkSamples?: number;
  /** Largest chunk in blocks (default 480: a 2 h block of 15 s samples holds one chunk per series). */
  readonly blockChunkSamples?: number;
  /** Write a checkpoint on close so the next start needs no WAL replay (default true). */
  readonly checkpointOnClose?: boolean;
  /** Called (once until the next maintain()) when the head has grown enough to be cut. */
  readonly onMaintenanceNeeded?: () => void;
}

export interface CorruptBlock {
  readonly id: string;
  readonly dir: string;
  readonly reason: string;
}

export interface WalReplayStats {
  readonly checkpointSeries: number;
  readonly segments: number;
  readonly records: number;
  readonly samples: number;
  readonly durationMs: number;
  readonly repaired: readonly { file: string; offset: number; reason: string }[];
}

class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export class Tsdb implements TenantTsdb {
  readonly dir: string;
  readonly blockDurationMs: number;
  private readonly walDir: string;
  private readonly blocksDir: string;
  private readonly log: TsdbLogger;
  private readonly logCtx: { tenant?: string };
  private readonly now: () => number;
  private readonly retentionMs: () => number;
  private readonly oooWindowMs: () => number;
  private readonly maxBlockDurationMs: () => number;
  private readonly blockChunkSamples: number;

  private readonly head: Head;
  private readonly interner = new StringInterner();
  private blocks: BlockReader[] = [];
  private wal!: WalWriter;
  /** Samples older than this belong to persisted blocks and are refused (`too_old`). */
  private minValidTime = -Infinity;
  private readonly maintenance = new Mutex();
  private maintenanceRequested = false;
  /** After a failed maintenance run, appends do not ask for another one before this time. */
  private maintenanceBackoffUntil = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly corrupt: CorruptBlock[] = [];
  private seriesScratch = new ByteWriter(1 << 12);
  private samplesScratch = new ByteWriter(1 << 16);
  replayStats: WalReplayStats | undefined;

  private constructor(private readonly opts: TsdbOptions) {
    this.dir = opts.dir;
    this.walDir = join(opts.dir, 'wal');
    this.blocksDir = join(opts.dir, 'blocks');
    this.blockDurationMs = opts.blockDurationMs ?? 2 * HOUR;
    if (!(this.blockDurationMs >= 1000))
      throw new RangeError(`blockDurationMs must be at least 1000, got ${this.blockDurationMs}`);
    this.log = opts.logger ?? silentLogger;
    this.logCtx = opts.tenant === undefined ? {} : { tenant: opts.tenant };
    this.now = opts.now ?? Date.now;
    this.retentionMs = opts.retentionMs ?? (() => 15 * DAY);
    this.oooWindowMs = opts.outOfOrderWindowMs ?? (() => 0);
    this.maxBlockDurationMs =
      opts.maxBlockDurationMs ??
      (() => Math.max(this.blockDurationMs, Math.min(DAY, this.retentionMs() / 10)));
    this.blockChunkSamples = opts.blockChunkSamples ?? 480;
    this.head = new Head({ blockDurationMs: this.blockDurationMs, chunkSamples: opts.chunkSamples ?? 120 });
  }

  /** Opens (or creates) a partition: loads blocks, replays the WAL, repairs a torn tail. */
  static async open(opts: TsdbOptions): Promise<Tsdb> {
    const db = new Tsdb(opts);
    try {
      await fsp.mkdir(db.walDir, { recursive: true });
      await fsp.mkdir(db.blocksDir, { recursive: true });
      await db.loadBlocks();
      const nextSegment = await db.replayWal();
      db.wal = await WalWriter.create(db.walDir, nextSegment, opts.walSegmentBytes ?? 64 << 20);
    } catch (err) {
      for (const b of db.blocks) b.close();
      throw err;
    }
    void db.maintenance
      .run(() => db.repackHead())
      .catch((err: unknown) => {
        db.log.error({ ...db.logCtx, err: String(err) }, 'tsdb: re-encoding replayed chunks failed');
      });
    return db;
  }

  // ---- opening ---------------------------------------------------------------------------------

  private async loadBlocks(): Promise<void> {
    const loaded: BlockReader[] = [];
    for (const name of await fsp.readdir(this.blocksDir)) {
      const dir = join(this.blocksDir, name);
      if (name.endsWith('.tmp') || name.endsWith('.deleting')) {
        await fsp.rm(dir, { recursive: true, force: true });
        continue;
      }
      try {
        loaded.push(await BlockReader.open(dir, this.interner));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.reportCorrupt(name, dir, reason);
        // its time range still bounds what the WAL may hold, when meta.json is readable
        const meta = await readBlockMeta(dir).catch(() => undefined);
        if (meta) this.minValidTime = Math.max(this.minValidTime, meta.maxTime);
      }
    }
    // blocks already merged into a compacted block (a crash hit before they were deleted)
    const replaced = new Set(loaded.flatMap((b) => b.meta.compaction.parents));
    for (const b of loaded) {
      if (replaced.has(b.id)) {
        b.close();
        await this.deleteBlockDir(b.dir);
        this.log.info({ ...this.logCtx, block: b.id }, 'tsdb: removed block already compacted into another');
      } else {
        this.blocks.push(b);
        this.minValidTime = Math.max(this.minValidTime, b.meta.maxTime);
      }
    }
    this.sortBlocks();
  }

  private sortBlocks(): void {
    this.blocks.sort((a, b) => a.meta.minTime - b.meta.minTime);
  }

  private reportCorrupt(id: string, dir: string, reason: string): void {
    this.corrupt.push({ id, dir, reason });
    this.log.error({ ...this.logCtx, block: id, dir, reason }, 'tsdb: corrupt block skipped');
  }

  private markCorrupt(block: BlockReader, err: Error): void {
    const i = this.blocks.indexOf(block);
    if (i < 0) return;
    this.blocks.splice(i, 1);
    block.close();
    this.reportCorrupt(block.id, block.dir, err.message);
  }

  /** Replays checkpoint + segments into the head; returns the index for the next segment. */
  private async replayWal(): Promise<number> {
    const started = performance.now();
    const { segments, checkpoints } = await listWal(this.walDir);
    const repaired: { file: string; offset: number; reason: string }[] = [];
    const head = this.head;
    head.beginReplay();
    // closing chunks re-encodes them; during the replay that is deferred to repackHead()
    head.packOnClose = false;
    let checkpointSeries = 0;
    let records = 0;
    let samples = 0;
    let unknownRefs = 0;
    const minValid = this.minValidTime;

    const checkpoint = checkpoints[checkpoints.length - 1];
    if (checkpoint !== undefined) {
      const file = join(this.walDir, checkpointName(checkpoint));
      const problem = await readWalFile(file, (type, r) => {
        records++;
        if (type !== REC_SERIES_STATE) return;
        while (r.remaining > 0) {
          const state = decodeSeriesState(r, SERIES_STATE_F64_SLOTS);
          const hash = hashLabels(state.labels);
          if (head.lookup(state.labels, hash) >= 0) continue;
          head.restore(state, hash);
          checkpointSeries++;
        }
      });
      if (problem) {
        // checkpoints are renamed into place complete; a damaged one is reported, the rest used
        repaired.push({ file, ...problem });
        this.log.error(
          { ...this.logCtx, file, ...problem },
          'tsdb: WAL checkpoint is damaged; using its readable part',
        );
      }
    }

    const bits = new Uint32Array(2);
    const replaySamples = (r: ByteReader): void => {
      const base = r.svarint();
      while (r.remaining > 0) {
        const ref = r.uvarint();
        const t = base + r.svarint();
        r.f64bitsInto(bits, 0);
        samples++;
        const slot = ref < 0x7fffffff ? head.slotOfRef(ref) : -1;
        if (slot < 0) {
          unknownRefs++;
          continue;
        }
        if (t < minValid) continue;
        const hi = bits[1]! | 0;
        const lo = bits[0]! | 0;
        if (t > head.lastTime(slot)) head.append(slot, t, hi, lo);
        else head.insert(slot, t, valueFromBits(hi, lo), hi, lo);
      }
    };
    const replaySeries = (r: ByteReader): void => {
      while (r.remaining > 0) {
        const ref = r.uvarint();
        const labels = decodeLabels(r);
        const hash = hashLabels(labels);
        head.noteRef(ref);
        const slot = head.lookup(labels, hash);
        if (ref >= 0x7fffffff) throw new CorruptionError(`series ref ${ref} out of range`);
        if (slot >= 0) head.mapRef(ref, slot);
        else head.createSeries(labels, hash, ref);
      }
    };

    const toReplay = segments.filter((s) => checkpoint === undefined || s > checkpoint);
    for (let i = 0; i < toReplay.length; i++) {
      const file = join(this.walDir, segmentName(toReplay[i]!));
      const problem = await readWalFile(file, (type, r) => {
        records++;
        if (type === REC_SAMPLES) replaySamples(r);
        else if (type === REC_SERIES) replaySeries(r);
      });
      if (problem) {
        const last = i === toReplay.length - 1;
        repaired.push({ file, ...problem });
        await fsp.truncate(file, problem.offset);
        if (last) {
          this.log.warn(
            { ...this.logCtx, file, offset: problem.offset, reason: problem.reason },
            'tsdb: torn WAL tail repaired (partial record dropped)',
          );
        } else {
          this.log.error(
            { ...this.logCtx, file, offset: problem.offset, reason: problem.reason },
            'tsdb: damaged WAL segment truncated; later segments still replayed',
          );
        }
      }
    }
    head.endReplay();
    head.packOnClose = true;
    if (unknownRefs > 0) {
      this.log.warn({ ...this.logCtx, samples: unknownRefs }, 'tsdb: WAL samples for unknown series skipped');
    }
    if (Number.isFinite(this.minValidTime)) head.truncateBefore(this.minValidTime);
    this.replayStats = {
      checkpointSeries,
      segments: toReplay.length,
      records,
      samples,
      durationMs: performance.now() - started,
      repaired,
    };
    if (records > 0) {
      this.log.info(
        {
          ...this.logCtx,
          series: head.numSeries,
          samples,
          segments: toReplay.length,
          ms: Math.round(this.replayStats.durationMs),
        },
        'tsdb: WAL replayed',
      );
    }
    const highest = Math.max(0, ...segments, ...checkpoints);
    return highest + 1;
  }

  /** Packs the chunks the WAL replay closed in XOR form, in slices, after the partition is open. */
  private async repackHead(): Promise<void> {
    const slicer = new Slicer();
    const batch = 256;
    for (let from = 0; from < this.head.slotCount && !this.closed; from += batch) {
      this.head.repack(from, batch);
      await slicer.maybeYield();
    }
  }

  // ---- appending -------------------------------------------------------------------------------

  async append(request: AppendRequest): Promise<AppendResult> {
    if (this.closed)
      throw new Error(`tsdb${this.opts.tenant ? ` of tenant ${this.opts.tenant}` : ''} is closed`);
    const result = this.applyToHead(request);
    this.checkMaintenanceNeeded();
    // Waits even when nothing new was logged: a retried request whose samples are all
    // duplicates must not be acknowledged before the original batch is durable.
    await this.wal.commit();
    return result;
  }

  /** Validates and applies an append to the head and queues its WAL records (synchronous). */
  private applyToHead(request: AppendRequest): AppendResult {
    for (const s of request.series) {
      for (const smp of s.samples) {
        const t = smp.t;
        if (!Number.isInteger(t) || t > MAX_SAFE_TIME || t < -MAX_SAFE_TIME) {
          throw new TypeError(`sample timestamp ${t} is not an integer millisecond time`);
        }
      }
    }
    const head = this.head;
    const minValid = this.minValidTime;
    const ooo = this.oooWindowMs();
    const seriesRec = this.seriesScratch;
    const samplesRec = this.samplesScratch;
    seriesRec.reset();
    samplesRec.reset();
    let baseT = 0;
    let appended = 0;
    let created = 0;
    const rejected: { labels: Labels; t: number; reason: SampleRejection }[] = [];
    const rejectAll = (
      labels: Labels,
      samples: AppendRequest['series'][number]['samples'],
      reason: SampleRejection,
    ) => {
      for (const smp of samples) rejected.push({ labels, t: smp.t, reason });
    };

    for (const s of request.series) {
      const samples = s.samples;
      if (samples.length === 0) continue;
      const hash = hashLabels(s.labels);
      let slot = head.lookup(s.labels, hash);
      if (slot < 0) {
        let anyRecent = false;
        for (const smp of samples) if (smp.t >= minValid) anyRecent = true;
        if (!anyRecent) {
          rejectAll(s.labels, samples, 'too_old');
          continue;
        }
        if (request.admitNewSeries && !request.admitNewSeries(s.labels)) {
          rejectAll(s.labels, samples, 'series_limit');
          continue;
        }
        slot = head.createSeries(s.labels, hash);
        created++;
        encodeSeriesEntry(seriesRec, head.refOf(slot), s.labels);
      }
      const ref = head.refOf(slot);
      for (const smp of samples) {
        const t = smp.t;
        if (t < minValid) {
          rejected.push({ labels: s.labels, t, reason: 'too_old' });
          continue;
        }
        loadValue(smp.v);
        const hi = valueHi();
        const lo = valueLo();
        const last = head.lastTime(slot);
        if (t > last) {
          head.append(slot, t, hi, lo);
        } else if (t === last) {
          if (!head.lastValueIs(slot, hi, lo))
            rejected.push({ labels: s.labels, t, reason: 'duplicate_sample' });
          continue;
        } else if (ooo > 0 && t >= last - ooo) {
          const outcome = head.insert(slot, t, smp.v, hi, lo);
          if (outcome === 'exists_different')
            rejected.push({ labels: s.labels, t, reason: 'duplicate_sample' });
          if (outcome !== 'inserted') continue;
        } else {
          rejected.push({ labels: s.labels, t, reason: 'out_of_order' });
          continue;
        }
        if (appended === 0) {
          baseT = t;
          samplesRec.svarint(baseT);
        }
        appended++;
        samplesRec.sampleEntry(ref, t - baseT, hi, lo);
      }
    }

    if (seriesRec.pos > 0) this.wal.append(REC_SERIES, seriesRec.bytes());
    if (samplesRec.pos > 0) this.wal.append(REC_SAMPLES, samplesRec.bytes());
    if (samplesRec.buf.length > 8 << 20) this.samplesScratch = new ByteWriter(1 << 16);
    return { samplesAppended: appended, seriesCreated: created, rejected };
  }

  private headNeedsCut(): boolean {
    return this.head.numSeries > 0 && this.head.maxTime - this.head.minTime > this.blockDurationMs * 1.5;
  }

  private checkMaintenanceNeeded(): void {
    if (this.maintenanceRequested || !this.opts.onMaintenanceNeeded || !this.headNeedsCut()) return;
    if (performance.now() < this.maintenanceBackoffUntil) return;
    this.maintenanceRequested = true;
    this.opts.onMaintenanceNeeded();
  }

  // ---- reading ---------------------------------------------------------------------------------

  querier(): Querier {
    return {
      select: (matchers, mint, maxt) => this.select(matchers, mint, maxt),
      labelNames: (matchers, mint, maxt) => this.labelNames(matchers, mint, maxt),
      labelValues: (name, matchers, mint, maxt) => this.labelValues(name, matchers, mint, maxt),
    };
  }

  /** Blocks overlapping [mint, maxt], skipping (and reporting) any found corrupt while reading. */
  private withBlocks(mint: number, maxt: number, fn: (b: BlockReader) => void): void {
    for (const b of [...this.blocks]) {
      if (b.meta.maxTime <= mint || b.meta.minTime > maxt) continue;
      try {
        fn(b);
      } catch (err) {
        if (err instanceof BlockCorruptError) this.markCorrupt(b, err);
        else throw err;
      }
    }
  }

  private select(matchers: readonly Matcher[], mint: number, maxt: number): SeriesData[] {
    const byKey = new Map<string, SeriesData[]>();
    const add = (list: SeriesData[]): void => {
      for (const sd of list) {
        const key = labelsKey(sd.labels);
        const parts = byKey.get(key);
        if (parts) parts.push(sd);
        else byKey.set(key, [sd]);
      }
    };
    this.withBlocks(mint, maxt, (b) => add(b.select(matchers, mint, maxt)));
    add(this.head.select(matchers, mint, maxt));
    const out: SeriesData[] = [];
    for (const parts of byKey.values()) out.push(mergeSeriesData(parts));
    return out.sort((a, b) => compareLabelSets(a.labels, b.labels));
  }

  private headOverlaps(mint: number, maxt: number): boolean {
    return this.head.numSeries > 0 && this.head.maxTime >= mint && this.head.minTime <= maxt;
  }

  private labelNames(matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    const names = new Set<string>();
    if (matchers.length === 0) {
      this.withBlocks(mint, maxt, (b) => {
        for (const n of b.labelNames()) names.add(n);
      });
      if (this.headOverlaps(mint, maxt)) for (const n of this.head.labelNames()) names.add(n);
    } else {
      this.withBlocks(mint, maxt, (b) => {
        for (const labels of b.matchingLabels(matchers)) for (const l of labels) names.add(l.name);
      });
      for (const slot of this.head.matchingSlots(matchers, mint, maxt)) {
        for (const l of this.head.labelsOf(slot)) names.add(l.name);
      }
    }
    return [...names].sort();
  }

  private labelValues(name: string, matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    const values = new Set<string>();
    if (matchers.length === 0) {
      this.withBlocks(mint, maxt, (b) => {
        for (const v of b.labelValues(name)) values.add(v);
      });
      if (this.headOverlaps(mint, maxt)) for (const v of this.head.labelValues(name)) values.add(v);
    } else {
      const addFrom = (labels: Labels): void => {
        for (const l of labels) if (l.name === name) values.add(l.value);
      };
      this.withBlocks(mint, maxt, (b) => {
        for (const labels of b.matchingLabels(matchers)) addFrom(labels);
      });
      for (const slot of this.head.matchingSlots(matchers, mint, maxt)) addFrom(this.head.labelsOf(slot));
    }
    return [...values].sort();
  }

  headStats(): HeadStats {
    return { series: this.head.numSeries, minTime: this.head.minTime, maxTime: this.head.maxTime };
  }

  activeSeriesWith(label: string, value: string): number {
    return this.head.countWith(label, value);
  }

  /** Blocks found corrupt (at open or while reading); they are skipped. */
  get corruptBlocks(): readonly CorruptBlock[] {
    return this.corrupt;
  }

  blockMetas(): BlockMeta[] {
    return this.blocks.map((b) => b.meta);
  }

  /** Bytes held by head chunk buffers. */
  headChunkBytes(): number {
    return this.head.chunkBytes();
  }

  // ---- maintenance -----------------------------------------------------------------------------

  /** Cuts the head into blocks when due, compacts blocks, applies retention. */
  maintain(): Promise<void> {
    return this.maintenance.run(async () => {
      this.maintenanceRequested = false;
      if (this.closed) return;
      try {
        let cut = false;
        while (this.headNeedsCut() && !this.closed) {
          await this.cutOnce();
          cut = true;
        }
        if (cut && !this.closed) await this.checkpoint();
        await this.compactAll();
        await this.applyRetention();
      } catch (err) {
        this.maintenanceBackoffUntil = performance.now() + 30_000;
        throw err;
      }
    });
  }

  /** Cuts the head's oldest block-duration window into a block. */
  private async cutOnce(): Promise<void> {
    const bd = this.blockDurationMs;
    const mint = Math.floor(this.head.minTime / bd) * bd;
    const maxt = mint + bd;
    const started = performance.now();
    // From here on nothing may be added before maxt: the range is being persisted.
    this.minValidTime = Math.max(this.minValidTime, maxt);
    const series = this.head.chunksBefore(maxt);
    const meta = await writeHeadBlock(this.blocksDir, series, mint, maxt, {
      maxChunkSamples: this.blockChunkSamples,
    });
    if (meta) {
      const reader = await BlockReader.open(join(this.blocksDir, meta.id), this.interner);
      this.blocks.push(reader);
      this.sortBlocks();
    }
    const dropped = this.head.truncateBefore(maxt);
    if (meta) {
      this.log.info(
        {
          ...this.logCtx,
          block: meta.id,
          minTime: mint,
          maxTime: maxt,
          series: meta.stats.numSeries,
          samples: meta.stats.numSamples,
          droppedSeries: dropped,
          ms: Math.round(performance.now() - started),
        },
        'tsdb: head block written',
      );
    }
  }

  /**
   * Replaces the WAL segments written so far by a snapshot of the head: rotate, capture the head,
   * write checkpoint.N atomically, delete segments <= N and older checkpoints.
   */
  private async checkpoint(): Promise<void> {
    const ended = await this.wal.rotate();
    const states = this.head.capture();
    const path = join(this.walDir, checkpointName(ended));
    const tmp = `${path}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    try {
      const out = new ByteWriter(1 << 20);
      const body = new ByteWriter(1 << 20);
      const slicer = new Slicer();
      let written = 0;
      for (let i = 0; i < states.length; i++) {
        encodeSeriesState(body, states[i]!);
        if (body.pos > 1 << 20 || i === states.length - 1) {
          frameRecord(out, REC_SERIES_STATE, body.bytes());
          body.reset();
        }
        if (out.pos > 4 << 20 || i === states.length - 1) {
          await fh.write(out.bytes(), 0, out.pos, written);
          written += out.pos;
          out.reset();
        }
        await slicer.maybeYield();
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
    await fsyncDir(this.walDir);
    const { segments, checkpoints } = await listWal(this.walDir);
    for (const s of segments)
      if (s <= ended) await fsp.rm(join(this.walDir, segmentName(s)), { force: true });
    for (const c of checkpoints)
      if (c < ended) await fsp.rm(join(this.walDir, checkpointName(c)), { force: true });
  }

  private async compactAll(): Promise<void> {
    const ranges = compactionRanges(this.blockDurationMs, this.maxBlockDurationMs());
    for (;;) {
      if (this.closed) return;
      const plan = planCompaction(this.blockMetas(), ranges, this.minValidTime);
      if (!plan) return;
      const sources = plan.map((m) => this.blocks.find((b) => b.id === m.id)!);
      const started = performance.now();
      let meta: BlockMeta | undefined;
      try {
        meta = await compactBlocks(this.blocksDir, sources, { maxChunkSamples: this.blockChunkSamples });
      } catch (err) {
        if (err instanceof SourceBlockError) {
          const bad = this.blocks.find((b) => b.id === err.blockId);
          if (bad) this.markCorrupt(bad, err);
          continue;
        }
        throw err;
      }
      const added = meta ? await BlockReader.open(join(this.blocksDir, meta.id), this.interner) : undefined;
      this.blocks = this.blocks.filter((b) => !sources.includes(b));
      if (added) this.blocks.push(added);
      this.sortBlocks();
      for (const b of sources) {
        b.close();
        await this.deleteBlockDir(b.dir);
      }
      this.log.info(
        {
          ...this.logCtx,
          block: meta?.id,
          sources: sources.map((b) => b.id),
          minTime: meta?.minTime,
          maxTime: meta?.maxTime,
          ms: Math.round(performance.now() - started),
        },
        'tsdb: blocks compacted',
      );
    }
  }

  private async applyRetention(): Promise<void> {
    const retention = this.retentionMs();
    if (!(retention > 0)) return;
    const cutoff = this.now() - retention;
    const expired = this.blocks.filter((b) => b.meta.maxTime <= cutoff);
    if (expired.length === 0) return;
    this.blocks = this.blocks.filter((b) => b.meta.maxTime > cutoff);
    for (const b of expired) {
      b.close();
      await this.deleteBlockDir(b.dir);
      this.log.info(
        { ...this.logCtx, block: b.id, maxTime: b.meta.maxTime },
        'tsdb: block dropped by retention',
      );
    }
  }

  private async deleteBlockDir(dir: string): Promise<void> {
    const doomed = `${dir}.deleting`;
    await fsp.rename(dir, doomed);
    await fsp.rm(doomed, { recursive: true, force: true });
  }

  // ---- closing ---------------------------------------------------------------------------------

  /** Flushes the WAL, writes a checkpoint (fast restart) and releases files. */
  close(): Promise<void> {
    this.closing ??= this.shutdown(this.opts.checkpointOnClose ?? true);
    return this.closing;
  }

  private async shutdown(checkpoint: boolean): Promise<void> {
    this.closed = true;
    await this.maintenance.run(async () => {
      try {
        await this.wal.commit();
        if (checkpoint) await this.checkpoint();
      } catch (err) {
        this.log.error(
          { ...this.logCtx, err: String(err) },
          'tsdb: flushing on close failed; the WAL will be replayed',
        );
      }
      await this.wal.close().catch(() => undefined);
      for (const b of this.blocks) b.close();
    });
  }

  /** Closes without a checkpoint and deletes the partition's directory (tenant decommissioned). */
  async destroy(): Promise<void> {
    this.closing ??= this.shutdown(false);
    await this.closing;
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}

export function openTsdb(opts: TsdbOptions): Promise<Tsdb> {
  return Tsdb.open(opts);
}
