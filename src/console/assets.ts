import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { htmlCsp, newNonce } from './security.ts';

/**
 * Serves the built console (the Vite output directory) under /console/:
 *   /console/assets/<hashed name>   immutable, cached for a year
 *   /console/<other existing file>  (favicon…) cached briefly
 *   /console/<anything else>        index.html, the single-page app routes the path itself
 * index.html carries a fresh CSP nonce per response: the build writes a placeholder (Vite's
 * `html.cspNonce`) that is replaced here, and the same nonce goes into the CSP header.
 * `/` and `/console` redirect to `/console/`.
 */

export const CONSOLE_BASE = '/console/';
/** Must equal `html.cspNonce` in console/vite.config.ts. */
export const NONCE_PLACEHOLDER = '__IRIN_CSP_NONCE__';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

interface CachedFile {
  mtimeMs: number;
  body: Buffer;
  etag: string;
}

export async function assetRoutes(app: FastifyInstance, staticDir: string | undefined): Promise<void> {
  const root = staticDir ? resolve(staticDir) : undefined;
  const cache = new Map<string, CachedFile>();

  /** Reads a file under root (re-read when it changed on disk, e.g. after a rebuild); undefined if absent. */
  async function load(rel: string): Promise<CachedFile | undefined> {
    if (!root) return undefined;
    const full = resolve(join(root, rel));
    if (full !== root && !full.startsWith(root + sep)) return undefined;
    let stat;
    try {
      stat = await fsp.stat(full);
    } catch {
      return undefined;
    }
    if (!stat.isFile()) return undefined;
    const hit = cache.get(full);
    if (hit && hit.mtimeMs === stat.mtimeMs) return hit;
    const body = await fsp.readFile(full);
    const file = {
      mtimeMs: stat.mtimeMs,
      body,
      etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
    };
    cache.set(full, file);
    return file;
  }

  function sendFile(
    request: FastifyRequest,
    reply: FastifyReply,
    rel: string,
    file: CachedFile,
    cacheControl: string,
  ) {
    reply.header('content-type', TYPES[extname(rel).toLowerCase()] ?? 'application/octet-stream');
    reply.header('cache-control', cacheControl);
    reply.header('etag', file.etag);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  }

  async function sendIndex(reply: FastifyReply) {
    const index = await load('index.html');
    reply.header('cache-control', 'no-store');
    if (!index) {
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
      return reply
        .code(503)
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>Irin console not built</title><p>The console has not been built. ' +
            'Run <code>npm run build:console</code> and reload.</p>',
        );
    }
    const nonce = newNonce();
    reply.header('content-security-policy', htmlCsp(nonce));
    return reply
      .type('text/html; charset=utf-8')
      .send(index.body.toString('utf8').replaceAll(NONCE_PLACEHOLDER, nonce));
  }

  app.get('/', async (_request, reply) => reply.redirect(CONSOLE_BASE, 302));
  app.get('/console', async (_request, reply) => reply.redirect(CONSOLE_BASE, 301));

  app.get('/console/*', async (request, reply) => {
    let rel: string;
    try {
      rel = decodeURIComponent((request.params as { '*': string })['*'] ?? '');
    } catch {
      return reply.code(404).type('text/plain').send('not found\n');
    }
    if (rel.startsWith('assets/')) {
      const file = await load(rel);
      if (!file) return reply.code(404).type('text/plain').send('not found\n');
      return sendFile(request, reply, rel, file, 'public, max-age=31536000, immutable');
    }
    if (rel !== '' && rel !== 'index.html' && extname(rel) !== '') {
      const file = await load(rel);
      if (file) return sendFile(request, reply, rel, file, 'public, max-age=3600');
    }
    return sendIndex(reply);
  });
}
