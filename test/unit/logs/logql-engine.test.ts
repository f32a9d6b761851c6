import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LogSelectorExpr, MetricExpr } from '../../../src/logs/logql/ast.ts';
import { LogQLEngine } from '../../../src/logs/logql/engine.ts';
import { parseLogQL } from '../../../src/logs/logql/parser.ts';
import type { LogQuerier } from '../../../src/logs/store/types.ts';
import { storeWith } from './helpers.ts';

/**
 * LogQL semantics, script style: one dataset, each query with the result worked out by hand from
 * Loki's documented semantics (range windows are (t - range, t], rate = count / range seconds,
 * unwrap drops the unwrapped label, parse errors in metric queries fail the query, …).
 */
const T = Date.UTC(2024, 0, 1, 0, 0, 0);
const s = (sec: number): number => T + sec * 1000;

const NGINX = [
  '10.0.0.1 - - [01/Jan/2024:00:00:05 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/8.0"',
  '192.168.1.20 - - [01/Jan/2024:00:00:35 +0000] "POST /api/login HTTP/1.1" 401 45 "-" "Mozilla/5.0"',
  '10.0.0.2 - - [01/Jan/2024:00:01:35 +0000] "GET /favicon.ico HTTP/1.1" 404 0 "-" "Mozilla/5.0"',
];

let querier: LogQuerier;
let cleanup: () => Promise<void>;

before(async () => {
  const fixture = await storeWith(
    [
      {
        labels: { tenant: 't', app: 'api', env: 'prod' },
        entries: [
          [s(10), 'level=info method=GET path=/users status=200 duration=120ms size=1.5KB'],
          [s(20), 'level=error method=POST path=/orders status=500 duration=2.5s size=512B'],
          [s(30), 'level=info method=GET path=/users/7 status=200 duration=80ms size=3KB'],
          [s(70), 'level=warn method=GET path=/health status=404 duration=5ms size=100B'],
        ],
      },
      {
        labels: { tenant: 't', app: 'web', env: 'prod' },
        entries: [
          [s(15), '{"level":"info","req":{"method":"GET","path":"/"},"status":200,"latency_ms":12.5}'],
          [
            s(25),
            '{"level":"error","req":{"method":"GET","path":"/login"},"status":503,"latency_ms":900}',
            { trace_id: 't-1' },
          ],
          [s(65), 'not json at all'],
        ],
      },
      {
        labels: { tenant: 't', app: 'nginx', env: 'dev' },
        entries: [
          [s(5), NGINX[0]!],
          [s(35), NGINX[1]!],
          [s(95), NGINX[2]!],
        ],
      },
      {
        labels: { tenant: 't', app: 'packed' },
        entries: [[s(40), '{"_entry":"original line","container":"c1","n":3}']],
      },
      { labels: { tenant: 't', app: 'color' }, entries: [[s(45), '\x1b[31merror\x1b[0m something']] },
      { labels: { tenant: 't', app: 'flags' }, entries: [[s(50), 'a=1 b=="bad" c=3 standalone']] },
    ],
    { flush: true },
  );
  querier = fixture.store.querier();
  cleanup = fixture.cleanup;
});
after(async () => cleanup());

type Row = { labels: Record<string, string>; line: string; ms: number };

/** One row per entry, in the query's direction (streams merged by time, as a client shows them). */
async function logs(
  query: string,
  opts: { direction?: 'forward' | 'backward'; limit?: number } = {},
): Promise<Row[]> {
  const expr = parseLogQL(query) as LogSelectorExpr;
  assert.equal(expr.kind, 'logSelector');
  const direction = opts.direction ?? 'forward';
  const res = await new LogQLEngine(querier).selectLogs(expr, {
    startMs: T,
    startNs: 0,
    endMs: s(120),
    endNs: 0,
    limit: opts.limit ?? 100,
    direction,
  });
  const rows = res.flatMap((r) =>
    r.entries.map((e) => ({
      labels: Object.fromEntries(r.labels.map((l) => [l.name, l.value])),
      line: e.line,
      ms: e.ms,
    })),
  );
  return rows.sort((a, b) => (direction === 'forward' ? a.ms - b.ms : b.ms - a.ms));
}

function lines(rows: Row[]): string[] {
  return rows.map((r) => r.line);
}

/** Range query at T+60 s and T+120 s (step 1 m): label set → [value at 60, value at 120] (undefined = no point). */
async function matrix(query: string): Promise<Record<string, (number | undefined)[]>> {
  const res = await new LogQLEngine(querier).evalRange(
    parseLogQL(query) as MetricExpr,
    s(60),
    s(120),
    60_000,
  );
  assert.equal(res.type, 'matrix');
  const out: Record<string, (number | undefined)[]> = {};
  if (res.type !== 'matrix') return out;
  for (const series of res.series) {
    const key = series.labels.map((l) => `${l.name}=${l.value}`).join(',');
    out[key] = [s(60), s(120)].map((t) => series.points.find((p) => p[0] === t)?.[1]);
  }
  return out;
}

async function instant(query: string, at = s(60)) {
  return new LogQLEngine(querier).evalInstant(parseLogQL(query) as MetricExpr, at);
}

describe('LogQL log queries', () => {
  it('line filters: contains, not contains, regex, negated regex', async () => {
    assert.deepEqual(
      lines(await logs('{app="api"} |= "GET"')).map((l) => l.split(' ')[2]),
      ['path=/users', 'path=/users/7', 'path=/health'],
    );
    assert.deepEqual(lines(await logs('{app="api"} != "GET"')), [
      'level=error method=POST path=/orders status=500 duration=2.5s size=512B',
    ]);
    assert.equal(lines(await logs('{app="api"} |~ "status=(4|5)\\\\d\\\\d"')).length, 2);
    assert.deepEqual(
      lines(await logs('{app="api"} !~ "users"')).map((l) => l.split(' ')[0]),
      ['level=error', 'level=warn'],
    );
    assert.deepEqual(lines(await logs('{app="api"} |~ "(?i)LEVEL=WARN"')).length, 1, 'Go (?i) flag');
  });

  it('or-chained line filters and chains of filters', async () => {
    const rows = await logs('{app=~"api|web"} |= "error" or "warn"');
    assert.deepEqual(lines(rows).sort(), [
      'level=error method=POST path=/orders status=500 duration=2.5s size=512B',
      'level=warn method=GET path=/health status=404 duration=5ms size=100B',
      '{"level":"error","req":{"method":"GET","path":"/login"},"status":503,"latency_ms":900}',
    ]);
    assert.equal(lines(await logs('{app="api"} != "error" or "warn"')).length, 2, 'negated or: neither term');
    assert.equal(lines(await logs('{app="api"} |= "GET" |= "users" != "/7"')).length, 1);
  });

  it('ip() line filter and ip label filter', async () => {
    assert.deepEqual(lines(await logs('{app="nginx"} |= ip("10.0.0.0/24")')).length, 2);
    const rows = await logs('{app="nginx"} | pattern "<ip> <_>" | ip = ip("192.168.0.0/16")');
    assert.deepEqual(lines(rows), [NGINX[1]]);
  });

  it('logfmt with numeric, duration, bytes filters and and/or', async () => {
    const bad = await logs('{app="api"} | logfmt | status >= 400');
    assert.deepEqual(
      bad.map((r) => r.labels['status']),
      ['500', '404'],
    );
    assert.deepEqual(bad[0]!.labels, {
      app: 'api',
      env: 'prod',
      tenant: 't',
      level: 'error',
      method: 'POST',
      path: '/orders',
      status: '500',
      duration: '2.5s',
      size: '512B',
    });
    assert.deepEqual(
      (await logs('{app="api"} | logfmt | duration > 100ms')).map((r) => r.labels['duration']),
      ['120ms', '2.5s'],
    );
    assert.deepEqual(
      (await logs('{app="api"} | logfmt | size >= 1KB')).map((r) => r.labels['size']),
      ['1.5KB', '3KB'],
    );
    assert.deepEqual(
      (await logs('{app="api"} | logfmt | status == 200 and method="GET" or level="warn"')).map(
        (r) => r.labels['path'],
      ),
      ['/users', '/users/7', '/health'],
    );
    assert.deepEqual(
      (await logs('{app="api"} | logfmt | status=200, path=~"/users/.*"')).map((r) => r.labels['path']),
      ['/users/7'],
    );
  });

  it('logfmt strict mode reports malformed lines; lenient mode skips the bad pair', async () => {
    const lenient = await logs('{app="flags"} | logfmt');
    assert.equal(lenient[0]!.labels['a'], '1');
    assert.equal(lenient[0]!.labels['c'], '3');
    assert.equal(lenient[0]!.labels['b'], undefined);
    const strict = await logs('{app="flags"} | logfmt --strict');
    assert.equal(strict[0]!.labels['__error__'], 'LogfmtParserErr');
    const keep = await logs('{app="flags"} | logfmt --keep-empty | standalone=""');
    assert.equal(keep.length, 1);
  });

  it('json flattens nested objects, skips arrays, keeps structured metadata, flags bad lines', async () => {
    const rows = await logs('{app="web"} | json | status >= 500');
    assert.deepEqual(rows[0]!.labels, {
      app: 'web',
      env: 'prod',
      tenant: 't',
      trace_id: 't-1',
      level: 'error',
      req_method: 'GET',
      req_path: '/login',
      status: '503',
      latency_ms: '900',
    });
    const errors = await logs('{app="web"} | json | __error__ != ""');
    assert.deepEqual(lines(errors), ['not json at all']);
    assert.equal(errors[0]!.labels['__error__'], 'JSONParserErr');
    const extracted = await logs('{app="web"} | json lvl="level", path="req.path" | __error__=""');
    assert.deepEqual(
      extracted.map((r) => [r.labels['lvl'], r.labels['path']]),
      [
        ['info', '/'],
        ['error', '/login'],
      ],
    );
    assert.deepEqual(
      lines(await logs('{app="web"} | trace_id="t-1"')).length,
      1,
      'structured metadata filters like a label',
    );
  });

  it('pattern and regexp parsers', async () => {
    const p = await logs(
      '{app="nginx"} | pattern "<ip> - - [<_>] \\"<method> <uri> <_>\\" <status> <size> <_>"',
    );
    assert.deepEqual(
      p.map((r) => [
        r.labels['ip'],
        r.labels['method'],
        r.labels['uri'],
        r.labels['status'],
        r.labels['size'],
      ]),
      [
        ['10.0.0.1', 'GET', '/index.html', '200', '612'],
        ['192.168.1.20', 'POST', '/api/login', '401', '45'],
        ['10.0.0.2', 'GET', '/favicon.ico', '404', '0'],
      ],
    );
    const r = await logs(
      '{app="nginx"} | regexp "(?P<client>\\\\S+) .* \\"(?P<verb>\\\\w+) (?P<target>\\\\S+)"',
    );
    assert.deepEqual(r[1]!.labels['client'], '192.168.1.20');
    assert.deepEqual(r[1]!.labels['verb'], 'POST');
    assert.deepEqual(r[1]!.labels['target'], '/api/login');
  });

  it('unpack restores the packed line and labels', async () => {
    const rows = await logs('{app="packed"} | unpack');
    assert.deepEqual(rows, [
      { labels: { app: 'packed', tenant: 't', container: 'c1' }, line: 'original line', ms: s(40) },
    ]);
  });

  it('line_format with functions and conditionals; decolorize', async () => {
    const rows = await logs(
      '{app="nginx"} | pattern "<ip> - - [<_>] \\"<method> <uri> <_>\\" <status> <_>" | line_format "{{.method}} {{.uri}} -> {{.status}}"',
    );
    assert.deepEqual(lines(rows), [
      'GET /index.html -> 200',
      'POST /api/login -> 401',
      'GET /favicon.ico -> 404',
    ]);
    const f = await logs(
      '{app="api"} | logfmt | line_format `{{ .path | ToUpper }} {{ if eq .level "error" }}BAD{{ else }}ok{{ end }} {{ printf "%05d" .status }} {{ .missing | default "n/a" }}`',
    );
    assert.deepEqual(lines(f), [
      '/USERS ok 00200 n/a',
      '/ORDERS BAD 00500 n/a',
      '/USERS/7 ok 00200 n/a',
      '/HEALTH ok 00404 n/a',
    ]);
    assert.deepEqual(lines(await logs('{app="color"} | decolorize')), ['error something']);
    assert.deepEqual(lines(await logs('{app="api"} |= "POST" | line_format "{{__line__ | trunc 11}}"')), [
      'level=error',
    ]);
  });

  it('label_format renames and templates; drop and keep', async () => {
    const rows = await logs(
      '{app="api"} |= "POST" | logfmt | label_format lvl=level, route="{{.method}} {{.path}}" | keep lvl, route',
    );
    assert.deepEqual(rows[0]!.labels, { lvl: 'error', route: 'POST /orders' });
    const dropped = await logs(
      '{app="api"} | logfmt | drop level, duration, size, path, status, method="GET"',
    );
    assert.deepEqual(
      dropped.map((r) => r.labels),
      [
        { app: 'api', env: 'prod', tenant: 't' },
        { app: 'api', env: 'prod', tenant: 't', method: 'POST' },
        { app: 'api', env: 'prod', tenant: 't' },
        { app: 'api', env: 'prod', tenant: 't' },
      ],
    );
    const kept = await logs('{app="api"} | logfmt | keep app, level="error"');
    assert.deepEqual(
      kept.map((r) => r.labels),
      [{ app: 'api' }, { app: 'api', level: 'error' }, { app: 'api' }, { app: 'api' }],
    );
  });

  it('parsed labels that clash with stream labels get the _extracted suffix', async () => {
    const rows = await logs('{app="api"} |= "POST" | logfmt | line_format "app={{.app}}" | logfmt');
    assert.equal(rows[0]!.labels['app'], 'api');
    assert.equal(rows[0]!.labels['app_extracted'], 'api');
  });

  it('direction and limit pick the newest or oldest entries across streams', async () => {
    const back = await logs('{env="prod"}', { direction: 'backward', limit: 2 });
    assert.deepEqual(
      back.map((r) => [r.labels['app'], r.line]),
      [
        ['api', 'level=warn method=GET path=/health status=404 duration=5ms size=100B'],
        ['web', 'not json at all'],
      ],
    );
    const fwd = await logs('{env="prod"}', { direction: 'forward', limit: 2 });
    assert.deepEqual(
      lines(fwd).map((l) => l.slice(0, 12)),
      ['level=info m', '{"level":"in'],
    );
    const newestFirst = await logs('{app="api"}', { direction: 'backward', limit: 3 });
    assert.deepEqual(
      lines(newestFirst).map((l) => l.split(' ')[2]),
      ['path=/health', 'path=/users/7', 'path=/orders'],
    );
  });
});

describe('LogQL metric queries', () => {
  it('count_over_time and rate use (t - range, t] windows', async () => {
    assert.deepEqual(await matrix('count_over_time({app="api"}[1m])'), {
      'app=api,env=prod,tenant=t': [3, 1],
    });
    assert.deepEqual(await matrix('rate({app="api"}[1m])'), {
      'app=api,env=prod,tenant=t': [3 / 60, 1 / 60],
    });
    assert.deepEqual(await matrix('count_over_time({app="api"}[1m] offset 1m)'), {
      'app=api,env=prod,tenant=t': [undefined, 3],
    });
    // Exactly on the boundary: the entry at T+70 s is in (60, 120] but not in (10, 70]? It is: 70 ≤ 70.
    const at70 = await new LogQLEngine(querier).evalInstant(
      parseLogQL('count_over_time({app="api"}[1m])') as MetricExpr,
      s(70),
    );
    assert.equal(at70.type === 'vector' ? at70.samples[0]!.value : -1, 3, '(10, 70] holds 20, 30 and 70');
  });

  it('bytes_over_time and bytes_rate count line bytes', async () => {
    const b0 = Buffer.byteLength(NGINX[0]!) + Buffer.byteLength(NGINX[1]!);
    const b1 = Buffer.byteLength(NGINX[2]!);
    assert.deepEqual(await matrix('bytes_over_time({app="nginx"}[1m])'), {
      'app=nginx,env=dev,tenant=t': [b0, b1],
    });
    assert.deepEqual(await matrix('bytes_rate({app="nginx"}[1m])'), {
      'app=nginx,env=dev,tenant=t': [b0 / 60, b1 / 60],
    });
  });

  it('sum by / without, and structured metadata splitting series', async () => {
    assert.deepEqual(await matrix('sum by (env) (count_over_time({tenant="t"}[1m]))'), {
      'env=prod': [5, 2],
      'env=dev': [2, 1],
      '': [3, undefined],
    });
    assert.deepEqual(await matrix('sum without (app) (count_over_time({env="prod"}[1m]))'), {
      'env=prod,tenant=t': [4, 2],
      'env=prod,tenant=t,trace_id=t-1': [1, undefined],
    });
    assert.deepEqual(await matrix('sum by (level) (count_over_time({app="api"} | logfmt [1m]))'), {
      'level=info': [2, undefined],
      'level=error': [1, undefined],
      'level=warn': [undefined, 1],
    });
    assert.deepEqual(await matrix('count(count_over_time({env="prod"}[1m]))'), { '': [3, 2] });
    // Grouped over parsed labels with a filter on another parsed label (parsers extract only what is needed).
    assert.deepEqual(
      await matrix('sum by (method) (count_over_time({app="api"} | logfmt | status >= 400 [1m]))'),
      {
        'method=POST': [1, undefined],
        'method=GET': [undefined, 1],
      },
    );
    assert.deepEqual(
      await matrix(
        'sum by (status) (count_over_time({app="nginx"} | pattern "<ip> - - [<_>] \\"<method> <uri> <_>\\" <status> <_>" [1m]))',
      ),
      { 'status=200': [1, undefined], 'status=401': [1, undefined], 'status=404': [undefined, 1] },
    );
  });

  it('unwrapped range aggregations with duration() and bytes() conversions', async () => {
    const near = (a: Record<string, (number | undefined)[]>, b: Record<string, (number | undefined)[]>) => {
      assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
      for (const k of Object.keys(b)) {
        b[k]!.forEach((v, i) => {
          if (v === undefined) assert.equal(a[k]![i], undefined);
          else assert.ok(Math.abs(a[k]![i]! - v) < 1e-9, `${k}[${i}]: ${a[k]![i]} ≈ ${v}`);
        });
      }
    };
    near(await matrix('sum_over_time({app="api"} | logfmt | unwrap duration(duration) [1m]) by (app)'), {
      'app=api': [2.7, 0.005],
    });
    near(await matrix('avg_over_time({app="api"} | logfmt | unwrap duration(duration) [1m]) by (method)'), {
      'method=GET': [0.1, 0.005],
      'method=POST': [2.5, undefined],
    });
    near(await matrix('max_over_time({app="api"} | logfmt | unwrap bytes(size) [1m]) by (app)'), {
      'app=api': [3000, 100],
    });
    near(await matrix('min_over_time({app="api"} | logfmt | unwrap bytes(size) [1m]) by (app)'), {
      'app=api': [512, 100],
    });
    near(
      await matrix('quantile_over_time(0.5, {app="api"} | logfmt | unwrap duration(duration) [1m]) by (app)'),
      { 'app=api': [0.12, 0.005] },
    );
    near(await matrix('first_over_time({app="api"} | logfmt | unwrap duration(duration) [1m]) by (app)'), {
      'app=api': [0.12, 0.005],
    });
    near(await matrix('last_over_time({app="api"} | logfmt | unwrap duration(duration) [1m]) by (app)'), {
      'app=api': [0.08, 0.005],
    });
    near(await matrix('stddev_over_time({app="api"} | logfmt | unwrap status [1m]) by (app)'), {
      'app=api': [Math.sqrt(20000), 0],
    });
    near(await matrix('stdvar_over_time({app="api"} | logfmt | unwrap status [1m]) by (app)'), {
      'app=api': [20000, 0],
    });
    near(await matrix('rate({app="api"} | logfmt | unwrap duration(duration) [1m]) by (app)'), {
      'app=api': [2.7 / 60, 0.005 / 60],
    });
    near(await matrix('sum(sum_over_time({app="web"} | json | __error__="" | unwrap latency_ms [2m]))'), {
      '': [912.5, 912.5],
    });
  });

  it('unwrap removes the unwrapped label from the series', async () => {
    const m = await matrix(
      'sum_over_time({app="api"} |= "POST" | logfmt | drop level, method, path, duration, size | unwrap status [1m])',
    );
    assert.deepEqual(m, { 'app=api,env=prod,tenant=t': [500, undefined] });
  });

  it('a parse error in a metric query fails it unless filtered', async () => {
    await assert.rejects(
      matrix('count_over_time({app="web"} | json [1m])'),
      /pipeline error: 'JSONParserErr'/,
    );
    assert.deepEqual(await matrix('sum(count_over_time({app="web"} | json | __error__="" [2m]))'), {
      '': [2, 2],
    });
    await assert.rejects(
      matrix('sum_over_time({app="api"} | logfmt | unwrap path [1m])'),
      /SampleExtractionErr/,
    );
  });

  it('absent_over_time', async () => {
    assert.deepEqual(await matrix('absent_over_time({app="nothing", env=~".+"}[1m])'), {
      'app=nothing': [1, 1],
    });
    assert.deepEqual(await matrix('absent_over_time({app="api"}[1m])'), {});
    assert.deepEqual(await matrix('absent_over_time({app="api"} |= "POST" [1m])'), {
      'app=api': [undefined, 1],
    });
    assert.deepEqual(await matrix('absent_over_time({app="api", path="x"}[1m])'), {
      'app=api,path=x': [1, 1],
    });
  });

  it('topk, bottomk, max, min, avg and sort in instant queries', async () => {
    const top = await instant('topk(1, sum by (app) (count_over_time({env="prod"}[1m])))');
    assert.deepEqual(top, {
      type: 'vector',
      samples: [{ labels: [{ name: 'app', value: 'api' }], ms: s(60), value: 3 }],
    });
    const bottom = await instant('bottomk(1, sum by (app) (count_over_time({env="prod"}[1m])))');
    assert.equal(bottom.type === 'vector' ? bottom.samples[0]!.labels[0]!.value : '', 'web');
    const max = await instant('max by (env) (count_over_time({env=~".+"}[1m]))');
    assert.deepEqual(max.type === 'vector' ? max.samples.map((x) => [x.labels[0]!.value, x.value]) : [], [
      ['dev', 2],
      ['prod', 3],
    ]);
    const avg = await instant('avg(count_over_time({env="prod"}[1m]))');
    assert.equal(avg.type === 'vector' ? avg.samples[0]!.value : -1, 5 / 3);
    const sorted = await instant('sort_desc(sum by (app) (count_over_time({tenant="t"}[1m])))');
    assert.deepEqual(sorted.type === 'vector' ? sorted.samples.map((x) => x.value) : [], [3, 2, 2, 1, 1, 1]);
  });

  it('binary operators, comparisons with and without bool, scalars', async () => {
    // (0, 60]: 10 lines; (60, 120]: api@70, web@65, nginx@95.
    assert.deepEqual(await matrix('sum(count_over_time({tenant="t"}[1m])) / 2'), { '': [5, 1.5] });
    assert.deepEqual(await matrix('sum by (app) (count_over_time({env="prod"}[1m])) > 2'), {
      'app=api': [3, undefined],
    });
    assert.deepEqual(await matrix('sum by (app) (count_over_time({env="prod"}[1m])) > bool 2'), {
      'app=api': [1, 0],
      'app=web': [0, 0],
    });
    assert.deepEqual(await instant('1 + 2 * 3'), { type: 'scalar', ms: s(60), value: 7 });
    assert.deepEqual(await instant('(1 + 2) * 3'), { type: 'scalar', ms: s(60), value: 9 });
    assert.deepEqual(await instant('2 ^ 3 ^ 2'), { type: 'scalar', ms: s(60), value: 512 });
    const ratio = await instant(
      'sum by (app) (count_over_time({app="api"} |= "GET" [1m])) / sum by (app) (count_over_time({app="api"}[1m]))',
    );
    assert.equal(ratio.type === 'vector' ? ratio.samples[0]!.value : -1, 2 / 3);
    const orred = await instant(
      'sum by (app) (count_over_time({app="api"}[1m])) or sum by (app) (count_over_time({app="nginx"}[1m]))',
    );
    assert.equal(orred.type === 'vector' ? orred.samples.length : -1, 2);
    const andd = await instant(
      'sum by (app) (count_over_time({env="prod"}[1m])) and sum by (app) (count_over_time({app="api"}[1m]))',
    );
    assert.equal(andd.type === 'vector' ? andd.samples.length : -1, 1);
    assert.deepEqual(await matrix('vector(1) + vector(2)'), { '': [3, 3] });
  });

  it('label_replace', async () => {
    assert.deepEqual(
      await matrix(
        'label_replace(sum by (app) (count_over_time({app="api"}[1m])), "svc", "$1-svc", "app", "(.*)")',
      ),
      {
        'app=api,svc=api-svc': [3, 1],
      },
    );
  });
});
