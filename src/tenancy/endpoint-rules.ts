import { ValidationError } from './errors.ts';
import {
  HTTP_METHODS,
  type BodyMatch,
  type EndpointHeaderInput,
  type EndpointInput,
  type HttpMethod,
} from './store.ts';
import { clip } from './validation.ts';

/** The rules for a probe endpoint's settings; every message states the rule. */

export const ENDPOINT_NAME_RULE =
  'an endpoint name is 1-100 characters: a letter or digit, then letters, digits, ".", "_" or "-"';
const ENDPOINT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// eslint-disable-next-line no-control-regex
const HEADER_VALUE_BAD_RE = /[\r\n\u0000]/;
const FORBIDDEN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
]);

export const DEFAULT_INTERVAL_SECONDS = 60;
export const MIN_INTERVAL_SECONDS = 10;
export const MAX_INTERVAL_SECONDS = 86_400;
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const MAX_TIMEOUT_SECONDS = 300;

/** Endpoint settings as given by a caller: everything optional except what has no default. */
export interface EndpointFields {
  name?: string;
  url?: string;
  method?: string;
  intervalSeconds?: number;
  timeoutSeconds?: number;
  expectedStatus?: number[];
  bodyMatch?: { kind: string; pattern: string; negate?: boolean } | null;
  tlsVerify?: boolean;
  followRedirects?: boolean;
  headers?: { name: string; value?: string; secret?: boolean }[];
  enabled?: boolean;
}

export function validateEndpointName(name: string): string {
  if (!ENDPOINT_NAME_RE.test(name))
    throw new ValidationError(`invalid endpoint name "${clip(name)}": ${ENDPOINT_NAME_RULE}`);
  return name;
}

function validateUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(
      `invalid url "${clip(url)}": an endpoint url is an absolute http:// or https:// URL`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ValidationError(
      `invalid url "${clip(url)}": an endpoint url is an absolute http:// or https:// URL`,
    );
  }
  if (parsed.username || parsed.password) {
    throw new ValidationError(
      'an endpoint url may not contain a user name or password: use a secret Authorization header',
    );
  }
  if (url.length > 2048) throw new ValidationError('an endpoint url is at most 2048 characters');
  return parsed.toString();
}

function wholeNumber(value: number, what: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`invalid ${what} ${value}: it is a whole number from ${min} to ${max}`);
  }
  return value;
}

function validateBodyMatch(m: EndpointFields['bodyMatch']): BodyMatch | null {
  if (m === null || m === undefined) return null;
  if (m.kind !== 'keyword' && m.kind !== 'regex') {
    throw new ValidationError(`invalid body match kind "${clip(String(m.kind))}": it is keyword or regex`);
  }
  if (typeof m.pattern !== 'string' || m.pattern.length === 0 || m.pattern.length > 1024) {
    throw new ValidationError('a body match pattern is 1-1024 characters');
  }
  if (m.kind === 'regex') {
    try {
      new RegExp(m.pattern);
    } catch (err) {
      throw new ValidationError(`invalid body match regex: ${(err as Error).message}`);
    }
  }
  return { kind: m.kind, pattern: m.pattern, negate: m.negate ?? false };
}

function validateHeaders(
  headers: NonNullable<EndpointFields['headers']>,
  isUpdate: boolean,
): EndpointHeaderInput[] {
  if (headers.length > 32) throw new ValidationError('an endpoint has at most 32 headers');
  const seen = new Set<string>();
  return headers.map((h) => {
    if (typeof h.name !== 'string' || !HEADER_NAME_RE.test(h.name)) {
      throw new ValidationError(
        `invalid header name "${clip(String(h.name))}": a header name is 1-100 token characters`,
      );
    }
    const lower = h.name.toLowerCase();
    if (FORBIDDEN_HEADERS.has(lower))
      throw new ValidationError(`header "${h.name}" is set by the prober and cannot be configured`);
    if (seen.has(lower)) throw new ValidationError(`header "${h.name}" is given twice`);
    seen.add(lower);
    const secret = h.secret ?? false;
    if (h.value === undefined) {
      // A secret header on update may omit its value to keep the stored one (lists never show it).
      if (secret && isUpdate) return { name: h.name, secret };
      throw new ValidationError(`header "${h.name}" needs a value`);
    }
    if (typeof h.value !== 'string' || h.value.length > 4096 || HEADER_VALUE_BAD_RE.test(h.value)) {
      throw new ValidationError(
        `invalid value for header "${h.name}": at most 4096 characters, no line breaks`,
      );
    }
    return { name: h.name, value: h.value, secret };
  });
}

/**
 * Fills defaults (on create) or merges a patch over the current settings (on update) and checks
 * every rule. The result is what the store saves.
 */
export function buildEndpointInput(fields: EndpointFields, current?: EndpointInput): EndpointInput {
  const merged = { ...current, ...stripUndefined(fields) } as EndpointFields;
  if (merged.name === undefined) throw new ValidationError('an endpoint needs a name');
  if (merged.url === undefined) throw new ValidationError('an endpoint needs a url');
  const method = (merged.method ?? 'GET').toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(method)) {
    throw new ValidationError(
      `invalid method "${clip(method)}": the method is one of ${HTTP_METHODS.join(', ')}`,
    );
  }
  const interval = wholeNumber(
    merged.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS,
    'interval (seconds)',
    MIN_INTERVAL_SECONDS,
    MAX_INTERVAL_SECONDS,
  );
  const timeout = wholeNumber(
    merged.timeoutSeconds ?? Math.min(DEFAULT_TIMEOUT_SECONDS, interval),
    'timeout (seconds)',
    1,
    Math.min(interval, MAX_TIMEOUT_SECONDS),
  );
  const expected = merged.expectedStatus ?? [];
  if (expected.length > 50) throw new ValidationError('at most 50 expected status codes');
  for (const code of expected) wholeNumber(code, 'expected status code', 100, 599);
  return {
    name: validateEndpointName(merged.name),
    url: validateUrl(merged.url),
    method: method as HttpMethod,
    intervalSeconds: interval,
    timeoutSeconds: timeout,
    expectedStatus: [...new Set(expected)].sort((a, b) => a - b),
    bodyMatch: validateBodyMatch(merged.bodyMatch),
    tlsVerify: merged.tlsVerify ?? true,
    followRedirects: merged.followRedirects ?? true,
    headers: validateHeaders(merged.headers ?? [], current !== undefined),
    enabled: merged.enabled ?? true,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
