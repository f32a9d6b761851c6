// Tenant A's load for the noisy-neighbour probe, in its own process so that generating it does not
// share an event loop with the measurement of tenant B. Reads a JSON plan (argv[2]): the server URL,
// A's credentials, pre-encoded remote-write bodies (base64), the queries, the push pace. Loads the
// server while the last line read on stdin is "on", idles on "off", exits on "stop" (or at the
// plan's deadline, whichever comes first) and prints a JSON summary of the answers it got.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const bodies = plan.bodies.map((b) => Buffer.from(b, 'base64'));
const deadline = Date.now() + plan.maxDurationMs;
let active = false;
let stopped = false;
const counts = {};
const count = (what, status) => {
  const key = `${what} ${status}`;
  counts[key] = (counts[key] ?? 0) + 1;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const running = () => !stopped && Date.now() < deadline;

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'on') active = true;
  else if (line === 'off') active = false;
  else if (line === 'stop') stopped = true;
});

async function pushLoop() {
  for (let i = 0; running(); i++) {
    if (!active) {
      await sleep(5);
      continue;
    }
    const next = Date.now() + plan.pushEveryMs;
    try {
      const res = await fetch(`${plan.url}/api/v1/write`, {
        method: 'POST',
        headers: {
          authorization: plan.pushAuth,
          'content-type': 'application/x-protobuf',
          'content-encoding': 'snappy',
          'x-prometheus-remote-write-version': '0.1.0',
        },
        body: bodies[i % bodies.length],
      });
      const text = await res.text();
      // Name the limit behind a refusal, so the probe can tell that A really ran into its limits.
      const limit = /\b(maxSeries|ingestionRate|ingestionBurst|serverMaxSeries|serverIngestionRate)\b/.exec(
        text,
      )?.[1];
      count('push', limit ? `${res.status} ${limit}` : res.status);
    } catch (err) {
      count('push', err.code ?? 'error');
    }
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
  }
}

async function queryLoop() {
  for (let i = 0; running(); i++) {
    if (!active) {
      await sleep(5);
      continue;
    }
    const query = plan.queries[i % plan.queries.length];
    try {
      const res = await fetch(`${plan.url}/prometheus/api/v1/query?query=${encodeURIComponent(query)}`, {
        headers: { authorization: plan.readAuth },
      });
      await res.arrayBuffer();
      count('query', res.status);
    } catch (err) {
      count('query', err.code ?? 'error');
    }
  }
}

process.stdout.write('ready\n');
const loops = [];
for (let i = 0; i < plan.pushLoops; i++) loops.push(pushLoop());
for (let i = 0; i < plan.queryLoops; i++) loops.push(queryLoop());
await Promise.all(loops);
process.stdout.write(JSON.stringify(counts) + '\n');
process.exit(0);
