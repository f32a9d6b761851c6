import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { IrinConfig } from '../config/schema.ts';

/**
 * The bare Fastify instance with the platform-wide HTTP settings: TLS, trusted proxies, timeouts.
 * Routes are registered by the runtime (src/server/runtime.ts).
 */
export function createHttpServer(config: IrinConfig, logger: Logger): FastifyInstance {
  const { server } = config;
  const https =
    server.tls_cert_file !== ''
      ? { cert: readFileSync(server.tls_cert_file), key: readFileSync(server.tls_key_file) }
      : null;
  return Fastify({
    loggerInstance: logger,
    // Client addresses (rate limits, audit) come from X-Forwarded-For only when the direct peer is a
    // configured proxy; otherwise the socket address is used and the header ignored.
    trustProxy: server.trusted_proxies.length > 0 ? server.trusted_proxies : false,
    ...(https ? { https } : {}),
    // Per-request access logs would dominate the push path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestTimeout: 120_000,
    bodyLimit: 1024 * 1024,
    routerOptions: { ignoreDuplicateSlashes: false, ignoreTrailingSlash: false },
  }) as unknown as FastifyInstance;
}
