/**
 * npm run bench:query — dashboard query latency on the ingest benchmark's data (the same fleet
 * and stream as bench:ingest), for one tenant, against Irin and, when installed, Debian's
 * Prometheus 2.42 loaded with the same data. Prints median and p90 latency per query and the
 * Irin / Prometheus ratio of medians.
 *
 * Knobs: BENCH_HOURS (default 6), BENCH_TENANTS (default 10), BENCH_QUERY_RUNS (default 15),
 * BENCH_SKIP_PROMETHEUS=1.
 */
import { existsSync, rmSync } from 'node:fs';
import { fmt, quantile } from './support/processes.ts';
import {
  createReadKey,
  feed,
  INTERVAL_MS,
  irinTarget,
  PROMETHEUS,
  prometheusTarget,
  provision,
  startIrin,
  startPrometheus,
  stopServer,
  tempDataDir,
} from './support/targets.ts';
import { buildFleet } from './support/workload.ts';

const HOURS = Number(process.env.BENCH_HOURS ?? 6);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 10);
const RUNS = Number(process.env.BENCH_QUERY_RUNS ?? 15);
const TENANT = 'bench-00';

/** `{sel}` is where a selector's own matchers go; Prometheus gets the tenant matcher written in. */
const DASHBOARD_QUERIES: { name: string; expr: string; kind: 'range' | 'instant' }[] = [
  {
    name: 'CPU busy % per instance (5m rate), range',
    kind: 'range',
    expr: '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"{sel}}[5m])))',
  },
  {
    name: 'memory used %, range',
    kind: 'range',
    expr: '100 * (1 - node_memory_MemAvailable_bytes{{sel0}} / node_memory_MemTotal_bytes{{sel0}})',
  },
  {
    name: 'filesystem used %, range',
    kind: 'range',
    expr: '100 * (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs"{sel}} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs"{sel}})',
  },
  {
    name: 'top 5 instances by CPU, range',
    kind: 'range',
    expr: 'topk(5, 100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"{sel}}[5m]))))',
  },
  {
    name: 'network rx bits/s by device, range',
    kind: 'range',
    expr: 'sum by (instance, device) (rate(node_network_receive_bytes_total{device!~"lo|veth.+"{sel}}[5m])) * 8',
  },
  {
    name: 'CPU busy % per instance, instant',
    kind: 'instant',
    expr: '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"{sel}}[5m])))',
  },
  {
    name: 'memory used %, instant',
    kind: 'instant',
    expr: '100 * (1 - node_memory_MemAvailable_bytes{{sel0}} / node_memory_MemTotal_bytes{{sel0}})',
  },
];

function render(expr: string, tenantMatcher: string): string {
  return expr
    .replaceAll('{sel}', tenantMatcher ? `,${tenantMatcher}` : '')
    .replaceAll('{sel0}', tenantMatcher);
}

interface Timing {
  median: number;
  p90: number;
  series: number;
}

async function timeQuery(
  baseUrl: string,
  headers: Record<string, string>,
  kind: 'range' | 'instant',
  expr: string,
  end: number,
): Promise<Timing> {
  const params = new URLSearchParams({ query: expr });
  if (kind === 'range') {
    params.set('start', String((end - HOURS * 3600_000) / 1000));
    params.set('end', String(end / 1000));
    params.set('step', '60');
  } else {
    params.set('time', String(end / 1000));
  }
  const url = `${baseUrl}/api/v1/${kind === 'range' ? 'query_range' : 'query'}?${params}`;
  const times: number[] = [];
  let series = 0;
  for (let i = 0; i < RUNS + 2; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    const body = (await res.json()) as { status: string; data?: { result: unknown[] }; error?: string };
    const ms = performance.now() - t0;
    if (body.status !== 'success') throw new Error(`${url}: ${body.error}`);
    series = body.data!.result.length;
    if (i >= 2) times.push(ms); // two warm-up runs
  }
  times.sort((a, b) => a - b);
  return { median: quantile(times, 0.5), p90: quantile(times, 0.9), series };
}

async function main(): Promise<void> {
  const scrapes = Math.round((HOURS * 3600_000) / INTERVAL_MS);
  const start = Math.floor((Date.now() - scrapes * INTERVAL_MS) / INTERVAL_MS) * INTERVAL_MS;
  const end = start + (scrapes - 1) * INTERVAL_MS;
  const fleet = buildFleet(TENANTS, false);
  console.log(
    `bench:query — loading ${TENANTS} tenants, ${fleet.length} servers, ${HOURS} h (the bench:ingest workload); queries for tenant ${TENANT} over the last ${HOURS} h at 60 s steps, ${RUNS} runs each`,
  );

  const irinDir = tempDataDir('irin-qbench-');
  const headers = await provision(irinDir, fleet);
  const irin = await startIrin(irinDir);
  await feed(irinTarget(irin, headers), fleet, start, scrapes);
  const irinAuth = { authorization: `Bearer ${await createReadKey(irinDir, TENANT)}` };

  let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  const promDir = tempDataDir('prom-qbench-');
  if (process.env.BENCH_SKIP_PROMETHEUS !== '1' && existsSync(PROMETHEUS)) {
    prom = await startPrometheus(promDir);
    await feed(prometheusTarget(prom), buildFleet(TENANTS, true), start, scrapes);
  }

  try {
    console.log(
      `\n${'query'.padEnd(44)} ${'Irin median'.padStart(12)} ${'p90'.padStart(8)} ${prom ? `${'Prom median'.padStart(12)} ${'p90'.padStart(8)} ${'ratio'.padStart(6)}` : ''}`,
    );
    for (const q of DASHBOARD_QUERIES) {
      const mine = await timeQuery(`${irin.url}/prometheus`, irinAuth, q.kind, render(q.expr, ''), end);
      let line = `${q.name.padEnd(44)} ${`${fmt(mine.median, 1)} ms`.padStart(12)} ${`${fmt(mine.p90, 1)}`.padStart(8)}`;
      if (prom) {
        const theirs = await timeQuery(prom.url, {}, q.kind, render(q.expr, `tenant="${TENANT}"`), end);
        if (theirs.series !== mine.series)
          line += `  (series differ: irin ${mine.series}, prometheus ${theirs.series})`;
        line += ` ${`${fmt(theirs.median, 1)} ms`.padStart(12)} ${`${fmt(theirs.p90, 1)}`.padStart(8)} ${`${fmt(mine.median / theirs.median, 2)}×`.padStart(6)}`;
      }
      console.log(line);
    }
  } finally {
    await stopServer(irin);
    if (prom) await stopServer(prom);
    rmSync(irinDir, { recursive: true, force: true });
    rmSync(promDir, { recursive: true, force: true });
  }
}

await main();
