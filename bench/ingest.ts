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
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import snappy from 'snappy';
import { credentialHeaders } from '../src/client/remote-write.ts';
import { openControlPlane } from '../src/tenancy/open.ts';
import { createCredential } from '../src/tenancy/services/credentials.ts';
import { addServer } from '../src/tenancy/services/servers.ts';
import { createTenant } from '../src/tenancy/services/tenants.ts';
import { encodeBatch, PreEncodedSeries } from './support/fast-write-request.ts';
import {
  blockStats,
  dirBytes,
  fmt,
  freePort,
  processCpuSeconds,
  processMemory,
  quantile,
  startProcess,
  stopProcess,
  waitForHttp,
} from './support/processes.ts';
import { buildFleet, nextValues, type FleetServer } from './support/workload.ts';
import { SimulatedNode } from '../src/client/simulated-node.ts';

const HOURS = Number(process.env.BENCH_HOURS ?? 6);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SCRAPES_PER_REQUEST = Number(process.env.BENCH_SCRAPES_PER_REQUEST ?? 4);
const RESTART_SAMPLES = Number(process.env.BENCH_RESTART_SAMPLES ?? 5_000_000);
const INTERVAL_MS = 15_000;
const PROMETHEUS = '/usr/bin/prometheus';

const UNLIMITED = {
  IRIN_LIMITS_INGESTION_RATE: '1000000000',
  IRIN_LIMITS_INGESTION_BURST: '1000000000',
  IRIN_LIMITS_SERVER_INGESTION_RATE: '1000000000',
  IRIN_LIMITS_SERVER_INGESTION_BURST: '1000000000',
  IRIN_LIMITS_MAX_SERIES: '10000000',
  IRIN_LIMITS_SERVER_MAX_SERIES: '10000000',
  IRIN_PROBE_ENABLED: 'false',
  IRIN_LOG_LEVEL: 'warn',
};

interface Target {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  headersFor(server: FleetServer): Record<string, string>;
}

interface RunResult {
  samples: number;
  seconds: number;
  latenciesMs: number[];
  serverCpu: number;
  generatorCpu: number;
  failures: number;
}

/** Pushes the fleet's stream: in time order, chunk by chunk, CONCURRENCY requests in flight. */
async function feed(target: Target, fleet: FleetServer[], start: number, scrapes: number): Promise<RunResult> {
  const latencies: number[] = [];
  let samples = 0;
  let failures = 0;
  const cpu0 = process.cpuUsage();
  const serverCpu0 = processCpuSeconds(target.pid);
  const t0 = performance.now();
  let lastReport = t0;
  for (let k = 0; k < scrapes; k += SCRAPES_PER_REQUEST) {
    const n = Math.min(SCRAPES_PER_REQUEST, scrapes - k);
    let next = 0;
    const worker = async () => {
      while (next < fleet.length) {
        const server = fleet[next++]!;
        const { timestamps, values } = nextValues(server, start + k * INTERVAL_MS, n, INTERVAL_MS);
        const body = snappy.compressSync(encodeBatch(server.encoded, timestamps, values));
        const began = performance.now();
        const res = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-protobuf',
            'content-encoding': 'snappy',
            'x-prometheus-remote-write-version': '0.1.0',
            ...target.headersFor(server),
          },
          body,
        });
        const text = await res.text();
        latencies.push(performance.now() - began);
        if (res.status >= 300) {
          failures++;
          if (failures <= 3) process.stderr.write(`${target.name}: HTTP ${res.status}: ${text.slice(0, 300)}\n`);
        } else {
          samples += server.encoded.length * n;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const now = performance.now();
    if (now - lastReport > 10_000) {
      lastReport = now;
      const rate = samples / ((now - t0) / 1000);
      process.stderr.write(`  ${target.name}: ${fmt((k / scrapes) * 100)}% — ${fmt(rate)} samples/s\n`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    samples,
    seconds,
    latenciesMs: latencies.sort((a, b) => a - b),
    serverCpu: processCpuSeconds(target.pid) - serverCpu0,
    generatorCpu: (cpu.user + cpu.system) / 1e6,
    failures,
  };
}

function report(name: string, r: RunResult): void {
  console.log(`\n${name}`);
  console.log(`  samples ingested        ${fmt(r.samples)} in ${fmt(r.seconds, 1)} s  (${r.failures} failed requests)`);
  console.log(`  throughput              ${fmt(r.samples / r.seconds)} samples/s`);
  console.log(`  request latency         p50 ${fmt(quantile(r.latenciesMs, 0.5), 1)} ms, p99 ${fmt(quantile(r.latenciesMs, 0.99), 1)} ms (${fmt(r.latenciesMs.length)} requests of ~${fmt(r.samples / Math.max(1, r.latenciesMs.length))} samples)`);
  console.log(`  server CPU              ${fmt(r.serverCpu, 1)} s (${fmt((r.serverCpu / r.seconds) * 100)}% of one core)`);
  console.log(`  load generator CPU      ${fmt(r.generatorCpu, 1)} s (${fmt((r.generatorCpu / r.seconds) * 100)}% of one core)`);
}

async function provision(dataDir: string, fleet: FleetServer[]): Promise<Map<string, Record<string, string>>> {
  const cp = openControlPlane({ dataDir });
  const ctx = { store: cp.store, hasher: cp.hasher, by: { actor: 'bench', sourceAddr: null } };
  const headers = new Map<string, Record<string, string>>();
  const tenants = new Set<string>();
  for (const server of fleet) {
    if (!tenants.has(server.tenant)) {
      tenants.add(server.tenant);
      await createTenant(ctx, { slug: server.tenant });
    }
    const { token } = await addServer(ctx, server.tenant, { name: server.instance });
    headers.set(server.instance, credentialHeaders({ kind: 'basic', username: token.credential.clientId, password: token.secret }));
  }
  await cp.store.close();
  return headers;
}

async function startIrin(dataDir: string): Promise<{ url: string; child: ReturnType<typeof startProcess>; readyMs: number }> {
  const port = await freePort();
  const child = startProcess(process.execPath, ['bin/irin.mjs', 'serve', '--data-dir', dataDir, '--port', String(port)], UNLIMITED);
  const url = `http://127.0.0.1:${port}`;
  const readyMs = await waitForHttp(`${url}/-/ready`, 120_000);
  return { url, child, readyMs };
}

async function benchIrin(fleet: FleetServer[], start: number, scrapes: number): Promise<{ result: RunResult; bytesPerSample: number; memory: { rss: number; peakRss: number }; series: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'irin-bench-'));
  try {
    const headers = await provision(dataDir, fleet);
    const irin = await startIrin(dataDir);
    const result = await feed(
      { name: 'irin', url: `${irin.url}/api/v1/write`, pid: irin.child.pid!, headersFor: (s) => headers.get(s.instance)! },
      fleet,
      start,
      scrapes,
    );
    const memory = processMemory(irin.child.pid!);
    await stopProcess(irin.child, 'SIGTERM');
    const blocks = blockStats(join(dataDir, 'tenants'));
    const bytesPerSample = blocks.samples > 0 ? blocks.bytes / blocks.samples : NaN;
    console.log(`  (irin blocks: ${blocks.blocks} holding ${fmt(blocks.samples)} samples in ${fmt(blocks.bytes / 1e6, 1)} MB; data dir ${fmt(dirBytes(dataDir) / 1e6, 1)} MB)`);
    return { result, bytesPerSample, memory, series: fleet.reduce((n, s) => n + s.encoded.length, 0) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchPrometheus(fleet: FleetServer[], start: number, scrapes: number): Promise<{ result: RunResult; bytesPerSample: number; memory: { rss: number; peakRss: number } }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'prom-bench-'));
  try {
    const port = await freePort();
    const child = startProcess(PROMETHEUS, [
      `--config.file=${join(process.cwd(), 'bench/support/prometheus-empty.yml')}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--log.level=warn',
    ]);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/-/ready`, 60_000);
    const result = await feed({ name: 'prometheus', url: `${url}/api/v1/write`, pid: child.pid!, headersFor: () => ({}) }, fleet, start, scrapes);
    const memory = processMemory(child.pid!);
    await stopProcess(child, 'SIGTERM');
    const blocks = blockStats(dataDir);
    console.log(`  (prometheus blocks: ${blocks.blocks} holding ${fmt(blocks.samples)} samples in ${fmt(blocks.bytes / 1e6, 1)} MB)`);
    return { result, bytesPerSample: blocks.samples > 0 ? blocks.bytes / blocks.samples : NaN, memory };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Fills a WAL with RESTART_SAMPLES samples (head only: spans less than a block), kill -9, restart. */
async function benchRestart(): Promise<{ samples: number; readyMs: number; firstQueryMs: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'irin-restart-'));
  try {
    const seriesPerServer = 600;
    const scrapes = 400; // 100 minutes at 15 s: stays in the head, so everything is in the WAL
    const servers = Math.ceil(RESTART_SAMPLES / (seriesPerServer * scrapes));
    const fleet: FleetServer[] = [];
    for (let s = 0; s < servers; s++) {
      const instance = `restart-svr${s}`;
      const node = new SimulatedNode({ instance, seed: s });
      fleet.push({ tenant: 'restart', instance, node, encoded: node.series.map((m) => new PreEncodedSeries(m.labels)) });
    }
    const headers = await provision(dataDir, fleet);
    let irin = await startIrin(dataDir);
    const start = Date.now() - scrapes * INTERVAL_MS;
    const fed = await feed({ name: 'irin (WAL fill)', url: `${irin.url}/api/v1/write`, pid: irin.child.pid!, headersFor: (s) => headers.get(s.instance)! }, fleet, start, scrapes);
    await stopProcess(irin.child, 'SIGKILL');
    const t0 = performance.now();
    irin = await startIrin(dataDir);
    const readyMs = performance.now() - t0;
    // Ready means the WAL is replayed; the first query proves the data is there.
    const cp = openControlPlane({ dataDir });
    const ctx = { store: cp.store, hasher: cp.hasher, by: { actor: 'bench', sourceAddr: null } };
    const key = await createCredential(ctx, 'read', 'restart', { name: 'bench' });
    await cp.store.close();
    const q0 = performance.now();
    const res = await fetch(`${irin.url}/prometheus/api/v1/query?query=count(node_load1)`, { headers: { authorization: `Bearer ${key.token}` } });
    const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
    const firstQueryMs = performance.now() - q0;
    console.log(`  after restart: count(node_load1) = ${body.data?.result?.[0]?.value[1] ?? JSON.stringify(body)} (expected ${servers})`);
    await stopProcess(irin.child, 'SIGTERM');
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
  console.log(`bench:ingest — ${TENANTS} tenants, ${fleet.length} servers, ${fmt(series)} series, ${HOURS} h at 15 s = ${fmt(series * scrapes)} samples; ${CONCURRENCY} requests in flight, ${SCRAPES_PER_REQUEST} scrapes per request`);

  const irin = await benchIrin(fleet, start, scrapes);
  report('Irin', irin.result);
  console.log(`  on-disk in blocks       ${fmt(irin.bytesPerSample, 2)} bytes/sample`);
  console.log(`  memory                  RSS ${fmt(irin.memory.rss / 2 ** 20)} MiB, peak RSS ${fmt(irin.memory.peakRss / 2 ** 20)} MiB, ${fmt(irin.memory.rss / irin.series)} B RSS per active series (upper bound on head memory)`);

  const restart = await benchRestart();
  console.log(`\nRestart after kill -9 with ${fmt(restart.samples)} samples in the WAL: ready in ${fmt(restart.readyMs)} ms, first query ${fmt(restart.firstQueryMs)} ms`);

  if (process.env.BENCH_SKIP_PROMETHEUS !== '1' && existsSync(PROMETHEUS)) {
    const promFleet = buildFleet(TENANTS, true);
    const prom = await benchPrometheus(promFleet, start, scrapes);
    report('Prometheus 2.42 (Debian), same stream', prom.result);
    console.log(`  on-disk in blocks       ${fmt(prom.bytesPerSample, 2)} bytes/sample`);
    console.log(`  memory                  RSS ${fmt(prom.memory.rss / 2 ** 20)} MiB, peak RSS ${fmt(prom.memory.peakRss / 2 ** 20)} MiB`);
    const ir = irin.result.samples / irin.result.seconds;
    const pr = prom.result.samples / prom.result.seconds;
    console.log(`\nRatios Irin / Prometheus: throughput ${fmt(ir / pr, 2)}×, p99 latency ${fmt(quantile(irin.result.latenciesMs, 0.99) / quantile(prom.result.latenciesMs, 0.99), 2)}×, bytes/sample ${fmt(irin.bytesPerSample / prom.bytesPerSample, 2)}×`);
  } else {
    console.log('\n(Prometheus comparison skipped: /usr/bin/prometheus absent or BENCH_SKIP_PROMETHEUS=1)');
  }
}

await main();
