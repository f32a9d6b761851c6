/**
 * Org-scoped JSON API over endpoint results, for the console's Endpoint Status views:
 *
 *   GET /api/v1/endpoints/status                 every endpoint of the caller's org, summarised
 *   GET /api/v1/endpoints/:id/status             one endpoint: state, last result, uptime, TLS
 *   GET /api/v1/endpoints/:id/uptime             uptime over 24h / 7d / 30d / 90d
 *   GET /api/v1/endpoints/:id/calendar?days=&tz= daily buckets, local midnights of `tz`
 *   GET /api/v1/endpoints/:id/incidents?days=    incidents overlapping the last `days` days
 *
 * The org is the one of the read credential (API key or console session); every lookup goes
 * through `endpointsFor(principal.tenantId)`, so another org's endpoint id answers 404 exactly
 * like an id that does not exist. Headers (and their secret values) are never part of an answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CredentialError } from '../auth/request-auth.ts';
import type { RequestAuthenticator } from '../auth/request-auth.ts';
import type { ReadPrincipal } from '../auth/principal.ts';
import type { Querier } from '../tsdb/types.ts';
import { PROBE_JOB } from './metrics.ts';
import type { FailureReason, ProbeOutcome, ProbeStateEvent, ProbeTarget } from './types.ts';
import {
  assertTimeZone,
  findIncidents,
  querierSampleLoader,
  uptimeCalendar,
  uptimeWindows,
} from './uptime.ts';
import type { UptimeSummary, UptimeWindow } from './uptime.ts';

/** What the API needs to know of an endpoint (a store row fits; headers are not needed). */
export type EndpointInfo = Pick<
  ProbeTarget,
  'id' | 'tenantId' | 'name' | 'url' | 'method' | 'intervalSeconds' | 'timeoutSeconds'
> & {
  readonly enabled: boolean;
};

export interface ProbeApiDeps {
  readonly authenticator: Pick<RequestAuthenticator, 'authenticateRead'>;
  /** Every endpoint (enabled or not) of ONE tenant. */
  endpointsFor(tenantId: number): Promise<readonly EndpointInfo[]> | readonly EndpointInfo[];
  /** Read access to ONE tenant's TSDB partition. */
  querierFor(tenantId: number): Promise<Querier> | Querier;
  /** The tenant's endpoint state changes (probe-events.jsonl), any order. */
  eventsFor(tenantId: number): Promise<readonly ProbeStateEvent[]> | readonly ProbeStateEvent[];
  /** The prober's in-memory latest outcome, when it runs in this process (ProbeScheduler.lastResult). */
  lastResult?(tenantId: number, endpointId: number): ProbeOutcome | undefined;
  /** A sample older than gapFactor × interval means "no data". Default 2. */
  readonly gapFactor?: number;
  readonly now?: () => number;
}

export type EndpointState = 'up' | 'down' | 'no_data' | 'paused';

export interface LastResult {
  readonly t: number;
  readonly success: boolean;
  readonly statusCode: number;
  readonly durationSeconds: number | null;
  readonly reason: FailureReason | null;
  /** Where it came from: the running prober, or the stored samples after a restart. */
  readonly source: 'prober' | 'tsdb';
}

class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_CALENDAR_DAYS = 366;
const MAX_INCIDENT_DAYS = 366;

function intParam(raw: unknown, name: string, def: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ApiError(400, 'bad_data', `${name} must be an integer from 1 to ${max}`);
  return n;
}

function latestSample(
  querier: Querier,
  metric: string,
  name: string,
  from: number,
  to: number,
): { t: number; v: number } | null {
  let best: { t: number; v: number } | null = null;
  const series = querier.select(
    [
      { name: '__name__', type: '=', value: metric },
      { name: 'job', type: '=', value: PROBE_JOB },
      { name: 'endpoint', type: '=', value: name },
    ],
    from,
    to,
  );
  for (const s of series) {
    for (let i = s.timestamps.length - 1; i >= 0; i--) {
      const v = s.values[i]!;
      if (Number.isNaN(v)) continue;
      if (!best || s.timestamps[i]! > best.t) best = { t: s.timestamps[i]!, v };
      break;
    }
  }
  return best;
}

export async function probeApiRoutes(app: FastifyInstance, deps: ProbeApiDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const gapFactor = deps.gapFactor ?? 2;

  async function principal(request: FastifyRequest): Promise<ReadPrincipal> {
    return deps.authenticator.authenticateRead(request);
  }

  async function findEndpoint(tenantId: number, rawId: string): Promise<EndpointInfo> {
    const id = Number(rawId);
    const list = Number.isInteger(id) ? await deps.endpointsFor(tenantId) : [];
    // Filtering by tenant again is belt and braces: endpointsFor is already org-scoped.
    const ep = list.find((e) => e.id === id && e.tenantId === tenantId);
    if (!ep) throw new ApiError(404, 'not_found', `endpoint ${JSON.stringify(rawId)} not found`);
    return ep;
  }

  async function lastResultOf(
    ep: EndpointInfo,
    querier: Querier,
    events: readonly ProbeStateEvent[],
  ): Promise<LastResult | null> {
    const mem = deps.lastResult?.(ep.tenantId, ep.id);
    if (mem) {
      return {
        t: mem.startedAt,
        success: mem.success,
        statusCode: mem.statusCode,
        durationSeconds: mem.durationSeconds,
        reason: mem.reason,
        source: 'prober',
      };
    }
    const to = now();
    const from = to - Math.max(10 * ep.intervalSeconds * 1000, 3_600_000);
    const success = latestSample(querier, 'probe_success', ep.name, from, to);
    if (!success) return null;
    const status = latestSample(querier, 'probe_http_status_code', ep.name, success.t, success.t);
    const duration = latestSample(querier, 'probe_duration_seconds', ep.name, success.t, success.t);
    let reason: FailureReason | null = null;
    if (success.v < 1) {
      const down = events
        .filter((e) => e.endpointId === ep.id && e.state === 'down' && e.t <= success.t)
        .sort((a, b) => b.t - a.t)[0];
      reason = down?.reason ?? null;
    }
    return {
      t: success.t,
      success: success.v >= 1,
      statusCode: status?.v ?? 0,
      durationSeconds: duration?.v ?? null,
      reason,
      source: 'tsdb',
    };
  }

  function stateOf(ep: EndpointInfo, last: LastResult | null): EndpointState {
    if (!ep.enabled) return 'paused';
    if (!last || now() - last.t > gapFactor * ep.intervalSeconds * 1000) return 'no_data';
    return last.success ? 'up' : 'down';
  }

  const describe = (ep: EndpointInfo) => ({
    id: ep.id,
    name: ep.name,
    url: ep.url,
    method: ep.method || 'GET',
    intervalSeconds: ep.intervalSeconds,
    timeoutSeconds: ep.timeoutSeconds,
    enabled: ep.enabled,
  });

  async function summary(ep: EndpointInfo, querier: Querier, events: readonly ProbeStateEvent[]) {
    const last = await lastResultOf(ep, querier, events);
    const load = querierSampleLoader(querier, ep.name);
    const windows = await uptimeWindows(load, { intervalSeconds: ep.intervalSeconds, gapFactor }, now());
    return {
      ...describe(ep),
      state: stateOf(ep, last),
      lastResult: last,
      uptime: windows as Record<UptimeWindow, UptimeSummary>,
    };
  }

  function handle<T>(fn: (request: FastifyRequest, p: ReadPrincipal) => Promise<T>) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        const p = await principal(request);
        const data = await fn(request, p);
        return reply.send({ status: 'success', data });
      } catch (err) {
        if (err instanceof CredentialError) {
          if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
          return reply
            .code(err.status)
            .send({ status: 'error', errorType: 'unauthorized', error: err.message });
        }
        if (err instanceof ApiError)
          return reply
            .code(err.statusCode)
            .send({ status: 'error', errorType: err.errorType, error: err.message });
        if (err instanceof RangeError)
          return reply.code(400).send({ status: 'error', errorType: 'bad_data', error: err.message });
        request.log.error({ err }, 'endpoint status API failed');
        return reply.code(500).send({ status: 'error', errorType: 'internal', error: 'internal error' });
      }
    };
  }

  type IdParams = { Params: { id: string }; Querystring: Record<string, string | undefined> };

  app.get(
    '/api/v1/endpoints/status',
    handle(async (_req, p) => {
      const [list, querier, events] = await Promise.all([
        deps.endpointsFor(p.tenantId),
        deps.querierFor(p.tenantId),
        deps.eventsFor(p.tenantId),
      ]);
      const mine = list.filter((e) => e.tenantId === p.tenantId);
      const out = [];
      for (const ep of mine) out.push(await summary(ep, querier, events));
      return out;
    }),
  );

  app.get<IdParams>(
    '/api/v1/endpoints/:id/status',
    handle(async (req, p) => {
      const ep = await findEndpoint(p.tenantId, (req.params as IdParams['Params']).id);
      const [querier, events] = await Promise.all([deps.querierFor(p.tenantId), deps.eventsFor(p.tenantId)]);
      const base = await summary(ep, querier, events);
      const mem = deps.lastResult?.(ep.tenantId, ep.id);
      return {
        ...base,
        // Details only the live prober has (phases, TLS facts); null after a restart until the next probe.
        lastProbe: mem
          ? {
              phases: mem.phases,
              redirects: mem.redirects,
              finalUrl: mem.finalUrl,
              httpVersion: mem.httpVersion,
              tls: mem.tls,
              bodyBytes: mem.bodyBytes,
              bodyTruncated: mem.bodyTruncated,
            }
          : null,
      };
    }),
  );

  app.get<IdParams>(
    '/api/v1/endpoints/:id/uptime',
    handle(async (req, p) => {
      const ep = await findEndpoint(p.tenantId, (req.params as IdParams['Params']).id);
      const querier = await deps.querierFor(p.tenantId);
      return {
        method: 'time-weighted',
        windows: await uptimeWindows(
          querierSampleLoader(querier, ep.name),
          { intervalSeconds: ep.intervalSeconds, gapFactor },
          now(),
        ),
      };
    }),
  );

  app.get<IdParams>(
    '/api/v1/endpoints/:id/calendar',
    handle(async (req, p) => {
      const q = req.query as IdParams['Querystring'];
      const days = intParam(q.days, 'days', 30, MAX_CALENDAR_DAYS);
      const tz = q.tz || 'UTC';
      assertTimeZone(tz);
      const ep = await findEndpoint(p.tenantId, (req.params as IdParams['Params']).id);
      const querier = await deps.querierFor(p.tenantId);
      const calendar = await uptimeCalendar(
        querierSampleLoader(querier, ep.name),
        { intervalSeconds: ep.intervalSeconds, gapFactor, days, timeZone: tz },
        now(),
      );
      return { timeZone: tz, days: calendar };
    }),
  );

  app.get<IdParams>(
    '/api/v1/endpoints/:id/incidents',
    handle(async (req, p) => {
      const q = req.query as IdParams['Querystring'];
      const days = intParam(q.days, 'days', 90, MAX_INCIDENT_DAYS);
      const ep = await findEndpoint(p.tenantId, (req.params as IdParams['Params']).id);
      const [querier, events] = await Promise.all([deps.querierFor(p.tenantId), deps.eventsFor(p.tenantId)]);
      const to = now();
      const mine = events.filter((e) => e.endpointId === ep.id);
      return findIncidents(
        querierSampleLoader(querier, ep.name),
        { intervalSeconds: ep.intervalSeconds, gapFactor },
        { from: to - days * 86_400_000, now: to },
        mine,
      );
    }),
  );
}
