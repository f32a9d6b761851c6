import type { PushPrincipal } from '../../auth/principal.ts';
import { enforceLabels, type EnforcementPolicy } from '../../edge/enforce-labels.ts';
import { TokenBucket } from '../../edge/rate-limit.ts';
import { compareLabels, isValidLabelName, type Label } from '../../model/labels.ts';
import { formatStreamLabels } from '../store/streams.ts';
import type { AppendEntry, AppendStream, TenantLogStore } from '../store/types.ts';
import type { DecodedStream } from './decode.ts';
import { parseStreamLabels, StreamLabelsError } from './stream-selector.ts';

/**
 * The Loki distributor's job for one push: validate each stream's labels and entries against the
 * tenant's limits, pin the tenant (and instance) labels, charge the byte-rate limit, and append
 * what is valid. Invalid streams and entries are refused individually (partial success, as Loki
 * does); the answer names every problem with Loki's reason codes.
 */
export type LogRejectionReason =
  | 'invalid_labels'
  | 'missing_labels'
  | 'duplicate_label_names'
  | 'label_name_too_long'
  | 'label_value_too_long'
  | 'max_label_names_per_series'
  | 'label_conflict'
  | 'line_too_long'
  | 'greater_than_max_sample_age'
  | 'too_far_in_future'
  | 'too_far_behind'
  | 'invalid_structured_metadata'
  | 'stream_limit'
  | 'rate_limited';

export interface LogIngestOptions {
  /** What to do with a line over maxLineBytes: refuse the entry (Loki's default) or cut it. */
  readonly lineTooLong: 'refuse' | 'truncate';
  /** Entries older than this (relative to now) are refused: Loki's reject_old_samples_max_age. */
  readonly rejectOldSamplesMaxAgeMs: number;
  /** Out-of-order entries are accepted up to this far behind the stream's newest entry. */
  readonly outOfOrderWindowMs: number;
  /** How many individual problems a refusal message lists. */
  readonly maxErrorsInResponse: number;
}

export const DEFAULT_LOG_INGEST_OPTIONS: LogIngestOptions = {
  lineTooLong: 'refuse',
  rejectOldSamplesMaxAgeMs: 7 * 24 * 3600_000,
  outOfOrderWindowMs: 3600_000,
  maxErrorsInResponse: 10,
};

export interface PushOutcome {
  readonly status: 204 | 400 | 429;
  /** Plain-text body for non-204 answers. */
  readonly body: string;
  readonly retryAfterSeconds?: number;
  readonly entriesAccepted: number;
  readonly bytesAccepted: number;
  /** Entries not stored, by reason (for self-metrics). */
  readonly discarded: ReadonlyMap<LogRejectionReason, number>;
}

interface Problem {
  readonly reason: LogRejectionReason;
  readonly message: string;
}

function rfc3339(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Cuts a line to at most `max` bytes without splitting a UTF-8 sequence. */
export function truncateUtf8(line: Buffer, max: number): Buffer {
  if (line.length <= max) return line;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (line[end]! & 0xc0) === 0x80) end--;
  return line.subarray(0, end);
}

export class LogIngester {
  private readonly buckets = new Map<number, TokenBucket>();

  constructor(
    private readonly policy: EnforcementPolicy,
    private readonly options: LogIngestOptions = DEFAULT_LOG_INGEST_OPTIONS,
    private readonly now: () => number = Date.now,
  ) {}

  async push(
    principal: PushPrincipal,
    decoded: readonly DecodedStream[],
    store: TenantLogStore,
  ): Promise<PushOutcome> {
    const now = this.now();
    const limits = principal.limits;
    const problems: Problem[] = [];
    const discarded = new Map<LogRejectionReason, number>();
    const discard = (reason: LogRejectionReason, n: number, message?: string): void => {
      discarded.set(reason, (discarded.get(reason) ?? 0) + n);
      if (message !== undefined) problems.push({ reason, message });
    };
    const oldest = now - this.options.rejectOldSamplesMaxAgeMs;
    const newest = now + limits.creationGracePeriodMs;

    const streams: AppendStream[] = [];
    let totalEntries = 0;
    let bytes = 0;
    for (let i = 0; i < decoded.length; i++) {
      const d = decoded[i]!;
      totalEntries += d.entries.length;
      const verdict = this.streamLabels(d, principal);
      if (!verdict.ok) {
        discard(verdict.reason, d.entries.length, verdict.message);
        continue;
      }
      const text = formatStreamLabels(verdict.labels);
      const entries: AppendEntry[] = [];
      // One message per reason and stream keeps a flood of bad entries readable.
      const perReason = new Map<LogRejectionReason, { count: number; first: string }>();
      const refuse = (reason: LogRejectionReason, first: string): void => {
        const r = perReason.get(reason);
        if (r) r.count++;
        else perReason.set(reason, { count: 1, first });
      };
      for (const e of d.entries) {
        let line = e.line;
        if (line.length > limits.maxLineBytes) {
          if (this.options.lineTooLong === 'refuse') {
            refuse(
              'line_too_long',
              `entry for stream ${text} at ${rfc3339(e.ms)} is ${line.length} bytes long, over the limit maxLineBytes=${limits.maxLineBytes}`,
            );
            continue;
          }
          line = truncateUtf8(line, limits.maxLineBytes);
        }
        if (e.ms < oldest) {
          refuse(
            'greater_than_max_sample_age',
            `entry for stream ${text} has timestamp too old: ${rfc3339(e.ms)}, oldest acceptable timestamp is ${rfc3339(oldest)}`,
          );
          continue;
        }
        if (e.ms > newest) {
          refuse(
            'too_far_in_future',
            `entry for stream ${text} has timestamp too new: ${rfc3339(e.ms)}, newest acceptable timestamp is ${rfc3339(newest)} (now plus creationGracePeriodMs=${limits.creationGracePeriodMs})`,
          );
          continue;
        }
        if (e.meta) {
          const bad = e.meta.find((m) => !isValidLabelName(m.name));
          if (bad) {
            refuse(
              'invalid_structured_metadata',
              `entry for stream ${text} at ${rfc3339(e.ms)} has structured metadata with an invalid name ${JSON.stringify(bad.name)} (must match [a-zA-Z_][a-zA-Z0-9_]*)`,
            );
            continue;
          }
        }
        entries.push(line === e.line ? e : { ...e, line });
        bytes += line.length;
        if (e.meta) for (const m of e.meta) bytes += m.name.length + m.value.length;
      }
      for (const [reason, r] of perReason) {
        discard(
          reason,
          r.count,
          r.count > 1
            ? `${r.first} (and ${r.count - 1} more entries of this stream for the same reason)`
            : r.first,
        );
      }
      if (entries.length > 0) streams.push({ labels: verdict.labels, entries });
    }

    const accepted = streams.reduce((n, s) => n + s.entries.length, 0);
    if (accepted > 0) {
      let bucket = this.buckets.get(principal.tenantId);
      if (!bucket)
        this.buckets.set(principal.tenantId, (bucket = new TokenBucket(limits.logIngestionBurstBytes, now)));
      const deficit = bucket.deficit(
        bytes,
        limits.logIngestionBytesPerSecond,
        limits.logIngestionBurstBytes,
        now,
      );
      if (deficit > 0) {
        discarded.set('rate_limited', totalEntries);
        const retry = Math.max(1, Math.ceil(deficit / Math.max(1, limits.logIngestionBytesPerSecond)));
        return {
          status: 429,
          body:
            `rate_limited: ingestion rate limit exceeded for tenant "${principal.tenantSlug}" ` +
            `(logIngestionBytesPerSecond=${limits.logIngestionBytesPerSecond}, logIngestionBurstBytes=${limits.logIngestionBurstBytes}) ` +
            `while attempting to ingest ${accepted} lines totaling ${bytes} bytes; nothing from this request was stored, retry later or reduce log volume\n`,
          retryAfterSeconds: retry,
          entriesAccepted: 0,
          bytesAccepted: 0,
          discarded,
        };
      }
      bucket.take(bytes);
    }

    let entriesAccepted = 0;
    let bytesAccepted = 0;
    if (streams.length > 0) {
      const result = await store.append({
        streams,
        outOfOrderWindowMs: this.options.outOfOrderWindowMs,
        maxActiveStreams: limits.maxStreams,
        nowMs: now,
      });
      entriesAccepted = result.entriesAppended;
      bytesAccepted = result.bytesAppended;
      for (const r of result.rejected) {
        const more = r.count > 1 ? ` (${r.count} entries)` : '';
        if (r.reason === 'stream_limit') {
          discard(
            'stream_limit',
            r.count,
            `stream_limit: stream ${r.stream} refused${more}: tenant "${principal.tenantSlug}" already has maxStreams=${limits.maxStreams} active streams; reduce the number of label combinations`,
          );
        } else {
          discard(
            'too_far_behind',
            r.count,
            `entry for stream ${r.stream} at ${rfc3339(r.firstMs)} is too far behind${more}: the oldest acceptable timestamp for this stream is ${rfc3339(r.oldestAcceptableMs ?? 0)} (out-of-order window ${this.options.outOfOrderWindowMs / 1000}s behind its newest entry)`,
          );
        }
      }
    }

    if (problems.length === 0) return { status: 204, body: '', entriesAccepted, bytesAccepted, discarded };
    const refusedEntries = [...discarded.values()].reduce((a, b) => a + b, 0);
    const shown = problems.slice(0, this.options.maxErrorsInResponse);
    const lines = shown.map((p) =>
      p.message.startsWith(`${p.reason}:`) ? p.message : `${p.reason}: ${p.message}`,
    );
    if (problems.length > shown.length) lines.push(`… and ${problems.length - shown.length} more problems`);
    lines.push(
      `total ignored: ${refusedEntries} out of ${totalEntries} entries; the other entries were stored`,
    );
    const status = problems.some((p) => p.reason === 'stream_limit') ? 429 : 400;
    return { status, body: lines.join('\n') + '\n', entriesAccepted, bytesAccepted, discarded };
  }

  private streamLabels(
    d: DecodedStream,
    principal: PushPrincipal,
  ): { ok: true; labels: Label[] } | { ok: false; reason: LogRejectionReason; message: string } {
    const limits = principal.limits;
    const shown = typeof d.labels === 'string' ? d.labels : JSON.stringify(d.labels);
    const fail = (reason: LogRejectionReason, what: string) =>
      ({
        ok: false,
        reason,
        message: `stream ${clip(shown)} refused (${d.entries.length} entries): ${what}`,
      }) as const;
    let raw: Label[];
    if (typeof d.labels === 'string') {
      try {
        raw = parseStreamLabels(d.labels);
      } catch (err) {
        if (err instanceof StreamLabelsError)
          return fail('invalid_labels', `its labels could not be parsed: ${err.message}`);
        throw err;
      }
    } else {
      raw = [];
      for (const [name, value] of Object.entries(d.labels)) {
        if (typeof value !== 'string')
          return fail('invalid_labels', `the value of label "${name}" is not a string`);
        raw.push({ name, value });
      }
    }
    // An empty value means "no such label", as in Prometheus.
    const labels = raw.filter((l) => l.value !== '').sort(compareLabels);
    if (labels.length === 0) return fail('missing_labels', 'at least one label pair is required per stream');
    for (let k = 0; k < labels.length; k++) {
      const { name, value } = labels[k]!;
      if (k > 0 && labels[k - 1]!.name === name)
        return fail('duplicate_label_names', `label name "${name}" appears more than once`);
      if (!isValidLabelName(name))
        return fail(
          'invalid_labels',
          `label name ${JSON.stringify(clip(name))} is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*)`,
        );
      if (name.startsWith('__'))
        return fail(
          'invalid_labels',
          `label name "${clip(name)}" is reserved (names starting with "__" are for internal use)`,
        );
      if (name.length > limits.maxLabelNameLength) {
        return fail(
          'label_name_too_long',
          `label name "${clip(name)}" is ${name.length} characters long, over the limit maxLabelNameLength=${limits.maxLabelNameLength}`,
        );
      }
      if (value.length > limits.maxLabelValueLength && codePoints(value) > limits.maxLabelValueLength) {
        return fail(
          'label_value_too_long',
          `the value of label "${name}" is ${codePoints(value)} characters long, over the limit maxLabelValueLength=${limits.maxLabelValueLength}`,
        );
      }
    }
    const enforced = enforceLabels(labels, principal, this.policy);
    if (!enforced.ok) {
      return fail(
        'label_conflict',
        `it sets ${enforced.label}=${JSON.stringify(enforced.sent)} but this token may only write ${enforced.label}=${JSON.stringify(enforced.enforced)} (label conflict policy "reject")`,
      );
    }
    if (enforced.labels.length > limits.maxLabelNamesPerSeries) {
      return fail(
        'max_label_names_per_series',
        `it has ${enforced.labels.length} labels (counting the enforced ones), over the limit maxLabelNamesPerSeries=${limits.maxLabelNamesPerSeries}`,
      );
    }
    return { ok: true, labels: enforced.labels };
  }

  /** Forgets a tenant's rate-limit bucket (tenant removed). */
  forgetTenant(tenantId: number): void {
    this.buckets.delete(tenantId);
  }
}

function clip(s: string): string {
  return s.length <= 200 ? s : s.slice(0, 200) + '…';
}
