/**
 * Child process for the kill -9 test: appends batches to one tenant partition (with block cuts,
 * compaction and checkpoints running underneath) and prints `ack <batch>` once a batch's append
 * has resolved, i.e. once it may be acknowledged to a client.
 * argv: <dataDir> <firstBatch>
 */
import { TenantPartitions } from '../../../src/tsdb/partitions.ts';
import { staleNaN } from '../../../src/model/samples.ts';
import { SERIES, sampleValue } from './crash-data.ts';

const [dataDir, firstArg] = process.argv.slice(2);
const parts = new TenantPartitions({
  dataDir: dataDir!,
  blockDurationMs: 10_000,
  maintenanceIntervalMs: 20,
  now: () => 0,
  tsdb: { walSegmentBytes: 64 * 1024, maxBlockDurationMs: () => 90_000 },
});
const db = await parts.get('crash');
let batch = Number(firstArg);
const inflight = new Set<Promise<void>>();
process.stdout.write('ready\n');
for (;;) {
  const b = batch++;
  const p = db
    .append({
      series: SERIES.map((labels, k) => ({
        labels,
        samples: [{ t: b * 1000, v: b % 10 === 9 && k === 0 ? staleNaN() : sampleValue(b, k) }],
      })),
    })
    .then((res) => {
      if (res.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(res.rejected[0])}`);
      process.stdout.write(`ack ${b}\n`);
    });
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
  if (inflight.size >= 4) await Promise.race(inflight);
}
