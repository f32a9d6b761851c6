/**
 * Talking to Irin: the console API (JSON, CSRF header on changes), the Prometheus API under
 * /prometheus and the Loki API under /loki, all with the session cookie (same origin).
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken = '';
/** Called whenever the console learns the session's CSRF token (sign-in, /me). */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Set by the session layer: called on a 401 so the app can show the sign-in page. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

/**
 * A 401 from a data API means the session ended, or that the org cannot be read right now
 * (suspended): only the console API can tell, so ask it before sending the user to sign-in.
 */
let rechecking: Promise<void> | undefined;
function recheckSession(): void {
  rechecking ??= fetch('/api/console/me', { credentials: 'same-origin' })
    .then((res) => {
      if (res.status === 401) onUnauthorized();
    })
    .catch(() => undefined)
    .finally(() => {
      rechecking = undefined;
    });
}

async function readError(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: string };
    if (body.error) return body.error;
  } catch {
    /* not JSON */
  }
  return text.trim().slice(0, 300) || `${res.status} ${res.statusText}`;
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(signal ? { signal } : {}),
  });
  if (!res.ok) {
    const message = await readError(res);
    if (
      res.status === 401 &&
      !path.startsWith('/api/console/sign-in') &&
      !path.startsWith('/api/console/mfa')
    ) {
      onUnauthorized();
    }
    throw new ApiError(res.status, message);
  }
  return (await res.json()) as T;
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
};

// ---- Prometheus ------------------------------------------------------------------------------

export type Labels = Record<string, string>;
export interface InstantSample {
  metric: Labels;
  value: [number, string];
}
export interface RangeSeries {
  metric: Labels;
  values: [number, string][];
}

interface PromEnvelope<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  warnings?: string[];
}

async function prom<T>(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`/prometheus/api/v1/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(params).toString(),
    credentials: 'same-origin',
    ...(signal ? { signal } : {}),
  });
  if (res.status === 401) recheckSession();
  const body = (await res.json().catch(() => null)) as PromEnvelope<T> | null;
  if (!res.ok || !body || body.status !== 'success') {
    throw new ApiError(res.status, body?.error ?? `query failed: ${res.status} ${res.statusText}`);
  }
  return body.data;
}

export async function promInstant(
  query: string,
  time?: number,
  signal?: AbortSignal,
): Promise<InstantSample[]> {
  const data = await prom<{ resultType: string; result: unknown }>(
    'query',
    { query, ...(time !== undefined ? { time: String(time / 1000) } : {}) },
    signal,
  );
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    return [{ metric: {}, value: data.result as [number, string] }];
  }
  return data.result as InstantSample[];
}

export async function promRange(
  query: string,
  startMs: number,
  endMs: number,
  stepSeconds: number,
  signal?: AbortSignal,
): Promise<RangeSeries[]> {
  const data = await prom<{ result: RangeSeries[] }>(
    'query_range',
    { query, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepSeconds) },
    signal,
  );
  return data.result;
}

/** A step giving about `points` points over the range, rounded to a readable value (seconds). */
export function stepFor(rangeMs: number, points = 240): number {
  const raw = rangeMs / 1000 / points;
  const nice = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  return nice.find((s) => s >= raw) ?? Math.ceil(raw);
}

export function sampleValue(s: { value: [number, string] }): number {
  return parseFloat(s.value[1]);
}

// ---- Loki ------------------------------------------------------------------------------------

export interface LokiStream {
  stream: Labels;
  values: [string, string][];
}

async function loki<T>(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`/loki/api/v1/${path}?${new URLSearchParams(params).toString()}`, {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    ...(signal ? { signal } : {}),
  });
  if (res.status === 401) recheckSession();
  const text = await res.text();
  let body: { status?: string; data?: T; error?: string; message?: string } | null = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* Loki answers some errors as plain text */
  }
  if (!res.ok || !body)
    throw new ApiError(res.status, body?.error ?? body?.message ?? (text.trim() || res.statusText));
  return body.data as T;
}

export const lokiApi = {
  labels: (startMs: number, endMs: number) =>
    loki<string[]>('labels', { start: `${startMs}000000`, end: `${endMs}000000` }),
  labelValues: (name: string, startMs: number, endMs: number) =>
    loki<string[]>(`label/${encodeURIComponent(name)}/values`, {
      start: `${startMs}000000`,
      end: `${endMs}000000`,
    }),
  queryRange: <T>(
    query: string,
    startMs: number,
    endMs: number,
    extra: Record<string, string> = {},
    signal?: AbortSignal,
  ) =>
    loki<{ resultType: string; result: T }>(
      'query_range',
      { query, start: `${startMs}000000`, end: `${endMs}000000`, ...extra },
      signal,
    ),
};

/** The WebSocket URL of Loki's live tail for a query. */
export function lokiTailUrl(query: string, startMs: number): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const params = new URLSearchParams({ query, start: `${startMs}000000`, limit: '100' });
  return `${proto}//${location.host}/loki/api/v1/tail?${params.toString()}`;
}

/**
 * The session lookup, started as soon as the script runs (before React renders), so the first
 * page's data requests are not delayed by it. Used once by the app at start.
 */
let bootSession: Promise<unknown> | undefined = fetch('/api/console/me', {
  credentials: 'same-origin',
  headers: { accept: 'application/json' },
}).then(async (res) => {
  if (!res.ok) throw new ApiError(res.status, await readError(res));
  return res.json();
});
bootSession.catch(() => undefined);

export function takeBootSession<T>(): Promise<T> {
  const p = bootSession ?? api.get<T>('/api/console/me');
  bootSession = undefined;
  return p as Promise<T>;
}
