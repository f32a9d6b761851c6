import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReadPrincipal } from '../../auth/principal.ts';
import { CredentialError, type RequestAuthenticator } from '../../auth/request-auth.ts';
import { isValidLabelName, labelsKey, METRIC_NAME_LABEL, type Labels } from '../../model/labels.ts';
import { matchesEmpty, type Matcher } from '../../model/matchers.ts';
import { walkExpr, type Expr } from '../../promql/ast.ts';
import { PromqlEngine } from '../../promql/engine.ts';
import { compareLabelSets } from '../../promql/engine/labelset.ts';
import { QueryError } from '../../promql/errors.ts';
import { prettyExpr } from '../../promql/format.ts';
import { injectTenantMatcher, scopeMatchers } from '../../promql/inject.ts';
import { formatPromDuration, goQuote } from '../../promql/literals.ts';
import { ParseError, parseExpr, parseSeriesSelector } from '../../promql/parser.ts';
import type { Querier } from '../../tsdb/types.ts';
import { IRIN_VERSION } from '../../observability/version.ts';
import {
  ParamError,
  parseDurationParam,
  parseTimeParam,
  readParams,
  type ParamSpec,
  type RequestParams,
} from '../params.ts';
import {
  ERROR_STATUS,
  encodeLabels,
  encodeQueryDataCooperatively,
  errorBody,
  successBody,
  type ApiErrorType,
} from './encode.ts';

/**
 * The Prometheus HTTP API (`/api/v1/...`), scoped to the caller's tenant twice over: the querier
 * is the tenant's own partition (layer 4), and every selector of every query and `match[]` gets
 * the tenant matcher (layer 2). Tenant-routing headers such as X-Scope-OrgID are never read.
 * Unknown paths answer 404 in Prometheus's error format.
 */

export interface MetricMetadata {
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

export interface PrometheusApiDeps {
  readonly authenticator: RequestAuthenticator;
  /** The tenant's own TSDB partition. */
  querierFor(tenantId: number): Promise<Querier>;
  metadataFor?(
    tenantId: number,
    metric?: string,
    limit?: number,
  ): Promise<Record<string, MetricMetadata[]>> | Record<string, MetricMetadata[]>;
  /** The label the edge enforces on write (`tenant`), injected into every read. */
  readonly tenantLabel: string;
  readonly engine?: PromqlEngine;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

/**
 * A querier that can list matching series without reading their samples. Not part of the TSDB
 * contract (src/tsdb/types.ts) yet; used when a querier offers it, else `select` is used.
 */
interface SeriesListing {
  listSeries?(matchers: readonly Matcher[], mint: number, maxt: number): readonly Labels[];
}

export class ApiError extends Error {
  constructor(
    readonly errorType: ApiErrorType,
    message: string,
  ) {
    super(message);
  }
}

const MIN_TIME = -9_223_372_036_854; // Prometheus's minTime/maxTime, in ms
const MAX_TIME = 9_223_372_036_854;
const MAX_POINTS = 11_000;

const CREDENTIAL_ERROR_TYPES: Record<CredentialError['status'], string> = {
  401: 'unauthorized',
  403: 'forbidden',
  429: 'too_many_requests',
  503: 'unavailable',
};

function invalidParam(param: string, err: unknown): ApiError {
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError('bad_data', `invalid parameter ${JSON.stringify(param)}: ${message}`);
}

function timeParam(params: RequestParams, name: string, fallback: number): number {
  const text = params.get(name);
  if (text === undefined) return fallback;
  try {
    return parseTimeParam(text);
  } catch (err) {
    throw invalidParam(name, `Invalid time value for '${name}': ${(err as Error).message}`);
  }
}

function requiredTime(params: RequestParams, name: string): number {
  try {
    return parseTimeParam(params.get(name) ?? '');
  } catch (err) {
    throw invalidParam(name, err);
  }
}

function parseQuery(text: string): Expr {
  try {
    return parseExpr(text);
  } catch (err) {
    if (err instanceof ParseError) throw invalidParam('query', err);
    throw err;
  }
}

function parseMatchSets(params: RequestParams): Matcher[][] {
  const sets: Matcher[][] = [];
  for (const text of params.getAll('match[]')) {
    let matchers: readonly Matcher[];
    try {
      matchers = parseSeriesSelector(text).matchers;
    } catch (err) {
      throw invalidParam('match[]', err);
    }
    if (!matchers.some((m) => !matchesEmpty(m))) {
      throw new ApiError('bad_data', 'match[] must contain at least one non-empty matcher');
    }
    sets.push([...matchers]);
  }
  return sets;
}

/** The longest stretch of history any selector of the query reads back from one evaluation step. */
export function longestWindowMs(expr: Expr): number {
  let longest = 0;
  walkExpr(expr, (node, path) => {
    if (node.type !== 'MatrixSelector' && node.type !== 'SubqueryExpr') return;
    let total = node.rangeMs;
    for (const p of path) if (p.type === 'SubqueryExpr') total += p.rangeMs;
    longest = Math.max(longest, total);
  });
  return longest;
}

interface Handler {
  (ctx: HandlerContext): Promise<string>;
}

interface HandlerContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly principal: ReadPrincipal;
  readonly params: RequestParams;
  readonly signal: AbortSignal;
}

export async function prometheusApiRoutes(app: FastifyInstance, deps: PrometheusApiDeps): Promise<void> {
  const engine = deps.engine ?? new PromqlEngine();
  const now = deps.now ?? Date.now;

  // Bodies are kept raw and parsed once by readParams (form bodies only; anything else is refused there).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const send = (reply: FastifyReply, status: number, body: string): FastifyReply =>
    reply.code(status).header('content-type', 'application/json').send(body);

  const route =
    (spec: ParamSpec, handler: Handler) => async (request: FastifyRequest, reply: FastifyReply) => {
      let principal: ReadPrincipal;
      try {
        principal = await deps.authenticator.authenticateRead(request);
      } catch (err) {
        if (err instanceof CredentialError) {
          if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
          return send(reply, err.status, errorBody(CREDENTIAL_ERROR_TYPES[err.status], err.message));
        }
        throw err;
      }
      const controller = new AbortController();
      const onClose = (): void => {
        if (!reply.raw.writableFinished) controller.abort();
      };
      reply.raw.once('close', onClose);
      try {
        const params = readParams(
          { method: request.method, url: request.url, headers: request.headers, body: request.body },
          spec,
        );
        const data = await handler({ request, reply, principal, params, signal: controller.signal });
        return send(reply, 200, successBody(data));
      } catch (err) {
        if (err instanceof ApiError)
          return send(reply, ERROR_STATUS[err.errorType], errorBody(err.errorType, err.message));
        if (err instanceof ParamError) {
          return send(reply, 400, errorBody('bad_data', err.message));
        }
        if (err instanceof QueryError)
          return send(reply, ERROR_STATUS[err.errorType], errorBody(err.errorType, err.message));
        request.log.error({ err }, 'prometheus API request failed');
        return send(reply, 500, errorBody('internal', 'internal error'));
      } finally {
        reply.raw.off('close', onClose);
      }
    };

  const scoped = (principal: ReadPrincipal, matchers: readonly Matcher[]): Matcher[] =>
    scopeMatchers(matchers, deps.tenantLabel, principal.tenantSlug);

  const queryLimits = (ctx: HandlerContext) => {
    const limits = ctx.principal.limits;
    let timeoutMs = limits.queryTimeoutMs;
    let timeoutLimitName = 'queryTimeoutMs';
    const timeoutText = ctx.params.get('timeout');
    if (timeoutText !== undefined) {
      let requested: number;
      try {
        requested = parseDurationParam(timeoutText);
      } catch (err) {
        throw invalidParam('timeout', err);
      }
      if (requested < timeoutMs) {
        timeoutMs = requested;
        timeoutLimitName = 'timeout';
      }
    }
    return {
      timeoutMs,
      timeoutLimitName,
      maxSamples: limits.maxQuerySamples,
      maxSamplesLimitName: 'maxQuerySamples',
      signal: ctx.signal,
    };
  };

  const checkWindow = (ctx: HandlerContext, expr: Expr): void => {
    const limit = ctx.principal.limits.maxQueryRangeMs;
    const window = longestWindowMs(expr);
    if (window > limit) {
      throw new ApiError(
        'bad_data',
        `the query's range selector or subquery reaches back ${formatPromDuration(window)}, more than the limit (maxQueryRangeMs=${formatPromDuration(limit)})`,
      );
    }
  };

  const instantQuery: Handler = async (ctx) => {
    const time = timeParam(ctx.params, 'time', now());
    const limits = queryLimits(ctx);
    const expr = parseQuery(ctx.params.raw('query') ?? '');
    checkWindow(ctx, expr);
    const scopedExpr = injectTenantMatcher(expr, deps.tenantLabel, ctx.principal.tenantSlug);
    const querier = await deps.querierFor(ctx.principal.tenantId);
    return encodeQueryDataCooperatively(await engine.instantQuery(querier, scopedExpr, time, limits));
  };

  const rangeQuery: Handler = async (ctx) => {
    const start = requiredTime(ctx.params, 'start');
    const end = requiredTime(ctx.params, 'end');
    if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
    let step: number;
    try {
      step = parseDurationParam(ctx.params.get('step') ?? '');
    } catch (err) {
      throw invalidParam('step', err);
    }
    if (step <= 0) {
      throw invalidParam(
        'step',
        'zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    }
    if (Math.floor((end - start) / step) > MAX_POINTS) {
      throw new ApiError(
        'bad_data',
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    }
    const maxRange = ctx.principal.limits.maxQueryRangeMs;
    if (end - start > maxRange) {
      throw new ApiError(
        'bad_data',
        `the query time range exceeds the limit (query length: ${formatPromDuration(end - start)}, limit: maxQueryRangeMs=${formatPromDuration(maxRange)})`,
      );
    }
    const limits = queryLimits(ctx);
    let expr: Expr;
    try {
      expr = parseExpr(ctx.params.raw('query') ?? '');
    } catch (err) {
      if (err instanceof ParseError) throw new ApiError('bad_data', err.message);
      throw err;
    }
    checkWindow(ctx, expr);
    const scopedExpr = injectTenantMatcher(expr, deps.tenantLabel, ctx.principal.tenantSlug);
    const querier = await deps.querierFor(ctx.principal.tenantId);
    return encodeQueryDataCooperatively(
      await engine.rangeQuery(querier, scopedExpr, start, end, step, limits),
    );
  };

  const series: Handler = async (ctx) => {
    if (ctx.params.getAll('match[]').length === 0)
      throw new ApiError('bad_data', 'no match[] parameter provided');
    const start = timeParam(ctx.params, 'start', MIN_TIME);
    const end = timeParam(ctx.params, 'end', MAX_TIME);
    const sets = parseMatchSets(ctx.params);
    const querier: Querier & SeriesListing = await deps.querierFor(ctx.principal.tenantId);
    const found = new Map<string, Labels>();
    for (const set of sets) {
      const matchers = scoped(ctx.principal, set);
      const list =
        typeof querier.listSeries === 'function'
          ? querier.listSeries(matchers, start, end)
          : querier.select(matchers, start, end).map((s) => s.labels);
      for (const labels of list) found.set(labelsKey(labels), labels);
    }
    const list = [...found.values()].sort(compareLabelSets);
    return '[' + list.map(encodeLabels).join(',') + ']';
  };

  const labelNames: Handler = async (ctx) => {
    const start = timeParam(ctx.params, 'start', MIN_TIME);
    const end = timeParam(ctx.params, 'end', MAX_TIME);
    const sets = parseMatchSets(ctx.params);
    const querier = await deps.querierFor(ctx.principal.tenantId);
    const names = new Set<string>();
    for (const set of sets.length ? sets : [[]]) {
      for (const n of querier.labelNames(scoped(ctx.principal, set), start, end)) names.add(n);
    }
    return JSON.stringify([...names].sort());
  };

  const labelValues: Handler = async (ctx) => {
    const name = (ctx.request.params as { name: string }).name;
    if (!isValidLabelName(name)) throw new ApiError('bad_data', `invalid label name: ${goQuote(name)}`);
    const start = timeParam(ctx.params, 'start', MIN_TIME);
    const end = timeParam(ctx.params, 'end', MAX_TIME);
    const sets = parseMatchSets(ctx.params);
    const querier = await deps.querierFor(ctx.principal.tenantId);
    const values = new Set<string>();
    for (const set of sets.length ? sets : [[]]) {
      for (const v of querier.labelValues(name, scoped(ctx.principal, set), start, end)) values.add(v);
    }
    return JSON.stringify([...values].sort());
  };

  const metadata: Handler = async (ctx) => {
    let limit: number | undefined;
    const limitText = ctx.params.get('limit');
    if (limitText !== undefined) {
      if (!/^-?\d+$/.test(limitText)) throw new ApiError('bad_data', 'limit must be a number');
      limit = Number(limitText);
      if (limit < 0) limit = undefined;
    }
    const metric = ctx.params.get('metric');
    if (!deps.metadataFor) return '{}';
    const stored = await deps.metadataFor(ctx.principal.tenantId, metric);
    // Metadata carries no labels, so it is also scoped by the label guard: only metric names the
    // tenant has series for (under the injected tenant matcher) are returned.
    const querier = await deps.querierFor(ctx.principal.tenantId);
    const own = new Set(querier.labelValues(METRIC_NAME_LABEL, scoped(ctx.principal, []), MIN_TIME, MAX_TIME));
    const result: Record<string, MetricMetadata[]> = {};
    let count = 0;
    for (const [name, entries] of Object.entries(stored)) {
      if (!own.has(name)) continue;
      if (limit !== undefined && count >= limit) break;
      result[name] = entries;
      count++;
    }
    return JSON.stringify(result);
  };

  const exemplars: Handler = async (ctx) => {
    const start = timeParam(ctx.params, 'start', MIN_TIME);
    const end = timeParam(ctx.params, 'end', MAX_TIME);
    if (end < start) throw new ApiError('bad_data', 'end timestamp must not be before start timestamp');
    parseQuery(ctx.params.raw('query') ?? '');
    return '[]';
  };

  const formatQuery: Handler = async (ctx) =>
    JSON.stringify(prettyExpr(parseQuery(ctx.params.raw('query') ?? '')));

  const buildInfo: Handler = async () =>
    JSON.stringify({
      version: '2.42.0',
      revision: `irin-${IRIN_VERSION}`,
      branch: 'irin',
      buildUser: 'irin',
      buildDate: '',
      goVersion: 'none (Irin, Node.js)',
    });

  const multiMatch: ParamSpec = { multi: ['match[]'] };
  const both = (path: string, spec: ParamSpec, handler: Handler): void => {
    app.get(path, route(spec, handler));
    app.post(path, route(spec, handler));
  };
  both('/api/v1/query', {}, instantQuery);
  both('/api/v1/query_range', {}, rangeQuery);
  both('/api/v1/series', multiMatch, series);
  both('/api/v1/labels', multiMatch, labelNames);
  app.get('/api/v1/label/:name/values', route(multiMatch, labelValues));
  app.get('/api/v1/metadata', route({}, metadata));
  both('/api/v1/query_exemplars', {}, exemplars);
  both('/api/v1/format_query', {}, formatQuery);
  app.get('/api/v1/status/buildinfo', route({}, buildInfo));

  app.setNotFoundHandler((request, reply) => {
    send(
      reply,
      404,
      errorBody('not_found', `unknown API endpoint ${request.method} ${request.url.split('?')[0]}`),
    );
  });
}
