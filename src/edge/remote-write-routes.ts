import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { PushPrincipal } from '../auth/principal.ts';
import { CredentialError, type RequestAuthenticator } from '../auth/request-auth.ts';
import type { TenantTsdb } from '../tsdb/types.ts';
import { edgeMetrics } from './edge-metrics.ts';
import type { EnforcementPolicy } from './enforce-labels.ts';
import { RemoteWriteIngester, type EdgeLogger, type IngestResponse } from './ingest.ts';
import type { MetadataStore } from './metadata-store.ts';
import { RejectionReporter } from './rejection-reporter.ts';
import { describePrincipal, type RejectionReason, type RejectionReport } from './rejections.ts';
import type { SeriesLabelValidatorOptions } from './series-labels.ts';

export interface RemoteWriteDeps {
  readonly authenticator: RequestAuthenticator;
  /** The tenant's TSDB partition; a rejection (storage unavailable) is answered 503. */
  tsdbFor(tenantId: number): Promise<TenantTsdb>;
  readonly enforcement: EnforcementPolicy;
  /** prom-client registry the edge's self-metrics are registered in. */
  readonly registry: Registry;
  readonly metadata: MetadataStore;
  /** Called at most once per second per tenant, server and reason, for `irin server check`. */
  readonly onRejection?: (report: RejectionReport) => void;
  /** Defaults to the Fastify instance's logger. */
  readonly logger?: EdgeLogger;
  /** Clock in ms (tests); Date.now by default. */
  readonly now?: () => number;
  readonly labelCache?: SeriesLabelValidatorOptions;
}

export const REMOTE_WRITE_PATHS = ['/api/v1/write', '/api/v1/push'] as const;

/** Thrown from the body parser: already the answer to send. */
class EdgeReplyError extends Error {
  constructor(readonly response: IngestResponse) {
    super(response.body.trim());
  }
}

const CREDENTIAL_REASONS: Record<CredentialError['status'], RejectionReason> = {
  401: 'unauthorized',
  403: 'forbidden',
  429: 'auth_throttled',
  503: 'auth_unavailable',
};

const REMOTE_WRITE_V1_MESSAGE = 'prometheus.WriteRequest';
const REMOTE_WRITE_V2_MESSAGE = 'io.prometheus.write.v2.Request';

/**
 * Why a Content-Type is not a remote-write 1.0 body, or undefined when it is. An absent header is
 * taken as 1.0, as Prometheus does for senders that predate the spec.
 */
export function contentTypeProblem(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const [media = '', ...params] = header.split(';');
  if (media.trim().toLowerCase() !== 'application/x-protobuf') {
    return `Content-Type "${header}" is not supported; remote write 1.0 sends application/x-protobuf`;
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'proto') continue;
    const proto = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (proto === REMOTE_WRITE_V1_MESSAGE) continue;
    if (proto === REMOTE_WRITE_V2_MESSAGE) {
      return `remote write 2.0 (${REMOTE_WRITE_V2_MESSAGE}) is not supported yet; configure the sender for remote write 1.0 (protobuf_message: ${REMOTE_WRITE_V1_MESSAGE})`;
    }
    return `protobuf message "${proto}" is not supported; only ${REMOTE_WRITE_V1_MESSAGE} (remote write 1.0) is`;
  }
  return undefined;
}

/**
 * Prometheus remote write 1.0 receiver: `POST /api/v1/write` and `/api/v1/push` (Mimir's path).
 * Registers its routes, hooks, raw-body parser and error handler in a child scope, so nothing
 * leaks to other routes whether it is called directly or through `app.register`.
 *
 * Order of checks (cheapest first, and nothing read before the caller is known): credentials →
 * Content-Type / Content-Encoding → Content-Length → body read with the size limit → snappy length
 * preamble → decode → validate and enforce → rate limits → append with series limits.
 */
export async function remoteWriteRoutes(app: FastifyInstance, deps: RemoteWriteDeps): Promise<void> {
  const logger: EdgeLogger = deps.logger ?? app.log;
  const now = deps.now ?? Date.now;
  const metrics = edgeMetrics(deps.registry);
  const ingester = new RemoteWriteIngester({
    tsdbFor: (id) => deps.tsdbFor(id),
    enforcement: deps.enforcement,
    metrics,
    metadata: deps.metadata,
    reporter: new RejectionReporter(deps.onRejection, 1000, (err) =>
      logger.warn({ err }, 'remote write: onRejection hook failed'),
    ),
    logger,
    now,
    ...(deps.labelCache ? { labelCache: deps.labelCache } : {}),
  });
  const principals = new WeakMap<FastifyRequest, PushPrincipal>();

  function send(reply: FastifyReply, r: IngestResponse): FastifyReply {
    reply.code(r.status);
    for (const [name, value] of Object.entries(r.headers)) reply.header(name, value);
    if (r.status === 204) return reply.send();
    return reply.type('text/plain; charset=utf-8').send(r.body);
  }

  function credentialFailure(err: unknown): IngestResponse {
    if (err instanceof CredentialError) {
      const headers: Record<string, string> = {};
      if (err.status === 429 || err.status === 503) {
        headers['retry-after'] = String(err.retryAfterSeconds ?? (err.status === 503 ? 5 : 1));
      }
      return ingester.refuse(undefined, err.status, CREDENTIAL_REASONS[err.status], err.message, { headers });
    }
    logger.error({ err }, 'remote write: the authenticator failed');
    return ingester.refuse(
      undefined,
      503,
      'auth_unavailable',
      'credentials cannot be checked right now; retry later',
      {
        headers: { 'retry-after': '5' },
      },
    );
  }

  function headerProblem(request: FastifyRequest, principal: PushPrincipal): IngestResponse | undefined {
    const who = describePrincipal(principal);
    const typeProblem = contentTypeProblem(request.headers['content-type']);
    if (typeProblem !== undefined) {
      return ingester.refuse(principal, 415, 'unsupported_media_type', `${who}: ${typeProblem}`);
    }
    const encoding = request.headers['content-encoding'];
    // Absent: assumed snappy, as Prometheus does for 1.0 senders (a non-snappy body then fails with 400).
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'snappy') {
      return ingester.refuse(
        principal,
        415,
        'unsupported_media_type',
        `${who}: Content-Encoding "${encoding}" is not supported; remote write bodies are snappy block-compressed (Content-Encoding: snappy)`,
      );
    }
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > principal.limits.maxRequestBytes) return tooLarge(principal, length);
    return undefined;
  }

  function tooLarge(principal: PushPrincipal, length: number | undefined): IngestResponse {
    const size = length === undefined ? 'the request body is' : `the request body of ${length} bytes is`;
    return ingester.refuse(
      principal,
      413,
      'body_too_large',
      `${describePrincipal(principal)}: ${size} over the limit maxRequestBytes=${principal.limits.maxRequestBytes}; ` +
        `send smaller batches (max_samples_per_send)`,
      { headers: { connection: 'close' } },
    );
  }

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (request, payload, done) => {
      const principal = principals.get(request);
      if (principal === undefined) {
        done(new Error('remote write: body parser reached without an authenticated principal'), undefined);
        return;
      }
      readBody(payload, principal.limits.maxRequestBytes).then(
        (body) => done(null, body),
        (err: unknown) =>
          done(
            err === TOO_LARGE ? new EdgeReplyError(tooLarge(principal, undefined)) : (err as Error),
            undefined,
          ),
      );
    });

    scope.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
      if (err instanceof EdgeReplyError) return send(reply, err.response);
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500) logger.error({ err, url: request.url }, 'remote write: request failed');
      return reply
        .code(status)
        .type('text/plain; charset=utf-8')
        .send(
          (status >= 500 ? 'internal error while handling the remote write request' : err.message) + '\n',
        );
    });

    scope.addHook('onRequest', async (request, reply) => {
      let principal: PushPrincipal;
      try {
        principal = await deps.authenticator.authenticatePush(request);
      } catch (err) {
        return send(reply, credentialFailure(err));
      }
      const problem = headerProblem(request, principal);
      if (problem !== undefined) return send(reply, problem);
      principals.set(request, principal);
      return undefined;
    });

    scope.addHook('onResponse', async (_request, reply) => {
      metrics.requestDuration.observe({ code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });

    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const principal = principals.get(request)!;
      const body = Buffer.isBuffer(request.body) ? request.body : EMPTY;
      return send(reply, await ingester.ingest(principal, body));
    };
    for (const path of REMOTE_WRITE_PATHS) scope.post(path, handler);
  });
}

const EMPTY = Buffer.alloc(0);
const TOO_LARGE = Symbol('too large');

/** Reads a request body into one Buffer, failing with TOO_LARGE as soon as it passes `limit` bytes. */
function readBody(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(TOO_LARGE);
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
    const cleanup = (): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
