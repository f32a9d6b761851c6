/**
 * Child process for the kill -9 test: pushes numbered lines through the Loki API (in-process
 * inject, same code path as HTTP) into a store under heavy churn (tiny chunks, frequent
 * checkpoints and WAL rotation) and prints `ack <n>` for every line whose push was answered 204.
 * The parent SIGKILLs it at an arbitrary moment and checks that every acknowledged line survived.
 */
import { startHarness } from './harness.ts';

const dataDir = process.argv[2]!;
const startAt = Number(process.argv[3] ?? 0);

const h = await startHarness({
  dataDir,
  listen: false,
  store: {
    maintenanceIntervalMs: 5,
    chunkTargetBytes: 2048,
    checkpointIntervalMs: 10,
    walSegmentBytes: 16 * 1024,
    chunkIdleMs: 20,
  },
});
process.stdout.write('ready\n');
let n = startAt;
for (;;) {
  const batch = Array.from({ length: 5 }, () => n++);
  const res = await h.app.inject({
    method: 'POST',
    url: '/loki/api/v1/push',
    headers: { authorization: 'Bearer push:acme', 'content-type': 'application/json' },
    payload: JSON.stringify({
      streams: [
        {
          stream: { job: `j${batch[0]! % 3}` },
          values: batch.map((i) => [
            String(BigInt(Date.now()) * 1_000_000n + BigInt(i)),
            `entry ${i} ${'x'.repeat(i % 50)}`,
          ]),
        },
      ],
    }),
  });
  if (res.statusCode !== 204) {
    process.stderr.write(`push failed: ${res.statusCode} ${res.body}\n`);
    process.exit(1);
  }
  process.stdout.write(batch.map((i) => `ack ${i}\n`).join(''));
}
