import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { ParamError, readParams, type ParamSpec, type RequestParams } from '../../api/params.ts';
import type { PushPrincipal, ReadPrincipal } from '../../auth/principal.ts';
import { CredentialError, type RequestAuthenticator } from '../../auth/request-auth.ts';
import type { EnforcementPolicy } from '../../edge/enforce-labels.ts';
import snappy from 'snappy';
import { snappyDeclaredLength } from '../../edge/snappy-block.ts';
import { isValidLabelName } from '../../model/labels.ts';
import type { Matcher } from '../../model/matchers.ts';
import { longestRangeMs, type Expr } from '../logql/ast.ts';
import { DEFAULT_ENGINE_LIMITS, LogQLEngine, LogQLEvalError, type EngineLimits } from '../logql/engine.ts';
import { formatExpr } from '../logql/format.ts';
import { LogQLParseError, parseLogQL, parseStreamSelector } from '../logql/parser.ts';
import { injectTenantMatcher, injectTenantMatchers, selectorsOf } from '../logql/scope.ts';
import { formatDurationMs } from '../logql/units.ts';
import { decodePushJson, decodePushProtobuf, PushDecodeError, type DecodedStream } from '../push/decode.ts';
import { DEFAULT_LOG_INGEST_OPTIONS, LogIngester, type LogIngestOptions } from '../push/ingest.ts';
import type { TenantLogStore } from '../store/types.ts';
import { queryBody } from './encode.ts';
import {
  defaultStepMs,
  directionParam,
  durationParam,
  intParam,
  parseLokiTime,
  timeRange,
} from './loki-params.ts';
import { logApiMetrics } from './metrics.ts';
import { runTail } from './tail.ts';

export interface LokiApiLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LokiApiDeps {
  readonly authenticator: RequestAuthenticator;
  /** The tenant's own log partition (isolation layer 4); a rejection is answered 503. */
  logsFor(tenantId: number): Promise<TenantLogStore>;
  readonly enforcement: EnforcementPolicy;
  readonly registry: Registry;
  /** Label injected into every selector; defaults to enforcement.tenantLabel. */
  readonly tenantLabel?: string;
  readonly logger?: LokiApiLogger;
  readonly now?: () => number;
  /** Push behaviour: line_too_long policy, old-sample age, out-of-order window. */
  readonly ingest?: Partial<LogIngestOptions>;
  /** Loki's max_entries_limit_per_query (5000) and max_query_series (500). */
  readonly maxEntriesLimitPerQuery?: number;
  readonly maxQuerySeries?: number;
}

const PUSH_PATH = '/loki/api/v1/push';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

async function inflateBody(kind: 'gzip' | 'deflate', body: Buffer, max: number): Promise<Buffer> {
  try {
    return await (kind === 'gzip' ? gunzipAsync : inflateAsync)(body, { maxOutputLength: max });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new HttpError(
        413,
        `the ${kind}-decompressed body is over the limit maxDecompressedBytes=${max}; send smaller batches`,
      );
    }
    throw new HttpError(400, `the body is not valid ${kind} data (${e.message})`);
  }
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Reads a request body, failing as soon as it passes `limit` bytes. */
function readLimited(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(
          new HttpError(
            413,
            `the request body is over the limit maxRequestBytes=${limit}; send smaller batches`,
            { connection: 'close' },
          ),
        );
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/**
 * The Loki HTTP API: push, query, query_range, labels, label values, series, index stats and
 * tail. Everything is registered in child scopes (own body parsers and error handling), so this
 * plugin can be registered at the root without affecting other routes. Requires
 * @fastify/websocket registered on the app for /tail (registered here if it is not).
 */
export async function lokiApiRoutes(app: FastifyInstance, deps: LokiApiDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const logger: LokiApiLogger = deps.logger ?? app.log;
  const tenantLabel = deps.tenantLabel ?? deps.enforcement.tenantLabel;
  const metrics = logApiMetrics(deps.registry);
  const ingester = new LogIngester(deps.enforcement, { ...DEFAULT_LOG_INGEST_OPTIONS, ...deps.ingest }, now);

  const text = (
    reply: FastifyReply,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): FastifyReply => {
    for (const [k, v] of Object.entries(headers)) reply.header(k, v);
    return reply
      .code(status)
      .type('text/plain; charset=utf-8')
      .send(body.endsWith('\n') ? body : body + '\n');
  };

  const credentialReply = (reply: FastifyReply, err: unknown): FastifyReply => {
    if (err instanceof CredentialError) {
      const headers: Record<string, string> = {};
      if (err.status === 429 || err.status === 503)
        headers['retry-after'] = String(err.retryAfterSeconds ?? (err.status === 503 ? 5 : 1));
      return text(reply, err.status, err.message, headers);
    }
    logger.error({ err }, 'loki api: the authenticator failed');
    return text(reply, 503, 'credentials cannot be checked right now; retry later', { 'retry-after': '5' });
  };

  const storeFor = async (tenantId: number): Promise<TenantLogStore> => {
    try {
      return await deps.logsFor(tenantId);
    } catch (err) {
      logger.error({ err, tenantId }, 'loki api: log store unavailable');
      throw new HttpError(503, 'the log store is unavailable; retry later', { 'retry-after': '5' });
    }
  };

  // ---------------------------------------------------------------- push

  const pushPrincipals = new WeakMap<FastifyRequest, PushPrincipal>();
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (request, payload, done) => {
      const principal = pushPrincipals.get(request);
      if (!principal) {
        done(new Error('loki push: body reached before authentication'), undefined);
        return;
      }
      readLimited(payload, principal.limits.maxRequestBytes).then(
        (body) => done(null, body),
        (err: unknown) => done(err as Error, undefined),
      );
    });
    scope.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
      if (err instanceof HttpError) return text(reply, err.status, err.message, err.headers);
      const status =
        typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500
          ? err.statusCode
          : 500;
      if (status >= 500) logger.error({ err, url: request.url }, 'loki push failed');
      return text(
        reply,
        status,
        status >= 500 ? 'internal error while storing the pushed logs' : err.message,
      );
    });
    scope.addHook('onRequest', async (request, reply) => {
      let principal: PushPrincipal;
      try {
        principal = await deps.authenticator.authenticatePush(request);
      } catch (err) {
        return credentialReply(reply, err);
      }
      const length = Number(request.headers['content-length'] ?? 0);
      if (length > principal.limits.maxRequestBytes) {
        return text(
          reply,
          413,
          `the request body of ${length} bytes is over the limit maxRequestBytes=${principal.limits.maxRequestBytes}; send smaller batches`,
          {
            connection: 'close',
          },
        );
      }
      pushPrincipals.set(request, principal);
      return undefined;
    });
    scope.addHook('onResponse', async (_request, reply) => {
      metrics.pushDuration.observe({ code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });

    scope.post(PUSH_PATH, async (request, reply) => {
      const principal = pushPrincipals.get(request)!;
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const streams = await decodePush(request, body, principal.limits.maxDecompressedBytes);
      const store = await storeFor(principal.tenantId);
      const outcome = await ingester.push(principal, streams, store);
      const tenant = principal.tenantSlug;
      if (outcome.entriesAccepted > 0) {
        metrics.entries.inc({ tenant }, outcome.entriesAccepted);
        metrics.bytes.inc({ tenant }, outcome.bytesAccepted);
      }
      for (const [reason, n] of outcome.discarded) metrics.discarded.inc({ tenant, reason }, n);
      if (outcome.status === 204) return reply.code(204).send();
      if (outcome.status === 429 && outcome.body.startsWith('rate_limited')) {
        logger.warn({ tenant }, 'loki push: rate limited');
      }
      const headers: Record<string, string> =
        outcome.retryAfterSeconds !== undefined ? { 'retry-after': String(outcome.retryAfterSeconds) } : {};
      return text(reply, outcome.status, outcome.body, headers);
    });
  });

  async function decodePush(
    request: FastifyRequest,
    raw: Buffer,
    maxDecompressed: number,
  ): Promise<DecodedStream[]> {
    const media = mediaType(request);
    const encoding = (request.headers['content-encoding'] ?? '').trim().toLowerCase();
    const isJson = media === 'application/json';
    let body = raw;
    if (encoding === 'gzip' || encoding === 'deflate')
      body = await inflateBody(encoding, raw, maxDecompressed);
    else if (encoding !== '' && encoding !== 'identity' && encoding !== 'snappy') {
      throw new HttpError(
        415,
        `Content-Encoding "${encoding}" is not supported; use gzip or deflate (JSON) or none (snappy protobuf)`,
      );
    }
    try {
      if (isJson) {
        if (encoding === 'snappy') body = await unsnappy(body, maxDecompressed);
        if (body.length > maxDecompressed)
          throw new HttpError(413, `the JSON body is over the limit maxDecompressedBytes=${maxDecompressed}`);
        return decodePushJson(body);
      }
      if (media !== '' && media !== 'application/x-protobuf' && media !== 'application/octet-stream') {
        throw new HttpError(
          415,
          `Content-Type "${media}" is not supported; send application/x-protobuf (snappy) or application/json`,
        );
      }
      return decodePushProtobuf(await unsnappy(body, maxDecompressed));
    } catch (err) {
      if (err instanceof PushDecodeError) throw new HttpError(400, `malformed push request: ${err.message}`);
      throw err;
    }
  }

  /**
   * Snappy block decompression after checking the declared size (a "snappy bomb" is refused before
   * anything is allocated), on the thread pool so the event loop keeps serving other tenants.
   */
  async function unsnappy(body: Buffer, max: number): Promise<Buffer> {
    const declared = snappyDeclaredLength(body);
    if (declared === undefined)
      throw new HttpError(400, 'the body is not snappy block-compressed protobuf (invalid length preamble)');
    if (declared > max) {
      throw new HttpError(
        413,
        `the decompressed body would be ${declared} bytes, over the limit maxDecompressedBytes=${max}; send smaller batches`,
      );
    }
    try {
      return (await snappy.uncompress(body, { asBuffer: true })) as Buffer;
    } catch (err) {
      throw new HttpError(
        400,
        `the body is not valid snappy block-compressed data (${(err as Error).message})`,
      );
    }
  }

  // ---------------------------------------------------------------- queries

  const engineLimits = (principal: ReadPrincipal): EngineLimits => ({
    ...DEFAULT_ENGINE_LIMITS,
    maxEntries: deps.maxEntriesLimitPerQuery ?? DEFAULT_ENGINE_LIMITS.maxEntries,
    maxSeries: deps.maxQuerySeries ?? DEFAULT_ENGINE_LIMITS.maxSeries,
    maxSamples: principal.limits.maxQuerySamples,
    timeoutMs: principal.limits.queryTimeoutMs,
  });

  const scoped = <E extends Expr>(principal: ReadPrincipal, expr: E): E =>
    injectTenantMatcher(expr, tenantLabel, principal.tenantSlug);

  /** Both the span between start and end and the longest [range] of the query are held to maxQueryRangeMs. */
  const checkRange = (principal: ReadPrincipal, expr: Expr, startMs: number, endMs: number): void => {
    const limit = principal.limits.maxQueryRangeMs;
    if (endMs - startMs > limit) {
      throw new HttpError(
        400,
        `the query time range exceeds the limit (query length: ${formatDurationMs(endMs - startMs)}, limit maxQueryRangeMs=${formatDurationMs(limit)})`,
      );
    }
    const reach = longestRangeMs(expr);
    if (reach > limit) {
      throw new HttpError(
        400,
        `the query's range selector reaches back ${formatDurationMs(reach)}, more than the limit maxQueryRangeMs=${formatDurationMs(limit)}`,
      );
    }
  };

  /** `query` as a stream selector (pipeline ignored) for the metadata endpoints; tenant-scoped. */
  const selectorMatchers = (principal: ReadPrincipal, text: string | undefined): Matcher[] => {
    if (text === undefined) return injectTenantMatchers([], tenantLabel, principal.tenantSlug);
    const expr = parseLogQL(text);
    const sels = selectorsOf(expr);
    if (sels.length !== 1) throw new HttpError(400, 'expected a single stream selector such as {job="x"}');
    return injectTenantMatchers(sels[0]!, tenantLabel, principal.tenantSlug);
  };

  interface Ctx {
    readonly request: FastifyRequest;
    readonly principal: ReadPrincipal;
    readonly params: RequestParams;
    readonly signal: AbortSignal;
  }
  type Handler = (ctx: Ctx) => Promise<string>;

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    const route =
      (endpoint: string, spec: ParamSpec, handler: Handler) =>
      async (request: FastifyRequest, reply: FastifyReply) => {
        let principal: ReadPrincipal;
        try {
          principal = await deps.authenticator.authenticateRead(request);
        } catch (err) {
          return credentialReply(reply, err);
        }
        const controller = new AbortController();
        const onClose = (): void => {
          if (!reply.raw.writableFinished) controller.abort();
        };
        reply.raw.once('close', onClose);
        const started = performance.now();
        let status = 200;
        try {
          const params = readParams(
            { method: request.method, url: request.url, headers: request.headers, body: request.body },
            spec,
          );
          const body = await handler({ request, principal, params, signal: controller.signal });
          return reply.code(200).type('application/json; charset=utf-8').send(body);
        } catch (err) {
          if (err instanceof HttpError) {
            status = err.status;
            return text(reply, err.status, err.message, err.headers);
          }
          if (err instanceof ParamError || err instanceof LogQLParseError) {
            status = 400;
            return text(reply, 400, err.message);
          }
          if (err instanceof LogQLEvalError) {
            status = err.status;
            return text(reply, err.status, err.message);
          }
          status = 500;
          logger.error({ err, url: request.url }, 'loki api request failed');
          return text(reply, 500, 'internal error while answering the query');
        } finally {
          reply.raw.off('close', onClose);
          metrics.queryDuration.observe(
            { endpoint, code: String(status) },
            (performance.now() - started) / 1000,
          );
        }
      };
    const getPost = (url: string, endpoint: string, spec: ParamSpec, handler: Handler): void => {
      scope.route({ method: ['GET', 'POST'], url, handler: route(endpoint, spec, handler) });
    };

    getPost('/loki/api/v1/query', 'query', {}, async ({ principal, params, signal }) => {
      const expr = parseLogQL(params.raw('query') ?? '');
      if (expr.kind === 'logSelector') {
        throw new HttpError(
          400,
          'log queries are not supported as an instant query type; use query_range for log queries',
        );
      }
      const timeText = params.get('time');
      const t = timeText !== undefined ? parseLokiTime('time', timeText).ms : now();
      checkRange(principal, expr, t, t);
      const store = await storeFor(principal.tenantId);
      const engine = new LogQLEngine(store.querier(), engineLimits(principal), signal);
      const result = await engine.evalInstant(scoped(principal, expr), t);
      return queryBody(result, engine.stats);
    });

    getPost('/loki/api/v1/query_range', 'query_range', {}, async ({ principal, params, signal }) => {
      const expr = parseLogQL(params.raw('query') ?? '');
      const { start, end } = timeRange(params, now(), 3600_000);
      checkRange(principal, expr, start.ms, end.ms);
      const store = await storeFor(principal.tenantId);
      const engine = new LogQLEngine(store.querier(), engineLimits(principal), signal);
      if (expr.kind === 'logSelector') {
        const limit = intParam(params, 'limit', 100);
        if (limit < 0) throw new ParamError('limit', 'limit must be a non-negative integer');
        const streams = await engine.selectLogs(scoped(principal, expr), {
          startMs: start.ms,
          startNs: start.ns,
          endMs: end.ms,
          endNs: end.ns,
          limit,
          direction: directionParam(params),
          intervalMs: durationParam(params, 'interval') ?? 0,
        });
        return queryBody({ type: 'streams', streams }, engine.stats);
      }
      const step = durationParam(params, 'step') ?? defaultStepMs(start.ms, end.ms);
      if (step <= 0)
        throw new ParamError(
          'step',
          'zero or negative query resolution step widths are not accepted; try a positive integer',
        );
      const result = await engine.evalRange(scoped(principal, expr), start.ms, end.ms, step);
      return queryBody(result, engine.stats);
    });

    const labelsHandler: Handler = async ({ principal, params }) => {
      const { start, end } = timeRange(params, now(), 6 * 3600_000);
      const matchers = selectorMatchers(principal, params.get('query'));
      const store = await storeFor(principal.tenantId);
      return JSON.stringify({
        status: 'success',
        data: store.querier().labelNames(matchers, start.ms, end.ms),
      });
    };
    getPost('/loki/api/v1/labels', 'labels', {}, labelsHandler);
    getPost('/loki/api/v1/label', 'labels', {}, labelsHandler);

    scope.get(
      '/loki/api/v1/label/:name/values',
      route('label_values', {}, async ({ request, principal, params }) => {
        const name = (request.params as { name: string }).name;
        if (!isValidLabelName(name)) throw new HttpError(400, `invalid label name ${JSON.stringify(name)}`);
        const { start, end } = timeRange(params, now(), 6 * 3600_000);
        const matchers = selectorMatchers(principal, params.get('query'));
        const store = await storeFor(principal.tenantId);
        return JSON.stringify({
          status: 'success',
          data: store.querier().labelValues(name, matchers, start.ms, end.ms),
        });
      }),
    );

    getPost(
      '/loki/api/v1/series',
      'series',
      { multi: ['match[]', 'match'] },
      async ({ principal, params }) => {
        const selectors = [...params.getAll('match[]'), ...params.getAll('match')];
        if (selectors.length === 0)
          throw new ParamError('match[]', 'at least one match[] argument must be provided');
        const { start, end } = timeRange(params, now(), 3600_000);
        const store = await storeFor(principal.tenantId);
        const q = store.querier();
        const seen = new Map<number, Record<string, string>>();
        for (const text of selectors) {
          const matchers = injectTenantMatchers(parseStreamSelector(text), tenantLabel, principal.tenantSlug);
          for (const s of q.streams(matchers, start.ms, end.ms)) {
            if (!seen.has(s.id)) seen.set(s.id, Object.fromEntries(s.labels.map((l) => [l.name, l.value])));
          }
        }
        return JSON.stringify({ status: 'success', data: [...seen.values()] });
      },
    );

    getPost('/loki/api/v1/index/stats', 'index_stats', {}, async ({ principal, params }) => {
      const { start, end } = timeRange(params, now(), 3600_000);
      const matchers = selectorMatchers(principal, params.raw('query') ?? '{}');
      const store = await storeFor(principal.tenantId);
      return JSON.stringify(store.querier().stats(matchers, start.ms, end.ms));
    });

    getPost('/loki/api/v1/format_query', 'format_query', {}, async ({ params }) => {
      return JSON.stringify({ status: 'success', data: formatExpr(parseLogQL(params.raw('query') ?? '')) });
    });

    // Grafana reads the build info to learn which API features exist.
    scope.get(
      '/loki/api/v1/status/buildinfo',
      route('buildinfo', {}, async () =>
        JSON.stringify({
          version: '2.9.0',
          revision: 'irin',
          branch: '',
          buildUser: 'irin',
          buildDate: '',
          goVersion: '',
        }),
      ),
    );

    // Deny by default: nothing else under /loki answers.
    scope.all('/loki/*', async (request, reply) =>
      text(
        reply,
        404,
        `404 page not found: ${request.method} ${request.url.split('?')[0]} is not a Loki API endpoint`,
      ),
    );
  });

  // ---------------------------------------------------------------- tail (WebSocket)

  if (!app.hasDecorator('websocketServer')) {
    const websocket = (await import('@fastify/websocket')).default;
    await app.register(websocket);
  }
  await app.register(async (scope) => {
    const prepared = new WeakMap<FastifyRequest, Parameters<typeof runTail>[1]>();
    scope.addHook('preValidation', async (request, reply) => {
      let principal: ReadPrincipal;
      try {
        principal = await deps.authenticator.authenticateRead(request);
      } catch (err) {
        return credentialReply(reply, err);
      }
      try {
        const params = readParams({ method: request.method, url: request.url, headers: request.headers });
        const expr = parseLogQL(params.raw('query') ?? '');
        if (expr.kind !== 'logSelector')
          throw new HttpError(400, 'tail only accepts log queries, not metric queries');
        const delay = intParam(params, 'delay_for', 0);
        if (delay < 0 || delay > 5)
          throw new ParamError('delay_for', 'delay_for can not be larger than 5 seconds or negative');
        const limit = intParam(params, 'limit', 100);
        const maxEntries = deps.maxEntriesLimitPerQuery ?? DEFAULT_ENGINE_LIMITS.maxEntries;
        if (limit < 0 || limit > maxEntries)
          throw new ParamError('limit', `limit must be between 0 and max_entries_limit (${maxEntries})`);
        const startText = params.get('start');
        const startMs = startText !== undefined ? parseLokiTime('start', startText).ms : now() - 3600_000;
        const store = await storeFor(principal.tenantId);
        prepared.set(request, {
          selector: scoped(principal, expr),
          store,
          startMs,
          limit,
          delayMs: delay * 1000,
          limits: engineLimits(principal),
          now,
        });
      } catch (err) {
        if (err instanceof HttpError) return text(reply, err.status, err.message, err.headers);
        if (err instanceof ParamError || err instanceof LogQLParseError) return text(reply, 400, err.message);
        throw err;
      }
      return undefined;
    });
    scope.get('/loki/api/v1/tail', { websocket: true }, (socket, request) => {
      const req = prepared.get(request);
      if (!req) {
        socket.close(1008, 'not authorized');
        return;
      }
      void runTail(socket, req, (err) => logger.warn({ err }, 'loki tail: send failed'));
    });
  });
}
