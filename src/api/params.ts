import { parseGoFloat, parsePromDuration } from '../promql/literals.ts';

/**
 * Request-parameter hygiene shared by the query APIs (Prometheus, Loki). Every parameter is read
 * from exactly one place: a name present both in the URL query and in a form body, or a
 * single-valued name given twice, is refused — backends and proxies that pick differently
 * between duplicates are a known way around label-enforcing proxies. The raw query string and
 * body are parsed here, once, rather than by whatever parser a framework happens to use.
 */

export class ParamError extends Error {
  constructor(
    /** The offending parameter ('' when the request as a whole is malformed). */
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'ParamError';
  }
}

export interface ParamSpec {
  /** Names that may be given more than once (e.g. `match[]`); every other name at most once. */
  readonly multi?: readonly string[];
}

export interface RawRequest {
  readonly method: string;
  /** The request target as received, e.g. `/api/v1/query?query=up`. */
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The raw body when one was read (a string for form bodies), else undefined. */
  readonly body?: unknown;
}

export class RequestParams {
  constructor(private readonly values: ReadonlyMap<string, readonly string[]>) {}

  /** A single-valued parameter ('' counts as absent, as in Prometheus). */
  get(name: string): string | undefined {
    const v = this.values.get(name)?.[0];
    return v === undefined || v === '' ? undefined : v;
  }

  /** The raw value even when empty. */
  raw(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  getAll(name: string): readonly string[] {
    return this.values.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  names(): string[] {
    return [...this.values.keys()];
  }
}

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

function headerValue(headers: RawRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Splits an application/x-www-form-urlencoded string strictly: `&`-separated, no `;`
 * separators, every `%` followed by two hex digits, names decoded once.
 */
export function parseFormEncoded(text: string, where: string): [string, string][] {
  if (text === '') return [];
  if (text.includes(';')) throw new ParamError('', `invalid semicolon separator in ${where}`);
  if (/%(?![0-9a-fA-F]{2})/.test(text)) throw new ParamError('', `invalid URL escape in ${where}`);
  const out: [string, string][] = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        throw new ParamError('', `invalid URL escape in ${where}`);
      }
    };
    out.push([decode(rawName), decode(rawValue)]);
  }
  return out;
}

function bodyText(req: RawRequest): string | undefined {
  const b = req.body;
  if (b === undefined || b === null) return undefined;
  if (typeof b === 'string') return b;
  if (Buffer.isBuffer(b)) return b.toString('utf8');
  throw new ParamError('', 'request body must be application/x-www-form-urlencoded');
}

/** Collects a request's parameters from its URL query and (for POST) its form body, enforcing the rules above. */
export function readParams(req: RawRequest, spec: ParamSpec = {}): RequestParams {
  const multi = new Set(spec.multi ?? []);
  const q = req.url.indexOf('?');
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const fromUrl = parseFormEncoded(query, 'URL query');

  const contentLength = Number(headerValue(req.headers, 'content-length') ?? '0');
  const chunked = headerValue(req.headers, 'transfer-encoding') !== undefined;
  const text = bodyText(req);
  let fromBody: [string, string][] = [];
  if (req.method === 'POST' || req.method === 'PUT') {
    if (text !== undefined && text !== '') {
      const type = (headerValue(req.headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== FORM_CONTENT_TYPE) {
        throw new ParamError(
          '',
          `unsupported request body content type "${type}"; send ${FORM_CONTENT_TYPE}`,
        );
      }
      fromBody = parseFormEncoded(text, 'form body');
    }
  } else if (contentLength > 0 || chunked || (text !== undefined && text !== '')) {
    throw new ParamError(
      '',
      `a ${req.method} request must not carry a body; send parameters in the URL or use POST`,
    );
  }

  const values = new Map<string, string[]>();
  const urlNames = new Set(fromUrl.map(([n]) => n));
  for (const [name] of fromBody) {
    if (urlNames.has(name)) {
      throw new ParamError(
        name,
        `parameter "${name}" is given both in the URL and in the form body; send it in exactly one place`,
      );
    }
  }
  for (const [name, value] of [...fromUrl, ...fromBody]) {
    const list = values.get(name);
    if (list) {
      if (!multi.has(name)) throw new ParamError(name, `parameter "${name}" is given more than once`);
      list.push(value);
    } else {
      values.set(name, [value]);
    }
  }
  return new RequestParams(values);
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A time parameter as the Prometheus API reads it: unix seconds (with a fraction, rounded to
 * the millisecond) or RFC 3339. Returns ms since the epoch.
 */
export function parseTimeParam(text: string): number {
  const f = parseGoFloat(text);
  if (f !== undefined && Number.isFinite(f) && /^[+-]?[\d.]/.test(text)) {
    const whole = Math.trunc(f);
    return whole * 1000 + Math.round((f - whole) * 1000);
  }
  const m = RFC3339_RE.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    const ms = frac ? Math.floor(Number(frac.slice(1).padEnd(9, '0')) / 1e6) : 0;
    let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
    if (zone && zone.toUpperCase() !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      t -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
    }
    if (
      Number(mo) >= 1 &&
      Number(mo) <= 12 &&
      Number(d) >= 1 &&
      Number(d) <= 31 &&
      Number(h) < 24 &&
      Number(mi) < 60 &&
      Number(s) < 61
    ) {
      return t;
    }
  }
  throw new ParamError('', `cannot parse ${JSON.stringify(text)} to a valid timestamp`);
}

/** A duration parameter: seconds (float) or a Prometheus duration such as `5m`. Returns ms. */
export function parseDurationParam(text: string): number {
  const f = parseGoFloat(text);
  if (f !== undefined && /^[+-]?[\d.]/.test(text)) {
    if (!Number.isFinite(f) || Math.abs(f) * 1e9 > 2 ** 63) {
      throw new ParamError(
        '',
        `cannot parse ${JSON.stringify(text)} to a valid duration. It overflows int64`,
      );
    }
    return Math.round(f * 1000);
  }
  const d = parsePromDuration(text);
  if (d !== undefined) return d;
  throw new ParamError('', `cannot parse ${JSON.stringify(text)} to a valid duration`);
}
