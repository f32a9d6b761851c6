/**
 * Logs benchmark (`npm run bench:logs`). Starts a bare Fastify with the Loki API plugin, a local
 * LogPartitions store and a token-per-tenant authenticator (the full server is not needed), and a
 * separate load-generator process (bench/logs-client.ts), then measures:
 *
 *   1. ingestion: nginx access logs for 10 tenants pushed over HTTP as snappy protobuf, several
 *      requests in flight; MB/s of raw line bytes acknowledged (a 204 only after the WAL fsync),
 *      plus the server's CPU seconds per MB (meaningful when the machine is shared);
 *   2. on-disk size as a percentage of raw line bytes once the heads are cut into chunks;
 *   3. `{job="nginx"} |= "needle"` over one tenant holding LOGS_BENCH_SCAN_MB of lines;
 *   4. `sum by (status) (rate({…} | pattern … [5m]))` over 6 h for one of the 10 tenants.
 *
 * Environment: LOGS_BENCH_MB (ingested in step 1, default 400), LOGS_BENCH_SCAN_MB (default 1024;
 * use e.g. 200 for a quick run), LOGS_BENCH_CONCURRENCY (default 8), LOGS_BENCH_DIR (keep data),
 * LOGS_BENCH_LEVEL / LOGS_BENCH_WAL_COMPRESS (store tuning experiments).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import type { PushPrincipal, ReadPrincipal } from '../src/auth/principal.ts';
import { CredentialError, type RequestAuthenticator } from '../src/auth/request-auth.ts';
import { lokiApiRoutes } from '../src/logs/http/routes.ts';
import { LogPartitions } from '../src/logs/store/partitions.ts';
import { BUILTIN_DEFAULT_LIMITS, effectiveLimits } from '../src/tenancy/limits.ts';
import { NEEDLE, type LoadSpec } from './logs-client.ts';

const TOTAL_MB = Number(process.env['LOGS_BENCH_MB'] ?? 400);
const SCAN_MB = Number(process.env['LOGS_BENCH_SCAN_MB'] ?? 1024);
const CONCURRENCY = Number(process.env['LOGS_BENCH_CONCURRENCY'] ?? 8);
const TENANTS = Array.from({ length: 10 }, (_, i) => `t${i}`);
const SIX_HOURS = 6 * 3600_000;

const limits = effectiveLimits(BUILTIN_DEFAULT_LIMITS, {
  logIngestionBytesPerSecond: 1e12,
  logIngestionBurstBytes: 1e12,
  maxRequestBytes: 64 * 1024 * 1024,
  maxDecompressedBytes: 256 * 1024 * 1024,
});

const tenantId = (slug: string): number => (slug === 'scan' ? 100 : Number(slug.slice(1)) + 1);

const authenticator: RequestAuthenticator = {
  async authenticatePush(request: FastifyRequest): Promise<PushPrincipal> {
    const m = /^Bearer push-(\w+)$/.exec(request.headers.authorization ?? '');
    if (!m) throw new CredentialError(401, 'bad token');
    return { kind: 'push', tenantId: tenantId(m[1]!), tenantSlug: m[1]!, tokenId: m[1]!, limits };
  },
  async authenticateRead(request: FastifyRequest): Promise<ReadPrincipal> {
    const m = /^Bearer read-(\w+)$/.exec(request.headers.authorization ?? '');
    if (!m) throw new CredentialError(401, 'bad token');
    return { kind: 'read', tenantId: tenantId(m[1]!), tenantSlug: m[1]!, actor: 'bench', limits };
  },
};

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

interface LoadResult {
  raw: number;
  seconds: number;
  requests: number;
  serverCpu: number;
  generated: { raw: number; wire: number; seconds: number };
}

/** LOGS_BENCH_PROFILE=<file>: a CPU profile of the server's event loop during the ingestion phase. */
const profilePath = process.env['LOGS_BENCH_PROFILE'];
let profiler: { start(): void; stop(): void } | undefined;
if (profilePath) {
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  profiler = {
    start: () => {
      session.post('Profiler.enable');
      session.post('Profiler.start');
    },
    stop: () => {
      session.post('Profiler.stop', (err, res) => {
        if (!err) writeFileSync(profilePath, JSON.stringify(res.profile));
      });
      profiler = undefined; // only the first (ingestion) phase
    },
  };
}

/** Runs the load generator in a child process; measures this (server) process's CPU while it pushes. */
function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./logs-client.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'] });
    let generated: LoadResult['generated'] | undefined;
    let cpu0: NodeJS.CpuUsage | undefined;
    child.on('message', (m: { type: string; [k: string]: unknown }) => {
      if (m.type === 'ready') {
        generated = { raw: m['raw'] as number, wire: m['wire'] as number, seconds: m['seconds'] as number };
        cpu0 = process.cpuUsage();
        profiler?.start();
        child.send('go');
      } else if (m.type === 'done') {
        profiler?.stop();
        resolve({
          raw: m['raw'] as number,
          seconds: m['seconds'] as number,
          requests: m['requests'] as number,
          serverCpu: cpuSeconds(process.cpuUsage(cpu0)),
          generated: generated!,
        });
      } else if (m.type === 'error') reject(new Error(String(m['message'])));
    });
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
    child.send(spec);
  });
}

const agent = new http.Agent({ keepAlive: true });

/** The parts of Loki's query_range response the benchmark reads. */
interface QueryResponse {
  data: {
    result: { values: unknown[] }[];
    stats: { summary: { totalBytesProcessed: number; totalLinesProcessed: number } };
  };
}

async function query(
  base: string,
  tenant: string,
  params: Record<string, string>,
): Promise<{ ms: number; json: QueryResponse }> {
  const t0 = performance.now();
  const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(
      `${base}/loki/api/v1/query_range?${new URLSearchParams(params)}`,
      { headers: { authorization: `Bearer read-${tenant}` }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const ms = performance.now() - t0;
  if (body.status !== 200) throw new Error(`query failed: ${body.status} ${body.text}`);
  return { ms, json: JSON.parse(body.text) as QueryResponse };
}

/** Bytes under a directory; files vanishing meanwhile (WAL segments released by a checkpoint) count as 0. */
function du(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    try {
      total += entry.isDirectory() ? du(path) : statSync(path).size;
    } catch {
      // gone
    }
  }
  return total;
}

async function main(): Promise<void> {
  const dataDir = process.env['LOGS_BENCH_DIR'] ?? mkdtempSync(join(tmpdir(), 'irin-logs-bench-'));
  // Store tuning for experiments (defaults otherwise): LOGS_BENCH_LEVEL (deflate level), LOGS_BENCH_WAL_COMPRESS=0|1.
  const level = process.env['LOGS_BENCH_LEVEL'];
  const walCompress = process.env['LOGS_BENCH_WAL_COMPRESS'];
  const partitions = new LogPartitions({
    dataDir,
    store: {
      ...(level ? { compressionLevel: Number(level) } : {}),
      ...(walCompress ? { walCompress: walCompress === '1' } : {}),
    },
  });
  const app = Fastify({ bodyLimit: 1024 * 1024 });
  await app.register(lokiApiRoutes, {
    authenticator,
    logsFor: (id) => partitions.get(id),
    enforcement: { tenantLabel: 'tenant', onConflict: 'overwrite' },
    registry: new Registry(),
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(
    `logs bench: bare Fastify + Loki API plugin + LogPartitions in ${dataDir}; load generator in a child process; load average ${load}`,
  );

  // 1. Ingestion.
  const end = Date.now() - 60_000;
  const start = end - SIX_HOURS;
  const ingest = await runLoad({
    base,
    tenants: TENANTS,
    mb: TOTAL_MB,
    start,
    end,
    concurrency: CONCURRENCY,
    needleEvery: 0,
    hosts: 4,
  });
  console.log(
    `generated ${ingest.requests} requests: ${mb(ingest.generated.raw)} MB raw, ${mb(ingest.generated.wire)} MB snappy protobuf (${ingest.generated.seconds.toFixed(1)} s, not timed)`,
  );
  console.log(
    `ingestion: ${mb(ingest.raw)} MB of raw lines acknowledged in ${ingest.seconds.toFixed(2)} s = ${(ingest.raw / 1048576 / ingest.seconds).toFixed(1)} MB/s ` +
      `[target ≥ 20 MB/s]; server CPU ${ingest.serverCpu.toFixed(1)} s = ${(ingest.raw / 1048576 / ingest.serverCpu).toFixed(1)} MB per CPU-second`,
  );

  // 2. On-disk size.
  const withWal = du(dataDir);
  for (const t of TENANTS) await (await partitions.get(tenantId(t))).flush();
  const flushed = du(dataDir);
  console.log(
    `on disk: ${mb(flushed)} MB once heads are cut into chunks = ${((flushed / ingest.raw) * 100).toFixed(1)}% of raw [target ≤ 15%] ` +
      `(${((withWal / ingest.raw) * 100).toFixed(1)}% right after ingestion, WAL included)`,
  );

  // 4. Metric query over 6 h for one tenant.
  const metricQuery =
    'sum by (status) (rate({job="nginx"} | pattern `<ip> - - [<_>] "<method> <path> <_>" <status> <size> <_>` [5m]))';
  const times: number[] = [];
  let series = 0;
  let lines = 0;
  for (let i = 0; i < 3; i++) {
    const r = await query(base, 't0', {
      query: metricQuery,
      start: String(start * 1e6),
      end: String(end * 1e6),
      step: '60',
    });
    times.push(r.ms);
    series = r.json.data.result.length;
    lines = r.json.data.stats.summary.totalLinesProcessed;
  }
  times.sort((a, b) => a - b);
  console.log(
    `metric query over 6 h of tenant t0 (${lines} lines, ${mb(ingest.raw / TENANTS.length)} MB), step 60 s, ${series} series: median ${times[1]!.toFixed(0)} ms [target < 2000 ms]\n  ${metricQuery}`,
  );

  // 3. Needle scan over one big tenant (loaded in slices of its own time range to bound memory).
  let scanRaw = 0;
  const sliceMb = 256;
  for (let done = 0; done < SCAN_MB; done += sliceMb) {
    const size = Math.min(sliceMb, SCAN_MB - done);
    const from = start + (SIX_HOURS * done) / SCAN_MB;
    const to = start + (SIX_HOURS * (done + size)) / SCAN_MB;
    const r = await runLoad({
      base,
      tenants: ['scan'],
      mb: size,
      start: from,
      end: to,
      concurrency: 1,
      needleEvery: 100_000,
      hosts: 4,
    });
    scanRaw += r.raw;
  }
  await (await partitions.get(tenantId('scan'))).flush();
  const scans: { ms: number; bytes: number; found: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await query(base, 'scan', {
      query: `{job="nginx"} |= "${NEEDLE}"`,
      start: String(start * 1e6),
      end: String((end + 1) * 1e6),
      limit: '5000',
      direction: 'forward',
    });
    const found = r.json.data.result.reduce((n: number, s: { values: unknown[] }) => n + s.values.length, 0);
    scans.push({ ms: r.ms, bytes: r.json.data.stats.summary.totalBytesProcessed, found });
  }
  scans.sort((a, b) => a.ms - b.ms);
  const med = scans[1]!;
  console.log(
    `needle scan: {tenant="scan", job="nginx"} |= "${NEEDLE}" over ${mb(med.bytes)} MB (${mb(scanRaw)} MB loaded): median ${med.ms.toFixed(0)} ms = ` +
      `${(med.bytes / 1048576 / (med.ms / 1000)).toFixed(0)} MB/s, ${med.found} matches [target ≥ 200 MB/s]`,
  );

  await app.close();
  await partitions.closeAll();
  agent.destroy();
  if (!process.env['LOGS_BENCH_DIR']) rmSync(dataDir, { recursive: true, force: true });
}

await main();
