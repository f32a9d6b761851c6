/**
 * TSDB micro-benchmark (in-process, no HTTP): `node --import tsx bench/tsdb-micro.ts`
 *
 * Prints: append throughput (remote-write-like batches: one scrape of one server per append,
 * all servers of a 15 s step concurrently, WAL fsync'd), bytes per sample on disk once blocks are
 * compacted, head bytes per series with 6 h of 15 s samples, WAL replay time for 5 M samples.
 * Env: SERVERS (default 10; each a SimulatedNode of 600 series, as bench:ingest uses), HOURS of
 * data for throughput/compression (12), REPLAY_SAMPLES (5e6), PHASES (comma list of
 * append,memory,replay; default all).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SimulatedNode } from '../src/client/simulated-node.ts';
import { Tsdb } from '../src/tsdb/db.ts';
import type { AppendSeries } from '../src/tsdb/types.ts';
import { dirBytes, fmt } from './support/processes.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SERVERS = Number(process.env.SERVERS ?? 10);
const HOURS = Number(process.env.HOURS ?? 12);
const REPLAY_SAMPLES = Number(process.env.REPLAY_SAMPLES ?? 5e6);
const PHASES = new Set((process.env.PHASES ?? 'append,memory,replay').split(','));
const STEP = 15_000;
const HOUR = 3_600_000;
const T0 = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR - 2 * 24 * HOUR;

function servers(n: number): SimulatedNode[] {
  return Array.from(
    { length: n },
    (_, i) => new SimulatedNode({ instance: `srv-${i}:9100`, job: 'node', tenant: 'bench', seed: i + 1 }),
  );
}

/** One remote-write-like request per server for scrape `step`. */
function requests(nodes: SimulatedNode[], step: number): AppendSeries[][] {
  return nodes.map((node) => node.scrape(T0 + step * STEP, STEP));
}

/** How fast this machine runs plain JS right now (shared CI boxes vary a lot). */
function calibrate(): number {
  const t0 = process.cpuUsage();
  let s = 0;
  for (let i = 0; i < 1e8; i++) s += i & 7;
  const c = process.cpuUsage(t0);
  if (s < 0) console.log(s);
  return (c.user + c.system) / 1000;
}

const root = mkdtempSync(join(tmpdir(), 'irin-tsdb-bench-'));
const results: string[] = [];
const report = (line: string) => {
  results.push(line);
  console.log(line);
};

try {
  report(
    `calibration: 1e8-iteration JS loop took ${fmt(calibrate())} ms CPU (about 100 ms on an idle 3 GHz core)`,
  );
  if (PHASES.has('memory')) {
    // --- head memory with 6 h of samples in the head (no cut: 24 h block window) -----------------
    const dir = join(root, 'memory');
    const ws = servers(SERVERS);
    const steps = (6 * HOUR) / STEP;
    const db = await Tsdb.open({ dir, blockDurationMs: 24 * HOUR, checkpointOnClose: false });
    gc();
    gc();
    const before = process.memoryUsage();
    for (let s = 0; s < steps; s++) await Promise.all(requests(ws, s).map((series) => db.append({ series })));
    gc();
    gc();
    const after = process.memoryUsage();
    const series = db.headStats().series;
    const total = after.heapUsed - before.heapUsed + (after.external - before.external);
    report(
      `head memory, 6 h of 15 s samples (${steps} per series): ${fmt(total / series)} bytes/series ` +
        `(heap ${fmt((after.heapUsed - before.heapUsed) / series)} + off-heap ${fmt((after.external - before.external) / series)}; ` +
        `chunk buffers ${fmt(db.headChunkBytes() / series)}); RSS ${fmt(after.rss / 2 ** 20)} MiB`,
    );
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }

  if (PHASES.has('append')) {
    // --- throughput + compression ----------------------------------------------------------
    const dir = join(root, 'append');
    const db = await Tsdb.open({ dir, now: () => T0 + HOURS * HOUR, checkpointOnClose: false });
    const ws = servers(SERVERS);
    const steps = Math.round((HOURS * HOUR) / STEP);
    let samples = 0;
    let appendMs = 0;
    let maintainMs = 0;
    let genMs = 0;
    let appendCpuUs = 0;
    const cpu0 = process.cpuUsage();
    // Like remote-write shards: several steps in flight, so fsync latency overlaps with work.
    const inflight: Promise<void>[] = [];
    const collect = (res: { samplesAppended: number; rejected: readonly unknown[] }[]) => {
      for (const r of res) {
        samples += r.samplesAppended;
        if (r.rejected.length) throw new Error(`unexpected rejection: ${JSON.stringify(r.rejected[0])}`);
      }
    };
    for (let s = 0; s < steps; s++) {
      const g0 = performance.now();
      const reqs = requests(ws, s);
      const a0 = performance.now();
      genMs += a0 - g0;
      const c0 = process.cpuUsage();
      inflight.push(Promise.all(reqs.map((series) => db.append({ series }))).then(collect));
      const c1 = process.cpuUsage(c0);
      appendCpuUs += c1.user + c1.system;
      if (inflight.length >= 4) await inflight.shift();
      appendMs += performance.now() - a0;
      if (s % 240 === 239) {
        await Promise.all(inflight.splice(0));
        const m0 = performance.now();
        await db.maintain();
        maintainMs += performance.now() - m0;
      }
    }
    const a0 = performance.now();
    await Promise.all(inflight.splice(0));
    appendMs += performance.now() - a0;
    const cpu = process.cpuUsage(cpu0);
    report(
      `series: ${fmt(db.headStats().series)} (${SERVERS} servers x ${ws[0]!.series.length}), ${HOURS} h of 15 s samples = ${fmt(samples)} samples`,
    );
    report(
      `append: ${fmt(samples / (appendMs / 1000))} samples/s wall (${fmt(appendMs)} ms incl. waiting for WAL fsync; generator ${fmt(genMs)} ms not counted); ` +
        `synchronous append CPU ${fmt((appendCpuUs * 1000) / samples)} ns/sample = ${fmt(samples / (appendCpuUs / 1e6))} samples/s per core`,
    );
    report(
      `maintenance (head cuts, compaction) during the run: ${fmt(maintainMs)} ms; process CPU ${fmt((cpu.user + cpu.system) / 1000)} ms`,
    );
    // let the last windows complete: cut the rest of the head by moving time forward
    const m0 = performance.now();
    await db.maintain();
    maintainMs += performance.now() - m0;
    const metas = db.blockMetas();
    let blockSamples = 0;
    let blockBytes = 0;
    for (const m of metas) {
      blockSamples += m.stats.numSamples;
      blockBytes += dirBytes(join(dir, 'blocks', m.id));
    }
    const ranges = metas.map((m) => `${(m.maxTime - m.minTime) / HOUR}h`).join(' ');
    report(`blocks: ${metas.length} [${ranges}], ${fmt(blockSamples)} samples, ${fmt(blockBytes)} bytes`);
    report(`bytes/sample on disk (blocks, after compaction): ${fmt(blockBytes / blockSamples, 3)}`);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }

  if (PHASES.has('replay')) {
    // --- WAL replay of REPLAY_SAMPLES samples after an unclean stop ---------------------------------
    const dir = join(root, 'replay');
    const ws = servers(SERVERS);
    const perStep = ws.reduce((n, w) => n + w.series.length, 0);
    const steps = Math.ceil(REPLAY_SAMPLES / perStep);
    const db = await Tsdb.open({ dir, blockDurationMs: 24 * HOUR, checkpointOnClose: false });
    let samples = 0;
    for (let s = 0; s < steps; s++) {
      const res = await Promise.all(requests(ws, s).map((series) => db.append({ series })));
      for (const r of res) samples += r.samplesAppended;
    }
    const walBytes = dirBytes(join(dir, 'wal'));
    // no close(): the WAL is left as a crash would leave it (every append was fsync'd)
    const t0 = performance.now();
    const reopened = await Tsdb.open({ dir, blockDurationMs: 24 * HOUR, checkpointOnClose: false });
    const ms = performance.now() - t0;
    report(
      `WAL replay: ${fmt(samples)} samples, ${fmt(reopened.headStats().series)} series, WAL ${fmt(walBytes / 2 ** 20, 1)} MiB ` +
        `(${fmt(walBytes / samples, 1)} bytes/sample): ready in ${fmt(ms)} ms`,
    );
    await reopened.close();
    void db;
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
console.log('\nsummary\n' + results.map((r) => `  ${r}`).join('\n'));
