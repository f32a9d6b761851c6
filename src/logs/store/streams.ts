import type { Label, Labels } from '../../model/labels.ts';
import { labelsKey } from '../../model/labels.ts';
import { compileMatcher, type Matcher } from '../../model/matchers.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import type { StreamHead } from './head.ts';
import { readRecordFileRepairing, RecordAppender } from './record-file.ts';
import type { Block } from './types.ts';

/** A head snapshot being compressed into chunks: still visible to queries until the chunks land. */
export interface FlushingBlock {
  readonly block: Block;
  readonly minMs: number;
  readonly maxMs: number;
  readonly rawBytes: number;
  readonly firstWalSegment: number;
}

export interface StreamState {
  readonly id: number;
  readonly labels: Labels;
  readonly key: string;
  /** Canonical `{a="b", c="d"}` text, as Loki prints stream labels. */
  readonly text: string;
  head: StreamHead | null;
  flushing: FlushingBlock[];
  /** Newest accepted timestamp (including entries not yet durable), for the out-of-order window. */
  newestMs: number;
  newestNs: number;
  /** Wall-clock ms of the last append, for the active-stream count. */
  lastActive: number;
}

/** `{a="b", c="d"}` — the Prometheus/Loki text form of a label set. */
export function formatStreamLabels(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

/**
 * Every stream of a tenant with an inverted index (label name → value → stream ids), persisted
 * in an append-only, checksummed `streams.log`.
 */
export class StreamRegistry {
  private readonly byId: (StreamState | undefined)[] = [undefined];
  private readonly byKey = new Map<string, StreamState>();
  private readonly postings = new Map<string, Map<string, number[]>>();
  private appender: RecordAppender | undefined;
  /** Streams registered but not yet fsync'd, with the write that makes them durable. */
  private readonly persisting = new Map<number, Promise<void>>();

  private constructor(private readonly path: string) {}

  static async open(path: string): Promise<StreamRegistry> {
    const reg = new StreamRegistry(path);
    const { records, validLength } = readRecordFileRepairing(path);
    for (const rec of records) {
      const r = new ByteReader(rec.payload);
      const id = r.varint();
      const n = r.varint();
      const labels: Label[] = [];
      for (let i = 0; i < n; i++) labels.push({ name: r.string(), value: r.string() });
      reg.insert(id, labels);
    }
    reg.appender = await RecordAppender.open(path, validLength);
    return reg;
  }

  get size(): number {
    return this.byKey.size;
  }

  get(id: number): StreamState | undefined {
    return this.byId[id];
  }

  getByKey(key: string): StreamState | undefined {
    return this.byKey.get(key);
  }

  all(): StreamState[] {
    return [...this.byKey.values()];
  }

  private insert(id: number, labels: Labels): StreamState {
    const state: StreamState = {
      id,
      labels,
      key: labelsKey(labels),
      text: formatStreamLabels(labels),
      head: null,
      flushing: [],
      newestMs: -Infinity,
      newestNs: 0,
      lastActive: 0,
    };
    this.byId[id] = state;
    this.byKey.set(state.key, state);
    for (const l of labels) {
      let values = this.postings.get(l.name);
      if (!values) this.postings.set(l.name, (values = new Map()));
      let ids = values.get(l.value);
      if (!ids) values.set(l.value, (ids = []));
      ids.push(id);
    }
    return state;
  }

  /** Registers new streams and makes them durable before any WAL record can reference them. */
  async create(labelSets: readonly Labels[]): Promise<StreamState[]> {
    if (!this.appender) throw new Error('stream registry is closed');
    const payloads: Buffer[] = [];
    const created: StreamState[] = [];
    for (const labels of labelSets) {
      const existing = this.byKey.get(labelsKey(labels));
      if (existing) {
        created.push(existing);
        continue;
      }
      const id = this.byId.length;
      const w = new ByteWriter(128).varint(id).varint(labels.length);
      for (const l of labels) w.string(l.name).string(l.value);
      payloads.push(w.toBuffer());
      created.push(this.insert(id, labels));
    }
    if (payloads.length > 0) {
      const appender = this.appender;
      const write = (async () => {
        await appender.append(payloads);
        await appender.sync();
      })();
      const ids = created.filter((c) => !this.persisting.has(c.id)).map((c) => c.id);
      for (const id of ids) this.persisting.set(id, write);
      try {
        await write;
      } finally {
        for (const id of ids) if (this.persisting.get(id) === write) this.persisting.delete(id);
      }
    }
    return created;
  }

  /**
   * Resolves once these streams' definitions are durable. A concurrent append can find a stream
   * another request just registered; its WAL record must not become durable before the stream
   * definition does, or recovery could not attribute it.
   */
  async whenDurable(ids: readonly number[]): Promise<void> {
    for (const id of ids) {
      const p = this.persisting.get(id);
      if (p) await p;
    }
  }

  /** Streams whose labels satisfy every matcher (a missing label reads as ""). */
  select(matchers: readonly Matcher[]): StreamState[] {
    let candidates: number[] | undefined;
    for (const m of matchers) {
      if (m.type !== '=' || m.value === '') continue;
      const ids = this.postings.get(m.name)?.get(m.value) ?? [];
      if (!candidates || ids.length < candidates.length) candidates = ids;
    }
    const tests = matchers.map((m) => ({ name: m.name, test: compileMatcher(m) }));
    const out: StreamState[] = [];
    const consider = (s: StreamState | undefined): void => {
      if (!s) return;
      for (const t of tests) {
        let v = '';
        for (const l of s.labels) {
          if (l.name === t.name) {
            v = l.value;
            break;
          }
        }
        if (!t.test(v)) return;
      }
      out.push(s);
    };
    if (candidates) for (const id of candidates) consider(this.byId[id]);
    else for (const s of this.byKey.values()) consider(s);
    return out;
  }

  async close(): Promise<void> {
    const a = this.appender;
    this.appender = undefined;
    await a?.close();
  }

  /** The file this registry persists to. */
  get file(): string {
    return this.path;
  }
}
