import type { Labels } from '../model/labels.ts';
import type { Matcher } from '../model/matchers.ts';
import type { TimestampMs } from '../model/samples.ts';

/** One series' samples in a time range, ascending by timestamp. */
export interface SeriesData {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/**
 * Read access to ONE tenant's partition. The PromQL engine and the metadata APIs only ever see
 * this interface, handed to them for the caller's own tenant (isolation layer 4).
 */
export interface Querier {
  /** Series matching every matcher with at least one sample in [mint, maxt] (inclusive), sorted by labels. */
  select(matchers: readonly Matcher[], mint: TimestampMs, maxt: TimestampMs): SeriesData[];
  /** Label names of series matching the matchers (all series when empty) with data in [mint, maxt]. */
  labelNames(matchers: readonly Matcher[], mint: TimestampMs, maxt: TimestampMs): string[];
  /** Values of one label over series matching the matchers with data in [mint, maxt]. */
  labelValues(name: string, matchers: readonly Matcher[], mint: TimestampMs, maxt: TimestampMs): string[];
}

export interface AppendSeries {
  /** Sorted, validated, enforced labels (the edge has done that before the TSDB sees them). */
  readonly labels: Labels;
  readonly samples: readonly { t: TimestampMs; v: number }[];
}

export type SampleRejection = 'out_of_order' | 'duplicate_sample' | 'too_old' | 'series_limit';

export interface AppendRequest {
  readonly series: readonly AppendSeries[];
  /** Asked once per series that does not exist in the head yet; false refuses the series (limit reached). */
  readonly admitNewSeries?: (labels: Labels) => boolean;
}

export interface AppendResult {
  readonly samplesAppended: number;
  readonly seriesCreated: number;
  readonly rejected: readonly { labels: Labels; t: TimestampMs; reason: SampleRejection }[];
}

export interface HeadStats {
  readonly series: number;
  readonly minTime: TimestampMs;
  readonly maxTime: TimestampMs;
}

/** One tenant's time-series database. */
export interface TenantTsdb {
  /** Appends samples; resolves once they are in the WAL on disk (fsync'd), i.e. safe to acknowledge. */
  append(request: AppendRequest): Promise<AppendResult>;
  querier(): Querier;
  headStats(): HeadStats;
  /** Active head series carrying `label=value` (used for per-server series limits on `instance`). */
  activeSeriesWith(label: string, value: string): number;
  close(): Promise<void>;
}
