/**
 * The logs benchmark's load generator, run as a child process of bench/logs.ts so the server's
 * CPU use can be measured on its own: it builds snappy-protobuf push requests of nginx access
 * logs, waits for "go", pushes them over HTTP and reports what was acknowledged.
 */
import http from 'node:http';
import { encodePushBody } from '../src/logs/push/encode.ts';
import { prng } from '../src/client/prng.ts';
import { nginxGenerator } from './logs-nginx.ts';

export interface LoadSpec {
  readonly base: string;
  readonly tenants: readonly string[];
  readonly mb: number;
  readonly start: number;
  readonly end: number;
  readonly concurrency: number;
  /** One line in this many carries the scan needle (0 = none). */
  readonly needleEvery: number;
  readonly hosts: number;
}

export const NEEDLE = 'needle-7f3a';
const BATCH_BYTES = 1024 * 1024; // Promtail's default batch size

interface Batch {
  readonly tenant: string;
  readonly body: Buffer;
  readonly rawBytes: number;
}

/** Push bodies for every tenant, lines spread evenly over [start, end) so each stream moves forward. */
function buildBatches(spec: LoadSpec): Batch[] {
  const perStream = (spec.mb * 1024 * 1024) / (spec.tenants.length * spec.hosts);
  const linesPerStream = Math.max(1, Math.round(perStream / 200));
  const stepMs = (spec.end - spec.start) / linesPerStream;
  const rand = prng(42);
  const batches: Batch[] = [];
  for (const tenant of spec.tenants) {
    const gens = Array.from({ length: spec.hosts }, (_, h) =>
      nginxGenerator(tenant.charCodeAt(tenant.length - 1) * 31 + h),
    );
    const cursors = new Array<number>(spec.hosts).fill(0);
    for (;;) {
      // One request carries a slice of every host's stream, as an agent batching files would.
      const streams = [];
      let raw = 0;
      for (let h = 0; h < spec.hosts; h++) {
        const entries = [];
        let bytes = 0;
        while (cursors[h]! < linesPerStream && bytes < BATCH_BYTES / spec.hosts) {
          const i = cursors[h]!++;
          const ms = Math.floor(spec.start + i * stepMs);
          let line = gens[h]!.line(ms);
          if (spec.needleEvery > 0 && rand() < 1 / spec.needleEvery)
            line = line.replace('HTTP/', `${NEEDLE} HTTP/`);
          bytes += Buffer.byteLength(line);
          entries.push({ ts: ms, line });
        }
        if (entries.length > 0) {
          streams.push({
            labels: `{job="nginx", env="prod", host="web-${h}", filename="/var/log/nginx/access.log"}`,
            entries,
          });
          raw += bytes;
        }
      }
      if (streams.length === 0) break;
      batches.push({ tenant, body: encodePushBody(streams), rawBytes: raw });
    }
  }
  return batches;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Requests of one tenant go out in order (a stream must not jump back past the out-of-order
 * window); tenants are pushed in parallel, `concurrency` requests in flight overall.
 */
async function pushAll(
  spec: LoadSpec,
  batches: Batch[],
): Promise<{ seconds: number; raw: number; requests: number }> {
  const queues = new Map<string, Batch[]>();
  for (const b of batches) {
    const q = queues.get(b.tenant) ?? [];
    q.push(b);
    queues.set(b.tenant, q);
  }
  const pending = [...queues.values()];
  let raw = 0;
  let requests = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const q = pending.shift();
      if (!q) return;
      const b = q.shift();
      if (!b) continue;
      const res = await post(
        `${spec.base}/loki/api/v1/push`,
        { authorization: `Bearer push-${b.tenant}`, 'content-type': 'application/x-protobuf' },
        b.body,
      );
      if (res.status !== 204) throw new Error(`push failed: ${res.status} ${res.body}`);
      raw += b.rawBytes;
      requests++;
      if (q.length > 0) pending.push(q);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  return { seconds: (performance.now() - t0) / 1000, raw, requests };
}

if (process.send) {
  process.once('message', (spec: LoadSpec) => {
    const t0 = performance.now();
    const batches = buildBatches(spec);
    const raw = batches.reduce((n, b) => n + b.rawBytes, 0);
    const wire = batches.reduce((n, b) => n + b.body.length, 0);
    process.send!({
      type: 'ready',
      raw,
      wire,
      requests: batches.length,
      seconds: (performance.now() - t0) / 1000,
    });
    process.once('message', () => {
      pushAll(spec, batches).then(
        (r) => {
          process.send!({ type: 'done', ...r }, () => process.exit(0));
        },
        (err: unknown) => {
          process.send!({ type: 'error', message: (err as Error).message }, () => process.exit(1));
        },
      );
    });
  });
}
