import type { PushPrincipal } from '../auth/principal.ts';
import { METRIC_NAME_LABEL, type Labels } from '../model/labels.ts';

/**
 * Why the edge refused (part of) a push. A closed set: it is a self-metrics label value and what
 * the control plane shows for `irin server check`.
 */
export type RejectionReason =
  // credentials (tenant unknown when counted)
  | 'unauthorized'
  | 'forbidden'
  | 'auth_throttled'
  | 'auth_unavailable'
  // the request as a whole
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'decompressed_too_large'
  | 'empty_body'
  | 'invalid_snappy'
  | 'invalid_protobuf'
  | 'rate_limited'
  | 'server_rate_limited'
  | 'storage_unavailable'
  // one series
  | 'missing_metric_name'
  | 'invalid_metric_name'
  | 'invalid_label_name'
  | 'reserved_label_name'
  | 'duplicate_label_name'
  | 'invalid_label_value'
  | 'max_label_names_per_series'
  | 'label_name_too_long'
  | 'label_value_too_long'
  | 'label_conflict'
  | 'native_histograms_unsupported'
  | 'series_limit'
  | 'server_series_limit'
  // one sample
  | 'too_far_in_future'
  | 'out_of_order'
  | 'duplicate_sample'
  | 'too_old';

/** What onRejection receives (at most once per tenant, server and reason per second). */
export interface RejectionReport {
  readonly tenantId: number;
  readonly serverId?: number;
  /** The HTTP status the push was answered with. */
  readonly status: number;
  readonly reason: RejectionReason;
  readonly message: string;
}

/** `tenant "acme", server "web-1"` or `tenant "acme" (tenant-wide token)`: who a message is about. */
export function describePrincipal(principal: PushPrincipal): string {
  return principal.instance !== undefined
    ? `tenant "${principal.tenantSlug}", server "${principal.instance}"`
    : `tenant "${principal.tenantSlug}" (tenant-wide token)`;
}

const MAX_VALUE_CHARS = 80;
const MAX_SERIES_CHARS = 300;

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max) + `…(${s.length} chars)`;
}

/** A series in Prometheus text form for error messages, with long values clipped. */
export function describeSeries(labels: Labels): string {
  let name = '';
  const parts: string[] = [];
  for (const l of labels) {
    if (l.name === METRIC_NAME_LABEL) name = clip(l.value, MAX_VALUE_CHARS);
    else parts.push(`${clip(l.name, MAX_VALUE_CHARS)}=${JSON.stringify(clip(l.value, MAX_VALUE_CHARS))}`);
  }
  return clip(`${name}{${parts.join(', ')}}`, MAX_SERIES_CHARS);
}

export function describeTimestamp(t: number): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? `${t} ms` : `${d.toISOString()} (${t} ms)`;
}
