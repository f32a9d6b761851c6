import http from 'node:http';
import https from 'node:https';

/**
 * A raw HTTP client for the attack probes. Unlike fetch it sends the request target exactly as
 * given (no `..` or `%2e` normalisation, double slashes kept) and can repeat a header, which is
 * what path tricks and ambiguous-credential attacks need.
 */
export interface RawRequest {
  readonly method?: string;
  /** Request target as sent: path and query, e.g. `/prometheus/api/v1/../v1/query?query=up`. */
  readonly path: string;
  /** Header lines in order; a name may repeat. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Uint8Array;
  readonly timeoutMs?: number;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const base = new URL(baseUrl);
  const lib = base.protocol === 'https:' ? https : http;
  // With headers given as raw lines Node adds no Host header itself.
  const headerLines: string[] = (req.headers ?? []).some(([n]) => n.toLowerCase() === 'host')
    ? []
    : ['host', base.host];
  for (const [name, value] of req.headers ?? []) headerLines.push(name, value);
  const body =
    req.body === undefined
      ? undefined
      : typeof req.body === 'string'
        ? Buffer.from(req.body)
        : Buffer.from(req.body);
  const method = req.method ?? 'GET';
  // An explicit length (0 without a body) keeps Node from sending a chunked body.
  if (
    (body !== undefined || method !== 'GET') &&
    !(req.headers ?? []).some(([n]) => n.toLowerCase() === 'content-length')
  ) {
    headerLines.push('content-length', String(body?.length ?? 0));
  }
  const prefix = base.pathname.replace(/\/$/, '');
  return new Promise((resolve, reject) => {
    const request = lib.request(
      {
        host: base.hostname,
        port: base.port || (base.protocol === 'https:' ? 443 : 80),
        method,
        path: prefix + req.path,
        headers: headerLines,
        // Each probe on its own connection: a refused request must not poison the next one.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    request.setTimeout(req.timeoutMs ?? 30_000, () =>
      request.destroy(new Error(`request to ${req.path} timed out`)),
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** `application/x-www-form-urlencoded` encoding of name/value pairs (names may repeat). */
export function formEncode(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

export function basicAuth(clientId: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64');
}

export function bearerAuth(clientId: string, secret: string): string {
  return `Bearer ${clientId}.${secret}`;
}
