/**
 * Types shared by the prober's parts. `ProbeTarget` is what the control-plane store hands the
 * prober (through `EndpointSource`); everything else is produced by the prober itself.
 */
import type { AppendSeries } from '../tsdb/types.ts';

export type BodyMatchKind = 'keyword' | 'regex';

/** A check on the response body: `negate=false` means "must match", `true` "must not match". */
export interface BodyMatch {
  readonly kind: BodyMatchKind;
  readonly pattern: string;
  readonly negate: boolean;
}

export interface ProbeHeader {
  readonly name: string;
  /** Already decrypted/cleartext: the prober sends it, never logs or stores it. */
  readonly value: string;
  /** Marked secret: dropped on a redirect to another host, never echoed in results. */
  readonly secret: boolean;
}

/** One endpoint to probe, as the control-plane store describes it. */
export interface ProbeTarget {
  readonly id: number;
  readonly tenantId: number;
  /** The tenant's slug: the value of the `tenant` label on every sample. */
  readonly tenantSlug: string;
  readonly name: string;
  readonly url: string;
  /** HTTP method, upper case (GET when empty). */
  readonly method: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  /** Accepted status codes; empty means any 2xx. */
  readonly expectedStatus: readonly number[];
  readonly bodyMatch: BodyMatch | null;
  readonly tlsVerify: boolean;
  readonly followRedirects: boolean;
  readonly headers: readonly ProbeHeader[];
}

/** Where the scheduler gets its work from: the enabled endpoints of every tenant. */
export interface EndpointSource {
  listEnabledEndpoints(): Promise<readonly ProbeTarget[]> | readonly ProbeTarget[];
}

/** Writes one probe's samples into a tenant's TSDB (wired to `TenantTsdb.append` by the server). */
export type ProbeSink = (tenantId: number, series: AppendSeries[]) => Promise<void>;

export type FailureCode =
  | 'invalid_target'
  | 'dns_error'
  | 'refused_address'
  | 'connection_refused'
  | 'connection_error'
  | 'timeout'
  | 'tls_error'
  | 'http_error'
  | 'status_mismatch'
  | 'body_keyword_missing'
  | 'body_keyword_present'
  | 'body_regex_missing'
  | 'body_regex_matched'
  | 'body_regex_invalid'
  | 'redirect_limit'
  | 'redirect_invalid'
  | 'cancelled';

/** Why a probe failed: a stable machine code and a short human sentence (never a secret). */
export interface FailureReason {
  readonly code: FailureCode;
  readonly detail: string;
}

export type ProbePhase = 'resolve' | 'connect' | 'tls' | 'processing' | 'transfer';

export const PROBE_PHASES: readonly ProbePhase[] = ['resolve', 'connect', 'tls', 'processing', 'transfer'];

/** The server certificate facts of the final response (blackbox_exporter's TLS metrics). */
export interface TlsFacts {
  /** "TLS 1.2", "TLS 1.3" … as blackbox_exporter spells it. */
  readonly version: string;
  readonly cipher: string;
  /** Earliest NotAfter over the presented chain, unix seconds. */
  readonly earliestCertExpiry: number;
  /** Latest over verified chains of each chain's earliest NotAfter; null when not verified. */
  readonly lastChainExpiry: number | null;
  /** Set when verification is off but the chain would not have verified (kept for the console). */
  readonly authorizationError: string | null;
  readonly leaf: {
    readonly fingerprintSha256: string;
    readonly subject: string;
    readonly issuer: string;
    readonly subjectAlternative: string;
    readonly serialNumber: string;
  };
}

/** Everything one probe found out. Durations are seconds, timestamps ms. */
export interface ProbeOutcome {
  readonly startedAt: number;
  readonly success: boolean;
  readonly reason: FailureReason | null;
  readonly durationSeconds: number;
  /** Status of the last response received (0 when none). */
  readonly statusCode: number;
  /** 1.1, 1.0 (0 when no response). */
  readonly httpVersion: number;
  /** Content-Length of the final response, -1 when unknown, 0 when no response. */
  readonly contentLength: number;
  /** Bytes of (decoded) body read, at most the read cap. */
  readonly bodyBytes: number;
  readonly bodyTruncated: boolean;
  /** Redirect responses received (followed or not), as blackbox_exporter counts them. */
  readonly redirects: number;
  /** True when the final request went over TLS. */
  readonly ssl: boolean;
  /** null when no body check is configured or the status check failed first. */
  readonly failedDueToRegex: boolean | null;
  /** Summed over all requests of the redirect chain, like blackbox_exporter. */
  readonly phases: Readonly<Record<ProbePhase, number>>;
  /** Duration of the first DNS resolution, seconds (0 for an address literal). */
  readonly dnsLookupSeconds: number;
  /** 4 or 6: the family of the address of the final connection; 0 when none was made. */
  readonly ipProtocol: 0 | 4 | 6;
  readonly finalUrl: string;
  readonly tls: TlsFacts | null;
}

/** A state change of one endpoint (appended to the tenant's probe-events.jsonl). */
export interface ProbeStateEvent {
  /** Probe start time, ms: equals the timestamp of the probe_success sample that changed. */
  readonly t: number;
  readonly endpointId: number;
  readonly state: 'up' | 'down';
  readonly reason: FailureReason | null;
  readonly statusCode: number;
}
