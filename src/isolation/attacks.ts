import { WebSocket } from 'ws';
import { labelsFromRecord, type Label } from '../model/labels.ts';
import { CANARY_JOB, CANARY_SHARED_METRIC, pushLogs, pushMetrics, type LogStream } from './canaries.ts';
import { basicAuth, bearerAuth, formEncode, rawRequest, type RawResponse } from './http.ts';
import type { Attack, AttackContext, AttackOutcome, Cred } from './types.ts';

/**
 * The cross-tenant attack table: every way tenant A's credentials could read, write or influence
 * tenant B's data over HTTP. One table serves the test suite (test/isolation, which adds its
 * test-only probes and runs it once per switched-off layer) and `irin verify-isolation` against a
 * live deployment. A probe is "breached" when B's data (a series, label value, metric name, log
 * line, object) becomes visible to A, A's write lands where B reads it, or a credential that must
 * be refused is accepted.
 */

type Header = readonly [string, string];

const auth = (c: Cred): Header => ['authorization', basicAuth(c.clientId, c.secret)];

// ----------------------------------------------------------------------------- leak detection

/**
 * Looks for the victim's data in a response: B's random marker anywhere (label values and names,
 * metric names, log lines, endpoint names), B's slug or sample value as a whole string, or a
 * tenant label naming anyone but A (which also catches real tenants of a live deployment).
 * Only the answer's `data` is searched, never an error message (which may echo A's query).
 */
export function foreignData(ctx: AttackContext, body: unknown): string | undefined {
  const root =
    body !== null && typeof body === 'object' && 'data' in body ? (body as { data: unknown }).data : body;
  const { b } = ctx;
  const visit = (v: unknown, depth: number): string | undefined => {
    if (depth > 12) return undefined;
    if (typeof v === 'string') {
      if (v.includes(b.marker)) return `B's canary marker in ${JSON.stringify(v.slice(0, 120))}`;
      if (v === b.slug) return `B's tenant slug ${JSON.stringify(v)}`;
      if (v === b.value) return `B's canary sample value ${v}`;
      return undefined;
    }
    if (Array.isArray(v)) {
      for (const item of v) {
        const found = visit(item, depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (k.includes(b.marker)) return `B's label name ${JSON.stringify(k)}`;
        if (k === ctx.tenantLabel && typeof item === 'string' && item !== ctx.a.slug) {
          return `a series of another tenant (${ctx.tenantLabel}=${JSON.stringify(item)})`;
        }
        const found = visit(item, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  };
  return visit(root, 0);
}

interface Probe {
  readonly what: string;
  readonly res: RawResponse;
  /** Set when this probe shows a breach. */
  readonly breach?: string | undefined;
  /** Set when the answer says nothing either way (the request was rate-limited). */
  readonly inconclusive?: string | undefined;
}

/**
 * Breached when any probe is; the detail names the first breach, or summarises the answers.
 * Throws (the runner reports `error`) when a probe was inconclusive, so that a rate-limited
 * request can never pass for a contained one.
 */
function verdict(probes: readonly Probe[]): AttackOutcome {
  const unclear = probes.find((p) => p.inconclusive);
  if (unclear) throw new Error(`${unclear.what}: ${unclear.inconclusive}`);
  const hit = probes.find((p) => p.breach);
  if (hit) return { breached: true, detail: `${hit.what}: ${hit.breach}` };
  const byStatus = new Map<number, number>();
  for (const p of probes) byStatus.set(p.res.status, (byStatus.get(p.res.status) ?? 0) + 1);
  const statuses = [...byStatus].map(([s, n]) => (n > 1 ? `${n}×${s}` : String(s))).join(', ');
  return {
    breached: false,
    detail: `${probes.length} request${probes.length === 1 ? '' : 's'}, answered ${statuses}`,
  };
}

const leakProbe = (ctx: AttackContext, what: string, res: RawResponse): Probe => ({
  what,
  res,
  breach: res.status === 200 ? foreignData(ctx, res.json) : undefined,
  inconclusive:
    res.status === 429 ? `answered 429 (${res.text.slice(0, 100)}), so the probe could not run` : undefined,
});

/**
 * A label-values answer (Prometheus or Loki, both `{data: string[]}`): breached when it holds
 * B's data, or, for the tenant label, any value but A's own slug.
 */
function labelValuesProbe(ctx: AttackContext, what: string, name: string, res: RawResponse): Probe {
  if (res.status !== 200) return { what, res };
  const values = (res.json as { data?: unknown })?.data;
  const foreignTenant =
    name === ctx.tenantLabel && Array.isArray(values) ? values.find((v) => v !== ctx.a.slug) : undefined;
  return {
    what,
    res,
    breach:
      foreignData(ctx, res.json) ??
      (foreignTenant !== undefined ? `another tenant's slug ${JSON.stringify(foreignTenant)}` : undefined),
  };
}

/** A refused credential or forbidden request must not be answered with success. */
const acceptedProbe = (what: string, res: RawResponse): Probe => ({
  what,
  res,
  breach: res.status >= 200 && res.status < 300 ? `accepted with ${res.status}` : undefined,
});

// ----------------------------------------------------------------------------- request helpers

const nowSeconds = () => Date.now() / 1000;

function get(
  ctx: AttackContext,
  path: string,
  params: readonly Header[],
  headers: readonly Header[],
): Promise<RawResponse> {
  const qs = params.length ? `?${formEncode(params)}` : '';
  return rawRequest(ctx.url, { path: path + qs, headers });
}

function post(
  ctx: AttackContext,
  path: string,
  params: readonly Header[],
  headers: readonly Header[],
): Promise<RawResponse> {
  return rawRequest(ctx.url, {
    method: 'POST',
    path,
    headers: [...headers, ['content-type', 'application/x-www-form-urlencoded']],
    body: formEncode(params),
  });
}

type Variant = 'instant' | 'instant-post' | 'range';

/** A PromQL query as A, as an instant query (GET and POST) and a range query over the canaries' span. */
async function promQuery(
  ctx: AttackContext,
  query: string,
  variant: Variant,
  headers: readonly Header[] = [auth(ctx.a.read)],
): Promise<RawResponse> {
  const now = nowSeconds();
  switch (variant) {
    case 'instant':
      return get(
        ctx,
        '/prometheus/api/v1/query',
        [
          ['query', query],
          ['time', String(now)],
        ],
        headers,
      );
    case 'instant-post':
      return post(
        ctx,
        '/prometheus/api/v1/query',
        [
          ['query', query],
          ['time', String(now)],
        ],
        headers,
      );
    case 'range':
      return get(
        ctx,
        '/prometheus/api/v1/query_range',
        [
          ['query', query],
          ['start', String(now - 150)],
          ['end', String(now)],
          ['step', '15'],
        ],
        headers,
      );
  }
}

function vectorOf(
  res: RawResponse,
): { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] | undefined {
  const data = (res.json as { status?: string; data?: { result?: unknown } } | undefined)?.data;
  return res.status === 200 && Array.isArray(data?.result)
    ? (data.result as ReturnType<typeof vectorOf> & object)
    : undefined;
}

async function lokiGet(
  ctx: AttackContext,
  path: string,
  params: readonly Header[],
  headers: readonly Header[] = [auth(ctx.a.read)],
): Promise<RawResponse> {
  return get(ctx, `/loki/api/v1/${path}`, params, headers);
}

function lokiRange(
  ctx: AttackContext,
  query: string,
  headers: readonly Header[] = [auth(ctx.a.read)],
): Promise<RawResponse> {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  return lokiGet(
    ctx,
    'query_range',
    [
      ['query', query],
      ['start', String(nowNs - 3_600_000_000_000n)],
      ['end', String(nowNs + 1_000_000_000n)],
      ['limit', '1000'],
    ],
    headers,
  );
}

function lokiInstant(ctx: AttackContext, query: string): Promise<RawResponse> {
  return lokiGet(ctx, 'query', [
    ['query', query],
    ['time', String(BigInt(Date.now()) * 1_000_000n)],
  ]);
}

/** Does B see a series of this metric name as its own (through every read path it has)? */
async function bSeesMetric(ctx: AttackContext, name: string): Promise<string | undefined> {
  const res = await promQuery(ctx, `{__name__="${name}"}`, 'instant', [auth(ctx.b.read)]);
  const found = vectorOf(res) ?? [];
  if (found.length > 0) return `B's read key sees ${JSON.stringify(found[0]!.metric)}`;
  return undefined;
}

async function bSeesLogs(ctx: AttackContext, job: string): Promise<string | undefined> {
  const res = await lokiRange(ctx, `{job="${job}"}`, [auth(ctx.b.read)]);
  const streams = vectorOf(res) ?? [];
  if (streams.length > 0)
    return `B's read key sees the stream ${JSON.stringify(streams[0]!.metric ?? (streams[0] as { stream?: unknown }).stream)}`;
  return undefined;
}

function series(labels: Record<string, string>): {
  labels: readonly Label[];
  samples: { t: number; v: number }[];
} {
  return { labels: labelsFromRecord(labels), samples: [{ t: Date.now(), v: 1 }] };
}

/** Push `labels` with a credential; `breach` decides from the push answer and the read-back. */
async function forgedPush(
  ctx: AttackContext,
  cred: Cred,
  name: string,
  labels: Record<string, string>,
  extraHeaders: readonly Header[] = [],
): Promise<RawResponse> {
  return pushMetrics(ctx.url, cred, [series({ __name__: name, ...labels })], extraHeaders);
}

function logStream(labels: Record<string, string>, line: string): LogStream {
  return { labels, lines: [{ ms: Date.now(), line }] };
}

// ----------------------------------------------------------------------------- the table

const INJ_PART = ['query-injection', 'partitions'] as const;

/** PromQL constructs that try to select outside the caller's tenant. `$A`, `$B`, `$L` are substituted. */
const PROMQL_CONSTRUCTS: readonly { id: string; title: string; query: string; instantOnly?: boolean }[] = [
  { id: 'regex-any-tenant', title: 'regex matcher on the tenant label', query: '{$L=~".+"}' },
  {
    id: 'negative-tenant',
    title: 'negative matcher on the tenant label',
    query: '{$L!="$A", __name__=~".+"}',
  },
  { id: 'alternation-tenant', title: 'regex alternation naming both tenants', query: '{$L=~"$B|$A"}' },
  { id: 'other-tenant', title: "B's tenant named outright", query: '{$L="$B"}' },
  { id: 'any-name', title: 'every metric name', query: '{__name__=~".+"}' },
  { id: 'or', title: '`or` with a selector on B', query: `${CANARY_SHARED_METRIC} or {$L="$B"}` },
  { id: 'unless', title: '`unless` subtracting A', query: '{__name__=~".+"} unless {$L="$A"}' },
  {
    id: 'or-on',
    title: '`or on(canary)` with a regex selector',
    query: '{$L="$A"} or on(canary) {$L=~".+"}',
  },
  {
    id: 'label-replace-tenant',
    title: '`label_replace` rewriting the tenant label to A',
    query: 'label_replace({$L=~".+"}, "$L", "$A", "$L", ".*")',
  },
  {
    id: 'label-replace-copy',
    title: '`label_replace` copying the tenant into another label',
    query: 'label_replace({__name__=~".+"}, "stolen", "$1", "$L", "(.*)")',
  },
  {
    id: 'label-join',
    title: '`label_join` over the tenant label',
    query: 'label_join({$L=~".+"}, "stolen", ",", "$L", "__name__")',
  },
  {
    id: 'subquery',
    title: 'subquery over every series',
    query: '{__name__=~".+"}[5m:15s]',
    instantOnly: true,
  },
  {
    id: 'subquery-function',
    title: 'function over a subquery',
    query: `max_over_time({__name__="${CANARY_SHARED_METRIC}", $L=~".+"}[5m:15s])`,
  },
  {
    id: 'nested-subquery',
    title: 'nested subquery with rate',
    query: `last_over_time(rate({__name__="${CANARY_SHARED_METRIC}", $L=~".+"}[1m])[5m:30s])`,
  },
  {
    id: 'range-selector',
    title: 'range selector over every series',
    query: '{$L=~".+"}[10m]',
    instantOnly: true,
  },
  {
    id: 'count-values',
    title: '`count_values` over every series',
    query: 'count_values("v", {__name__=~".+"})',
  },
  {
    id: 'group-by-tenant',
    title: 'aggregation by the tenant label',
    query: 'sum by ($L, __name__) ({__name__=~".+"})',
  },
  { id: 'topk', title: '`topk` over every series', query: 'topk(1000, {__name__=~".+"})' },
  {
    id: 'offset-at',
    title: '`offset` and `@` modifiers',
    query: '{__name__=~".+"} offset 30s or {__name__=~".+"} @ end()',
  },
  {
    id: 'count-over-time',
    title: 'range function over every series, by name',
    query: `sort_desc(sum by ($L, canary) (count_over_time({__name__="${CANARY_SHARED_METRIC}", $L=~".+"}[10m])))`,
  },
];

function substitute(ctx: AttackContext, q: string): string {
  return q.replaceAll('$L', ctx.tenantLabel).replaceAll('$A', ctx.a.slug).replaceAll('$B', ctx.b.slug);
}

const promqlAttacks: Attack[] = PROMQL_CONSTRUCTS.map((c) => ({
  id: `promql.${c.id}`,
  group: 'prometheus',
  title: `PromQL: ${c.title}`,
  guards: INJ_PART,
  async run(ctx) {
    const query = substitute(ctx, c.query);
    const variants: Variant[] = c.instantOnly
      ? ['instant']
      : c.id === 'regex-any-tenant' || c.id === 'any-name'
        ? ['instant', 'instant-post', 'range']
        : ['instant', 'range'];
    const probes: Probe[] = [];
    for (const v of variants) probes.push(leakProbe(ctx, `${v} ${query}`, await promQuery(ctx, query, v)));
    return verdict(probes);
  },
}));

/** Answers that must match what A's own data gives (counts, existence): compared with an explicit A-only control. */
const promqlComparisons: Attack[] = [
  {
    id: 'promql.absent',
    group: 'prometheus',
    title: "PromQL: `absent` as an oracle for B's series",
    guards: INJ_PART,
    async run(ctx) {
      const probes: Probe[] = [];
      for (const q of [
        `absent({${ctx.tenantLabel}="${ctx.b.slug}"})`,
        `absent_over_time({${ctx.tenantLabel}="${ctx.b.slug}", job="${CANARY_JOB}"}[10m])`,
      ]) {
        const res = await promQuery(ctx, q, 'instant');
        const result = vectorOf(res);
        probes.push({
          what: q,
          res,
          // Within A's scope nothing matches, so absent must answer 1; an empty answer reveals B's series.
          breach: result && result.length === 0 ? "answered empty: B's series exist for A" : undefined,
        });
      }
      return verdict(probes);
    },
  },
  {
    id: 'promql.count',
    group: 'prometheus',
    title: 'PromQL: `count` of every series against A-only',
    guards: INJ_PART,
    async run(ctx) {
      const attack = await promQuery(ctx, 'count({__name__=~".+"})', 'instant');
      const control = await promQuery(
        ctx,
        `count({__name__=~".+", ${ctx.tenantLabel}="${ctx.a.slug}"})`,
        'instant',
      );
      const n = (r: RawResponse) => vectorOf(r)?.[0]?.value?.[1];
      const breach =
        attack.status === 200 && n(attack) !== n(control)
          ? `counted ${n(attack)} series where A has ${n(control)}`
          : undefined;
      return verdict([{ what: 'count({__name__=~".+"})', res: attack, breach }]);
    },
  },
];

const promMetadataAttacks: Attack[] = [
  {
    id: 'prom.series',
    group: 'prometheus',
    title: 'series endpoint: match[] regex, negative and B-named selectors',
    guards: INJ_PART,
    async run(ctx) {
      const L = ctx.tenantLabel;
      const probes: Probe[] = [];
      for (const m of [
        `{${L}=~".+"}`,
        '{__name__=~".+"}',
        `{${L}="${ctx.b.slug}"}`,
        `{${L}!="${ctx.a.slug}", job=~".+"}`,
      ]) {
        probes.push(
          leakProbe(
            ctx,
            `series match[]=${m}`,
            await get(ctx, '/prometheus/api/v1/series', [['match[]', m]], [auth(ctx.a.read)]),
          ),
        );
      }
      probes.push(
        leakProbe(
          ctx,
          'series with two match[]',
          await post(
            ctx,
            '/prometheus/api/v1/series',
            [
              ['match[]', `{${L}="${ctx.a.slug}"}`],
              ['match[]', `{${L}=~".+"}`],
            ],
            [auth(ctx.a.read)],
          ),
        ),
      );
      return verdict(probes);
    },
  },
  {
    id: 'prom.labels',
    group: 'prometheus',
    title: 'label names, with and without match[]',
    guards: INJ_PART,
    async run(ctx) {
      return verdict([
        leakProbe(ctx, 'labels', await get(ctx, '/prometheus/api/v1/labels', [], [auth(ctx.a.read)])),
        leakProbe(
          ctx,
          'labels match[]',
          await get(
            ctx,
            '/prometheus/api/v1/labels',
            [['match[]', `{${ctx.tenantLabel}=~".+"}`]],
            [auth(ctx.a.read)],
          ),
        ),
      ]);
    },
  },
  {
    id: 'prom.label-values',
    group: 'prometheus',
    title: 'label values of the tenant label, metric names and canary labels',
    guards: INJ_PART,
    async run(ctx) {
      const probes: Probe[] = [];
      for (const name of [ctx.tenantLabel, '__name__', 'canary', 'job']) {
        for (const match of [undefined, `{${ctx.tenantLabel}=~".+"}`]) {
          const res = await get(
            ctx,
            `/prometheus/api/v1/label/${name}/values`,
            match ? [['match[]', match]] : [],
            [auth(ctx.a.read)],
          );
          probes.push(
            labelValuesProbe(ctx, `label/${name}/values${match ? ` match[]=${match}` : ''}`, name, res),
          );
        }
      }
      return verdict(probes);
    },
  },
  {
    id: 'prom.metadata',
    group: 'prometheus',
    title: "metric metadata (B's metric names and help texts)",
    guards: INJ_PART,
    async run(ctx) {
      return verdict([
        leakProbe(ctx, 'metadata', await get(ctx, '/prometheus/api/v1/metadata', [], [auth(ctx.a.read)])),
        leakProbe(
          ctx,
          "metadata?metric=<B's metric>",
          await get(ctx, '/prometheus/api/v1/metadata', [['metric', ctx.b.metric]], [auth(ctx.a.read)]),
        ),
      ]);
    },
  },
  {
    id: 'prom.exemplars-format',
    group: 'prometheus',
    title: 'query_exemplars and format_query with a regex tenant selector',
    guards: [],
    otherGuards: ['no exemplars are stored; format_query only reformats the text it is given'],
    async run(ctx) {
      const q = `{${ctx.tenantLabel}=~".+"}`;
      return verdict([
        leakProbe(
          ctx,
          'query_exemplars',
          await get(
            ctx,
            '/prometheus/api/v1/query_exemplars',
            [
              ['query', q],
              ['start', String(nowSeconds() - 600)],
              ['end', String(nowSeconds())],
            ],
            [auth(ctx.a.read)],
          ),
        ),
        leakProbe(
          ctx,
          'format_query',
          await get(ctx, '/prometheus/api/v1/format_query', [['query', q]], [auth(ctx.a.read)]),
        ),
      ]);
    },
  },
  {
    id: 'probe.endpoints',
    group: 'prometheus',
    title: "endpoint status API: the list, and B's endpoint by id",
    guards: ['org-scoping'],
    otherGuards: ['the probe API re-checks the tenant id of every endpoint it answers'],
    async run(ctx) {
      const probes: Probe[] = [
        leakProbe(
          ctx,
          'endpoints/status',
          await get(ctx, '/api/v1/endpoints/status', [], [auth(ctx.a.read)]),
        ),
      ];
      for (const what of ['status', 'uptime', 'calendar', 'incidents']) {
        probes.push(
          acceptedProbe(
            `endpoints/<B's id>/${what}`,
            await get(ctx, `/api/v1/endpoints/${ctx.b.endpoint.id}/${what}`, [], [auth(ctx.a.read)]),
          ),
        );
      }
      return verdict(probes);
    },
  },
];

/** LogQL queries that try to select outside the caller's tenant. */
const LOGQL_CONSTRUCTS: readonly { id: string; title: string; query: string; instant?: boolean }[] = [
  {
    id: 'regex-line-filter',
    title: 'regex tenant selector with a line filter',
    query: '{$L=~".+"} |= "irin canary"',
  },
  {
    id: 'negative-tenant',
    title: 'negative matcher on the tenant label',
    query: `{$L!="$A", job="${CANARY_JOB}"}`,
  },
  { id: 'alternation-tenant', title: 'regex alternation naming both tenants', query: '{$L=~"$B|$A"}' },
  { id: 'other-tenant', title: "B's tenant named outright", query: '{$L="$B"}' },
  { id: 'any-job', title: 'every stream', query: '{job=~".+"}' },
  {
    id: 'line-format',
    title: '`line_format` printing the tenant label',
    query: '{$L=~".+"} | line_format "{{.$L}}"',
  },
  {
    id: 'label-format',
    title: '`label_format` rewriting the tenant label to A',
    query: '{$L=~".+"} | label_format $L="$A"',
  },
  {
    id: 'sum-by-tenant',
    title: 'metric query by tenant and canary',
    query: 'sum by ($L, canary) (count_over_time({$L=~".+"}[1h]))',
    instant: true,
  },
  {
    id: 'label-replace',
    title: '`label_replace` copying the tenant label',
    query: 'label_replace(sum by ($L) (count_over_time({job=~".+"}[1h])), "stolen", "$1", "$L", "(.*)")',
    instant: true,
  },
  {
    id: 'or',
    title: 'binary `or` with a selector on B',
    query:
      'sum by (canary) (count_over_time({$L="$A"}[1h])) or sum by (canary) (count_over_time({$L="$B"}[1h]))',
    instant: true,
  },
];

const logqlAttacks: Attack[] = LOGQL_CONSTRUCTS.map((c) => ({
  id: `logql.${c.id}`,
  group: 'loki',
  title: `LogQL: ${c.title}`,
  guards: INJ_PART,
  needs: ['loki'],
  async run(ctx) {
    const query = substitute(ctx, c.query);
    const probes: Probe[] = [leakProbe(ctx, `query_range ${query}`, await lokiRange(ctx, query))];
    if (c.instant) probes.push(leakProbe(ctx, `query ${query}`, await lokiInstant(ctx, query)));
    return verdict(probes);
  },
}));

const lokiMetadataAttacks: Attack[] = [
  {
    id: 'loki.labels-series',
    group: 'loki',
    title: 'Loki labels, label values, series with regex tenant selectors',
    guards: INJ_PART,
    needs: ['loki'],
    async run(ctx) {
      const L = ctx.tenantLabel;
      const any = `{${L}=~".+"}`;
      const probes: Probe[] = [
        leakProbe(ctx, 'labels', await lokiGet(ctx, 'labels', [])),
        leakProbe(ctx, 'labels query', await lokiGet(ctx, 'labels', [['query', any]])),
        leakProbe(ctx, 'series match[]', await lokiGet(ctx, 'series', [['match[]', any]])),
        leakProbe(ctx, 'series match', await lokiGet(ctx, 'series', [['match', '{job=~".+"}']])),
      ];
      for (const name of [L, 'canary', 'job']) {
        const res = await lokiGet(ctx, `label/${name}/values`, [['query', any]]);
        probes.push(labelValuesProbe(ctx, `label/${name}/values`, name, res));
      }
      return verdict(probes);
    },
  },
  {
    id: 'loki.index-stats',
    group: 'loki',
    title: 'Loki index/stats counts against A-only',
    guards: INJ_PART,
    needs: ['loki'],
    async run(ctx) {
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      const span: Header[] = [
        ['start', String(nowNs - 3_600_000_000_000n)],
        ['end', String(nowNs + 1_000_000_000n)],
      ];
      const attack = await lokiGet(ctx, 'index/stats', [['query', `{job="${CANARY_JOB}"}`], ...span]);
      const control = await lokiGet(ctx, 'index/stats', [
        ['query', `{job="${CANARY_JOB}", ${ctx.tenantLabel}="${ctx.a.slug}"}`],
        ...span,
      ]);
      const entries = (r: RawResponse) => (r.json as { entries?: number } | undefined)?.entries;
      const breach =
        attack.status === 200 && entries(attack) !== entries(control)
          ? `counted ${entries(attack)} entries where A has ${entries(control)}`
          : undefined;
      return verdict([{ what: 'index/stats', res: attack, breach }]);
    },
  },
  {
    id: 'loki.tail',
    group: 'loki',
    title: 'Loki tail (WebSocket) with a regex tenant selector',
    guards: INJ_PART,
    needs: ['loki'],
    async run(ctx) {
      const query = `{${ctx.tenantLabel}=~".+"}`;
      const start = String(BigInt(Date.now() - 3_600_000) * 1_000_000n);
      const url = new URL(
        `/loki/api/v1/tail?${formEncode([
          ['query', query],
          ['start', start],
        ])}`,
        ctx.url.replace(/^http/, 'ws'),
      );
      const frames = await new Promise<{ status: number; text: string }>((resolve) => {
        const ws = new WebSocket(url, {
          headers: { authorization: basicAuth(ctx.a.read.clientId, ctx.a.read.secret) },
        });
        let text = '';
        const done = (status: number) => {
          clearTimeout(timer);
          ws.terminate();
          resolve({ status, text });
        };
        const timer = setTimeout(() => done(101), 1500);
        ws.on('message', (m) => (text += m.toString()));
        ws.on('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
        ws.on('error', () => done(0));
      });
      let json: unknown;
      try {
        json = frames.text ? JSON.parse(frames.text.split('\n')[0]!) : undefined;
      } catch {
        json = { data: frames.text };
      }
      const res: RawResponse = {
        status: frames.status === 101 ? 200 : frames.status,
        headers: {},
        text: frames.text,
        json,
      };
      return verdict([
        {
          what: 'tail',
          res,
          breach: frames.text.includes(ctx.b.marker) ? "B's log lines streamed to A" : foreignData(ctx, json),
        },
      ]);
    },
  },
];

// ----------------------------------------------------------------------------- credentials

const credentialAttacks: Attack[] = [
  {
    id: 'cred.push-token-reads',
    group: 'credentials',
    title: "A's push token used to read",
    guards: [],
    otherGuards: ['the authenticator refuses a push token on a read route (403)'],
    async run(ctx) {
      const probes = [
        acceptedProbe(
          'query with a server token',
          await promQuery(ctx, CANARY_SHARED_METRIC, 'instant', [auth(ctx.a.servers[0]!.token)]),
        ),
        acceptedProbe(
          'query with a tenant-wide token',
          await promQuery(ctx, CANARY_SHARED_METRIC, 'instant', [auth(ctx.a.push)]),
        ),
        acceptedProbe(
          'series with a push token',
          await get(ctx, '/prometheus/api/v1/series', [['match[]', '{job=~".+"}']], [auth(ctx.a.push)]),
        ),
      ];
      if (ctx.loki)
        probes.push(
          acceptedProbe(
            'Loki query_range with a push token',
            await lokiRange(ctx, '{job=~".+"}', [auth(ctx.a.push)]),
          ),
        );
      return verdict(probes);
    },
  },
  {
    id: 'cred.read-key-pushes',
    group: 'credentials',
    title: "A's read key used to push",
    guards: [],
    otherGuards: ['the authenticator refuses a read key on a push route (403)'],
    phase: 'write',
    async run(ctx) {
      const name = ctx.unique('irin_canary_readkey_push');
      const probes = [
        acceptedProbe('remote write with a read key', await forgedPush(ctx, ctx.a.read, name, { job: 'x' })),
      ];
      if (ctx.loki)
        probes.push(
          acceptedProbe(
            'Loki push with a read key',
            await pushLogs(ctx.url, [auth(ctx.a.read)], [logStream({ job: name }, 'x')]),
          ),
        );
      return verdict(probes);
    },
  },
  {
    id: 'cred.tenant-keys-on-admin-api',
    group: 'credentials',
    title: "A's read key and push token on the admin API",
    guards: [],
    otherGuards: ['the admin API accepts admin keys only (403)'],
    async run(ctx) {
      return verdict([
        acceptedProbe(
          'admin API with a read key',
          await get(ctx, '/api/admin/v1/tenants', [], [auth(ctx.a.read)]),
        ),
        acceptedProbe(
          'admin API with a push token',
          await get(ctx, `/api/admin/v1/tenants/${ctx.b.slug}`, [], [auth(ctx.a.push)]),
        ),
      ]);
    },
  },
  ...(
    [
      ['revoked', 'revokedRead', 'revokedPush'],
      ['expired', 'expiredRead', 'expiredPush'],
      ['suspended', 'suspendedRead', 'suspendedPush'],
    ] as const
  ).map(([state, read, push]): Attack => ({
    id: `cred.${state}`,
    group: 'credentials',
    title: `${state} read key and push token`,
    guards: ['credentials'],
    phase: 'write',
    async run(ctx) {
      const probes = [
        acceptedProbe(
          `query with a ${state} read key`,
          await promQuery(ctx, CANARY_SHARED_METRIC, 'instant', [auth(ctx.refused[read])]),
        ),
        acceptedProbe(
          `push with a ${state} token`,
          await forgedPush(ctx, ctx.refused[push], ctx.unique(`irin_canary_${state}`), { job: 'x' }),
        ),
      ];
      if (ctx.loki) {
        probes.push(
          acceptedProbe(
            `Loki query with a ${state} read key`,
            await lokiRange(ctx, '{job=~".+"}', [auth(ctx.refused[read])]),
          ),
        );
        probes.push(
          acceptedProbe(
            `Loki push with a ${state} token`,
            await pushLogs(ctx.url, [auth(ctx.refused[push])], [logStream({ job: 'x' }, 'x')]),
          ),
        );
      }
      return verdict(probes);
    },
  })),
  {
    id: 'cred.b-client-id-a-secret',
    group: 'credentials',
    title: "B's client ids presented with A's secrets",
    guards: ['credentials'],
    phase: 'write',
    async run(ctx) {
      const asB = (id: Cred, secret: Cred): Cred => ({ clientId: id.clientId, secret: secret.secret });
      const name = ctx.unique('irin_canary_stolen_id');
      const probes: Probe[] = [
        leakProbe(
          ctx,
          "query with B's read key id",
          await promQuery(ctx, `{__name__=~".+"}`, 'instant', [auth(asB(ctx.b.read, ctx.a.read))]),
        ),
        acceptedProbe(
          "query with B's read key id",
          await promQuery(ctx, CANARY_SHARED_METRIC, 'instant', [
            ['authorization', bearerAuth(ctx.b.read.clientId, ctx.a.read.secret)],
          ]),
        ),
      ];
      const pushed = await forgedPush(ctx, asB(ctx.b.servers[0]!.token, ctx.a.servers[0]!.token), name, {
        job: 'x',
      });
      probes.push({
        what: "push with B's server token id",
        res: pushed,
        breach:
          pushed.status < 300
            ? ((await bSeesMetric(ctx, name)) ?? `accepted with ${pushed.status}`)
            : undefined,
      });
      return verdict(probes);
    },
  },
  {
    id: 'cred.ambiguous-read',
    group: 'credentials',
    title: 'ambiguous read credentials: two Authorization headers, duplicated and mixed CF-Access headers',
    guards: ['credentials'],
    otherGuards: ['a request naming two client ids or two secrets is refused as ambiguous'],
    async run(ctx) {
      const q = `{__name__=~".+"}`;
      const a = ctx.a.read;
      const bId = ctx.b.read.clientId;
      const variants: [string, Header[]][] = [
        [
          'Bearer A + Basic B-id',
          [
            ['authorization', bearerAuth(a.clientId, a.secret)],
            ['authorization', basicAuth(bId, a.secret)],
          ],
        ],
        [
          'Basic A + CF-Access B-id',
          [auth(a), ['cf-access-client-id', bId], ['cf-access-client-secret', a.secret]],
        ],
        [
          'CF-Access-Client-Id A and B',
          [
            ['cf-access-client-id', a.clientId],
            ['cf-access-client-id', bId],
            ['cf-access-client-secret', a.secret],
          ],
        ],
        [
          'CF-Access B-id first, Basic A second',
          [['cf-access-client-id', bId], ['cf-access-client-secret', a.secret], auth(a)],
        ],
        [
          'comma-joined CF-Access-Client-Id',
          [
            ['cf-access-client-id', `${bId}, ${a.clientId}`],
            ['cf-access-client-secret', a.secret],
          ],
        ],
      ];
      const probes: Probe[] = [];
      for (const [what, headers] of variants)
        probes.push(leakProbe(ctx, what, await promQuery(ctx, q, 'instant', headers)));
      return verdict(probes);
    },
  },
  {
    id: 'cred.ambiguous-push',
    group: 'credentials',
    title: "ambiguous push credentials: A's token beside B's client id",
    guards: ['credentials'],
    otherGuards: ['a request naming two client ids or two secrets is refused as ambiguous'],
    phase: 'write',
    async run(ctx) {
      const a = ctx.a.servers[0]!.token;
      const bId = ctx.b.servers[0]!.token.clientId;
      const probes: Probe[] = [];
      for (const [what, headers] of [
        [
          'Basic A + CF-Access B-id',
          [
            ['cf-access-client-id', bId],
            ['cf-access-client-secret', a.secret],
          ],
        ],
        ['Basic A + Bearer B-id', [['authorization', bearerAuth(bId, a.secret)]]],
      ] as [string, Header[]][]) {
        const name = ctx.unique('irin_canary_ambiguous');
        const res = await forgedPush(ctx, a, name, { job: 'x' }, headers);
        probes.push({ what, res, breach: res.status < 300 ? await bSeesMetric(ctx, name) : undefined });
      }
      return verdict(probes);
    },
  },
];

// ----------------------------------------------------------------------------- tenant-routing headers

/** Headers that route tenants in Mimir/Cortex/Loki, Thanos, VictoriaMetrics and prom-label-proxy. */
function routingHeaders(ctx: AttackContext): Header[] {
  return [
    ['x-scope-orgid', ctx.b.slug],
    ['x-scope-orgid', String(ctx.b.id)],
    ['accountid', String(ctx.b.id)],
    ['thanos-tenant', ctx.b.slug],
    ['x-prom-label-policy', `${ctx.b.slug}:${ctx.tenantLabel}=${ctx.b.slug}`],
    ['x-grafana-org-id', String(ctx.b.id)],
  ];
}

const headerAttacks: Attack[] = [
  {
    id: 'headers.read',
    group: 'headers',
    title: 'tenant-routing headers on reads (X-Scope-OrgID, AccountID, THANOS-TENANT, X-Prom-Label-Policy)',
    guards: [],
    otherGuards: ['the tenant comes from the credential only; routing headers are never read'],
    async run(ctx) {
      // Obeyed means: the header changes what A sees. Compared with the same query without it.
      const q = `${CANARY_SHARED_METRIC}`;
      const without = await promQuery(ctx, q, 'instant');
      const baseline = foreignData(ctx, without.json);
      const probes: Probe[] = [];
      for (const h of routingHeaders(ctx)) {
        const res = await promQuery(ctx, q, 'instant', [auth(ctx.a.read), h]);
        const leak = res.status === 200 ? foreignData(ctx, res.json) : undefined;
        probes.push({ what: `${h[0]} on a query`, res, breach: leak && !baseline ? leak : undefined });
        probes.push(
          acceptedProbe(
            `${h[0]} with a push token`,
            await promQuery(ctx, q, 'instant', [auth(ctx.a.push), h]),
          ),
        );
      }
      if (ctx.loki) {
        const res = await lokiRange(ctx, `{job="${CANARY_JOB}"}`, [
          auth(ctx.a.read),
          ...routingHeaders(ctx).slice(0, 1),
        ]);
        probes.push({
          what: 'X-Scope-OrgID on a Loki query',
          res,
          breach: res.status === 200 && !baseline ? foreignData(ctx, res.json) : undefined,
        });
      }
      return verdict(probes);
    },
  },
  {
    id: 'headers.write',
    group: 'headers',
    title: 'tenant-routing headers on pushes',
    guards: [],
    otherGuards: ['the tenant comes from the credential only; routing headers are never read'],
    phase: 'write',
    async run(ctx) {
      const plain = ctx.unique('irin_canary_plain');
      const routed = ctx.unique('irin_canary_routed');
      await forgedPush(ctx, ctx.a.push, plain, { job: 'x' });
      const res = await forgedPush(ctx, ctx.a.push, routed, { job: 'x' }, routingHeaders(ctx));
      // Obeyed means: B sees the routed series but not the same push without headers.
      const seen = res.status < 300 ? await bSeesMetric(ctx, routed) : undefined;
      const probes: Probe[] = [
        {
          what: 'remote write with routing headers',
          res,
          breach: seen && !(await bSeesMetric(ctx, plain)) ? seen : undefined,
        },
      ];
      if (ctx.loki) {
        const job = ctx.unique('irin_canary_routed_logs');
        const plainJob = ctx.unique('irin_canary_plain_logs');
        await pushLogs(ctx.url, [auth(ctx.a.push)], [logStream({ job: plainJob }, 'plain')]);
        const logs = await pushLogs(
          ctx.url,
          [auth(ctx.a.push), ...routingHeaders(ctx)],
          [logStream({ job }, 'routed')],
        );
        const seenLogs = logs.status < 300 ? await bSeesLogs(ctx, job) : undefined;
        probes.push({
          what: 'Loki push with routing headers',
          res: logs,
          breach: seenLogs && !(await bSeesLogs(ctx, plainJob)) ? seenLogs : undefined,
        });
      }
      return verdict(probes);
    },
  },
];

// ----------------------------------------------------------------------------- forged writes

const writeAttacks: Attack[] = [
  {
    id: 'write.forged-tenant',
    group: 'write',
    title: "metrics pushed with B's tenant and instance labels",
    guards: ['write-labels', 'partitions'],
    phase: 'write',
    async run(ctx) {
      const probes: Probe[] = [];
      for (const [what, cred] of [
        ['server token', ctx.a.servers[0]!.token],
        ['tenant-wide token', ctx.a.push],
      ] as const) {
        const name = ctx.unique('irin_canary_forged');
        const res = await forgedPush(ctx, cred, name, {
          [ctx.tenantLabel]: ctx.b.slug,
          instance: ctx.b.servers[0]!.name,
          job: 'x',
        });
        probes.push({ what: `${what} writing as B`, res, breach: await bSeesAsOwn(ctx, name) });
      }
      return verdict(probes);
    },
  },
  {
    id: 'write.duplicate-tenant-label',
    group: 'write',
    title: 'a series carrying the tenant label twice (A then B)',
    guards: ['write-labels', 'partitions'],
    otherGuards: ['the edge refuses a series with a repeated label name'],
    phase: 'write',
    async run(ctx) {
      const name = ctx.unique('irin_canary_dup');
      const labels: Label[] = [
        { name: '__name__', value: name },
        { name: ctx.tenantLabel, value: ctx.a.slug },
        { name: ctx.tenantLabel, value: ctx.b.slug },
      ];
      const res = await pushMetrics(ctx.url, ctx.a.push, [{ labels, samples: [{ t: Date.now(), v: 1 }] }]);
      return verdict([{ what: 'duplicate tenant label', res, breach: await bSeesAsOwn(ctx, name) }]);
    },
  },
  {
    id: 'write.server-impersonation',
    group: 'write',
    title: 'a server token writing as another server of its tenant',
    guards: ['write-labels'],
    phase: 'write',
    async run(ctx) {
      const name = ctx.unique('irin_canary_impersonation');
      const other = ctx.a.servers[1]!.name;
      const res = await forgedPush(ctx, ctx.a.servers[0]!.token, name, {
        [ctx.tenantLabel]: ctx.a.slug,
        instance: other,
        job: 'x',
      });
      const read = await promQuery(ctx, `{__name__="${name}"}`, 'instant');
      const wrong = (vectorOf(read) ?? []).find((s) => s.metric.instance === other);
      return verdict([
        {
          what: `svr1 token sending instance=${other}`,
          res,
          breach: wrong ? `stored with instance=${other}` : undefined,
        },
      ]);
    },
  },
  {
    id: 'logs.forged-tenant',
    group: 'write',
    title: "log streams pushed with B's tenant and instance labels",
    guards: ['write-labels', 'partitions'],
    needs: ['loki'],
    phase: 'write',
    async run(ctx) {
      const probes: Probe[] = [];
      for (const [what, cred] of [
        ['server token', ctx.a.servers[0]!.token],
        ['tenant-wide token', ctx.a.push],
      ] as const) {
        const job = ctx.unique('irin_canary_forged_logs');
        const res = await pushLogs(
          ctx.url,
          [auth(cred)],
          [
            logStream(
              { [ctx.tenantLabel]: ctx.b.slug, instance: ctx.b.servers[0]!.name, job },
              `forged ${job}`,
            ),
          ],
        );
        probes.push({ what: `${what} writing logs as B`, res, breach: await bSeesLogsAsOwn(ctx, job) });
      }
      return verdict(probes);
    },
  },
  {
    id: 'logs.server-impersonation',
    group: 'write',
    title: 'a server token pushing log lines as another server of its tenant',
    guards: ['write-labels'],
    needs: ['loki'],
    phase: 'write',
    async run(ctx) {
      const job = ctx.unique('irin_canary_impersonation_logs');
      const other = ctx.a.servers[1]!.name;
      const res = await pushLogs(
        ctx.url,
        [auth(ctx.a.servers[0]!.token)],
        [logStream({ [ctx.tenantLabel]: ctx.a.slug, instance: other, job }, 'x')],
      );
      const read = await lokiRange(ctx, `{job="${job}"}`);
      const streams =
        (read.json as { data?: { result?: { stream?: Record<string, string> }[] } })?.data?.result ?? [];
      const wrong = streams.find((s) => s.stream?.instance === other);
      return verdict([
        {
          what: `svr1 token sending instance=${other}`,
          res,
          breach: wrong ? `stored with instance=${other}` : undefined,
        },
      ]);
    },
  },
];

/** Does B see this metric with its own tenant label (i.e. A's write landed as B's data)? */
async function bSeesAsOwn(ctx: AttackContext, name: string): Promise<string | undefined> {
  const res = await promQuery(ctx, `{__name__="${name}"}`, 'instant', [auth(ctx.b.read)]);
  const own = (vectorOf(res) ?? []).find((s) => s.metric[ctx.tenantLabel] === ctx.b.slug);
  return own ? `B reads A's write as its own: ${JSON.stringify(own.metric)}` : undefined;
}

async function bSeesLogsAsOwn(ctx: AttackContext, job: string): Promise<string | undefined> {
  const res = await lokiRange(ctx, `{job="${job}"}`, [auth(ctx.b.read)]);
  const streams =
    (res.json as { data?: { result?: { stream?: Record<string, string> }[] } })?.data?.result ?? [];
  const own = streams.find((s) => s.stream?.[ctx.tenantLabel] === ctx.b.slug);
  return own ? `B reads A's log push as its own: ${JSON.stringify(own.stream)}` : undefined;
}

// ----------------------------------------------------------------------------- paths and parameters

const PROM_PATH_TRICKS: readonly string[] = [
  '/prometheus/api/v1/../v1/query',
  '/prometheus/api/v1/%2e%2e/v1/query',
  '/prometheus/api/v1/%2E%2E/v1/query',
  '/prometheus/api/v2/../v1/query',
  '//prometheus/api/v1/query',
  '/prometheus//api/v1/query',
  '/prometheus/api/v1//query',
  '/PROMETHEUS/api/v1/query',
  '/prometheus/API/V1/QUERY',
  '/prometheus/api/v1/query/',
  '/prometheus/api/v1/./query',
  '/prometheus/api/v1/qu%65ry',
  '/prometheus/%61pi/v1/query',
  '/prometheus/api/v1/query%2f',
  '/prometheus/api/v1/query;x=1',
  '/prometheus/api/v1/query%00',
  '/prometheus/api/v1/query%20',
  '/./prometheus/api/v1/query',
  '/api/v1/query',
  '/prometheus/prometheus/api/v1/query',
];

const LOKI_PATH_TRICKS: readonly string[] = [
  '/loki/api/v1/../v1/query_range',
  '/loki/api/v1/%2e%2e/v1/query_range',
  '//loki/api/v1/query_range',
  '/loki//api/v1/query_range',
  '/LOKI/api/v1/query_range',
  '/loki/api/v1/query_range/',
  '/loki/api/v1/query%5frange',
  '/prometheus/../loki/api/v1/query_range',
];

const pathAttacks: Attack[] = [
  {
    id: 'paths.no-read-right',
    group: 'paths',
    title:
      'path tricks on the query and admin APIs with a push token, which may not read (dot segments, %2e, double slashes, case, suffixes)',
    guards: [],
    otherGuards: ['unknown paths answer 404 and every route authenticates'],
    async run(ctx) {
      // A push token rather than no credentials: a trick that skipped authentication would answer
      // 200 just the same, and a valid credential of the wrong kind does not count toward the
      // failure limiter of a live server.
      const probes: Probe[] = [];
      const headers = [auth(ctx.a.push)];
      const q = `?${formEncode([['query', `{${ctx.tenantLabel}=~".+"}`]])}`;
      for (const path of PROM_PATH_TRICKS)
        probes.push(acceptedProbe(path, await rawRequest(ctx.url, { path: path + q, headers })));
      if (ctx.loki)
        for (const path of LOKI_PATH_TRICKS)
          probes.push(acceptedProbe(path, await rawRequest(ctx.url, { path: path + q, headers })));
      probes.push(
        acceptedProbe(
          '/api/admin/v1/../v1/tenants',
          await rawRequest(ctx.url, { path: '/api/admin/v1/../v1/tenants', headers }),
        ),
      );
      probes.push(
        acceptedProbe(
          '/API/ADMIN/V1/tenants',
          await rawRequest(ctx.url, { path: '/API/ADMIN/V1/tenants', headers }),
        ),
      );
      return verdict(probes);
    },
  },
  {
    id: 'paths.read-key',
    group: 'paths',
    title:
      "path tricks with A's read key and a regex tenant selector (a trick either 404s or reaches the scoped handler)",
    guards: INJ_PART,
    async run(ctx) {
      const probes: Probe[] = [];
      const q = `?${formEncode([
        ['query', `{${ctx.tenantLabel}=~".+"}`],
        ['limit', '1000'],
      ])}`;
      for (const path of [...PROM_PATH_TRICKS, ...(ctx.loki ? LOKI_PATH_TRICKS : [])]) {
        probes.push(
          leakProbe(ctx, path, await rawRequest(ctx.url, { path: path + q, headers: [auth(ctx.a.read)] })),
        );
      }
      probes.push(
        acceptedProbe(
          'admin API path trick with a read key',
          await rawRequest(ctx.url, { path: '/api/admin/v1/../v1/tenants', headers: [auth(ctx.a.read)] }),
        ),
      );
      return verdict(probes);
    },
  },
];

const paramAttacks: Attack[] = [
  {
    id: 'params.url-and-body',
    group: 'params',
    title: 'the query in both the URL (A-scoped) and the form body (regex tenant)',
    guards: INJ_PART,
    otherGuards: ['a parameter given in both the URL and the body is refused'],
    async run(ctx) {
      const L = ctx.tenantLabel;
      const probes: Probe[] = [];
      const url = `/prometheus/api/v1/query?${formEncode([['query', `{${L}="${ctx.a.slug}"}`]])}`;
      probes.push(
        leakProbe(
          ctx,
          'Prometheus query URL+body',
          await rawRequest(ctx.url, {
            method: 'POST',
            path: url,
            headers: [auth(ctx.a.read), ['content-type', 'application/x-www-form-urlencoded']],
            body: formEncode([['query', `{${L}=~".+"}`]]),
          }),
        ),
      );
      probes.push(
        leakProbe(
          ctx,
          'series match[] URL+body',
          await rawRequest(ctx.url, {
            method: 'POST',
            path: `/prometheus/api/v1/series?${formEncode([['match[]', `{${L}="${ctx.a.slug}"}`]])}`,
            headers: [auth(ctx.a.read), ['content-type', 'application/x-www-form-urlencoded']],
            body: formEncode([['match[]', `{${L}=~".+"}`]]),
          }),
        ),
      );
      if (ctx.loki) {
        probes.push(
          leakProbe(
            ctx,
            'Loki query_range URL+body',
            await rawRequest(ctx.url, {
              method: 'POST',
              path: `/loki/api/v1/query_range?${formEncode([['query', `{${L}="${ctx.a.slug}"}`]])}`,
              headers: [auth(ctx.a.read), ['content-type', 'application/x-www-form-urlencoded']],
              body: formEncode([['query', `{${L}=~".+"}`]]),
            }),
          ),
        );
      }
      return verdict(probes);
    },
  },
  {
    id: 'params.repeated',
    group: 'params',
    title: 'repeated query parameters, a body on GET, a JSON body',
    guards: INJ_PART,
    otherGuards: ['a single-valued parameter given twice, a GET body and non-form bodies are refused'],
    async run(ctx) {
      const L = ctx.tenantLabel;
      const any = `{${L}=~".+"}`;
      const probes: Probe[] = [
        leakProbe(
          ctx,
          'query twice',
          await rawRequest(ctx.url, {
            path: `/prometheus/api/v1/query?${formEncode([
              ['query', CANARY_SHARED_METRIC],
              ['query', any],
            ])}`,
            headers: [auth(ctx.a.read)],
          }),
        ),
        leakProbe(
          ctx,
          'query and an encoded twin',
          await rawRequest(ctx.url, {
            path: `/prometheus/api/v1/query?query=${encodeURIComponent(CANARY_SHARED_METRIC)}&%71uery=${encodeURIComponent(any)}`,
            headers: [auth(ctx.a.read)],
          }),
        ),
        leakProbe(
          ctx,
          'GET with a form body',
          await rawRequest(ctx.url, {
            path: `/prometheus/api/v1/query?${formEncode([['query', CANARY_SHARED_METRIC]])}`,
            headers: [auth(ctx.a.read), ['content-type', 'application/x-www-form-urlencoded']],
            body: formEncode([['query', any]]),
          }),
        ),
        leakProbe(
          ctx,
          'POST with a JSON body',
          await rawRequest(ctx.url, {
            method: 'POST',
            path: '/prometheus/api/v1/query',
            headers: [auth(ctx.a.read), ['content-type', 'application/json']],
            body: JSON.stringify({ query: any }),
          }),
        ),
        leakProbe(
          ctx,
          'semicolon-separated parameters',
          await rawRequest(ctx.url, {
            path: `/prometheus/api/v1/query?query=${encodeURIComponent(CANARY_SHARED_METRIC)};query=${encodeURIComponent(any)}`,
            headers: [auth(ctx.a.read)],
          }),
        ),
      ];
      if (ctx.loki) {
        probes.push(
          leakProbe(
            ctx,
            'Loki query twice',
            await rawRequest(ctx.url, {
              path: `/loki/api/v1/query_range?${formEncode([
                ['query', `{job="${CANARY_JOB}"}`],
                ['query', any],
              ])}`,
              headers: [auth(ctx.a.read)],
            }),
          ),
        );
      }
      return verdict(probes);
    },
  },
];

// ----------------------------------------------------------------------------- console

function consoleRequest(
  ctx: AttackContext,
  method: string,
  path: string,
  body?: unknown,
  opts: { csrf?: boolean; origin?: string; contentType?: string } = {},
): Promise<RawResponse> {
  const c = ctx.console!;
  const headers: Header[] = [
    ['cookie', `irin_session=${c.adminA.cookie}`],
    ['origin', opts.origin ?? new URL(c.url).origin],
  ];
  if (method !== 'GET' && opts.csrf !== false) headers.push(['x-csrf-token', c.adminA.csrf]);
  if (body !== undefined) headers.push(['content-type', opts.contentType ?? 'application/json']);
  return rawRequest(c.url, {
    method,
    path,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

const consoleAttacks: Attack[] = [
  {
    id: 'console.read-b-objects',
    group: 'console',
    title: "A's console session reading B's objects by id, and listing",
    guards: ['org-scoping'],
    needs: ['console'],
    async run(ctx) {
      const b = ctx.b;
      const probes: Probe[] = [
        acceptedProbe(
          "GET B's server by id",
          await consoleRequest(ctx, 'GET', `/api/console/servers/${b.servers[0]!.id}`),
        ),
      ];
      for (const list of [
        'servers',
        'endpoints',
        'push-tokens?all=true',
        'api-keys?all=true',
        'members',
        'audit',
      ]) {
        const res = await consoleRequest(ctx, 'GET', `/api/console/${list}`);
        const leak =
          res.status === 200
            ? (foreignData(ctx, res.json) ??
              (res.text.includes(b.read.clientId) ||
              res.text.includes(b.servers[0]!.name) ||
              res.text.includes(ctx.console!.userB.email)
                ? "B's objects listed"
                : undefined))
            : undefined;
        probes.push({ what: `GET /api/console/${list}`, res, breach: leak });
      }
      return verdict(probes);
    },
  },
  {
    id: 'console.session-reads-data',
    group: 'console',
    title: "A's console session on the Prometheus API with a regex tenant selector",
    guards: INJ_PART,
    needs: ['console'],
    async run(ctx) {
      const cookie: Header = ['cookie', `irin_session=${ctx.console!.adminA.cookie}`];
      return verdict([
        leakProbe(
          ctx,
          'session query',
          await promQuery(ctx, `{${ctx.tenantLabel}=~".+"}`, 'instant', [cookie]),
        ),
      ]);
    },
  },
  {
    id: 'console.change-b-objects',
    group: 'console',
    title: "A's console session changing B's objects by id (endpoint, server, token, key, member)",
    guards: ['org-scoping'],
    needs: ['console'],
    phase: 'write',
    async run(ctx) {
      const b = ctx.b;
      const endpointBody = { name: b.endpoint.name, url: 'http://127.0.0.1:9/changed', enabled: false };
      return verdict([
        acceptedProbe(
          "PUT B's endpoint",
          await consoleRequest(ctx, 'PUT', `/api/console/endpoints/${b.endpoint.id}`, endpointBody),
        ),
        acceptedProbe(
          "new token for B's server",
          await consoleRequest(ctx, 'POST', `/api/console/servers/${b.servers[1]!.id}/tokens`, { name: 'x' }),
        ),
        acceptedProbe(
          "PATCH B's member",
          await consoleRequest(ctx, 'PATCH', `/api/console/members/${ctx.console!.userB.id}`, {
            role: 'admin',
          }),
        ),
        acceptedProbe(
          "DELETE B's server",
          await consoleRequest(ctx, 'DELETE', `/api/console/servers/${b.servers[1]!.id}`),
        ),
        acceptedProbe(
          "DELETE B's endpoint",
          await consoleRequest(ctx, 'DELETE', `/api/console/endpoints/${b.endpoint.id}`),
        ),
        acceptedProbe(
          "revoke B's push token",
          await consoleRequest(ctx, 'DELETE', `/api/console/push-tokens/${b.push.clientId}`),
        ),
      ]);
    },
  },
  {
    id: 'console.csrf',
    group: 'console',
    title: 'CSRF: state-changing console requests without the token, from another origin, as text/plain',
    guards: [],
    otherGuards: ['CSRF token, Origin check and JSON-only bodies on every state-changing console request'],
    needs: ['console'],
    phase: 'write',
    async run(ctx) {
      return verdict([
        acceptedProbe(
          'no CSRF token',
          await consoleRequest(ctx, 'POST', '/api/console/api-keys', { name: 'csrf' }, { csrf: false }),
        ),
        acceptedProbe(
          'foreign Origin',
          await consoleRequest(
            ctx,
            'POST',
            '/api/console/api-keys',
            { name: 'csrf' },
            { origin: 'https://attacker.example' },
          ),
        ),
        acceptedProbe(
          'text/plain body without token',
          await consoleRequest(ctx, 'POST', '/api/console/api-keys', '{"name":"csrf"}', {
            csrf: false,
            contentType: 'text/plain',
          }),
        ),
        acceptedProbe(
          'form body without token',
          await consoleRequest(ctx, 'POST', '/api/console/push-tokens', 'name=csrf', {
            csrf: false,
            contentType: 'application/x-www-form-urlencoded',
          }),
        ),
      ]);
    },
  },
  {
    id: 'console.switch-org',
    group: 'console',
    title: "A's session switching to B's organisation",
    guards: [],
    otherGuards: ["the switch is checked against the user's own memberships"],
    needs: ['console'],
    phase: 'write',
    async run(ctx) {
      // Obeyed means: after the switch the session reads what it could not read before.
      const cookie: Header = ['cookie', `irin_session=${ctx.console!.adminA.cookie}`];
      const before = await promQuery(ctx, CANARY_SHARED_METRIC, 'instant', [cookie]);
      const leakBefore = before.status === 200 ? foreignData(ctx, before.json) : undefined;
      const res = await consoleRequest(ctx, 'POST', '/api/console/org', { orgId: ctx.b.id });
      const after = await promQuery(ctx, CANARY_SHARED_METRIC, 'instant', [cookie]);
      const leakAfter = after.status === 200 ? foreignData(ctx, after.json) : undefined;
      return verdict([
        acceptedProbe("switch to B's org", res),
        {
          what: 'a query with the session after the switch',
          res: after,
          breach: leakAfter && !leakBefore ? leakAfter : undefined,
        },
      ]);
    },
  },
];

/** Every attack that runs over HTTP against a deployment holding the canaries. */
export const HTTP_ATTACKS: readonly Attack[] = [
  ...promqlAttacks,
  ...promqlComparisons,
  ...promMetadataAttacks,
  ...logqlAttacks,
  ...lokiMetadataAttacks,
  ...credentialAttacks,
  ...headerAttacks,
  ...pathAttacks,
  ...paramAttacks,
  ...writeAttacks,
  ...consoleAttacks,
];
