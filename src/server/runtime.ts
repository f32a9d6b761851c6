import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { IrinConfig } from '../config/schema.ts';
import { createLogger } from '../observability/logger.ts';
import { createSelfMetricsRegistry } from '../observability/self-metrics.ts';
import { createHttpServer } from './app.ts';
import { healthRoutes, type Readiness } from './health.ts';
import { selfMetricsRoute } from './metrics-route.ts';

export interface RunningIrin {
  readonly app: FastifyInstance;
  readonly logger: Logger;
  /** Base URL the server listens on, e.g. http://127.0.0.1:9470 */
  readonly url: string;
  /** Stops accepting requests, lets in-flight ones finish, then flushes and closes every store. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

/** Opens every store, registers every route and starts listening. */
export async function startIrin(config: IrinConfig, options: StartOptions = {}): Promise<RunningIrin> {
  const logger = options.logger ?? createLogger(config.log.level);
  mkdirSync(config.data_dir, { recursive: true });
  const registry = createSelfMetricsRegistry();
  const readiness: Readiness = { ready: false };
  const closers: (() => Promise<void> | void)[] = [];

  const app = createHttpServer(config, logger);
  await app.register(async (scope) => healthRoutes(scope, readiness));
  await app.register(async (scope) => selfMetricsRoute(scope, registry));

  const address = await app.listen({ host: config.server.listen_address, port: config.server.port });
  readiness.ready = true;
  logger.info({ address, dataDir: config.data_dir }, 'Irin is listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    logger,
    url: address,
    close() {
      closing ??= (async () => {
        readiness.ready = false;
        await app.close();
        for (const close of closers.reverse()) await close();
      })();
      return closing;
    },
  };
}
