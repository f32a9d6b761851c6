import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConsoleError } from './http.ts';

/**
 * Browser-facing protections of the console: security headers on every response, and the
 * cross-site request forgery checks on every state-changing request.
 *
 * CSRF is stopped three ways, each enough on its own against a browser:
 *  1. the session cookie is SameSite=Strict (see ./session.ts), so a cross-site request carries none;
 *  2. Origin (or, when a browser sends no Origin, Sec-Fetch-Site) must be this console's own origin;
 *  3. a signed-in request must carry `x-csrf-token`, a value derived from the session secret that
 *     only the console's own script learns (from /api/console/me) — a custom header also forces a
 *     CORS preflight that a foreign page cannot pass.
 * Bodies must be JSON: `text/plain` and form posts are the encodings a foreign page can send
 * without a preflight, so they are refused outright.
 */

export const CSRF_HEADER = 'x-csrf-token';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isStateChanging(method: string): boolean {
  return STATE_CHANGING.has(method);
}

/** Content-Security-Policy of the console's HTML: no inline script at all; styles only by nonce. */
export function htmlCsp(nonce: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // CodeMirror injects its theme as <style> elements carrying this nonce (EditorView.cspNonce).
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** For JSON and asset responses: nothing may be loaded or framed on their account. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function newNonce(): string {
  return crypto.randomBytes(18).toString('base64');
}

/** Headers every console response carries (the CSP is set per response type by the route). */
export function applySecurityHeaders(reply: FastifyReply, secure: boolean): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
  if (secure) reply.header('strict-transport-security', 'max-age=31536000');
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_CSP);
}

/** The origin a same-origin browser request names: scheme and Host as this request arrived. */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * Refuses a state-changing request that a browser made on behalf of another site.
 * `allowedOrigins` adds origins besides the request's own (e.g. a public URL behind a proxy that
 * rewrites Host).
 */
export function checkRequestOrigin(request: FastifyRequest, allowedOrigins: readonly string[]): void {
  const origin = request.headers.origin;
  if (typeof origin === 'string') {
    if (origin !== ownOrigin(request) && !allowedOrigins.includes(origin)) {
      throw new ConsoleError(403, `cross-origin request refused (Origin ${origin.slice(0, 100)})`);
    }
  } else {
    const site = request.headers['sec-fetch-site'];
    if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
      throw new ConsoleError(403, 'cross-site request refused');
    }
  }
  const length = Number(request.headers['content-length'] ?? 0);
  const chunked = request.headers['transfer-encoding'] !== undefined;
  if (length > 0 || chunked) {
    const type = String(request.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (type !== 'application/json') {
      throw new ConsoleError(
        415,
        'the console API accepts JSON bodies only (Content-Type: application/json)',
      );
    }
  }
}

/** Constant-time check of the `x-csrf-token` header against the session's token. */
export function checkCsrfToken(request: FastifyRequest, expected: string): void {
  const got = request.headers[CSRF_HEADER];
  const a = Buffer.from(typeof got === 'string' ? got : '');
  const b = Buffer.from(expected);
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) {
    throw new ConsoleError(403, `missing or invalid ${CSRF_HEADER} header; reload the console`);
  }
}
