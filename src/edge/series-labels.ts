import { isUtf8 } from 'node:buffer';
import type { PushPrincipal } from '../auth/principal.ts';
import {
  compareLabels,
  isValidLabelName,
  isValidMetricName,
  METRIC_NAME_LABEL,
  type Label,
  type Labels,
} from '../model/labels.ts';
import { enforceLabels, type EnforcementPolicy } from './enforce-labels.ts';
import { latin1Slice, utf8Slice } from './buffer-strings.ts';
import { describeSeries, type RejectionReason } from './rejections.ts';
import { locateLabels, type DecodedWriteRequest, type RawLabel } from './write-request.ts';

export type SeriesVerdict =
  | { readonly ok: true; readonly labels: Labels }
  | { readonly ok: false; readonly reason: RejectionReason; readonly message: string };

/** Everything a series' validation result depends on; requests sharing it share cached results. */
export interface ValidationContext {
  readonly principal: PushPrincipal;
  readonly policy: EnforcementPolicy;
  readonly cache: ContextCache;
}

/**
 * Validated, enforced label sets of one context keyed by the raw protobuf bytes of the series'
 * labels (read as latin1, a cheap byte-for-byte string). Two generations give an approximate LRU
 * without per-hit bookkeeping: when the young map is full it becomes the old one, and entries
 * still in use are promoted back on their next hit.
 */
export class ContextCache {
  private young = new Map<string, Labels>();
  private old = new Map<string, Labels>();
  lastUsedMs = 0;

  constructor(private readonly generationSize: number) {}

  get(key: string): Labels | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const old = this.old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: string, labels: Labels): void {
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, labels);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

export interface SeriesLabelValidatorOptions {
  /** Cached label sets per context and generation (a context holds up to twice this); 0 turns the cache off. */
  readonly cacheGenerationSize?: number;
  /** Contexts (tenant × server × limits) unused this long are dropped. */
  readonly idleContextMs?: number;
}

/**
 * Turns the label bytes of a decoded series into the label set the TSDB stores: validated as
 * Prometheus and Mimir do, empty values dropped, sorted, tenant (and instance) enforced. Results
 * are cached per context, so steady-state traffic (the same series every scrape interval) skips
 * string decoding and validation entirely.
 */
export class SeriesLabelValidator {
  private readonly contexts = new Map<string, ContextCache>();
  private readonly generationSize: number;
  private readonly idleContextMs: number;
  private lastSweepMs = 0;
  private readonly raw: RawLabel[] = [];
  private readonly interned = new Map<string, string>();

  constructor(options: SeriesLabelValidatorOptions = {}) {
    this.generationSize = options.cacheGenerationSize ?? 50_000;
    this.idleContextMs = options.idleContextMs ?? 10 * 60_000;
  }

  context(principal: PushPrincipal, policy: EnforcementPolicy, nowMs: number): ValidationContext {
    const l = principal.limits;
    const key =
      `${principal.tenantId}\0${principal.tenantSlug}\0${principal.instance ?? ''}\0${policy.tenantLabel}\0` +
      `${policy.onConflict}\0${l.maxLabelNamesPerSeries}\0${l.maxLabelNameLength}\0${l.maxLabelValueLength}`;
    let cache = this.contexts.get(key);
    if (cache === undefined) {
      cache = new ContextCache(this.generationSize);
      this.contexts.set(key, cache);
    }
    cache.lastUsedMs = nowMs;
    if (nowMs - this.lastSweepMs > 60_000) this.sweep(nowMs);
    return { principal, policy, cache };
  }

  /** Number of cached label sets over all contexts (for tests and self-metrics). */
  get cachedSeries(): number {
    let n = 0;
    for (const c of this.contexts.values()) n += c.size;
    return n;
  }

  validate(req: DecodedWriteRequest, i: number, ctx: ValidationContext): SeriesVerdict {
    const start = req.labelsStart[i]!;
    const end = req.labelsEnd[i]!;
    const cacheable = start >= 0 && req.labelsSplit[i] === 0 && this.generationSize > 0;
    let key = '';
    if (cacheable) {
      key = latin1Slice(req.buf, start, end);
      const hit = ctx.cache.get(key);
      if (hit !== undefined) return { ok: true, labels: hit };
    }
    const verdict = this.validateUncached(req.buf, start, end, ctx);
    if (verdict.ok && cacheable) ctx.cache.set(key, verdict.labels);
    return verdict;
  }

  private validateUncached(buf: Buffer, start: number, end: number, ctx: ValidationContext): SeriesVerdict {
    const limits = ctx.principal.limits;
    const n = locateLabels(buf, start, end, this.raw);
    const labels: Label[] = [];
    let badUtf8: string | undefined;
    for (let k = 0; k < n; k++) {
      const r = this.raw[k]!;
      if (r.valueEnd === r.valueStart) continue; // an empty value means "no such label"
      const name = this.decode(buf, r.nameStart, r.nameEnd);
      const value = this.decode(buf, r.valueStart, r.valueEnd);
      if (name === undefined) {
        labels.push({ name: buf.toString('utf8', r.nameStart, r.nameEnd), value: value ?? '' });
        badUtf8 ??= `label name ${JSON.stringify(buf.toString('utf8', r.nameStart, r.nameEnd))} is not valid UTF-8`;
        continue;
      }
      if (value === undefined) {
        labels.push({ name, value: buf.toString('utf8', r.valueStart, r.valueEnd) });
        badUtf8 ??= `the value of label "${name}" is not valid UTF-8`;
        continue;
      }
      labels.push({ name, value });
    }
    let sorted = true;
    for (let k = 1; k < labels.length; k++) {
      if (labels[k - 1]!.name > labels[k]!.name) {
        sorted = false;
        break;
      }
    }
    if (!sorted) labels.sort(compareLabels);

    // Not a closure: tsx's keep-names helper makes per-call closures measurably slow on this path.
    const fail = refusal;
    if (badUtf8 !== undefined) {
      return fail(
        labels,
        badUtf8.startsWith('label name') ? 'invalid_label_name' : 'invalid_label_value',
        badUtf8,
      );
    }

    let metricName: string | undefined;
    for (let k = 0; k < labels.length; k++) {
      const { name, value } = labels[k]!;
      if (k > 0 && labels[k - 1]!.name === name) {
        return fail(labels, 'duplicate_label_name', `label name "${name}" appears more than once`);
      }
      if (name === METRIC_NAME_LABEL) {
        metricName = value;
        continue;
      }
      if (!isValidLabelName(name)) {
        return fail(
          labels,
          'invalid_label_name',
          `label name ${JSON.stringify(clipName(name))} is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*)`,
        );
      }
      if (name.startsWith('__')) {
        return fail(
          labels,
          'reserved_label_name',
          `label name "${clipName(name)}" is reserved (names starting with "__" are for internal use)`,
        );
      }
      if (name.length > limits.maxLabelNameLength) {
        return fail(
          labels,
          'label_name_too_long',
          `label name "${clipName(name)}" is ${name.length} characters long, over the limit maxLabelNameLength=${limits.maxLabelNameLength}`,
        );
      }
      if (value.length > limits.maxLabelValueLength) {
        const chars = codePoints(value);
        if (chars > limits.maxLabelValueLength) {
          return fail(
            labels,
            'label_value_too_long',
            `the value of label "${name}" is ${chars} characters long, over the limit maxLabelValueLength=${limits.maxLabelValueLength}`,
          );
        }
      }
    }
    if (metricName === undefined) {
      return fail(labels, 'missing_metric_name', 'it has no metric name (no __name__ label)');
    }
    if (!isValidMetricName(metricName)) {
      return fail(
        labels,
        'invalid_metric_name',
        `metric name ${JSON.stringify(clipName(metricName))} is invalid (must match [a-zA-Z_:][a-zA-Z0-9_:]*)`,
      );
    }
    if (metricName.length > limits.maxLabelValueLength) {
      return fail(
        labels,
        'label_value_too_long',
        `the metric name is ${metricName.length} characters long, over the limit maxLabelValueLength=${limits.maxLabelValueLength}`,
      );
    }

    const enforced = enforceLabels(labels, ctx.principal, ctx.policy);
    if (!enforced.ok) {
      return fail(
        labels,
        'label_conflict',
        `it sets ${enforced.label}=${JSON.stringify(enforced.sent)} but this token may only write ` +
          `${enforced.label}=${JSON.stringify(enforced.enforced)} (label conflict policy "reject")`,
      );
    }
    const out = enforced.labels;
    if (out.length > limits.maxLabelNamesPerSeries) {
      return fail(
        labels,
        'max_label_names_per_series',
        `it has ${out.length} labels (counting the enforced ${ctx.policy.tenantLabel}` +
          `${ctx.principal.instance !== undefined ? ' and instance labels' : ' label'}), ` +
          `over the limit maxLabelNamesPerSeries=${limits.maxLabelNamesPerSeries}`,
      );
    }
    // Shared by every later request and handed to the TSDB: nobody may mutate them.
    for (let k = 0; k < out.length; k++) Object.freeze(out[k]!);
    return { ok: true, labels: Object.freeze(out) };
  }

  /** UTF-8 bytes to a string, interned when short (names and common values repeat across series); undefined if invalid. */
  private decode(buf: Buffer, start: number, end: number): string | undefined {
    let ascii = true;
    for (let p = start; p < end; p++) {
      if (buf[p]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii && !isUtf8(buf.subarray(start, end))) return undefined;
    const s = ascii ? latin1Slice(buf, start, end) : utf8Slice(buf, start, end);
    if (s.length > 64) return s;
    const known = this.interned.get(s);
    if (known !== undefined) return known;
    if (this.interned.size >= 100_000) this.interned.clear();
    this.interned.set(s, s);
    return s;
  }

  private sweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    for (const [key, cache] of this.contexts) {
      if (nowMs - cache.lastUsedMs > this.idleContextMs) this.contexts.delete(key);
    }
  }
}

function refusal(labels: Labels, reason: RejectionReason, what: string): SeriesVerdict {
  return { ok: false, reason, message: `series ${describeSeries(labels)} refused: ${what}` };
}

function clipName(s: string): string {
  return s.length <= 80 ? s : s.slice(0, 80) + '…';
}

function codePoints(s: string): number {
  let n = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    // A high surrogate followed by a low one is one character.
    if (c >= 0xd800 && c <= 0xdbff && k + 1 < s.length) {
      const d = s.charCodeAt(k + 1);
      if (d >= 0xdc00 && d <= 0xdfff) k++;
    }
    n++;
  }
  return n;
}
