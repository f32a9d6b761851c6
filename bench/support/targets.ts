import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import snappy from 'snappy';
import { credentialHeaders } from '../../src/client/remote-write.ts';
import { openControlPlane } from '../../src/tenancy/open.ts';
import type { ServiceContext } from '../../src/tenancy/services/context.ts';
import { createCredential } from '../../src/tenancy/services/credentials.ts';
import { addServer } from '../../src/tenancy/services/servers.ts';
import { createTenant } from '../../src/tenancy/services/tenants.ts';
import { encodeBatch } from './fast-write-request.ts';
import { PROMETHEUS_BIN } from '../../test/support/binaries.ts';
import { ChildServer, freePort } from '../../test/support/child-server.ts';
import { fmt, processCpuSeconds, quantile } from './processes.ts';
import { nextValues, type FleetServer } from './workload.ts';

/** Shared by the benchmarks: provisioning, starting Irin and Prometheus, feeding them a stream. */

export const INTERVAL_MS = 15_000;
export const PROMETHEUS = PROMETHEUS_BIN;
// Requests in flight, like the shards of a Prometheus remote-write queue.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SCRAPES_PER_REQUEST = Number(process.env.BENCH_SCRAPES_PER_REQUEST ?? 4);

/** Limits out of the way: the benchmarks measure speed, not the limiter. */
export const UNLIMITED = {
  IRIN_LIMITS_INGESTION_RATE: '1000000000',
  IRIN_LIMITS_INGESTION_BURST: '1000000000',
  IRIN_LIMITS_SERVER_INGESTION_RATE: '1000000000',
  IRIN_LIMITS_SERVER_INGESTION_BURST: '1000000000',
  IRIN_LIMITS_MAX_SERIES: '10000000',
  IRIN_LIMITS_SERVER_MAX_SERIES: '10000000',
  IRIN_PROBE_ENABLED: 'false',
  IRIN_LOG_LEVEL: 'warn',
};

export interface Target {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  headersFor(server: FleetServer): Record<string, string>;
}

export interface RunResult {
  samples: number;
  seconds: number;
  latenciesMs: number[];
  serverCpu: number;
  generatorCpu: number;
  failures: number;
}

/** Pushes the fleet's stream: in time order, chunk by chunk, CONCURRENCY requests in flight. */
export async function feed(
  target: Target,
  fleet: FleetServer[],
  start: number,
  scrapes: number,
): Promise<RunResult> {
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
          if (failures <= 3)
            process.stderr.write(`${target.name}: HTTP ${res.status}: ${text.slice(0, 300)}\n`);
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

export function report(name: string, r: RunResult): void {
  console.log(`\n${name}`);
  console.log(
    `  samples ingested        ${fmt(r.samples)} in ${fmt(r.seconds, 1)} s  (${r.failures} failed requests)`,
  );
  console.log(`  throughput              ${fmt(r.samples / r.seconds)} samples/s`);
  console.log(
    `  request latency         p50 ${fmt(quantile(r.latenciesMs, 0.5), 1)} ms, p99 ${fmt(quantile(r.latenciesMs, 0.99), 1)} ms (${fmt(r.latenciesMs.length)} requests of ~${fmt(r.samples / Math.max(1, r.latenciesMs.length))} samples)`,
  );
  console.log(
    `  server CPU              ${fmt(r.serverCpu, 1)} s (${fmt((r.serverCpu / r.seconds) * 100)}% of one core)`,
  );
  console.log(
    `  load generator CPU      ${fmt(r.generatorCpu, 1)} s (${fmt((r.generatorCpu / r.seconds) * 100)}% of one core)`,
  );
}

/** Runs `fn` on the control plane of `dataDir` (as actor "bench"), then closes it. */
async function withControlPlane<T>(dataDir: string, fn: (ctx: ServiceContext) => Promise<T>): Promise<T> {
  const cp = openControlPlane({ dataDir });
  try {
    return await fn({ store: cp.store, hasher: cp.hasher, by: { actor: 'bench', sourceAddr: null } });
  } finally {
    await cp.store.close();
  }
}

/** Creates the fleet's tenants and servers; returns each instance's push headers (its server token). */
export function provision(
  dataDir: string,
  fleet: FleetServer[],
): Promise<Map<string, Record<string, string>>> {
  return withControlPlane(dataDir, async (ctx) => {
    const headers = new Map<string, Record<string, string>>();
    const tenants = new Set<string>();
    for (const server of fleet) {
      if (!tenants.has(server.tenant)) {
        tenants.add(server.tenant);
        await createTenant(ctx, { slug: server.tenant });
      }
      const { token } = await addServer(ctx, server.tenant, { name: server.instance });
      headers.set(
        server.instance,
        credentialHeaders({ kind: 'basic', username: token.credential.clientId, password: token.secret }),
      );
    }
    return headers;
  });
}

/** A read API key's bearer token for `tenant`, created in the control plane of `dataDir`. */
export function createReadKey(dataDir: string, tenant: string): Promise<string> {
  return withControlPlane(
    dataDir,
    async (ctx) => (await createCredential(ctx, 'read', tenant, { name: 'bench' })).token,
  );
}

/** Irin's remote-write endpoint, each server pushing with its own token. */
export function irinTarget(
  irin: ChildServer,
  headers: Map<string, Record<string, string>>,
  name = 'irin',
): Target {
  return {
    name,
    url: `${irin.url}/api/v1/write`,
    pid: irin.child.pid!,
    headersFor: (s) => headers.get(s.instance)!,
  };
}

/** Prometheus's remote-write receiver (no authentication). */
export function prometheusTarget(prom: ChildServer): Target {
  return {
    name: 'prometheus',
    url: `${prom.url}/api/v1/write`,
    pid: prom.child.pid!,
    headersFor: () => ({}),
  };
}

/** A server that dies mid-benchmark says why on stderr (a kill by signal is the benchmark's own). */
function reportCrash(server: ChildServer): ChildServer {
  server.child.once('exit', (code) => {
    if (code) process.stderr.write(`${server.name} exited ${code}: ${server.log()}\n`);
  });
  return server;
}

/** Irin on a free port, once it answers /-/ready (its WAL replayed). */
export async function startIrin(dataDir: string): Promise<ChildServer> {
  const port = await freePort();
  const args = ['bin/irin.mjs', 'serve', '--data-dir', dataDir, '--port', String(port)];
  return reportCrash(
    await ChildServer.start('irin', process.execPath, args, port, '/-/ready', {
      env: UNLIMITED,
      timeoutMs: 120_000,
    }),
  );
}

export async function startPrometheus(dataDir: string): Promise<ChildServer> {
  const port = await freePort();
  const args = [
    `--config.file=${join(process.cwd(), 'bench/support/prometheus-empty.yml')}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    '--log.level=warn',
  ];
  return reportCrash(
    await ChildServer.start('prometheus', PROMETHEUS, args, port, '/-/ready', { timeoutMs: 60_000 }),
  );
}

/** Stops a benchmark's server and waits for it however long it takes (it writes its blocks on SIGTERM). */
export function stopServer(server: ChildServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return server.stop({ signal, graceMs: Infinity });
}

export function tempDataDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
