import type { FastifyReply, FastifyRequest } from 'fastify';
import { ControlPlaneError } from '../tenancy/errors.ts';

/**
 * HTTP plumbing shared by the console's JSON routes: one error type carrying the status to
 * answer, the mapping of control-plane errors, and body readers that name the bad field.
 */

export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ConsoleError';
  }
}

export const notFound = (what = 'not found') => new ConsoleError(404, what);
export const forbidden = (what: string) => new ConsoleError(403, what);
export const badRequest = (what: string) => new ConsoleError(400, what);

/** Sends any error as `{ error }` with the right status; unexpected ones are logged and hidden. */
export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ConsoleError) {
    if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
    return reply.code(err.status).send({ error: err.message });
  }
  if (err instanceof ControlPlaneError) {
    if (err.status === 503) reply.header('retry-after', '2');
    return reply.code(err.status).send({ error: err.message });
  }
  const status = (err as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, body too large, wrong content type).
    return reply.code(status).send({ error: (err as Error).message });
  }
  request.log.error({ err }, 'console request failed');
  return reply.code(500).send({ error: 'internal error' });
}

/** The JSON body as an object (Fastify has parsed it); anything else is a 400. */
export function body(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('the request body must be a JSON object');
  return b as Record<string, unknown>;
}

export function str(b: Record<string, unknown>, name: string, opts: { optional: true }): string | undefined;
export function str(b: Record<string, unknown>, name: string, opts?: { optional?: false }): string;
export function str(
  b: Record<string, unknown>,
  name: string,
  opts: { optional?: boolean } = {},
): string | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') {
    if (opts.optional) return undefined;
    throw badRequest(`"${name}" is required`);
  }
  if (typeof v !== 'string') throw badRequest(`"${name}" must be a string`);
  if (v.length > 4096) throw badRequest(`"${name}" is too long`);
  return v;
}

export function bool(b: Record<string, unknown>, name: string): boolean | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`"${name}" must be true or false`);
  return v;
}

/** A positive integer route parameter (object ids); anything else is "not found", like an unknown id. */
export function idParam(request: FastifyRequest, name = 'id'): number {
  const raw = (request.params as Record<string, string | undefined>)[name] ?? '';
  const n = /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw notFound();
  return n;
}

/** The client address for rate limits and the audit log (Fastify applies the trusted-proxy rule). */
export function clientAddr(request: FastifyRequest): string {
  return request.ip;
}
