/**
 * One HTTP(S) probe, timed phase by phase with node's own http/https so every phase is visible:
 * resolve (our guarded lookup), connect (TCP), tls (handshake), processing (request sent → first
 * response byte), transfer (first byte → body read). Semantics follow blackbox_exporter's http
 * prober: phases are summed over a redirect chain (transfer only for the final response), 2xx is
 * success unless status codes are given, body checks run on the final response only.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import vm from 'node:vm';
import zlib from 'node:zlib';
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { guardedLookup, RefusedAddressError, systemResolver } from './address-policy.ts';
import type { AddressPolicy, Resolver } from './address-policy.ts';
import { redactUrl } from './metrics.ts';
import { tlsFacts } from './tls-info.ts';
import type { FailureCode, FailureReason, ProbeOutcome, ProbePhase, ProbeTarget, TlsFacts } from './types.ts';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 10;
const REGEX_TIME_LIMIT_MS = 250;
const MAX_REGEX_LENGTH = 1000;

export interface HttpProbeOptions {
  readonly policy: AddressPolicy;
  /** Bytes of (decoded) body read at most; the rest is not downloaded. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Redirects followed at most; one more is a failure (redirect_limit). Default 10. */
  readonly maxRedirects?: number;
  /** Certificates trusted in addition to node's bundled roots (private CAs, tests). */
  readonly extraCa?: readonly X509Certificate[];
  readonly resolver?: Resolver;
  readonly userAgent?: string;
  /** Aborts the probe (reason `cancelled`), e.g. on shutdown. */
  readonly signal?: AbortSignal;
}

/** The subset of an endpoint a probe needs. */
export type ProbeSpec = Pick<
  ProbeTarget,
  | 'url'
  | 'method'
  | 'timeoutSeconds'
  | 'expectedStatus'
  | 'bodyMatch'
  | 'tlsVerify'
  | 'followRedirects'
  | 'headers'
>;

class ProbeFailure extends Error {
  constructor(
    readonly code: FailureCode,
    detail: string,
  ) {
    super(detail);
  }
}

/** Timestamps (performance.now() ms) of one request of the chain. */
interface HopTimes {
  start: number;
  resolved?: number;
  connected?: number;
  secured?: number;
  firstByte?: number;
  end?: number;
}

interface HopResult {
  readonly response: IncomingMessage;
  readonly socket: Socket;
  readonly tls: TlsFacts | null;
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
const SENSITIVE_ON_HOST_CHANGE = new Set(['authorization', 'cookie', 'cookie2', 'proxy-authorization']);

const TLS_DETAILS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate (incomplete chain?)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'issuer certificate not found among trusted roots',
  UNABLE_TO_GET_ISSUER_CERT: 'issuer certificate not found',
  CERT_REVOKED: 'certificate revoked',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname mismatch',
};

function classifyError(err: unknown, hostname: string): ProbeFailure {
  if (err instanceof ProbeFailure) return err;
  if (err instanceof RefusedAddressError) return new ProbeFailure('refused_address', err.message);
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code ?? '';
  const message = e?.message ?? String(err);
  if (code in TLS_DETAILS) {
    const detail = TLS_DETAILS[code]!;
    return new ProbeFailure(
      'tls_error',
      code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `${detail}: ${e.reason ?? message}` : `${detail} (${code})`,
    );
  }
  if (
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    code === 'ENODATA' ||
    code === 'EAI_FAIL' ||
    code === 'ESERVFAIL'
  ) {
    return new ProbeFailure('dns_error', `cannot resolve ${hostname}: ${code}`);
  }
  if (code === 'ECONNREFUSED')
    return new ProbeFailure('connection_refused', `connection refused by ${hostname}`);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /SSL|TLS|certificate/i.test(message)) {
    return new ProbeFailure('tls_error', message);
  }
  if (code === 'HPE_INVALID_CONSTANT' || code.startsWith('HPE_'))
    return new ProbeFailure('http_error', `malformed HTTP response: ${message}`);
  return new ProbeFailure('connection_error', code ? `${code}: ${message}` : message);
}

function phaseAt(t: HopTimes, isTls: boolean): ProbePhase {
  if (t.resolved === undefined) return 'resolve';
  if (t.connected === undefined) return 'connect';
  if (isTls && t.secured === undefined) return 'tls';
  if (t.firstByte === undefined) return 'processing';
  return 'transfer';
}

/** Tests a body check on what was read; a regex runs under a time limit (user patterns can backtrack). */
function bodyCheck(spec: ProbeSpec, body: string): FailureReason | null {
  const m = spec.bodyMatch;
  if (!m) return null;
  let found: boolean;
  if (m.kind === 'keyword') {
    found = body.includes(m.pattern);
  } else {
    if (m.pattern.length > MAX_REGEX_LENGTH) {
      return { code: 'body_regex_invalid', detail: `regex is longer than ${MAX_REGEX_LENGTH} characters` };
    }
    let re: RegExp;
    try {
      re = new RegExp(m.pattern, 'm');
    } catch (err) {
      return { code: 'body_regex_invalid', detail: `invalid regex: ${(err as Error).message}` };
    }
    try {
      found = vm.runInNewContext('re.test(body)', { re, body }, { timeout: REGEX_TIME_LIMIT_MS }) as boolean;
    } catch {
      return {
        code: 'body_regex_invalid',
        detail: `regex took longer than ${REGEX_TIME_LIMIT_MS} ms on the body`,
      };
    }
  }
  if (m.negate && found) {
    return m.kind === 'keyword'
      ? {
          code: 'body_keyword_present',
          detail: `body contains the forbidden keyword ${JSON.stringify(m.pattern)}`,
        }
      : { code: 'body_regex_matched', detail: `body matches the forbidden regex /${m.pattern}/` };
  }
  if (!m.negate && !found) {
    return m.kind === 'keyword'
      ? {
          code: 'body_keyword_missing',
          detail: `body does not contain the keyword ${JSON.stringify(m.pattern)}`,
        }
      : { code: 'body_regex_missing', detail: `body does not match the regex /${m.pattern}/` };
  }
  return null;
}

function statusOk(spec: ProbeSpec, status: number): boolean {
  return spec.expectedStatus.length > 0
    ? spec.expectedStatus.includes(status)
    : status >= 200 && status < 300;
}

/** Runs one probe. Never throws: every failure ends up in the outcome's reason. */
export async function probeHttp(spec: ProbeSpec, options: HttpProbeOptions): Promise<ProbeOutcome> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const resolver = options.resolver ?? systemResolver;
  const phases: Record<ProbePhase, number> = { resolve: 0, connect: 0, tls: 0, processing: 0, transfer: 0 };
  const hops: { times: HopTimes; isTls: boolean }[] = [];

  let statusCode = 0;
  let httpVersion = 0;
  let contentLength = 0;
  let bodyBytes = 0;
  let bodyTruncated = false;
  let redirects = 0;
  let ssl = false;
  let failedDueToRegex: boolean | null = null;
  let ipProtocol: 0 | 4 | 6 = 0;
  let tlsInfo: TlsFacts | null = null;
  let reason: FailureReason | null = null;
  let url: URL | null = null;

  const controller = new AbortController();
  const timeoutMs = Math.max(1, spec.timeoutSeconds * 1000);
  const timer = setTimeout(() => controller.abort('timeout'), timeoutMs);
  const onOuterAbort = (): void => controller.abort('cancelled');
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) controller.abort('cancelled');

  try {
    try {
      url = new URL(spec.url);
    } catch {
      throw new ProbeFailure('invalid_target', `not a valid URL: ${JSON.stringify(spec.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ProbeFailure('invalid_target', `only http and https URLs can be probed, not ${url.protocol}`);
    }
    let method = (spec.method || 'GET').toUpperCase();
    let headers = spec.headers;
    for (;;) {
      const isTls = url.protocol === 'https:';
      const times: HopTimes = { start: performance.now() };
      hops.push({ times, isTls });
      const hop = await oneRequest(url, method, headers, spec, options, resolver, times, controller.signal);
      const res = hop.response;
      statusCode = res.statusCode ?? 0;
      httpVersion = Number(res.httpVersion) || 0;
      ssl = isTls;
      tlsInfo = hop.tls;
      const family = hop.socket.remoteFamily;
      ipProtocol = family === 'IPv6' ? 6 : family === 'IPv4' ? 4 : ipProtocol;
      const location = res.headers.location;
      if (REDIRECT_CODES.has(statusCode) && location !== undefined) redirects++;
      if (REDIRECT_CODES.has(statusCode) && location !== undefined && spec.followRedirects) {
        res.destroy();
        hop.socket.destroy();
        if (redirects > maxRedirects)
          throw new ProbeFailure('redirect_limit', `more than ${maxRedirects} redirects`);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new ProbeFailure(
            'redirect_invalid',
            `redirect to an invalid location ${JSON.stringify(location)}`,
          );
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          throw new ProbeFailure('redirect_invalid', `redirect to a ${next.protocol} URL`);
        }
        if (next.host !== url.host) {
          headers = headers.filter((h) => !h.secret && !SENSITIVE_ON_HOST_CHANGE.has(h.name.toLowerCase()));
        }
        if (
          statusCode === 303 ||
          ((statusCode === 301 || statusCode === 302) && method !== 'GET' && method !== 'HEAD')
        ) {
          if (method !== 'HEAD') method = 'GET';
        }
        url = next;
        continue;
      }
      contentLength = parseContentLength(res);
      const body = await readBody(res, maxBody, times);
      bodyBytes = body.bytes;
      bodyTruncated = body.truncated;
      hop.socket.destroy();
      if (!statusOk(spec, statusCode)) {
        const wanted = spec.expectedStatus.length > 0 ? spec.expectedStatus.join(', ') : '2xx';
        throw new ProbeFailure('status_mismatch', `status ${statusCode}, expected ${wanted}`);
      }
      if (spec.bodyMatch) {
        const failure = bodyCheck(spec, body.text);
        failedDueToRegex = failure !== null;
        if (failure) throw new ProbeFailure(failure.code, failure.detail);
      }
      break;
    }
  } catch (err) {
    const last = hops[hops.length - 1];
    if (controller.signal.aborted) {
      const phase = last ? phaseAt(last.times, last.isTls) : 'resolve';
      reason =
        controller.signal.reason === 'cancelled'
          ? { code: 'cancelled', detail: `probe cancelled during ${phase}` }
          : { code: 'timeout', detail: `no answer within ${spec.timeoutSeconds} s (stuck in ${phase})` };
    } else {
      const f = classifyError(err, url?.hostname ?? spec.url);
      reason = { code: f.code, detail: f.message };
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }

  hops.forEach(({ times: t, isTls }, i) => {
    if (t.resolved !== undefined) phases.resolve += t.resolved - t.start;
    if (t.connected === undefined || t.resolved === undefined) return;
    phases.connect += t.connected - t.resolved;
    const ready = isTls ? t.secured : t.connected;
    if (isTls && t.secured !== undefined) phases.tls += t.secured - t.connected;
    if (ready === undefined || t.firstByte === undefined) return;
    phases.processing += t.firstByte - ready;
    if (i === hops.length - 1 && t.end !== undefined) phases.transfer += t.end - t.firstByte;
  });
  for (const p of Object.keys(phases) as ProbePhase[]) phases[p] /= 1000;
  const first = hops[0]?.times;
  return {
    startedAt,
    success: reason === null,
    reason,
    durationSeconds: (performance.now() - t0) / 1000,
    statusCode,
    httpVersion,
    contentLength,
    bodyBytes,
    bodyTruncated,
    redirects,
    ssl: ssl && tlsInfo !== null,
    failedDueToRegex,
    phases,
    dnsLookupSeconds: first?.resolved !== undefined ? (first.resolved - first.start) / 1000 : 0,
    ipProtocol,
    finalUrl: redactUrl(url?.href ?? spec.url),
    tls: tlsInfo,
  };
}

function parseContentLength(res: IncomingMessage): number {
  const v = res.headers['content-length'];
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : -1;
}

const contexts = new WeakMap<readonly X509Certificate[], tls.SecureContext>();

/** Node's bundled roots plus the extra CAs, built once per CA list (not once per probe). */
function secureContextWith(extraCa: readonly X509Certificate[]): tls.SecureContext {
  let ctx = contexts.get(extraCa);
  if (!ctx) {
    ctx = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCa.map((c) => c.toString())] });
    contexts.set(extraCa, ctx);
  }
  return ctx;
}

/** One request of the chain; resolves once the response head is in (body not read yet). */
function oneRequest(
  url: URL,
  method: string,
  headers: ProbeSpec['headers'],
  spec: ProbeSpec,
  options: HttpProbeOptions,
  resolver: Resolver,
  times: HopTimes,
  signal: AbortSignal,
): Promise<HopResult> {
  const isTls = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise<HopResult>((resolve, reject) => {
    // net.connect skips `lookup` for address literals, so those are checked here.
    if (net.isIP(hostname)) {
      const refusal = options.policy.check(hostname);
      if (refusal) {
        reject(new RefusedAddressError(hostname, refusal));
        return;
      }
      times.resolved = times.start;
    }
    const outgoing: Record<string, string> = {
      'user-agent': options.userAgent ?? 'Irin-Prober/0.1',
      accept: '*/*',
    };
    // Credentials in the URL (https://user:pass@host/) become basic auth, as browsers and curl do.
    if (url.username && !headers.some((h) => h.name.toLowerCase() === 'authorization')) {
      const cred = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      outgoing.authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
    }
    for (const h of headers) outgoing[h.name.toLowerCase()] = h.value;
    const lookup = guardedLookup(options.policy, resolver, () => {
      times.resolved = performance.now();
    });
    const common = {
      host: hostname,
      port: url.port || (isTls ? 443 : 80),
      path: url.pathname + url.search,
      method,
      headers: outgoing,
      agent: false as const,
      lookup: lookup as unknown as net.LookupFunction,
      signal,
    };
    const extraCa = options.extraCa ?? [];
    const req = isTls
      ? https.request({
          ...common,
          servername: net.isIP(hostname) ? undefined : hostname,
          rejectUnauthorized: spec.tlsVerify,
          ...(extraCa.length > 0 ? { secureContext: secureContextWith(extraCa) } : {}),
        })
      : http.request(common);
    let tlsResult: TlsFacts | null = null;
    req.once('socket', (socket: Socket) => {
      socket.once('connect', () => {
        times.connected = performance.now();
      });
      if (isTls) {
        socket.once('secureConnect', () => {
          times.secured = performance.now();
          tlsResult = tlsFacts(socket as TLSSocket, extraCa);
        });
      }
      socket.once('data', () => {
        times.firstByte ??= performance.now();
      });
    });
    req.once('response', (res: IncomingMessage) => {
      times.firstByte ??= performance.now();
      resolve({ response: res, socket: res.socket, tls: tlsResult });
    });
    req.once('error', reject);
    req.end();
  });
}

/** Reads (and decodes gzip/deflate/br) at most `max` bytes of body; the rest is never downloaded. */
function readBody(
  res: IncomingMessage,
  max: number,
  times: HopTimes,
): Promise<{ text: string; bytes: number; truncated: boolean }> {
  const encoding = String(res.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : null;
  const stream = decoder ? res.pipe(decoder) : res;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const finish = (truncated: boolean): void => {
      if (settled) return;
      settled = true;
      times.end = performance.now();
      resolve({ text: Buffer.concat(chunks).toString('utf8'), bytes, truncated });
    };
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      const room = max - bytes;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      bytes += Math.min(chunk.length, room);
      if (chunk.length > room) {
        finish(true);
        res.destroy();
        decoder?.destroy();
      }
    });
    stream.once('end', () => finish(false));
    stream.once('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    res.once('close', () => {
      if (!settled && !res.complete) {
        settled = true;
        reject(
          Object.assign(new Error('connection closed before the body was complete'), { code: 'ECONNRESET' }),
        );
      }
    });
  });
}
