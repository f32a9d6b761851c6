/**
 * npm run bench:query — dashboard query latency on the ingest benchmark's data (the same
 * deterministic fleet: BENCH_TENANTS tenants × 5–10 servers × ~600 node_exporter series, 15 s
 * interval, BENCH_HOURS of history). Irin's side is its TSDB (one partition per tenant) behind the
 * Prometheus HTTP API (in this process, a bench-only authenticator); Debian's Prometheus 2.42
 * (when installed) is fed the very same samples over remote write. Every query runs as an
 * instant query and as a range query over the last 6 h at a 60 s step; the median of
 * BENCH_RUNS runs is printed for both, with the ratio Irin / Prometheus.
 *
 * Knobs: BENCH_TENANTS (default 10), BENCH_HOURS (6), BENCH_RUNS (20), BENCH_SKIP_PROMETHEUS=1.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import snappy from 'snappy';
import { PrometheusServer, prometheusAvailable } from '../test/conformance/prometheus-server.ts';
import { encodeBatch } from './support/fast-write-request.ts';
import { fmt } from './support/processes.ts';
import { buildFleet, nextValues, type FleetServer } from './support/workload.ts';
import type { QueryServerOptions } from './support/query-server-worker.ts';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 10);
const HOURS = Number(process.env.BENCH_HOURS ?? 6);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const SKIP_PROMETHEUS = process.env.BENCH_SKIP_PROMETHEUS === '1' || !prometheusAvailable();
const INTERVAL_MS = 15_000;
const SCRAPES_PER_BATCH = 20;

const TENANT = 'bench-00';
const DASHBOARD: [string, string][] = [
  [
    'CPU busy % per instance (5m rate)',
    `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{tenant="${TENANT}",mode="idle"}[5m])))`,
  ],
  [
    'memory used %',
    `clamp_min((1 - node_memory_MemAvailable_bytes{tenant="${TENANT}"} / node_memory_MemTotal_bytes{tenant="${TENANT}"}) * 100, 0)`,
  ],
  [
    'filesystem used %',
    `100 * (1 - node_filesystem_avail_bytes{tenant="${TENANT}",fstype!~"rootfs|tmpfs|ramfs",mountpoint!=""} / node_filesystem_size_bytes{tenant="${TENANT}",fstype!~"rootfs|tmpfs|ramfs",mountpoint!=""})`,
  ],
  [
    'top 5 instances by CPU',
    `topk(5, 100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{tenant="${TENANT}",mode="idle"}[5m]))))`,
  ],
];

async function feedPrometheus(
  fleet: FleetServer[],
  start: number,
  scrapes: number,
  prom: PrometheusServer,
): Promise<void> {
  for (let done = 0; done < scrapes; done += SCRAPES_PER_BATCH) {
    const n = Math.min(SCRAPES_PER_BATCH, scrapes - done);
    for (const server of fleet) {
      const { timestamps, values } = nextValues(server, start + done * INTERVAL_MS, n, INTERVAL_MS);
      const body = snappy.compressSync(encodeBatch(server.encoded, timestamps, values));
      const res = await fetch(`${prom.url}/api/v1/write`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'snappy',
          'x-prometheus-remote-write-version': '0.1.0',
        },
        body,
      });
      if (!res.ok) throw new Error(`Prometheus refused a write: ${res.status} ${await res.text()}`);
    }
  }
}

/** Irin's side runs in a worker thread, so that this thread's HTTP client does not share its event loop. */
function startIrin(
  tenants: number,
  start: number,
  scrapes: number,
): Promise<{ url: string; worker: Worker }> {
  // Workers do not inherit tsx's loader on Node 20: register it in the worker before importing the module.
  const entry = new URL('./support/query-server-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: {
      tenants,
      start,
      scrapes,
      intervalMs: INTERVAL_MS,
      batch: SCRAPES_PER_BATCH,
    } satisfies QueryServerOptions,
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { url?: string; error?: string }) =>
      m.url ? resolve({ url: m.url, worker }) : reject(new Error(m.error)),
    );
    worker.once('error', reject);
  });
}

/** Medians of interleaved runs (after warm-up), so both sides see the same machine load. */
async function medians(runs: number, fs: readonly (() => Promise<void>)[]): Promise<number[]> {
  for (let i = 0; i < 3; i++) for (const f of fs) await f();
  const times = fs.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [k, f] of fs.entries()) {
      const t = performance.now();
      await f();
      times[k]!.push(performance.now() - t);
    }
  }
  return times.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!);
}

async function fetchOk(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text}`);
  return text;
}

function seriesCount(body: string): number {
  return (JSON.parse(body) as { data: { result: unknown[] } }).data.result.length;
}

async function main(): Promise<void> {
  const fleet = buildFleet(TENANTS, true);
  const scrapes = Math.floor((HOURS * 3600_000) / INTERVAL_MS);
  const end = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS;
  const start = end - scrapes * INTERVAL_MS;
  const series = fleet.reduce((n, s) => n + s.node.series.length, 0);
  console.log(
    `bench:query — ${TENANTS} tenants, ${fleet.length} servers, ${fmt(series)} series, ${HOURS} h at 15 s (${fmt(series * scrapes)} samples)`,
  );

  const prom = SKIP_PROMETHEUS
    ? undefined
    : await PrometheusServer.start(['--storage.tsdb.retention.time=1y']);
  let irin: { url: string; worker: Worker } | undefined;
  try {
    const loadStart = performance.now();
    [irin] = await Promise.all([
      startIrin(TENANTS, start, scrapes),
      prom ? feedPrometheus(fleet, start, scrapes, prom) : undefined,
    ]);
    console.log(
      `loaded in ${fmt((performance.now() - loadStart) / 1000, 1)} s${prom ? ' (Irin and Prometheus in parallel)' : ''}`,
    );
    const irinUrl = irin.url;
    const irinHeaders = { authorization: `Bearer ${TENANT}` };

    const rows: string[][] = [['query', 'kind', 'Irin ms', 'Prometheus ms', 'ratio']];
    const endS = end / 1000;
    for (const [name, query] of DASHBOARD) {
      const kinds: [string, string][] = [
        ['instant', `/api/v1/query?query=${encodeURIComponent(query)}&time=${endS}`],
        [
          'range 6h/60s',
          `/api/v1/query_range?query=${encodeURIComponent(query)}&start=${endS - 6 * 3600}&end=${endS}&step=60`,
        ],
      ];
      for (const [kind, path] of kinds) {
        const irinBody = await fetchOk(irinUrl + path, irinHeaders);
        const runIrin = async (): Promise<void> => void (await fetchOk(irinUrl + path, irinHeaders));
        let irinMs: number;
        let promMs = NaN;
        if (prom) {
          const promBody = await fetchOk(prom.url + path);
          if (seriesCount(promBody) !== seriesCount(irinBody)) {
            throw new Error(
              `${name} (${kind}): Irin returned ${seriesCount(irinBody)} series, Prometheus ${seriesCount(promBody)}`,
            );
          }
          [irinMs, promMs] = (await medians(RUNS, [
            runIrin,
            async () => void (await fetchOk(prom.url + path)),
          ])) as [number, number];
        } else {
          [irinMs] = (await medians(RUNS, [runIrin])) as [number];
        }
        rows.push([
          name,
          kind,
          fmt(irinMs, 2),
          prom ? fmt(promMs, 2) : '-',
          prom ? `${fmt(irinMs / promMs, 2)}×` : '-',
        ]);
      }
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows)
      console.log(
        r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
      );
    if (!prom)
      console.log('\n(Prometheus comparison skipped: /usr/bin/prometheus absent or BENCH_SKIP_PROMETHEUS=1)');
  } finally {
    if (irin) {
      irin.worker.postMessage('stop');
      await new Promise((r) => irin!.worker.once('exit', r));
    }
    await prom?.stop();
  }
}

if (!existsSync('package.json')) throw new Error('run from the repository root (npm run bench:query)');
await main();
