/**
 * Turns a probe outcome into samples under blackbox_exporter's metric names, so dashboards and
 * alert rules written for blackbox_exporter work unchanged. Every series carries
 * tenant (slug), instance (the URL), job="probe" and endpoint (the endpoint's name).
 */
import { labelsFromRecord, labelsKey } from '../model/labels.ts';
import type { Labels } from '../model/labels.ts';
import { staleNaN } from '../model/samples.ts';
import type { AppendSeries } from '../tsdb/types.ts';
import { PROBE_PHASES } from './types.ts';
import type { ProbeOutcome, ProbeTarget } from './types.ts';

export const PROBE_JOB = 'probe';

/** The URL without any user:password part (labels are readable by every reader of the tenant). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url;
  }
}

export function baseLabels(target: Pick<ProbeTarget, 'tenantSlug' | 'url' | 'name'>): Record<string, string> {
  return {
    tenant: target.tenantSlug,
    instance: redactUrl(target.url),
    job: PROBE_JOB,
    endpoint: target.name,
  };
}

/** The series (one sample each, at the probe's start time) one probe produces. */
export function outcomeSeries(
  target: Pick<ProbeTarget, 'tenantSlug' | 'url' | 'name'>,
  o: ProbeOutcome,
): AppendSeries[] {
  const base = baseLabels(target);
  const out: AppendSeries[] = [];
  const add = (name: string, v: number, extra: Record<string, string> = {}): void => {
    out.push({
      labels: labelsFromRecord({ ...base, ...extra, __name__: name }),
      samples: [{ t: o.startedAt, v }],
    });
  };
  add('probe_success', o.success ? 1 : 0);
  add('probe_duration_seconds', o.durationSeconds);
  add('probe_dns_lookup_time_seconds', o.dnsLookupSeconds);
  if (o.ipProtocol !== 0) add('probe_ip_protocol', o.ipProtocol);
  add('probe_http_status_code', o.statusCode);
  add('probe_http_content_length', o.contentLength);
  add('probe_http_uncompressed_body_length', o.bodyBytes);
  add('probe_http_redirects', o.redirects);
  add('probe_http_ssl', o.ssl ? 1 : 0);
  add('probe_http_version', o.httpVersion);
  add('probe_failed_due_to_regex', o.failedDueToRegex ? 1 : 0);
  for (const phase of PROBE_PHASES) add('probe_http_duration_seconds', o.phases[phase], { phase });
  if (o.tls) {
    add('probe_ssl_earliest_cert_expiry', o.tls.earliestCertExpiry);
    if (o.tls.lastChainExpiry !== null)
      add('probe_ssl_last_chain_expiry_timestamp_seconds', o.tls.lastChainExpiry);
    add('probe_tls_version_info', 1, { version: o.tls.version });
    if (o.tls.cipher) add('probe_tls_cipher_info', 1, { cipher: o.tls.cipher });
    add('probe_ssl_last_chain_info', 1, {
      fingerprint_sha256: o.tls.leaf.fingerprintSha256,
      subject: o.tls.leaf.subject,
      issuer: o.tls.leaf.issuer,
      subjectalternative: o.tls.leaf.subjectAlternative,
      serialnumber: o.tls.leaf.serialNumber,
    });
  }
  return out;
}

/**
 * Like a Prometheus scrape, a series an endpoint produced last time but not this time (another
 * TLS version, a rotated certificate, TLS gone after a redirect change…) gets a staleness marker,
 * so queries stop returning it at once instead of 5 minutes later.
 */
export function staleSeries(
  previous: readonly Labels[],
  current: readonly AppendSeries[],
  t: number,
): AppendSeries[] {
  const now = new Set(current.map((s) => labelsKey(s.labels)));
  return previous
    .filter((l) => !now.has(labelsKey(l)))
    .map((labels) => ({ labels, samples: [{ t, v: staleNaN() }] }));
}
