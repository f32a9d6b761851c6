import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressWriteRequest, encodeWriteRequest } from '../../src/client/remote-write.ts';
import { HTTP_ATTACKS } from '../../src/isolation/attacks.ts';
import { CANARY_SHARED_METRIC, pushMetrics } from '../../src/isolation/canaries.ts';
import { basicAuth, formEncode, rawRequest } from '../../src/isolation/http.ts';
import type { Attack, AttackContext } from '../../src/isolation/types.ts';
import { labelsFromRecord } from '../../src/model/labels.ts';

/**
 * The attack table as the test suite runs it: every HTTP attack (src/isolation/attacks.ts, shared
 * with `irin verify-isolation`) plus the probes only a test should run — today the noisy neighbour,
 * which loads the server on purpose.
 */

/** Tenant A's limits while it plays the noisy neighbour (admin API spelling). */
export const NOISY_LIMITS_A = {
  ingestion_rate: 2_000,
  ingestion_burst: 2_000,
  max_series: 2_000,
  max_query_samples: 5_000_000,
} as const;

/** Alternating phases (B alone, B beside A), so that drift in the machine's other load cancels out. */
const ROUNDS = 3;
const PHASE_MS = 1_000;
const RAMP_MS = 150;
const ALLOWED_FACTOR = 2;

export function p99(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
}

interface Latencies {
  readonly push: number[];
  readonly query: number[];
}

/** B's ordinary traffic: a small push and a small query, one after the other, for `ms`. */
async function measureB(ctx: AttackContext, ms: number, into: Latencies): Promise<void> {
  const token = ctx.b.servers[0]!.token;
  const readAuth: [string, string] = ['authorization', basicAuth(ctx.b.read.clientId, ctx.b.read.secret)];
  const query = `/prometheus/api/v1/query?${formEncode([['query', `sum by (job) (${CANARY_SHARED_METRIC})`]])}`;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const series = Array.from({ length: 10 }, (_, i) => ({
      labels: labelsFromRecord({ __name__: 'irin_canary_b_traffic', job: 'b', i: String(i) }),
      samples: [{ t: Date.now(), v: i }],
    }));
    let t = performance.now();
    const pushed = await pushMetrics(ctx.url, token, series);
    into.push.push(performance.now() - t);
    if (pushed.status !== 204)
      throw new Error(`B's push answered ${pushed.status}: ${pushed.text.slice(0, 200)}`);
    t = performance.now();
    const read = await rawRequest(ctx.url, { path: query, headers: [readAuth] });
    into.query.push(performance.now() - t);
    if (read.status !== 200) throw new Error(`B's query answered ${read.status}: ${read.text.slice(0, 200)}`);
  }
}

interface NoisyA {
  set(on: boolean): void;
  /** Stops the load and returns A's answers by kind and status. */
  finish(): Promise<Record<string, number>>;
}

/**
 * A's load, in a child process: pushes paced at three times its ingestion rate (so it runs into
 * its rate and series limits) and queries back to back over everything it has.
 */
async function startNoisyA(ctx: AttackContext, maxDurationMs: number): Promise<NoisyA> {
  const t0 = Date.now();
  const seriesPerPush = 250;
  const bodies = Array.from({ length: 12 }, (_, batch) =>
    compressWriteRequest(
      encodeWriteRequest(
        Array.from({ length: seriesPerPush }, (_, i) => ({
          labels: labelsFromRecord({
            __name__: `irin_canary_noisy_${batch % 4}`,
            job: 'noisy',
            i: String(batch * seriesPerPush + i),
          }),
          samples: [{ t: t0, v: i }],
        })),
      ),
    ).toString('base64'),
  );
  const dir = mkdtempSync(join(tmpdir(), 'irin-noisy-'));
  const planFile = join(dir, 'plan.json');
  writeFileSync(
    planFile,
    JSON.stringify({
      url: ctx.url,
      pushAuth: basicAuth(ctx.a.push.clientId, ctx.a.push.secret),
      readAuth: basicAuth(ctx.a.read.clientId, ctx.a.read.secret),
      bodies,
      queries: [
        'sum by (job) (count_over_time({__name__=~"irin_canary_noisy_.+"}[10m]))',
        'topk(20, {__name__=~"irin_canary_noisy_.+"})',
        'count({job="noisy"})',
      ],
      pushLoops: 1,
      pushEveryMs: Math.round((1000 * seriesPerPush) / (3 * NOISY_LIMITS_A.ingestion_rate)),
      queryLoops: 1,
      maxDurationMs,
    }),
  );
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./noisy-load.mjs', import.meta.url)), planFile],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (out.includes('ready\n')) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`the noisy load exited (${code}) before starting: ${out.slice(0, 500)}`)),
    );
  });
  try {
    await ready;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    set: (on) => child.stdin.write(on ? 'on\n' : 'off\n'),
    async finish() {
      child.stdin.write('stop\n');
      const code = await exited;
      try {
        return JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, number>;
      } catch {
        throw new Error(`the noisy load exited (${code}) without a summary: ${out.slice(0, 500)}`);
      }
    },
  };
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/**
 * Tenant A pushes and queries at its limits while tenant B's p99 push and query latency is
 * measured; breached when B's p99 beside A is more than twice B's p99 alone. The phases alternate
 * (alone, beside A, alone, …) so that the rest of the machine's load weighs on both alike.
 */
export const noisyNeighbour: Attack = {
  id: 'limits.noisy-neighbour',
  group: 'limits',
  title: "noisy neighbour: A pushing and querying at its limits does not raise B's p99 more than 2×",
  guards: [],
  otherGuards: [
    'per-tenant ingestion, series and query limits; the query engine yields between slices of work',
  ],
  testOnly: true,
  // Last of all: it fills A up to its series limit, which would refuse the write probes' series.
  phase: 'write',
  async run(ctx) {
    const alone: Latencies = { push: [], query: [] };
    const beside: Latencies = { push: [], query: [] };
    const a = await startNoisyA(ctx, 2 * ROUNDS * (PHASE_MS + RAMP_MS) + 10_000);
    let answers: Record<string, number>;
    try {
      await measureB(ctx, 300, { push: [], query: [] }); // warm-up: connections, caches, JIT
      for (let round = 0; round < ROUNDS; round++) {
        await measureB(ctx, PHASE_MS, alone);
        a.set(true);
        await new Promise((r) => setTimeout(r, RAMP_MS));
        await measureB(ctx, PHASE_MS, beside);
        a.set(false);
        await new Promise((r) => setTimeout(r, RAMP_MS));
      }
    } finally {
      answers = await a.finish();
    }
    const push = { alone: p99(alone.push), beside: p99(beside.push) };
    const query = { alone: p99(alone.query), beside: p99(beside.query) };
    const detail =
      `B's p99 push ${fmt(push.alone)} alone, ${fmt(push.beside)} beside A; query ${fmt(query.alone)} alone, ${fmt(query.beside)} beside A ` +
      `(${alone.push.length} and ${beside.push.length} rounds); A's answers ${JSON.stringify(answers)}`;
    if (!Object.keys(answers).some((k) => /^push (429|400) (ingestion|maxSeries)/.test(k))) {
      throw new Error(
        `A never ran into its ingestion or series limit, so the probe proves nothing: ${detail}`,
      );
    }
    const breached = push.beside > ALLOWED_FACTOR * push.alone || query.beside > ALLOWED_FACTOR * query.alone;
    return { breached, detail };
  },
};

export const TEST_ONLY_ATTACKS: readonly Attack[] = [noisyNeighbour];

/** The whole table the test suite runs without faults. */
export const ALL_ATTACKS: readonly Attack[] = [...HTTP_ATTACKS, ...TEST_ONLY_ATTACKS];
