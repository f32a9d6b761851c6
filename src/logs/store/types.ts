import type { Label, Labels } from '../../model/labels.ts';
import type { Matcher } from '../../model/matchers.ts';

/**
 * A run of one stream's entries as the query engine sees it: a decoded chunk or a snapshot of the
 * in-memory head. Columns are parallel arrays; `lines` holds every line back to back and
 * `starts[i]..starts[i+1]` delimits line i, so filters can search the whole buffer at once.
 */
export interface Block {
  readonly streamId: number;
  readonly count: number;
  readonly ms: Float64Array;
  readonly ns: Uint32Array;
  readonly starts: Uint32Array;
  readonly lines: Buffer;
  /** End of the last line in `lines` (= starts[count]; known without decoding the columns). */
  readonly linesEnd: number;
  /** Structured metadata per entry; null when no entry of the block has any. */
  readonly meta: readonly (readonly Label[] | undefined)[] | null;
  /** False for head snapshots that received out-of-order entries: the reader must sort. */
  readonly sorted: boolean;
}

/** Where a block comes from, with enough metadata to skip it without loading it. */
export interface BlockSource {
  readonly minMs: number;
  readonly maxMs: number;
  readonly count: number;
  /** Uncompressed line bytes. */
  readonly rawBytes: number;
  /** Bytes read from disk to load it (0 for in-memory blocks). */
  readonly compressedBytes: number;
  load(): Promise<Block>;
}

export interface StreamMeta {
  readonly id: number;
  readonly labels: Labels;
  /** Canonical `{a="b", c="d"}` form. */
  readonly text: string;
}

export interface IndexStats {
  streams: number;
  chunks: number;
  entries: number;
  bytes: number;
}

/**
 * Read access to ONE tenant's log partition. The LogQL engine and the metadata endpoints only ever
 * receive this, for the caller's own tenant (isolation layer 4). Time bounds are inclusive ms.
 */
export interface LogQuerier {
  /** Streams matching every matcher with data overlapping [fromMs, toMs], sorted by labels. */
  streams(matchers: readonly Matcher[], fromMs: number, toMs: number): StreamMeta[];
  /** Blocks of one stream that may hold entries in [fromMs, toMs], ascending by minMs. */
  blocks(streamId: number, fromMs: number, toMs: number): BlockSource[];
  labelNames(matchers: readonly Matcher[], fromMs: number, toMs: number): string[];
  labelValues(name: string, matchers: readonly Matcher[], fromMs: number, toMs: number): string[];
  stats(matchers: readonly Matcher[], fromMs: number, toMs: number): IndexStats;
}

/** One entry to append: nanosecond timestamp as (ms, ns), the raw line bytes, optional metadata. */
export interface AppendEntry {
  readonly ms: number;
  readonly ns: number;
  readonly line: Buffer;
  readonly meta?: readonly Label[] | undefined;
}

export interface AppendStream {
  /** Sorted, validated, enforced labels. */
  readonly labels: Labels;
  readonly entries: readonly AppendEntry[];
}

export type EntryRejection = 'too_far_behind' | 'stream_limit';

export interface AppendRequest {
  readonly streams: readonly AppendStream[];
  /** Entries older than the stream's newest entry minus this are refused (`too_far_behind`). */
  readonly outOfOrderWindowMs: number;
  /** Streams that received nothing recently count as inactive; new or revived streams beyond this are refused. */
  readonly maxActiveStreams: number;
  /** Wall clock for activity tracking (ms). */
  readonly nowMs: number;
}

export interface StreamRejection {
  readonly stream: string;
  readonly reason: EntryRejection;
  readonly count: number;
  /** The first refused entry's timestamp (ms, ns) and the oldest acceptable one, for messages. */
  readonly firstMs: number;
  readonly firstNs: number;
  readonly oldestAcceptableMs?: number;
}

export interface AppendResult {
  readonly entriesAppended: number;
  readonly bytesAppended: number;
  /** Exact repeats of a stream's previous entry (same timestamp and line), dropped silently as Loki does. */
  readonly duplicates: number;
  readonly streamsCreated: number;
  readonly rejected: readonly StreamRejection[];
}

export interface TenantLogStoreStats {
  readonly streams: number;
  readonly activeStreams: number;
  readonly headBytes: number;
  readonly chunks: number;
  readonly partitions: number;
  readonly walSegments: number;
  readonly diskBytes: number;
}

/** One tenant's log store (layer 4 partition). */
export interface TenantLogStore {
  /** Resolves once the accepted entries are in the fsync'd WAL, i.e. safe to acknowledge. */
  append(request: AppendRequest): Promise<AppendResult>;
  querier(): LogQuerier;
  /** Entries appended after this call, for live tailing; returns an unsubscribe function. */
  subscribe(listener: (stream: StreamMeta, entries: readonly AppendEntry[]) => void): () => void;
  /** Number of streams that received entries recently (the active-stream limit counts these). */
  activeStreams(nowMs: number): number;
  stats(): TenantLogStoreStats;
  /** Cuts every head into chunks and checkpoints, so the WAL can be emptied (used on close and by tests). */
  flush(): Promise<void>;
  /** Drops partitions entirely older than the cutoff. */
  applyRetention(nowMs: number, retentionMs: number): Promise<number>;
  close(): Promise<void>;
}
