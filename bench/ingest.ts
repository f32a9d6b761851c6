/**
 * npm run bench:ingest — end-to-end remote-write ingestion through HTTP with auth, label
 * enforcement, WAL + fsync, on node_exporter-like data: 10 tenants × 5–10 servers × 600 series,
 * 15 s interval, BENCH_HOURS (default 6) backfilled. Prints throughput, p99 latency, CPU of the
 * server and of this load generator, memory, on-disk bytes per sample, and WAL restart time; then
 * feeds Debian's Prometheus the same stream (when installed) and prints the ratios.
 *
 * Knobs: BENCH_HOURS, BENCH_TENANTS, BENCH_CONCURRENCY, BENCH_SCRAPES_PER_REQUEST, BENCH_SKIP_PROMETHEUS=1,
 * BENCH_RESTART_SAMPLES (default 5,000,000).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedNode } from '../src/client/simulated-node.ts';
import { blockStats, dirBytes, fmt, processMemory, quantile } from './support/processes.ts';
import {
  createReadKey,
  feed,
  INTERVAL_MS,
  irinTarget,
  PROMETHEUS,
  prometheusTarget,
  provision,
  report,
  startIrin,
  startPrometheus,
  stopServer,
  tempDataDir,
  type RunResult,
} from './support/targets.ts';
import { buildFleet, fleetServer, type FleetServer } from './support/workload.ts';

const HOURS = Number(process.env.BENCH_HOURS ?? 6);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 10);
const RESTART_SAMPLES = Number(process.env.BENCH_RESTART_SAMPLES ?? 5_000_000);

async function benchIrin(
  fleet: FleetServer[],
  start: number,
  scrapes: number,
): Promise<{
  result: RunResult;
  bytesPerSample: number;
  memory: { rss: number; peakRss: number };
  series: number;
}> {
  const dataDir = tempDataDir('irin-bench-');
  try {
    const headers = await provision(dataDir, fleet);
    const irin = await startIrin(dataDir);
    const result = await feed(irinTarget(irin, headers), fleet, start, scrapes);
    const memory = processMemory(irin.child.pid!);
    await stopServer(irin);
    const blocks = blockStats(join(dataDir, 'tenants'));
    console.log(
      `  (irin blocks: ${blocks.blocks} holding ${fmt(blocks.samples)} samples in ${fmt(blocks.bytes / 1e6, 1)} MB; data dir ${fmt(dirBytes(dataDir) / 1e6, 1)} MB)`,
    );
    return {
      result,
      bytesPerSample: blocks.bytesPerSample,
      memory,
      series: fleet.reduce((n, s) => n + s.encoded.length, 0),
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchPrometheus(
  fleet: FleetServer[],
  start: number,
  scrapes: number,
): Promise<{ result: RunResult; bytesPerSample: number; memory: { rss: number; peakRss: number } }> {
  const dataDir = tempDataDir('prom-bench-');
  try {
    const prom = await startPrometheus(dataDir);
    const result = await feed(prometheusTarget(prom), fleet, start, scrapes);
    const memory = processMemory(prom.child.pid!);
    await stopServer(prom);
    const blocks = blockStats(dataDir);
    console.log(
      `  (prometheus blocks: ${blocks.blocks} holding ${fmt(blocks.samples)} samples in ${fmt(blocks.bytes / 1e6, 1)} MB)`,
    );
    return { result, bytesPerSample: blocks.bytesPerSample, memory };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Fills a WAL with RESTART_SAMPLES samples (head only: spans less than a block), kill -9, restart. */
async function benchRestart(): Promise<{ samples: number; readyMs: number; firstQueryMs: number }> {
  const dataDir = tempDataDir('irin-restart-');
  try {
    const seriesPerServer = 600;
    const scrapes = 400; // 100 minutes at 15 s: stays in the head, so everything is in the WAL
    const servers = Math.ceil(RESTART_SAMPLES / (seriesPerServer * scrapes));
    const fleet = Array.from({ length: servers }, (_, s) =>
      fleetServer('restart', new SimulatedNode({ instance: `restart-svr${s}`, seed: s })),
    );
    const headers = await provision(dataDir, fleet);
    let irin = await startIrin(dataDir);
    const start = Date.now() - scrapes * INTERVAL_MS;
    const fed = await feed(irinTarget(irin, headers, 'irin (WAL fill)'), fleet, start, scrapes);
    await stopServer(irin, 'SIGKILL');
    const t0 = performance.now();
    irin = await startIrin(dataDir);
    const readyMs = performance.now() - t0;
    // Ready means the WAL is replayed; the first query proves the data is there.
    const key = await createReadKey(dataDir, 'restart');
    const q0 = performance.now();
    const res = await fetch(`${irin.url}/prometheus/api/v1/query?query=count(node_load1)`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
    const firstQueryMs = performance.now() - q0;
    console.log(
      `  after restart: count(node_load1) = ${body.data?.result?.[0]?.value[1] ?? JSON.stringify(body)} (expected ${servers})`,
    );
    await stopServer(irin);
    return { samples: fed.samples, readyMs, firstQueryMs };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const scrapes = Math.round((HOURS * 3600_000) / INTERVAL_MS);
  const start = Math.floor((Date.now() - scrapes * INTERVAL_MS) / INTERVAL_MS) * INTERVAL_MS;
  const fleet = buildFleet(TENANTS, false);
  const series = fleet.reduce((n, s) => n + s.encoded.length, 0);
  console.log(
    `bench:ingest — ${TENANTS} tenants, ${fleet.length} servers, ${fmt(series)} series, ${HOURS} h at 15 s = ${fmt(series * scrapes)} samples`,
  );

  const irin = await benchIrin(fleet, start, scrapes);
  report('Irin', irin.result);
  console.log(`  on-disk in blocks       ${fmt(irin.bytesPerSample, 2)} bytes/sample`);
  console.log(
    `  memory                  RSS ${fmt(irin.memory.rss / 2 ** 20)} MiB, peak RSS ${fmt(irin.memory.peakRss / 2 ** 20)} MiB, ${fmt(irin.memory.rss / irin.series)} B RSS per active series (upper bound on head memory)`,
  );

  const restart = RESTART_SAMPLES > 0 ? await benchRestart() : undefined;
  if (restart)
    console.log(
      `\nRestart after kill -9 with ${fmt(restart.samples)} samples in the WAL: ready in ${fmt(restart.readyMs)} ms, first query ${fmt(restart.firstQueryMs)} ms`,
    );

  if (process.env.BENCH_SKIP_PROMETHEUS !== '1' && existsSync(PROMETHEUS)) {
    const promFleet = buildFleet(TENANTS, true);
    const prom = await benchPrometheus(promFleet, start, scrapes);
    report('Prometheus 2.42 (Debian), same stream', prom.result);
    console.log(`  on-disk in blocks       ${fmt(prom.bytesPerSample, 2)} bytes/sample`);
    console.log(
      `  memory                  RSS ${fmt(prom.memory.rss / 2 ** 20)} MiB, peak RSS ${fmt(prom.memory.peakRss / 2 ** 20)} MiB`,
    );
    const ir = irin.result.samples / irin.result.seconds;
    const pr = prom.result.samples / prom.result.seconds;
    console.log(
      `\nRatios Irin / Prometheus: throughput ${fmt(ir / pr, 2)}×, p99 latency ${fmt(quantile(irin.result.latenciesMs, 0.99) / quantile(prom.result.latenciesMs, 0.99), 2)}×, bytes/sample ${fmt(irin.bytesPerSample / prom.bytesPerSample, 2)}×`,
    );
  } else {
    console.log('\n(Prometheus comparison skipped: /usr/bin/prometheus absent or BENCH_SKIP_PROMETHEUS=1)');
  }
}

await main();
