/**
 * Remote-write edge throughput in-process (no HTTP, no storage): how many samples per second one
 * core turns from snappy-compressed WriteRequests into validated, enforced AppendSeries.
 *
 *   node --import tsx bench/edge-decode.ts [--seconds 1.5] [--servers 10] [--scrapes-per-request 1]
 *
 * Workload: node_exporter-like hosts (src/client/simulated-node.ts, ~600 series each) scraped every
 * 15 s and batched as Prometheus does (max_samples_per_send 2000, so one sample per series per
 * request). Prints, per mode, samples/s and µs per 2000-sample request:
 *   - protobufjs decode: protobufjs WriteRequest.decode into objects (strings, Long timestamps);
 *   - hand-written decode: src/edge/write-request.ts plus decoding every label string, i.e. the same
 *     information protobufjs produces — this pair is why the edge has its own decoder;
 *   - pipeline, cache cold / warm: RemoteWriteIngester.ingest (snappy, decode, validation, tenant and
 *     instance enforcement, rate limits, AppendSeries) into a TSDB that accepts instantly, with the
 *     validated-label cache off / warm.
 */
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import protobuf from 'protobufjs';
import snappy from 'snappy';
import { encodeWriteRequest, type WriteSeries } from '../src/client/remote-write.ts';
import { SimulatedNode } from '../src/client/simulated-node.ts';
import { edgeMetrics } from '../src/edge/edge-metrics.ts';
import { RemoteWriteIngester } from '../src/edge/ingest.ts';
import { FileMetadataStore } from '../src/edge/metadata-store.ts';
import { RejectionReporter } from '../src/edge/rejection-reporter.ts';
import { decompressSnappyBlock } from '../src/edge/snappy-block.ts';
import { utf8Slice } from '../src/edge/buffer-strings.ts';
import {
  decodeWriteRequest,
  DecodedWriteRequest,
  locateLabels,
  type RawLabel,
} from '../src/edge/write-request.ts';
import type { PushPrincipal } from '../src/auth/principal.ts';
import { BUILTIN_DEFAULT_LIMITS, effectiveLimits } from '../src/tenancy/limits.ts';
import type { AppendRequest, AppendResult, TenantTsdb } from '../src/tsdb/types.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    servers: { type: 'string', default: '10' },
    'scrapes-per-request': { type: 'string', default: '1' },
  },
});
const SECONDS = Number(args.seconds);
const SERVERS = Number(args.servers);
const BATCH = 2000;
/** 1: live agents (one sample per series per request); 4: backfill-style batches as bench/ingest.ts sends. */
const SCRAPES = Number(args['scrapes-per-request']);
const ROUNDS = 8 * SCRAPES;

const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;
const WriteRequestType = protobuf.parse(PROTO).root.lookupType('prometheus.WriteRequest');

/**
 * Per server: ROUNDS scrapes, SCRAPES of them per request (each series then carries SCRAPES
 * samples), cut into requests of at most BATCH series, snappy-compressed.
 */
function buildRequests(): { instance: string; bodies: Buffer[] }[] {
  const start = Date.now() - ROUNDS * 15_000;
  return Array.from({ length: SERVERS }, (_, s) => {
    const instance = `server-${s}:9100`;
    const node = new SimulatedNode({ instance, job: 'node', seed: s + 1 });
    const bodies: Buffer[] = [];
    for (let round = 0; round < ROUNDS; round += SCRAPES) {
      const scrapes = Array.from({ length: SCRAPES }, (_, k) => node.scrape(start + (round + k) * 15_000));
      const series: WriteSeries[] = scrapes[0]!.map((s, i) => ({
        labels: s.labels,
        samples: scrapes.map((scrape) => scrape[i]!.samples[0]!),
      }));
      for (let i = 0; i < series.length; i += BATCH) {
        bodies.push(snappy.compressSync(Buffer.from(encodeWriteRequest(series.slice(i, i + BATCH)))));
      }
    }
    return { instance, bodies };
  });
}

interface Result {
  mode: string;
  /** Per CPU-second of this process. */
  samplesPerSec: number;
  usPerRequest: number;
  /** CPU seconds per wall second during the run (below 1: the machine was busy with others). */
  cpuShare: number;
}

/** Runs `fn` over the requests round-robin for SECONDS after a short warm-up. */
async function measure(
  mode: string,
  bodies: Buffer[],
  fn: (body: Buffer, i: number) => number | Promise<number>,
): Promise<Result> {
  for (let i = 0; i < Math.min(bodies.length, 50); i++) await fn(bodies[i]!, i);
  let samples = 0;
  let requests = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(SECONDS * 1e9));
  let now = t0;
  while (now < deadline) {
    for (let k = 0; k < 20; k++) {
      const i = requests % bodies.length;
      samples += await fn(bodies[i]!, i);
      requests++;
    }
    now = process.hrtime.bigint();
  }
  // CPU time, not wall time: the machine is shared, and this is about cost per sample.
  const cpu = process.cpuUsage(cpu0);
  const secs = (cpu.user + cpu.system) / 1e6;
  const wall = Number(now - t0) / 1e9;
  return {
    mode,
    samplesPerSec: samples / secs,
    usPerRequest: (secs / requests) * 1e6,
    cpuShare: secs / wall,
  };
}

class NullTsdb implements TenantTsdb {
  async append(request: AppendRequest): Promise<AppendResult> {
    let n = 0;
    for (const s of request.series) n += s.samples.length;
    return { samplesAppended: n, seriesCreated: 0, rejected: [] };
  }
  querier(): never {
    throw new Error('not used');
  }
  headStats() {
    return { series: 0, minTime: 0, maxTime: 0 };
  }
  activeSeriesWith(): number {
    return 0;
  }
  async close(): Promise<void> {}
}

async function main(): Promise<void> {
  const servers = buildRequests();
  const bodies = servers.flatMap((s) => s.bodies);
  const owners = servers.flatMap((s, si) => s.bodies.map(() => si));
  // Samples per body, counted once so the pipeline modes do not pay for counting.
  const samplesIn = new Map<Buffer, number>();
  for (const b of bodies) samplesIn.set(b, decodeWriteRequest(decompressSnappyBlock(b, 1 << 30)).sampleCount);
  const totalSamples = [...samplesIn.values()].reduce((a, b) => a + b, 0);
  console.log(
    `workload: ${SERVERS} servers, ${bodies.length} requests, ${totalSamples} samples ` +
      `(${Math.round(totalSamples / bodies.length)} per request, ~${Math.round(bodies.reduce((n, b) => n + b.length, 0) / bodies.length)} B compressed)`,
  );

  const results: Result[] = [];

  const unsnap = (body: Buffer): Buffer => decompressSnappyBlock(body, 1 << 30);
  results.push(
    await measure('protobufjs, decode all', bodies, (body) => {
      const msg = WriteRequestType.decode(unsnap(body)) as unknown as {
        timeseries: { samples: unknown[] }[];
      };
      let n = 0;
      for (const ts of msg.timeseries) n += ts.samples.length;
      return n;
    }),
  );

  const decoded = new DecodedWriteRequest();
  const raw: RawLabel[] = [];
  results.push(
    await measure('hand-written, decode all', bodies, (body) => {
      const buf = unsnap(body);
      decodeWriteRequest(buf, decoded);
      let chars = 0;
      for (let i = 0; i < decoded.seriesCount; i++) {
        const n = locateLabels(buf, decoded.labelsStart[i]!, decoded.labelsEnd[i]!, raw);
        for (let k = 0; k < n; k++) {
          const l = raw[k]!;
          chars +=
            utf8Slice(buf, l.nameStart, l.nameEnd).length + utf8Slice(buf, l.valueStart, l.valueEnd).length;
        }
      }
      return chars >= 0 ? decoded.sampleCount : 0;
    }),
  );
  results.push(
    await measure(
      'hand-written, labels located',
      bodies,
      (body) => decodeWriteRequest(unsnap(body), decoded).sampleCount,
    ),
  );

  const principals: PushPrincipal[] = servers.map((s, i) => ({
    kind: 'push',
    tenantId: 1 + (i % 10),
    tenantSlug: `tenant-${i % 10}`,
    tokenId: `tok-${i}`,
    serverId: i,
    instance: s.instance,
    limits: effectiveLimits(BUILTIN_DEFAULT_LIMITS, {
      ingestionRate: 1e12,
      ingestionBurst: 1e12,
      serverIngestionRate: 1e12,
      serverIngestionBurst: 1e12,
    }),
  }));
  const tsdb = new NullTsdb();
  const metadata = new FileMetadataStore({ dataDir: '/nonexistent', flushIntervalMs: 0 });
  for (const [mode, cacheGenerationSize] of [
    ['pipeline, label cache off', 0],
    ['pipeline, label cache warm', 50_000],
  ] as const) {
    const ingester = new RemoteWriteIngester({
      tsdbFor: async () => tsdb,
      enforcement: { tenantLabel: 'tenant', onConflict: 'overwrite' },
      metrics: edgeMetrics(new Registry()),
      metadata,
      reporter: new RejectionReporter(undefined),
      now: Date.now,
      labelCache: { cacheGenerationSize },
    });
    results.push(
      await measure(mode, bodies, async (body, i) => {
        const r = await ingester.ingest(principals[owners[i]!]!, body);
        if (r.status !== 204) throw new Error(`unexpected ${r.status}: ${r.body}`);
        return samplesIn.get(body) ?? 0;
      }),
    );
  }

  console.log('');
  console.log('mode                          samples per CPU-s   CPU µs per request   CPU share');
  for (const r of results) {
    console.log(
      `${r.mode.padEnd(29)} ${Math.round(r.samplesPerSec).toLocaleString('en').padStart(17)} ` +
        `${r.usPerRequest.toFixed(0).padStart(20)} ${r.cpuShare.toFixed(2).padStart(11)}`,
    );
  }
  const [pbjs, handAll, handLocated] = results;
  if (pbjs && handAll && handLocated) {
    console.log(
      `\nhand-written vs protobufjs (both snappy included): decoding everything ${(handAll.samplesPerSec / pbjs.samplesPerSec).toFixed(2)}×, ` +
        `as the edge decodes (label bytes located, decoded only on a cache miss) ${(handLocated.samplesPerSec / pbjs.samplesPerSec).toFixed(2)}×`,
    );
  }
}

await main();
