import type { FastifyRequest } from 'fastify';
import { splitToken } from './credentials.ts';

/**
 * Reads the credential a request presents. Accepted forms (all carry a client id and a secret):
 *   CF-Access-Client-Id: <client id>  +  CF-Access-Client-Secret: <secret>   (Cloudflare Access)
 *   Authorization: Bearer <client id>.<secret>
 *   Authorization: Basic base64(<client id>:<secret>)
 * and, for reads only, the console's `irin_session` cookie.
 *
 * Raw header lines are used rather than Node's parsed `headers`, because Node silently keeps only
 * the first of duplicated `Authorization` headers and joins duplicated custom headers with commas:
 * a request naming two different credentials must be refused as ambiguous, not resolved by
 * whichever copy a parser happened to keep. The same credential sent twice (say, CF headers and a
 * Bearer header from an agent configured both ways) is not ambiguous and is accepted.
 */
export type Extracted =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'credential';
      readonly clientId: string;
      readonly secret: string;
      readonly schemes: readonly string[];
    }
  | { readonly kind: 'session'; readonly token: string }
  /** Malformed or ambiguous. `clientId` is set when one id was named (for the audit log, if well-formed). */
  | { readonly kind: 'invalid'; readonly reason: string; readonly clientId?: string };

export const SESSION_COOKIE = 'irin_session';

interface Candidate {
  scheme: string;
  clientId: string;
  secret: string;
}

/** Header values by lower-cased name, every occurrence kept, from the raw header lines. */
export function headerLines(request: Pick<FastifyRequest, 'raw' | 'headers'>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  };
  const raw = request.raw?.rawHeaders;
  if (Array.isArray(raw) && raw.length > 0) {
    for (let i = 0; i + 1 < raw.length; i += 2) add(raw[i]!, raw[i + 1]!);
    return out;
  }
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (Array.isArray(value)) value.forEach((v) => add(name, v));
    else if (typeof value === 'string') add(name, value);
  }
  return out;
}

function fromAuthorization(value: string): Candidate | { invalid: string } {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(value);
  if (!m) return { invalid: 'malformed Authorization header' };
  const scheme = m[1]!.toLowerCase();
  const param = m[2]!;
  if (scheme === 'bearer') {
    const parts = splitToken(param);
    if (!parts) return { invalid: 'malformed bearer token (expected <client id>.<secret>)' };
    return { scheme: 'bearer', ...parts };
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(param, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return { invalid: 'malformed basic credentials (expected <client id>:<secret>)' };
    return { scheme: 'basic', clientId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  return { invalid: `unsupported Authorization scheme "${m[1]!.slice(0, 20)}"` };
}

function cookieValues(cookieHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (const header of cookieHeaders) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      if (part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
    }
  }
  return values;
}

export function extractCredential(
  request: Pick<FastifyRequest, 'raw' | 'headers'>,
  allowSession: boolean,
): Extracted {
  const headers = headerLines(request);
  const candidates: Candidate[] = [];

  const ids = [...new Set(headers.get('cf-access-client-id') ?? [])];
  const secrets = [...new Set(headers.get('cf-access-client-secret') ?? [])];
  if (ids.length > 1)
    return { kind: 'invalid', reason: 'ambiguous credentials: several CF-Access-Client-Id values' };
  if (secrets.length > 1)
    return {
      kind: 'invalid',
      reason: 'ambiguous credentials: several CF-Access-Client-Secret values',
      clientId: ids[0]!,
    };
  if (ids.length !== secrets.length) {
    return {
      kind: 'invalid',
      reason: 'CF-Access-Client-Id and CF-Access-Client-Secret must be sent together',
      ...(ids[0] ? { clientId: ids[0] } : {}),
    };
  }
  if (ids.length === 1)
    candidates.push({ scheme: 'cf-access', clientId: ids[0]!.trim(), secret: secrets[0]!.trim() });

  for (const value of headers.get('authorization') ?? []) {
    const c = fromAuthorization(value);
    if ('invalid' in c) return { kind: 'invalid', reason: c.invalid };
    candidates.push(c);
  }

  if (candidates.length > 0) {
    const first = candidates[0]!;
    for (const c of candidates.slice(1)) {
      if (c.clientId !== first.clientId)
        return { kind: 'invalid', reason: 'ambiguous credentials: several client ids' };
      if (c.secret !== first.secret) {
        return {
          kind: 'invalid',
          reason: 'ambiguous credentials: conflicting secrets',
          clientId: first.clientId,
        };
      }
    }
    return {
      kind: 'credential',
      clientId: first.clientId,
      secret: first.secret,
      schemes: candidates.map((c) => c.scheme),
    };
  }

  if (allowSession) {
    const sessions = [...new Set(cookieValues(headers.get('cookie') ?? [], SESSION_COOKIE))];
    if (sessions.length > 1)
      return { kind: 'invalid', reason: 'ambiguous credentials: several session cookies' };
    if (sessions.length === 1 && sessions[0] !== '') return { kind: 'session', token: sessions[0]! };
  }
  return { kind: 'none' };
}
