import { rawRequest, type RawResponse } from './http.ts';

/** A platform admin key as `irin admin-key create` prints it: `<client id>.<secret>`. */
export function parseAdminKey(text: string): { clientId: string; secret: string } {
  const trimmed = text.trim();
  const dot = trimmed.indexOf('.');
  if (!trimmed.startsWith('irin_admin_') || dot < 0 || dot === trimmed.length - 1) {
    throw new Error(
      'the admin key must be "<client id>.<secret>" as `irin admin-key create` prints it (irin_admin_….…)',
    );
  }
  return { clientId: trimmed.slice(0, dot), secret: trimmed.slice(dot + 1) };
}

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    message: string,
    /** Seconds, from Retry-After (429, 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** The few admin API calls (docs/admin-api.md) the isolation canaries need. */
export class AdminClient {
  private readonly auth: string;

  constructor(
    readonly baseUrl: string,
    adminKey: string,
  ) {
    const { clientId, secret } = parseAdminKey(adminKey);
    this.auth = `Bearer ${clientId}.${secret}`;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res: RawResponse = await rawRequest(this.baseUrl, {
      method,
      path: `/api/admin/v1${path}`,
      headers: [
        ['authorization', this.auth],
        ...(body !== undefined ? ([['content-type', 'application/json']] as const) : []),
      ],
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status < 200 || res.status >= 300) {
      const message = (res.json as { error?: string } | undefined)?.error ?? res.text.slice(0, 200);
      const retryAfter = Number(res.headers['retry-after']);
      throw new AdminApiError(
        res.status,
        path,
        `admin API ${method} ${path} answered ${res.status}: ${message}`,
        Number.isFinite(retryAfter) ? retryAfter : undefined,
      );
    }
    return res.json as T;
  }
}
